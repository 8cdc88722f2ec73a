//! A contribution period: one calendar month.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use platform::error::FieldViolations;
use socsec_proto::common::v1 as common;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period(NaiveDate);

impl Period {
    /// Months from 2000-01 to 2100-12.
    pub fn parse(
        violations: &mut FieldViolations,
        field: &str,
        value: Option<&common::YearMonth>,
    ) -> Option<Self> {
        let parsed = value.and_then(|ym| {
            let month = u32::try_from(ym.month).ok()?;
            (2000..=2100).contains(&ym.year).then_some(())?;
            NaiveDate::from_ymd_opt(ym.year, month, 1)
        });
        if parsed.is_none() {
            violations.add(
                field,
                "PERIOD_INVALID",
                "must be a year (2000-2100) and a month (1-12)",
            );
        }
        parsed.map(Self)
    }

    pub fn from_date(date: NaiveDate) -> Self {
        Self(date.with_day(1).expect("day 1 exists"))
    }

    pub fn first_day(self) -> NaiveDate {
        self.0
    }

    pub fn year(self) -> i32 {
        self.0.year()
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().0.pred_opt().expect("a day before")
    }

    pub fn next(self) -> Self {
        Self(
            self.0
                .checked_add_months(chrono::Months::new(1))
                .expect("in range"),
        )
    }

    /// When the bill of this period falls due: `due_day` of the next month,
    /// or (0) the last day of this month.
    pub fn due_date(self, due_day: u32) -> NaiveDate {
        if due_day == 0 {
            self.last_day()
        } else {
            self.next()
                .0
                .with_day(due_day)
                .unwrap_or_else(|| self.next().last_day())
        }
    }

    pub fn to_proto(self) -> common::YearMonth {
        common::YearMonth {
            year: self.0.year(),
            month: self.0.month() as i32,
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.0.year(), self.0.month())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_dates() {
        let feb = Period::from_date(NaiveDate::from_ymd_opt(2028, 2, 10).unwrap());
        assert_eq!(
            feb.due_date(0),
            NaiveDate::from_ymd_opt(2028, 2, 29).unwrap()
        );
        assert_eq!(
            feb.due_date(15),
            NaiveDate::from_ymd_opt(2028, 3, 15).unwrap()
        );
    }

    #[test]
    fn bad_months_are_refused() {
        let mut v = FieldViolations::new();
        assert!(
            Period::parse(
                &mut v,
                "period",
                Some(&common::YearMonth {
                    year: 2026,
                    month: 13
                })
            )
            .is_none()
        );
        assert!(Period::parse(&mut v, "period", None).is_none());
        assert!(!v.is_empty());
    }
}

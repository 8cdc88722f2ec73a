//! A contribution period: one calendar month.

use std::fmt;

use chrono::{Datelike, NaiveDate};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period(NaiveDate);

impl Period {
    /// The month `month` (1-12) of `year`, for years 2000 to 2100.
    pub fn from_year_month(year: i32, month: i32) -> Option<Self> {
        let month = u32::try_from(month).ok()?;
        (2000..=2100).contains(&year).then_some(())?;
        NaiveDate::from_ymd_opt(year, month, 1).map(Self)
    }

    /// The twelve months of `year`.
    pub fn months_of(year: i32) -> Vec<Self> {
        let january = Self::from_date(NaiveDate::from_ymd_opt(year, 1, 1).expect("valid"));
        std::iter::successors(Some(january), |p| Some(p.next()))
            .take(12)
            .collect()
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

    pub fn previous(self) -> Self {
        Self(
            self.0
                .checked_sub_months(chrono::Months::new(1))
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

    pub fn month(self) -> u32 {
        self.0.month()
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
        assert!(Period::from_year_month(2026, 13).is_none());
        assert!(Period::from_year_month(2026, 0).is_none());
        assert!(Period::from_year_month(1999, 12).is_none());
        assert!(Period::from_year_month(2026, 12).is_some());
    }
}

//! Proto → domain commands. Each parser first checks the request's size
//! against its limits (`limits`); then every bad field of a request is
//! collected and reported at once (`google.rpc.BadRequest`); what gets past
//! here is valid.

mod bills;
mod contracts;
mod enrolment;
mod import;
pub mod limits;
mod payments;

pub use bills::*;
pub use contracts::*;
pub use enrolment::*;
pub use import::*;
pub use payments::*;

use chrono::NaiveDate;
use platform::{error::FieldViolations, limits::Limits};
use socsec_proto::{common::v1 as common, contribution::v1 as pb};

use crate::{
    domain::{InsuranceType, Money, Payer, Period},
    error::ContributionError,
};

type Result<T, E = ContributionError> = std::result::Result<T, E>;

/// A declared monthly wage above this (10 million yuan) is refused as absurd.
const MAX_MONTHLY_WAGE_FEN: i64 = 1_000_000_000;

/// The parsed request, or every violation.
fn accept<T>(violations: FieldViolations, parsed: Option<T>) -> Result<T> {
    violations
        .finish(parsed)
        .map_err(ContributionError::Invalid)
}

/// `Ok` if `req` is within `limits`; checked before anything else is read.
fn bounded<M>(limits: &Limits<M>, req: &M) -> Result<()> {
    limits.check(req).map_err(ContributionError::Invalid)
}

/// A required, non-negative amount of at most `max` fen.
fn money(
    v: &mut FieldViolations,
    field: &str,
    money: Option<&common::Money>,
    max: i64,
) -> Option<Money> {
    match money.map(|m| m.fen) {
        None => {
            v.add(field, "FIELD_REQUIRED", "is required");
            None
        }
        Some(fen) if fen < 0 => {
            v.add(field, "AMOUNT_NEGATIVE", "must not be negative");
            None
        }
        Some(fen) if fen > max => {
            v.add(field, "AMOUNT_ABSURD", format!("must be at most {max} fen"));
            None
        }
        Some(fen) => Some(Money::from_fen(fen)),
    }
}

/// A payer: `employer:CODE`, `hr_agency:CODE` or `person:<id>` (always
/// reported as field `payer`).
fn payer(v: &mut FieldViolations, value: &str) -> Option<Payer> {
    let parsed = value.parse().ok();
    if parsed.is_none() {
        v.add(
            "payer",
            "PAYER_INVALID",
            "must be employer:CODE, hr_agency:CODE or person:<id>",
        );
    }
    parsed
}

/// A month from 2000-01 to 2100-12.
fn period(
    v: &mut FieldViolations,
    field: &str,
    value: Option<&common::YearMonth>,
) -> Option<Period> {
    let parsed = value.and_then(|ym| Period::from_year_month(ym.year, ym.month));
    if parsed.is_none() {
        v.add(
            field,
            "PERIOD_INVALID",
            "must be a year (2000-2100) and a month (1-12)",
        );
    }
    parsed
}

/// A day; `today` when not given.
fn day_or_today(
    v: &mut FieldViolations,
    field: &str,
    value: Option<&common::Date>,
    today: NaiveDate,
) -> Option<NaiveDate> {
    match value {
        None => Some(today),
        Some(d) => {
            let parsed = u32::try_from(d.month)
                .ok()
                .zip(u32::try_from(d.day).ok())
                .and_then(|(month, day)| NaiveDate::from_ymd_opt(d.year, month, day));
            if parsed.is_none() {
                v.add(field, "DATE_INVALID", "is not a date");
            }
            parsed
        }
    }
}

fn insurance_type(value: i32) -> Option<InsuranceType> {
    Some(match pb::InsuranceType::try_from(value).ok()? {
        pb::InsuranceType::OldAge => InsuranceType::OldAge,
        pb::InsuranceType::Medical => InsuranceType::Medical,
        pb::InsuranceType::Unemployment => InsuranceType::Unemployment,
        pb::InsuranceType::WorkInjury => InsuranceType::WorkInjury,
        pb::InsuranceType::Maternity => InsuranceType::Maternity,
        pb::InsuranceType::Unspecified => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_months_are_refused() {
        let mut v = FieldViolations::new();
        let month = |month| common::YearMonth { year: 2026, month };
        assert!(period(&mut v, "period", Some(&month(13))).is_none());
        assert!(period(&mut v, "period", None).is_none());
        assert!(period(&mut v, "period", Some(&month(12))).is_some());
        assert!(!v.is_empty());
    }

    #[test]
    fn amounts_are_bounded() {
        let mut v = FieldViolations::new();
        let fen = |fen| common::Money { fen };
        assert!(money(&mut v, "amount", Some(&fen(-1)), 10).is_none());
        assert!(money(&mut v, "amount", Some(&fen(11)), 10).is_none());
        assert!(money(&mut v, "amount", None, 10).is_none());
        assert_eq!(
            money(&mut v, "amount", Some(&fen(10)), 10),
            Some(Money::from_fen(10))
        );
    }
}

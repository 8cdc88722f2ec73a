//! The late fee (Social Insurance Law, Article 86): 0.05% of the overdue
//! contributions for every day from the due date until paid.

use chrono::NaiveDate;

use super::{Money, Rounding};

/// 0.05% = 5 / 10,000 per day.
const DAILY_RATE_NUMERATOR: i128 = 5;
const DAILY_RATE_DENOMINATOR: i128 = 10_000;

/// The fee on `contributions` (fen) due on `due`, with `payments` (date,
/// fen), as of `as_of`. Each day after the due date up to and including
/// `as_of` is charged on what was still unpaid at the start of that day;
/// payments go to the contributions first. Rounded once, by `rounding`.
pub fn late_fee(
    contributions: Money,
    due: NaiveDate,
    payments: &[(NaiveDate, Money)],
    as_of: NaiveDate,
    rounding: Rounding,
) -> Money {
    let mut payments = payments.to_vec();
    payments.sort();
    let mut outstanding = i128::from(contributions.fen());
    let mut fen_days: i128 = 0;
    // Days are charged from `charged_from` on; a payment on day p still
    // leaves day p charged on the amount before it.
    let mut charged_from = due.succ_opt().unwrap_or(due);
    for (paid_on, amount) in payments {
        if paid_on > as_of {
            break;
        }
        if paid_on >= charged_from && outstanding > 0 {
            let days = i128::from((paid_on - charged_from).num_days() + 1);
            fen_days += outstanding * days;
            charged_from = paid_on.succ_opt().unwrap_or(paid_on);
        } else if paid_on >= charged_from {
            charged_from = paid_on.succ_opt().unwrap_or(paid_on);
        }
        outstanding -= i128::from(amount.fen());
    }
    if outstanding > 0 && as_of >= charged_from {
        fen_days += outstanding * i128::from((as_of - charged_from).num_days() + 1);
    }
    Money::from_fen(rounding.apply(fen_days * DAILY_RATE_NUMERATOR, DAILY_RATE_DENOMINATOR))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    /// The fee in fen, amounts given in fen.
    fn fee(
        contributions: i64,
        due: NaiveDate,
        payments: &[(NaiveDate, i64)],
        as_of: NaiveDate,
        rounding: Rounding,
    ) -> i64 {
        let payments: Vec<_> = payments
            .iter()
            .map(|(on, fen)| (*on, Money::from_fen(*fen)))
            .collect();
        late_fee(
            Money::from_fen(contributions),
            due,
            &payments,
            as_of,
            rounding,
        )
        .fen()
    }

    #[test]
    fn paid_on_time_costs_nothing() {
        assert_eq!(
            fee(
                100_000,
                day(1),
                &[(day(1), 100_000)],
                day(31),
                Rounding::HalfUpFen
            ),
            0
        );
    }

    #[test]
    fn ten_days_late_on_one_thousand_yuan() {
        // 100,000 fen × 0.05% × 10 days = 500 fen.
        assert_eq!(
            fee(
                100_000,
                day(1),
                &[(day(11), 100_000)],
                day(31),
                Rounding::HalfUpFen
            ),
            500
        );
        // Unpaid, as of day 11: the same ten days.
        assert_eq!(fee(100_000, day(1), &[], day(11), Rounding::HalfUpFen), 500);
    }

    #[test]
    fn a_partial_payment_reduces_what_accrues() {
        // 1,234.56 yuan due on the 1st; 1,000 yuan paid on the 4th, the rest on the 8th.
        // Days 2-4 on 123,456 fen, days 5-8 on 23,456 fen:
        // (3 × 123,456 + 4 × 23,456) × 5 / 10,000 = 232.096 fen.
        let payments = [(day(4), 100_000), (day(8), 23_456)];
        assert_eq!(
            fee(123_456, day(1), &payments, day(31), Rounding::HalfUpFen),
            232
        );
        assert_eq!(
            fee(123_456, day(1), &payments, day(31), Rounding::UpJiao),
            240
        );
    }

    proptest! {
        #[test]
        fn one_late_payment_matches_the_formula(amount in 1i64..100_000_000, days in 0i64..400) {
            let paid_on = day(1) + chrono::Duration::days(days);
            let fee = fee(amount, day(1), &[(paid_on, amount)], paid_on, Rounding::HalfUpFen);
            let exact = i128::from(amount) * i128::from(days) * 5;
            prop_assert_eq!(i128::from(fee), (2 * exact + 10_000) / 20_000);
        }

        #[test]
        fn paying_earlier_never_costs_more(amount in 1i64..10_000_000, a in 0i64..200, b in 0i64..200) {
            let (early, late) = (a.min(b), a.max(b));
            let on = |d: i64| day(1) + chrono::Duration::days(d);
            let as_of = on(400);
            let fee_early = fee(amount, day(1), &[(on(early), amount)], as_of, Rounding::HalfUpFen);
            let fee_late = fee(amount, day(1), &[(on(late), amount)], as_of, Rounding::HalfUpFen);
            prop_assert!(fee_early <= fee_late);
        }
    }
}

//! A payer's bill for a month: what was booked, what was paid, the late
//! fee as of a day, and what is still owed.

use chrono::NaiveDate;

use super::{Money, Payer, Period, Rounding, late_fee};

/// How a region bills a year: its rounding and the day of the next month a
/// bill falls due (0: the last day of the month itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BillTerms {
    pub rounding: Rounding,
    pub due_day_of_next_month: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bill {
    pub payer: Payer,
    pub period: Period,
    pub contributions: Money,
    pub service_fees: Money,
    /// Paid up to and including the day the bill is computed for.
    pub paid: Money,
    pub due_date: NaiveDate,
    pub late_fee: Money,
    pub outstanding: Money,
}

impl Bill {
    /// The bill of `payer` for `period` as of `as_of`, from what the ledger
    /// booked (`contributions`, `service_fees`) and every payment made
    /// (date, amount). The late fee accrues on the contributions only.
    pub fn compute(
        payer: Payer,
        period: Period,
        contributions: Money,
        service_fees: Money,
        terms: BillTerms,
        payments: &[(NaiveDate, Money)],
        as_of: NaiveDate,
    ) -> Self {
        let due_date = period.due_date(terms.due_day_of_next_month);
        let late_fee = late_fee(contributions, due_date, payments, as_of, terms.rounding);
        let paid: Money = payments
            .iter()
            .filter(|(on, _)| *on <= as_of)
            .map(|(_, amount)| *amount)
            .sum();
        Self {
            payer,
            period,
            contributions,
            service_fees,
            paid,
            due_date,
            late_fee,
            outstanding: contributions + service_fees + late_fee - paid,
        }
    }

    /// Past its due date on `as_of` with something still owed.
    pub fn is_overdue(&self, as_of: NaiveDate) -> bool {
        self.due_date < as_of && self.outstanding.is_positive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_partial_payment_leaves_the_rest_and_the_fee_owed() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        let period = Period::from_date(NaiveDate::from_ymd_opt(2026, 2, 1).unwrap());
        let terms = BillTerms {
            rounding: Rounding::HalfUpFen,
            due_day_of_next_month: 1,
        };
        let bill = Bill::compute(
            "employer:EMP-1".parse().unwrap(),
            period,
            Money::from_fen(100_000),
            Money::from_fen(500),
            terms,
            &[(day(11), Money::from_fen(50_000))],
            day(11),
        );
        assert_eq!(bill.due_date, day(1));
        // 10 days on 100,000 fen at 0.05 % a day.
        assert_eq!(bill.late_fee, Money::from_fen(500));
        assert_eq!(bill.paid, Money::from_fen(50_000));
        assert_eq!(bill.outstanding, Money::from_fen(51_000));
        assert!(bill.is_overdue(day(11)));
    }
}

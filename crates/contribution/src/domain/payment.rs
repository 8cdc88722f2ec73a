//! Payments confirmed by the collecting bank (issue 14): a payer asks for a
//! payment order, whose amount is frozen for the day it is made; only a
//! collecting bank (or an operator) records that the money arrived, with
//! its transaction reference and the instant it was paid; the same bank
//! may reverse it. The payer never certifies its own payment.
//!
//! The rules, all here:
//! - an order is valid until the end of the China day it was created, so
//!   the late fee frozen in it (as of that day) is the late fee of any
//!   payment made while it is valid;
//! - the bank records exactly the order's amount (another amount is
//!   refused: the bank collects what the order says, or nothing);
//! - the money was paid at an instant not in the future, not before the
//!   order was created, and before it expired;
//! - one payment per order, one per (bank, reference): the same reference
//!   with the same content is answered as the first time, with other
//!   content refused.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use pii::PartnerCode;
use socsec_core::{Caller, CallerKind, Registration, time::china};
use uuid::Uuid;

use super::{Money, Payer, Period};

/// How far ahead of the bureau's clock a bank's `paid_at` may be (clock
/// skew); anything later is "in the future".
pub const PAID_AT_SKEW: Duration = Duration::seconds(60);

/// Ask for a payment order for a bill.
#[derive(Clone, Debug)]
pub struct CreateOrder {
    pub payer: Payer,
    pub period: Period,
    /// `None`: everything outstanding today.
    pub amount: Option<Money>,
}

/// Record a payment a collecting bank received.
#[derive(Clone, Debug)]
pub struct RecordPayment {
    pub order_id: Uuid,
    pub bank: PartnerCode,
    pub reference: String,
    /// Positive.
    pub amount: Money,
    pub paid_at: DateTime<Utc>,
}

/// Reverse a payment the bank recorded.
#[derive(Clone, Debug)]
pub struct ReversePayment {
    pub bank: PartnerCode,
    pub reference: String,
    pub reason: String,
}

/// A payment order as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentOrder {
    pub order_id: Uuid,
    pub payer: Payer,
    pub period: Period,
    pub amount: Money,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The instant an order made at `created_at` expires: the next midnight in
/// China.
pub fn order_expiry(created_at: DateTime<Utc>) -> DateTime<Utc> {
    let day = created_at.with_timezone(&china()).date_naive();
    let next = day.succ_opt().unwrap_or(day);
    next.and_hms_opt(0, 0, 0)
        .and_then(|midnight| midnight.and_local_timezone(china()).single())
        .map_or(created_at + Duration::days(1), |at| at.with_timezone(&Utc))
}

/// The China date of an instant: the day a payment counts for.
pub fn paid_on(paid_at: DateTime<Utc>) -> NaiveDate {
    socsec_core::time::china_date(paid_at)
}

/// Why a bank's payment is refused against its order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderRefusal {
    /// `paid_at` is before the order was created.
    PaidBeforeOrder,
    /// `paid_at` is at or after the order's expiry.
    Expired,
    /// The amount is not the order's.
    AmountDiffers { ordered: Money },
}

impl PaymentOrder {
    /// May `amount`, paid at `paid_at`, settle this order?
    pub fn accepts(&self, amount: Money, paid_at: DateTime<Utc>) -> Result<(), OrderRefusal> {
        if paid_at < self.created_at {
            return Err(OrderRefusal::PaidBeforeOrder);
        }
        if paid_at >= self.expires_at {
            return Err(OrderRefusal::Expired);
        }
        if amount != self.amount {
            return Err(OrderRefusal::AmountDiffers {
                ordered: self.amount,
            });
        }
        Ok(())
    }
}

/// What a bank sends for a payment, to tell a repeat of its reference
/// (answered as the first time) from a reuse with other content (refused).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentContent {
    pub order_id: Uuid,
    pub amount: Money,
    pub paid_at: DateTime<Utc>,
}

impl RecordPayment {
    pub fn content(&self) -> PaymentContent {
        PaymentContent {
            order_id: self.order_id,
            amount: self.amount,
            paid_at: self.paid_at,
        }
    }
}

/// A bank's registration in identity's partner registry, and whether the
/// bureau designated it to collect contributions.
pub fn may_collect(registered: Option<Registration>, collects_contributions: bool) -> bool {
    registered.is_some_and(|r| r.in_force_as(CallerKind::Bank)) && collects_contributions
}

/// The bank a payment or reversal is for: a bank always itself (naming
/// another is refused: `None`), an operator the bank it names.
pub fn acting_bank(caller: &Caller, named: Option<PartnerCode>) -> Option<Option<PartnerCode>> {
    match caller.kind {
        CallerKind::Bank => {
            let own = PartnerCode::parse(&caller.code).ok()?;
            match named {
                Some(named) if named != own => None,
                _ => Some(Some(own)),
            }
        }
        _ => Some(named),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn order(created_at: DateTime<Utc>) -> PaymentOrder {
        PaymentOrder {
            order_id: Uuid::nil(),
            payer: "employer:EMP-1".parse().unwrap(),
            period: Period::from_year_month(2026, 1).unwrap(),
            amount: Money::from_fen(1_000),
            created_at,
            expires_at: order_expiry(created_at),
        }
    }

    #[test]
    fn an_order_expires_at_the_next_midnight_in_china() {
        // 2026-11-25 10:00 in China.
        let created = Utc.with_ymd_and_hms(2026, 11, 25, 2, 0, 0).unwrap();
        // 2026-11-26 00:00 in China = 2026-11-25 16:00 UTC.
        assert_eq!(
            order_expiry(created),
            Utc.with_ymd_and_hms(2026, 11, 25, 16, 0, 0).unwrap()
        );
        // 23:30 in China: expires half an hour later.
        let late = Utc.with_ymd_and_hms(2026, 11, 25, 15, 30, 0).unwrap();
        assert_eq!(
            order_expiry(late),
            Utc.with_ymd_and_hms(2026, 11, 25, 16, 0, 0).unwrap()
        );
    }

    #[test]
    fn the_bank_pays_exactly_the_order_while_it_is_valid() {
        let created = Utc.with_ymd_and_hms(2026, 11, 25, 2, 0, 0).unwrap();
        let o = order(created);
        let amount = Money::from_fen(1_000);
        assert_eq!(o.accepts(amount, created), Ok(()));
        assert_eq!(
            o.accepts(amount, created - Duration::seconds(1)),
            Err(OrderRefusal::PaidBeforeOrder)
        );
        assert_eq!(o.accepts(amount, o.expires_at), Err(OrderRefusal::Expired));
        assert_eq!(
            o.accepts(Money::from_fen(999), created),
            Err(OrderRefusal::AmountDiffers {
                ordered: Money::from_fen(1_000)
            })
        );
    }

    #[test]
    fn only_a_bank_in_force_and_designated_collects() {
        let bank = |kind, in_force| Some(Registration { kind, in_force });
        assert!(may_collect(bank(CallerKind::Bank, true), true));
        assert!(!may_collect(bank(CallerKind::Bank, true), false));
        assert!(!may_collect(bank(CallerKind::Bank, false), true));
        assert!(!may_collect(bank(CallerKind::Employer, true), true));
        assert!(!may_collect(None, true));
    }

    #[test]
    fn a_bank_acts_only_for_itself() {
        let bank = Caller::new(CallerKind::Bank, "BANK-A");
        let a = PartnerCode::parse("BANK-A").ok();
        let b = PartnerCode::parse("BANK-B").ok();
        assert_eq!(acting_bank(&bank, None), Some(a.clone()));
        assert_eq!(acting_bank(&bank, a.clone()), Some(a));
        assert_eq!(acting_bank(&bank, b.clone()), None);
        let operator = Caller::new(CallerKind::Operator, "OP0001");
        assert_eq!(acting_bank(&operator, b.clone()), Some(b));
        assert_eq!(acting_bank(&operator, None), Some(None));
    }
}

//! Payment orders, payments recorded by the collecting bank, reversals.

use chrono::{DateTime, Utc};
use pii::PartnerCode;
use platform::{
    all_some,
    auth::{Caller, CallerKind},
    error::{FieldViolations, required},
    idempotency::{RequestId, holds_id_number},
};
use socsec_proto::contribution::v1 as pb;

use super::{Result, accept, bounded, limits, money, payer, period};
use crate::{
    domain::{
        Money, access,
        payment::{CreateOrder, PAID_AT_SKEW, RecordPayment, ReversePayment, acting_bank},
    },
    error::ContributionError,
};

/// Largest amount an order or a payment may carry (fen).
const MAX_PAYMENT_FEN: i64 = i64::MAX / 4;

pub fn create_order(
    caller: &Caller,
    req: &pb::CreatePaymentOrderRequest,
) -> Result<(RequestId, CreateOrder)> {
    bounded(&limits::CREATE_PAYMENT_ORDER, req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let payer = if req.payer.is_empty() && !caller.is(CallerKind::Operator) {
        let own = access::own_bill_payer(caller);
        if own.is_none() {
            v.add(
                "payer",
                "PAYER_INVALID",
                "the caller pays no bills; name the payer",
            );
        }
        own
    } else {
        payer(&mut v, &req.payer)
    };
    let period = period(&mut v, "period", req.period.as_ref());
    let amount = match &req.amount {
        None => Some(None),
        Some(_) => positive(&mut v, "amount", req.amount.as_ref()).map(Some),
    };
    let (request_id, payer, period, amount) =
        accept(v, all_some!(request_id, payer, period, amount))?;
    Ok((
        request_id,
        CreateOrder {
            payer,
            period,
            amount,
        },
    ))
}

/// A positive amount.
fn positive(
    v: &mut FieldViolations,
    field: &str,
    value: Option<&socsec_proto::common::v1::Money>,
) -> Option<Money> {
    let amount = money(v, field, value, MAX_PAYMENT_FEN);
    if amount == Some(Money::ZERO) {
        v.add(field, "AMOUNT_INVALID", "must be positive");
        return None;
    }
    amount
}

/// A bank's transaction reference: like a request id (it is kept and may be
/// logged, so it must hold no ID number).
fn reference(v: &mut FieldViolations, value: &str) -> Option<String> {
    if value.is_empty() {
        v.add("bank_reference", "FIELD_REQUIRED", "is required");
        None
    } else if !RequestId::is_well_formed(value) {
        v.add(
            "bank_reference",
            "BANK_REFERENCE_INVALID",
            "must be 1 to 64 characters of A-Z a-z 0-9 . _ : -",
        );
        None
    } else if holds_id_number(value) {
        v.add(
            "bank_reference",
            "BANK_REFERENCE_HOLDS_PERSONAL_DATA",
            "must not contain an ID number",
        );
        None
    } else {
        Some(value.to_owned())
    }
}

/// The bank a payment or reversal is for (see `domain::payment::acting_bank`):
/// operators must name it; a bank naming another is refused.
fn bank(v: &mut FieldViolations, caller: &Caller, value: &str) -> Result<Option<PartnerCode>> {
    let named = if value.is_empty() {
        None
    } else {
        let code = v.check("bank_code", PartnerCode::parse(value));
        if code.is_none() {
            return Ok(None);
        }
        code
    };
    let Some(acting) = acting_bank(caller, named) else {
        return Err(ContributionError::PaymentOfAnotherBank);
    };
    if acting.is_none() {
        v.add(
            "bank_code",
            "FIELD_REQUIRED",
            "an operator names the collecting bank",
        );
    }
    Ok(acting)
}

pub fn record_payment(
    caller: &Caller,
    req: &pb::RecordPaymentRequest,
    now: DateTime<Utc>,
) -> Result<(RequestId, RecordPayment)> {
    bounded(&limits::RECORD_PAYMENT, req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let order_id = platform::error::uuid(&mut v, "order_id", &req.order_id);
    let reference = reference(&mut v, &req.bank_reference);
    let amount = positive(&mut v, "amount", req.amount.as_ref());
    let paid_at = match &req.paid_at {
        None => {
            v.add(
                "paid_at",
                "FIELD_REQUIRED",
                "when the bank received the money",
            );
            None
        }
        Some(t) => match u32::try_from(t.nanos)
            .ok()
            .and_then(|nanos| DateTime::from_timestamp(t.seconds, nanos))
        {
            None => {
                v.add("paid_at", "TIMESTAMP_INVALID", "is not an instant");
                None
            }
            Some(at) if at > now + PAID_AT_SKEW => {
                v.add(
                    "paid_at",
                    "PAID_AT_IN_FUTURE",
                    "must not be later than now (a minute of clock skew is allowed)",
                );
                None
            }
            Some(at) => Some(at),
        },
    };
    let bank = bank(&mut v, caller, &req.bank_code)?;
    let (request_id, order_id, reference, amount, paid_at, bank) = accept(
        v,
        all_some!(request_id, order_id, reference, amount, paid_at, bank),
    )?;
    Ok((
        request_id,
        RecordPayment {
            order_id,
            bank,
            reference,
            amount,
            paid_at,
        },
    ))
}

pub fn reverse_payment(
    caller: &Caller,
    req: &pb::ReversePaymentRequest,
) -> Result<(RequestId, ReversePayment)> {
    bounded(&limits::REVERSE_PAYMENT, req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let reference = reference(&mut v, &req.bank_reference);
    let reason = required(&mut v, "reason", &req.reason).map(str::to_owned);
    let bank = bank(&mut v, caller, &req.bank_code)?;
    let (request_id, reference, reason, bank) =
        accept(v, all_some!(request_id, reference, reason, bank))?;
    Ok((
        request_id,
        ReversePayment {
            bank,
            reference,
            reason,
        },
    ))
}

pub fn watch_events(req: &pb::WatchContributionEventsRequest) -> Result<()> {
    bounded(&limits::WATCH_CONTRIBUTION_EVENTS, req)
}

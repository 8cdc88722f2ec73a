//! Payments through the collecting bank: a payer's payment order, the
//! bank's record of the money received, and its reversal. The rules are in
//! `domain::payment`; here the order in which they are applied.

use platform::{
    auth::Caller,
    idempotency::RequestId,
    mutation::{self, Audit, Effects, Events, Mutation},
};
use prost::Message;
use socsec_proto::contribution::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{ContributionService, Result, bills::bill};
use crate::{
    api::present::{self, BankPaymentView, events},
    domain::{
        Bill, Money, Payer, Period, access,
        payment::{
            CreateOrder, OrderRefusal, PaymentOrder, RecordPayment, ReversePayment, order_expiry,
            paid_on,
        },
    },
    error::ContributionError,
    store::{self, BankPayment, NewBankPayment},
};

/// A person's own bill is their personal data: touching it is audited.
fn audit_of(payer: &Payer) -> Audit {
    payer.person().map_or_else(Audit::none, Audit::change)
}

/// The answer to a repeat of a (bank, reference): the first answer if the
/// content is the same, otherwise refused.
fn repeat(existing: &BankPayment, cmd: &RecordPayment) -> Result<pb::Payment> {
    let same = existing.order_id == cmd.order_id
        && existing.amount == cmd.amount
        && existing.paid_at == cmd.paid_at;
    if !same {
        return Err(ContributionError::BankReferenceReused);
    }
    pb::Payment::decode(existing.answer.as_slice()).map_err(|e| {
        tracing::error!(error = %e, "stored payment answer undecodable");
        ContributionError::Database(sqlx::Error::Decode(Box::new(e)))
    })
}

/// The bill as of `as_of`, and everything paid towards it on any day
/// (a payment dated later than `as_of` still counts against what is owed).
async fn bill_and_all_paid(
    conn: &mut PgConnection,
    payer: &Payer,
    period: Period,
    as_of: chrono::NaiveDate,
) -> Result<(Bill, Money)> {
    let bill = bill(conn, payer, period, as_of).await?;
    let paid: Money = store::payments(&mut *conn, payer, period)
        .await?
        .iter()
        .map(|(_, amount)| *amount)
        .sum();
    Ok((bill, paid))
}

impl ContributionService {
    /// A payment order for a payer's bill: the amount frozen for today.
    pub async fn create_order(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        cmd: CreateOrder,
        fingerprint: &impl Message,
    ) -> Result<pb::PaymentOrder> {
        if !access::may_pay(caller, &cmd.payer) {
            return Err(ContributionError::NotOwnRecord);
        }
        let now = self.clock.now();
        let answer = mutation::run(
            &self.pool,
            Mutation::new(caller, "CreatePaymentOrder", request_id),
            fingerprint,
            async |conn| {
                store::lock_bill(conn, &cmd.payer, cmd.period).await?;
                let (today, paid) =
                    bill_and_all_paid(conn, &cmd.payer, cmd.period, paid_on(now)).await?;
                let outstanding = today.outstanding - (paid - today.paid);
                if !outstanding.is_positive() {
                    return Err(ContributionError::NothingOutstanding);
                }
                let amount = match cmd.amount {
                    None => outstanding,
                    Some(amount) if amount > outstanding => {
                        return Err(ContributionError::PaymentExceedsOwed { outstanding });
                    }
                    Some(amount) => amount,
                };
                let order = PaymentOrder {
                    order_id: Uuid::now_v7(),
                    payer: cmd.payer.clone(),
                    period: cmd.period,
                    amount,
                    created_at: now,
                    expires_at: order_expiry(now),
                };
                store::insert_order(conn, &order, &caller.to_string()).await?;
                let answer = present::payment_order(&order, &today);
                Ok(Effects::new(
                    answer.clone(),
                    events::order_created(answer),
                    audit_of(&cmd.payer),
                ))
            },
        )
        .await?;
        tracing::info!(payer = %cmd.payer, period = %cmd.period, amount_fen = answer.amount.map_or(0, |m| m.fen), by = %caller, "payment order created");
        Ok(answer)
    }

    /// A collecting bank's (or an operator's) record of a payment against an
    /// order.
    pub async fn record_payment(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        cmd: RecordPayment,
        fingerprint: &impl Message,
    ) -> Result<pb::Payment> {
        let mutation = Mutation::new(caller, "RecordPayment", request_id);
        if let Some(answer) = mutation::replay(&self.pool, mutation, fingerprint).await? {
            return Ok(answer);
        }
        self.directory
            .ensure_collecting_bank(&cmd.bank, caller, request_id.as_str())
            .await?;
        let now = self.clock.now();
        let answer = mutation::run(&self.pool, mutation, fingerprint, async |conn| {
            if let Some(existing) =
                store::payment_by_reference(&mut *conn, &cmd.bank, &cmd.reference).await?
            {
                return Ok(Effects::new(
                    repeat(&existing, &cmd)?,
                    Events::none(),
                    audit_of(&existing.payer),
                ));
            }
            let order = store::lock_order(conn, cmd.order_id)
                .await?
                .ok_or(ContributionError::OrderNotFound)?;
            if store::order_paid(conn, order.order_id).await? {
                return Err(ContributionError::OrderAlreadyPaid);
            }
            order
                .accepts(cmd.amount, cmd.paid_at)
                .map_err(|refusal| match refusal {
                    OrderRefusal::PaidBeforeOrder => ContributionError::PaidBeforeOrder,
                    OrderRefusal::Expired => ContributionError::OrderExpired,
                    OrderRefusal::AmountDiffers { ordered } => {
                        ContributionError::AmountDiffersFromOrder { ordered }
                    }
                })?;
            store::lock_bill(conn, &order.payer, order.period).await?;
            // The late fee counts to the day the bank received the money.
            let day = paid_on(cmd.paid_at);
            let (before, paid) = bill_and_all_paid(conn, &order.payer, order.period, day).await?;
            let outstanding = before.outstanding - (paid - before.paid);
            if order.amount > outstanding {
                return Err(ContributionError::PaymentExceedsOwed { outstanding });
            }
            let new = NewBankPayment {
                order: &order,
                bank: &cmd.bank,
                reference: &cmd.reference,
                paid_at: cmd.paid_at,
                request_id: request_id.as_str(),
                recorded_by: &caller.to_string(),
                recorded_at: now,
            };
            let Some(payment_id) = store::insert_bank_payment(conn, &new).await? else {
                // The same reference, committed by a concurrent call meanwhile.
                let existing = store::payment_by_reference(&mut *conn, &cmd.bank, &cmd.reference)
                    .await?
                    .ok_or(ContributionError::BankReferenceReused)?;
                return Ok(Effects::new(
                    repeat(&existing, &cmd)?,
                    Events::none(),
                    audit_of(&existing.payer),
                ));
            };
            let after = bill(conn, &order.payer, order.period, day).await?;
            let view = BankPaymentView {
                order_id: order.order_id,
                payer: &order.payer,
                period: order.period,
                amount: order.amount,
                bank: &cmd.bank,
                reference: &cmd.reference,
                paid_at: cmd.paid_at,
                reversed_at: None,
            };
            let answer = present::bank_payment(&view, &after);
            store::set_payment_answer(conn, payment_id, &answer.encode_to_vec()).await?;
            Ok(Effects::new(
                answer.clone(),
                events::payment_recorded(answer),
                audit_of(&order.payer),
            ))
        })
        .await?;
        tracing::info!(payer = %answer.payer, bank = %cmd.bank, amount_fen = cmd.amount.fen(), by = %caller, "payment recorded");
        Ok(answer)
    }

    /// The bank that recorded a payment (or an operator) reverses it: the
    /// bill is owed again.
    pub async fn reverse_payment(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        cmd: ReversePayment,
        fingerprint: &impl Message,
    ) -> Result<pb::Payment> {
        let now = self.clock.now();
        let answer = mutation::run(
            &self.pool,
            Mutation::new(caller, "ReversePayment", request_id),
            fingerprint,
            async |conn| -> Result<Effects<pb::Payment>> {
                let payment = store::lock_payment_by_reference(conn, &cmd.bank, &cmd.reference)
                    .await?
                    .ok_or(ContributionError::PaymentNotFound)?;
                let period = Period::from_date(payment.period);
                store::lock_bill(conn, &payment.payer, period).await?;
                let first = payment.reversed_at.is_none();
                if first {
                    store::reverse_payment(
                        conn,
                        payment.payment_id,
                        &caller.to_string(),
                        &cmd.reason,
                        now,
                    )
                    .await?;
                }
                let after = bill(conn, &payment.payer, period, paid_on(now)).await?;
                let view = BankPaymentView {
                    order_id: payment.order_id,
                    payer: &payment.payer,
                    period,
                    amount: payment.amount,
                    bank: &cmd.bank,
                    reference: &cmd.reference,
                    paid_at: payment.paid_at,
                    reversed_at: Some(payment.reversed_at.unwrap_or(now)),
                };
                let answer = present::bank_payment(&view, &after);
                // Reversing a reversed payment changes nothing and says so.
                let published = if first {
                    events::payment_reversed(answer.clone())
                } else {
                    Events::none()
                };
                Ok(Effects::new(answer, published, audit_of(&payment.payer)))
            },
        )
        .await?;
        tracing::info!(payer = %answer.payer, bank = %cmd.bank, by = %caller, reason = %cmd.reason, "payment reversed");
        Ok(answer)
    }
}

//! Payment orders and the payments collecting banks record against them.

use chrono::{DateTime, Utc};
use pii::PartnerCode;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::{
    Money, Payer, Period,
    payment::{PaymentOrder, paid_on},
};

#[derive(sqlx::FromRow)]
struct OrderRow {
    order_id: Uuid,
    payer: Payer,
    period: chrono::NaiveDate,
    amount_fen: Money,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

impl From<OrderRow> for PaymentOrder {
    fn from(r: OrderRow) -> Self {
        Self {
            order_id: r.order_id,
            payer: r.payer,
            period: Period::from_date(r.period),
            amount: r.amount_fen,
            created_at: r.created_at,
            expires_at: r.expires_at,
        }
    }
}

pub async fn insert_order(
    conn: &mut PgConnection,
    order: &PaymentOrder,
    created_by: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO payment_orders (order_id, payer, period, amount_fen, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(order.order_id)
    .bind(&order.payer)
    .bind(order.period.first_day())
    .bind(order.amount)
    .bind(created_by)
    .bind(order.created_at)
    .bind(order.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The order, locked until the transaction ends (payments of one order
/// take turns).
pub async fn lock_order(
    conn: &mut PgConnection,
    order_id: Uuid,
) -> Result<Option<PaymentOrder>, sqlx::Error> {
    let row: Option<OrderRow> = sqlx::query_as(
        "SELECT order_id, payer, period, amount_fen, created_at, expires_at
         FROM payment_orders WHERE order_id = $1 FOR UPDATE",
    )
    .bind(order_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(PaymentOrder::from))
}

/// A payment recorded by a bank, as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct BankPayment {
    pub payment_id: i64,
    pub order_id: Uuid,
    pub payer: Payer,
    pub period: chrono::NaiveDate,
    #[sqlx(rename = "amount_fen")]
    pub amount: Money,
    pub paid_at: DateTime<Utc>,
    pub answer: Vec<u8>,
    pub reversed_at: Option<DateTime<Utc>>,
}

const BANK_PAYMENT: &str =
    "SELECT payment_id, order_id, payer, period, amount_fen, paid_at, answer, reversed_at
     FROM payments WHERE bank_code = $1 AND bank_reference = $2";

/// The payment `bank` recorded under `reference`, if any.
pub async fn payment_by_reference(
    executor: impl PgExecutor<'_>,
    bank: &PartnerCode,
    reference: &str,
) -> Result<Option<BankPayment>, sqlx::Error> {
    sqlx::query_as(BANK_PAYMENT)
        .bind(bank)
        .bind(reference)
        .fetch_optional(executor)
        .await
}

/// The same, locked until the transaction ends.
pub async fn lock_payment_by_reference(
    conn: &mut PgConnection,
    bank: &PartnerCode,
    reference: &str,
) -> Result<Option<BankPayment>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{BANK_PAYMENT} FOR UPDATE")))
        .bind(bank)
        .bind(reference)
        .fetch_optional(conn)
        .await
}

/// Is there a payment against `order_id` already?
pub async fn order_paid(conn: &mut PgConnection, order_id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM payments WHERE order_id = $1)")
        .bind(order_id)
        .fetch_one(conn)
        .await
}

/// A bank's payment to store.
pub struct NewBankPayment<'a> {
    pub order: &'a PaymentOrder,
    pub bank: &'a PartnerCode,
    pub reference: &'a str,
    pub paid_at: DateTime<Utc>,
    pub request_id: &'a str,
    pub recorded_by: &'a str,
    pub recorded_at: DateTime<Utc>,
}

/// Stores the payment; `None` if its order or its (bank, reference) was
/// taken meanwhile (an expected conflict: not an error of the statement).
pub async fn insert_bank_payment(
    conn: &mut PgConnection,
    p: &NewBankPayment<'_>,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO payments (payer, period, amount_fen, paid_on, request_id, recorded_at,
             order_id, bank_code, bank_reference, paid_at, recorded_by)
         VALUES ($1, $2, $3, $11, $5, $6, $7, $8, $9, $4, $10)
         ON CONFLICT DO NOTHING
         RETURNING payment_id",
    )
    .bind(&p.order.payer)
    .bind(p.order.period.first_day())
    .bind(p.order.amount)
    .bind(p.paid_at)
    .bind(p.request_id)
    .bind(p.recorded_at)
    .bind(p.order.order_id)
    .bind(p.bank)
    .bind(p.reference)
    .bind(p.recorded_by)
    .bind(paid_on(p.paid_at))
    .fetch_optional(conn)
    .await
}

/// Keeps the answer given when the payment was recorded.
pub async fn set_payment_answer(
    conn: &mut PgConnection,
    payment_id: i64,
    answer: &[u8],
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE payments SET answer = $2 WHERE payment_id = $1")
        .bind(payment_id)
        .bind(answer)
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks the payment reversed.
pub async fn reverse_payment(
    conn: &mut PgConnection,
    payment_id: i64,
    by: &str,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE payments SET reversed_at = $2, reversed_by = $3, reversal_reason = $4
         WHERE payment_id = $1",
    )
    .bind(payment_id)
    .bind(at)
    .bind(by)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}

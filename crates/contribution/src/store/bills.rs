//! Bills (sums over the ledger) and payments.

use chrono::NaiveDate;
use sqlx::{PgConnection, PgExecutor};

use crate::domain::{ArrearsKey, Money, Payer, Period};

/// What the ledger holds for one payer and month.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct BillSums {
    #[sqlx(rename = "contributions_fen")]
    pub contributions: Money,
    #[sqlx(rename = "fees_fen")]
    pub service_fees: Money,
    /// `None`: nothing booked.
    pub region_code: Option<String>,
}

pub async fn bill_sums(
    executor: impl PgExecutor<'_>,
    payer: &Payer,
    period: Period,
) -> Result<BillSums, sqlx::Error> {
    sqlx::query_as(
        "SELECT COALESCE(sum(amount_fen) FILTER (WHERE kind <> 'FEE'), 0)::bigint AS contributions_fen,
             COALESCE(sum(amount_fen) FILTER (WHERE kind = 'FEE'), 0)::bigint AS fees_fen,
             min(region_code) AS region_code
         FROM ledger_entries WHERE payer = $1 AND period = $2",
    )
    .bind(payer)
    .bind(period.first_day())
    .fetch_one(executor)
    .await
}

/// Every payment towards a bill: (paid on, amount), in order.
pub async fn payments(
    executor: impl PgExecutor<'_>,
    payer: &Payer,
    period: Period,
) -> Result<Vec<(NaiveDate, Money)>, sqlx::Error> {
    sqlx::query_as("SELECT paid_on, amount_fen FROM payments WHERE payer = $1 AND period = $2 AND reversed_at IS NULL ORDER BY paid_on, payment_id")
        .bind(payer)
        .bind(period.first_day())
        .fetch_all(executor)
        .await
}

/// Serialises payments of one bill.
pub async fn lock_bill(
    conn: &mut PgConnection,
    payer: &Payer,
    period: Period,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('bill:' || $1 || $2::text, 0))")
        .bind(payer)
        .bind(period.first_day())
        .execute(conn)
        .await?;
    Ok(())
}

/// Bills of a region with more booked than paid, in key order after
/// `after`, up to and including `before` (months that can be due).
pub async fn unpaid_bills(
    executor: impl PgExecutor<'_>,
    region: &str,
    before: NaiveDate,
    after: Option<&ArrearsKey>,
    limit: i64,
) -> Result<Vec<ArrearsKey>, sqlx::Error> {
    let rows: Vec<(Payer, NaiveDate)> = sqlx::query_as(
        "SELECT l.payer, l.period FROM ledger_entries l
         WHERE l.region_code = $1 AND l.period <= $2
           AND ($3::text IS NULL OR (l.payer, l.period) > ($3, $4))
         GROUP BY l.payer, l.period
         HAVING sum(l.amount_fen) > COALESCE((SELECT sum(p.amount_fen) FROM payments p
                                             WHERE p.payer = l.payer AND p.period = l.period
                                               AND p.reversed_at IS NULL), 0)
         ORDER BY l.payer, l.period LIMIT $5",
    )
    .bind(region)
    .bind(before)
    .bind(after.map(|k| &k.payer))
    .bind(after.map(|k| k.period))
    .bind(limit)
    .fetch_all(executor)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(payer, period)| ArrearsKey { payer, period })
        .collect())
}

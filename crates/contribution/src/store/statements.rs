//! A person's statement: ledger lines per month, part and payer, whether
//! each bill is paid, and totals per account. A read of a statement is
//! checked against the ledger and recorded in the audit trail in the same
//! transaction as it is read.

use chrono::NaiveDate;
use platform::{
    audit::{self, Access},
    auth::Caller,
};
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use super::grants;
use crate::domain::{
    Account, InsuranceType, LineKey, Money, Part, Payer,
    access::{RecordAccess, VisibleLines},
    commands::{StatementQuery, StatementRange},
};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LineRow {
    pub period: NaiveDate,
    /// `None` for an agency's service fee.
    pub insurance_type: Option<InsuranceType>,
    pub part: Part,
    pub account: Account,
    pub payer: Payer,
    #[sqlx(rename = "base_fen")]
    pub base: Money,
    pub rate_bp: i32,
    #[sqlx(rename = "amount_fen")]
    pub amount: Money,
    pub paid: bool,
}

impl LineRow {
    /// Where the line is in the statement's order.
    pub fn key(&self) -> LineKey {
        LineKey {
            period: self.period,
            insurance_type: self.insurance_type,
            part: self.part,
        }
    }
}

/// A page of a statement and the totals over its whole range.
#[derive(Clone, Debug)]
pub struct StatementPage {
    pub lines: Vec<LineRow>,
    pub individual_account_total: Money,
    pub pooling_fund_total: Money,
}

/// Reads a page of a person's statement (the lines `visible` to `caller`)
/// and records the read, in one transaction. `None`, with nothing recorded,
/// when the ledger does not grant `access`.
pub async fn read_statement(
    pool: &PgPool,
    caller: &Caller,
    access: &RecordAccess,
    visible: &VisibleLines,
    query: &StatementQuery,
) -> Result<Option<StatementPage>, sqlx::Error> {
    let range = query.range;
    let mut tx = pool.begin().await?;
    if !grants(&mut tx, access, range.person_id).await? {
        return Ok(None);
    }
    let lines = statement_lines(
        &mut *tx,
        range,
        visible.payer(),
        query.after.as_ref(),
        query.page_size,
    )
    .await?;
    let (individual_account_total, pooling_fund_total) =
        statement_totals(&mut *tx, range, visible.payer()).await?;
    audit::record(
        &mut tx,
        caller,
        "GetStatement",
        Access::Read,
        &range.person_id.to_string(),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(Some(StatementPage {
        lines,
        individual_account_total,
        pooling_fund_total,
    }))
}

/// Checks that the ledger grants `access` to `person`'s record and records
/// a streamed read, in one transaction; `false` (nothing recorded) if not.
pub async fn admit_statement_stream(
    pool: &PgPool,
    caller: &Caller,
    access: &RecordAccess,
    person_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    if !grants(&mut tx, access, person_id).await? {
        return Ok(false);
    }
    audit::record(
        &mut tx,
        caller,
        "StreamStatement",
        Access::Read,
        &person_id.to_string(),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// A person's statement lines over the range (only those paid by `payer`,
/// when given), in order, after the page key `after`, at most `limit`.
pub async fn statement_lines(
    executor: impl PgExecutor<'_>,
    range: StatementRange,
    payer: Option<&Payer>,
    after: Option<&LineKey>,
    limit: i64,
) -> Result<Vec<LineRow>, sqlx::Error> {
    sqlx::query_as(
        "WITH lines AS (
             SELECT l.period, l.insurance_type, l.part, l.account, l.payer,
                 (array_agg(l.base_fen ORDER BY l.entry_id DESC))[1] AS base_fen,
                 (array_agg(l.rate_bp ORDER BY l.entry_id DESC))[1] AS rate_bp,
                 sum(l.amount_fen)::bigint AS amount_fen
             FROM ledger_entries l
             WHERE l.person_id = $1 AND l.period BETWEEN $2 AND $3
                 AND ($8::text IS NULL OR l.payer = $8)
             GROUP BY l.period, l.insurance_type, l.part, l.account, l.payer
         ),
         bills AS (
             SELECT b.payer, b.period,
                 (SELECT COALESCE(sum(p.amount_fen), 0) FROM payments p
                  WHERE p.payer = b.payer AND p.period = b.period AND p.reversed_at IS NULL)
                 >= (SELECT sum(x.amount_fen) FROM ledger_entries x
                     WHERE x.payer = b.payer AND x.period = b.period) AS paid
             FROM (SELECT DISTINCT payer, period FROM lines) b
         )
         SELECT lines.*, bills.paid FROM lines JOIN bills USING (payer, period)
         WHERE $4::date IS NULL
            OR (lines.period, COALESCE(lines.insurance_type, ''), lines.part) > ($4, $5, $6)
         ORDER BY lines.period, COALESCE(lines.insurance_type, ''), lines.part
         LIMIT $7",
    )
    .bind(range.person_id)
    .bind(range.from.first_day())
    .bind(range.to.first_day())
    .bind(after.map(|k| k.period))
    .bind(after.map(|k| k.insurance_type.map_or("", InsuranceType::as_str)))
    .bind(after.map(|k| k.part.as_str()))
    .bind(limit)
    .bind(payer)
    .fetch_all(executor)
    .await
}

/// Totals per account over the range: (individual account, pooling fund).
async fn statement_totals(
    executor: impl PgExecutor<'_>,
    range: StatementRange,
    payer: Option<&Payer>,
) -> Result<(Money, Money), sqlx::Error> {
    sqlx::query_as(
        "SELECT COALESCE(sum(amount_fen) FILTER (WHERE account = 'INDIVIDUAL_ACCOUNT'), 0)::bigint,
             COALESCE(sum(amount_fen) FILTER (WHERE account = 'POOLING_FUND'), 0)::bigint
         FROM ledger_entries WHERE person_id = $1 AND period BETWEEN $2 AND $3
             AND ($4::text IS NULL OR payer = $4)",
    )
    .bind(range.person_id)
    .bind(range.from.first_day())
    .bind(range.to.first_day())
    .bind(payer)
    .fetch_one(executor)
    .await
}

//! HR agency contracts: registration, consent, an early end, the listing a
//! person reads (with its audit entry), and when a contract was last billed.

use chrono::{DateTime, NaiveDate, Utc};
use pii::PartnerCode;
use platform::{
    audit::{self, Access},
    auth::Caller,
};
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

use crate::domain::{AgencyContract, Money, Period, commands::ContractsQuery};

#[derive(sqlx::FromRow)]
struct ContractRow {
    contract_id: Uuid,
    agency_code: PartnerCode,
    person_id: Uuid,
    service_fee_fen: Money,
    start_period: NaiveDate,
    end_period: NaiveDate,
    confirmed_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
}

impl From<ContractRow> for AgencyContract {
    fn from(row: ContractRow) -> Self {
        Self {
            contract_id: row.contract_id,
            agency: row.agency_code,
            person_id: row.person_id,
            monthly_service_fee: row.service_fee_fen,
            start: Period::from_date(row.start_period),
            end: Period::from_date(row.end_period),
            confirmed_at: row.confirmed_at,
            ended_at: row.ended_at,
        }
    }
}

macro_rules! contract_columns {
    () => {
        "contract_id, agency_code, person_id, service_fee_fen, start_period, end_period, \
         confirmed_at, ended_at"
    };
}

/// Stores a new contract registered by `by` (confirmed already when
/// `c.confirmed_at` is set, by the same caller). `false`, with nothing
/// stored, when the agency already has a contract with the person awaiting
/// consent.
pub async fn insert_contract(
    conn: &mut PgConnection,
    c: &AgencyContract,
    by: &Caller,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let by = by.to_string();
    let inserted = sqlx::query(
        "INSERT INTO agency_contracts (contract_id, agency_code, person_id, service_fee_fen,
             start_period, end_period, created_at, registered_by, confirmed_at, confirmed_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $9::timestamptz IS NOT NULL THEN $8 END)
         ON CONFLICT DO NOTHING",
    )
    .bind(c.contract_id)
    .bind(&c.agency)
    .bind(c.person_id)
    .bind(c.monthly_service_fee)
    .bind(c.start.first_day())
    .bind(c.end.first_day())
    .bind(at)
    .bind(by)
    .bind(c.confirmed_at)
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

pub async fn contract(
    executor: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<AgencyContract>, sqlx::Error> {
    let row: Option<ContractRow> = sqlx::query_as(concat!(
        "SELECT ",
        contract_columns!(),
        " FROM agency_contracts WHERE contract_id = $1"
    ))
    .bind(id)
    .fetch_optional(executor)
    .await?;
    Ok(row.map(AgencyContract::from))
}

/// The contract, locked until the transaction ends (confirming and ending
/// it take turns).
pub async fn lock_contract(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<AgencyContract>, sqlx::Error> {
    let row: Option<ContractRow> = sqlx::query_as(concat!(
        "SELECT ",
        contract_columns!(),
        " FROM agency_contracts WHERE contract_id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(AgencyContract::from))
}

/// Records the person's (or the counter's) consent.
pub async fn confirm_contract(
    conn: &mut PgConnection,
    id: Uuid,
    by: &Caller,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE agency_contracts SET confirmed_at = $2, confirmed_by = $3 WHERE contract_id = $1",
    )
    .bind(id)
    .bind(at)
    .bind(by.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends the contract early at `end` (its last month), and its enrolments
/// with it.
pub async fn end_contract(
    conn: &mut PgConnection,
    id: Uuid,
    end: Period,
    by: &Caller,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE agency_contracts SET end_period = $2, ended_at = $3, ended_by = $4
         WHERE contract_id = $1",
    )
    .bind(id)
    .bind(end.first_day())
    .bind(at)
    .bind(by.to_string())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE enrolments SET end_period = LEAST(COALESCE(end_period, $2), $2)
         WHERE contract_id = $1",
    )
    .bind(id)
    .bind(end.first_day())
    .execute(conn)
    .await?;
    Ok(())
}

/// The regions the contract's enrolments are in (whose monthly runs an
/// early end must not overlap).
pub async fn contract_regions(
    executor: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT region_code FROM enrolments WHERE contract_id = $1 ORDER BY 1",
    )
    .bind(id)
    .fetch_all(executor)
    .await
}

/// The last month anything (a contribution under one of its enrolments, or
/// its service fee) was billed under the contract.
pub async fn last_billed_under_contract(
    executor: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<Period>, sqlx::Error> {
    let last: Option<NaiveDate> = sqlx::query_scalar(
        "SELECT GREATEST(
             (SELECT max(l.period) FROM ledger_entries l
              WHERE l.enrolment_id IN (SELECT enrolment_id FROM enrolments WHERE contract_id = $1)),
             (SELECT max(l.period) FROM ledger_entries l WHERE l.contract_id = $1))",
    )
    .bind(id)
    .fetch_one(executor)
    .await?;
    Ok(last.map(Period::from_date))
}

/// Whether `agency` has a contract with the person, confirmed, that runs
/// to `month` or later.
pub async fn is_agency_client(
    executor: impl PgExecutor<'_>,
    agency: &PartnerCode,
    person_id: Uuid,
    month: Period,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM agency_contracts
                        WHERE agency_code = $1 AND person_id = $2
                          AND confirmed_at IS NOT NULL AND end_period >= $3)",
    )
    .bind(agency)
    .bind(person_id)
    .bind(month.first_day())
    .fetch_one(executor)
    .await
}

/// A page of a person's contracts (only `agency`'s, when given), in the
/// order they were registered, and the read in the audit trail, in one
/// transaction.
pub async fn read_contracts(
    pool: &PgPool,
    caller: &Caller,
    agency: Option<&PartnerCode>,
    query: &ContractsQuery,
) -> Result<Vec<AgencyContract>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let rows: Vec<ContractRow> = sqlx::query_as(concat!(
        "SELECT ",
        contract_columns!(),
        " FROM agency_contracts
         WHERE person_id = $1 AND ($2::text IS NULL OR agency_code = $2)
           AND ($3::uuid IS NULL OR contract_id > $3)
         ORDER BY contract_id LIMIT $4"
    ))
    .bind(query.person_id)
    .bind(agency)
    .bind(query.after)
    .bind(query.page_size)
    .fetch_all(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        caller,
        "ListAgencyContracts",
        Access::Read,
        &query.person_id.to_string(),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(rows.into_iter().map(AgencyContract::from).collect())
}

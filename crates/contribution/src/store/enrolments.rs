//! Agency contracts, enrolments, and the facts that decide who may act for
//! a person.

use chrono::{DateTime, NaiveDate, Utc};
use pii::PartnerCode;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::{
    AgencyContract, Enrolment, InsuranceType, Money, Payer, Period, access::RecordAccess,
};

// ---- agency contracts ----

#[derive(sqlx::FromRow)]
struct ContractRow {
    contract_id: Uuid,
    agency_code: PartnerCode,
    person_id: Uuid,
    service_fee_fen: Money,
    start_period: NaiveDate,
    end_period: Option<NaiveDate>,
}

impl From<ContractRow> for AgencyContract {
    fn from(row: ContractRow) -> Self {
        Self {
            contract_id: row.contract_id,
            agency: row.agency_code,
            person_id: row.person_id,
            monthly_service_fee: row.service_fee_fen,
            start: Period::from_date(row.start_period),
            end: row.end_period.map(Period::from_date),
        }
    }
}

pub async fn insert_contract(
    conn: &mut PgConnection,
    c: &AgencyContract,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO agency_contracts (contract_id, agency_code, person_id, service_fee_fen,
             start_period, end_period, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(c.contract_id)
    .bind(&c.agency)
    .bind(c.person_id)
    .bind(c.monthly_service_fee)
    .bind(c.start.first_day())
    .bind(c.end.map(Period::first_day))
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn contract(
    executor: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<AgencyContract>, sqlx::Error> {
    let row: Option<ContractRow> = sqlx::query_as(
        "SELECT contract_id, agency_code, person_id, service_fee_fen, start_period, end_period
         FROM agency_contracts WHERE contract_id = $1",
    )
    .bind(id)
    .fetch_optional(executor)
    .await?;
    Ok(row.map(AgencyContract::from))
}

// ---- who may act for a person ----

/// Whether the ledger grants `access` to `person`'s record.
pub async fn grants(
    conn: &mut PgConnection,
    access: &RecordAccess,
    person_id: Uuid,
) -> Result<bool, sqlx::Error> {
    match access {
        RecordAccess::Granted => Ok(true),
        RecordAccess::Denied => Ok(false),
        RecordAccess::IfAgencyClient(agency) => is_agency_client(conn, agency, person_id).await,
        RecordAccess::IfPayerOf(payer) => is_payer_of(conn, payer, person_id).await,
    }
}

/// Whether `agency` has (had) a contract with the person.
async fn is_agency_client(
    executor: impl PgExecutor<'_>,
    agency: &PartnerCode,
    person_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM agency_contracts WHERE agency_code = $1 AND person_id = $2)",
    )
    .bind(agency)
    .bind(person_id)
    .fetch_one(executor)
    .await
}

/// Whether the person is (was) enrolled with `payer` as payer.
async fn is_payer_of(
    executor: impl PgExecutor<'_>,
    payer: &Payer,
    person_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM enrolments WHERE payer = $1 AND person_id = $2)",
    )
    .bind(payer)
    .bind(person_id)
    .fetch_one(executor)
    .await
}

/// Whether every month in `months` is covered by an enrolment of the person
/// with `payer` as payer.
pub async fn payer_covers(
    executor: impl PgExecutor<'_>,
    payer: &Payer,
    person_id: Uuid,
    months: &[Period],
) -> Result<bool, sqlx::Error> {
    let months: Vec<NaiveDate> = months.iter().map(|p| p.first_day()).collect();
    sqlx::query_scalar(
        "SELECT bool_and(EXISTS (
             SELECT 1 FROM enrolments e
             WHERE e.payer = $1 AND e.person_id = $2 AND e.start_period <= m
               AND (e.end_period IS NULL OR e.end_period >= m)))
         FROM UNNEST($3::date[]) AS u(m)",
    )
    .bind(payer)
    .bind(person_id)
    .bind(months)
    .fetch_one(executor)
    .await
    .map(|covered: Option<bool>| covered.unwrap_or(false))
}

// ---- enrolment ----

/// Serialises enrolments of one person (so overlap checks cannot race).
pub async fn lock_person(conn: &mut PgConnection, person_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('enrol:' || $1::text, 0))")
        .bind(person_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Insurance types among `types` in which the person is already enrolled for
/// a period overlapping `[start, ∞)`.
pub async fn overlapping_types(
    executor: impl PgExecutor<'_>,
    person_id: Uuid,
    types: &[InsuranceType],
    start: Period,
) -> Result<Vec<InsuranceType>, sqlx::Error> {
    let types: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    sqlx::query_scalar(
        "SELECT DISTINCT insurance_type FROM enrolments
         WHERE person_id = $1 AND insurance_type = ANY($2)
           AND (end_period IS NULL OR end_period >= $3)",
    )
    .bind(person_id)
    .bind(types)
    .bind(start.first_day())
    .fetch_all(executor)
    .await
}

pub async fn insert_enrolments(
    conn: &mut PgConnection,
    rows: &[Enrolment],
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let column = |f: fn(&Enrolment) -> &'static str| rows.iter().map(f).collect::<Vec<_>>();
    sqlx::query(
        "INSERT INTO enrolments (enrolment_id, person_id, region_code, insurance_type, scheme,
             employer_code, contract_id, payer, start_period, channel, created_at)
         SELECT id, person, region, t, scheme, employer, contract, payer, start, channel, $11
         FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
             $7::uuid[], $8::text[], $9::date[], $10::text[])
             AS u(id, person, region, t, scheme, employer, contract, payer, start, channel)",
    )
    .bind(rows.iter().map(|r| r.enrolment_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.person_id).collect::<Vec<_>>())
    .bind(
        rows.iter()
            .map(|r| r.region_code.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(column(|r| r.insurance_type.as_str()))
    .bind(column(|r| r.scheme.as_str()))
    .bind(
        rows.iter()
            .map(|r| r.employer.as_ref().map(PartnerCode::as_str))
            .collect::<Vec<_>>(),
    )
    .bind(rows.iter().map(|r| r.contract_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.payer.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.start.first_day()).collect::<Vec<_>>())
    .bind(column(|r| r.channel.as_str()))
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn first_enrolment_start(
    executor: impl PgExecutor<'_>,
    person_id: Uuid,
) -> Result<Option<Period>, sqlx::Error> {
    let first: Option<NaiveDate> =
        sqlx::query_scalar("SELECT min(start_period) FROM enrolments WHERE person_id = $1")
            .bind(person_id)
            .fetch_one(executor)
            .await?;
    Ok(first.map(Period::from_date))
}

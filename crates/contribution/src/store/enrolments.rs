//! Enrolments, and the facts that decide who may act for a person.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use pii::PartnerCode;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::is_agency_client;
use crate::domain::{
    Enrolled, Enrolment, EnrolmentChannel, InsuranceType, Payer, Period, Scheme, Term,
    access::RecordAccess,
};

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
        RecordAccess::IfAgencyClient { agency, month } => {
            is_agency_client(conn, agency, person_id, *month).await
        }
        RecordAccess::IfPayerOf(payer) => is_payer_of(conn, payer, person_id).await,
    }
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

/// Serialises enrolments of one person and the ends of their contracts (so
/// overlap checks cannot race, and no enrolment is made under a contract
/// being ended).
pub async fn lock_person(conn: &mut PgConnection, person_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('enrol:' || $1::text, 0))")
        .bind(person_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The enrolments of `persons` in `types`, whatever their months (few per
/// person): what a new enrolment is checked against (`enrolment::overlaps`).
pub async fn enrolled(
    executor: impl PgExecutor<'_>,
    persons: &[Uuid],
    types: &[InsuranceType],
) -> Result<Vec<Enrolled>, sqlx::Error> {
    let types: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    let rows: Vec<EnrolledRow> = sqlx::query_as(
        "SELECT enrolment_id, person_id, insurance_type, region_code, start_period,
             end_period, contract_id IS NOT NULL AS under_contract
         FROM enrolments WHERE person_id = ANY($1) AND insurance_type = ANY($2)
         ORDER BY enrolment_id",
    )
    .bind(persons)
    .bind(types)
    .fetch_all(executor)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| Enrolled {
            enrolment_id: row.enrolment_id,
            person_id: row.person_id,
            insurance_type: row.insurance_type,
            region_code: row.region_code,
            term: Term {
                start: Period::from_date(row.start_period),
                end: row.end_period.map(Period::from_date),
            },
            under_contract: row.under_contract,
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct EnrolledRow {
    enrolment_id: Uuid,
    person_id: Uuid,
    insurance_type: InsuranceType,
    region_code: String,
    start_period: NaiveDate,
    end_period: Option<NaiveDate>,
    under_contract: bool,
}

/// Among `enrolments`, the insurance type and month of the latest
/// contribution billed in `from` or later.
pub async fn billed_from(
    executor: impl PgExecutor<'_>,
    enrolments: &[Uuid],
    from: Period,
) -> Result<Option<(InsuranceType, Period)>, sqlx::Error> {
    let latest: Option<(InsuranceType, NaiveDate)> = sqlx::query_as(
        "SELECT insurance_type, period FROM ledger_entries
         WHERE enrolment_id = ANY($1) AND period >= $2
         ORDER BY period DESC LIMIT 1",
    )
    .bind(enrolments)
    .bind(from.first_day())
    .fetch_optional(executor)
    .await?;
    Ok(latest.map(|(t, period)| (t, Period::from_date(period))))
}

/// Ends `enrolments` the month before `start` (the person's own enrolment
/// takes over from then); returns them as they now are.
pub async fn end_before(
    conn: &mut PgConnection,
    enrolments: &[Uuid],
    start: Period,
) -> Result<Vec<Enrolment>, sqlx::Error> {
    let rows: Vec<EnrolmentRow> = sqlx::query_as(
        "UPDATE enrolments SET end_period = $2 WHERE enrolment_id = ANY($1)
         RETURNING enrolment_id, person_id, region_code, insurance_type, scheme, employer_code,
             contract_id, payer, start_period, end_period, channel",
    )
    .bind(enrolments)
    .bind(start.previous().first_day())
    .fetch_all(conn)
    .await?;
    let mut ended: Vec<Enrolment> = rows.into_iter().map(Enrolment::from).collect();
    ended.sort_by_key(|e| (e.insurance_type.as_str(), e.enrolment_id));
    Ok(ended)
}

/// The regions of `enrolments`, in order.
pub async fn regions_of(
    executor: impl PgExecutor<'_>,
    enrolments: &[Uuid],
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT region_code FROM enrolments WHERE enrolment_id = ANY($1) ORDER BY 1",
    )
    .bind(enrolments)
    .fetch_all(executor)
    .await
}

/// Waits for the monthly runs of `regions` (in the given order) and keeps
/// new ones out until the transaction ends: a change to when enrolments end
/// must not cross a run that is booking them (see `begin_run`).
pub async fn hold_runs(conn: &mut PgConnection, regions: &[String]) -> Result<(), sqlx::Error> {
    for region in regions {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('enrolments:' || $1, 0))")
            .bind(region)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct EnrolmentRow {
    enrolment_id: Uuid,
    person_id: Uuid,
    region_code: String,
    insurance_type: InsuranceType,
    scheme: Scheme,
    employer_code: Option<PartnerCode>,
    contract_id: Option<Uuid>,
    payer: Payer,
    start_period: NaiveDate,
    end_period: Option<NaiveDate>,
    channel: EnrolmentChannel,
}

impl From<EnrolmentRow> for Enrolment {
    fn from(row: EnrolmentRow) -> Self {
        Self {
            enrolment_id: row.enrolment_id,
            person_id: row.person_id,
            region_code: row.region_code,
            insurance_type: row.insurance_type,
            scheme: row.scheme,
            employer: row.employer_code,
            contract_id: row.contract_id,
            payer: row.payer,
            start: Period::from_date(row.start_period),
            end: row.end_period.map(Period::from_date),
            channel: row.channel,
        }
    }
}

pub async fn insert_enrolments(
    conn: &mut PgConnection,
    rows: &[Enrolment],
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let column = |f: fn(&Enrolment) -> &'static str| rows.iter().map(f).collect::<Vec<_>>();
    sqlx::query(
        "INSERT INTO enrolments (enrolment_id, person_id, region_code, insurance_type, scheme,
             employer_code, contract_id, payer, start_period, channel, created_at, end_period)
         SELECT id, person, region, t, scheme, employer, contract, payer, start, channel, $11,
             last
         FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
             $7::uuid[], $8::text[], $9::date[], $10::text[], $12::date[])
             AS u(id, person, region, t, scheme, employer, contract, payer, start, channel, last)",
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
    .bind(
        rows.iter()
            .map(|r| r.end.map(Period::first_day))
            .collect::<Vec<_>>(),
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn first_enrolment_start(
    executor: impl PgExecutor<'_>,
    person_id: Uuid,
) -> Result<Option<Period>, sqlx::Error> {
    Ok(first_enrolment_starts(executor, &[person_id])
        .await?
        .remove(&person_id))
}

/// For each of `persons` enrolled, the start of their first enrolment that
/// took effect.
pub async fn first_enrolment_starts(
    executor: impl PgExecutor<'_>,
    persons: &[Uuid],
) -> Result<HashMap<Uuid, Period>, sqlx::Error> {
    let rows: Vec<(Uuid, NaiveDate)> = sqlx::query_as(
        "SELECT person_id, min(start_period) FROM enrolments
             WHERE person_id = ANY($1) AND (end_period IS NULL OR end_period >= start_period)
             GROUP BY person_id",
    )
    .bind(persons)
    .fetch_all(executor)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(person, first)| (person, Period::from_date(first)))
        .collect())
}

/// Serialises enrolments of `persons` (in id order, so two batches never
/// wait on each other in a circle), as `lock_person` does one person's.
pub async fn lock_persons(conn: &mut PgConnection, persons: &[Uuid]) -> Result<(), sqlx::Error> {
    let mut persons = persons.to_vec();
    persons.sort();
    persons.dedup();
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtextextended('enrol:' || p::text, 0))
         FROM UNNEST($1::uuid[]) WITH ORDINALITY AS u(p, n) ORDER BY n",
    )
    .bind(persons)
    .execute(conn)
    .await?;
    Ok(())
}

//! The monthly run: one transaction per region and month (the caller's),
//! a constant number of statements per chunk of enrolments.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{InsuranceType, Money, Payer};

/// One run at a time per region and month. Runs of a region share a lock
/// that a change to when its enrolments end takes alone (`hold_runs`): an
/// agency enrolment ended while a run books it would otherwise be billed
/// for a month its successor is billed for too. The run's statements each
/// touch every enrolment of a chunk: nested loops are never the right plan
/// for them, and on freshly loaded tables (no statistics yet) the planner
/// has been seen to pick one and take a minute instead of a second, so they
/// are off for the run's transaction.
pub async fn begin_run(
    conn: &mut PgConnection,
    region: &str,
    period: NaiveDate,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('run:' || $1 || $2::text, 0))")
        .bind(region)
        .bind(period)
        .execute(&mut *conn)
        .await?;
    sqlx::query("SELECT pg_advisory_xact_lock_shared(hashtextextended('enrolments:' || $1, 0))")
        .bind(region)
        .execute(&mut *conn)
        .await?;
    sqlx::query("SET LOCAL enable_nestloop = off")
        .execute(conn)
        .await?;
    Ok(())
}

/// Pins, for each insurance type with a table that year, the version the
/// month is computed with (the latest now, unless already pinned).
pub async fn pin_rates(
    conn: &mut PgConnection,
    region: &str,
    period: NaiveDate,
    year: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO run_rates (region_code, period, insurance_type, version)
         SELECT region_code, $2, insurance_type, max(version) FROM rate_tables
         WHERE region_code = $1 AND year = $3 GROUP BY region_code, insurance_type
         ON CONFLICT DO NOTHING",
    )
    .bind(region)
    .bind(period)
    .bind(year)
    .execute(conn)
    .await?;
    Ok(())
}

/// An insurance type enrolled in the scope that has no rates for the month.
pub async fn type_without_rates(
    conn: &mut PgConnection,
    region: &str,
    period: NaiveDate,
    payer: Option<&Payer>,
) -> Result<Option<InsuranceType>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT e.insurance_type FROM enrolments e
         WHERE e.region_code = $1 AND e.start_period <= $2
           AND (e.end_period IS NULL OR e.end_period >= $2) AND ($3::text IS NULL OR e.payer = $3)
           AND NOT EXISTS (SELECT 1 FROM run_rates r WHERE r.region_code = $1 AND r.period = $2
                           AND r.insurance_type = e.insurance_type)
         LIMIT 1",
    )
    .bind(region)
    .bind(period)
    .bind(payer)
    .fetch_optional(conn)
    .await
}

/// Splits the enrolments in scope into about `chunk` each: returns the
/// upper bound (inclusive) of each chunk's enrolment ids, and the count.
pub async fn chunk_bounds(
    conn: &mut PgConnection,
    region: &str,
    period: NaiveDate,
    payer: Option<&Payer>,
    chunk: i64,
) -> Result<(Vec<Uuid>, i64), sqlx::Error> {
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM enrolments e
         WHERE e.region_code = $1 AND e.start_period <= $2
           AND (e.end_period IS NULL OR e.end_period >= $2) AND ($3::text IS NULL OR e.payer = $3)",
    )
    .bind(region)
    .bind(period)
    .bind(payer)
    .fetch_one(&mut *conn)
    .await?;
    let chunks = ((total + chunk - 1) / chunk).max(1);
    let bounds = sqlx::query_scalar(
        // Postgres has no max(uuid); the canonical text form sorts the same.
        "SELECT max(enrolment_id::text)::uuid FROM (
             SELECT enrolment_id, ntile($4) OVER (ORDER BY enrolment_id) AS t FROM enrolments e
             WHERE e.region_code = $1 AND e.start_period <= $2
               AND (e.end_period IS NULL OR e.end_period >= $2) AND ($3::text IS NULL OR e.payer = $3)
         ) s GROUP BY t ORDER BY 1",
    )
    .bind(region)
    .bind(period)
    .bind(payer)
    .bind(chunks as i32)
    .fetch_all(conn)
    .await?;
    Ok((bounds, total))
}

/// What one chunk of a run wrote.
#[derive(Clone, Copy, Debug, Default, sqlx::FromRow)]
pub struct Written {
    pub entries: i64,
    pub adjustments: i64,
    #[sqlx(rename = "total_fen")]
    pub total: Money,
}

/// Computes every part of every enrolment with id in `(after, upto]` for the
/// month and books the difference from what is already booked: the whole
/// amount the first time, an adjustment after a wage correction, nothing on
/// a plain rerun. The base is the month's declared wage (or, undeclared, the
/// floor) clamped to floor and ceiling; each part is rounded separately.
#[allow(clippy::too_many_arguments)]
pub async fn run_chunk(
    conn: &mut PgConnection,
    region: &str,
    period: NaiveDate,
    payer: Option<&Payer>,
    after: Option<Uuid>,
    upto: Uuid,
    request_id: &str,
    at: DateTime<Utc>,
) -> Result<Written, sqlx::Error> {
    sqlx::query_as(
        "WITH scope AS (
             SELECT e.enrolment_id, e.person_id, e.region_code, e.insurance_type, e.scheme, e.payer,
                 t.employer_rate_bp, t.employee_rate_bp, t.flexible_rate_bp,
                 t.flexible_individual_bp, t.rounding,
                 LEAST(GREATEST(COALESCE(w.wage_fen, 0), t.average_wage_fen * t.floor_percent / 100),
                       t.average_wage_fen * t.ceiling_percent / 100) AS base_fen
             FROM enrolments e
             JOIN run_rates r ON r.region_code = e.region_code AND r.period = $2
                 AND r.insurance_type = e.insurance_type
             JOIN rate_tables t ON t.region_code = r.region_code
                 AND t.insurance_type = r.insurance_type
                 AND t.year = extract(year FROM $2::date)::int AND t.version = r.version
             LEFT JOIN current_wages w ON w.person_id = e.person_id AND w.period = $2
             WHERE e.region_code = $1 AND e.start_period <= $2
               AND (e.end_period IS NULL OR e.end_period >= $2)
               AND ($3::text IS NULL OR e.payer = $3)
               AND ($4::uuid IS NULL OR e.enrolment_id > $4) AND e.enrolment_id <= $5
         ),
         parts AS (
             SELECT s.*, p.part, p.account, p.rate_bp
             FROM scope s CROSS JOIN LATERAL (VALUES
                 ('EMPLOYER', 'POOLING_FUND',
                     CASE WHEN s.scheme <> 'FLEXIBLE' THEN s.employer_rate_bp END),
                 ('EMPLOYEE', 'INDIVIDUAL_ACCOUNT',
                     CASE WHEN s.scheme <> 'FLEXIBLE' THEN s.employee_rate_bp END),
                 ('FLEXIBLE_POOLING', 'POOLING_FUND',
                     CASE WHEN s.scheme = 'FLEXIBLE' THEN s.flexible_rate_bp - s.flexible_individual_bp END),
                 ('FLEXIBLE_INDIVIDUAL', 'INDIVIDUAL_ACCOUNT',
                     CASE WHEN s.scheme = 'FLEXIBLE' THEN s.flexible_individual_bp END)
             ) AS p(part, account, rate_bp)
             WHERE p.rate_bp > 0
         ),
         booked AS MATERIALIZED (
             SELECT l.enrolment_id, l.part, sum(l.amount_fen) AS amount_fen
             FROM ledger_entries l
             WHERE l.period = $2 AND l.region_code = $1
               AND ($4::uuid IS NULL OR l.enrolment_id > $4) AND l.enrolment_id <= $5
             GROUP BY l.enrolment_id, l.part
         ),
         computed AS (
             SELECT p.*, round_fen(p.base_fen * p.rate_bp, 10000, p.rounding) AS due_fen,
                 b.amount_fen AS booked_fen
             FROM parts p LEFT JOIN booked b ON b.enrolment_id = p.enrolment_id AND b.part = p.part
         ),
         written AS (
             INSERT INTO ledger_entries (person_id, enrolment_id, region_code, period,
                 insurance_type, part, account, payer, base_fen, rate_bp, amount_fen, kind,
                 run_request_id, created_at)
             SELECT person_id, enrolment_id, region_code, $2, insurance_type, part, account, payer,
                 base_fen, rate_bp, due_fen - COALESCE(booked_fen, 0),
                 CASE WHEN booked_fen IS NULL THEN 'CONTRIBUTION' ELSE 'ADJUSTMENT' END, $6, $7
             FROM computed WHERE due_fen <> COALESCE(booked_fen, 0)
             RETURNING kind, amount_fen
         )
         SELECT count(*) AS entries, count(*) FILTER (WHERE kind = 'ADJUSTMENT') AS adjustments,
             COALESCE(sum(amount_fen), 0)::bigint AS total_fen
         FROM written",
    )
    .bind(region)
    .bind(period)
    .bind(payer)
    .bind(after)
    .bind(upto)
    .bind(request_id)
    .bind(at)
    .fetch_one(conn)
    .await
}

/// Books each agency contract's service fee for the month, once: for a
/// confirmed contract with an enrolment in the region in force that month
/// (none once the person's own enrolments have taken over).
pub async fn book_service_fees(
    conn: &mut PgConnection,
    region: &str,
    period: NaiveDate,
    payer: Option<&Payer>,
    request_id: &str,
    at: DateTime<Utc>,
) -> Result<Written, sqlx::Error> {
    sqlx::query_as(
        "WITH written AS (
             INSERT INTO ledger_entries (person_id, contract_id, region_code, period, part, account,
                 payer, base_fen, rate_bp, amount_fen, kind, run_request_id, created_at)
             SELECT c.person_id, c.contract_id, $1, $2, 'SERVICE_FEE', 'SERVICE_FEE',
                 'hr_agency:' || c.agency_code, 0, 0, c.service_fee_fen, 'FEE', $4, $5
             FROM agency_contracts c
             WHERE c.start_period <= $2 AND c.end_period >= $2 AND c.confirmed_at IS NOT NULL
               AND c.service_fee_fen > 0
               AND ($3::text IS NULL OR 'hr_agency:' || c.agency_code = $3)
               AND EXISTS (SELECT 1 FROM enrolments e WHERE e.contract_id = c.contract_id
                           AND e.region_code = $1 AND e.start_period <= $2
                           AND (e.end_period IS NULL OR e.end_period >= $2))
               AND NOT EXISTS (SELECT 1 FROM ledger_entries l WHERE l.contract_id = c.contract_id
                               AND l.period = $2 AND l.kind = 'FEE')
             RETURNING amount_fen
         )
         SELECT count(*) AS entries, 0::bigint AS adjustments,
             COALESCE(sum(amount_fen), 0)::bigint AS total_fen
         FROM written",
    )
    .bind(region)
    .bind(period)
    .bind(payer)
    .bind(request_id)
    .bind(at)
    .fetch_one(conn)
    .await
}

//! All of contribution's SQL. The monthly run is set-based: a constant
//! number of statements per chunk of enrolments, whatever its size.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

// ---- agency contracts ----

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ContractRow {
    pub contract_id: Uuid,
    pub agency_code: String,
    pub person_id: Uuid,
    pub service_fee_fen: i64,
    pub start_period: NaiveDate,
    pub end_period: Option<NaiveDate>,
}

pub async fn insert_contract(
    conn: &mut PgConnection,
    c: &ContractRow,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO agency_contracts (contract_id, agency_code, person_id, service_fee_fen,
             start_period, end_period, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(c.contract_id)
    .bind(&c.agency_code)
    .bind(c.person_id)
    .bind(c.service_fee_fen)
    .bind(c.start_period)
    .bind(c.end_period)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn contract(
    executor: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<ContractRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT contract_id, agency_code, person_id, service_fee_fen, start_period, end_period
         FROM agency_contracts WHERE contract_id = $1",
    )
    .bind(id)
    .fetch_optional(executor)
    .await
}

/// Whether `agency` has (had) a contract with the person.
pub async fn is_agency_client(
    executor: impl PgExecutor<'_>,
    agency: &str,
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

/// Whether every month in `months` (first days) is covered by an enrolment
/// of the person with `payer` as payer.
pub async fn payer_covers(
    executor: impl PgExecutor<'_>,
    payer: &str,
    person_id: Uuid,
    months: &[NaiveDate],
) -> Result<bool, sqlx::Error> {
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

/// Whether the person is (was) enrolled with `payer` as payer.
pub async fn is_payer_of(
    executor: impl PgExecutor<'_>,
    payer: &str,
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
    types: &[&str],
    start: NaiveDate,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT insurance_type FROM enrolments
         WHERE person_id = $1 AND insurance_type = ANY($2)
           AND (end_period IS NULL OR end_period >= $3)",
    )
    .bind(person_id)
    .bind(types)
    .bind(start)
    .fetch_all(executor)
    .await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EnrolmentRow {
    pub enrolment_id: Uuid,
    pub person_id: Uuid,
    pub region_code: String,
    pub insurance_type: String,
    pub scheme: String,
    pub employer_code: Option<String>,
    pub contract_id: Option<Uuid>,
    pub payer: String,
    pub start_period: NaiveDate,
    pub channel: String,
}

pub async fn insert_enrolments(
    conn: &mut PgConnection,
    rows: &[EnrolmentRow],
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
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
            .map(|r| r.region_code.clone())
            .collect::<Vec<_>>(),
    )
    .bind(
        rows.iter()
            .map(|r| r.insurance_type.clone())
            .collect::<Vec<_>>(),
    )
    .bind(rows.iter().map(|r| r.scheme.clone()).collect::<Vec<_>>())
    .bind(
        rows.iter()
            .map(|r| r.employer_code.clone())
            .collect::<Vec<_>>(),
    )
    .bind(rows.iter().map(|r| r.contract_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.payer.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.start_period).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.channel.clone()).collect::<Vec<_>>())
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn first_enrolment_start(
    executor: impl PgExecutor<'_>,
    person_id: Uuid,
) -> Result<Option<NaiveDate>, sqlx::Error> {
    sqlx::query_scalar("SELECT min(start_period) FROM enrolments WHERE person_id = $1")
        .bind(person_id)
        .fetch_one(executor)
        .await
}

// ---- rate tables ----

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RateRow {
    pub region_code: String,
    pub insurance_type: String,
    pub year: i32,
    pub version: i32,
    pub employer_rate_bp: i32,
    pub employee_rate_bp: i32,
    pub flexible_rate_bp: i32,
    pub flexible_individual_bp: i32,
    pub average_wage_fen: i64,
    pub floor_percent: i32,
    pub ceiling_percent: i32,
    pub rounding: String,
    pub due_day_of_next_month: i32,
}

macro_rules! rate_columns {
    () => {
        "region_code, insurance_type, year, version, employer_rate_bp, employee_rate_bp, \
         flexible_rate_bp, flexible_individual_bp, average_wage_fen, floor_percent, \
         ceiling_percent, rounding, due_day_of_next_month"
    };
}

/// Adds the next version of a table.
pub async fn insert_rate_table(
    conn: &mut PgConnection,
    t: &RateRow,
    at: DateTime<Utc>,
) -> Result<RateRow, sqlx::Error> {
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtextextended('rates:' || $1 || $2 || $3::text, 0))",
    )
    .bind(&t.region_code)
    .bind(&t.insurance_type)
    .bind(t.year)
    .execute(&mut *conn)
    .await?;
    sqlx::query_as(concat!(
        "INSERT INTO rate_tables (", rate_columns!(), ", created_at)
         SELECT $1, $2, $3, COALESCE(max(version), 0) + 1, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13
         FROM rate_tables WHERE region_code = $1 AND insurance_type = $2 AND year = $3
         RETURNING ", rate_columns!()
    ))
    .bind(&t.region_code)
    .bind(&t.insurance_type)
    .bind(t.year)
    .bind(t.employer_rate_bp)
    .bind(t.employee_rate_bp)
    .bind(t.flexible_rate_bp)
    .bind(t.flexible_individual_bp)
    .bind(t.average_wage_fen)
    .bind(t.floor_percent)
    .bind(t.ceiling_percent)
    .bind(&t.rounding)
    .bind(t.due_day_of_next_month)
    .bind(at)
    .fetch_one(conn)
    .await
}

pub async fn latest_rate_table(
    executor: impl PgExecutor<'_>,
    region: &str,
    insurance_type: &str,
    year: i32,
) -> Result<Option<RateRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        rate_columns!(),
        " FROM rate_tables
         WHERE region_code = $1 AND insurance_type = $2 AND year = $3
         ORDER BY version DESC LIMIT 1"
    ))
    .bind(region)
    .bind(insurance_type)
    .bind(year)
    .fetch_optional(executor)
    .await
}

/// Rounding and due day of a region's bills in a year: from its latest
/// old-age table (or, without one, its first table by type).
pub async fn bill_terms(
    executor: impl PgExecutor<'_>,
    region: &str,
    year: i32,
) -> Result<Option<(String, i32)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT rounding, due_day_of_next_month FROM rate_tables
         WHERE region_code = $1 AND year = $2
         ORDER BY insurance_type <> 'OLD_AGE', insurance_type, version DESC LIMIT 1",
    )
    .bind(region)
    .bind(year)
    .fetch_optional(executor)
    .await
}

pub async fn region_known(
    executor: impl PgExecutor<'_>,
    region: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM rate_tables WHERE region_code = $1)")
        .bind(region)
        .fetch_one(executor)
        .await
}

// ---- wages ----

/// Declares `wage` for each of `periods`; returns whether any month already
/// had a declaration (so this is a correction).
pub async fn declare_wages(
    conn: &mut PgConnection,
    person_id: Uuid,
    periods: &[NaiveDate],
    wage: i64,
    by: &str,
    at: DateTime<Utc>,
    request_id: &str,
) -> Result<bool, sqlx::Error> {
    let corrected: bool = sqlx::query_scalar(
        "WITH d AS (
             INSERT INTO wage_declarations (person_id, period, version, wage_fen, declared_by,
                 declared_at, request_id)
             SELECT $1, p, COALESCE((SELECT max(version) FROM wage_declarations w
                     WHERE w.person_id = $1 AND w.period = p), 0) + 1, $3, $4, $5, $6
             FROM UNNEST($2::date[]) AS u(p)
             RETURNING version)
         SELECT COALESCE(bool_or(version > 1), false) FROM d",
    )
    .bind(person_id)
    .bind(periods)
    .bind(wage)
    .bind(by)
    .bind(at)
    .bind(request_id)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO current_wages (person_id, period, wage_fen)
         SELECT $1, p, $3 FROM UNNEST($2::date[]) AS u(p)
         ON CONFLICT (person_id, period) DO UPDATE SET wage_fen = $3",
    )
    .bind(person_id)
    .bind(periods)
    .bind(wage)
    .execute(conn)
    .await?;
    Ok(corrected)
}

// ---- the monthly run ----

/// One run at a time per region and month. The run's statements each touch
/// every enrolment of a chunk: nested loops are never the right plan for
/// them, and on freshly loaded tables (no statistics yet) the planner has
/// been seen to pick one and take a minute instead of a second, so they are
/// off for the run's transaction.
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
    payer: Option<&str>,
) -> Result<Option<String>, sqlx::Error> {
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
    payer: Option<&str>,
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
    pub total_fen: i64,
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
    payer: Option<&str>,
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

/// Books each agency contract's service fee for the month, once.
pub async fn book_service_fees(
    conn: &mut PgConnection,
    region: &str,
    period: NaiveDate,
    payer: Option<&str>,
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
             WHERE c.start_period <= $2 AND (c.end_period IS NULL OR c.end_period >= $2)
               AND c.service_fee_fen > 0
               AND ($3::text IS NULL OR 'hr_agency:' || c.agency_code = $3)
               AND EXISTS (SELECT 1 FROM enrolments e WHERE e.contract_id = c.contract_id
                           AND e.region_code = $1)
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

// ---- bills and payments ----

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct BillSums {
    pub contributions_fen: i64,
    pub fees_fen: i64,
    pub region_code: Option<String>,
}

pub async fn bill_sums(
    executor: impl PgExecutor<'_>,
    payer: &str,
    period: NaiveDate,
) -> Result<BillSums, sqlx::Error> {
    sqlx::query_as(
        "SELECT COALESCE(sum(amount_fen) FILTER (WHERE kind <> 'FEE'), 0)::bigint AS contributions_fen,
             COALESCE(sum(amount_fen) FILTER (WHERE kind = 'FEE'), 0)::bigint AS fees_fen,
             min(region_code) AS region_code
         FROM ledger_entries WHERE payer = $1 AND period = $2",
    )
    .bind(payer)
    .bind(period)
    .fetch_one(executor)
    .await
}

pub async fn payments(
    executor: impl PgExecutor<'_>,
    payer: &str,
    period: NaiveDate,
) -> Result<Vec<(NaiveDate, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT paid_on, amount_fen FROM payments WHERE payer = $1 AND period = $2 ORDER BY paid_on, payment_id")
        .bind(payer)
        .bind(period)
        .fetch_all(executor)
        .await
}

/// Serialises payments of one bill.
pub async fn lock_bill(
    conn: &mut PgConnection,
    payer: &str,
    period: NaiveDate,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('bill:' || $1 || $2::text, 0))")
        .bind(payer)
        .bind(period)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn insert_payment(
    conn: &mut PgConnection,
    payer: &str,
    period: NaiveDate,
    amount: i64,
    paid_on: NaiveDate,
    request_id: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO payments (payer, period, amount_fen, paid_on, request_id, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(payer)
    .bind(period)
    .bind(amount)
    .bind(paid_on)
    .bind(request_id)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// (payer, period) of a region with more booked than paid, in key order
/// after `after`, up to and including `before` (months that can be due).
pub async fn unpaid_bills(
    executor: impl PgExecutor<'_>,
    region: &str,
    before: NaiveDate,
    after: Option<(String, NaiveDate)>,
    limit: i64,
) -> Result<Vec<(String, NaiveDate)>, sqlx::Error> {
    let (after_payer, after_period) = after.unzip();
    sqlx::query_as(
        "SELECT l.payer, l.period FROM ledger_entries l
         WHERE l.region_code = $1 AND l.period <= $2
           AND ($3::text IS NULL OR (l.payer, l.period) > ($3, $4))
         GROUP BY l.payer, l.period
         HAVING sum(l.amount_fen) > COALESCE((SELECT sum(p.amount_fen) FROM payments p
                                             WHERE p.payer = l.payer AND p.period = l.period), 0)
         ORDER BY l.payer, l.period LIMIT $5",
    )
    .bind(region)
    .bind(before)
    .bind(after_payer)
    .bind(after_period)
    .bind(limit)
    .fetch_all(executor)
    .await
}

// ---- statements ----

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LineRow {
    pub period: NaiveDate,
    pub insurance_type: Option<String>,
    pub part: String,
    pub account: String,
    pub payer: String,
    pub base_fen: i64,
    pub rate_bp: i32,
    pub amount_fen: i64,
    pub paid: bool,
}

/// A person's statement lines for `[from, to]`, in order, after the page
/// key `(period, insurance_type, part)`.
/// A person's statement lines over `[from, to]` (only those paid by `payer`,
/// when given), after `after`, at most `limit`.
pub async fn statement_lines(
    executor: impl PgExecutor<'_>,
    person_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
    payer: Option<&str>,
    after: Option<(NaiveDate, String, String)>,
    limit: i64,
) -> Result<Vec<LineRow>, sqlx::Error> {
    let (after_period, after_type, after_part) = match after {
        Some((p, t, part)) => (Some(p), Some(t), Some(part)),
        None => (None, None, None),
    };
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
                  WHERE p.payer = b.payer AND p.period = b.period)
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
    .bind(person_id)
    .bind(from)
    .bind(to)
    .bind(after_period)
    .bind(after_type)
    .bind(after_part)
    .bind(limit)
    .bind(payer)
    .fetch_all(executor)
    .await
}

/// Totals per account over `[from, to]`: (individual account, pooling fund).
pub async fn statement_totals(
    executor: impl PgExecutor<'_>,
    person_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
    payer: Option<&str>,
) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT COALESCE(sum(amount_fen) FILTER (WHERE account = 'INDIVIDUAL_ACCOUNT'), 0)::bigint,
             COALESCE(sum(amount_fen) FILTER (WHERE account = 'POOLING_FUND'), 0)::bigint
         FROM ledger_entries WHERE person_id = $1 AND period BETWEEN $2 AND $3
             AND ($4::text IS NULL OR payer = $4)",
    )
    .bind(person_id)
    .bind(from)
    .bind(to)
    .bind(payer)
    .fetch_one(executor)
    .await
}

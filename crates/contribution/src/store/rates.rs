//! Rate tables (every version kept) and wage declarations.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::{BillTerms, InsuranceType, Money, Period, RateTable, Rounding};

// ---- rate tables ----

#[derive(sqlx::FromRow)]
struct RateRow {
    region_code: String,
    insurance_type: InsuranceType,
    year: i32,
    version: i32,
    employer_rate_bp: i32,
    employee_rate_bp: i32,
    flexible_rate_bp: i32,
    flexible_individual_bp: i32,
    average_wage_fen: Money,
    floor_percent: i32,
    ceiling_percent: i32,
    rounding: Rounding,
    due_day_of_next_month: i32,
}

impl From<RateRow> for RateTable {
    fn from(r: RateRow) -> Self {
        Self {
            region_code: r.region_code,
            insurance_type: r.insurance_type,
            year: r.year,
            version: r.version,
            employer_rate_bp: r.employer_rate_bp,
            employee_rate_bp: r.employee_rate_bp,
            flexible_rate_bp: r.flexible_rate_bp,
            flexible_individual_rate_bp: r.flexible_individual_bp,
            average_monthly_wage: r.average_wage_fen,
            base_floor_percent: r.floor_percent,
            base_ceiling_percent: r.ceiling_percent,
            rounding: r.rounding,
            due_day_of_next_month: r.due_day_of_next_month,
        }
    }
}

macro_rules! rate_columns {
    () => {
        "region_code, insurance_type, year, version, employer_rate_bp, employee_rate_bp, \
         flexible_rate_bp, flexible_individual_bp, average_wage_fen, floor_percent, \
         ceiling_percent, rounding, due_day_of_next_month"
    };
}

/// Adds the next version of a table (`t.version` is ignored).
pub async fn insert_rate_table(
    conn: &mut PgConnection,
    t: &RateTable,
    at: DateTime<Utc>,
) -> Result<RateTable, sqlx::Error> {
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtextextended('rates:' || $1 || $2 || $3::text, 0))",
    )
    .bind(&t.region_code)
    .bind(t.insurance_type.as_str())
    .bind(t.year)
    .execute(&mut *conn)
    .await?;
    let row: RateRow = sqlx::query_as(concat!(
        "INSERT INTO rate_tables (", rate_columns!(), ", created_at)
         SELECT $1, $2, $3, COALESCE(max(version), 0) + 1, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13
         FROM rate_tables WHERE region_code = $1 AND insurance_type = $2 AND year = $3
         RETURNING ", rate_columns!()
    ))
    .bind(&t.region_code)
    .bind(t.insurance_type.as_str())
    .bind(t.year)
    .bind(t.employer_rate_bp)
    .bind(t.employee_rate_bp)
    .bind(t.flexible_rate_bp)
    .bind(t.flexible_individual_rate_bp)
    .bind(t.average_monthly_wage)
    .bind(t.base_floor_percent)
    .bind(t.base_ceiling_percent)
    .bind(t.rounding.as_str())
    .bind(t.due_day_of_next_month)
    .bind(at)
    .fetch_one(conn)
    .await?;
    Ok(row.into())
}

pub async fn latest_rate_table(
    executor: impl PgExecutor<'_>,
    region: &str,
    insurance_type: InsuranceType,
    year: i32,
) -> Result<Option<RateTable>, sqlx::Error> {
    let row: Option<RateRow> = sqlx::query_as(concat!(
        "SELECT ",
        rate_columns!(),
        " FROM rate_tables
         WHERE region_code = $1 AND insurance_type = $2 AND year = $3
         ORDER BY version DESC LIMIT 1"
    ))
    .bind(region)
    .bind(insurance_type.as_str())
    .bind(year)
    .fetch_optional(executor)
    .await?;
    Ok(row.map(RateTable::from))
}

/// Rounding and due day of a region's bills in a year: from its latest
/// old-age table (or, without one, its first table by type).
pub async fn bill_terms(
    executor: impl PgExecutor<'_>,
    region: &str,
    year: i32,
) -> Result<Option<BillTerms>, sqlx::Error> {
    let terms: Option<(Rounding, i32)> = sqlx::query_as(
        "SELECT rounding, due_day_of_next_month FROM rate_tables
         WHERE region_code = $1 AND year = $2
         ORDER BY insurance_type <> 'OLD_AGE', insurance_type, version DESC LIMIT 1",
    )
    .bind(region)
    .bind(year)
    .fetch_optional(executor)
    .await?;
    Ok(terms.map(|(rounding, due_day)| BillTerms {
        rounding,
        // The table's CHECK keeps it within 0 to 28.
        due_day_of_next_month: u32::try_from(due_day).unwrap_or(0),
    }))
}

/// Whether the region has any rate table. Tables are never deleted, so a
/// region once known stays known.
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
    periods: &[Period],
    wage: Money,
    by: &str,
    at: DateTime<Utc>,
    request_id: &str,
) -> Result<bool, sqlx::Error> {
    let periods: Vec<NaiveDate> = periods.iter().map(|p| p.first_day()).collect();
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
    .bind(&periods)
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
    .bind(&periods)
    .bind(wage)
    .execute(conn)
    .await?;
    Ok(corrected)
}

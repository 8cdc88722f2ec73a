//! The partner registry.

use chrono::{DateTime, Utc};
use pii::{CreditCode, PartnerCode, RegionCode};
use sqlx::{PgConnection, PgExecutor};

use crate::domain::{NewPartner, PartnerKind};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PartnerRow {
    pub code: PartnerCode,
    pub kind: PartnerKind,
    pub name: String,
    pub region_code: RegionCode,
    pub parent_code: Option<PartnerCode>,
    pub credit_code: Option<CreditCode>,
    pub designation_in_force: bool,
    pub collects_contributions: bool,
    pub updated_at: DateTime<Utc>,
}

const PARTNER_COLUMNS: &str =
    "code, kind, name, region_code, parent_code, credit_code, designation_in_force, updated_at,
     collects_contributions";

/// Registers the partner; `None` if its code or credit code is already
/// registered (an expected conflict, so not an error of the statement:
/// Postgres would log the conflicting key).
pub async fn insert_partner(
    conn: &mut PgConnection,
    partner: &NewPartner,
    at: DateTime<Utc>,
) -> Result<Option<PartnerRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO partners (code, kind, name, region_code, parent_code, credit_code,
             designation_in_force, created_at, updated_at, collects_contributions)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)
         ON CONFLICT DO NOTHING
         RETURNING {PARTNER_COLUMNS}"
    )))
    .bind(&partner.code)
    .bind(partner.kind)
    .bind(&partner.name)
    .bind(&partner.region_code)
    .bind(&partner.parent_code)
    .bind(&partner.credit_code)
    .bind(partner.designation_in_force)
    .bind(at)
    .bind(partner.collects_contributions)
    .fetch_optional(conn)
    .await
}

/// The partner registered under `code` (any text: a certificate's code is
/// looked up as given).
pub async fn partner_by_code(
    executor: impl PgExecutor<'_>,
    code: &str,
) -> Result<Option<PartnerRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PARTNER_COLUMNS} FROM partners WHERE code = $1"
    )))
    .bind(code)
    .fetch_optional(executor)
    .await
}

/// Sets the designation, and a bank's collecting designation when
/// `collects` is given (a non-bank's stays false: the caller checks).
pub async fn set_designation(
    conn: &mut PgConnection,
    code: &PartnerCode,
    in_force: bool,
    collects: Option<bool>,
    at: DateTime<Utc>,
) -> Result<Option<PartnerRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE partners SET designation_in_force = $2, updated_at = $3,
             collects_contributions = CASE WHEN kind = 'bank'
                 THEN COALESCE($4, collects_contributions) ELSE false END
         WHERE code = $1
         RETURNING {PARTNER_COLUMNS}"
    )))
    .bind(code)
    .bind(in_force)
    .bind(at)
    .bind(collects)
    .fetch_optional(conn)
    .await
}

/// Partners ordered by code, after `after`, optionally of one kind.
pub async fn list_partners(
    executor: impl PgExecutor<'_>,
    kind: Option<PartnerKind>,
    after: &str,
    limit: i64,
) -> Result<Vec<PartnerRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PARTNER_COLUMNS} FROM partners
         WHERE code > $1 AND ($2::text IS NULL OR kind = $2)
         ORDER BY code LIMIT $3"
    )))
    .bind(after)
    .bind(kind)
    .bind(limit)
    .fetch_all(executor)
    .await
}

//! Applications for a card.

use chrono::{DateTime, Utc};
use pii::{CardNumber, PartnerCode, RegionCode};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{ApplicationStatus, CardStatus};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ApplicationRow {
    pub application_id: Uuid,
    pub person_id: Uuid,
    pub bank_code: PartnerCode,
    pub issuing_region_code: RegionCode,
    pub status: ApplicationStatus,
    pub applied_at: DateTime<Utc>,
    pub card_number: Option<CardNumber>,
}

macro_rules! application_columns {
    () => {
        "application_id, person_id, bank_code, issuing_region_code, status, applied_at, \
         card_number"
    };
}

pub struct NewApplication<'a> {
    pub application_id: Uuid,
    pub person_id: Uuid,
    pub bank_code: &'a PartnerCode,
    pub issuing_region_code: &'a str,
    pub at: DateTime<Utc>,
    pub by: &'a str,
}

/// Records the application; `None` if the person already has a pending one
/// (the unique index `applications_one_pending`). The conflict is expected,
/// so the statement does not fail on it (Postgres would log the key).
pub async fn insert_application(
    conn: &mut PgConnection,
    new: &NewApplication<'_>,
) -> Result<Option<ApplicationRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "INSERT INTO applications (application_id, person_id, bank_code, issuing_region_code,
             status, applied_at, applied_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT DO NOTHING
         RETURNING ",
        application_columns!()
    ))
    .bind(new.application_id)
    .bind(new.person_id)
    .bind(new.bank_code)
    .bind(new.issuing_region_code)
    .bind(ApplicationStatus::Pending)
    .bind(new.at)
    .bind(new.by)
    .fetch_optional(conn)
    .await
}

/// The application, locked for issuing.
pub async fn lock_application(
    conn: &mut PgConnection,
    application_id: Uuid,
) -> Result<Option<ApplicationRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        application_columns!(),
        " FROM applications WHERE application_id = $1 FOR UPDATE"
    ))
    .bind(application_id)
    .fetch_optional(conn)
    .await
}

/// A bank's pending applications, oldest first, locked; applications another
/// batch holds are skipped rather than waited for.
pub async fn lock_pending_for_bank(
    conn: &mut PgConnection,
    bank_code: &PartnerCode,
    limit: i64,
) -> Result<Vec<ApplicationRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        application_columns!(),
        " FROM applications WHERE bank_code = $1 AND status = $3
         ORDER BY applied_at, application_id LIMIT $2
         FOR UPDATE SKIP LOCKED"
    ))
    .bind(bank_code)
    .bind(limit)
    .bind(ApplicationStatus::Pending)
    .fetch_all(conn)
    .await
}

/// Whether the person holds a card that can still be used.
pub async fn has_usable_card(
    conn: &mut PgConnection,
    person_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let usable: Vec<&str> = CardStatus::USABLE.iter().map(|s| s.as_str()).collect();
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM cards WHERE person_id = $1 AND status = ANY($2))",
    )
    .bind(person_id)
    .bind(usable)
    .fetch_one(conn)
    .await
}

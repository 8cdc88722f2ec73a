//! Old medical insurance cards.

use chrono::{DateTime, Utc};
use pii::{CardNumber, RegionCode};
use platform::audit::{self, Access};
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

use super::ReadBy;
use crate::domain::{LegacyCardNumber, LegacyCardStatus};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LegacyCardRow {
    pub card_number: LegacyCardNumber,
    pub person_id: Uuid,
    pub region_code: RegionCode,
    pub status: LegacyCardStatus,
    pub registered_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

macro_rules! legacy_columns {
    () => {
        "card_number, person_id, region_code, status, registered_at, retired_at"
    };
}

/// Registers an old card; `None` if its number is already registered. The
/// conflict is expected, so the statement does not fail on it: Postgres
/// would log the key, and an old card number may be an ID number.
pub async fn insert_legacy_card(
    conn: &mut PgConnection,
    card_number: &LegacyCardNumber,
    person_id: Uuid,
    region_code: &RegionCode,
    at: DateTime<Utc>,
) -> Result<Option<LegacyCardRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "INSERT INTO legacy_medical_cards (card_number, person_id, region_code, status,
             registered_at)
         VALUES ($1, $2, $3, $5, $4)
         ON CONFLICT DO NOTHING
         RETURNING ",
        legacy_columns!()
    ))
    .bind(card_number)
    .bind(person_id)
    .bind(region_code)
    .bind(at)
    .bind(LegacyCardStatus::Active)
    .fetch_optional(conn)
    .await
}

async fn legacy_card(
    executor: impl PgExecutor<'_>,
    card_number: &LegacyCardNumber,
    lock: bool,
) -> Result<Option<LegacyCardRow>, sqlx::Error> {
    let sql = if lock {
        concat!(
            "SELECT ",
            legacy_columns!(),
            " FROM legacy_medical_cards WHERE card_number = $1 FOR UPDATE"
        )
    } else {
        concat!(
            "SELECT ",
            legacy_columns!(),
            " FROM legacy_medical_cards WHERE card_number = $1"
        )
    };
    sqlx::query_as(sql)
        .bind(card_number)
        .fetch_optional(executor)
        .await
}

/// The old card, locked until the end of the transaction.
pub async fn lock_legacy_card(
    conn: &mut PgConnection,
    card_number: &LegacyCardNumber,
) -> Result<Option<LegacyCardRow>, sqlx::Error> {
    legacy_card(conn, card_number, true).await
}

/// The old card, read and (when found) audited as `read` in one transaction.
pub async fn read_legacy_card(
    pool: &PgPool,
    card_number: &LegacyCardNumber,
    read: ReadBy<'_>,
) -> Result<Option<LegacyCardRow>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let row = legacy_card(&mut *tx, card_number, false).await?;
    if let Some(row) = &row {
        let subject = row.person_id.to_string();
        audit::record(&mut tx, read.caller, read.rpc, Access::Read, &subject, None).await?;
    }
    tx.commit().await?;
    Ok(row)
}

pub async fn retire_legacy_card(
    conn: &mut PgConnection,
    card_number: &LegacyCardNumber,
    replaced_by: &CardNumber,
    at: DateTime<Utc>,
) -> Result<LegacyCardRow, sqlx::Error> {
    sqlx::query_as(concat!(
        "UPDATE legacy_medical_cards SET status = $4, retired_at = $3,
             replaced_by_card_number = $2
         WHERE card_number = $1 RETURNING ",
        legacy_columns!()
    ))
    .bind(card_number)
    .bind(replaced_by)
    .bind(at)
    .bind(LegacyCardStatus::Retired)
    .fetch_one(conn)
    .await
}

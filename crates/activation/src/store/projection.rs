//! The projections of other services' state (cards and old cards from
//! card-issuance, partners from identity) and where each stream was last
//! applied.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use pii::{BankCardNumber, CardIdentificationCode, CardNumber, SerialNumber};
use socsec_core::{CallerKind, Registration};
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

use crate::domain::{CardState, LegacyStatus, Partner};

/// Applies one event of a stream within the batch's transaction.
pub type Apply<E> = for<'c> fn(&'c mut PgConnection, E) -> BoxFuture<'c, Result<(), sqlx::Error>>;

/// Applies a batch of `stream`'s events and, if given, the cursor of the
/// last one, in one transaction: a restart resumes exactly after the last
/// batch applied, and redelivery of a batch that did not commit is harmless.
pub async fn apply_events<E: Clone>(
    pool: &PgPool,
    stream: &str,
    events: &[E],
    cursor: Option<&str>,
    apply: Apply<E>,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for event in events {
        apply(&mut tx, event.clone()).await?;
    }
    if let Some(cursor) = cursor {
        save_cursor(&mut tx, stream, cursor).await?;
    }
    tx.commit().await
}

pub async fn cursor(executor: impl PgExecutor<'_>, stream: &str) -> Result<String, sqlx::Error> {
    let cursor: Option<String> =
        sqlx::query_scalar("SELECT cursor FROM projection_cursors WHERE stream = $1")
            .bind(stream)
            .fetch_optional(executor)
            .await?;
    Ok(cursor.unwrap_or_default())
}

async fn save_cursor(
    conn: &mut PgConnection,
    stream: &str,
    cursor: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO projection_cursors (stream, cursor) VALUES ($1, $2)
         ON CONFLICT (stream) DO UPDATE SET cursor = $2, updated_at = now()",
    )
    .bind(stream)
    .bind(cursor)
    .execute(conn)
    .await?;
    Ok(())
}

pub struct ProjectedCard {
    pub card_number: CardNumber,
    pub card_identification_code: CardIdentificationCode,
    pub serial_number: SerialNumber,
    pub person_id: Uuid,
    pub bank_code: String,
    pub bank_card_number: BankCardNumber,
    pub issuing_region_code: String,
    pub status: CardState,
    pub received_at: Option<DateTime<Utc>>,
}

pub async fn upsert_card(conn: &mut PgConnection, card: &ProjectedCard) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO cards (card_number, card_identification_code, serial_number, person_id,
             bank_code, bank_card_number, issuing_region_code, status, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (card_number) DO UPDATE SET status = $8, received_at = $9",
    )
    .bind(&card.card_number)
    .bind(&card.card_identification_code)
    .bind(&card.serial_number)
    .bind(card.person_id)
    .bind(&card.bank_code)
    .bind(&card.bank_card_number)
    .bind(&card.issuing_region_code)
    .bind(card.status)
    .bind(card.received_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_card_status(
    conn: &mut PgConnection,
    card_number: &str,
    status: CardState,
    received_at: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE cards SET status = $2, received_at = COALESCE($3, received_at) WHERE card_number = $1",
    )
    .bind(card_number)
    .bind(status)
    .bind(received_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn upsert_legacy_card(
    conn: &mut PgConnection,
    card_number: &str,
    person_id: Uuid,
    status: LegacyStatus,
) -> Result<(), sqlx::Error> {
    // A retirement this service made stays, whatever order events come in.
    sqlx::query(
        "INSERT INTO legacy_cards (card_number, person_id, status) VALUES ($1, $2, $3)
         ON CONFLICT (card_number) DO UPDATE SET status =
             CASE WHEN legacy_cards.status = 'RETIRED' THEN 'RETIRED' ELSE $3 END",
    )
    .bind(card_number)
    .bind(person_id)
    .bind(status)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct PartnerRow {
    code: String,
    kind: String,
    parent_code: Option<String>,
    designation_in_force: bool,
}

impl TryFrom<PartnerRow> for Partner {
    type Error = sqlx::Error;

    fn try_from(row: PartnerRow) -> Result<Self, sqlx::Error> {
        let kind = CallerKind::parse(&row.kind)
            .filter(|k| k.is_partner())
            .ok_or_else(|| {
                sqlx::Error::Decode(format!("unknown partner kind {:?}", row.kind).into())
            })?;
        Ok(Partner {
            code: row.code,
            registration: Registration {
                kind,
                in_force: row.designation_in_force,
            },
            parent_code: row.parent_code,
        })
    }
}

pub async fn all_partners(executor: impl PgExecutor<'_>) -> Result<Vec<Partner>, sqlx::Error> {
    let rows: Vec<PartnerRow> =
        sqlx::query_as("SELECT code, kind, parent_code, designation_in_force FROM partners")
            .fetch_all(executor)
            .await?;
    rows.into_iter().map(Partner::try_from).collect()
}

pub async fn upsert_partner(conn: &mut PgConnection, partner: &Partner) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO partners (code, kind, parent_code, designation_in_force) VALUES ($1, $2, $3, $4)
         ON CONFLICT (code) DO UPDATE SET kind = $2, parent_code = $3, designation_in_force = $4",
    )
    .bind(&partner.code)
    .bind(partner.registration.kind.as_str())
    .bind(&partner.parent_code)
    .bind(partner.registration.in_force)
    .execute(conn)
    .await?;
    Ok(())
}

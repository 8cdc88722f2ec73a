//! The projections of other services' state (cards and old cards from
//! card-issuance, partners from identity) and where each stream was last
//! applied (and caught up to).

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use pii::{BankCardNumber, CardIdentificationCode, CardNumber, SerialNumber};
use socsec_core::{CallerKind, Registration};
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

use crate::domain::{CardState, CodeDigest, LegacyStatus, Partner};

/// Applies one event of a stream, published at a position, within the
/// batch's transaction.
pub type Apply<E> =
    for<'c> fn(&'c mut PgConnection, i64, E) -> BoxFuture<'c, Result<(), sqlx::Error>>;

/// Where a batch leaves its stream: the cursor (and position) of its last
/// message, and the instant of the last heartbeat at or before it (every
/// event the upstream committed before that instant is applied).
pub struct Progress {
    pub cursor: String,
    pub position: i64,
    pub caught_up_at: Option<DateTime<Utc>>,
}

/// Applies a batch of `stream`'s events (each with its position) and, if
/// given, where the batch leaves the stream, in one transaction: a restart
/// resumes exactly after the last batch applied, and redelivery of a batch
/// that did not commit is harmless. The cursor only moves forward.
pub async fn apply_events<E: Clone>(
    pool: &PgPool,
    stream: &str,
    events: &[(i64, E)],
    progress: Option<&Progress>,
    apply: Apply<E>,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for (position, event) in events {
        apply(&mut tx, *position, event.clone()).await?;
    }
    if let Some(progress) = progress {
        save_progress(&mut tx, stream, progress).await?;
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

/// The instant up to which `stream` is known to be applied (its last
/// heartbeat recorded), whichever instance applied it.
pub async fn caught_up_at(
    executor: impl PgExecutor<'_>,
    stream: &str,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let at: Option<Option<DateTime<Utc>>> =
        sqlx::query_scalar("SELECT caught_up_at FROM projection_cursors WHERE stream = $1")
            .bind(stream)
            .fetch_optional(executor)
            .await?;
    Ok(at.flatten())
}

/// Moves the stream's cursor forward (never back: another instance may
/// have gone further), with the instant it is caught up to, and tells every
/// instance at commit (`caught_up`).
async fn save_progress(
    conn: &mut PgConnection,
    stream: &str,
    progress: &Progress,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH saved AS (
             INSERT INTO projection_cursors (stream, cursor, position, caught_up_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (stream) DO UPDATE SET cursor = $2, position = $3,
                 caught_up_at = COALESCE($4, projection_cursors.caught_up_at), updated_at = now()
             WHERE projection_cursors.position <= $3
             RETURNING stream)
         SELECT pg_notify(current_schema() || '.projection', stream) FROM saved",
    )
    .bind(stream)
    .bind(&progress.cursor)
    .bind(progress.position)
    .bind(progress.caught_up_at)
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

/// The card as issued, unless an event at or after `position` changed it.
pub async fn upsert_card(
    conn: &mut PgConnection,
    card: &ProjectedCard,
    position: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO cards (card_number, identification_code_sha256, serial_number, person_id,
             bank_code, bank_card_number, issuing_region_code, status, received_at, position)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (card_number) DO UPDATE SET status = $8, received_at = $9, position = $10
         WHERE cards.position < $10",
    )
    .bind(&card.card_number)
    .bind(CodeDigest::of(&card.card_number, &card.card_identification_code).0)
    .bind(&card.serial_number)
    .bind(card.person_id)
    .bind(&card.bank_code)
    .bind(&card.bank_card_number)
    .bind(&card.issuing_region_code)
    .bind(card.status)
    .bind(card.received_at)
    .bind(position)
    .execute(conn)
    .await?;
    Ok(())
}

/// The partner an imported activation is recorded under (its operator id
/// is empty, its request id `import`).
pub const IMPORTED_PARTNER: &str = "IMPORT";

/// The activation an imported card came with, unless the card has one;
/// whether it was recorded now.
pub async fn record_imported_activation(
    conn: &mut PgConnection,
    card: &ProjectedCard,
    activation: crate::domain::Activation,
) -> Result<bool, sqlx::Error> {
    let recorded = sqlx::query(
        "INSERT INTO activations (card_number, person_id, channel, partner_code, operator_id,
             activated_at, request_id)
         VALUES ($1, $2, $3, $5, '', $4, 'import')
         ON CONFLICT (card_number) DO NOTHING",
    )
    .bind(&card.card_number)
    .bind(card.person_id)
    .bind(activation.channel.as_str())
    .bind(activation.at)
    .bind(IMPORTED_PARTNER)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(recorded == 1)
}

/// The card's new status, unless an event at or after `position` changed it.
pub async fn set_card_status(
    conn: &mut PgConnection,
    card_number: &str,
    status: CardState,
    received_at: Option<DateTime<Utc>>,
    position: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE cards SET status = $2, received_at = COALESCE($3, received_at), position = $4
         WHERE card_number = $1 AND position < $4",
    )
    .bind(card_number)
    .bind(status)
    .bind(received_at)
    .bind(position)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn upsert_legacy_card(
    conn: &mut PgConnection,
    card_number: &str,
    person_id: Uuid,
    status: LegacyStatus,
    position: i64,
) -> Result<(), sqlx::Error> {
    // A retirement this service made stays, whatever order events come in.
    sqlx::query(
        "INSERT INTO legacy_cards (card_number, person_id, status, position) VALUES ($1, $2, $3, $4)
         ON CONFLICT (card_number) DO UPDATE SET status =
             CASE WHEN legacy_cards.status = 'RETIRED' THEN 'RETIRED' ELSE $3 END, position = $4
         WHERE legacy_cards.position < $4",
    )
    .bind(card_number)
    .bind(person_id)
    .bind(status)
    .bind(position)
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
    position: i64,
}

impl PartnerRow {
    /// The partner and the position of the event that last changed it.
    fn into_partner(self) -> Result<(Partner, i64), sqlx::Error> {
        let row = self;
        let kind = CallerKind::parse(&row.kind)
            .filter(|k| k.is_partner())
            .ok_or_else(|| {
                sqlx::Error::Decode(format!("unknown partner kind {:?}", row.kind).into())
            })?;
        let partner = Partner {
            code: row.code,
            registration: Registration {
                kind,
                in_force: row.designation_in_force,
            },
            parent_code: row.parent_code,
        };
        Ok((partner, row.position))
    }
}

/// The partners whose rows changed at a position after `after` (every
/// partner for `-1`), each with that position, in position order.
pub async fn partners_after(
    executor: impl PgExecutor<'_>,
    after: i64,
) -> Result<Vec<(Partner, i64)>, sqlx::Error> {
    let rows: Vec<PartnerRow> = sqlx::query_as(
        "SELECT code, kind, parent_code, designation_in_force, position FROM partners
         WHERE position > $1 ORDER BY position",
    )
    .bind(after)
    .fetch_all(executor)
    .await?;
    rows.into_iter().map(PartnerRow::into_partner).collect()
}

/// The partner as published, unless an event at or after `position` changed it.
pub async fn upsert_partner(
    conn: &mut PgConnection,
    partner: &Partner,
    position: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO partners (code, kind, parent_code, designation_in_force, position)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (code) DO UPDATE SET kind = $2, parent_code = $3,
             designation_in_force = $4, position = $5
         WHERE partners.position < $5",
    )
    .bind(&partner.code)
    .bind(partner.registration.kind.as_str())
    .bind(&partner.parent_code)
    .bind(partner.registration.in_force)
    .bind(position)
    .execute(conn)
    .await?;
    Ok(())
}

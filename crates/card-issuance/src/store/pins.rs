//! Card PINs: the hash and the count of wrong PINs in a row.
//!
//! A check never holds a lock or a transaction while argon2 runs: it reads
//! the card and its PIN, verifies outside the database, then records the
//! outcome with one statement that applies only if the PIN is still as read
//! (same hash, same count). If a reset or another check came first, nothing
//! is written and the caller judges again.

use chrono::{DateTime, Utc};
use pii::{CardIdentificationCode, CardNumber};
use platform::{
    audit::{self, Access},
    auth::Caller,
};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::{CardStatus, PinRecord};

/// A card as a PIN check needs it, with its PIN if one is set.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PinCardRow {
    pub card_number: CardNumber,
    pub card_identification_code: CardIdentificationCode,
    pub person_id: Uuid,
    pub status: CardStatus,
    pub pin_hash: Option<String>,
    pub failed_attempts: Option<i32>,
    pub set_at: Option<DateTime<Utc>>,
}

impl PinCardRow {
    pub fn pin(&self) -> Option<PinRecord> {
        Some(PinRecord {
            hash: self.pin_hash.clone()?,
            failed_attempts: self.failed_attempts.unwrap_or(0),
        })
    }
}

macro_rules! select_pin_card {
    () => {
        "SELECT c.card_number, c.card_identification_code, c.person_id, c.status,
             p.pin_hash, p.failed_attempts, p.set_at
         FROM cards c LEFT JOIN card_pins p USING (card_number) WHERE c.card_number = $1"
    };
}

/// The card and its PIN, as they stand (no lock).
pub async fn pin_card(
    pool: &PgPool,
    card_number: &CardNumber,
) -> Result<Option<PinCardRow>, sqlx::Error> {
    sqlx::query_as(select_pin_card!())
        .bind(card_number)
        .fetch_optional(pool)
        .await
}

/// The card and its PIN, the card row locked until the end of the transaction.
pub async fn lock_pin_card(
    conn: &mut PgConnection,
    card_number: &CardNumber,
) -> Result<Option<PinCardRow>, sqlx::Error> {
    sqlx::query_as(concat!(select_pin_card!(), " FOR UPDATE OF c"))
        .bind(card_number)
        .fetch_optional(conn)
        .await
}

/// A PIN set, changed or reset: the new hash, the count cleared.
pub struct NewPin<'a> {
    pub hash: &'a str,
    pub at: DateTime<Utc>,
    pub by: &'a str,
}

/// Stores the card's first PIN; whether there was none (if there was,
/// nothing changes).
pub async fn insert_pin(
    conn: &mut PgConnection,
    card_number: &CardNumber,
    pin: &NewPin<'_>,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO card_pins (card_number, pin_hash, set_at, set_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (card_number) DO NOTHING",
    )
    .bind(card_number)
    .bind(pin.hash)
    .bind(pin.at)
    .bind(pin.by)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Replaces the card's PIN (or sets the first one) and clears the count.
pub async fn put_pin(
    conn: &mut PgConnection,
    card_number: &CardNumber,
    pin: &NewPin<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO card_pins (card_number, pin_hash, set_at, set_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (card_number) DO UPDATE
             SET pin_hash = $2, failed_attempts = 0, set_at = $3, set_by = $4",
    )
    .bind(card_number)
    .bind(pin.hash)
    .bind(pin.at)
    .bind(pin.by)
    .execute(conn)
    .await?;
    Ok(())
}

/// The outcome of one PIN check, recorded only if the PIN is still as `seen`.
pub struct Outcome<'a> {
    pub caller: &'a Caller,
    pub rpc: &'static str,
    pub seen: &'a PinRecord,
    /// The count to store: 0 after a match, one more after a wrong PIN.
    pub failed_attempts: i32,
    /// `Read` for a match, `FailedAttempt` for a wrong PIN.
    pub access: Access,
    pub request_id: Option<&'a str>,
}

/// Records `outcome` for `card_number` of `person_id` with its audit entry,
/// in one transaction; whether the PIN was still as seen (if not, nothing
/// is written: judge again).
pub async fn record_outcome(
    pool: &PgPool,
    card_number: &CardNumber,
    person_id: Uuid,
    outcome: Outcome<'_>,
) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let updated = sqlx::query(
        "UPDATE card_pins SET failed_attempts = $4
         WHERE card_number = $1 AND pin_hash = $2 AND failed_attempts = $3",
    )
    .bind(card_number)
    .bind(&outcome.seen.hash)
    .bind(outcome.seen.failed_attempts)
    .bind(outcome.failed_attempts)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated != 1 {
        return Ok(false);
    }
    let subject = person_id.to_string();
    audit::record(
        &mut tx,
        outcome.caller,
        outcome.rpc,
        outcome.access,
        &subject,
        outcome.request_id,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Records an access that changed nothing (a locked or unset PIN asked
/// about, a card presented without its own code): one audit entry.
pub async fn record_access(
    pool: &PgPool,
    caller: &Caller,
    rpc: &str,
    access: Access,
    subject: &str,
    request_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    audit::record(&mut conn, caller, rpc, access, subject, request_id).await?;
    Ok(())
}

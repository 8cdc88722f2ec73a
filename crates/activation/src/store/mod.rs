//! All of activation's SQL. Rows hold `pii` types where a column holds
//! personal data and domain enums where it holds a state; a stored value
//! that no longer parses is an error.

mod codec;
pub mod gauges;
pub mod leader;
pub mod presentations;
pub mod projection;
pub mod regions;
pub mod retirements;
pub mod visits;

use chrono::{DateTime, Utc};
use pii::{BankCardNumber, CardIdentificationCode, CardNumber, SerialNumber};
use platform::{
    audit::{self, Access},
    auth::Caller,
};
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

use crate::domain::{
    Activation, CardFacts, CardState, Channel, CodeDigest, Consequence, LegacyStatus, RegionPolicy,
};

pub use presentations::{RecentFailures, recent_failures, record_failed_presentation};
pub use projection::{ProjectedCard, apply_events, caught_up_at, cursor};
pub use regions::{DeadlineRow, approaching_deadlines, region_policy, set_region_policy};
pub use retirements::{
    PendingRetirement, RelayBacklog, claim_due_retirements, relay_backlog, retirement_delivered,
    retirement_failed, retirement_parked,
};
pub use visits::{LocalFacts, legacy_card_visited_by, local_facts, record_visit};

/// A card as projected here, with its activation and its region's policy.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CardRow {
    pub card_number: CardNumber,
    /// See [`CodeDigest`]: the code itself is not kept here.
    pub identification_code_sha256: Vec<u8>,
    pub serial_number: SerialNumber,
    pub person_id: Uuid,
    pub bank_code: String,
    pub bank_card_number: BankCardNumber,
    pub issuing_region_code: String,
    pub status: CardState,
    pub received_at: Option<DateTime<Utc>>,
    pub channel: Option<Channel>,
    pub partner_code: Option<String>,
    pub operator_id: Option<String>,
    pub activated_at: Option<DateTime<Utc>>,
    pub retired_legacy_card_number: Option<String>,
    pub window_months: Option<i32>,
    pub window_days: Option<i32>,
    pub consequence: Option<Consequence>,
}

impl CardRow {
    /// Whether `presented` is this card's identification code (constant time).
    pub fn admits(&self, presented: Option<&CardIdentificationCode>) -> bool {
        CodeDigest(self.identification_code_sha256.clone()).admits(&self.card_number, presented)
    }

    /// The card's activation, if it has one.
    pub fn activation(&self) -> Option<Activation> {
        Some(Activation {
            channel: self.channel?,
            at: self.activated_at?,
        })
    }

    /// The region's policy, or `default` where the region has none.
    pub fn policy(&self, default: RegionPolicy) -> RegionPolicy {
        regions::policy_of(self.window_months, self.window_days, self.consequence)
            .unwrap_or(default)
    }

    pub fn facts(&self, default: RegionPolicy) -> CardFacts {
        CardFacts {
            state: self.status,
            received_at: self.received_at,
            activated: self.activated_at.is_some(),
            policy: self.policy(default),
        }
    }
}

macro_rules! card_select {
    ($where:literal) => {
        concat!(
            "SELECT c.card_number, c.identification_code_sha256, c.serial_number, c.person_id,
                 c.bank_code, c.bank_card_number, c.issuing_region_code, c.status, c.received_at,
                 a.channel, a.partner_code, a.operator_id, a.activated_at,
                 a.retired_legacy_card_number, p.window_months, p.window_days, p.consequence
             FROM cards c
             LEFT JOIN activations a ON a.card_number = c.card_number
             LEFT JOIN region_policies p ON p.region_code = c.issuing_region_code
             WHERE ",
            $where
        )
    };
}

/// The card as it stands, without a lock (reads before a transaction).
pub async fn card_by_number(
    executor: impl PgExecutor<'_>,
    card_number: &CardNumber,
) -> Result<Option<CardRow>, sqlx::Error> {
    sqlx::query_as(card_select!("c.card_number = $1"))
        .bind(card_number)
        .fetch_optional(executor)
        .await
}

pub async fn card_by_serial(
    executor: impl PgExecutor<'_>,
    serial_number: &SerialNumber,
) -> Result<Option<CardRow>, sqlx::Error> {
    sqlx::query_as(card_select!("c.serial_number = $1"))
        .bind(serial_number)
        .fetch_optional(executor)
        .await
}

/// Locks the card's projection row (activations of one card are
/// serialised), then reads the card with its activation.
///
/// Two statements on purpose. Under READ COMMITTED a `SELECT … JOIN …
/// FOR UPDATE` that waits for the lock re-reads only the locked row once
/// the holder commits; the joined activation still comes from the
/// statement's old snapshot, so the waiter would see "not activated" and
/// answer as if it were first. A new statement after the lock is granted
/// sees everything the previous holder committed.
pub async fn lock_card_by_number(
    conn: &mut PgConnection,
    card_number: &CardNumber,
) -> Result<Option<CardRow>, sqlx::Error> {
    let locked: Option<CardNumber> =
        sqlx::query_scalar("SELECT card_number FROM cards WHERE card_number = $1 FOR UPDATE")
            .bind(card_number)
            .fetch_optional(&mut *conn)
            .await?;
    match locked {
        Some(number) => card_by_number(conn, &number).await,
        None => Ok(None),
    }
}

/// [`lock_card_by_number`] for the card with this serial number.
pub async fn lock_card_by_serial(
    conn: &mut PgConnection,
    serial_number: &SerialNumber,
) -> Result<Option<CardRow>, sqlx::Error> {
    let locked: Option<CardNumber> =
        sqlx::query_scalar("SELECT card_number FROM cards WHERE serial_number = $1 FOR UPDATE")
            .bind(serial_number)
            .fetch_optional(&mut *conn)
            .await?;
    match locked {
        Some(number) => card_by_number(conn, &number).await,
        None => Ok(None),
    }
}

/// The card, read for `caller`'s `action` and audited in one transaction.
pub async fn card_read_by(
    pool: &PgPool,
    caller: &Caller,
    action: &str,
    card_number: &CardNumber,
) -> Result<Option<CardRow>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let card = card_by_number(&mut *tx, card_number).await?;
    if let Some(card) = &card {
        let person = card.person_id.to_string();
        audit::record(&mut tx, caller, action, Access::Read, &person, None).await?;
    }
    tx.commit().await?;
    Ok(card)
}

/// Records that `caller` read these persons' cards through `action`.
pub async fn record_reads(
    pool: &PgPool,
    caller: &Caller,
    action: &str,
    persons: &[String],
) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    audit::record_many(&mut conn, caller, action, Access::Read, persons, None).await
}

/// The person's card that can still be used, if any.
pub async fn current_card_of_person(
    executor: impl PgExecutor<'_>,
    person_id: Uuid,
) -> Result<Option<CardRow>, sqlx::Error> {
    sqlx::query_as(card_select!(
        "c.person_id = $1 AND c.status IN ('ISSUED', 'RECEIVED')
         ORDER BY c.received_at DESC NULLS LAST LIMIT 1"
    ))
    .bind(person_id)
    .fetch_optional(executor)
    .await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LegacyRow {
    pub card_number: String,
    pub person_id: Uuid,
    pub status: LegacyStatus,
}

pub async fn legacy_card(
    executor: impl PgExecutor<'_>,
    card_number: &str,
) -> Result<Option<LegacyRow>, sqlx::Error> {
    sqlx::query_as("SELECT card_number, person_id, status FROM legacy_cards WHERE card_number = $1")
        .bind(card_number)
        .fetch_optional(executor)
        .await
}

/// Locks the old card's row (one table: a waiter reads the row as its
/// previous holder committed it).
pub async fn lock_legacy_card(
    conn: &mut PgConnection,
    card_number: &str,
) -> Result<Option<LegacyRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT card_number, person_id, status FROM legacy_cards WHERE card_number = $1 FOR UPDATE",
    )
    .bind(card_number)
    .fetch_optional(conn)
    .await
}

pub struct NewActivation<'a> {
    pub card_number: &'a CardNumber,
    pub person_id: Uuid,
    pub channel: Channel,
    pub partner_code: &'a str,
    pub operator_id: &'a str,
    pub at: DateTime<Utc>,
    pub request_id: &'a str,
    pub retired_legacy_card_number: Option<&'a str>,
}

/// Records the activation unless the card already has one; `false` if it had.
pub async fn insert_activation(
    conn: &mut PgConnection,
    new: &NewActivation<'_>,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO activations (card_number, person_id, channel, partner_code, operator_id,
             activated_at, request_id, retired_legacy_card_number)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (card_number) DO NOTHING",
    )
    .bind(new.card_number)
    .bind(new.person_id)
    .bind(new.channel)
    .bind(new.partner_code)
    .bind(new.operator_id)
    .bind(new.at)
    .bind(new.request_id)
    .bind(new.retired_legacy_card_number)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Retires the old card here at once and queues telling card-issuance.
pub async fn retire_legacy_card(
    conn: &mut PgConnection,
    legacy_card_number: &str,
    card_number: &CardNumber,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE legacy_cards SET status = $2 WHERE card_number = $1")
        .bind(legacy_card_number)
        .bind(LegacyStatus::Retired)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO legacy_retirements (legacy_card_number, card_number) VALUES ($1, $2)
         ON CONFLICT DO NOTHING",
    )
    .bind(legacy_card_number)
    .bind(card_number)
    .execute(conn)
    .await?;
    Ok(())
}

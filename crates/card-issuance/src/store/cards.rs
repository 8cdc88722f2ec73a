//! Cards: their states and histories (new cards: `issuing`).

use chrono::{DateTime, NaiveDate, Utc};
use pii::{
    BankCardNumber, CardIdentificationCode, CardNumber, PartnerCode, RegionCode, SerialNumber,
};
use platform::audit::{self, Access};
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

use super::ReadBy;
use crate::domain::CardStatus;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CardRow {
    pub card_number: CardNumber,
    pub card_identification_code: CardIdentificationCode,
    pub serial_number: SerialNumber,
    pub person_id: Uuid,
    pub application_id: Option<Uuid>,
    pub generation: i16,
    pub status: CardStatus,
    pub issuing_region_code: RegionCode,
    pub issued_on: NaiveDate,
    pub received_at: Option<DateTime<Utc>>,
    pub bank_code: PartnerCode,
    pub bank_card_number: BankCardNumber,
    pub replaces_card_number: Option<CardNumber>,
    pub replaced_by_card_number: Option<CardNumber>,
    /// An imported card the old system had activated: through which
    /// channel (as activation names it) and when; both or neither.
    pub imported_activation_channel: Option<String>,
    pub imported_activated_at: Option<DateTime<Utc>>,
}

macro_rules! card_columns {
    () => {
        "card_number, card_identification_code, serial_number, person_id, application_id, \
         generation, status, issuing_region_code, issued_on, received_at, bank_code, \
         bank_card_number, replaces_card_number, replaced_by_card_number, \
         imported_activation_channel, imported_activated_at"
    };
}

/// Which identifier to find a card by.
#[derive(Clone, Debug)]
pub enum CardKey {
    Number(CardNumber),
    IdentificationCode(CardIdentificationCode),
    Serial(SerialNumber),
}

pub async fn card(
    executor: impl PgExecutor<'_>,
    key: &CardKey,
) -> Result<Option<CardRow>, sqlx::Error> {
    let (sql, value) = match key {
        CardKey::Number(v) => (
            concat!(
                "SELECT ",
                card_columns!(),
                " FROM cards WHERE card_number = $1"
            ),
            v.as_str(),
        ),
        CardKey::IdentificationCode(v) => (
            concat!(
                "SELECT ",
                card_columns!(),
                " FROM cards WHERE card_identification_code = $1"
            ),
            v.as_str(),
        ),
        CardKey::Serial(v) => (
            concat!(
                "SELECT ",
                card_columns!(),
                " FROM cards WHERE serial_number = $1"
            ),
            v.as_str(),
        ),
    };
    sqlx::query_as(sql)
        .bind(value)
        .fetch_optional(executor)
        .await
}

/// The card, locked until the end of the transaction.
pub async fn lock_card(
    conn: &mut PgConnection,
    card_number: &CardNumber,
) -> Result<Option<CardRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        card_columns!(),
        " FROM cards WHERE card_number = $1 FOR UPDATE"
    ))
    .bind(card_number)
    .fetch_optional(conn)
    .await
}

/// Who changed a card's status, when and why.
pub struct StatusChange<'a> {
    pub status: CardStatus,
    pub at: DateTime<Utc>,
    pub by: &'a str,
    pub reason: &'a str,
    pub request_id: &'a str,
}

pub async fn change_status(
    conn: &mut PgConnection,
    card_number: &CardNumber,
    change: &StatusChange<'_>,
) -> Result<CardRow, sqlx::Error> {
    let row = sqlx::query_as(concat!(
        "UPDATE cards SET status = $2,
             received_at = CASE WHEN $2 = $4 THEN $3 ELSE received_at END
         WHERE card_number = $1 RETURNING ",
        card_columns!()
    ))
    .bind(card_number)
    .bind(change.status)
    .bind(change.at)
    .bind(CardStatus::Received)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO card_status_history (card_number, status, at, changed_by, reason, request_id)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(card_number)
    .bind(change.status)
    .bind(change.at)
    .bind(change.by)
    .bind(change.reason)
    .bind(change.request_id)
    .execute(conn)
    .await?;
    Ok(row)
}

/// Records on the replaced card which card replaced it.
pub async fn link_replacement(
    conn: &mut PgConnection,
    old: &CardNumber,
    new: &CardNumber,
) -> Result<CardRow, sqlx::Error> {
    sqlx::query_as(concat!(
        "UPDATE cards SET replaced_by_card_number = $2 WHERE card_number = $1 RETURNING ",
        card_columns!()
    ))
    .bind(old)
    .bind(new)
    .fetch_one(conn)
    .await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct HistoryRow {
    pub card_number: CardNumber,
    pub status: CardStatus,
    pub at: DateTime<Utc>,
    pub changed_by: String,
    pub reason: String,
}

/// The status histories of `cards`, oldest first, in one query.
async fn histories(
    executor: impl PgExecutor<'_>,
    cards: &[CardRow],
) -> Result<Vec<HistoryRow>, sqlx::Error> {
    let numbers: Vec<&str> = cards.iter().map(|c| c.card_number.as_str()).collect();
    sqlx::query_as(
        "SELECT card_number, status, at, changed_by, reason FROM card_status_history
         WHERE card_number = ANY($1) ORDER BY id",
    )
    .bind(numbers)
    .fetch_all(executor)
    .await
}

/// The histories of `cards`, all of `person_id`, read and audited as `read`
/// in one transaction.
pub async fn read_histories(
    pool: &PgPool,
    cards: &[CardRow],
    person_id: Uuid,
    read: ReadBy<'_>,
) -> Result<Vec<HistoryRow>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let histories = histories(&mut *tx, cards).await?;
    let subject = person_id.to_string();
    audit::record(&mut tx, read.caller, read.rpc, Access::Read, &subject, None).await?;
    tx.commit().await?;
    Ok(histories)
}

/// A person's cards, newest first, with their histories, read and audited
/// as `read` in one transaction.
pub async fn read_person_cards(
    pool: &PgPool,
    person_id: Uuid,
    read: ReadBy<'_>,
) -> Result<(Vec<CardRow>, Vec<HistoryRow>), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let cards: Vec<CardRow> = sqlx::query_as(concat!(
        "SELECT ",
        card_columns!(),
        " FROM cards WHERE person_id = $1 ORDER BY issued_at DESC, card_number DESC"
    ))
    .bind(person_id)
    .fetch_all(&mut *tx)
    .await?;
    let histories = histories(&mut *tx, &cards).await?;
    let subject = person_id.to_string();
    audit::record(&mut tx, read.caller, read.rpc, Access::Read, &subject, None).await?;
    tx.commit().await?;
    Ok((cards, histories))
}

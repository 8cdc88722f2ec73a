//! All of card-issuance's SQL.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::{CardStatus, issuing::Allocated};

// ---- applications ----

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ApplicationRow {
    pub application_id: Uuid,
    pub person_id: Uuid,
    pub bank_code: String,
    pub issuing_region_code: String,
    pub status: String,
    pub applied_at: DateTime<Utc>,
    pub card_number: Option<String>,
}

pub struct NewApplication<'a> {
    pub application_id: Uuid,
    pub person_id: Uuid,
    pub bank_code: &'a str,
    pub issuing_region_code: &'a str,
    pub at: DateTime<Utc>,
    pub by: &'a str,
}

pub async fn insert_application(
    conn: &mut PgConnection,
    new: &NewApplication<'_>,
) -> Result<ApplicationRow, sqlx::Error> {
    sqlx::query_as(
        "INSERT INTO applications (application_id, person_id, bank_code, issuing_region_code,
             status, applied_at, applied_by)
         VALUES ($1, $2, $3, $4, 'PENDING', $5, $6)
         RETURNING application_id, person_id, bank_code, issuing_region_code, status,
             applied_at, card_number",
    )
    .bind(new.application_id)
    .bind(new.person_id)
    .bind(new.bank_code)
    .bind(new.issuing_region_code)
    .bind(new.at)
    .bind(new.by)
    .fetch_one(conn)
    .await
}

/// The application, locked for issuing.
pub async fn lock_application(
    conn: &mut PgConnection,
    application_id: Uuid,
) -> Result<Option<ApplicationRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT application_id, person_id, bank_code, issuing_region_code, status, applied_at,
             card_number
         FROM applications WHERE application_id = $1 FOR UPDATE",
    )
    .bind(application_id)
    .fetch_optional(conn)
    .await
}

/// A bank's pending applications, oldest first, locked; applications another
/// batch holds are skipped rather than waited for.
pub async fn lock_pending_for_bank(
    conn: &mut PgConnection,
    bank_code: &str,
    limit: i64,
) -> Result<Vec<ApplicationRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT application_id, person_id, bank_code, issuing_region_code, status, applied_at,
             card_number
         FROM applications WHERE bank_code = $1 AND status = 'PENDING'
         ORDER BY applied_at, application_id LIMIT $2
         FOR UPDATE SKIP LOCKED",
    )
    .bind(bank_code)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Whether the person holds a card that can still be used.
pub async fn has_usable_card(
    executor: impl PgExecutor<'_>,
    person_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM cards WHERE person_id = $1
             AND status IN ('ISSUED', 'RECEIVED'))",
    )
    .bind(person_id)
    .fetch_one(executor)
    .await
}

// ---- issuing ----

/// Allocates `count` sequence numbers of each kind, in one statement.
pub async fn allocate(conn: &mut PgConnection, count: i64) -> Result<Vec<Allocated>, sqlx::Error> {
    let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT nextval('card_number_seq'), nextval('serial_number_seq'),
             nextval('bank_card_number_seq')
         FROM generate_series(1, $1)",
    )
    .bind(count)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(card, serial, bank_card)| Allocated {
            card,
            serial,
            bank_card,
            chip: rand::random(),
        })
        .collect())
}

/// One card to insert.
pub struct NewCard {
    pub card_number: String,
    pub card_identification_code: String,
    pub serial_number: String,
    pub person_id: Uuid,
    pub application_id: Option<Uuid>,
    pub generation: i16,
    pub issuing_region_code: String,
    pub bank_code: String,
    pub bank_card_number: String,
    pub replaces_card_number: Option<String>,
}

/// Inserts cards, their first history entry, and marks their applications
/// issued: three statements whatever the number of cards.
pub async fn insert_cards(
    conn: &mut PgConnection,
    cards: &[NewCard],
    at: DateTime<Utc>,
    issued_on: NaiveDate,
    by: &str,
    request_id: &str,
) -> Result<(), sqlx::Error> {
    let column = |f: fn(&NewCard) -> String| cards.iter().map(f).collect::<Vec<_>>();
    let numbers = column(|c| c.card_number.clone());
    sqlx::query(
        "INSERT INTO cards (card_number, card_identification_code, serial_number, person_id,
             application_id, generation, status, issuing_region_code, issued_on, issued_at,
             bank_code, bank_card_number, replaces_card_number)
         SELECT n, code, serial, person, app, gen, 'ISSUED', region, $10, $11, bank, account,
             replaces
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::uuid[], $5::uuid[], $6::int2[],
             $7::text[], $8::text[], $9::text[], $12::text[])
             AS u(n, code, serial, person, app, gen, region, bank, account, replaces)",
    )
    .bind(&numbers)
    .bind(column(|c| c.card_identification_code.clone()))
    .bind(column(|c| c.serial_number.clone()))
    .bind(cards.iter().map(|c| c.person_id).collect::<Vec<_>>())
    .bind(cards.iter().map(|c| c.application_id).collect::<Vec<_>>())
    .bind(cards.iter().map(|c| c.generation).collect::<Vec<_>>())
    .bind(column(|c| c.issuing_region_code.clone()))
    .bind(column(|c| c.bank_code.clone()))
    .bind(column(|c| c.bank_card_number.clone()))
    .bind(issued_on)
    .bind(at)
    .bind(
        cards
            .iter()
            .map(|c| c.replaces_card_number.clone())
            .collect::<Vec<_>>(),
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO card_status_history (card_number, status, at, changed_by, reason, request_id)
         SELECT n, 'ISSUED', $2, $3, 'issued', $4 FROM UNNEST($1::text[]) WITH ORDINALITY AS u(n, i)
         ORDER BY i",
    )
    .bind(&numbers)
    .bind(at)
    .bind(by)
    .bind(request_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE applications a SET status = 'ISSUED', card_number = u.n
         FROM UNNEST($1::uuid[], $2::text[]) AS u(app, n)
         WHERE a.application_id = u.app",
    )
    .bind(cards.iter().map(|c| c.application_id).collect::<Vec<_>>())
    .bind(&numbers)
    .execute(conn)
    .await?;
    Ok(())
}

// ---- cards ----

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CardRow {
    pub card_number: String,
    pub card_identification_code: String,
    pub serial_number: String,
    pub person_id: Uuid,
    pub application_id: Option<Uuid>,
    pub generation: i16,
    pub status: String,
    pub issuing_region_code: String,
    pub issued_on: NaiveDate,
    pub received_at: Option<DateTime<Utc>>,
    pub bank_code: String,
    pub bank_card_number: String,
    pub replaces_card_number: Option<String>,
    pub replaced_by_card_number: Option<String>,
}

impl CardRow {
    pub fn status(&self) -> CardStatus {
        CardStatus::from_db(&self.status)
    }
}

macro_rules! card_columns {
    () => {
        "card_number, card_identification_code, serial_number, person_id, application_id, \
         generation, status, issuing_region_code, issued_on, received_at, bank_code, \
         bank_card_number, replaces_card_number, replaced_by_card_number"
    };
}

/// Which identifier to find a card by.
#[derive(Clone, Copy, Debug)]
pub enum CardKey<'a> {
    Number(&'a str),
    IdentificationCode(&'a str),
    Serial(&'a str),
}

pub async fn card(
    executor: impl PgExecutor<'_>,
    key: CardKey<'_>,
) -> Result<Option<CardRow>, sqlx::Error> {
    let (sql, value) = match key {
        CardKey::Number(v) => (
            concat!(
                "SELECT ",
                card_columns!(),
                " FROM cards WHERE card_number = $1"
            ),
            v,
        ),
        CardKey::IdentificationCode(v) => (
            concat!(
                "SELECT ",
                card_columns!(),
                " FROM cards WHERE card_identification_code = $1"
            ),
            v,
        ),
        CardKey::Serial(v) => (
            concat!(
                "SELECT ",
                card_columns!(),
                " FROM cards WHERE serial_number = $1"
            ),
            v,
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
    card_number: &str,
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

pub async fn cards_of_person(
    executor: impl PgExecutor<'_>,
    person_id: Uuid,
) -> Result<Vec<CardRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        card_columns!(),
        " FROM cards WHERE person_id = $1 ORDER BY issued_at DESC, card_number DESC"
    ))
    .bind(person_id)
    .fetch_all(executor)
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
    card_number: &str,
    change: &StatusChange<'_>,
) -> Result<CardRow, sqlx::Error> {
    let row = sqlx::query_as(concat!(
        "UPDATE cards SET status = $2,
             received_at = CASE WHEN $2 = 'RECEIVED' THEN $3 ELSE received_at END
         WHERE card_number = $1 RETURNING ",
        card_columns!()
    ))
    .bind(card_number)
    .bind(change.status.as_str())
    .bind(change.at)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO card_status_history (card_number, status, at, changed_by, reason, request_id)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(card_number)
    .bind(change.status.as_str())
    .bind(change.at)
    .bind(change.by)
    .bind(change.reason)
    .bind(change.request_id)
    .execute(conn)
    .await?;
    Ok(row)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct HistoryRow {
    pub card_number: String,
    pub status: String,
    pub at: DateTime<Utc>,
    pub changed_by: String,
    pub reason: String,
}

/// The status histories of `cards`, oldest first, in one query.
pub async fn histories(
    executor: impl PgExecutor<'_>,
    cards: &[String],
) -> Result<Vec<HistoryRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT card_number, status, at, changed_by, reason FROM card_status_history
         WHERE card_number = ANY($1) ORDER BY id",
    )
    .bind(cards)
    .fetch_all(executor)
    .await
}

// ---- old medical insurance cards ----

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LegacyCardRow {
    pub card_number: String,
    pub person_id: Uuid,
    pub region_code: String,
    pub status: String,
    pub registered_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

macro_rules! legacy_columns {
    () => {
        "card_number, person_id, region_code, status, registered_at, retired_at"
    };
}

pub async fn insert_legacy_card(
    conn: &mut PgConnection,
    card_number: &str,
    person_id: Uuid,
    region_code: &str,
    at: DateTime<Utc>,
) -> Result<LegacyCardRow, sqlx::Error> {
    sqlx::query_as(concat!(
        "INSERT INTO legacy_medical_cards (card_number, person_id, region_code, status,
             registered_at)
         VALUES ($1, $2, $3, 'ACTIVE', $4) RETURNING ",
        legacy_columns!()
    ))
    .bind(card_number)
    .bind(person_id)
    .bind(region_code)
    .bind(at)
    .fetch_one(conn)
    .await
}

pub async fn legacy_card(
    executor: impl PgExecutor<'_>,
    card_number: &str,
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

pub async fn retire_legacy_card(
    conn: &mut PgConnection,
    card_number: &str,
    replaced_by: &str,
    at: DateTime<Utc>,
) -> Result<LegacyCardRow, sqlx::Error> {
    sqlx::query_as(concat!(
        "UPDATE legacy_medical_cards SET status = 'RETIRED', retired_at = $3,
             replaced_by_card_number = $2
         WHERE card_number = $1 RETURNING ",
        legacy_columns!()
    ))
    .bind(card_number)
    .bind(replaced_by)
    .bind(at)
    .fetch_one(conn)
    .await
}

/// Records on the replaced card which card replaced it.
pub async fn link_replacement(
    conn: &mut PgConnection,
    old: &str,
    new: &str,
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

//! Electronic cards and the single use of their tokens.

use chrono::{DateTime, Utc};
use pii::CardNumber;
use platform::audit::{self, Access};
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

use super::{CardKey, CardRow, ReadBy, card};
use crate::domain::ecard::TokenClaims;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EcardRow {
    pub ecard_id: Uuid,
    pub card_number: CardNumber,
    pub person_id: Uuid,
    pub issued_at: DateTime<Utc>,
    pub issued_by: String,
}

macro_rules! ecard_columns {
    () => {
        "ecard_id, card_number, person_id, issued_at, issued_by"
    };
}

/// The e-card bound to `card_number`, if one was issued.
pub async fn ecard_of_card(
    executor: impl PgExecutor<'_>,
    card_number: &CardNumber,
) -> Result<Option<EcardRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        ecard_columns!(),
        " FROM ecards WHERE card_number = $1"
    ))
    .bind(card_number)
    .fetch_optional(executor)
    .await
}

async fn ecard(
    executor: impl PgExecutor<'_>,
    ecard_id: Uuid,
) -> Result<Option<EcardRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        ecard_columns!(),
        " FROM ecards WHERE ecard_id = $1"
    ))
    .bind(ecard_id)
    .fetch_optional(executor)
    .await
}

/// Binds a new e-card to `card` (whose row the caller holds locked), or
/// answers the one already bound to it.
pub async fn bind_ecard(
    conn: &mut PgConnection,
    card: &CardRow,
    at: DateTime<Utc>,
    by: &str,
) -> Result<EcardRow, sqlx::Error> {
    sqlx::query(
        "INSERT INTO ecards (ecard_id, card_number, person_id, issued_at, issued_by)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (card_number) DO NOTHING",
    )
    .bind(Uuid::new_v4())
    .bind(&card.card_number)
    .bind(card.person_id)
    .bind(at)
    .bind(by)
    .execute(&mut *conn)
    .await?;
    ecard_of_card(conn, &card.card_number)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

/// The e-card and its card as they stand (not audited: the caller may
/// not be its holder; see `record_token_issued`).
pub async fn ecard_with_card(
    pool: &PgPool,
    ecard_id: Uuid,
) -> Result<Option<(EcardRow, CardRow)>, sqlx::Error> {
    let Some(ecard) = ecard(pool, ecard_id).await? else {
        return Ok(None);
    };
    let card = card(pool, &CardKey::Number(ecard.card_number.clone()))
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    Ok(Some((ecard, card)))
}

/// Audits a token issued for `person_id`'s e-card.
pub async fn record_token_issued(
    pool: &PgPool,
    person_id: Uuid,
    read: ReadBy<'_>,
) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let subject = person_id.to_string();
    audit::record(
        &mut conn,
        read.caller,
        read.rpc,
        Access::Read,
        &subject,
        None,
    )
    .await?;
    Ok(())
}

/// Who presents a single-use token, under which of their request ids.
pub struct TokenUse<'a> {
    pub by: &'a str,
    pub request_id: &'a str,
    pub at: DateTime<Utc>,
}

/// What a genuine token's e-card's card is now.
pub struct Redeemed {
    pub card: CardRow,
    /// False when a single-use token was already used by someone else or
    /// for another request.
    pub first_use: bool,
}

/// The card of the e-card `claims` name as it stands (`None`: no such
/// e-card), the token's use
/// recorded when `single_use` is given, and the presentation audited on
/// the holder's trail as `read` — in one transaction.
pub async fn redeem(
    pool: &PgPool,
    claims: &TokenClaims,
    single_use: Option<TokenUse<'_>>,
    read: ReadBy<'_>,
) -> Result<Option<Redeemed>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let Some(ecard) = ecard(&mut *tx, claims.ecard_id).await? else {
        return Ok(None);
    };
    let card = card(&mut *tx, &CardKey::Number(ecard.card_number.clone()))
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    let first_use = match single_use {
        None => true,
        Some(used) => {
            // Uses of tokens long expired (refused as expired before they
            // reach here) go, a few at a time, never waiting on another.
            sqlx::query(
                "DELETE FROM ecard_token_uses WHERE nonce IN (
                     SELECT nonce FROM ecard_token_uses
                     WHERE expires_at < $1 - interval '10 minutes'
                     LIMIT 100 FOR UPDATE SKIP LOCKED)",
            )
            .bind(used.at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO ecard_token_uses (nonce, ecard_id, used_by, request_id, used_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (nonce) DO NOTHING",
            )
            .bind(claims.nonce)
            .bind(claims.ecard_id)
            .bind(used.by)
            .bind(used.request_id)
            .bind(used.at)
            .bind(claims.expires_at)
            .execute(&mut *tx)
            .await?;
            let (by, request_id): (String, String) =
                sqlx::query_as("SELECT used_by, request_id FROM ecard_token_uses WHERE nonce = $1")
                    .bind(claims.nonce)
                    .fetch_one(&mut *tx)
                    .await?;
            by == used.by && request_id == used.request_id
        }
    };
    let subject = ecard.person_id.to_string();
    audit::record(&mut tx, read.caller, read.rpc, Access::Read, &subject, None).await?;
    tx.commit().await?;
    Ok(Some(Redeemed { card, first_use }))
}

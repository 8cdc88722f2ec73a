//! Imported cards and old medical cards, a batch at a time: one multi-row
//! `INSERT … SELECT FROM UNNEST … ON CONFLICT DO NOTHING` per table (so a
//! card already here changes nothing and Postgres logs no identifier), the
//! status history in one more, then one read of which of the rest exist.
//! Card numbering moves past the imported cards' numbers (`numbering`).

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::service::{ImportCard, ImportLegacyCard};

/// What became of one record the batch tried to store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stored {
    Inserted,
    /// Its number is here already (this file, imported before).
    AlreadyHere,
    /// Its number is new but another of its identifiers is taken, or its
    /// holder already has a usable card.
    Conflict,
}

/// Where each record stands after the insert, by card number.
async fn outcomes(
    conn: &mut PgConnection,
    table_sql: &str,
    numbers: &[&str],
    inserted: Vec<String>,
) -> Result<Vec<Stored>, sqlx::Error> {
    let inserted: HashSet<String> = inserted.into_iter().collect();
    let rest: Vec<&str> = numbers
        .iter()
        .copied()
        .filter(|n| !inserted.contains(*n))
        .collect();
    let existing: HashSet<String> = if rest.is_empty() {
        HashSet::new()
    } else {
        sqlx::query_scalar(sqlx::AssertSqlSafe(table_sql.to_owned()))
            .bind(&rest)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect()
    };
    let mut seen = HashSet::new();
    Ok(numbers
        .iter()
        .map(|n| {
            // A number twice in one batch: the first one counts.
            if inserted.contains(*n) && seen.insert(*n) {
                Stored::Inserted
            } else if inserted.contains(*n) || existing.contains(*n) {
                Stored::AlreadyHere
            } else {
                Stored::Conflict
            }
        })
        .collect())
}

/// Stores `cards` (holders resolved to `holders`, same order) issued by
/// `by` under `request_id`; for each, what became of it.
pub async fn import_cards(
    conn: &mut PgConnection,
    cards: &[(&ImportCard, Uuid)],
    by: &str,
    request_id: &str,
) -> Result<Vec<Stored>, sqlx::Error> {
    if cards.is_empty() {
        return Ok(Vec::new());
    }
    let issued_at = |d: NaiveDate| -> DateTime<Utc> {
        d.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(socsec_core::time::china()).single())
            .map_or(DateTime::<Utc>::MIN_UTC, |t| t.with_timezone(&Utc))
    };
    let numbers: Vec<&str> = cards.iter().map(|(c, _)| c.card_number.as_str()).collect();
    // Alone against issuing from here to the commit (see `numbering`).
    super::numbering::hold_alone(&mut *conn).await?;
    let inserted: Vec<String> = sqlx::query_scalar(
        "INSERT INTO cards (card_number, card_identification_code, serial_number, person_id,
             generation, status, issuing_region_code, issued_on, issued_at, received_at,
             bank_code, bank_card_number, imported_activation_channel, imported_activated_at)
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::uuid[], $5::int2[],
             $6::text[], $7::text[], $8::date[], $9::timestamptz[], $10::timestamptz[],
             $11::text[], $12::text[], $13::text[], $14::timestamptz[])
         ON CONFLICT DO NOTHING
         RETURNING card_number",
    )
    .bind(&numbers)
    .bind(
        cards
            .iter()
            .map(|(c, _)| c.identification_code.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        cards
            .iter()
            .map(|(c, _)| c.serial_number.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(cards.iter().map(|(_, p)| *p).collect::<Vec<_>>())
    .bind(
        cards
            .iter()
            .map(|(c, _)| c.generation.value())
            .collect::<Vec<_>>(),
    )
    .bind(
        cards
            .iter()
            .map(|(c, _)| c.status.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        cards
            .iter()
            .map(|(c, _)| c.region.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(cards.iter().map(|(c, _)| c.issued_on).collect::<Vec<_>>())
    .bind(
        cards
            .iter()
            .map(|(c, _)| issued_at(c.issued_on))
            .collect::<Vec<_>>(),
    )
    .bind(cards.iter().map(|(c, _)| c.received_at).collect::<Vec<_>>())
    .bind(
        cards
            .iter()
            .map(|(c, _)| c.bank_code.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        cards
            .iter()
            .map(|(c, _)| c.bank_card_number.expose())
            .collect::<Vec<_>>(),
    )
    .bind(
        cards
            .iter()
            .map(|(c, _)| c.activation.as_ref().map(|a| a.channel))
            .collect::<Vec<_>>(),
    )
    .bind(
        cards
            .iter()
            .map(|(c, _)| c.activation.as_ref().map(|a| a.at))
            .collect::<Vec<_>>(),
    )
    .fetch_all(&mut *conn)
    .await?;
    // The history starts with the status the card came with, at its
    // receipt (or issue).
    sqlx::query(
        "INSERT INTO card_status_history (card_number, status, at, changed_by, reason, request_id)
         SELECT card_number, status, COALESCE(received_at, issued_at), $2, 'import', $3
         FROM cards WHERE card_number = ANY($1)",
    )
    .bind(&inserted)
    .bind(by)
    .bind(request_id)
    .execute(&mut *conn)
    .await?;
    super::numbering::advance_past(&mut *conn, &inserted).await?;
    outcomes(
        conn,
        "SELECT card_number FROM cards WHERE card_number = ANY($1)",
        &numbers,
        inserted,
    )
    .await
}

/// Stores old medical cards (holders resolved, same order), active, as
/// registered at `at`; for each, what became of it.
pub async fn import_legacy_cards(
    conn: &mut PgConnection,
    cards: &[(&ImportLegacyCard, Uuid)],
    at: DateTime<Utc>,
) -> Result<Vec<Stored>, sqlx::Error> {
    if cards.is_empty() {
        return Ok(Vec::new());
    }
    let numbers: Vec<&str> = cards.iter().map(|(c, _)| c.card_number.expose()).collect();
    let inserted: Vec<String> = sqlx::query_scalar(
        "INSERT INTO legacy_medical_cards (card_number, person_id, region_code, status,
             registered_at)
         SELECT n, p, r, 'ACTIVE', $4 FROM UNNEST($1::text[], $2::uuid[], $3::text[]) AS u(n, p, r)
         ON CONFLICT DO NOTHING
         RETURNING card_number",
    )
    .bind(&numbers)
    .bind(cards.iter().map(|(_, p)| *p).collect::<Vec<_>>())
    .bind(
        cards
            .iter()
            .map(|(c, _)| c.region.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(at)
    .fetch_all(&mut *conn)
    .await?;
    outcomes(
        conn,
        "SELECT card_number FROM legacy_medical_cards WHERE card_number = ANY($1)",
        &numbers,
        inserted,
    )
    .await
}

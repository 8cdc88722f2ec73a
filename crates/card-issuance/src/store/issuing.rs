//! New cards: numbers allocated, rows inserted, applications marked issued.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use pii::CardNumber;
use sqlx::PgConnection;

use crate::domain::{
    ApplicationStatus, CardOrder, CardStatus, Generation, issuing::Allocated,
    issuing::CardIdentifiers,
};

/// Allocates `count` sequence numbers of each kind, in one statement,
/// holding the numbering lock shared until the transaction ends (see
/// `numbering`: an import moves the sequences past its numbers).
pub async fn allocate(conn: &mut PgConnection, count: i64) -> Result<Vec<Allocated>, sqlx::Error> {
    super::numbering::share(&mut *conn).await?;
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

/// One card to insert: its order and the identifiers made for it.
#[derive(Clone, Debug)]
pub struct NewCard {
    pub order: CardOrder,
    pub ids: CardIdentifiers,
    pub generation: Generation,
}

/// Why new cards were not inserted: a conflict the caller is told about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardConflict {
    /// A bank card number is already linked to a card (unique
    /// `cards_bank_card_number_key`).
    BankCardNumberTaken,
    /// A person already holds a usable card (unique index
    /// `cards_one_usable_per_person`).
    PersonHoldsUsableCard,
}

/// Inserts cards, their first history entry, and marks their applications
/// issued: three statements whatever the number of cards. A card that
/// conflicts with one already stored is not inserted and the conflict is
/// returned (roll the transaction back); the statements themselves do not
/// fail on it, because a unique violation makes Postgres log the
/// conflicting key — a bank card number — in its `DETAIL`.
pub async fn insert_cards(
    conn: &mut PgConnection,
    cards: &[NewCard],
    at: DateTime<Utc>,
    issued_on: NaiveDate,
    by: &str,
    request_id: &str,
) -> Result<Result<(), CardConflict>, sqlx::Error> {
    let inserted = insert_rows(conn, cards, at, issued_on, true).await?;
    if inserted.len() < cards.len() {
        let skipped: Vec<NewCard> = cards
            .iter()
            .filter(|c| !inserted.contains(c.ids.card_number.as_str()))
            .cloned()
            .collect();
        if let Some(conflict) = conflict(conn, &skipped).await? {
            return Ok(Err(conflict));
        }
        // Another key clashed: a card number, identification code, serial
        // number or application, all made from sequences (a bug). Insert
        // again so the database names the clash; that error is internal.
        insert_rows(conn, &skipped, at, issued_on, false).await?;
    }
    let numbers: Vec<&str> = cards.iter().map(|c| c.ids.card_number.as_str()).collect();
    sqlx::query(
        "INSERT INTO card_status_history (card_number, status, at, changed_by, reason, request_id)
         SELECT n, $5, $2, $3, 'issued', $4 FROM UNNEST($1::text[]) WITH ORDINALITY AS u(n, i)
         ORDER BY i",
    )
    .bind(&numbers)
    .bind(at)
    .bind(by)
    .bind(request_id)
    .bind(CardStatus::Issued)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE applications a SET status = $3, card_number = u.n
         FROM UNNEST($1::uuid[], $2::text[]) AS u(app, n)
         WHERE a.application_id = u.app",
    )
    .bind(
        cards
            .iter()
            .map(|c| c.order.application_id)
            .collect::<Vec<_>>(),
    )
    .bind(&numbers)
    .bind(ApplicationStatus::Issued)
    .execute(conn)
    .await?;
    Ok(Ok(()))
}

/// Inserts the cards' rows; with `skip_conflicts`, a row that would violate
/// a unique constraint or index is left out. The card numbers inserted.
async fn insert_rows(
    conn: &mut PgConnection,
    cards: &[NewCard],
    at: DateTime<Utc>,
    issued_on: NaiveDate,
    skip_conflicts: bool,
) -> Result<HashSet<String>, sqlx::Error> {
    let column = |f: fn(&NewCard) -> &str| cards.iter().map(f).collect::<Vec<&str>>();
    let on_conflict = if skip_conflicts {
        "ON CONFLICT DO NOTHING"
    } else {
        ""
    };
    let inserted: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "INSERT INTO cards (card_number, card_identification_code, serial_number, person_id,
             application_id, generation, status, issuing_region_code, issued_on, issued_at,
             bank_code, bank_card_number, replaces_card_number)
         SELECT n, code, serial, person, app, gen, $13, region, $10, $11, bank, account,
             replaces
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::uuid[], $5::uuid[], $6::int2[],
             $7::text[], $8::text[], $9::text[], $12::text[])
             AS u(n, code, serial, person, app, gen, region, bank, account, replaces)
         {on_conflict}
         RETURNING card_number"
    )))
    .bind(column(|c| c.ids.card_number.as_str()))
    .bind(column(|c| c.ids.identification_code.as_str()))
    .bind(column(|c| c.ids.serial_number.as_str()))
    .bind(cards.iter().map(|c| c.order.person_id).collect::<Vec<_>>())
    .bind(
        cards
            .iter()
            .map(|c| c.order.application_id)
            .collect::<Vec<_>>(),
    )
    .bind(
        cards
            .iter()
            .map(|c| c.generation.value())
            .collect::<Vec<_>>(),
    )
    .bind(column(|c| c.order.region.as_str()))
    .bind(column(|c| c.order.bank_code.as_str()))
    .bind(column(|c| c.ids.bank_card_number.expose()))
    .bind(issued_on)
    .bind(at)
    .bind(
        cards
            .iter()
            .map(|c| c.order.replaces.as_ref().map(CardNumber::as_str))
            .collect::<Vec<_>>(),
    )
    .bind(CardStatus::Issued)
    .fetch_all(conn)
    .await?;
    Ok(inserted.into_iter().collect())
}

/// Which expected conflict kept `skipped` out, in the order Postgres checks
/// the two (the bank card number's constraint is the older); `None` if
/// neither.
async fn conflict(
    conn: &mut PgConnection,
    skipped: &[NewCard],
) -> Result<Option<CardConflict>, sqlx::Error> {
    let usable: Vec<&str> = CardStatus::USABLE.iter().map(|s| s.as_str()).collect();
    let (bank_card_taken, holds_usable): (bool, bool) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM cards WHERE bank_card_number = ANY($1)),
             EXISTS (SELECT 1 FROM cards WHERE person_id = ANY($2) AND status = ANY($3))",
    )
    .bind(
        skipped
            .iter()
            .map(|c| c.ids.bank_card_number.expose())
            .collect::<Vec<_>>(),
    )
    .bind(
        skipped
            .iter()
            .map(|c| c.order.person_id)
            .collect::<Vec<_>>(),
    )
    .bind(usable)
    .fetch_one(conn)
    .await?;
    Ok(if bank_card_taken {
        Some(CardConflict::BankCardNumberTaken)
    } else if holds_usable {
        Some(CardConflict::PersonHoldsUsableCard)
    } else {
        None
    })
}

//! Card numbers, serial numbers and bank card numbers are made from three
//! sequences (`card_number_seq` …, from 0; `domain::issuing`). An import
//! stores numbers the old system made, which may lie where the sequences
//! will reach: so each import batch moves every sequence past the highest
//! number of that kind it stored (`advance_past`), in its transaction.
//!
//! Under concurrency, one lock (`card_numbering`, an advisory transaction
//! lock) orders the two: issuing holds it shared from the moment it takes
//! numbers until it commits, an import batch exclusively before it inserts.
//! So an import waits for the cards being issued to commit (and its
//! `ON CONFLICT` sees them: a number issued here first makes that record a
//! conflict), and issuing that starts during an import takes its numbers
//! after the sequences moved. Issuers never wait for each other.
//!
//! The cost of this rule: the numbers below the highest imported one that
//! the old system left unused are never issued. An imported number near the
//! end of a space (`Z9999999`, serial `…99999999`) leaves little of it.

use sqlx::PgConnection;

/// Taken by issuing, shared: many issue at once.
pub(super) async fn share(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query(
        "SELECT pg_advisory_xact_lock_shared(hashtext(current_schema() || '.card_numbering'))",
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Taken by an import batch, alone, before it inserts.
pub(super) async fn hold_alone(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.card_numbering'))")
        .execute(conn)
        .await?;
    Ok(())
}

/// Moves each sequence past the highest number of its kind among the
/// `cards` (card numbers) just stored, unless it is past it already: the
/// next card issued gets a higher number. The sequence position of a card
/// number is its letter (A = 0) × 10^7 + its 7 digits; of a serial number
/// its 8 digits after the region; of a bank card number its 12 digits after
/// the BIN (only 19-digit numbers: shorter ones are never made here).
/// Hold the lock ([`hold_alone`]).
pub(super) async fn advance_past(
    conn: &mut PgConnection,
    cards: &[String],
) -> Result<(), sqlx::Error> {
    if cards.is_empty() {
        return Ok(());
    }
    sqlx::query(ADVANCE).bind(cards).execute(conn).await?;
    Ok(())
}

/// `setval` only where the highest stored number is at or past the next
/// number the sequence gives (`pg_sequence_last_value` is NULL before the
/// first `nextval`, whose value is then 0).
const ADVANCE: &str = "
    WITH highest AS (
        SELECT max((ascii(left(card_number, 1)) - 65)::bigint * 10000000
                   + substr(card_number, 2, 7)::bigint) AS card,
               max(substr(serial_number, 7, 8)::bigint) AS serial,
               max(substr(bank_card_number, 7, 12)::bigint)
                   FILTER (WHERE length(bank_card_number) = 19) AS bank_card
        FROM cards WHERE card_number = ANY($1))
    SELECT
        CASE WHEN card >= COALESCE(pg_sequence_last_value('card_number_seq') + 1, 0)
             THEN setval('card_number_seq', card) END,
        CASE WHEN serial >= COALESCE(pg_sequence_last_value('serial_number_seq') + 1, 0)
             THEN setval('serial_number_seq', serial) END,
        CASE WHEN bank_card >= COALESCE(pg_sequence_last_value('bank_card_number_seq') + 1, 0)
             THEN setval('bank_card_number_seq', bank_card) END
    FROM highest";

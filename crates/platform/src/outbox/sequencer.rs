//! Writing events, and numbering them in commit order (see the module above).

use sqlx::{PgConnection, PgPool};

/// The common table expression that appends events `$E_TYPES` /
/// `$E_PAYLOADS` (`text[]`, `bytea[]`, in order), unnumbered, each with the
/// trace context `$E_TRACEPARENT` / `$E_TRACESTATE` (`text`): spliced into
/// the statement that ends a mutation, with the placeholders replaced by the
/// statement's parameter numbers.
pub(crate) const APPEND: &str = "
    event AS (
        INSERT INTO outbox (event_type, payload, traceparent, tracestate)
        SELECT u.t, u.p, $E_TRACEPARENT::text, $E_TRACESTATE::text
        FROM UNNEST($E_TYPES::text[], $E_PAYLOADS::bytea[]) WITH ORDINALITY AS u(t, p, n)
        ORDER BY u.n)";

/// Appends `events` in `conn`'s transaction outside the mutation pipeline,
/// for a change that is not a call's: a projector recording something of
/// its own while it applies another service's events. They carry the
/// current trace context, and wake the watchers at commit, as a call's do.
pub async fn append(
    conn: &mut PgConnection,
    events: &crate::mutation::Events,
) -> Result<(), sqlx::Error> {
    let (types, payloads) = events.columns();
    if types.is_empty() {
        return Ok(());
    }
    let (traceparent, tracestate) = crate::trace::current_traceparent();
    let text = |value: String| (!value.is_empty()).then_some(value);
    let statement = format!(
        "WITH {append} SELECT pg_notify(current_schema() || '.outbox', '')",
        append = APPEND
            .replace("$E_TYPES", "$1")
            .replace("$E_PAYLOADS", "$2")
            .replace("$E_TRACEPARENT", "$3")
            .replace("$E_TRACESTATE", "$4"),
    );
    sqlx::query(sqlx::AssertSqlSafe(statement))
        .bind(&types)
        .bind(&payloads)
        .bind(text(traceparent))
        .bind(text(tracestate))
        .execute(conn)
        .await?;
    Ok(())
}

/// Events numbered by one run of the sequencer, at most.
pub(super) const SEQUENCE_BATCH: i64 = 10_000;

/// What one run of the sequencer did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sequenced {
    /// Events it numbered.
    pub numbered: u64,
    /// The last position given, by this run or an earlier one: a reader at
    /// it has every numbered event.
    pub head: i64,
}

/// Numbers the committed, unnumbered events (at most [`SEQUENCE_BATCH`]) in
/// insertion order, after the last position given, in a transaction of its
/// own; one sequencer at a time per outbox (an advisory lock: a second one
/// waits for the first, then numbers what is left). Wakes the watchers if
/// it numbered any.
///
/// With nothing to number — every wake of a watcher but the first after a
/// commit, and every idle poll — it is one statement that reads an index and
/// the head and writes nothing: no transaction, no lock, no WAL. (Every event
/// committed before the call is visible to that read, so an answer of none
/// holds for them all.)
pub async fn sequence(pool: &PgPool) -> Result<Sequenced, sqlx::Error> {
    let (pending, head): (bool, i64) = sqlx::query_as(
        "SELECT EXISTS (SELECT FROM outbox WHERE position IS NULL), position FROM outbox_head",
    )
    .fetch_one(pool)
    .await?;
    if !pending {
        return Ok(Sequenced { numbered: 0, head });
    }
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.outbox_sequencer'))")
        .execute(&mut *tx)
        .await?;
    let numbered = sqlx::query(
        "WITH pending AS (
             SELECT seq, occurred_at, row_number() OVER (ORDER BY seq) AS n
             FROM outbox WHERE position IS NULL ORDER BY seq LIMIT $1),
         head AS (
             UPDATE outbox_head SET position = position + (SELECT count(*) FROM pending)
             RETURNING position - (SELECT count(*) FROM pending) AS base)
         UPDATE outbox o SET position = head.base + pending.n
         FROM pending, head
         WHERE o.seq = pending.seq AND o.occurred_at = pending.occurred_at",
    )
    .bind(SEQUENCE_BATCH)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    // The head, and the watchers woken if there is anything new for them.
    let head: i64 = sqlx::query_scalar(
        "SELECT position FROM outbox_head
         WHERE CASE WHEN $1 > 0 THEN pg_notify(current_schema() || '.outbox', '') IS NOT NULL
                    ELSE true END",
    )
    .bind(numbered as i64)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Sequenced { numbered, head })
}

//! The transactional outbox and the resumable event stream built on it.
//!
//! A service [`append`]s an event in the same transaction as the change it
//! describes. [`watch`] streams events in `(txid, seq)` order from after a
//! consumer's cursor, and only events of transactions older than every
//! transaction still running: an event that commits late can therefore never
//! land behind a cursor a consumer already holds. New events are picked up by
//! `LISTEN/NOTIFY`, with a poll as a fallback. Consumers keep the cursor of the
//! last event they processed and resume from it; a duplicate delivered after a
//! crash carries the same cursor, so it is harmless.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool, postgres::PgListener};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Status};

use crate::error;

const BATCH: i64 = 500;
const POLL: Duration = Duration::from_secs(1);

/// A position in the outbox: (transaction id, sequence number).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    txid: i64,
    seq: i64,
}

impl Cursor {
    /// Parses a cursor given back by a consumer; empty is the beginning.
    pub fn parse(value: &str) -> Option<Self> {
        if value.is_empty() {
            return Some(Self::default());
        }
        let (txid, seq) = value.split_once('-')?;
        Some(Self {
            txid: txid.parse().ok().filter(|v: &i64| *v >= 0)?,
            seq: seq.parse().ok().filter(|v: &i64| *v >= 0)?,
        })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.txid, self.seq)
    }
}

#[derive(Clone, Debug)]
pub struct OutboxEvent {
    pub cursor: Cursor,
    pub event_type: String,
    pub payload: Vec<u8>,
    pub occurred_at: DateTime<Utc>,
}

/// Writes an event in the caller's transaction and wakes the watchers at commit.
pub async fn append(
    conn: &mut PgConnection,
    event_type: &str,
    payload: &[u8],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH e AS (INSERT INTO outbox (event_type, payload) VALUES ($1, $2))
         SELECT pg_notify(current_schema() || '.outbox', '')",
    )
    .bind(event_type)
    .bind(payload)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes many events in one statement, in slice order.
pub async fn append_many(
    conn: &mut PgConnection,
    events: &[(&str, Vec<u8>)],
) -> Result<(), sqlx::Error> {
    if events.is_empty() {
        return Ok(());
    }
    let types: Vec<&str> = events.iter().map(|(t, _)| *t).collect();
    let payloads: Vec<&[u8]> = events.iter().map(|(_, p)| p.as_slice()).collect();
    sqlx::query(
        "WITH e AS (
             INSERT INTO outbox (event_type, payload)
             SELECT t, p FROM UNNEST($1::text[], $2::bytea[]) WITH ORDINALITY AS u(t, p, n)
             ORDER BY n)
         SELECT pg_notify(current_schema() || '.outbox', '')",
    )
    .bind(&types)
    .bind(&payloads)
    .execute(conn)
    .await?;
    Ok(())
}

/// Committed events after `after`, at most `limit`, in stream order.
pub async fn read_after(
    pool: &PgPool,
    after: Cursor,
    limit: i64,
) -> Result<Vec<OutboxEvent>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        txid: i64,
        seq: i64,
        event_type: String,
        payload: Vec<u8>,
        occurred_at: DateTime<Utc>,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT txid::text::bigint AS txid, seq, event_type, payload, occurred_at
         FROM outbox
         WHERE (txid, seq) > ($1::bigint::text::xid8, $2)
           AND txid < pg_snapshot_xmin(pg_current_snapshot())
         ORDER BY txid, seq
         LIMIT $3",
    )
    .bind(after.txid)
    .bind(after.seq)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| OutboxEvent {
            cursor: Cursor {
                txid: row.txid,
                seq: row.seq,
            },
            event_type: row.event_type,
            payload: row.payload,
            occurred_at: row.occurred_at,
        })
        .collect())
}

/// Streams every event after `after`, then new ones as they commit, until the
/// receiver goes away.
pub async fn watch(
    pool: PgPool,
    schema: &str,
    mut after: Cursor,
) -> Result<ReceiverStream<Result<OutboxEvent, Status>>, Status> {
    let mut listener = PgListener::connect_with(&pool).await.map_err(database)?;
    listener
        .listen(&format!("{schema}.outbox"))
        .await
        .map_err(database)?;
    let (sender, receiver) = mpsc::channel(BATCH as usize);
    tokio::spawn(async move {
        loop {
            let batch = match read_after(&pool, after, BATCH).await {
                Ok(batch) => batch,
                Err(e) => {
                    let _ = sender.send(Err(database(e))).await;
                    return;
                }
            };
            let full = batch.len() as i64 == BATCH;
            for event in batch {
                after = event.cursor;
                if sender.send(Ok(event)).await.is_err() {
                    return;
                }
            }
            if full {
                continue;
            }
            // Wait for a commit, or poll: an event withheld because an older
            // transaction was still running is picked up on the next round.
            tokio::select! {
                received = listener.recv() => {
                    if received.is_err() {
                        tokio::time::sleep(POLL).await;
                    }
                }
                _ = tokio::time::sleep(POLL) => {}
                _ = sender.closed() => return,
            }
        }
    });
    Ok(ReceiverStream::new(receiver))
}

/// A `Watch…Events` stream of decoded events `E`, after the consumer's
/// cursor (refused as `after.cursor` if it is not one of ours). `stamp` sets
/// each event's cursor and commit time.
pub async fn event_stream<E>(
    pool: PgPool,
    schema: &str,
    after: &str,
    stamp: fn(&mut E, String, prost_types::Timestamp),
) -> Result<futures::stream::BoxStream<'static, Result<E, Status>>, Status>
where
    E: prost::Message + Default + 'static,
{
    use futures::StreamExt;

    let Some(cursor) = Cursor::parse(after) else {
        let mut violations = error::FieldViolations::new();
        violations.add(
            "after.cursor",
            "CURSOR_INVALID",
            "is not a cursor this stream issued",
        );
        return Err(violations.into_status());
    };
    let events = watch(pool, schema, cursor).await?;
    Ok(events
        .map(move |item| {
            let stored = item?;
            let mut event = E::decode(stored.payload.as_slice()).map_err(|e| {
                tracing::error!(error = %e, cursor = %stored.cursor, "undecodable event in outbox");
                error::internal()
            })?;
            stamp(
                &mut event,
                stored.cursor.to_string(),
                crate::clock::timestamp(stored.occurred_at),
            );
            Ok(event)
        })
        .boxed())
}

fn database(e: sqlx::Error) -> Status {
    tracing::error!(error = %e, "outbox read failed");
    error::status(
        Code::Unavailable,
        "EVENTS_UNAVAILABLE",
        "event store unavailable; resume from your cursor",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_order() {
        let a = Cursor::parse("10-5").unwrap();
        assert_eq!(a.to_string(), "10-5");
        assert!(Cursor::parse("11-1").unwrap() > a);
        assert_eq!(Cursor::parse(""), Some(Cursor::default()));
        assert_eq!(Cursor::parse("x-1"), None);
        assert_eq!(Cursor::parse("-1-1"), None);
    }
}

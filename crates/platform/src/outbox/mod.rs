//! The transactional outbox and the resumable event stream built on it.
//!
//! A change's events are written in the same transaction as the change, by
//! the mutation pipeline's last statement ([`APPEND`]), without a position.
//! [`sequence`] — run by the stream readers, one at a time under an
//! advisory lock, in a short transaction of its own — gives every
//! committed, unnumbered event the next *positions*, in insertion order.
//! Positions are therefore gap-free and assigned only to committed events,
//! and [`watch`] can deliver every numbered event after a consumer's cursor
//! at once: no waiting for other transactions, so a monthly run, a card
//! batch or a forgotten `psql` session holding a transaction open delays no
//! event, and writers never wait for each other.
//!
//! New events are picked up by `LISTEN/NOTIFY`, with a poll as a fallback.
//! Consumers keep the cursor (the position) of the last event they processed
//! and resume from it; a duplicate delivered after a crash carries the same
//! cursor, so it is harmless.

use std::{sync::atomic::Ordering, time::Duration};

use chrono::{DateTime, Utc};
use sqlx::{PgPool, postgres::PgListener};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Code, Status};

use socsec_proto::common::v1::TraceContext;

use crate::error;

mod cursor;
mod sequencer;

pub use cursor::{Cursor, GivenCursor};

pub(crate) use sequencer::APPEND;
use sequencer::SEQUENCE_BATCH;
pub use sequencer::{Sequenced, append, sequence};

const BATCH: i64 = 500;
/// The longest a caught-up stream stays silent: consumers judge their
/// freshness by the heartbeats.
pub const POLL: Duration = Duration::from_millis(500);

#[derive(Clone, Debug)]
pub struct OutboxEvent {
    pub cursor: Cursor,
    pub event_type: String,
    pub payload: Vec<u8>,
    pub occurred_at: DateTime<Utc>,
    /// The W3C trace context of the call that produced it (empty: none).
    pub traceparent: String,
    pub tracestate: String,
}

/// Committed events after `after`, at most `limit`, in commit order.
pub async fn read_after(
    pool: &PgPool,
    after: Cursor,
    limit: i64,
) -> Result<Vec<OutboxEvent>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        position: i64,
        event_type: String,
        payload: Vec<u8>,
        occurred_at: DateTime<Utc>,
        traceparent: Option<String>,
        tracestate: Option<String>,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT position, event_type, payload, occurred_at, traceparent, tracestate
         FROM outbox WHERE position > $1 ORDER BY position LIMIT $2",
    )
    .bind(after.0)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| OutboxEvent {
            cursor: Cursor(row.position),
            event_type: row.event_type,
            payload: row.payload,
            occurred_at: row.occurred_at,
            traceparent: row.traceparent.unwrap_or_default(),
            tracestate: row.tracestate.unwrap_or_default(),
        })
        .collect())
}

/// The earliest cursor a consumer can resume from: events after it are all
/// still kept (retention deletes the oldest ones).
pub async fn oldest_kept(pool: &PgPool) -> Result<Cursor, sqlx::Error> {
    let first: i64 = sqlx::query_scalar(
        "SELECT coalesce((SELECT min(position) FROM outbox),
                         (SELECT position + 1 FROM outbox_head))",
    )
    .fetch_one(pool)
    .await?;
    Ok(Cursor(first - 1))
}

/// What a watch delivers: an event, or word that the stream has caught up.
#[derive(Clone, Debug)]
pub enum Delivery {
    Event(OutboxEvent),
    /// Every event committed before `at` has been delivered (the last one
    /// at `cursor`).
    CaughtUp {
        cursor: Cursor,
        at: DateTime<Utc>,
    },
}

/// Streams every event after `after`, then new ones as they commit, until
/// the receiver goes away or `stop` is cancelled. With `heartbeats`, also a
/// [`Delivery::CaughtUp`] each time it has caught up (at least every
/// [`POLL`] while idle).
pub async fn watch(
    pool: PgPool,
    schema: &str,
    mut after: Cursor,
    heartbeats: bool,
    stop: CancellationToken,
) -> Result<ReceiverStream<Result<Delivery, Status>>, Status> {
    let mut listener = PgListener::connect_with(&pool).await.map_err(database)?;
    listener
        .listen(&format!("{schema}.outbox"))
        .await
        .map_err(database)?;
    let (sender, receiver) = mpsc::channel(BATCH as usize);
    tokio::spawn(async move {
        loop {
            // Everything committed before this instant is numbered by the
            // sequencer run that follows (unless it hits its batch limit)
            // and visible to the read after it.
            let read_at = Utc::now();
            let sequenced = match sequence(&pool).await {
                Ok(sequenced) => sequenced,
                Err(e) => {
                    let _ = sender.send(Err(database(e))).await;
                    return;
                }
            };
            // At the head already (an idle poll, a wake for events another
            // reader has delivered): nothing to read.
            let batch = if sequenced.head <= after.0 {
                Vec::new()
            } else {
                match read_after(&pool, after, BATCH).await {
                    Ok(batch) => batch,
                    Err(e) => {
                        let _ = sender.send(Err(database(e))).await;
                        return;
                    }
                }
            };
            let full = batch.len() as i64 == BATCH || sequenced.numbered == SEQUENCE_BATCH as u64;
            for event in batch {
                after = event.cursor;
                if sender.send(Ok(Delivery::Event(event))).await.is_err() {
                    return;
                }
            }
            if full {
                continue;
            }
            let caught_up = Delivery::CaughtUp {
                cursor: after,
                at: read_at,
            };
            if heartbeats && sender.send(Ok(caught_up)).await.is_err() {
                return;
            }
            // Wait for a commit, or poll in case a notification was lost.
            tokio::select! {
                received = listener.recv() => {
                    if received.is_err() {
                        tokio::time::sleep(POLL).await;
                    }
                }
                _ = tokio::time::sleep(POLL) => {}
                _ = sender.closed() => return,
                _ = stop.cancelled() => return,
            }
        }
    });
    Ok(ReceiverStream::new(receiver))
}

/// An event message of a `Watch…Events` stream (`CardEvent` …): a payload
/// decoded from the outbox, stamped with its cursor, commit time and the
/// trace context of the call that produced it, or a heartbeat saying the
/// stream has caught up.
pub trait StreamEvent: prost::Message + Default + 'static {
    fn stamp(
        &mut self,
        cursor: String,
        occurred_at: prost_types::Timestamp,
        trace: Option<TraceContext>,
    );
    fn caught_up(cursor: String, at: prost_types::Timestamp) -> Self;
}

macro_rules! stream_event {
    ($($t:ty),*) => {$(
        impl StreamEvent for $t {
            fn stamp(
                &mut self,
                cursor: String,
                occurred_at: prost_types::Timestamp,
                trace: Option<TraceContext>,
            ) {
                self.cursor = cursor;
                self.occurred_at = Some(occurred_at);
                self.trace = trace;
            }
            fn caught_up(cursor: String, at: prost_types::Timestamp) -> Self {
                Self {
                    cursor,
                    caught_up_at: Some(at),
                    ..Default::default()
                }
            }
        }
    )*};
}
stream_event!(
    socsec_proto::identity::v1::IdentityEvent,
    socsec_proto::card::v1::CardEvent,
    socsec_proto::activation::v1::ActivationEvent,
    socsec_proto::contribution::v1::ContributionEvent
);

/// The event streams of one service: its pool and schema, ended when the
/// service shuts down.
#[derive(Clone)]
pub struct EventStreams {
    pool: PgPool,
    schema: String,
    stop: CancellationToken,
    /// Where each open stream's position is reported for the metrics.
    subscribers: crate::metrics::Subscribers,
}

impl EventStreams {
    pub fn new(pool: PgPool, schema: String, stop: CancellationToken) -> Self {
        Self {
            pool,
            schema,
            stop,
            subscribers: Default::default(),
        }
    }

    /// Reports each open stream's position to `subscribers` (the metrics'
    /// event-stream lag).
    pub fn with_subscribers(mut self, subscribers: crate::metrics::Subscribers) -> Self {
        self.subscribers = subscribers;
        self
    }

    /// A `Watch…Events` stream after the consumer's cursor (refused as
    /// `after.cursor` if it is not one this stream issued), with heartbeats
    /// if asked for.
    pub async fn stream<E: StreamEvent>(
        &self,
        after: &str,
        heartbeats: bool,
    ) -> Result<futures::stream::BoxStream<'static, Result<E, Status>>, Status> {
        use futures::StreamExt;

        let Some(given) = Cursor::parse(after) else {
            let mut violations = error::FieldViolations::new();
            violations.add(
                "after.cursor",
                "CURSOR_INVALID",
                "is not a cursor this stream issued",
            );
            return Err(violations.into_status());
        };
        let cursor = given.resolve(&self.pool).await.map_err(database)?;
        if cursor < oldest_kept(&self.pool).await.map_err(database)? {
            return Err(error::status(
                Code::FailedPrecondition,
                "CURSOR_EXPIRED",
                "events after this cursor are past retention; resynchronise from a snapshot",
            ));
        }
        let deliveries = watch(
            self.pool.clone(),
            &self.schema,
            cursor,
            heartbeats,
            self.stop.clone(),
        )
        .await?;
        let position = self.subscribers.subscribe(cursor.position());
        Ok(deliveries
            .map(move |item| match item? {
                Delivery::Event(stored) => {
                    position.store(stored.cursor.position(), Ordering::Relaxed);
                    let mut event = E::decode(stored.payload.as_slice()).map_err(|e| {
                        tracing::error!(error = %e, cursor = %stored.cursor, "undecodable event in outbox");
                        error::internal()
                    })?;
                    let trace = (!stored.traceparent.is_empty()).then_some(TraceContext {
                        traceparent: stored.traceparent,
                        tracestate: stored.tracestate,
                    });
                    event.stamp(
                        stored.cursor.to_string(),
                        crate::clock::timestamp(stored.occurred_at),
                        trace,
                    );
                    Ok(event)
                }
                Delivery::CaughtUp { cursor, at } => {
                    position.store(cursor.position(), Ordering::Relaxed);
                    Ok(E::caught_up(
                    cursor.to_string(),
                        crate::clock::timestamp(at),
                    ))
                }
            })
            .boxed())
    }
}

fn database(e: sqlx::Error) -> Status {
    tracing::error!(error = %e, "outbox read failed");
    error::status(
        Code::Unavailable,
        "EVENTS_UNAVAILABLE",
        "event store unavailable; resume from your cursor",
    )
}

//! Keeps the local projections of cards (from card-issuance) and partners
//! (from identity) by following their event streams, with heartbeats.
//!
//! Each batch of events is applied in one transaction together with the
//! stream's cursor and the instant of its last heartbeat
//! (`store::apply_events`), so a restart resumes exactly where it stopped
//! and every instance can tell how far the projection is caught up (see
//! `domain::freshness`). Every projected row keeps the position of the
//! event that last changed it and never takes an older one, so a batch
//! applied twice (a rewound cursor, two instances) changes nothing.
//! One instance follows each stream at a time (`leader`). Reconnects back
//! off; a stream silent for longer than [`SILENCE`] despite heartbeats is
//! treated as dead and re-established.
//!
//! Each event carries the trace context of the call that produced it; the
//! projector continues that trace (`platform::trace`): a consumer span per
//! event, covering the transaction that applied it, and a debug line
//! `event applied` carrying the trace id.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use platform::{
    client::ServiceChannel,
    mutation::Events,
    outbox::Cursor,
    trace::{self, Traces},
};
use socsec_proto::{
    card::v1::{
        self as card, card_event::Event as CardEvent, card_service_client::CardServiceClient,
    },
    common::v1::{EventCursor, TraceContext},
    identity::v1::{
        self as identity, identity_event::Event as IdentityEvent,
        identity_service_client::IdentityServiceClient,
    },
};
use sqlx::{PgConnection, PgPool};

use crate::{
    api::present,
    partners::Partners,
    published::{
        self, card_state, imported_activation, legacy_status, partner, person, projected_card,
        to_utc,
    },
    store::{
        self,
        projection::{Apply, Progress},
    },
};

/// The `projection_cursors` row of card-issuance's stream.
pub const CARD_STREAM: &str = "card-issuance";
pub const IDENTITY_STREAM: &str = "identity";
const BATCH: usize = 500;
/// Heartbeats come at least every half second; this much silence means the
/// stream is dead even if its connection looks alive.
const SILENCE: Duration = Duration::from_secs(5);

async fn apply_card_event(
    conn: &mut PgConnection,
    position: i64,
    event: CardEvent,
) -> Result<(), sqlx::Error> {
    match event {
        CardEvent::CardIssued(c) => {
            let card = projected_card(&c)?;
            store::projection::upsert_card(conn, &card, position).await?;
            // A card imported as activated in the old system: that is its
            // activation here, published as `CardActivated` like one made
            // here (once; a redelivery changes nothing).
            let Some(activation) = c.imported_activation.as_ref().map(imported_activation) else {
                return Ok(());
            };
            let activation = activation?;
            if store::projection::record_imported_activation(conn, &card, activation).await? {
                let event = present::card_activated(
                    &present::imported_activation(&card.card_number, activation),
                    card.person_id,
                );
                platform::outbox::append(conn, &Events::one("CardActivated", event)).await?;
            }
            Ok(())
        }
        CardEvent::CardStatusChanged(c) => {
            store::projection::set_card_status(
                conn,
                &c.card_number,
                card_state(c.status),
                to_utc(c.received_at),
                position,
            )
            .await
        }
        CardEvent::LegacyCardRegistered(l) | CardEvent::LegacyCardRetired(l) => {
            store::projection::upsert_legacy_card(
                conn,
                &l.card_number,
                person(&l.person_id)?,
                legacy_status(l.status),
                position,
            )
            .await
        }
    }
}

async fn apply_identity_event(
    conn: &mut PgConnection,
    position: i64,
    event: IdentityEvent,
) -> Result<(), sqlx::Error> {
    if let IdentityEvent::PartnerChanged(changed) = event
        && let Some(p) = changed.partner.as_ref().and_then(published::partner)
    {
        store::projection::upsert_partner(conn, &p, position).await?;
    }
    Ok(())
}

/// Follows card-issuance's events until dropped (when this instance stops
/// leading, or the service stops).
pub async fn follow_cards(pool: PgPool, channel: ServiceChannel, traces: Traces) {
    let client = CardServiceClient::new(channel);
    follow(
        &pool,
        (CARD_STREAM, &traces),
        |after| {
            let mut client = client.clone();
            async move {
                let request = card::WatchCardEventsRequest {
                    after: Some(EventCursor { cursor: after }),
                    heartbeats: true,
                };
                let stream = client.watch_card_events(request).await?.into_inner();
                Ok(stream
                    .map(|item| {
                        item.map(|e| Delivered::new(e.cursor, e.event, e.caught_up_at, e.trace))
                    })
                    .boxed())
            }
        },
        |conn, position, event| Box::pin(apply_card_event(conn, position, event)),
        |_, _| {},
    )
    .await
}

/// Follows identity's events until dropped, keeping `partners` current.
pub async fn follow_identity(
    pool: PgPool,
    channel: ServiceChannel,
    partners: Partners,
    traces: Traces,
) {
    let client = IdentityServiceClient::new(channel);
    follow(
        &pool,
        (IDENTITY_STREAM, &traces),
        |after| {
            let mut client = client.clone();
            async move {
                let request = identity::WatchIdentityEventsRequest {
                    after: Some(EventCursor { cursor: after }),
                    heartbeats: true,
                };
                let stream = client.watch_identity_events(request).await?.into_inner();
                Ok(stream
                    .map(|item| {
                        item.map(|e| Delivered::new(e.cursor, e.event, e.caught_up_at, e.trace))
                    })
                    .boxed())
            }
        },
        |conn, position, event| Box::pin(apply_identity_event(conn, position, event)),
        |position, event| {
            if let IdentityEvent::PartnerChanged(changed) = event
                && let Some(p) = changed.partner.as_ref().and_then(partner)
            {
                partners.put(p, *position);
            }
        },
    )
    .await
}

/// One message of a stream: an event, or a heartbeat (`caught_up_at`).
struct Delivered<E> {
    cursor: String,
    event: Option<E>,
    caught_up_at: Option<DateTime<Utc>>,
    trace: Option<TraceContext>,
}

impl<E> Delivered<E> {
    fn new(
        cursor: String,
        event: Option<E>,
        caught_up_at: Option<prost_types::Timestamp>,
        trace: Option<TraceContext>,
    ) -> Self {
        Self {
            cursor,
            event,
            caught_up_at: to_utc(caught_up_at),
            trace,
        }
    }
}

type EventItem<E> = Result<Delivered<E>, tonic::Status>;

/// The position a stream's cursor stands for.
fn position(cursor: &str) -> Result<i64, String> {
    match Cursor::parse(cursor) {
        Some(platform::outbox::GivenCursor::Position(p)) => Ok(p.position()),
        _ => Err(format!(
            "the stream sent a cursor that is not a position: {cursor:?}"
        )),
    }
}

/// Applies a batch of card-issuance's stream (events and heartbeats, in
/// stream order) exactly as the card projector does. A batch older than
/// what is applied already changes nothing: this is what a second
/// instance, or one resuming from a rewound cursor, may do.
pub async fn apply_card_batch(pool: &PgPool, batch: Vec<card::CardEvent>) -> Result<(), String> {
    let batch = batch
        .into_iter()
        .map(|e| Delivered::new(e.cursor, e.event, e.caught_up_at, e.trace))
        .collect();
    apply_batch(
        pool,
        (CARD_STREAM, &Traces::default()),
        batch,
        |conn, position, event| Box::pin(apply_card_event(conn, position, event)),
    )
    .await
    .map(|_| ())
}

/// Applies `batch` with the stream's progress (its last cursor, its last
/// heartbeat) in one transaction, each event in the trace it carried;
/// returns the events applied.
async fn apply_batch<E: Clone>(
    pool: &PgPool,
    (stream, traces): (&'static str, &Traces),
    batch: Vec<Delivered<E>>,
    apply: Apply<E>,
) -> Result<Vec<(i64, E)>, String> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let mut progress: Option<Progress> = None;
    let mut applied = Vec::with_capacity(batch.len());
    let mut traced = Vec::new();
    for delivered in batch {
        let at = position(&delivered.cursor)?;
        if let (Some(trace), Some(_)) = (&delivered.trace, &delivered.event) {
            let cx = traces.consumer(&trace.traceparent, &trace.tracestate, stream);
            traced.push((cx, delivered.cursor.clone()));
        }
        applied.extend(delivered.event.map(|e| (at, e)));
        let caught_up_at = delivered
            .caught_up_at
            .or(progress.as_ref().and_then(|p| p.caught_up_at));
        progress = Some(Progress {
            cursor: delivered.cursor,
            position: at,
            caught_up_at,
        });
    }
    let outcome = store::apply_events(pool, stream, &applied, progress.as_ref(), apply)
        .await
        .map_err(|e| e.to_string());
    for (cx, cursor) in &traced {
        trace::event_span(cx, stream, cursor).in_scope(|| match &outcome {
            Ok(()) => tracing::debug!("event applied"),
            Err(e) => trace::failed(cx, e),
        });
    }
    outcome.map(|()| applied)
}

/// Connects with `connect(cursor)`, applies events in batches with their
/// cursor and last heartbeat in one transaction, calls `after_commit` for
/// each applied event, and reconnects (with backoff) whenever the stream
/// ends, fails or falls silent.
async fn follow<E, C, F>(
    pool: &PgPool,
    (stream, traces): (&'static str, &Traces),
    connect: C,
    apply: Apply<E>,
    after_commit: impl Fn(&i64, &E),
) where
    E: Clone + Send + 'static,
    C: Fn(String) -> F,
    F: std::future::Future<
            Output = Result<futures::stream::BoxStream<'static, EventItem<E>>, tonic::Status>,
        >,
{
    let mut backoff = Duration::from_millis(100);
    loop {
        let outcome: Result<(), String> = async {
            let cursor = store::cursor(pool, stream)
                .await
                .map_err(|e| e.to_string())?;
            let events = connect(cursor).await.map_err(|e| e.message().to_owned())?;
            tracing::info!(stream, "following events");
            let mut batches = events.ready_chunks(BATCH);
            loop {
                let batch = match tokio::time::timeout(SILENCE, batches.next()).await {
                    Ok(Some(batch)) => batch,
                    Ok(None) => return Ok(()),
                    Err(_) => return Err("no event or heartbeat for 5 s".to_owned()),
                };
                let mut delivered = Vec::with_capacity(batch.len());
                let mut failure = None;
                for item in batch {
                    match item {
                        Ok(item) => delivered.push(item),
                        Err(status) => {
                            failure = Some(status.message().to_owned());
                            break;
                        }
                    }
                }
                let applied = apply_batch(pool, (stream, traces), delivered, apply).await?;
                applied.iter().for_each(|(at, e)| after_commit(at, e));
                backoff = Duration::from_millis(100);
                if let Some(failure) = failure {
                    return Err(failure);
                }
            }
        }
        .await;
        if let Err(e) = outcome {
            tracing::warn!(stream, error = %e, retry_ms = backoff.as_millis() as u64, "event stream interrupted");
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

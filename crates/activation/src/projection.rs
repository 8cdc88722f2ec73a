//! Keeps the local projections of cards (from card-issuance) and partners
//! (from identity) by following their event streams. Each batch of events
//! is applied in one transaction together with the stream's cursor
//! (`store::apply_events`), so a restart resumes exactly where it stopped;
//! reconnects back off.

use std::time::Duration;

use futures::StreamExt;
use pii::{BankCardNumber, CardIdentificationCode, CardNumber, SerialNumber};
use platform::client::ServiceChannel;
use socsec_proto::{
    card::v1::{
        self as card, card_event::Event as CardEvent, card_service_client::CardServiceClient,
    },
    common::v1::EventCursor,
    identity::v1::{
        self as identity, identity_event::Event as IdentityEvent,
        identity_service_client::IdentityServiceClient,
    },
};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::{
    domain::{CardState, LegacyStatus, Partner},
    partners::Partners,
    store::{self, ProjectedCard, projection::Apply},
};

const CARD_STREAM: &str = "card-issuance";
const IDENTITY_STREAM: &str = "identity";
const BATCH: usize = 500;

fn to_utc(t: Option<prost_types::Timestamp>) -> Option<chrono::DateTime<chrono::Utc>> {
    t.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos as u32))
}

/// A card's status as published; one this service does not know is
/// treated as cancelled (never usable), as it always was.
fn card_state(status: i32) -> CardState {
    match card::CardStatus::try_from(status) {
        Ok(card::CardStatus::Issued) => CardState::Issued,
        Ok(card::CardStatus::Received) => CardState::Received,
        Ok(card::CardStatus::Lost) => CardState::Lost,
        Ok(card::CardStatus::Replaced) => CardState::Replaced,
        _ => CardState::Cancelled,
    }
}

fn person(id: &str) -> Result<Uuid, sqlx::Error> {
    Uuid::parse_str(id).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// A published identifier that does not parse: the batch is not applied.
fn identifier<T>(field: &str, parsed: Result<T, pii::CardIdError>) -> Result<T, sqlx::Error> {
    parsed.map_err(|e| sqlx::Error::Decode(format!("published {field} is invalid: {e}").into()))
}

fn projected_card(c: &card::Card) -> Result<ProjectedCard, sqlx::Error> {
    Ok(ProjectedCard {
        card_number: identifier("card_number", CardNumber::parse(&c.card_number))?,
        card_identification_code: identifier(
            "card_identification_code",
            CardIdentificationCode::parse(&c.card_identification_code),
        )?,
        serial_number: identifier("serial_number", SerialNumber::parse(&c.serial_number))?,
        person_id: person(&c.person_id)?,
        bank_code: c.bank_code.clone(),
        bank_card_number: identifier(
            "bank_card_number",
            BankCardNumber::parse(&c.bank_card_number),
        )?,
        issuing_region_code: c.issuing_region_code.clone(),
        status: card_state(c.status),
        received_at: to_utc(c.received_at),
    })
}

async fn apply_card_event(conn: &mut PgConnection, event: CardEvent) -> Result<(), sqlx::Error> {
    match event {
        CardEvent::CardIssued(c) => {
            store::projection::upsert_card(conn, &projected_card(&c)?).await
        }
        CardEvent::CardStatusChanged(c) => {
            store::projection::set_card_status(
                conn,
                &c.card_number,
                card_state(c.status),
                to_utc(c.received_at),
            )
            .await
        }
        CardEvent::LegacyCardRegistered(l) | CardEvent::LegacyCardRetired(l) => {
            let status = if l.status == card::LegacyCardStatus::Retired as i32 {
                LegacyStatus::Retired
            } else {
                LegacyStatus::Active
            };
            store::projection::upsert_legacy_card(
                conn,
                &l.card_number,
                person(&l.person_id)?,
                status,
            )
            .await
        }
    }
}

/// The partner as identity published it; `None` (logged) for a kind this
/// service does not know.
pub(crate) fn partner(p: &identity::Partner) -> Option<Partner> {
    let Some(registration) = platform::registry::registration(p) else {
        tracing::warn!(partner = %p.code, kind = p.kind, "partner of an unknown kind ignored");
        return None;
    };
    Some(Partner {
        code: p.code.clone(),
        registration,
        parent_code: (!p.parent_code.is_empty()).then(|| p.parent_code.clone()),
    })
}

async fn apply_identity_event(
    conn: &mut PgConnection,
    event: IdentityEvent,
) -> Result<(), sqlx::Error> {
    if let IdentityEvent::PartnerChanged(changed) = event
        && let Some(p) = changed.partner.as_ref().and_then(partner)
    {
        store::projection::upsert_partner(conn, &p).await?;
    }
    Ok(())
}

/// Follows card-issuance's events for ever.
pub async fn follow_cards(pool: PgPool, channel: ServiceChannel) {
    let client = CardServiceClient::new(channel);
    follow(
        &pool,
        CARD_STREAM,
        |after| {
            let mut client = client.clone();
            async move {
                let request = card::WatchCardEventsRequest {
                    after: Some(EventCursor { cursor: after }),
                    heartbeats: false,
                };
                let stream = client.watch_card_events(request).await?.into_inner();
                Ok(stream.map(|item| item.map(|e| (e.cursor, e.event))).boxed())
            }
        },
        |conn, event| Box::pin(apply_card_event(conn, event)),
        |_| {},
    )
    .await
}

/// Follows identity's events for ever, keeping `partners` current.
pub async fn follow_identity(pool: PgPool, channel: ServiceChannel, partners: Partners) {
    let client = IdentityServiceClient::new(channel);
    follow(
        &pool,
        IDENTITY_STREAM,
        |after| {
            let mut client = client.clone();
            async move {
                let request = identity::WatchIdentityEventsRequest {
                    after: Some(EventCursor { cursor: after }),
                    heartbeats: false,
                };
                let stream = client.watch_identity_events(request).await?.into_inner();
                Ok(stream.map(|item| item.map(|e| (e.cursor, e.event))).boxed())
            }
        },
        |conn, event| Box::pin(apply_identity_event(conn, event)),
        |event| {
            if let IdentityEvent::PartnerChanged(changed) = event
                && let Some(p) = changed.partner.as_ref().and_then(partner)
            {
                partners.put(p);
            }
        },
    )
    .await
}

type EventItem<E> = Result<(String, Option<E>), tonic::Status>;

/// Connects with `connect(cursor)`, applies events in batches with their
/// cursor in one transaction, calls `after_commit` for each applied event,
/// and reconnects (with backoff) whenever the stream ends or fails.
async fn follow<E, C, F>(
    pool: &PgPool,
    stream: &'static str,
    connect: C,
    apply: Apply<E>,
    after_commit: impl Fn(&E),
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
            while let Some(batch) = batches.next().await {
                let mut last = None;
                let mut applied = Vec::with_capacity(batch.len());
                let mut failure = None;
                for item in batch {
                    match item {
                        Ok((cursor, event)) => {
                            applied.extend(event);
                            last = Some(cursor);
                        }
                        Err(status) => {
                            failure = Some(status.message().to_owned());
                            break;
                        }
                    }
                }
                store::apply_events(pool, stream, &applied, last.as_deref(), apply)
                    .await
                    .map_err(|e| e.to_string())?;
                applied.iter().for_each(&after_commit);
                backoff = Duration::from_millis(100);
                if let Some(failure) = failure {
                    return Err(failure);
                }
            }
            Ok(())
        }
        .await;
        if let Err(e) = outcome {
            tracing::warn!(stream, error = %e, retry_ms = backoff.as_millis() as u64, "event stream interrupted");
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

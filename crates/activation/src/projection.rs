//! Keeps the local projections of cards (from card-issuance) and partners
//! (from identity) by following their event streams. Each batch of events
//! is applied in one transaction together with the stream's cursor, so a
//! restart resumes exactly where it stopped; reconnects back off.

use std::time::Duration;

use futures::StreamExt;
use platform::client::ServiceChannel;
use socsec_proto::{
    card::v1::{
        self as card, card_event::Event as CardEvent, card_service_client::CardServiceClient,
    },
    common::v1::{EventCursor, PartnerKind},
    identity::v1::{
        self as identity, identity_event::Event as IdentityEvent,
        identity_service_client::IdentityServiceClient,
    },
};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::{
    partners::Partners,
    store::{self, PartnerRow, ProjectedCard},
};

const CARD_STREAM: &str = "card-issuance";
const IDENTITY_STREAM: &str = "identity";
const BATCH: usize = 500;

fn to_utc(t: Option<prost_types::Timestamp>) -> Option<chrono::DateTime<chrono::Utc>> {
    t.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos as u32))
}

fn card_status(status: i32) -> &'static str {
    match card::CardStatus::try_from(status) {
        Ok(card::CardStatus::Issued) => "ISSUED",
        Ok(card::CardStatus::Received) => "RECEIVED",
        Ok(card::CardStatus::Lost) => "LOST",
        Ok(card::CardStatus::Replaced) => "REPLACED",
        _ => "CANCELLED",
    }
}

fn person(id: &str) -> Result<Uuid, sqlx::Error> {
    Uuid::parse_str(id).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

async fn apply_card_event(conn: &mut PgConnection, event: CardEvent) -> Result<(), sqlx::Error> {
    match event {
        CardEvent::CardIssued(c) => {
            store::upsert_card(
                conn,
                &ProjectedCard {
                    card_number: &c.card_number,
                    card_identification_code: &c.card_identification_code,
                    serial_number: &c.serial_number,
                    person_id: person(&c.person_id)?,
                    bank_code: &c.bank_code,
                    bank_card_number: &c.bank_card_number,
                    issuing_region_code: &c.issuing_region_code,
                    status: card_status(c.status),
                    received_at: to_utc(c.received_at),
                },
            )
            .await
        }
        CardEvent::CardStatusChanged(c) => {
            store::set_card_status(
                conn,
                &c.card_number,
                card_status(c.status),
                to_utc(c.received_at),
            )
            .await
        }
        CardEvent::LegacyCardRegistered(l) | CardEvent::LegacyCardRetired(l) => {
            let status = if l.status == card::LegacyCardStatus::Retired as i32 {
                "RETIRED"
            } else {
                "ACTIVE"
            };
            store::upsert_legacy_card(conn, &l.card_number, person(&l.person_id)?, status).await
        }
    }
}

fn partner_kind(kind: i32) -> &'static str {
    match PartnerKind::try_from(kind) {
        Ok(PartnerKind::Bank) => "bank",
        Ok(PartnerKind::BankOutlet) => "bank_outlet",
        Ok(PartnerKind::Hospital) => "hospital",
        Ok(PartnerKind::Pharmacy) => "pharmacy",
        Ok(PartnerKind::HrAgency) => "hr_agency",
        Ok(PartnerKind::Employer) => "employer",
        Ok(PartnerKind::HotlineCenter) => "hotline_center",
        _ => "unknown",
    }
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
                };
                let stream = client.watch_identity_events(request).await?.into_inner();
                Ok(stream.map(|item| item.map(|e| (e.cursor, e.event))).boxed())
            }
        },
        |conn, event| {
            Box::pin(async move {
                if let IdentityEvent::PartnerChanged(changed) = event
                    && let Some(p) = changed.partner
                {
                    store::upsert_partner(conn, &partner_row(&p)).await?;
                }
                Ok(())
            })
        },
        |event| {
            if let IdentityEvent::PartnerChanged(changed) = event
                && let Some(p) = &changed.partner
            {
                partners.put(partner_row(p));
            }
        },
    )
    .await
}

pub(crate) fn partner_row(p: &identity::Partner) -> PartnerRow {
    PartnerRow {
        code: p.code.clone(),
        kind: partner_kind(p.kind).to_owned(),
        parent_code: (!p.parent_code.is_empty()).then(|| p.parent_code.clone()),
        designation_in_force: p.designation_in_force,
    }
}

type EventItem<E> = Result<(String, Option<E>), tonic::Status>;
type Apply<E> =
    for<'c> fn(&'c mut PgConnection, E) -> futures::future::BoxFuture<'c, Result<(), sqlx::Error>>;

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
                let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
                let mut last = None;
                let mut applied = Vec::with_capacity(batch.len());
                let mut failure = None;
                for item in batch {
                    match item {
                        Ok((cursor, event)) => {
                            if let Some(event) = event {
                                apply(&mut tx, event.clone())
                                    .await
                                    .map_err(|e| e.to_string())?;
                                applied.push(event);
                            }
                            last = Some(cursor);
                        }
                        Err(status) => {
                            failure = Some(status.message().to_owned());
                            break;
                        }
                    }
                }
                if let Some(cursor) = &last {
                    store::save_cursor(&mut tx, stream, cursor)
                        .await
                        .map_err(|e| e.to_string())?;
                }
                tx.commit().await.map_err(|e| e.to_string())?;
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

/// Tells card-issuance about old cards the pharmacy channel retired, until
/// it has acknowledged each; woken after every such activation and every
/// few seconds.
pub async fn relay_retirements(
    pool: PgPool,
    directory: crate::directory::Directory,
    wake: std::sync::Arc<tokio::sync::Notify>,
) {
    loop {
        match store::pending_retirements(&pool, 100).await {
            Ok(pending) => {
                for p in pending {
                    let delivered = match directory
                        .retire_legacy_card(&p.legacy_card_number, &p.card_number)
                        .await
                    {
                        Ok(()) => true,
                        // Retired already (by an earlier attempt): delivered.
                        Err(status) => {
                            let reason = platform_reason(&status);
                            if reason == "LEGACY_CARD_RETIRED" {
                                true
                            } else {
                                tracing::warn!(legacy = %p.legacy_card_number, code = ?status.code(), "retirement not delivered; will retry");
                                false
                            }
                        }
                    };
                    let recorded = if delivered {
                        store::retirement_delivered(&pool, &p.legacy_card_number).await
                    } else {
                        store::retirement_failed(&pool, &p.legacy_card_number).await
                    };
                    if let Err(e) = recorded {
                        tracing::warn!(error = %e, "could not record a retirement's delivery");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not read pending retirements"),
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}

fn platform_reason(status: &tonic::Status) -> String {
    use tonic_types::StatusExt;
    status
        .get_details_error_info()
        .map(|i| i.reason)
        .unwrap_or_default()
}

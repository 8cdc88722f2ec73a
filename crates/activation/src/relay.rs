//! Tells card-issuance about old cards the pharmacy channel retired. The
//! retirement itself committed with the activation (`legacy_retirements`);
//! the call to card-issuance is made here, outside any transaction, until
//! card-issuance has acknowledged each.
//!
//! Every instance runs the relay: each sweep claims the entries that are
//! due for a lease (`FOR UPDATE SKIP LOCKED`), so two instances never send
//! the same entry at once, and an entry whose sender vanished is taken up
//! again when its lease ends. Each entry has its own schedule: a failure
//! backs off (with jitter) for that entry alone, and one card-issuance
//! refuses for good (INVALID_ARGUMENT, FAILED_PRECONDITION, NOT_FOUND) is
//! parked — logged (masked) when parked, and counted in a warning every
//! [`BACKLOG_LOG`] while any is parked — so no entry can hold up the
//! others. Each delivery is a task of its own (up to [`IN_FLIGHT`] at
//! once): a slow one (card-issuance answering only at its deadline) holds
//! one place, never the sweep, so the next entry due goes out at once.
//! The request id sent is built from the entry's opaque id, never from the
//! old card's number (it may be an ID number), and that number
//! appears in logs only masked.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use sqlx::PgPool;
use tokio::{
    sync::{Notify, Semaphore},
    task::JoinSet,
};

use crate::{
    directory::{self, Directory},
    domain::legacy,
    store::{self, PendingRetirement, RelayBacklog},
};

/// Entries claimed at most per claim, and how many are sent at once.
const CLAIM: i64 = 20;
const IN_FLIGHT: usize = 64;
/// How long a claimed entry is left to its sender.
const LEASE: Duration = Duration::from_secs(120);
/// A sweep at least this often (besides the wake-up after each pharmacy
/// activation on this instance).
const SWEEP: Duration = Duration::from_secs(1);
/// How often the backlog is logged while entries are parked.
const BACKLOG_LOG: Duration = Duration::from_secs(60);

/// What became of one attempt.
enum Outcome {
    Delivered,
    Retry(String),
    Park(String),
}

/// Delivers pending retirements for ever; woken after every pharmacy
/// activation, whenever a delivery ends, and every second.
pub async fn relay_retirements(pool: PgPool, directory: Directory, wake: Arc<Notify>) {
    let places = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut deliveries = JoinSet::new();
    let mut logged: Option<(Instant, RelayBacklog)> = None;
    loop {
        while places.available_permits() > 0 {
            let free = places.available_permits().min(CLAIM as usize) as i64;
            let due = match store::claim_due_retirements(&pool, free, LEASE).await {
                Ok(due) => due,
                Err(e) => {
                    tracing::warn!(error = %e, "could not claim pending retirements");
                    break;
                }
            };
            let claimed = due.len() as i64;
            for entry in due {
                let place = places
                    .clone()
                    .try_acquire_owned()
                    .expect("claimed no more than free");
                let (pool, directory) = (pool.clone(), directory.clone());
                deliveries.spawn(async move {
                    deliver(&pool, &directory, entry).await;
                    drop(place);
                });
            }
            if claimed < free {
                break;
            }
        }
        report_backlog(&pool, &mut logged).await;
        tokio::select! {
            _ = wake.notified() => {}
            Some(_) = deliveries.join_next() => {}
            _ = tokio::time::sleep(SWEEP) => {}
        }
    }
}

async fn deliver(pool: &PgPool, directory: &Directory, entry: PendingRetirement) {
    let masked = legacy::masked(&entry.legacy_card_number);
    let outcome = match directory
        .retire_legacy_card(
            entry.relay_id,
            &entry.legacy_card_number,
            entry.card_number.as_str(),
        )
        .await
    {
        Ok(()) => Outcome::Delivered,
        Err(status) => {
            let reason = directory::reason(&status);
            let error = format!("{:?} {reason}", status.code());
            match status.code() {
                // Retired already (by an earlier attempt, or otherwise): delivered.
                tonic::Code::FailedPrecondition if reason == "LEGACY_CARD_RETIRED" => {
                    Outcome::Delivered
                }
                tonic::Code::InvalidArgument
                | tonic::Code::FailedPrecondition
                | tonic::Code::NotFound => Outcome::Park(error),
                _ => Outcome::Retry(error),
            }
        }
    };
    let recorded = match &outcome {
        Outcome::Delivered => store::retirement_delivered(pool, entry.relay_id).await,
        Outcome::Retry(error) => {
            let attempts = u32::try_from(entry.attempts).unwrap_or(0);
            let retry_in = legacy::retry_delay(attempts, rand::random_range(0..1_000));
            tracing::warn!(
                legacy = %masked,
                relay_id = %entry.relay_id,
                attempts = attempts + 1,
                error = %error,
                retry_ms = retry_in.as_millis() as u64,
                "retirement not delivered; will retry"
            );
            store::retirement_failed(pool, entry.relay_id, retry_in, error).await
        }
        Outcome::Park(error) => {
            tracing::warn!(
                legacy = %masked,
                relay_id = %entry.relay_id,
                error = %error,
                "card-issuance refused a retirement for good; parked for an operator"
            );
            store::retirement_parked(pool, entry.relay_id, error).await
        }
    };
    if let Err(e) = recorded {
        tracing::warn!(error = %e, relay_id = %entry.relay_id, "could not record a retirement's delivery");
    }
}

/// While entries are parked, a warning with the backlog when it changes and
/// at least every [`BACKLOG_LOG`]: what an operator watches.
async fn report_backlog(pool: &PgPool, logged: &mut Option<(Instant, RelayBacklog)>) {
    let backlog = match store::relay_backlog(pool).await {
        Ok(backlog) => backlog,
        Err(e) => {
            tracing::warn!(error = %e, "could not count pending retirements");
            return;
        }
    };
    let due = match logged {
        _ if backlog.parked == 0 => false,
        Some((at, last)) => *last != backlog || at.elapsed() >= BACKLOG_LOG,
        None => true,
    };
    if due {
        tracing::warn!(
            parked = backlog.parked,
            pending = backlog.pending,
            "retirements parked: card-issuance refused them; see legacy_retirements (parked_at, last_error)"
        );
        *logged = Some((Instant::now(), backlog));
    } else if backlog.parked == 0 {
        *logged = None;
    }
}

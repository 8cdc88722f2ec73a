//! How far the card projection is caught up with card-issuance, held in
//! memory on every instance, so an eligibility check reads no table for it.
//!
//! The instance leading the card projector records each heartbeat with the
//! stream's cursor (`projection_cursors.caught_up_at`) and notifies
//! `<schema>.projection` in the same transaction; every instance listens
//! and reads the row again when told (and every [`SAFETY_NET`] in case a
//! notification was lost). What is held is never later than what is
//! recorded, so a check judged fresh from it is fresh; if the listener
//! cannot follow (the database gone), the value ages and checks go to
//! card-issuance, as for a projection behind.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgPool, postgres::PgListener};
use tokio::sync::watch;

use crate::{projection::CARD_STREAM, store};

/// A read of the row at least this often, notified or not.
const SAFETY_NET: Duration = Duration::from_secs(1);

/// The instant up to which card-issuance's stream is known applied.
#[derive(Clone)]
pub struct CaughtUp(watch::Receiver<Option<DateTime<Utc>>>);

impl CaughtUp {
    pub fn at(&self) -> Option<DateTime<Utc>> {
        *self.0.borrow()
    }

    /// The value, and the task (run for the service's life) that keeps it.
    pub fn follow(pool: PgPool, schema: &str) -> (Self, impl Future<Output = ()> + Send + 'static) {
        let (sender, receiver) = watch::channel(None);
        let channel = format!("{schema}.projection");
        let follow = async move {
            loop {
                let mut listener = match listen(&pool, &channel).await {
                    Ok(listener) => listener,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for the projection's progress");
                        tokio::time::sleep(SAFETY_NET).await;
                        continue;
                    }
                };
                loop {
                    match store::caught_up_at(&pool, CARD_STREAM).await {
                        Ok(at) => {
                            sender.send_if_modified(|held| std::mem::replace(held, at) != at);
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot read the projection's progress")
                        }
                    }
                    tokio::select! {
                        received = listener.recv() => if received.is_err() { break },
                        () = tokio::time::sleep(SAFETY_NET) => {}
                    }
                }
            }
        };
        (Self(receiver), follow)
    }
}

async fn listen(pool: &PgPool, channel: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(channel).await?;
    Ok(listener)
}

//! Which instance runs a background loop when several instances of the
//! service run against one database. The projectors must not run twice at
//! once (each would apply every batch; harmless, since projection updates
//! are monotonic, but wasted), so each is led: the instance whose own
//! connection holds a session-level advisory lock for the loop runs it;
//! the others try again every [`RETRY`] and take over once the leader's
//! connection goes (the leader stopped, crashed, or lost its database:
//! Postgres releases a session lock with its session). The leader checks
//! its connection every [`CHECK`] and stops the loop as soon as it fails,
//! since another instance may then lead.

use std::{future::Future, time::Duration};

use sqlx::{PgConnection, PgPool};

use crate::store::leader as store;

/// How often an instance that does not lead tries to take the lead.
pub const RETRY: Duration = Duration::from_secs(2);
/// How often the leader checks that its connection (and so its lock) lives.
const CHECK: Duration = Duration::from_secs(1);

/// Runs `work()` while this instance leads `role`, for ever.
pub async fn lead<W, F>(pool: PgPool, role: &'static str, work: W)
where
    W: Fn() -> F,
    F: Future<Output = ()>,
{
    let mut conn: Option<PgConnection> = None;
    let mut waiting_logged = false;
    loop {
        if conn.is_none() {
            match store::connection(&pool).await {
                Ok(c) => conn = Some(c),
                Err(e) => tracing::warn!(role, error = %e, "cannot reach the database to lead"),
            }
        }
        if let Some(c) = conn.as_mut() {
            match store::try_lead(c, role).await {
                Ok(true) => {
                    tracing::info!(role, "leading");
                    waiting_logged = false;
                    tokio::select! {
                        () = work() => tracing::warn!(role, "led work ended"),
                        e = lost(c) => tracing::warn!(role, error = %e, "lead lost: its connection failed"),
                    }
                    // Closing the connection gives the lead up.
                    conn = None;
                }
                Ok(false) => {
                    if !waiting_logged {
                        tracing::info!(role, "another instance leads; standing by");
                        waiting_logged = true;
                    }
                }
                Err(e) => {
                    tracing::warn!(role, error = %e, "could not try to lead");
                    conn = None;
                }
            }
        }
        tokio::time::sleep(RETRY).await;
    }
}

/// Ends (with why) when the lock's connection stops answering in time.
async fn lost(conn: &mut PgConnection) -> String {
    loop {
        tokio::time::sleep(CHECK).await;
        match tokio::time::timeout(CHECK * 5, store::ping(conn)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return e.to_string(),
            Err(_) => return "no answer within 5 s".to_owned(),
        }
    }
}

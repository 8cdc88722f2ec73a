//! How long a service keeps what it records, and the hourly sweep that
//! deletes the rest a batch at a time.
//!
//! - The audit trail: `audit_retention_days` (at least six months).
//! - Idempotency answers: `idempotency_retention_days` (at least 7 days, the
//!   partners' retry horizon: a retry after that is a new request).
//! - Published events: `outbox_retention_days`. A consumer whose cursor is
//!   older than what is kept is refused (`CURSOR_EXPIRED`) rather than
//!   silently skipped past the gap; it must rebuild from a snapshot.
//!
//! Answers and events carry personal data (ID numbers, names, bank card
//! numbers); keeping them no longer than needed is the point.

use std::time::Duration;

use sqlx::PgPool;

use crate::audit;

const BATCH: i64 = 10_000;

/// What to keep, in days.
#[derive(Clone, Copy, Debug)]
pub struct Retention {
    pub audit_days: u32,
    pub idempotency_days: u32,
    pub outbox_days: u32,
}

/// Deletes answered request ids older than `days` days; returns how many.
pub async fn purge_idempotency(pool: &PgPool, days: u32) -> Result<u64, sqlx::Error> {
    purge(
        pool,
        "DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY(
             SELECT ctid FROM idempotency_keys
             WHERE created_at < now() - make_interval(days => $1) AND response IS NOT NULL
             LIMIT $2))",
        days,
    )
    .await
}

/// Deletes events older than `days` days (never the newest one, whose
/// position tells consumers where the stream stands); returns how many.
/// Events are numbered first, so a consumer that had not read them is told
/// its cursor expired instead of missing them unawares.
pub async fn purge_outbox(pool: &PgPool, days: u32) -> Result<u64, sqlx::Error> {
    while crate::outbox::sequence(pool).await? > 0 {}
    purge(
        pool,
        "DELETE FROM outbox WHERE position IN (
             SELECT position FROM outbox
             WHERE occurred_at < now() - make_interval(days => $1)
               AND position < (SELECT max(position) FROM outbox)
             ORDER BY position LIMIT $2)",
        days,
    )
    .await
}

async fn purge(pool: &PgPool, statement: &'static str, days: u32) -> Result<u64, sqlx::Error> {
    let days = i32::try_from(days).unwrap_or(i32::MAX);
    let mut purged = 0;
    loop {
        let done = sqlx::query(statement)
            .bind(days)
            .bind(BATCH)
            .execute(pool)
            .await?
            .rows_affected();
        purged += done;
        if done < BATCH as u64 {
            return Ok(purged);
        }
    }
}

/// Keeps `retention`: sweeps at start and every hour after.
pub async fn keep(pool: PgPool, retention: Retention) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        let sweeps = [
            (
                "audit entries",
                retention.audit_days,
                audit::purge_older_than(&pool, retention.audit_days).await,
            ),
            (
                "idempotency answers",
                retention.idempotency_days,
                purge_idempotency(&pool, retention.idempotency_days).await,
            ),
            (
                "outbox events",
                retention.outbox_days,
                purge_outbox(&pool, retention.outbox_days).await,
            ),
        ];
        for (what, days, result) in sweeps {
            match result {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, days, what, "deleted past retention"),
                Err(e) => tracing::warn!(error = %e, what, "retention sweep failed; will retry"),
            }
        }
    }
}

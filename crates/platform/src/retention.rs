//! How long a service keeps what it records, and the hourly sweep (also run
//! at startup) that lets the rest go.
//!
//! - The audit trail: `audit_retention_days` (at least six months). Month
//!   partitions ([`crate::partitions`]) are dropped whole once every entry in
//!   them is older than that, so an entry is kept at least that long and at
//!   most a month longer.
//! - Published events: `outbox_retention_days`, month partitions dropped the
//!   same way. A consumer whose cursor is older than what is kept is refused
//!   (`CURSOR_EXPIRED`) rather than silently skipped past the gap; it must
//!   rebuild from a snapshot.
//! - Idempotency answers: `idempotency_retention_days` (at least 7 days, the
//!   partners' retry horizon: a retry after that is a new request), deleted
//!   row by row in batches of [`BATCH`] (the table is keyed by caller and
//!   request id, which a retry must find whatever its age, so it is not
//!   partitioned by time).
//!
//! Nothing else is dropped: contribution's ledger is partitioned by month
//! too, but no retention applies to it.
//!
//! Answers and events carry personal data (ID numbers, names, bank card
//! numbers); keeping them no longer than needed is the point.

use std::time::Duration;

use sqlx::PgPool;

use crate::partitions;

/// Idempotency answers deleted per statement.
pub const BATCH: i64 = 10_000;

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

/// Drops the audit trail's month partitions whose entries are all older than
/// `days` days; returns the partitions dropped.
pub async fn purge_audit(pool: &PgPool, days: u32) -> Result<Vec<String>, sqlx::Error> {
    partitions::drop_before(pool, "audit_log", days).await
}

/// Drops the outbox's month partitions whose events are all older than
/// `days` days; returns the partitions dropped. Events are numbered first,
/// so a consumer that had not read them is told its cursor expired instead
/// of missing them unawares (and the stream's head position is kept in
/// `outbox_head`, so it stands even when every event is gone).
pub async fn purge_outbox(pool: &PgPool, days: u32) -> Result<Vec<String>, sqlx::Error> {
    while crate::outbox::sequence(pool).await?.numbered > 0 {}
    partitions::drop_before(pool, "outbox", days).await
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

/// Keeps `retention` and the month partitions: at start and every hour after.
pub async fn keep(pool: PgPool, retention: Retention) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        match partitions::maintain(&pool).await {
            Ok(0) => {}
            Ok(created) => tracing::info!(created, "month partitions created"),
            Err(e) => tracing::warn!(error = %e, "partition maintenance failed; will retry"),
        }
        let dropped = [
            (
                "audit entries",
                retention.audit_days,
                purge_audit(&pool, retention.audit_days).await,
            ),
            (
                "outbox events",
                retention.outbox_days,
                purge_outbox(&pool, retention.outbox_days).await,
            ),
        ];
        for (what, days, result) in dropped {
            match result {
                Ok(partitions) if partitions.is_empty() => {}
                Ok(partitions) => {
                    tracing::info!(
                        ?partitions,
                        days,
                        what,
                        "month partitions past retention dropped"
                    )
                }
                Err(e) => tracing::warn!(error = %e, what, "retention sweep failed; will retry"),
            }
        }
        let what = "idempotency answers";
        let days = retention.idempotency_days;
        match purge_idempotency(&pool, days).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, days, what, "deleted past retention"),
            Err(e) => tracing::warn!(error = %e, what, "retention sweep failed; will retry"),
        }
    }
}

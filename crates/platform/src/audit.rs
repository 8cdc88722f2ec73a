//! The audit trail: every read and change of a person's data, by whom, when,
//! through which RPC and request id. Written through the same connection (and
//! for changes, the same transaction) as the access it records.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use crate::auth::Caller;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Change,
}

impl Access {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Read => "READ",
            Self::Change => "CHANGE",
        }
    }
}

/// One audit entry, for writing together with other effects
/// (`Ticket::complete_with`).
#[derive(Clone, Copy, Debug)]
pub struct AuditNote<'a> {
    pub caller: &'a Caller,
    pub action: &'a str,
    pub access: Access,
    pub subject_id: &'a str,
}

/// Records that `caller` read or changed `subject_id`'s data through `action`.
pub async fn record(
    conn: &mut PgConnection,
    caller: &Caller,
    action: &str,
    access: Access,
    subject_id: &str,
    request_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (actor_kind, actor_code, action, access, subject_id, request_id)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(caller.kind.as_str())
    .bind(&caller.code)
    .bind(action)
    .bind(access.as_str())
    .bind(subject_id)
    .bind(request_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records one access per subject, in one statement (for batch operations).
pub async fn record_many(
    conn: &mut PgConnection,
    caller: &Caller,
    action: &str,
    access: Access,
    subject_ids: &[String],
    request_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (actor_kind, actor_code, action, access, subject_id, request_id)
         SELECT $1, $2, $3, $4, s, $6 FROM UNNEST($5::text[]) AS u(s)",
    )
    .bind(caller.kind.as_str())
    .bind(&caller.code)
    .bind(action)
    .bind(access.as_str())
    .bind(subject_ids)
    .bind(request_id)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_kind: String,
    pub actor_code: String,
    pub action: String,
    pub access: String,
    pub subject_id: String,
    pub request_id: Option<String>,
}

/// A subject's audit entries in the order they were written, after entry `after_id`.
pub async fn list(
    executor: impl PgExecutor<'_>,
    subject_id: &str,
    after_id: i64,
    limit: i64,
) -> Result<Vec<AuditEntry>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, at, actor_kind, actor_code, action, access, subject_id, request_id
         FROM audit_log WHERE subject_id = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(subject_id)
    .bind(after_id)
    .bind(limit)
    .fetch_all(executor)
    .await
}

/// Deletes entries older than `days` days, a batch at a time; returns how
/// many went.
pub async fn purge_older_than(pool: &sqlx::PgPool, days: u32) -> Result<u64, sqlx::Error> {
    let mut purged = 0;
    loop {
        let done = sqlx::query(
            "DELETE FROM audit_log WHERE id IN (
                 SELECT id FROM audit_log WHERE at < now() - make_interval(days => $1)
                 LIMIT 10000)",
        )
        .bind(i32::try_from(days).unwrap_or(i32::MAX))
        .execute(pool)
        .await?
        .rows_affected();
        purged += done;
        if done < 10_000 {
            return Ok(purged);
        }
    }
}

/// Keeps the audit trail for `days` days: purges older entries at start and
/// every hour after.
pub async fn keep_for(pool: sqlx::PgPool, days: u32) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every.tick().await;
        match purge_older_than(&pool, days).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, days, "audit entries past retention deleted"),
            Err(e) => tracing::warn!(error = %e, "audit retention purge failed; will retry"),
        }
    }
}

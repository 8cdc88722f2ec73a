//! Failed card presentations, in the audit trail: an entry with access
//! `FAILED_ATTEMPT` by the caller, naming the card's holder when the number
//! is one of this service's cards (so the holder's trail shows the attempt,
//! never as a visit) and [`NO_SUBJECT`] otherwise. No card number, code or
//! ID number is written. The caller's count against the limit is kept
//! beside them in one row per caller (`presentation_failures`: the instants
//! of its failures within the window), read by its key on every
//! presentation instead of counting audit entries.

use chrono::{DateTime, Utc};
use platform::{
    audit::{self, Access},
    auth::Caller,
};
use sqlx::PgPool;
use uuid::Uuid;

/// The subject of a failed attempt that names no person.
pub const NO_SUBJECT: &str = "-";

/// Records a failure in the audit trail and in the caller's count (where
/// failures older than `window_secs` are dropped).
pub async fn record_failed_presentation(
    pool: &PgPool,
    caller: &Caller,
    action: &str,
    holder: Option<Uuid>,
    request_id: Option<&str>,
    window_secs: i64,
) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    sqlx::query(
        "INSERT INTO presentation_failures AS p (actor_kind, actor_code, failed_at)
         VALUES ($1, $2, ARRAY[now()])
         ON CONFLICT (actor_kind, actor_code) DO UPDATE SET failed_at =
             ARRAY(SELECT f FROM unnest(p.failed_at) AS f
                   WHERE f > now() - $3 * interval '1 second' ORDER BY f) || now()",
    )
    .bind(caller.kind.as_str())
    .bind(&caller.code)
    .bind(window_secs)
    .execute(&mut *conn)
    .await?;
    let subject = holder.map_or_else(|| NO_SUBJECT.to_owned(), |h| h.to_string());
    audit::record(
        &mut conn,
        caller,
        action,
        Access::FailedAttempt,
        &subject,
        request_id,
    )
    .await?;
    Ok(())
}

/// A caller's failed presentations within the last `window_secs` seconds,
/// by the database's clock (the one that stamped them).
#[derive(Clone, Copy, Debug, sqlx::FromRow)]
pub struct RecentFailures {
    pub count: i64,
    pub oldest: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

pub async fn recent_failures(
    pool: &PgPool,
    caller: &Caller,
    window_secs: i64,
) -> Result<RecentFailures, sqlx::Error> {
    sqlx::query_as(
        "SELECT count(f) AS count, min(f) AS oldest, now() AS now
         FROM presentation_failures p CROSS JOIN LATERAL unnest(p.failed_at) AS f
         WHERE p.actor_kind = $1 AND p.actor_code = $2
           AND f > now() - $3 * interval '1 second'",
    )
    .bind(caller.kind.as_str())
    .bind(&caller.code)
    .bind(window_secs)
    .fetch_one(pool)
    .await
}

//! The delay state of ID numbers without an online credential, shared by
//! every identity instance, as `online_credentials` holds a known one's.
//! Rows are keyed by an HMAC of the ID number (no ID number is stored) and
//! written like a credential's outcome: only if still as read.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::LockoutState;

/// An unknown ID number's state as stored under `key`, and when its last
/// failure was; `None` if there is none.
pub async fn unknown_state(
    pool: &PgPool,
    key: &[u8],
) -> Result<Option<(LockoutState, DateTime<Utc>)>, sqlx::Error> {
    let row: Option<(i32, Option<DateTime<Utc>>, DateTime<Utc>)> = sqlx::query_as(
        "SELECT failed_attempts, locked_until, updated_at FROM unknown_sign_ins WHERE key = $1",
    )
    .bind(key)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(failed_attempts, locked_until, updated_at)| {
        let stored = LockoutState {
            failed_attempts,
            locked_until,
        };
        (stored, updated_at)
    }))
}

/// Records a failed sign-in under `key` at `now`: the state becomes `next`
/// if what is stored is still `stored` (`None`: nothing). Whether it was
/// (if not, judge again).
pub async fn record_unknown_failure(
    pool: &PgPool,
    key: &[u8],
    stored: Option<LockoutState>,
    next: LockoutState,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let written = match stored {
        None => {
            sqlx::query(
                "INSERT INTO unknown_sign_ins (key, failed_attempts, locked_until, updated_at)
                 VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING",
            )
            .bind(key)
            .bind(next.failed_attempts)
            .bind(next.locked_until)
            .bind(now)
            .execute(pool)
            .await?
        }
        Some(stored) => sqlx::query(
            "UPDATE unknown_sign_ins SET failed_attempts = $4, locked_until = $5, updated_at = $6
                 WHERE key = $1 AND failed_attempts = $2
                     AND locked_until IS NOT DISTINCT FROM $3",
        )
        .bind(key)
        .bind(stored.failed_attempts)
        .bind(stored.locked_until)
        .bind(next.failed_attempts)
        .bind(next.locked_until)
        .bind(now)
        .execute(pool)
        .await?,
    };
    Ok(written.rows_affected() == 1)
}

/// Deletes states last changed before `before`, a batch at a time; how many.
pub async fn prune_unknown(pool: &PgPool, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let mut pruned = 0;
    loop {
        let done = sqlx::query(
            "DELETE FROM unknown_sign_ins WHERE key = ANY (ARRAY(
                 SELECT key FROM unknown_sign_ins WHERE updated_at < $1 LIMIT 10000))",
        )
        .bind(before)
        .execute(pool)
        .await?
        .rows_affected();
        pruned += done;
        if done < 10_000 {
            return Ok(pruned);
        }
    }
}

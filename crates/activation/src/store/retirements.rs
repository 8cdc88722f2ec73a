//! Old cards the pharmacy channel retired that card-issuance has not yet
//! acknowledged: the relay's queue. Each entry has an opaque id (the
//! request id sent to card-issuance is built from it), a schedule of its
//! own, and is parked when card-issuance refuses it for good.

use std::time::Duration;

use pii::CardNumber;
use sqlx::PgExecutor;
use uuid::Uuid;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PendingRetirement {
    pub relay_id: Uuid,
    pub legacy_card_number: String,
    pub card_number: CardNumber,
    pub attempts: i32,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Claims up to `limit` entries that are due, oldest schedule first, for
/// `lease`: their next attempt moves `lease` ahead, so another instance
/// leaves them alone meanwhile (and retries them after it, should this one
/// vanish). Entries locked by a concurrent claim are skipped, not waited for.
pub async fn claim_due_retirements(
    executor: impl PgExecutor<'_>,
    limit: i64,
    lease: Duration,
) -> Result<Vec<PendingRetirement>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE legacy_retirements r
         SET next_attempt_at = now() + $2::bigint * interval '1 millisecond'
         FROM (SELECT relay_id FROM legacy_retirements
               WHERE parked_at IS NULL AND next_attempt_at <= now()
               ORDER BY next_attempt_at LIMIT $1
               FOR UPDATE SKIP LOCKED) due
         WHERE r.relay_id = due.relay_id
         RETURNING r.relay_id, r.legacy_card_number, r.card_number, r.attempts",
    )
    .bind(limit)
    .bind(millis(lease))
    .fetch_all(executor)
    .await
}

/// Card-issuance acknowledged: the entry is done.
pub async fn retirement_delivered(
    executor: impl PgExecutor<'_>,
    relay_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM legacy_retirements WHERE relay_id = $1")
        .bind(relay_id)
        .execute(executor)
        .await?;
    Ok(())
}

/// Not delivered this time (`error`: code and reason, no personal data):
/// try again after `retry_in`.
pub async fn retirement_failed(
    executor: impl PgExecutor<'_>,
    relay_id: Uuid,
    retry_in: Duration,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE legacy_retirements SET attempts = attempts + 1, last_error = $3,
             next_attempt_at = now() + $2::bigint * interval '1 millisecond'
         WHERE relay_id = $1",
    )
    .bind(relay_id)
    .bind(millis(retry_in))
    .bind(error)
    .execute(executor)
    .await?;
    Ok(())
}

/// Refused for good (`error`: code and reason): parked, not retried, until
/// an operator looks at it (and clears `parked_at` to retry it).
pub async fn retirement_parked(
    executor: impl PgExecutor<'_>,
    relay_id: Uuid,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE legacy_retirements SET attempts = attempts + 1, last_error = $2, parked_at = now()
         WHERE relay_id = $1",
    )
    .bind(relay_id)
    .bind(error)
    .execute(executor)
    .await?;
    Ok(())
}

/// How many entries wait for delivery, and how many are parked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct RelayBacklog {
    pub pending: i64,
    pub parked: i64,
}

pub async fn relay_backlog(executor: impl PgExecutor<'_>) -> Result<RelayBacklog, sqlx::Error> {
    sqlx::query_as(
        "SELECT count(*) FILTER (WHERE parked_at IS NULL) AS pending,
                count(*) FILTER (WHERE parked_at IS NOT NULL) AS parked
         FROM legacy_retirements",
    )
    .fetch_one(executor)
    .await
}

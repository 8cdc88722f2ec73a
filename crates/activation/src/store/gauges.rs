//! What activation's metrics read: the relay's queue and the projections'
//! progress. Small, bounded reads (the queue counted up to a cap).

use sqlx::PgExecutor;

/// Entries counted at most in each state of the relay's queue.
const COUNTED: i64 = 100_000;

/// The relay's queue: entries waiting for delivery, entries parked, and
/// the age in seconds of the oldest waiting one (0 when none).
#[derive(Clone, Copy, Debug, sqlx::FromRow)]
pub struct RelayQueue {
    pub pending: i64,
    pub parked: i64,
    pub oldest_pending_age_seconds: f64,
}

pub async fn relay_queue(executor: impl PgExecutor<'_>) -> Result<RelayQueue, sqlx::Error> {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM (SELECT 1 FROM legacy_retirements
                                       WHERE parked_at IS NULL LIMIT $1) p) AS pending,
                (SELECT count(*) FROM (SELECT 1 FROM legacy_retirements
                                       WHERE parked_at IS NOT NULL LIMIT $1) k) AS parked,
                coalesce((SELECT extract(epoch FROM now() - min(created_at))::float8
                          FROM legacy_retirements WHERE parked_at IS NULL), 0)
                    AS oldest_pending_age_seconds",
    )
    .bind(COUNTED)
    .fetch_one(executor)
    .await
}

/// How far one upstream stream is applied: the position of its last event
/// and the seconds since its last heartbeat applied (None: never).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ProjectionProgress {
    pub stream: String,
    pub position: i64,
    pub lag_seconds: Option<f64>,
}

pub async fn projection_progress(
    executor: impl PgExecutor<'_>,
) -> Result<Vec<ProjectionProgress>, sqlx::Error> {
    sqlx::query_as(
        "SELECT stream, position, extract(epoch FROM now() - caught_up_at)::float8 AS lag_seconds
         FROM projection_cursors ORDER BY stream LIMIT 16",
    )
    .fetch_all(executor)
    .await
}

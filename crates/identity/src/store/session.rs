//! Persons' online sessions: stored at sign-in, ended by sign-out, by an
//! operator, or by a password change; a token is honoured only while its
//! session is live.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// A session about to be stored with a successful sign-in.
#[derive(Clone, Copy, Debug)]
pub struct NewSession {
    pub session_id: Uuid,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Why and by whom sessions end.
#[derive(Clone, Copy, Debug)]
pub struct Ending<'a> {
    pub at: DateTime<Utc>,
    pub by: &'a str,
    pub reason: &'a str,
}

/// Stores `session` for `person_id`, and forgets the person's sessions that
/// expired more than a day ago (the table holds what can still be shown).
pub async fn insert_session(
    conn: &mut PgConnection,
    person_id: Uuid,
    session: &NewSession,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH purged AS (
             DELETE FROM sessions
             WHERE person_id = $2 AND expires_at < $3 - interval '1 day'
         )
         INSERT INTO sessions (session_id, person_id, issued_at, expires_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(session.session_id)
    .bind(person_id)
    .bind(session.issued_at)
    .bind(session.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends `session_id` of `person_id` if it is live; whether it was.
pub async fn end_session(
    conn: &mut PgConnection,
    session_id: Uuid,
    person_id: Uuid,
    ending: Ending<'_>,
) -> Result<bool, sqlx::Error> {
    let ended = sqlx::query(
        "UPDATE sessions SET ended_at = $3, ended_by = $4, end_reason = $5
         WHERE session_id = $1 AND person_id = $2 AND ended_at IS NULL",
    )
    .bind(session_id)
    .bind(person_id)
    .bind(ending.at)
    .bind(ending.by)
    .bind(ending.reason)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(ended == 1)
}

/// Ends every live session of `person_id`; how many there were.
pub async fn end_sessions_of(
    conn: &mut PgConnection,
    person_id: Uuid,
    ending: Ending<'_>,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE sessions SET ended_at = $2, ended_by = $3, end_reason = $4
         WHERE person_id = $1 AND ended_at IS NULL AND expires_at > $2",
    )
    .bind(person_id)
    .bind(ending.at)
    .bind(ending.by)
    .bind(ending.reason)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Whether `session_id` of `person_id` is live at `now`.
pub async fn session_live(
    pool: &PgPool,
    session_id: Uuid,
    person_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sessions
             WHERE session_id = $1 AND person_id = $2 AND ended_at IS NULL AND expires_at > $3)",
    )
    .bind(session_id)
    .bind(person_id)
    .bind(now)
    .fetch_one(pool)
    .await
}

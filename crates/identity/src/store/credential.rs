//! Online credentials: the password hash and its lockout state.
//!
//! Sign-in never holds a lock or a transaction while argon2 runs: it reads
//! the credential, verifies outside the database, then records the outcome
//! with one statement that applies only if the credential is still as read
//! (same hash, same lockout state). If another sign-in or a password change
//! came first, nothing is written and the caller judges again.

use chrono::{DateTime, Utc};
use pii::IdNumber;
use platform::{
    audit::{self, Access},
    auth::Caller,
};
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

use super::session::NewSession;
use crate::domain::LockoutState;

pub async fn set_password(
    conn: &mut PgConnection,
    person_id: Uuid,
    password_hash: &str,
    at: DateTime<Utc>,
    by: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO online_credentials (person_id, password_hash, set_at, set_by)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (person_id) DO UPDATE SET password_hash = $2, set_at = $3, set_by = $4,
             failed_attempts = 0, locked_until = NULL, last_failed_at = NULL",
    )
    .bind(person_id)
    .bind(password_hash)
    .bind(at)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(())
}

/// A credential as read for one sign-in.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CredentialRow {
    pub person_id: Uuid,
    pub password_hash: String,
    pub failed_attempts: i32,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_failed_at: Option<DateTime<Utc>>,
}

impl CredentialRow {
    /// The lockout state as stored (what sign-in judges by is the policy's
    /// `standing` of it).
    pub fn lockout(&self) -> LockoutState {
        LockoutState {
            failed_attempts: self.failed_attempts,
            locked_until: self.locked_until,
        }
    }
}

/// The credential of the person with `id_number`, if they have one. No lock.
pub async fn credential(
    pool: &PgPool,
    id_number: &IdNumber,
) -> Result<Option<CredentialRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.person_id, c.password_hash, c.failed_attempts, c.locked_until, c.last_failed_at
         FROM online_credentials c JOIN persons p USING (person_id)
         WHERE p.id_number = $1",
    )
    .bind(id_number)
    .fetch_optional(pool)
    .await
}

/// Sets the lockout state to `next` if the credential is still as `seen`;
/// whether it was.
async fn record_outcome(
    executor: impl PgExecutor<'_>,
    seen: &CredentialRow,
    next: LockoutState,
    failed_at: Option<DateTime<Utc>>,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE online_credentials SET failed_attempts = $5, locked_until = $6, last_failed_at = $7
         WHERE person_id = $1 AND password_hash = $2
             AND failed_attempts = $3 AND locked_until IS NOT DISTINCT FROM $4",
    )
    .bind(seen.person_id)
    .bind(&seen.password_hash)
    .bind(seen.failed_attempts)
    .bind(seen.locked_until)
    .bind(next.failed_attempts)
    .bind(next.locked_until)
    .bind(failed_at)
    .execute(executor)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Records a wrong password at `now`: the state becomes `next` if the
/// credential is still as `seen`. Whether it was (if not, judge again).
pub async fn record_sign_in_failure(
    pool: &PgPool,
    seen: &CredentialRow,
    next: LockoutState,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    record_outcome(pool, seen, next, Some(now)).await
}

/// Records a successful sign-in, with its audit entry (the person reads
/// their own record), if the credential is still as `seen`. Whether it was
/// (if not, nothing is written: judge again).
///
/// The session the token will name is stored with it.
pub async fn record_sign_in_success(
    pool: &PgPool,
    seen: &CredentialRow,
    next: LockoutState,
    session: &NewSession,
    person: &Caller,
    rpc: &str,
) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    if !record_outcome(&mut *tx, seen, next, None).await? {
        return Ok(false);
    }
    super::session::insert_session(&mut tx, seen.person_id, session).await?;
    audit::record(
        &mut tx,
        person,
        rpc,
        Access::Read,
        &seen.person_id.to_string(),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

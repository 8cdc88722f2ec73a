//! The lead of a background loop among instances sharing one database: a
//! session-level advisory lock, held by a connection of its own for as long
//! as that connection lives.

use sqlx::{PgConnection, PgPool};

/// A connection of its own (outside the pool), to hold a session lock.
pub async fn connection(pool: &PgPool) -> Result<PgConnection, sqlx::Error> {
    Ok(pool.acquire().await?.detach())
}

/// Takes the lead of `role` in this service's schema if no other session
/// holds it; `conn` keeps it until it closes. (Two-key advisory locks: a
/// key space apart from the one-key locks the services take per
/// transaction.)
pub async fn try_lead(conn: &mut PgConnection, role: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT pg_try_advisory_lock(hashtext('socsec.lead'), hashtext(current_schema() || '/' || $1))",
    )
    .bind(role)
    .fetch_one(conn)
    .await
}

/// Whether the connection holding a lead still answers.
pub async fn ping(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1").execute(conn).await.map(|_| ())
}

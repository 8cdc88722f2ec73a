//! Month partitions (platform migration 7): `audit_log` and `outbox` in every
//! service's schema, and any other table a service partitions the same way
//! (contribution's `ledger_entries`).
//!
//! A month is China's calendar month (UTC+8). Each partitioned table has a
//! partition per month, `<table>_pYYYY_MM`, and `<table>_default` for a row
//! whose month has none yet. [`maintain`] — run at startup and hourly by
//! [`crate::retention::keep`] — creates this month's partition and the next
//! [`AHEAD`] months', and moves any rows found in a default partition into
//! their own month's (a partition created ahead keeps the default empty, so
//! it normally moves nothing). [`drop_before`] is retention: it drops the
//! partitions whose whole month is older than the cutoff, a month at a time,
//! instead of deleting rows.
//!
//! The work is done by SQL functions in the schema (`ensure_month_partitions`,
//! `drop_month_partitions`), one caller at a time (an advisory lock), in a
//! transaction with a short `lock_timeout`: creating or dropping a partition
//! briefly locks its parent table, and a sweep that cannot get the lock gives
//! up and tries again the next hour rather than queue writers behind it.

use sqlx::PgPool;

/// Months created ahead of the current one.
pub const AHEAD: i32 = 2;

/// The tables of this schema partitioned by month (those with a
/// `<table>_default` partition), by name.
pub async fn monthly_tables(pool: &PgPool) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid
         WHERE c.relnamespace = current_schema()::regnamespace
           AND to_regclass(quote_ident(c.relname || '_default')) IS NOT NULL
         ORDER BY c.relname",
    )
    .fetch_all(pool)
    .await
}

/// Creates the partitions due for every monthly table of this schema (this
/// month and [`AHEAD`] after; every month with rows in a default
/// partition); returns how many it created.
pub async fn maintain(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let mut created = 0;
    for table in monthly_tables(pool).await? {
        let mut tx = pool.begin().await?;
        set_lock_timeout(&mut tx).await?;
        let n: i32 = sqlx::query_scalar("SELECT ensure_month_partitions($1, $2)")
            .bind(&table)
            .bind(AHEAD)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        created += u64::try_from(n).unwrap_or(0);
    }
    Ok(created)
}

/// Drops `table`'s month partitions whose whole month ended more than
/// `days` days ago (rows waiting in the default partition are first moved
/// into their months, so none escapes); returns the partitions dropped.
pub async fn drop_before(
    pool: &PgPool,
    table: &str,
    days: u32,
) -> Result<Vec<String>, sqlx::Error> {
    maintain(pool).await?;
    let mut tx = pool.begin().await?;
    set_lock_timeout(&mut tx).await?;
    let dropped =
        sqlx::query_scalar("SELECT drop_month_partitions($1, now() - make_interval(days => $2))")
            .bind(table)
            .bind(i32::try_from(days).unwrap_or(i32::MAX))
            .fetch_all(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(dropped)
}

async fn set_lock_timeout(tx: &mut sqlx::PgConnection) -> Result<(), sqlx::Error> {
    // How long maintenance waits for a table lock before giving up.
    sqlx::query("SET LOCAL lock_timeout = '2s'")
        .execute(tx)
        .await?;
    Ok(())
}

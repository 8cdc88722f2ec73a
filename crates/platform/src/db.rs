//! The Postgres pool of one service, bound to its own schema, and its
//! migrations (the platform's tables first, then the service's own), with the
//! migration history kept in that schema.

use std::{
    str::FromStr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sqlx::{
    PgPool,
    migrate::{Migration, Migrator},
    postgres::{PgConnectOptions, PgPoolOptions},
};

use crate::config::PlatformConfig;

/// Tables every service has: idempotency keys, audit trail, outbox.
static PLATFORM_MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

/// A pooled connection idle this long is tested before it is handed out
/// (longer than the background loops' half-second polls, so they pay no
/// round trip).
const TEST_IDLE_AFTER: Duration = Duration::from_secs(1);

/// When the database was last seen down (a health check that failed with
/// an error, not merely slow): pooled connections opened before then are
/// replaced, not used, since a restart broke them.
#[derive(Clone, Default)]
pub struct Outages(Arc<Mutex<Option<Instant>>>);

impl Outages {
    pub fn seen_down(&self) {
        *self.0.lock().expect("not poisoned") = Some(Instant::now());
    }

    /// Whether a connection opened `age` ago predates the last outage.
    fn predates_last(&self, age: Duration) -> bool {
        self.0
            .lock()
            .expect("not poisoned")
            .is_some_and(|at| at.elapsed() <= age)
    }
}

/// Connects with `search_path` set to the service's schema, so every
/// unqualified table name in the service's SQL is its own.
pub async fn connect(config: &PlatformConfig) -> Result<PgPool, sqlx::Error> {
    connect_watched(config, Outages::default()).await
}

/// [`connect`], replacing connections opened before the last outage that
/// `outages` records (the host's health check records them).
pub async fn connect_watched(
    config: &PlatformConfig,
    outages: Outages,
) -> Result<PgPool, sqlx::Error> {
    let ms = |v: u64| v.to_string();
    // Every wait is bounded: a statement, a lock wait, a transaction left
    // idle by a frozen process (its locks and claims are released), and a
    // client that vanished without closing its connection (server-side TCP
    // keepalive).
    let options = PgConnectOptions::from_str(&config.database_url)?.options([
        ("search_path", config.database_schema.clone()),
        (
            "statement_timeout",
            ms(config.database_statement_timeout_ms),
        ),
        ("lock_timeout", ms(config.database_lock_timeout_ms)),
        (
            "idle_in_transaction_session_timeout",
            ms(config.database_idle_in_transaction_timeout_ms),
        ),
        ("tcp_keepalives_idle", "30".to_owned()),
        ("tcp_keepalives_interval", "10".to_owned()),
        ("tcp_keepalives_count", "3".to_owned()),
    ]);
    PgPoolOptions::new()
        .max_connections(config.database_max_connections)
        .acquire_timeout(Duration::from_millis(config.database_acquire_timeout_ms))
        // A connection is tested (one round trip) only when it has been
        // idle for a while, and replaced when it predates a database
        // restart the health check saw, not tested on every acquire: under
        // load every statement paid a ping. A connection that broke while
        // in use fails its statement, which is `UNAVAILABLE` (retry with
        // the same request id).
        .test_before_acquire(false)
        .before_acquire(move |conn, meta| {
            let outages = outages.clone();
            Box::pin(async move {
                if outages.predates_last(meta.age) {
                    return Ok(false);
                }
                if meta.idle_for >= TEST_IDLE_AFTER {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .connect_with(options)
        .await
}

/// Creates the schema if needed and applies the platform's and the service's
/// migrations in version order. Platform migrations use versions below
/// 1_000_000; services number theirs from 1_000_001.
pub async fn migrate(
    pool: &PgPool,
    schema: &str,
    service: &Migrator,
) -> Result<(), sqlx::migrate::MigrateError> {
    let mut migrations: Vec<Migration> = PLATFORM_MIGRATIONS.iter().cloned().collect();
    migrations.extend(service.iter().cloned());
    migrations.sort_by_key(|m| m.version);
    let mut migrator = Migrator::with_migrations(migrations);
    migrator.create_schema(schema.to_owned());
    migrator.dangerous_set_table_name(format!("{schema}._sqlx_migrations"));
    migrator.run(pool).await
}

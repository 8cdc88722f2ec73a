//! The gauges every service has: its database pool, its outbox and its
//! `Watch…Events` subscribers.
//!
//! Pool (OpenTelemetry's `db.client.connections.*` names):
//! `db_client_connections_usage{state="used"|"idle"}`,
//! `db_client_connections_max`, and
//! `db_client_connections_timeouts_total` — calls that waited
//! `database_acquire_timeout_ms` for a connection and were refused
//! `UNAVAILABLE`. sqlx 0.9 does not expose how many tasks are waiting for a
//! connection right now, so no `pending_requests` gauge is exported: a
//! saturated pool shows as `used` = `max` with `idle` 0, and waits that
//! last too long as timeouts.
//!
//! Outbox, per stream (the service's schema): the head position (the last
//! position given), the committed events not yet numbered and the age of
//! the oldest of them, the subscribers of the stream and how many events
//! the slowest is behind the head.

use std::sync::{
    Arc, Mutex, Weak,
    atomic::{AtomicI64, AtomicU64, Ordering},
};

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Unit,
};
use sqlx::PgPool;

use super::Metrics;

/// Unnumbered events counted at most (the count stays an index scan).
const UNSEQUENCED_COUNTED: i64 = 100_000;

/// Acquires that timed out, in this process (see [`pool_timed_out`]).
static POOL_TIMEOUTS: AtomicU64 = AtomicU64::new(0);

/// Counts a call refused because no database connection became free in
/// time (`sqlx::Error::PoolTimedOut`). Process-wide: a deployment runs one
/// service per process.
pub fn pool_timed_out() {
    POOL_TIMEOUTS.fetch_add(1, Ordering::Relaxed);
}

/// The subscribers of a service's event streams, each with the position of
/// the last event (or heartbeat) handed to it.
#[derive(Clone, Default)]
pub struct Subscribers(Arc<Mutex<Vec<Weak<AtomicI64>>>>);

impl Subscribers {
    /// A new subscriber starting after `position`; it counts until the
    /// returned handle is dropped (when its stream ends).
    pub fn subscribe(&self, position: i64) -> Arc<AtomicI64> {
        let handle = Arc::new(AtomicI64::new(position));
        let mut all = self.0.lock().expect("subscriber list is never poisoned");
        all.retain(|s| s.strong_count() > 0);
        all.push(Arc::downgrade(&handle));
        handle
    }

    /// The positions of the subscribers still streaming.
    fn positions(&self) -> Vec<i64> {
        let mut all = self.0.lock().expect("subscriber list is never poisoned");
        all.retain(|s| s.strong_count() > 0);
        all.iter()
            .filter_map(Weak::upgrade)
            .map(|p| p.load(Ordering::Relaxed))
            .collect()
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    pool_name: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UsageLabels {
    pool_name: String,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StreamLabels {
    stream: String,
}

/// Registers the pool and outbox gauges of the service whose tables are in
/// `schema`.
pub(crate) fn register(metrics: &Metrics, pool: &PgPool, schema: &str) {
    register_pool(metrics, pool, schema);
    register_outbox(metrics, pool, schema);
}

fn register_pool(metrics: &Metrics, pool: &PgPool, schema: &str) {
    let usage: Family<UsageLabels, Gauge> = metrics.gauge_family(
        "db_client_connections_usage",
        "Database connections of the pool by state: used (lent to a call or task) or idle",
    );
    let max: Family<PoolLabels, Gauge> = metrics.gauge_family(
        "db_client_connections_max",
        "The most connections the pool opens (database_max_connections)",
    );
    let timeouts: Family<PoolLabels, Counter> = Family::default();
    metrics.register(
        "db_client_connections_timeouts",
        "Calls that waited database_acquire_timeout_ms for a connection and were refused",
        timeouts.clone(),
    );
    let (pool, name) = (pool.clone(), schema.to_owned());
    metrics.on_scrape("pool", move || {
        let size = i64::from(pool.size());
        let idle = i64::try_from(pool.num_idle()).unwrap_or(i64::MAX);
        let labels = |state| UsageLabels {
            pool_name: name.clone(),
            state,
        };
        usage.get_or_create(&labels("used")).set(size - idle);
        usage.get_or_create(&labels("idle")).set(idle);
        let pool_labels = PoolLabels {
            pool_name: name.clone(),
        };
        max.get_or_create(&pool_labels)
            .set(i64::from(pool.options().get_max_connections()));
        let counter = timeouts.get_or_create(&pool_labels);
        let total = POOL_TIMEOUTS.load(Ordering::Relaxed);
        counter.inc_by(total.saturating_sub(counter.get()));
        async { Ok(()) }
    });
}

fn register_outbox(metrics: &Metrics, pool: &PgPool, schema: &str) {
    let head: Family<StreamLabels, Gauge> = metrics.gauge_family(
        "socsec_outbox_head_position",
        "Position of the last event numbered in commit order (the stream's head)",
    );
    let unsequenced: Family<StreamLabels, Gauge> = metrics.gauge_family(
        "socsec_outbox_unsequenced_events",
        "Committed events not yet numbered, so not yet streamed (counted up to 100000)",
    );
    let oldest: Family<StreamLabels, Gauge<f64, AtomicU64>> = Family::default();
    metrics.register_with_unit(
        "socsec_outbox_oldest_unsequenced_age",
        "Age of the oldest committed event not yet numbered (0 when none)",
        Unit::Seconds,
        oldest.clone(),
    );
    let subscribers: Family<StreamLabels, Gauge> = metrics.gauge_family(
        "socsec_event_stream_subscribers",
        "Watch streams open on this instance",
    );
    let lag: Family<StreamLabels, Gauge> = metrics.gauge_family(
        "socsec_event_stream_lag_events",
        "Events between the head and the position of the slowest subscriber on this instance \
         (0 without subscribers)",
    );
    let watchers = metrics.subscribers();
    let (pool, stream) = (pool.clone(), schema.to_owned());
    metrics.on_scrape("outbox", move || {
        let (pool, labels) = (
            pool.clone(),
            StreamLabels {
                stream: stream.clone(),
            },
        );
        let (head, unsequenced, oldest) = (head.clone(), unsequenced.clone(), oldest.clone());
        let (subscribers, lag, watchers) = (subscribers.clone(), lag.clone(), watchers.clone());
        async move {
            // Index scans only: the head row, and the partial index of
            // unnumbered events (bounded).
            let (position, waiting, age): (i64, i64, f64) = sqlx::query_as(
                "SELECT coalesce((SELECT position FROM outbox_head), 0),
                        (SELECT count(*) FROM (SELECT 1 FROM outbox WHERE position IS NULL
                                               LIMIT $1) u),
                        coalesce((SELECT extract(epoch FROM now() - occurred_at)::float8
                                  FROM outbox WHERE position IS NULL ORDER BY seq LIMIT 1), 0)",
            )
            .bind(UNSEQUENCED_COUNTED)
            .fetch_one(&pool)
            .await?;
            head.get_or_create(&labels).set(position);
            unsequenced.get_or_create(&labels).set(waiting);
            oldest.get_or_create(&labels).set(age);
            let positions = watchers.positions();
            subscribers
                .get_or_create(&labels)
                .set(i64::try_from(positions.len()).unwrap_or(i64::MAX));
            let slowest = positions.into_iter().min().unwrap_or(position);
            lag.get_or_create(&labels)
                .set(position.saturating_sub(slowest).max(0));
            Ok(())
        }
    });
}

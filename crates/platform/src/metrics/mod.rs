//! Prometheus metrics of one service, served on a port of their own
//! (`metrics_listen`, off unless configured) as plain HTTP for Prometheus on
//! the bureau's internal network.
//!
//! Built on `prometheus-client` (the Prometheus project's own Rust client):
//! each service has its own [`Registry`] rather than a process-wide
//! recorder, so the four services a test runs in one process keep their
//! figures apart, and it writes the OpenMetrics text format Prometheus
//! reads natively.
//!
//! What every service exports (OpenTelemetry's semantic names where it has
//! one, in their Prometheus form):
//! - `rpc_server_call_duration_seconds` — a histogram per `rpc_service`,
//!   `rpc_method` and `rpc_grpc_status_code` ([`rpc`]);
//!   `rpc_server_active_calls` — calls in flight;
//! - `db_client_connection_count{db_client_connection_state="used"|"idle"}`,
//!   `db_client_connection_max` and `db_client_connection_timeouts_total`
//!   (the pool, [`gauges`]);
//! - `socsec_outbox_*` and `socsec_event_stream_*` — the outbox backlog and
//!   how far the `Watch…Events` subscribers are behind its head.
//!
//! A service adds its own with [`Metrics::register`] and refreshes
//! database-backed gauges on each scrape with [`Metrics::on_scrape`].

use std::{
    future::Future,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures::future::BoxFuture;
use prometheus_client::{
    metrics::family::Family,
    registry::{Metric, Registry, Unit},
};
use sqlx::PgPool;
use tokio::net::TcpListener;

mod gauges;
mod http;
pub mod rpc;

pub use gauges::{Subscribers, pool_timed_out};

use crate::{config::PlatformConfig, host::StartupError};

/// How long one scrape waits for the database-backed gauges; a probe that
/// takes longer leaves its gauges at their last value (and is logged).
const PROBE_DEADLINE: Duration = Duration::from_secs(2);

type Probe = Arc<dyn Fn() -> BoxFuture<'static, Result<(), sqlx::Error>> + Send + Sync>;

struct Inner {
    registry: Mutex<Registry>,
    probes: Mutex<Vec<(&'static str, Probe)>>,
    /// One refresh at a time: two scrapes do not query twice at once.
    refreshing: tokio::sync::Mutex<()>,
    rpc: rpc::RpcMetrics,
    subscribers: Subscribers,
    /// The metrics port, bound at start when `metrics_listen` is set; taken
    /// by [`Metrics::serve`].
    port: Mutex<Option<TcpListener>>,
    addr: Option<SocketAddr>,
}

/// One service's metrics: cheap to clone, shared by its host, its layers
/// and its background work.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A service's metrics with the platform's gauges on `pool`, and its
    /// metrics port bound if `metrics_listen` is set (not yet serving).
    pub(crate) async fn start(
        config: &PlatformConfig,
        pool: &PgPool,
    ) -> Result<Self, StartupError> {
        let port = match config.metrics_listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartupError::Listen { addr, source })?,
            ),
            None => None,
        };
        let mut metrics = Self::new();
        let inner = Arc::get_mut(&mut metrics.0).expect("not shared yet");
        inner.addr = port.as_ref().and_then(|p| p.local_addr().ok());
        inner.port = Mutex::new(port);
        gauges::register(&metrics, pool, &config.database_schema);
        Ok(metrics)
    }

    /// Metrics kept but not served (no port).
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let rpc = rpc::RpcMetrics::register(&mut registry);
        Self(Arc::new(Inner {
            registry: Mutex::new(registry),
            probes: Mutex::new(Vec::new()),
            refreshing: tokio::sync::Mutex::new(()),
            rpc,
            subscribers: Subscribers::default(),
            port: Mutex::new(None),
            addr: None,
        }))
    }

    /// Where the metrics are served, if they are.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.0.addr
    }

    /// Answers scrapes on the metrics port until the service stops (at
    /// once if there is none).
    pub(crate) async fn serve(self) {
        let port = self.0.port.lock().expect("never poisoned").take();
        if let Some(listener) = port {
            http::serve(listener, self).await;
        }
    }

    /// Adds a metric (a `Gauge`, `Counter`, `Family` …) under `name`.
    pub fn register(&self, name: &str, help: &str, metric: impl Metric) {
        self.registry().register(name, help, metric);
    }

    /// Adds a metric whose name ends in its unit (`…_seconds`).
    pub fn register_with_unit(&self, name: &str, help: &str, unit: Unit, metric: impl Metric) {
        self.registry().register_with_unit(name, help, unit, metric);
    }

    /// A gauge family labelled by `L`, registered under `name`.
    pub fn gauge_family<L>(
        &self,
        name: &str,
        help: &str,
    ) -> Family<L, prometheus_client::metrics::gauge::Gauge>
    where
        L: prometheus_client::encoding::EncodeLabelSet
            + Clone
            + std::hash::Hash
            + Eq
            + std::fmt::Debug
            + Send
            + Sync
            + 'static,
    {
        let family = Family::default();
        self.register(name, help, family.clone());
        family
    }

    /// Runs `probe` before each scrape is answered (within
    /// [`PROBE_DEADLINE`]): for gauges read from the database. Keep its
    /// queries cheap and bounded; the pool's `statement_timeout` applies.
    pub fn on_scrape<F, Fut>(&self, name: &'static str, probe: F)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), sqlx::Error>> + Send + 'static,
    {
        let probe: Probe = Arc::new(move || Box::pin(probe()));
        self.0
            .probes
            .lock()
            .expect("probe list is never poisoned")
            .push((name, probe));
    }

    /// The layer that times every call (see [`rpc`]).
    pub fn rpc_layer(&self, policy: &'static crate::auth::Policy) -> rpc::RpcMetricsLayer {
        rpc::RpcMetricsLayer::new(self.0.rpc.clone(), policy)
    }

    /// Where the `Watch…Events` streams report their subscribers' positions.
    pub fn subscribers(&self) -> Subscribers {
        self.0.subscribers.clone()
    }

    /// Refreshes the database-backed gauges, then renders every metric in
    /// the OpenMetrics text format.
    pub async fn scrape(&self) -> String {
        self.refresh().await;
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry())
            .expect("writing to a String cannot fail");
        text
    }

    async fn refresh(&self) {
        let _one_at_a_time = self.0.refreshing.lock().await;
        let probes = self
            .0
            .probes
            .lock()
            .expect("probe list is never poisoned")
            .clone();
        let runs = probes.into_iter().map(|(name, probe)| async move {
            match tokio::time::timeout(PROBE_DEADLINE, probe()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(probe = name, error = %e, "metrics probe failed"),
                Err(_) => tracing::warn!(
                    probe = name,
                    deadline_ms = PROBE_DEADLINE.as_millis() as u64,
                    "metrics probe timed out; its gauges keep their last value"
                ),
            }
        });
        futures::future::join_all(runs).await;
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.0.registry.lock().expect("registry is never poisoned")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metrics_port_is_off_by_default_and_never_the_grpc_port() {
        let mut config = PlatformConfig::defaults(50051, "identity");
        assert_eq!(config.metrics_listen, None);
        config.plaintext = true;
        config.metrics_listen = Some("127.0.0.1:50051".parse().unwrap());
        let refused = config.validate().unwrap_err().to_string();
        assert!(refused.contains("metrics_listen"), "{refused}");
        config.metrics_listen = Some("0.0.0.0:50051".parse().unwrap());
        assert!(config.validate().is_err());
        config.metrics_listen = Some("127.0.0.1:9461".parse().unwrap());
        config.validate().expect("another port is fine");
    }

    #[tokio::test]
    async fn a_failing_probe_leaves_the_other_gauges_served() {
        let metrics = Metrics::new();
        let gauge = prometheus_client::metrics::gauge::Gauge::<i64>::default();
        metrics.register("socsec_example", "An example", gauge.clone());
        metrics.on_scrape("broken", || async { Err(sqlx::Error::PoolTimedOut) });
        metrics.on_scrape("example", move || {
            gauge.set(7);
            async { Ok(()) }
        });
        let text = metrics.scrape().await;
        assert!(text.contains("socsec_example 7\n"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}

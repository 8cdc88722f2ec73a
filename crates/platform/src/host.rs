//! The gRPC host every service runs in: database pool and migrations, the
//! listening socket, `grpc.health.v1` (SERVING only while the database
//! answers), reflection, request tracing, the auth layer, requests over
//! `max_message_bytes` refused `RESOURCE_EXHAUSTED` / `MESSAGE_TOO_LARGE`,
//! and graceful shutdown with a drain deadline.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use sqlx::{PgPool, migrate::Migrator};
use tokio::net::TcpListener;
use tonic::{
    service::Routes,
    transport::{Server, server::TcpIncoming},
};
use tonic_health::ServingStatus;

use crate::{
    admission::AdmissionLayer,
    audit,
    auth::{AuthLayer, PartnerRegistry, Policy},
    client::Upstreams,
    clock::Clock,
    config::PlatformConfig,
    db, health_report,
    json::{JsonLayer, envelope::Adapter},
    message_size::MessageSizeLayer,
    metrics::Metrics,
    outbox::EventStreams,
    retention,
    session::SessionKeys,
    tls::{self, TlsMaterial},
    tls_incoming,
    trace::{self, Traces},
};

/// How long a caller has to finish the TLS handshake.
const TLS_HANDSHAKE: Duration = Duration::from_secs(10);

pub use crate::tasks::Tasks;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
}

/// A service's process-wide resources, ready to serve.
pub struct Host {
    config: PlatformConfig,
    pool: PgPool,
    /// When the health check last saw the database down.
    outages: db::Outages,
    listener: TcpListener,
    clock: Arc<dyn Clock>,
    tls: Option<TlsMaterial>,
    tasks: Tasks,
    metrics: Metrics,
    traces: Traces,
}

impl Host {
    /// Validates the configuration, connects, migrates, and binds the port.
    pub async fn start(
        config: PlatformConfig,
        migrations: &Migrator,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StartupError> {
        config.validate()?;
        let tls = TlsMaterial::load(&config)?;
        if let Some(tls) = &tls {
            // Unusable certificate or key: refuse now, not at the first call.
            tls.server_config().map_err(|e| {
                crate::config::ConfigError::invalid(
                    "tls_cert_file",
                    format!("with tls_key_file, not a usable certificate and key: {e}"),
                )
            })?;
        }
        let outages = db::Outages::default();
        let pool = db::connect_watched(&config, outages.clone()).await?;
        db::migrate(&pool, &config.database_schema, migrations).await?;
        let listener = TcpListener::bind(config.listen_addr)
            .await
            .map_err(|source| StartupError::Listen {
                addr: config.listen_addr,
                source,
            })?;
        let metrics = Metrics::start(&config, &pool).await?;
        let traces = Traces::start(&config)?;
        Ok(Self {
            config,
            pool,
            outages,
            listener,
            clock,
            tls,
            tasks: Tasks::default(),
            metrics,
            traces,
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn config(&self) -> &PlatformConfig {
        &self.config
    }

    /// Where the service spawns background work and streamed answers.
    pub fn tasks(&self) -> Tasks {
        self.tasks.clone()
    }

    /// This service's `Watch…Events` streams, ended at shutdown.
    pub fn event_streams(&self) -> EventStreams {
        EventStreams::new(
            self.pool.clone(),
            self.config.database_schema.clone(),
            self.tasks.stopping(),
        )
        .with_subscribers(self.metrics.subscribers())
    }

    /// This service's metrics, where it adds its own (served only when
    /// `metrics_listen` is set).
    pub fn metrics(&self) -> Metrics {
        self.metrics.clone()
    }

    /// This service's traces (see `platform::trace`).
    pub fn traces(&self) -> Traces {
        self.traces.clone()
    }

    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    pub fn session_keys(&self) -> Option<SessionKeys> {
        self.config.session_keys()
    }

    /// How this service (`caller`, e.g. `card-issuance`) calls the others:
    /// with its own certificate, `deadline` on every call.
    pub fn upstreams(&self, caller: &'static str, deadline: Duration) -> Upstreams {
        Upstreams {
            caller,
            tls: self.tls.clone(),
            deadline,
            keepalive: self.keepalive(),
        }
    }

    /// HTTP/2 keepalive interval and timeout.
    fn keepalive(&self) -> (Duration, Duration) {
        (
            Duration::from_millis(self.config.keepalive_interval_ms),
            Duration::from_millis(self.config.keepalive_timeout_ms),
        )
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound socket has an address")
    }

    /// The service, built: `routes` (whose main service is `service_name`)
    /// behind `policy`, partners checked against `registry`.
    pub fn ready(
        self,
        service_name: &'static str,
        policy: &'static Policy,
        registry: Arc<dyn PartnerRegistry>,
        routes: Routes,
    ) -> Ready {
        Ready {
            host: self,
            service_name,
            policy,
            registry,
            routes,
            envelopes: None,
        }
    }

    /// Serves `routes` (whose main service is `service_name`, e.g.
    /// `socsec.identity.v1.IdentityService`) until `shutdown` resolves, then
    /// stops accepting calls and gives in-flight ones `drain_timeout_ms`.
    async fn serve(
        self,
        service_name: &'static str,
        policy: &'static Policy,
        registry: Arc<dyn PartnerRegistry>,
        routes: Routes,
        envelopes: Option<Adapter>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), tonic::transport::Error> {
        let (reporter, health_service) = tonic_health::server::health_reporter();
        // Known, as NOT_SERVING, from the first call on: a `Watch` of the
        // service's name made before the first database check ended would
        // otherwise be refused NOT_FOUND (seen in CI).
        for name in [service_name, ""] {
            reporter
                .set_service_status(name, tonic_health::ServingStatus::NotServing)
                .await;
        }
        let tasks = self.tasks.clone();
        let health_task = tasks.spawn_until_stopped(health_report::report_health(
            reporter.clone(),
            self.pool.clone(),
            self.outages.clone(),
            service_name,
            Duration::from_millis(self.config.health_check_interval_ms),
        ));

        let retention_task = tasks.spawn_until_stopped(retention::keep(
            self.pool.clone(),
            retention::Retention {
                audit_days: self.config.audit_retention_days,
                idempotency_days: self.config.idempotency_retention_days,
                outbox_days: self.config.outbox_retention_days,
            },
        ));

        tasks.spawn_until_stopped(self.metrics.clone().serve());
        let max_message_bytes = self.config.max_message_bytes;
        let audit = socsec_proto::audit::v1::audit_service_server::AuditServiceServer::new(
            audit::AuditApi::new(self.pool.clone(), service_name),
        )
        .max_decoding_message_size(max_message_bytes)
        .max_encoding_message_size(max_message_bytes);
        let mut routes = routes.add_service(health_service).add_service(audit);
        if self.config.reflection {
            let (v1, v1alpha) = crate::reflection::services();
            routes = routes.add_service(v1).add_service(v1alpha);
        }

        let auth = AuthLayer::new(
            policy,
            self.config.dev_credentials,
            self.session_keys(),
            self.clock.clone(),
            registry,
            tls::keep_revocations_current(self.tls.as_ref(), &tasks),
        );
        let local_addr = self.local_addr();
        let drain = Duration::from_millis(self.config.drain_timeout_ms);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        // Small gRPC frames must not wait for Nagle's algorithm (40 ms with
        // delayed ACKs).
        let (keepalive, keepalive_timeout) = self.keepalive();
        let incoming = TcpIncoming::from(self.listener)
            .with_nodelay(Some(true))
            .with_keepalive(Some(keepalive));
        // HTTP/2 pings find a half-open connection (a partner's or another
        // service's event stream) within interval + timeout.
        // HTTP/1.1 too, for the JSON interface (`json`, outside all but the
        // trace layer: it turns a JSON call into a gRPC one before metrics,
        // limits and auth see it).
        let router = Server::builder()
            .http2_keepalive_interval(Some(keepalive))
            .http2_keepalive_timeout(Some(keepalive_timeout))
            .accept_http1(true)
            .layer(trace::ServerLayer::new(self.traces.clone()))
            .layer(JsonLayer::new(max_message_bytes).with_envelopes(envelopes))
            .layer(self.metrics.rpc_layer(policy))
            .layer(auth)
            .layer(AdmissionLayer::new(self.config.admission()))
            .layer(MessageSizeLayer::new(max_message_bytes))
            .add_routes(routes);
        let stopped = async {
            let _ = stop_rx.await;
        };
        let mut server = match &self.tls {
            Some(tls) => {
                let config = tls
                    .server_config()
                    .expect("TLS settings were checked at start");
                let tls = tls_incoming::accept(incoming, config, TLS_HANDSHAKE, &tasks);
                tokio::spawn(router.serve_with_incoming_shutdown(tls, stopped))
            }
            None => tokio::spawn(router.serve_with_incoming_shutdown(incoming, stopped)),
        };
        tracing::info!(service = service_name, addr = %local_addr, tls = self.tls.is_some(), "serving");

        let result = tokio::select! {
            result = &mut server => result,
            () = shutdown => {
                tracing::info!(drain_ms = drain.as_millis() as u64, "shutting down; draining calls");
                reporter.set_service_status(service_name, ServingStatus::NotServing).await;
                reporter.set_service_status("", ServingStatus::NotServing).await;
                // Open event streams and background loops end now; calls in
                // flight and tracked tasks get until the drain deadline.
                tasks.stop.cancel();
                let _ = stop_tx.send(());
                let deadline = tokio::time::Instant::now() + drain;
                let served = tokio::time::timeout_at(deadline, &mut server).await;
                tasks.tracker.close();
                let drained = tokio::time::timeout_at(deadline, tasks.tracker.wait()).await;
                match served {
                    Ok(result) if drained.is_ok() => result,
                    served => {
                        tracing::warn!("drain deadline passed; aborting remaining calls and tasks");
                        server.abort();
                        health_task.abort();
                        retention_task.abort();
                        self.pool.close().await;
                        return match served {
                            Ok(Ok(result)) => result,
                            _ => Ok(()),
                        };
                    }
                }
            }
        };
        health_task.abort();
        retention_task.abort();
        self.pool.close().await;
        self.traces.shutdown().await;
        tracing::info!("stopped");
        result.unwrap_or(Ok(()))
    }
}

/// A built service: migrated, bound, its routes and policy set — what a
/// service's `build` returns and its binary (or a test) serves.
pub struct Ready {
    host: Host,
    service_name: &'static str,
    policy: &'static Policy,
    registry: Arc<dyn PartnerRegistry>,
    routes: Routes,
    envelopes: Option<Adapter>,
}

impl Ready {
    /// Also serves the envelope (`json::envelope`) with `adapter`.
    pub fn with_envelopes(mut self, adapter: Adapter) -> Self {
        self.envelopes = Some(adapter);
        self
    }

    /// Where it listens (port 0 in the configuration picks a free one).
    pub fn local_addr(&self) -> SocketAddr {
        self.host.local_addr()
    }

    /// Where its metrics are served, when `metrics_listen` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.host.metrics.local_addr()
    }

    /// Serves until `shutdown` resolves, then drains (see [`Host::serve`]).
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), tonic::transport::Error> {
        self.host
            .serve(
                self.service_name,
                self.policy,
                self.registry,
                self.routes,
                self.envelopes,
                shutdown,
            )
            .await
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("can install a SIGTERM handler");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

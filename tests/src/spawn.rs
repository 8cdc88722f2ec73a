//! The services, built and run in the test's process on port 0 with the
//! settings every test gives them.

use std::{future::Future, net::SocketAddr, sync::Arc};

use platform::{clock::Clock, service::Service};
use socsec_proto::identity::v1::identity_service_client::IdentityServiceClient;
use tokio::sync::oneshot;

use crate::{
    CallerChannel, ECARD_SECRET, SESSION_SECRET, caller_channel, fresh_database, logs, pki,
};

/// A running service; it stops when this is dropped.
pub struct Running {
    pub addr: SocketAddr,
    /// Its metrics port, when `metrics_listen` was set.
    pub metrics_addr: Option<SocketAddr>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), tonic::transport::Error>>>,
}

impl Running {
    /// A channel to the service over mutual TLS, with the certificate of
    /// each request's caller ([`crate::as_caller`]).
    pub async fn channel(&self) -> CallerChannel {
        caller_channel(self.addr)
    }

    /// The service's URL.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Asks the service to stop and waits until it has.
    pub async fn stop(mut self) -> Result<(), tonic::transport::Error> {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.expect("server task")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn spawn<F>(addr: SocketAddr, run: impl FnOnce(oneshot::Receiver<()>) -> F) -> Running
where
    F: Future<Output = Result<(), tonic::transport::Error>> + Send + 'static,
{
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(run(stopped));
    Running {
        addr,
        metrics_addr: None,
        stop: Some(stop),
        task: Some(task),
    }
}

/// Builds service `S` from `config` (its log lines captured), and runs it
/// until the [`Running`] handle stops it or is dropped.
pub async fn spawn_service<S: Service>(config: S::Config, clock: Arc<dyn Clock>) -> Running {
    logs::capture();
    let ready = S::build(config, clock)
        .await
        .unwrap_or_else(|e| panic!("{} does not start: {e}", S::NAME));
    let metrics_addr = ready.metrics_addr();
    let mut running = spawn(ready.local_addr(), move |stopped| {
        ready.serve(async move {
            let _ = stopped.await;
        })
    });
    running.metrics_addr = metrics_addr;
    running
}

/// The settings every service gets in a test: port 0, the database, mutual
/// TLS with the test CAs, their revocation lists (looked at every 100 ms)
/// and the service's certificate, quick health checks and drain.
pub fn platform_config(
    platform: &mut platform::config::PlatformConfig,
    service: &str,
    database_url: &str,
) {
    let pki = pki();
    platform.listen_addr = "127.0.0.1:0".parse().unwrap();
    platform.database_url = database_url.to_owned();
    platform.tls_partner_ca_file = Some(pki.ca_file(devpki::Ca::Partner));
    platform.tls_internal_ca_file = Some(pki.ca_file(devpki::Ca::Internal));
    platform.tls_partner_crl_file = Some(pki.crl_file(devpki::Ca::Partner));
    platform.tls_internal_crl_file = Some(pki.crl_file(devpki::Ca::Internal));
    platform.tls_crl_reload_ms = 100;
    platform.tls_cert_file = Some(pki.cert_file(service));
    platform.tls_key_file = Some(pki.key_file(service));
    platform.session_token_secret = Some(SESSION_SECRET.into());
    platform.health_check_interval_ms = 200;
    platform.drain_timeout_ms = 2_000;
}

/// Identity's configuration for a test against `database_url`.
pub fn identity_config(database_url: &str) -> identity::Config {
    let mut config = identity::Config::default();
    platform_config(&mut config.platform, "identity", database_url);
    config
}

pub async fn spawn_identity_with(config: identity::Config, clock: Arc<dyn Clock>) -> Running {
    spawn_service::<identity::Application>(config, clock).await
}

/// Identity on a fresh database, with `clock`.
pub async fn spawn_identity(clock: Arc<dyn Clock>) -> Running {
    let database = fresh_database().await;
    spawn_identity_with(identity_config(&database), clock).await
}

pub async fn identity_client(running: &Running) -> IdentityServiceClient<CallerChannel> {
    IdentityServiceClient::new(running.channel().await)
}

/// Card-issuance's configuration for a test against `database_url`, calling
/// identity at `identity`.
pub fn card_config(database_url: &str, identity: SocketAddr) -> card_issuance::Config {
    let mut config = card_issuance::Config::default();
    platform_config(&mut config.platform, "card-issuance", database_url);
    config.identity_url = format!("https://{identity}");
    config.ecard_token_secret = Some(ECARD_SECRET.into());
    config
}

pub async fn spawn_cards_with(config: card_issuance::Config, clock: Arc<dyn Clock>) -> Running {
    spawn_service::<card_issuance::Application>(config, clock).await
}

/// Activation's configuration for a test against `database_url`.
pub fn activation_config(
    database_url: &str,
    identity: SocketAddr,
    cards: SocketAddr,
) -> activation::Config {
    let mut config = activation::Config::default();
    platform_config(&mut config.platform, "activation", database_url);
    config.identity_url = format!("https://{identity}");
    config.card_issuance_url = format!("https://{cards}");
    config
}

pub async fn spawn_activation_with(config: activation::Config, clock: Arc<dyn Clock>) -> Running {
    spawn_service::<activation::Application>(config, clock).await
}

/// Contribution's configuration for a test against `database_url`.
pub fn contribution_config(database_url: &str, identity: SocketAddr) -> contribution::Config {
    let mut config = contribution::Config::default();
    platform_config(&mut config.platform, "contribution", database_url);
    config.identity_url = format!("https://{identity}");
    config
}

pub async fn spawn_contribution_with(
    config: contribution::Config,
    clock: Arc<dyn Clock>,
) -> Running {
    spawn_service::<contribution::Application>(config, clock).await
}

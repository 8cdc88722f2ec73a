//! Helpers for the system tests: a fresh database per test on the Postgres
//! that `deploy/test.sh` started, services spawned on port 0, generated gRPC
//! clients, and a capture of every log line the services write.

pub mod ids;
pub mod journeys;
pub mod logs;
pub mod pki;

use std::{future::Future, net::SocketAddr, sync::Arc};

use chrono::{TimeZone, Utc};
use platform::clock::{Clock, ManualClock};
use socsec_proto::{
    activation::v1::activation_service_client::ActivationServiceClient,
    card::v1::card_service_client::CardServiceClient,
    contribution::v1::contribution_service_client::ContributionServiceClient,
    identity::v1::identity_service_client::IdentityServiceClient,
};
use sqlx::{Connection, PgConnection};
use tokio::sync::oneshot;
use tonic::{Request, metadata::MetadataValue};

pub use pki::{AsCaller, CallerChannel, caller_channel, pki};

/// The session token key the tests configure.
pub const SESSION_SECRET: &str = "test-session-secret-of-at-least-32-bytes";

/// The server that `deploy/test.sh` started (or the one `DATABASE_URL` names).
pub fn admin_url() -> String {
    std::env::var("DATABASE_URL")
        .expect("DATABASE_URL is not set: run the tests with deploy/test.sh, which starts Postgres")
}

/// Creates an empty database for one test and returns its URL.
pub async fn fresh_database() -> String {
    let admin = admin_url();
    let mut conn = PgConnection::connect(&admin)
        .await
        .expect("connect to the test Postgres");
    let name = format!("test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let base = admin
        .rsplit_once('/')
        .map(|(base, _)| base)
        .expect("DATABASE_URL ends in /DATABASE");
    format!("{base}/{name}")
}

/// A clock fixed at a known instant, moved by the test.
pub fn test_clock() -> ManualClock {
    ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 25, 2, 0, 0).unwrap())
}

/// A running service; it stops when this is dropped.
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), tonic::transport::Error>>>,
}

impl Running {
    /// A channel to the service over mutual TLS, with the certificate of
    /// each request's caller ([`as_caller`]).
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
        stop: Some(stop),
        task: Some(task),
    }
}

/// The settings every service gets in a test: port 0, the database, mutual
/// TLS with the test CA and the service's certificate, quick health checks
/// and drain.
pub fn platform_config(
    platform: &mut platform::config::PlatformConfig,
    service: &str,
    database_url: &str,
) {
    let pki = pki();
    platform.listen_addr = "127.0.0.1:0".parse().unwrap();
    platform.database_url = database_url.to_owned();
    platform.tls_ca_file = Some(pki.ca_file());
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
    logs::capture();
    let app = identity::Application::build(config, clock)
        .await
        .expect("identity starts");
    let addr = app.local_addr();
    spawn(addr, move |stopped| {
        app.run_until_stopped(async move {
            let _ = stopped.await;
        })
    })
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
    config
}

pub async fn spawn_cards_with(config: card_issuance::Config, clock: Arc<dyn Clock>) -> Running {
    logs::capture();
    let app = card_issuance::Application::build(config, clock)
        .await
        .expect("card-issuance starts");
    let addr = app.local_addr();
    spawn(addr, move |stopped| {
        app.run_until_stopped(async move {
            let _ = stopped.await;
        })
    })
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
    logs::capture();
    let app = activation::Application::build(config, clock)
        .await
        .expect("activation starts");
    let addr = app.local_addr();
    spawn(addr, move |stopped| {
        app.run_until_stopped(async move {
            let _ = stopped.await;
        })
    })
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
    logs::capture();
    let app = contribution::Application::build(config, clock)
        .await
        .expect("contribution starts");
    let addr = app.local_addr();
    spawn(addr, move |stopped| {
        app.run_until_stopped(async move {
            let _ = stopped.await;
        })
    })
}

/// All four services on one fresh database (each in its own
/// schema), sharing `clock`.
pub struct System {
    pub database_url: String,
    pub clock: ManualClock,
    pub identity: Running,
    pub cards: Running,
    pub activation: Running,
    pub contribution: Running,
}

impl System {
    pub async fn start() -> Self {
        let database_url = fresh_database().await;
        let clock = test_clock();
        let identity =
            spawn_identity_with(identity_config(&database_url), Arc::new(clock.clone())).await;
        let cards = spawn_cards_with(
            card_config(&database_url, identity.addr),
            Arc::new(clock.clone()),
        )
        .await;
        let activation = spawn_activation_with(
            activation_config(&database_url, identity.addr, cards.addr),
            Arc::new(clock.clone()),
        )
        .await;
        let contribution = spawn_contribution_with(
            contribution_config(&database_url, identity.addr),
            Arc::new(clock.clone()),
        )
        .await;
        Self {
            database_url,
            clock,
            identity,
            cards,
            activation,
            contribution,
        }
    }

    pub async fn identity_client(&self) -> IdentityServiceClient<CallerChannel> {
        IdentityServiceClient::new(self.identity.channel().await)
    }

    pub async fn card_client(&self) -> CardServiceClient<CallerChannel> {
        CardServiceClient::new(self.cards.channel().await)
    }

    pub async fn contribution_client(&self) -> ContributionServiceClient<CallerChannel> {
        ContributionServiceClient::new(self.contribution.channel().await)
    }

    pub async fn activation_client(&self) -> ActivationServiceClient<CallerChannel> {
        ActivationServiceClient::new(self.activation.channel().await)
    }
}

/// `message` sent as `caller` (`KIND:CODE`): over a TLS connection with a
/// client certificate naming that caller.
/// A person (`person:<id>`) has no certificate: the request carries a
/// session token for them instead, signed with the tests' key.
pub fn as_caller<T>(caller: &str, message: T) -> Request<T> {
    if let Some(person_id) = caller.strip_prefix("person:") {
        let until = Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).unwrap();
        let token = platform::session::SessionKeys::new(SESSION_SECRET).issue(person_id, until);
        return with_token(&token, message);
    }
    let mut request = Request::new(message);
    request.extensions_mut().insert(AsCaller(caller.to_owned()));
    request
}

pub fn operator<T>(message: T) -> Request<T> {
    as_caller("operator:OP0001", message)
}

/// A person's audit trail in the service `running`, every page, as
/// operator `OP0001` (the query itself is recorded first).
pub async fn audit_trail(
    running: &Running,
    person_id: &str,
) -> Vec<socsec_proto::audit::v1::AuditRecord> {
    use socsec_proto::{
        audit::v1::{ListAuditRecordsRequest, audit_service_client::AuditServiceClient},
        common::v1::PageRequest,
    };
    let mut audit = AuditServiceClient::new(running.channel().await);
    let mut records = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = audit
            .list_audit_records(operator(ListAuditRecordsRequest {
                person_id: person_id.to_owned(),
                page: Some(PageRequest {
                    page_size: 100,
                    page_token,
                }),
            }))
            .await
            .expect("operators may read the audit trail")
            .into_inner();
        records.extend(page.records);
        page_token = page.page.unwrap_or_default().next_page_token;
        if page_token.is_empty() {
            return records;
        }
    }
}

/// `message` sent with a person's session token.
pub fn with_token<T>(token: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        MetadataValue::try_from(format!("Bearer {token}")).unwrap(),
    );
    request
}

/// The `ErrorInfo.reason` and the bad fields of a refused call.
pub fn reason(status: &tonic::Status) -> String {
    use tonic_types::StatusExt;
    status
        .get_details_error_info()
        .map(|info| info.reason)
        .unwrap_or_default()
}

pub fn bad_fields(status: &tonic::Status) -> Vec<(String, String)> {
    use tonic_types::StatusExt;
    status
        .get_details_bad_request()
        .map(|b| {
            b.field_violations
                .into_iter()
                .map(|v| (v.field, v.reason))
                .collect()
        })
        .unwrap_or_default()
}

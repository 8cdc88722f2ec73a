//! The contribution service: enrolment into social insurance, rate tables
//! as data, wage declarations, the monthly run into the pooling fund and
//! individual accounts (Social Insurance Law, Article 12), bills, payments,
//! late fees and statements. Money is integer fen throughout.

pub mod api;
pub mod directory;
pub mod domain;
pub mod error;
pub mod metrics;
pub mod policy;
pub mod service;
pub mod store;

use std::{path::Path, sync::Arc, time::Duration};

use platform::{
    client,
    clock::Clock,
    config::{self, ConfigError, PlatformConfig},
    host::{Host, Ready, StartupError},
    registry::{PARTNER_CACHE, RemoteRegistry},
};
use serde::{Deserialize, Serialize};
use socsec_proto::contribution::v1::contribution_service_server::ContributionServiceServer;
use tonic::service::Routes;

pub const SERVICE_NAME: &str = "socsec.contribution.v1.ContributionService";
pub const DEFAULT_PORT: u16 = 50054;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Config {
    #[serde(flatten)]
    pub platform: PlatformConfig,
    /// Where the identity service listens.
    pub identity_url: String,
    /// Deadline of each call to another service.
    pub call_deadline_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            platform: PlatformConfig::defaults(DEFAULT_PORT, "contribution"),
            identity_url: "https://127.0.0.1:50051".into(),
            call_deadline_ms: 5_000,
        }
    }
}

impl Config {
    /// Defaults, then `file`, then the environment (`SOCSEC_CONTRIBUTION_*`).
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let config: Self = config::load("contribution", file, Self::default())?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        self.platform.validate()?;
        client::check_url("identity_url", &self.identity_url, self.platform.plaintext)?;
        client::check_deadline(self.call_deadline_ms)
    }
}

/// The contribution service (see `platform::service::Service`).
pub struct Application;

impl platform::service::Service for Application {
    type Config = Config;
    const NAME: &'static str = "contribution";

    fn load_config(file: Option<&Path>) -> Result<Config, ConfigError> {
        Config::load(file)
    }

    fn platform_config(config: &Config) -> &PlatformConfig {
        &config.platform
    }

    fn migrations() -> &'static sqlx::migrate::Migrator {
        &MIGRATIONS
    }

    async fn build(config: Config, clock: Arc<dyn Clock>) -> Result<Ready, StartupError> {
        config.validate()?;
        let host = Host::start(config.platform.clone(), &MIGRATIONS, clock).await?;
        let upstreams = host.upstreams(
            "contribution",
            Duration::from_millis(config.call_deadline_ms),
        );
        let identity = upstreams.channel("identity_url", &config.identity_url)?;
        let registry = RemoteRegistry::shared(identity.clone(), PARTNER_CACHE);
        let api = api::ContributionApi::new(
            service::ContributionService::new(
                host.pool().clone(),
                host.tasks(),
                host.clock(),
                directory::Directory::new(identity),
                host.event_streams(),
            )
            .with_run_gauges(metrics::RunGauges::register(&host.metrics())),
        );
        let limit = host.config().max_message_bytes;
        let routes = Routes::new(
            ContributionServiceServer::new(api)
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit),
        );
        Ok(host.ready(SERVICE_NAME, &policy::POLICY, registry, routes))
    }
}

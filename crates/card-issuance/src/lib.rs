//! The card-issuance service: applications for social security cards, their
//! issuing (one at a time or in batches of thousands), receipt, loss,
//! replacement and cancellation; and the old medical insurance cards.

pub mod api;
pub mod directory;
pub mod domain;
pub mod error;
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
use socsec_proto::card::v1::card_service_server::CardServiceServer;
use tonic::service::Routes;

pub const SERVICE_NAME: &str = "socsec.card.v1.CardService";
pub const DEFAULT_PORT: u16 = 50052;

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
            platform: PlatformConfig::defaults(DEFAULT_PORT, "card_issuance"),
            identity_url: "https://127.0.0.1:50051".into(),
            call_deadline_ms: 5_000,
        }
    }
}

impl Config {
    /// Defaults, then `file`, then the environment (`SOCSEC_CARD_ISSUANCE_*`).
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let config: Self = config::load("card-issuance", file, Self::default())?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        self.platform.validate()?;
        client::check_url("identity_url", &self.identity_url, self.platform.plaintext)?;
        client::check_deadline(self.call_deadline_ms)
    }
}

/// The card-issuance service (see `platform::service::Service`).
pub struct Application;

impl platform::service::Service for Application {
    type Config = Config;
    const NAME: &'static str = "card-issuance";

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
            "card-issuance",
            Duration::from_millis(config.call_deadline_ms),
        );
        let identity = upstreams.channel("identity_url", &config.identity_url)?;
        let registry = RemoteRegistry::shared(identity.clone(), PARTNER_CACHE);
        let api = api::CardApi::new(service::Cards::new(
            host.pool().clone(),
            host.event_streams(),
            host.tasks(),
            host.clock(),
            directory::Directory::new(identity),
        ));
        let limit = host.config().max_message_bytes;
        let routes = Routes::new(
            CardServiceServer::new(api)
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit),
        );
        Ok(host.ready(SERVICE_NAME, &policy::POLICY, registry, routes))
    }
}

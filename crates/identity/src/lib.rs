//! The identity service: persons' basic information (registered, corrected,
//! confirmed, every version kept), online sign-in, and the partner registry.

pub mod api;
pub mod domain;
pub mod error;
pub mod policy;
pub mod registry;
pub mod service;
pub mod store;

use std::{path::Path, sync::Arc};

use platform::{
    clock::Clock,
    config::{self, ConfigError, PlatformConfig},
    host::{Host, Ready, StartupError},
};
use serde::{Deserialize, Serialize};
use socsec_proto::identity::v1::identity_service_server::IdentityServiceServer;
use tonic::service::Routes;

pub const SERVICE_NAME: &str = "socsec.identity.v1.IdentityService";
pub const DEFAULT_PORT: u16 = 50051;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Config {
    #[serde(flatten)]
    pub platform: PlatformConfig,
    /// Failed sign-ins in a row that lock the online account.
    pub password_max_failures: i32,
    /// How long a locked account stays locked.
    pub password_lockout_secs: i64,
    /// How long a session token is valid.
    pub session_token_ttl_secs: i64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            platform: PlatformConfig::defaults(DEFAULT_PORT, "identity"),
            password_max_failures: 5,
            password_lockout_secs: 15 * 60,
            session_token_ttl_secs: 15 * 60,
        }
    }
}

impl Config {
    /// Defaults, then `file`, then the environment (`SOCSEC_IDENTITY_*`).
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let config: Self = config::load("identity", file, Self::default())?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        self.platform.validate()?;
        if self.platform.session_token_secret.is_none() {
            return Err(ConfigError::invalid(
                "session_token_secret",
                "is required: identity signs persons' session tokens",
            ));
        }
        if self.password_max_failures < 1 {
            return Err(ConfigError::invalid(
                "password_max_failures",
                "must be at least 1",
            ));
        }
        if self.password_lockout_secs < 1 {
            return Err(ConfigError::invalid(
                "password_lockout_secs",
                "must be at least 1",
            ));
        }
        if !(60..=24 * 3600).contains(&self.session_token_ttl_secs) {
            return Err(ConfigError::invalid(
                "session_token_ttl_secs",
                "must be between 60 and 86400",
            ));
        }
        Ok(())
    }
}

/// The identity service (see `platform::service::Service`).
pub struct Application;

impl platform::service::Service for Application {
    type Config = Config;
    const NAME: &'static str = "identity";

    fn load_config(file: Option<&Path>) -> Result<Config, ConfigError> {
        Config::load(file)
    }

    fn platform_config(config: &Config) -> &PlatformConfig {
        &config.platform
    }

    async fn build(config: Config, clock: Arc<dyn Clock>) -> Result<Ready, StartupError> {
        config.validate()?;
        let host = Host::start(config.platform.clone(), &MIGRATIONS, clock).await?;
        let sessions = host
            .session_keys()
            .expect("validated: identity has a session token secret");
        let identity = service::Identity::new(
            host.pool().clone(),
            host.clock(),
            sessions,
            service::SignInSettings {
                lockout: domain::LockoutPolicy {
                    max_failures: config.password_max_failures,
                    lockout: chrono::Duration::seconds(config.password_lockout_secs),
                },
                token_ttl: chrono::Duration::seconds(config.session_token_ttl_secs),
            },
        );
        let api = api::IdentityApi::new(identity, host.event_streams());
        let limit = host.config().max_message_bytes;
        let routes = Routes::new(
            IdentityServiceServer::new(api)
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit),
        );
        let registry = Arc::new(registry::LocalRegistry::new(host.pool().clone()));
        Ok(host.ready(SERVICE_NAME, &policy::POLICY, registry, routes))
    }
}

//! The identity service: persons' basic information (registered, corrected,
//! confirmed, every version kept), online sign-in, and the partner registry.

pub mod api;
pub mod domain;
pub mod error;
pub mod policy;
pub mod registry;
pub mod service;
pub mod store;

use std::{path::Path, sync::Arc, time::Duration};

use platform::{
    clock::Clock,
    config::{self, ConfigError, PlatformConfig},
    host::{Host, Ready, StartupError},
    rate_limit::Limit,
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
    /// Wrong passwords in a row answered without delay; from the next one
    /// on, each further sign-in must wait a delay that doubles.
    pub password_max_failures: i32,
    /// The first such delay, in milliseconds.
    pub password_first_delay_ms: i64,
    /// The longest such delay (the cap), in seconds.
    pub password_lockout_secs: i64,
    /// How long a session token is valid.
    pub session_token_ttl_secs: i64,
    /// Sign-ins judged per ID number (a password set anew at the counter
    /// starts afresh).
    pub sign_in_per_id_number: Limit,
    /// Sign-ins per client address (IP).
    pub sign_in_per_client_address: Limit,
    /// `VerifyIdentity` calls per partner (the one a service acts for).
    pub verify_identity_per_caller: Limit,
    /// Password hashes computed at once (each takes a core for ~15-50 ms).
    pub password_hashing_concurrency: usize,
    /// How long a sign-in waits for a hashing slot before `SIGN_IN_BUSY`.
    pub password_hashing_wait_ms: u64,
    /// Sign-ins that may wait for a hashing slot; more are refused
    /// `SIGN_IN_BUSY` at once, so a flood of sign-ins holds few of the
    /// service's call places (see `platform::admission`).
    pub password_hashing_queue: usize,
    /// Database connections kept for partner admission and session checks
    /// (`GetPartner`, `CheckSession`, identity's own auth layer), apart from
    /// `database_max_connections`.
    pub admission_database_connections: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            platform: PlatformConfig::defaults(DEFAULT_PORT, "identity"),
            password_max_failures: 5,
            password_first_delay_ms: 1_000,
            password_lockout_secs: 15 * 60,
            session_token_ttl_secs: 15 * 60,
            sign_in_per_id_number: Limit::new(10, 10),
            sign_in_per_client_address: Limit::new(120, 30),
            verify_identity_per_caller: Limit::new(120, 60),
            password_hashing_concurrency: 2,
            password_hashing_wait_ms: 2_000,
            password_hashing_queue: 8,
            admission_database_connections: 4,
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
        if !self
            .platform
            .session_keys()
            .is_some_and(|keys| keys.can_sign())
        {
            return Err(ConfigError::invalid(
                "session_token_secret",
                "(or session_token_keys with session_token_signing_key) is required: \
                 identity signs persons' session tokens",
            ));
        }
        for (key, limit) in [
            ("sign_in_per_id_number", self.sign_in_per_id_number),
            (
                "sign_in_per_client_address",
                self.sign_in_per_client_address,
            ),
            (
                "verify_identity_per_caller",
                self.verify_identity_per_caller,
            ),
        ] {
            if !limit.is_valid() {
                return Err(ConfigError::invalid(
                    key,
                    "needs per_minute and burst of at least 1",
                ));
            }
        }
        if self.password_hashing_concurrency < 1 || self.admission_database_connections < 1 {
            return Err(ConfigError::invalid(
                "password_hashing_concurrency",
                "and admission_database_connections must be at least 1",
            ));
        }
        if self.password_first_delay_ms < 1 {
            return Err(ConfigError::invalid(
                "password_first_delay_ms",
                "must be at least 1",
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

    fn migrations() -> &'static sqlx::migrate::Migrator {
        &MIGRATIONS
    }

    async fn build(config: Config, clock: Arc<dyn Clock>) -> Result<Ready, StartupError> {
        config.validate()?;
        let host = Host::start(config.platform.clone(), &MIGRATIONS, clock).await?;
        let sessions = host
            .session_keys()
            .expect("validated: identity has a session token secret");
        let mut admission_config = config.platform.clone();
        admission_config.database_max_connections = config.admission_database_connections;
        let admission = platform::db::connect(&admission_config).await?;
        let lockout = domain::LockoutPolicy {
            max_failures: config.password_max_failures,
            first_delay: chrono::Duration::milliseconds(config.password_first_delay_ms),
            longest_delay: chrono::Duration::seconds(config.password_lockout_secs),
            // A day without a wrong password clears the count, for an ID
            // number with an online credential and one without alike
            // (whose state is then deleted).
            failures_kept: chrono::Duration::days(1),
        };
        let unknown_key = sessions.derive(service::Guard::UNKNOWN_KEY_PURPOSE)[0];
        let guard = Arc::new(service::Guard::new(
            service::GuardSettings {
                sign_in_per_id_number: config.sign_in_per_id_number,
                sign_in_per_client_address: config.sign_in_per_client_address,
                verify_identity_per_caller: config.verify_identity_per_caller,
                hashing_concurrency: config.password_hashing_concurrency,
                hashing_wait: Duration::from_millis(config.password_hashing_wait_ms),
                hashing_queue: config.password_hashing_queue,
            },
            unknown_key,
        ));
        let identity = service::Identity::new(
            (host.pool().clone(), admission.clone()),
            host.clock(),
            sessions,
            service::SignInSettings {
                lockout,
                token_ttl: chrono::Duration::seconds(config.session_token_ttl_secs),
            },
            guard,
        );
        host.tasks()
            .spawn_until_stopped(service::prune_unknown_states(
                host.pool().clone(),
                lockout,
                host.clock(),
            ));
        let api = api::IdentityApi::new(identity, host.event_streams());
        let limit = host.config().max_message_bytes;
        let routes = Routes::new(
            IdentityServiceServer::new(api)
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit),
        );
        let registry = Arc::new(registry::local(admission, host.clock()));
        Ok(host.ready(SERVICE_NAME, &policy::POLICY, registry, routes))
    }
}

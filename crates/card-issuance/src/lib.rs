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

use std::{collections::BTreeMap, path::Path, sync::Arc, time::Duration};

use domain::ecard::TokenKeys;
use secrecy::{ExposeSecret, SecretString};

use platform::{
    client,
    clock::Clock,
    config::{self, ConfigError, PlatformConfig},
    host::{Host, Ready, StartupError},
    idempotency::FingerprintKeys,
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
    /// Key (at least 32 bytes) that signs and checks e-card QR tokens, key
    /// id `default`. Never serialized. Without any e-card key no token is
    /// issued (`ECARD_TOKENS_DISABLED`) and every token presented is invalid.
    #[serde(default, skip_serializing)]
    pub ecard_token_secret: Option<SecretString>,
    /// E-card token keys by key id, for rotation (see `domain::ecard`).
    #[serde(default, skip_serializing)]
    pub ecard_token_keys: BTreeMap<String, SecretString>,
    /// The key id new tokens are signed with. Unset: `default` when
    /// `ecard_token_secret` is set, else the only key listed.
    #[serde(default)]
    pub ecard_token_signing_key: Option<String>,
    /// How long an e-card token is valid (10 to 300 s).
    pub ecard_token_ttl_secs: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            platform: PlatformConfig::defaults(DEFAULT_PORT, "card_issuance"),
            identity_url: "https://127.0.0.1:50051".into(),
            call_deadline_ms: 5_000,
            ecard_token_secret: None,
            ecard_token_keys: BTreeMap::new(),
            ecard_token_signing_key: None,
            ecard_token_ttl_secs: 60,
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
        client::check_deadline(self.call_deadline_ms)?;
        let keys = self.ecard_keys();
        if keys.values().any(|secret| secret.len() < 32) {
            return Err(ConfigError::invalid(
                "ecard_token_keys",
                "every key (and ecard_token_secret) must be at least 32 bytes",
            ));
        }
        if keys
            .keys()
            .any(|id| !platform::session::is_valid_key_id(id))
        {
            return Err(ConfigError::invalid(
                "ecard_token_keys",
                "key ids must be 1-32 of A-Z a-z 0-9 _ -",
            ));
        }
        if let Some(signing) = &self.ecard_token_signing_key
            && !keys.contains_key(signing.as_str())
        {
            return Err(ConfigError::invalid(
                "ecard_token_signing_key",
                "must name a key of ecard_token_keys (or `default` for ecard_token_secret)",
            ));
        }
        if !(10..=300).contains(&self.ecard_token_ttl_secs) {
            return Err(ConfigError::invalid(
                "ecard_token_ttl_secs",
                "must be 10 to 300 seconds",
            ));
        }
        Ok(())
    }

    /// Every e-card key by id (`ecard_token_secret` as `default`).
    fn ecard_keys(&self) -> BTreeMap<&str, &[u8]> {
        let mut keys: BTreeMap<&str, &[u8]> = self
            .ecard_token_keys
            .iter()
            .map(|(id, secret)| (id.as_str(), secret.expose_secret().as_bytes()))
            .collect();
        if let Some(secret) = &self.ecard_token_secret {
            keys.insert("default", secret.expose_secret().as_bytes());
        }
        keys
    }

    /// The keys e-card tokens are signed and checked with.
    pub fn ecard_token_keys(&self) -> TokenKeys {
        let keys = self.ecard_keys();
        let signing = match &self.ecard_token_signing_key {
            Some(id) => Some(id.as_str()),
            None if self.ecard_token_secret.is_some() => Some("default"),
            None if keys.len() == 1 => keys.keys().next().copied(),
            None => None,
        };
        let ttl = chrono::Duration::seconds(i64::from(self.ecard_token_ttl_secs));
        TokenKeys::new(keys, signing, ttl)
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
        let api = api::CardApi::new(
            service::Cards::new(
                host.pool().clone(),
                host.event_streams(),
                host.tasks(),
                host.clock(),
                directory::Directory::new(identity),
            )
            .with_ecard_keys(config.ecard_token_keys())
            .with_fingerprint_keys(FingerprintKeys::from_session_keys(
                host.session_keys().as_ref(),
            )),
        );
        let limit = host.config().max_message_bytes;
        let routes = Routes::new(
            CardServiceServer::new(api)
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit),
        );
        Ok(host.ready(SERVICE_NAME, &policy::POLICY, registry, routes))
    }
}

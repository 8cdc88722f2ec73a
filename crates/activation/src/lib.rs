//! The activation service: activates social security cards through bank
//! outlets, designated hospitals and pharmacies, the bank's financial
//! function and the 12333 hotline; keeps the activation deadline and its
//! consequence exact at any instant; answers eligibility on every visit.
//!
//! Its hot paths read local projections of cards and partners, kept from
//! card-issuance's and identity's event streams (see `projection`), and
//! answer from them only while they are known to be current (see
//! `domain::freshness`). Several instances may run against one database:
//! projections apply monotonically, the projectors are led (`leader`), the
//! relay claims its entries (`relay`).

pub mod api;
pub mod caught_up;
pub mod directory;
pub mod domain;
pub mod error;
pub mod leader;
pub mod metrics;
pub mod partners;
pub mod policy;
pub mod projection;
pub mod published;
pub mod relay;
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
use socsec_proto::activation::v1::activation_service_server::ActivationServiceServer;
use tonic::service::Routes;

use crate::domain::{Consequence, RegionPolicy, Window};

pub const SERVICE_NAME: &str = "socsec.activation.v1.ActivationService";
pub const DEFAULT_PORT: u16 = 50053;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Config {
    #[serde(flatten)]
    pub platform: PlatformConfig,
    pub identity_url: String,
    pub card_issuance_url: String,
    /// Deadline of each call to another service.
    pub call_deadline_ms: u64,
    /// The activation window of regions without a policy of their own:
    /// months (China calendar) or, if months is 0, days.
    pub default_window_months: u32,
    pub default_window_days: u32,
    /// `RESTRICT_LEGACY_CARD` or `NONE`.
    pub default_consequence: String,
    /// The projection answers for card-issuance (eligibility, the card's
    /// state at an activation) only while card-issuance's stream was caught
    /// up no longer than this ago; otherwise card-issuance is asked. Above
    /// the streams' heartbeat period (500 ms); the default keeps a loss
    /// committed more than 2 s ago from ever being answered ELIGIBLE.
    pub eligibility_freshness_ms: u64,
    /// A partner that presents this many cards that are not found (a wrong
    /// or missing identification code, an unknown number, a failed holder
    /// check) within `presentation_failure_window_secs` is refused with
    /// RESOURCE_EXHAUSTED / PRESENTATION_LIMIT until the oldest ages out.
    pub presentation_failure_limit: u32,
    pub presentation_failure_window_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            platform: PlatformConfig::defaults(DEFAULT_PORT, "activation"),
            identity_url: "https://127.0.0.1:50051".into(),
            card_issuance_url: "https://127.0.0.1:50052".into(),
            call_deadline_ms: 5_000,
            default_window_months: 6,
            default_window_days: 0,
            default_consequence: "RESTRICT_LEGACY_CARD".into(),
            eligibility_freshness_ms: 1_500,
            presentation_failure_limit: 20,
            presentation_failure_window_secs: 600,
        }
    }
}

impl Config {
    /// Defaults, then `file`, then the environment (`SOCSEC_ACTIVATION_*`).
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let config: Self = config::load("activation", file, Self::default())?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        self.platform.validate()?;
        let plaintext = self.platform.plaintext;
        client::check_url("identity_url", &self.identity_url, plaintext)?;
        client::check_url("card_issuance_url", &self.card_issuance_url, plaintext)?;
        client::check_deadline(self.call_deadline_ms)?;
        let heartbeats = platform::outbox::POLL.as_millis() as u64;
        if !(heartbeats < self.eligibility_freshness_ms && self.eligibility_freshness_ms <= 60_000)
        {
            return Err(ConfigError::invalid(
                "eligibility_freshness_ms",
                format!(
                    "must be above the streams' heartbeat period ({heartbeats} ms) and at most 60000"
                ),
            ));
        }
        if self.presentation_failure_limit == 0 {
            return Err(ConfigError::invalid(
                "presentation_failure_limit",
                "must be at least 1",
            ));
        }
        if !(1..=86_400).contains(&self.presentation_failure_window_secs) {
            return Err(ConfigError::invalid(
                "presentation_failure_window_secs",
                "must be 1 to 86400",
            ));
        }
        self.default_policy().map(|_| ())
    }

    pub fn settings(&self) -> Result<service::Settings, ConfigError> {
        Ok(service::Settings {
            default_policy: self.default_policy()?,
            eligibility_freshness: chrono::Duration::milliseconds(
                self.eligibility_freshness_ms as i64,
            ),
            presentation_limit: domain::PresentationLimit {
                max_failures: self.presentation_failure_limit,
                window: chrono::Duration::seconds(self.presentation_failure_window_secs as i64),
            },
        })
    }

    pub fn default_policy(&self) -> Result<RegionPolicy, ConfigError> {
        let window = match (self.default_window_months, self.default_window_days) {
            (0, 0) => {
                return Err(ConfigError::invalid(
                    "default_window_months",
                    "a window of months or days is needed",
                ));
            }
            (0, days) => Window::Days(days),
            (months, 0) => Window::Months(months),
            _ => {
                return Err(ConfigError::invalid(
                    "default_window_days",
                    "give months or days, not both",
                ));
            }
        };
        let consequence: Consequence = self.default_consequence.parse().map_err(|_| {
            ConfigError::invalid(
                "default_consequence",
                "must be RESTRICT_LEGACY_CARD or NONE",
            )
        })?;
        Ok(RegionPolicy {
            window,
            consequence,
        })
    }
}

/// The activation service (see `platform::service::Service`).
pub struct Application;

impl platform::service::Service for Application {
    type Config = Config;
    const NAME: &'static str = "activation";

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
        let upstreams =
            host.upstreams("activation", Duration::from_millis(config.call_deadline_ms));
        let identity = upstreams.channel("identity_url", &config.identity_url)?;
        let cards = upstreams.channel("card_issuance_url", &config.card_issuance_url)?;
        // Event streams stay open: no per-call deadline on them.
        let streams = client::Upstreams {
            deadline: Duration::MAX,
            ..upstreams
        };
        let identity_events = streams.channel("identity_url", &config.identity_url)?;
        let card_events = streams.channel("card_issuance_url", &config.card_issuance_url)?;
        let registry = RemoteRegistry::shared(identity.clone(), PARTNER_CACHE);

        let pool = host.pool().clone();
        let partners = partners::Partners::default();
        let partners_seen = partners.load(store::projection::partners_after(&pool, -1).await?);
        let directory = directory::Directory::new(identity, cards);
        let retirements = Arc::new(tokio::sync::Notify::new());
        // Background loops end when the service stops. The projectors run
        // on one instance at a time; the relay and the partner refresh on
        // every instance.
        let tasks = host.tasks();
        tasks.spawn_until_stopped(leader::lead(pool.clone(), "card-projector", {
            let (pool, traces) = (pool.clone(), host.traces());
            move || projection::follow_cards(pool.clone(), card_events.clone(), traces.clone())
        }));
        tasks.spawn_until_stopped(leader::lead(pool.clone(), "identity-projector", {
            let (pool, partners, traces) = (pool.clone(), partners.clone(), host.traces());
            move || {
                projection::follow_identity(
                    pool.clone(),
                    identity_events.clone(),
                    partners.clone(),
                    traces.clone(),
                )
            }
        }));
        tasks.spawn_until_stopped(partners.clone().follow_table(pool.clone(), partners_seen));
        tasks.spawn_until_stopped(relay::relay_retirements(
            pool.clone(),
            directory.clone(),
            retirements.clone(),
        ));
        let (caught_up, follow_caught_up) =
            caught_up::CaughtUp::follow(pool.clone(), &config.platform.database_schema);
        tasks.spawn_until_stopped(follow_caught_up);
        metrics::register(&host.metrics(), &pool);
        let api = api::ActivationApi::new(service::Activations::new(
            pool,
            host.event_streams(),
            host.clock(),
            directory,
            partners,
            config.settings()?,
            service::Background {
                retirements,
                caught_up,
            },
        ));
        let limit = host.config().max_message_bytes;
        let routes = Routes::new(
            ActivationServiceServer::new(api)
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit),
        );
        // Hospital and pharmacy software's envelope (NHSA style): 1101,
        // 2201, 2401 and 2101 mapped onto eligibility and activation.
        Ok(host
            .ready(SERVICE_NAME, &policy::POLICY, registry, routes)
            .with_envelopes(Arc::new(api::envelope::Nhsa)))
    }
}

//! What each RPC does, between the parsed command and the answer: reads
//! from other services first (identity, the partner cache), outside any
//! transaction; then one transaction through `platform::mutation::run` that
//! re-checks the local facts those reads relied on and acts.
//!
//! - `activate`: the part the five activation channels share;
//! - `channels`: each channel's own checks;
//! - `eligibility`: eligibility at a visit;
//! - `verify`: whether the projection may answer, and asking card-issuance
//!   when it may not;
//! - `ecard`: a card shown as an electronic card's QR token;
//! - `presentation`: a card presented by number and identification code,
//!   failed presentations recorded and limited per caller;
//! - `queries`: a card's activation, approaching deadlines;
//! - `regions`: region policies.

mod activate;
mod channels;
mod ecard;
mod eligibility;
mod presentation;
mod presenting;
mod queries;
mod regions;
mod verify;

use std::sync::Arc;

use chrono::NaiveDate;
use platform::{auth::Caller, clock::Clock, outbox::EventStreams};
use socsec_proto::activation::v1 as pb;
use sqlx::PgPool;
use tokio::sync::Notify;

use crate::{
    caught_up::CaughtUp,
    directory::Directory,
    domain::{PresentationLimit, RegionPolicy},
    error::ActivationError,
    partners::Partners,
};

type Result<T, E = ActivationError> = std::result::Result<T, E>;

pub type EventStream =
    futures::stream::BoxStream<'static, Result<pb::ActivationEvent, tonic::Status>>;

/// The rules the service is configured with.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// The policy of regions without one of their own.
    pub default_policy: RegionPolicy,
    /// How far behind card-issuance the projection may be and still
    /// answer for it (`eligibility_freshness_ms`).
    pub eligibility_freshness: chrono::Duration,
    /// How many failed card presentations a partner may make within a
    /// window before it is refused.
    pub presentation_limit: PresentationLimit,
}

/// The activation service's work, shared by every RPC.
#[derive(Clone)]
pub struct Activations {
    pool: PgPool,
    events: EventStreams,
    clock: Arc<dyn Clock>,
    directory: Directory,
    partners: Partners,
    settings: Settings,
    background: Background,
    /// Card presentations in flight, by caller (see `presenting`).
    presenting: Arc<presenting::Presenting>,
}

/// What the service's background tasks share with its calls.
#[derive(Clone)]
pub struct Background {
    /// Wakes the relay that tells card-issuance about retired old cards.
    pub retirements: Arc<Notify>,
    /// How far the card projection is caught up (kept in memory).
    pub caught_up: CaughtUp,
}

impl Activations {
    pub fn new(
        pool: PgPool,
        events: EventStreams,
        clock: Arc<dyn Clock>,
        directory: Directory,
        partners: Partners,
        settings: Settings,
        background: Background,
    ) -> Self {
        Self {
            pool,
            events,
            clock,
            directory,
            partners,
            settings,
            background,
            presenting: Arc::default(),
        }
    }

    /// Today in the service's clock (ID numbers may not be born later).
    pub fn today(&self) -> NaiveDate {
        self.clock.today()
    }

    /// The policy of regions without one of their own.
    pub fn default_policy(&self) -> RegionPolicy {
        self.settings.default_policy
    }

    /// Refuses a hospital or pharmacy whose designation is not in force
    /// (before anything of its request is read); operators and services pass.
    pub async fn ensure_designated(&self, caller: &Caller) -> Result<()> {
        self.partners
            .ensure_designated(caller, &self.directory)
            .await
    }

    /// This service's events after `after`, as they commit (with
    /// heartbeats if asked for).
    pub async fn events(
        &self,
        after: &str,
        heartbeats: bool,
    ) -> Result<EventStream, tonic::Status> {
        self.events
            .stream::<pb::ActivationEvent>(after, heartbeats)
            .await
    }
}

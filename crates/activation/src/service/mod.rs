//! What each RPC does, between the parsed command and the answer: reads
//! from other services first (identity, the partner cache), outside any
//! transaction; then one transaction through `platform::mutation::run` that
//! re-checks the local facts those reads relied on and acts.
//!
//! - `activate`: the part the five activation channels share;
//! - `channels`: each channel's own checks;
//! - `queries`: eligibility, a card's activation, approaching deadlines;
//! - `regions`: region policies.

mod activate;
mod channels;
mod queries;
mod regions;

use std::sync::Arc;

use chrono::NaiveDate;
use platform::{auth::Caller, clock::Clock, outbox::EventStreams};
use socsec_proto::activation::v1 as pb;
use sqlx::PgPool;
use tokio::sync::Notify;

use crate::{
    directory::Directory, domain::RegionPolicy, error::ActivationError, partners::Partners,
};

type Result<T, E = ActivationError> = std::result::Result<T, E>;

pub type EventStream =
    futures::stream::BoxStream<'static, Result<pb::ActivationEvent, tonic::Status>>;

/// The activation service's work, shared by every RPC.
#[derive(Clone)]
pub struct Activations {
    pool: PgPool,
    events: EventStreams,
    clock: Arc<dyn Clock>,
    directory: Directory,
    partners: Partners,
    default_policy: RegionPolicy,
    /// Wakes the relay that tells card-issuance about retired old cards.
    retirements: Arc<Notify>,
}

impl Activations {
    pub fn new(
        pool: PgPool,
        events: EventStreams,
        clock: Arc<dyn Clock>,
        directory: Directory,
        partners: Partners,
        default_policy: RegionPolicy,
        retirements: Arc<Notify>,
    ) -> Self {
        Self {
            pool,
            events,
            clock,
            directory,
            partners,
            default_policy,
            retirements,
        }
    }

    /// Today in the service's clock (ID numbers may not be born later).
    pub fn today(&self) -> NaiveDate {
        self.clock.today()
    }

    /// The policy of regions without one of their own.
    pub fn default_policy(&self) -> RegionPolicy {
        self.default_policy
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

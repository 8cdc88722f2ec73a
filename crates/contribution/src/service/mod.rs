//! What each RPC does, in order: the checks on the caller, the reads from
//! identity (before any transaction), then one transaction through
//! `platform::mutation::run` that re-checks the local facts, acts, and
//! returns the answer with its events and audit entries.

mod bills;
mod contracts;
mod enrolment;
mod import;
mod payments;
mod rates;
mod run;
mod statements;

use std::sync::Arc;

use chrono::NaiveDate;
use platform::{clock::Clock, host::Tasks, outbox::EventStreams};
use sqlx::PgPool;

use crate::{directory::Directory, domain::Period, error::ContributionError, metrics::RunGauges};

pub use bills::Arrears;

use socsec_proto::contribution::v1::ContributionEvent;

/// A `WatchContributionEvents` stream.
pub type EventStream =
    futures::stream::BoxStream<'static, Result<ContributionEvent, tonic::Status>>;
pub use run::RunProgress;

type Result<T, E = ContributionError> = std::result::Result<T, E>;

#[derive(Clone)]
pub struct ContributionService {
    /// How far the monthly runs are, for the metrics.
    run_gauges: RunGauges,
    pool: PgPool,
    /// Where runs and statement streams run, so shutdown waits for them.
    tasks: Tasks,
    clock: Arc<dyn Clock>,
    directory: Directory,
    /// `WatchContributionEvents`.
    events: EventStreams,
}

impl ContributionService {
    pub fn new(
        pool: PgPool,
        tasks: Tasks,
        clock: Arc<dyn Clock>,
        directory: Directory,
        events: EventStreams,
    ) -> Self {
        Self {
            run_gauges: RunGauges::default(),
            pool,
            tasks,
            clock,
            directory,
            events,
        }
    }

    /// Reports the monthly runs' progress to `gauges`.
    pub fn with_run_gauges(mut self, gauges: RunGauges) -> Self {
        self.run_gauges = gauges;
        self
    }

    /// Today in China, the default day a bill is computed for or paid on.
    pub fn today(&self) -> NaiveDate {
        self.clock.today()
    }

    /// The current month in China (which contracts are still in force).
    fn this_month(&self) -> Period {
        Period::from_date(self.clock.today())
    }

    /// Now, by the service's clock (a bank's `paid_at` may not be later).
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Contribution events after cursor `after` (from the start when
    /// empty), then each new one as it commits.
    pub async fn watch_events(
        &self,
        after: &str,
        heartbeats: bool,
    ) -> Result<EventStream, tonic::Status> {
        self.events
            .stream::<ContributionEvent>(after, heartbeats)
            .await
    }
}

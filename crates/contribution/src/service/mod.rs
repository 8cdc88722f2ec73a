//! What each RPC does, in order: the checks on the caller, the reads from
//! identity (before any transaction), then one transaction through
//! `platform::mutation::run` that re-checks the local facts, acts, and
//! returns the answer with its events and audit entries.

mod bills;
mod contracts;
mod enrolment;
mod rates;
mod run;
mod statements;

use std::sync::Arc;

use chrono::NaiveDate;
use platform::{clock::Clock, host::Tasks};
use sqlx::PgPool;

use crate::{directory::Directory, domain::Period, error::ContributionError};

pub use bills::Arrears;
pub use run::RunProgress;

type Result<T, E = ContributionError> = std::result::Result<T, E>;

#[derive(Clone)]
pub struct ContributionService {
    pool: PgPool,
    /// Where runs and statement streams run, so shutdown waits for them.
    tasks: Tasks,
    clock: Arc<dyn Clock>,
    directory: Directory,
}

impl ContributionService {
    pub fn new(pool: PgPool, tasks: Tasks, clock: Arc<dyn Clock>, directory: Directory) -> Self {
        Self {
            pool,
            tasks,
            clock,
            directory,
        }
    }

    /// Today in China, the default day a bill is computed for or paid on.
    pub fn today(&self) -> NaiveDate {
        self.clock.today()
    }

    /// The current month in China (which contracts are still in force).
    fn this_month(&self) -> Period {
        Period::from_date(self.clock.today())
    }
}

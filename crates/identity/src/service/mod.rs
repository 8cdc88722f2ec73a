//! Orchestration: what each RPC does, in order. Identity calls no other
//! service, so a change is one trip through the mutation pipeline
//! (`platform::mutation::run`): claim the request id, re-check and act on
//! the locked rows, return the answer with its events and audit entry.
//! Reads go to the store, which writes their audit entry with them.

mod credentials;
mod partners;
mod persons;

pub use credentials::Session;

use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use platform::{clock::Clock, session::SessionKeys};
use sqlx::PgPool;

use crate::{domain::LockoutPolicy, error::IdentityError};

type Result<T, E = IdentityError> = std::result::Result<T, E>;

/// What the local work of a mutation returns to the pipeline.
type Work<A> = Result<platform::mutation::Effects<A>>;

/// Sign-in settings: the lockout policy and how long a session lasts.
#[derive(Clone, Copy, Debug)]
pub struct SignInSettings {
    pub lockout: LockoutPolicy,
    pub token_ttl: Duration,
}

/// The identity service's operations over its database.
pub struct Identity {
    pool: PgPool,
    clock: Arc<dyn Clock>,
    sessions: SessionKeys,
    sign_in: SignInSettings,
}

impl Identity {
    pub fn new(
        pool: PgPool,
        clock: Arc<dyn Clock>,
        sessions: SessionKeys,
        sign_in: SignInSettings,
    ) -> Self {
        Self {
            pool,
            clock,
            sessions,
            sign_in,
        }
    }

    /// Today, for judging birth dates in ID numbers.
    pub fn today(&self) -> NaiveDate {
        self.clock.today()
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

//! Orchestration: what each RPC does, in order. Identity calls no other
//! service, so a change is one trip through the mutation pipeline
//! (`platform::mutation::run`): claim the request id, re-check and act on
//! the locked rows, return the answer with its events and audit entry.
//! Reads go to the store, which writes their audit entry with them.

mod credentials;
mod guard;
mod import;
mod partners;
mod persons;
mod sessions;

pub use credentials::{Session, prune_unknown_states};
pub use guard::{Guard, GuardSettings};

use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use platform::{clock::Clock, idempotency::FingerprintKeys, session::SessionKeys};
use sqlx::PgPool;

use crate::{domain::LockoutPolicy, error::IdentityError};

type Result<T, E = IdentityError> = std::result::Result<T, E>;

/// What the local work of a mutation returns to the pipeline.
type Work<A> = Result<platform::mutation::Effects<A>>;

/// Sign-in settings: the delay policy and how long a session lasts.
#[derive(Clone, Copy, Debug)]
pub struct SignInSettings {
    pub lockout: LockoutPolicy,
    pub token_ttl: Duration,
}

/// The identity service's operations over its database.
pub struct Identity {
    pool: PgPool,
    /// A small pool of its own for what partners' admission depends on
    /// (`GetPartner`, `CheckSession`): a flood of other calls cannot take
    /// its connections.
    admission: PgPool,
    clock: Arc<dyn Clock>,
    sessions: SessionKeys,
    /// Derived from the session keys: passwords in a request's fingerprint
    /// are digested with it.
    fingerprint_keys: FingerprintKeys,
    sign_in: SignInSettings,
    limits: Arc<Guard>,
}

impl Identity {
    pub fn new(
        pools: (PgPool, PgPool),
        clock: Arc<dyn Clock>,
        sessions: SessionKeys,
        sign_in: SignInSettings,
        limits: Arc<Guard>,
    ) -> Self {
        let (pool, admission) = pools;
        Self {
            pool,
            admission,
            clock,
            fingerprint_keys: FingerprintKeys::from_session_keys(Some(&sessions)),
            sessions,
            sign_in,
            limits,
        }
    }

    /// Today, for judging birth dates in ID numbers.
    pub fn today(&self) -> NaiveDate {
        self.clock.today()
    }

    /// Now, for judging instants an import brings.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

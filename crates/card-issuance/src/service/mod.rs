//! What card-issuance does, RPC by RPC: the remote reads first, outside any
//! transaction; then the local work through `platform::mutation::run`,
//! which claims the request id, and stores the answer, the events and the
//! audit entry the work returns, in one commit.

mod applications;
mod cards;
pub mod commands;
mod ecards;
mod import;
mod issuing;
mod legacy;
mod pin_checks;
mod pins;
mod reads;

use std::sync::Arc;

use platform::{clock::Clock, host::Tasks, idempotency::FingerprintKeys, outbox::EventStreams};
use sqlx::PgPool;

pub use commands::*;
pub use pins::{ChangePin, ResetPin, SetPin, VerifyPin};
pub use reads::EventStream;

use crate::{directory::Directory, domain::ecard::TokenKeys, error::CardError};

type Result<T, E = CardError> = std::result::Result<T, E>;

/// The card-issuance service behind its gRPC surface.
#[derive(Clone)]
pub struct Cards {
    pool: PgPool,
    events: EventStreams,
    /// Where batches run, so shutdown waits for them.
    tasks: Tasks,
    clock: Arc<dyn Clock>,
    directory: Directory,
    /// Signs and checks e-card tokens (none: no token is issued).
    ecard_keys: TokenKeys,
    /// Where argon2 runs for card PINs.
    pin_hashing: Arc<pins::PinHashing>,
    /// Key the PINs in a request's fingerprint are digested with (none:
    /// PIN changes are refused).
    fingerprint_keys: FingerprintKeys,
}

impl Cards {
    pub fn new(
        pool: PgPool,
        events: EventStreams,
        tasks: Tasks,
        clock: Arc<dyn Clock>,
        directory: Directory,
    ) -> Self {
        Self {
            pool,
            events,
            tasks,
            clock,
            directory,
            ecard_keys: TokenKeys::default(),
            pin_hashing: Arc::default(),
            fingerprint_keys: FingerprintKeys::default(),
        }
    }

    /// The keys PINs are digested with in a request's fingerprint.
    pub fn with_fingerprint_keys(mut self, keys: FingerprintKeys) -> Self {
        self.fingerprint_keys = keys;
        self
    }

    /// Now, for judging the instants an import brings.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// The keys e-card tokens are signed and checked with.
    pub fn with_ecard_keys(mut self, keys: TokenKeys) -> Self {
        self.ecard_keys = keys;
        self
    }
}

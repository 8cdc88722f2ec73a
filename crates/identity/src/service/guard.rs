//! What keeps sign-in and identity checks from being turned against the
//! service or against a person: per-key rate limits, a bound on password
//! hashes running at once, and the key the delay state of ID numbers that
//! have no online credential is stored under (in the database like a known
//! one's, so that an unknown ID number answers like a known one on every
//! instance).

use std::{net::IpAddr, sync::Arc, time::Duration};

use hmac::{Hmac, Mac};
use pii::{IdNumber, Secret};
use platform::{
    auth::{Caller, CallerKind},
    rate_limit::{KeyedLimit, Limit, exhausted},
};
use sha2::Sha256;
use tokio::sync::Semaphore;

use crate::{
    domain::{OnlinePassword, password},
    error::IdentityError,
};

/// How much sign-in and identity checks each caller may do.
#[derive(Clone, Copy, Debug)]
pub struct GuardSettings {
    pub sign_in_per_id_number: Limit,
    pub sign_in_per_client_address: Limit,
    pub verify_identity_per_caller: Limit,
    /// Password hashes (argon2) computed at once.
    pub hashing_concurrency: usize,
    /// How long a sign-in waits for a hashing slot before it is refused.
    pub hashing_wait: Duration,
    /// Sign-ins that may wait for a slot; more are refused at once.
    pub hashing_queue: usize,
}

pub struct Guard {
    per_id_number: KeyedLimit<(IdNumber, Option<String>)>,
    per_address: KeyedLimit<IpAddr>,
    verify_identity: KeyedLimit<String>,
    hashing: Semaphore,
    hashing_wait: Duration,
    hashing_queue: Semaphore,
    /// The HMAC key unknown ID numbers' delay states are stored under.
    unknown_key: [u8; 32],
    /// A hash of no one's password, verified against when an ID number has
    /// no credential, so the answer takes as long as for a wrong password.
    dummy_hash: Arc<str>,
}

impl Guard {
    /// The purpose the unknown-state key is derived for from the session
    /// token keys (which every identity instance holds, outside the
    /// database).
    pub const UNKNOWN_KEY_PURPOSE: &str = "socsec/unknown-sign-in/v1";

    /// `unknown_key`: see [`Self::UNKNOWN_KEY_PURPOSE`].
    pub fn new(settings: GuardSettings, unknown_key: [u8; 32]) -> Self {
        let dummy = OnlinePassword::parse("no-one's-password-0").expect("meets the policy");
        Self {
            per_id_number: KeyedLimit::new(settings.sign_in_per_id_number, "SIGN_IN_RATE_LIMITED"),
            per_address: KeyedLimit::new(
                settings.sign_in_per_client_address,
                "SIGN_IN_RATE_LIMITED",
            ),
            verify_identity: KeyedLimit::new(
                settings.verify_identity_per_caller,
                "VERIFY_IDENTITY_RATE_LIMITED",
            ),
            hashing: Semaphore::new(settings.hashing_concurrency.max(1)),
            hashing_wait: settings.hashing_wait,
            hashing_queue: Semaphore::new(settings.hashing_queue),
            unknown_key,
            dummy_hash: dummy.hash().into(),
        }
    }

    /// Counts a sign-in from `client`.
    pub fn sign_in_from(&self, client: IpAddr) -> Result<(), IdentityError> {
        self.per_address
            .check(&client)
            .map_err(IdentityError::RateLimited)
    }

    /// Counts a judged sign-in of `id_number` against its credential
    /// `password_hash` (none for an unknown ID number): a password set anew
    /// at the counter (a new salt) starts a fresh allowance, so a flood by
    /// others cannot keep the owner out once the counter has reset it.
    pub fn judge_id_number(
        &self,
        id_number: &IdNumber,
        password_hash: Option<&str>,
    ) -> Result<(), IdentityError> {
        self.per_id_number
            .check(&(id_number.clone(), password_hash.map(str::to_owned)))
            .map_err(IdentityError::RateLimited)
    }

    /// Counts a `VerifyIdentity` of `caller`: the partner a service acts
    /// for, or the caller itself. A service acting for no one is not limited.
    pub fn verify_identity(&self, caller: &Caller) -> Result<(), IdentityError> {
        let key = match (&caller.on_behalf_of, caller.kind) {
            (Some(origin), _) => origin.caller.clone(),
            (None, CallerKind::Service) => return Ok(()),
            (None, _) => caller.to_string(),
        };
        self.verify_identity
            .check(&key)
            .map_err(IdentityError::RateLimited)
    }

    /// Whether `password` matches `hash` (or, without one, the dummy hash,
    /// then `false`): on a blocking thread, at most `hashing_concurrency` at
    /// once; refused `RESOURCE_EXHAUSTED` / `SIGN_IN_BUSY` at once if
    /// `hashing_queue` sign-ins wait already, or if no slot frees up within
    /// `hashing_wait`.
    pub async fn verify(
        &self,
        password: &Arc<Secret<String>>,
        hash: Option<&str>,
    ) -> Result<bool, IdentityError> {
        let busy = || IdentityError::RateLimited(exhausted("SIGN_IN_BUSY", Duration::from_secs(1)));
        let _slot = match self.hashing.try_acquire() {
            Ok(slot) => slot,
            Err(_) => {
                let _place = self.hashing_queue.try_acquire().map_err(|_| busy())?;
                tokio::time::timeout(self.hashing_wait, self.hashing.acquire())
                    .await
                    .map_err(|_| busy())?
                    .expect("the semaphore is never closed")
            }
        };
        let password = Arc::clone(password);
        let known = hash.is_some();
        let hash: Arc<str> = hash.map_or_else(|| self.dummy_hash.clone(), Arc::from);
        let matches = tokio::task::spawn_blocking(move || password::verify(&password, &hash))
            .await
            .unwrap_or(false);
        Ok(known && matches)
    }

    /// What the delay state of an ID number without a credential is stored
    /// under: an HMAC of it, from which it cannot be found without the key.
    pub fn unknown_key(&self, id_number: &IdNumber) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.unknown_key)
            .expect("HMAC takes a key of any length");
        mac.update(id_number.expose().as_bytes());
        mac.finalize().into_bytes().into()
    }
}

//! The medical-settlement PIN of a card (`domain::pin`): set by the person,
//! changed with the current PIN, reset at the counter, verified by
//! designated hospitals and pharmacies.
//!
//! argon2 runs on a blocking thread, in one of [`HASHING_SLOTS`] slots, and
//! never while a connection, a transaction or a row lock is held: a new PIN
//! is hashed before its transaction; a check reads the PIN, verifies, then
//! records the outcome only if the PIN is still as read (`store::pins`).
//! Every wrong PIN is a `FAILED_ATTEMPT` audit entry of the caller, naming
//! the holder; the PIN itself is never logged, stored in clear or
//! returned. The fingerprint a retry is matched against holds only an HMAC
//! of the PINs under a deployment key (`platform::idempotency`), so a
//! request id reused with another PIN is refused as a reuse.

use std::time::Duration;

use pii::{CardIdentificationCode, CardNumber};
use platform::{
    audit::Access,
    auth::Caller,
    idempotency::RequestId,
    mutation::{self, Audit, Effects, Events, Mutation},
    rate_limit::exhausted,
};
use socsec_proto::card::v1 as pb;
use tokio::sync::Semaphore;

use super::{Cards, Result};
use crate::{
    api::present,
    domain::{
        CardStatus, Pin, access,
        pin::{MAX_FAILURES, card_usable},
    },
    error::CardError,
    store::{self, NewPin, Outcome, PinCardRow},
};

/// argon2 computations (PIN hashes and checks) at once on one instance.
pub const HASHING_SLOTS: usize = 2;
/// How long a PIN call waits for a slot before `PIN_CHECK_BUSY`.
pub const HASHING_WAIT: Duration = Duration::from_secs(2);

/// The bounded slots argon2 runs in.
pub struct PinHashing(Semaphore);

impl Default for PinHashing {
    fn default() -> Self {
        Self(Semaphore::new(HASHING_SLOTS))
    }
}

impl PinHashing {
    /// `work` on a blocking thread in a slot; `RESOURCE_EXHAUSTED` /
    /// `PIN_CHECK_BUSY` when no slot frees up within [`HASHING_WAIT`].
    pub(super) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let _slot = tokio::time::timeout(HASHING_WAIT, self.0.acquire())
            .await
            .map_err(|_| CardError::Busy(exhausted("PIN_CHECK_BUSY", Duration::from_secs(1))))?
            .expect("the semaphore is never closed");
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| CardError::Database(sqlx::Error::Protocol(format!("hashing task: {e}"))))
    }
}

/// The person's first PIN.
pub struct SetPin {
    pub request_id: RequestId,
    pub card_number: CardNumber,
    pub pin: Pin,
}

/// The person's new PIN, with the current one.
pub struct ChangePin {
    pub request_id: RequestId,
    pub card_number: CardNumber,
    pub current: Pin,
    pub new: Pin,
}

/// A new PIN at the counter.
pub struct ResetPin {
    pub request_id: RequestId,
    pub card_number: CardNumber,
    pub new: Pin,
}

/// A PIN presented with a card at a hospital or pharmacy.
pub struct VerifyPin {
    pub card_number: CardNumber,
    pub code: CardIdentificationCode,
    pub pin: Pin,
}

fn usable(card: &PinCardRow) -> Result<()> {
    if card_usable(card.status) {
        Ok(())
    } else {
        Err(CardError::PinCardState(card.status))
    }
}

/// How a judged PIN is written.
#[derive(Clone, Copy)]
enum Put {
    /// The card's first PIN, refused if one was set meanwhile.
    First,
    /// In place of the current PIN (or as the first), unlocking it.
    Replace,
}

impl Cards {
    pub(super) async fn hash(&self, pin: Pin) -> Result<String> {
        self.pin_hashing.run(move || pin.hash()).await
    }

    /// The person's first PIN for their own received card.
    pub async fn set_pin(
        &self,
        caller: &Caller,
        command: SetPin,
        request: &pb::SetPinRequest,
    ) -> Result<pb::PinStatus> {
        let SetPin {
            request_id,
            card_number,
            pin,
        } = command;
        let fingerprint = pb::SetPinRequest {
            pin: String::new(),
            ..request.clone()
        };
        let secrets: &[&[u8]] = &[request.pin.as_bytes()];
        let mutation = Mutation::new(caller, "SetPin", &request_id)
            .with_secrets(&self.fingerprint_keys, secrets);
        if let Some(answer) = mutation::replay(&self.pool, mutation, &fingerprint).await? {
            return Ok(answer);
        }
        let card = store::pin_card(&self.pool, &card_number)
            .await?
            .ok_or(CardError::CardNotFound)?;
        access::may_act_for(caller, card.person_id)?;
        if card.pin().is_some() {
            return Err(CardError::PinAlreadySet);
        }
        let hash = self.hash(pin).await?;
        // Only a card in the holder's hands gets a PIN online.
        let recheck = |card: &PinCardRow| match card.status {
            CardStatus::Received => Ok(()),
            status => Err(CardError::PinCardState(status)),
        };
        self.write_pin(
            mutation,
            &fingerprint,
            &card_number,
            &hash,
            Put::First,
            recheck,
        )
        .await
        .inspect(|_| tracing::info!(card = %card_number, "card pin set by the holder"))
    }

    /// The person's new PIN, given the current one. A wrong current PIN
    /// counts towards the lockout like a wrong PIN at a hospital.
    pub async fn change_pin(
        &self,
        caller: &Caller,
        command: ChangePin,
        request: &pb::ChangePinRequest,
    ) -> Result<pb::PinStatus> {
        let ChangePin {
            request_id,
            card_number,
            current,
            new,
        } = command;
        let fingerprint = pb::ChangePinRequest {
            current_pin: String::new(),
            new_pin: String::new(),
            ..request.clone()
        };
        let secrets: &[&[u8]] = &[request.current_pin.as_bytes(), request.new_pin.as_bytes()];
        let mutation = Mutation::new(caller, "ChangePin", &request_id)
            .with_secrets(&self.fingerprint_keys, secrets);
        if let Some(answer) = mutation::replay(&self.pool, mutation, &fingerprint).await? {
            return Ok(answer);
        }
        let card = store::pin_card(&self.pool, &card_number)
            .await?
            .ok_or(CardError::CardNotFound)?;
        access::may_act_for(caller, card.person_id)?;
        usable(&card)?;
        let seen = card.pin().ok_or(CardError::PinNotSet)?;
        if seen.locked() {
            return Err(CardError::PinLocked);
        }
        let hash = seen.hash.clone();
        let new_hash = self
            .pin_hashing
            .run(move || current.matches(&hash).then(|| new.hash()))
            .await?;
        let Some(new_hash) = new_hash else {
            let failed_attempts = seen.after_failure();
            let outcome = Outcome {
                caller,
                rpc: "ChangePin",
                seen: &seen,
                failed_attempts,
                access: Access::FailedAttempt,
                request_id: Some(request_id.as_str()),
            };
            if !store::record_outcome(&self.pool, &card_number, card.person_id, outcome).await? {
                return Err(CardError::PinChangedMeanwhile);
            }
            tracing::warn!(caller = %caller, "wrong current card pin");
            return Err(if failed_attempts >= MAX_FAILURES {
                CardError::PinLocked
            } else {
                CardError::PinMismatch {
                    attempts_left: MAX_FAILURES - failed_attempts,
                }
            });
        };
        // The current PIN was judged against what was read: it must still
        // be the PIN, and not locked meanwhile.
        let recheck = |card: &PinCardRow| {
            usable(card)?;
            if card.pin().as_ref() == Some(&seen) {
                Ok(())
            } else {
                Err(CardError::PinChangedMeanwhile)
            }
        };
        self.write_pin(
            mutation,
            &fingerprint,
            &card_number,
            &new_hash,
            Put::Replace,
            recheck,
        )
        .await
        .inspect(|_| tracing::info!(card = %card_number, "card pin changed by the holder"))
    }

    /// A new PIN at the counter: sets the first one or replaces the old,
    /// and unlocks a locked PIN.
    pub async fn reset_pin(
        &self,
        caller: &Caller,
        command: ResetPin,
        request: &pb::ResetPinRequest,
    ) -> Result<pb::PinStatus> {
        let ResetPin {
            request_id,
            card_number,
            new,
        } = command;
        let fingerprint = pb::ResetPinRequest {
            new_pin: String::new(),
            ..request.clone()
        };
        let secrets: &[&[u8]] = &[request.new_pin.as_bytes()];
        let mutation = Mutation::new(caller, "ResetPin", &request_id)
            .with_secrets(&self.fingerprint_keys, secrets);
        if let Some(answer) = mutation::replay(&self.pool, mutation, &fingerprint).await? {
            return Ok(answer);
        }
        let hash = self.hash(new).await?;
        self.write_pin(
            mutation,
            &fingerprint,
            &card_number,
            &hash,
            Put::Replace,
            usable,
        )
        .await
        .inspect(
            |_| tracing::info!(card = %card_number, by = %caller, "card pin reset at the counter"),
        )
    }

    /// The write every PIN change ends with, once the new PIN is hashed (no
    /// connection held meanwhile): in one transaction under the request
    /// id, lock the card, `recheck` what was judged on the read, write the
    /// hash, answer with the PIN's status.
    async fn write_pin(
        &self,
        mutation: Mutation<'_>,
        fingerprint: &impl prost::Message,
        card_number: &CardNumber,
        hash: &str,
        put: Put,
        recheck: impl FnOnce(&PinCardRow) -> Result<()>,
    ) -> Result<pb::PinStatus> {
        let (at, by) = (self.clock.now(), mutation.caller.to_string());
        mutation::run(
            &self.pool,
            mutation,
            fingerprint,
            async |conn| -> Result<Effects<_>> {
                let card = store::lock_pin_card(conn, card_number)
                    .await?
                    .ok_or(CardError::CardNotFound)?;
                recheck(&card)?;
                let pin = NewPin { hash, at, by: &by };
                match put {
                    Put::First => {
                        if !store::insert_pin(conn, card_number, &pin).await? {
                            return Err(CardError::PinAlreadySet);
                        }
                    }
                    Put::Replace => store::put_pin(conn, card_number, &pin).await?,
                }
                Ok(Effects::new(
                    present::pin_set(card_number, at),
                    Events::none(),
                    Audit::change(card.person_id),
                ))
            },
        )
        .await
    }
}

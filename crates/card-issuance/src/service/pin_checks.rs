//! Reading a card's PIN state, and verifying a PIN at a hospital or
//! pharmacy (see `pins` for the rules: argon2 outside any transaction, the
//! outcome recorded only if the PIN is still as read).

use std::sync::Arc;

use pii::CardNumber;
use platform::{audit::Access, auth::Caller};
use socsec_proto::card::v1 as pb;

use super::{Cards, Result, pins::VerifyPin};
use crate::{
    api::present,
    domain::{
        PinRecord, access,
        pin::{card_usable, same_code},
    },
    error::CardError,
    store::{self, Outcome},
};

impl Cards {
    /// Whether a card has a PIN and whether it is locked.
    pub async fn get_pin_status(
        &self,
        caller: &Caller,
        card_number: CardNumber,
    ) -> Result<pb::PinStatus> {
        let card = store::pin_card(&self.pool, &card_number)
            .await?
            .ok_or(CardError::CardNotFound)?;
        access::may_act_for(caller, card.person_id)?;
        let subject = card.person_id.to_string();
        store::record_access(
            &self.pool,
            caller,
            "GetPinStatus",
            Access::Read,
            &subject,
            None,
        )
        .await?;
        Ok(present::pin_status(&card))
    }

    /// Whether the PIN presented with a card matches. The card is found
    /// only by its number and its own identification code (otherwise
    /// `CARD_NOT_FOUND`, a failed attempt); a locked PIN answers LOCKED
    /// before anything is judged.
    pub async fn verify_pin(
        &self,
        caller: &Caller,
        command: VerifyPin,
    ) -> Result<pb::VerifyPinResponse> {
        let VerifyPin {
            card_number,
            code,
            pin,
        } = command;
        if !self.directory.designated(caller).await? {
            return Err(CardError::PartnerNotDesignated);
        }
        let pin = Arc::new(pin);
        // The hash last verified against, and whether the PIN matched it.
        let mut verified: Option<(String, bool)> = None;
        loop {
            let card = store::pin_card(&self.pool, &card_number).await?;
            let card = match card {
                Some(card) if same_code(card.card_identification_code.as_str(), code.as_str()) => {
                    card
                }
                other => {
                    let subject = other.map_or_else(|| "-".to_owned(), |c| c.person_id.to_string());
                    tracing::warn!(caller = %caller, "failed card presentation for a pin check");
                    store::record_access(
                        &self.pool,
                        caller,
                        "VerifyPin",
                        Access::FailedAttempt,
                        &subject,
                        None,
                    )
                    .await?;
                    return Err(CardError::CardNotFound);
                }
            };
            let subject = card.person_id.to_string();
            let answer = |result: pb::PinVerification, attempts_left: i32| pb::VerifyPinResponse {
                result: result as i32,
                attempts_left,
            };
            let record_only = async |access| {
                store::record_access(&self.pool, caller, "VerifyPin", access, &subject, None).await
            };
            if !card_usable(card.status) {
                record_only(Access::Read).await?;
                return Err(CardError::PinCardState(card.status));
            }
            let Some(seen) = card.pin() else {
                record_only(Access::Read).await?;
                return Ok(answer(pb::PinVerification::NotSet, 0));
            };
            if seen.locked() {
                record_only(Access::FailedAttempt).await?;
                return Ok(answer(pb::PinVerification::Locked, 0));
            }
            let matches = match &verified {
                Some((hash, matches)) if *hash == seen.hash => *matches,
                _ => {
                    let (pin, hash) = (Arc::clone(&pin), seen.hash.clone());
                    let matches = self.pin_hashing.run(move || pin.matches(&hash)).await?;
                    verified = Some((seen.hash.clone(), matches));
                    matches
                }
            };
            let (failed_attempts, access) = if matches {
                (0, Access::Read)
            } else {
                (seen.after_failure(), Access::FailedAttempt)
            };
            let outcome = Outcome {
                caller,
                rpc: "VerifyPin",
                seen: &seen,
                failed_attempts,
                access,
                request_id: None,
            };
            if store::record_outcome(&self.pool, &card_number, card.person_id, outcome).await? {
                let after = PinRecord {
                    hash: seen.hash,
                    failed_attempts,
                };
                return Ok(if matches {
                    answer(pb::PinVerification::Match, after.attempts_left())
                } else if after.locked() {
                    tracing::warn!(caller = %caller, "card pin locked after wrong pins");
                    answer(pb::PinVerification::Locked, 0)
                } else {
                    answer(pb::PinVerification::NoMatch, after.attempts_left())
                });
            }
        }
    }
}

//! Presenting a card (see `domain::presentation`): the caller's limit on
//! failed presentations, checked before anything of the card is read; the
//! card found only by its number *and* its own identification code; and
//! every failure recorded as a failed attempt (no visit) and counted.

use pii::{CardIdentificationCode, CardNumber};
use platform::auth::{Caller, CallerKind};
use uuid::Uuid;

use super::{Activations, Result};
use crate::{domain::CodeDigest, error::ActivationError, store};

/// Whether `caller` must present the card identification code and is held
/// to the limit: every partner. Operators and services may look a card up
/// by its number (their reads are audited as theirs).
pub(super) fn presents_cards(caller: &Caller) -> bool {
    !matches!(caller.kind, CallerKind::Operator | CallerKind::Service)
}

/// Whether a card whose code digest is `stored` is presented by `presented`.
pub(super) fn admitted(
    caller: &Caller,
    stored: &CodeDigest,
    number: &CardNumber,
    presented: Option<&CardIdentificationCode>,
) -> bool {
    match presented {
        None => !presents_cards(caller),
        Some(_) => stored.admits(number, presented),
    }
}

impl Activations {
    /// `PRESENTATION_LIMIT` (with the delay until the caller's oldest
    /// failure in the window ages out) if `caller` has failed as many
    /// presentations as the limit allows within the window.
    pub(super) async fn ensure_may_present(&self, caller: &Caller) -> Result<()> {
        if !presents_cards(caller) {
            return Ok(());
        }
        let limit = self.settings.presentation_limit;
        let recent = store::recent_failures(&self.pool, caller, limit.window.num_seconds()).await?;
        match limit.wait(recent.count, recent.oldest, recent.now) {
            None => Ok(()),
            Some(wait) => {
                tracing::warn!(
                    caller = %caller,
                    failures = recent.count,
                    "caller over its limit of failed card presentations"
                );
                Err(ActivationError::PresentationLimit {
                    retry_after: wait.to_std().unwrap_or_default(),
                })
            }
        }
    }

    /// Records that `caller` failed a presentation through `action`
    /// (naming the holder if the card is known here). The caller's answer
    /// is the one for a card that does not exist (or the holder check's).
    pub(super) async fn failed_presentation(
        &self,
        caller: &Caller,
        action: &str,
        holder: Option<Uuid>,
        request_id: Option<&str>,
    ) -> Result<()> {
        tracing::warn!(caller = %caller, action, "failed card presentation");
        store::record_failed_presentation(&self.pool, caller, action, holder, request_id).await?;
        Ok(())
    }

    /// The card presented by `number` and `code`, as it stands (no lock):
    /// `CARD_NOT_FOUND`, the failure recorded, when no card has this number
    /// or the code is missing or not its own. A card's code never changes
    /// (a replacement is a new card), so the transaction need not re-check it.
    pub(super) async fn presented_card(
        &self,
        caller: &Caller,
        action: &str,
        number: &CardNumber,
        code: Option<&CardIdentificationCode>,
        request_id: &str,
    ) -> Result<store::CardRow> {
        let card = store::card_by_number(&self.pool, number).await?;
        match card {
            Some(card) if card.admits(code) => Ok(card),
            other => {
                let holder = other.map(|c| c.person_id);
                self.failed_presentation(caller, action, holder, Some(request_id))
                    .await?;
                Err(ActivationError::CardNotFound)
            }
        }
    }
}

//! Presenting a card (see `domain::presentation`): the caller's limit on
//! failed presentations, checked before anything of the card is read; the
//! card found only by its number *and* its own identification code; and
//! every failure recorded as a failed attempt (no visit) and counted.

use pii::{CardIdentificationCode, CardNumber};
use platform::auth::{Caller, CallerKind};
use uuid::Uuid;

use super::{Activations, Result, presenting::Ticket};

/// The longest a presentation waits for the caller's others in flight
/// when together with its failures they reach the limit.
const IN_FLIGHT_WAIT: std::time::Duration = std::time::Duration::from_secs(1);
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
    /// presentations as the limit allows within the window. Otherwise the
    /// presentation is counted as in flight until the returned ticket drops
    /// (keep it for the whole call): while the caller's failures and
    /// presentations in flight reach the limit, a presentation waits for
    /// one of the others to end (each might fail), for at most
    /// [`IN_FLIGHT_WAIT`], so a burst sent at once is judged at most up to
    /// the limit.
    pub(super) async fn ensure_may_present(&self, caller: &Caller) -> Result<Option<Ticket<'_>>> {
        if !presents_cards(caller) {
            return Ok(None);
        }
        let limit = self.settings.presentation_limit;
        let key = caller.to_string();
        let waiting_until = tokio::time::Instant::now() + IN_FLIGHT_WAIT;
        loop {
            let probe = self.presenting.begin(&key);
            let recent =
                store::recent_failures(&self.pool, caller, limit.window.num_seconds()).await?;
            if let Some(wait) = limit.wait(recent.count, recent.oldest, recent.now) {
                tracing::warn!(
                    caller = %caller,
                    failures = recent.count,
                    "caller over its limit of failed card presentations"
                );
                return Err(ActivationError::PresentationLimit {
                    retry_after: wait.to_std().unwrap_or_default(),
                });
            }
            let (ticket, bound) = probe.admit(recent.count);
            if bound <= i64::from(limit.max_failures) {
                return Ok(Some(ticket));
            }
            let ended = tokio::time::timeout_at(waiting_until, ticket.another_ended()).await;
            if ended.is_err() {
                return Err(ActivationError::PresentationLimit {
                    retry_after: IN_FLIGHT_WAIT,
                });
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
        let window = self.settings.presentation_limit.window.num_seconds();
        store::record_failed_presentation(&self.pool, caller, action, holder, request_id, window)
            .await?;
        self.presenting.failure_recorded(&caller.to_string());
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

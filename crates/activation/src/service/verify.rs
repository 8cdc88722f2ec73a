//! Whether the projection may answer for card-issuance, and asking
//! card-issuance when it may not (see `domain::freshness`).

use chrono::{DateTime, Utc};
use pii::CardNumber;
use platform::auth::Caller;
use socsec_proto::card::v1 as card;

use super::{Activations, Result};
use crate::{
    domain::{Basis, CardState, Source, freshness},
    error::ActivationError,
    published,
};

/// Now, by the wall clock. Freshness compares card-issuance's heartbeat
/// instants (its wall clock) with ours; the service's `Clock` is the
/// domain's time (deadlines), which tests move at will.
pub(super) fn wall_clock() -> DateTime<Utc> {
    Utc::now()
}

impl Activations {
    /// The projection's basis if it may answer now: card-issuance's stream
    /// was caught up within the bound (as recorded by whichever instance
    /// follows it). `None`: ask card-issuance.
    pub(super) async fn fresh_projection(&self) -> Result<Option<Basis>> {
        let caught_up_at = self.background.caught_up.at();
        let fresh = freshness::caught_up_within(
            caught_up_at,
            wall_clock(),
            self.settings.eligibility_freshness,
        );
        Ok(caught_up_at.filter(|_| fresh).map(|as_of| Basis {
            source: Source::Projection,
            as_of,
        }))
    }

    /// The card as card-issuance has it now (asked for `caller`), with the
    /// basis of that answer; `None` if card-issuance has no such card.
    /// `CARD_STATUS_UNVERIFIED` if card-issuance cannot answer.
    pub(super) async fn card_from_card_issuance(
        &self,
        caller: &Caller,
        number: &str,
    ) -> Result<(Option<card::Card>, Basis)> {
        let basis = Basis {
            source: Source::CardIssuance,
            as_of: wall_clock(),
        };
        Ok((self.directory.card(number, caller).await?, basis))
    }

    /// For an activation: `None` when the projection is fresh (its locked
    /// row is checked in the transaction), else the card's state as
    /// card-issuance has it now, checked in the transaction instead.
    pub(super) async fn verified_state(
        &self,
        caller: &Caller,
        number: &CardNumber,
    ) -> Result<Option<CardState>> {
        if self.fresh_projection().await?.is_some() {
            return Ok(None);
        }
        match self
            .card_from_card_issuance(caller, number.as_str())
            .await?
        {
            (Some(card), _) => Ok(Some(published::card_state(card.status))),
            // Card-issuance has no such card: neither has this service.
            (None, _) => Err(ActivationError::CardNotFound),
        }
    }
}

//! Whether a card can be used for medical settlement at an instant, and why
//! not. Computed from the state at that instant, so it is exact at any
//! moment: no job has to run for a deadline to take effect.

use chrono::{DateTime, Utc};

use super::{CardState, Consequence, RegionPolicy};

/// Why a card is, or is not, usable for settlement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    Eligible,
    CardNotReceived,
    CardNotActivated,
    CardLost,
    CardReplaced,
    CardCancelled,
    /// The holder's new card is past its activation window.
    LegacyCardRestricted,
    LegacyCardRetired,
    /// No card with this number and identification code here (also while
    /// card-issuance's events are on their way), or no such old card.
    CardUnknown,
}

/// What is known of a social security card at an instant.
#[derive(Clone, Copy, Debug)]
pub struct CardFacts {
    pub state: CardState,
    pub received_at: Option<DateTime<Utc>>,
    pub activated: bool,
    pub policy: RegionPolicy,
}

impl CardFacts {
    pub fn deadline(&self) -> Option<DateTime<Utc>> {
        self.received_at.map(|r| self.policy.deadline(r))
    }

    /// Received, not activated, and the window has passed at `now`.
    pub fn past_deadline(&self, now: DateTime<Utc>) -> bool {
        !self.activated && self.deadline().is_some_and(|d| now >= d)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub reason: Reason,
    pub deadline: Option<DateTime<Utc>>,
    pub deadline_passed: bool,
}

impl Verdict {
    pub fn eligible(&self) -> bool {
        self.reason == Reason::Eligible
    }

    /// Not usable, for a reason that says nothing of a deadline.
    pub fn refused(reason: Reason) -> Self {
        Self {
            reason,
            deadline: None,
            deadline_passed: false,
        }
    }
}

/// A social security card presented for settlement.
pub fn card_verdict(card: &CardFacts, now: DateTime<Utc>) -> Verdict {
    let reason = match card.state {
        CardState::Lost => Reason::CardLost,
        CardState::Replaced => Reason::CardReplaced,
        CardState::Cancelled => Reason::CardCancelled,
        _ if card.activated => Reason::Eligible,
        CardState::Issued => Reason::CardNotReceived,
        CardState::Received => Reason::CardNotActivated,
    };
    Verdict {
        reason,
        deadline: (!card.activated).then(|| card.deadline()).flatten(),
        deadline_passed: card.past_deadline(now),
    }
}

/// An old medical insurance card presented for settlement. `current_card` is
/// the holder's usable social security card, if any.
pub fn legacy_verdict(
    retired: bool,
    current_card: Option<&CardFacts>,
    now: DateTime<Utc>,
) -> Verdict {
    if retired {
        return Verdict::refused(Reason::LegacyCardRetired);
    }
    let restricted = current_card.is_some_and(|card| {
        card.policy.consequence == Consequence::RestrictLegacyCard && card.past_deadline(now)
    });
    Verdict {
        reason: if restricted {
            Reason::LegacyCardRestricted
        } else {
            Reason::Eligible
        },
        deadline: current_card
            .filter(|c| !c.activated)
            .and_then(CardFacts::deadline),
        deadline_passed: restricted,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn received(activated: bool) -> CardFacts {
        CardFacts {
            state: CardState::Received,
            received_at: Some(Utc.with_ymd_and_hms(2026, 1, 10, 2, 0, 0).unwrap()),
            activated,
            policy: RegionPolicy::DEFAULT,
        }
    }

    #[test]
    fn the_deadline_takes_effect_at_its_instant() {
        let card = received(false);
        let deadline = card.deadline().unwrap();
        let before = legacy_verdict(false, Some(&card), deadline - Duration::seconds(1));
        let after = legacy_verdict(false, Some(&card), deadline + Duration::seconds(1));
        assert_eq!(before.reason, Reason::Eligible);
        assert_eq!(after.reason, Reason::LegacyCardRestricted);
        assert!(after.deadline_passed);
    }

    #[test]
    fn activation_lifts_the_restriction() {
        let late = received(false).deadline().unwrap() + Duration::days(30);
        assert_eq!(
            legacy_verdict(false, Some(&received(true)), late).reason,
            Reason::Eligible
        );
        assert_eq!(card_verdict(&received(true), late).reason, Reason::Eligible);
    }

    #[test]
    fn no_consequence_means_no_restriction() {
        let mut card = received(false);
        card.policy.consequence = Consequence::None;
        let late = card.deadline().unwrap() + Duration::days(1);
        assert_eq!(
            legacy_verdict(false, Some(&card), late).reason,
            Reason::Eligible
        );
    }

    #[test]
    fn unusable_cards_say_why() {
        let now = Utc::now();
        for (state, reason) in [
            (CardState::Lost, Reason::CardLost),
            (CardState::Replaced, Reason::CardReplaced),
            (CardState::Cancelled, Reason::CardCancelled),
        ] {
            let card = CardFacts {
                state,
                ..received(true)
            };
            assert_eq!(card_verdict(&card, now).reason, reason);
        }
        let issued = CardFacts {
            state: CardState::Issued,
            received_at: None,
            activated: false,
            policy: RegionPolicy::DEFAULT,
        };
        assert_eq!(card_verdict(&issued, now).reason, Reason::CardNotReceived);
        assert_eq!(
            card_verdict(&received(false), now).reason,
            Reason::CardNotActivated
        );
    }

    #[test]
    fn a_retired_legacy_card_is_not_usable() {
        assert_eq!(
            legacy_verdict(true, None, Utc::now()).reason,
            Reason::LegacyCardRetired
        );
    }
}

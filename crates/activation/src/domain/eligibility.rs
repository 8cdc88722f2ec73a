//! Whether a card can be used for medical settlement at an instant, and why
//! not. Computed from the state at that instant, so it is exact at any
//! moment: no job has to run for a deadline to take effect.

use chrono::{DateTime, Utc};
use socsec_proto::activation::v1::EligibilityReason;

use super::{Consequence, RegionPolicy};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardState {
    Issued,
    Received,
    Lost,
    Replaced,
    Cancelled,
}

impl CardState {
    pub fn from_db(value: &str) -> Self {
        match value {
            "ISSUED" => Self::Issued,
            "RECEIVED" => Self::Received,
            "LOST" => Self::Lost,
            "REPLACED" => Self::Replaced,
            _ => Self::Cancelled,
        }
    }
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
    pub reason: EligibilityReason,
    pub deadline: Option<DateTime<Utc>>,
    pub deadline_passed: bool,
}

impl Verdict {
    pub fn eligible(&self) -> bool {
        self.reason == EligibilityReason::Eligible
    }
}

/// A social security card presented for settlement.
pub fn card_verdict(card: &CardFacts, now: DateTime<Utc>) -> Verdict {
    let reason = match card.state {
        CardState::Lost => EligibilityReason::CardLost,
        CardState::Replaced => EligibilityReason::CardReplaced,
        CardState::Cancelled => EligibilityReason::CardCancelled,
        _ if card.activated => EligibilityReason::Eligible,
        CardState::Issued => EligibilityReason::CardNotReceived,
        CardState::Received => EligibilityReason::CardNotActivated,
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
        return Verdict {
            reason: EligibilityReason::LegacyCardRetired,
            deadline: None,
            deadline_passed: false,
        };
    }
    let restricted = current_card.is_some_and(|card| {
        card.policy.consequence == Consequence::RestrictLegacyCard && card.past_deadline(now)
    });
    Verdict {
        reason: if restricted {
            EligibilityReason::LegacyCardRestricted
        } else {
            EligibilityReason::Eligible
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
        assert_eq!(before.reason, EligibilityReason::Eligible);
        assert_eq!(after.reason, EligibilityReason::LegacyCardRestricted);
        assert!(after.deadline_passed);
    }

    #[test]
    fn activation_lifts_the_restriction() {
        let late = received(false).deadline().unwrap() + Duration::days(30);
        assert_eq!(
            legacy_verdict(false, Some(&received(true)), late).reason,
            EligibilityReason::Eligible
        );
        assert_eq!(
            card_verdict(&received(true), late).reason,
            EligibilityReason::Eligible
        );
    }

    #[test]
    fn no_consequence_means_no_restriction() {
        let mut card = received(false);
        card.policy.consequence = Consequence::None;
        let late = card.deadline().unwrap() + Duration::days(1);
        assert_eq!(
            legacy_verdict(false, Some(&card), late).reason,
            EligibilityReason::Eligible
        );
    }

    #[test]
    fn unusable_cards_say_why() {
        let now = Utc::now();
        for (state, reason) in [
            (CardState::Lost, EligibilityReason::CardLost),
            (CardState::Replaced, EligibilityReason::CardReplaced),
            (CardState::Cancelled, EligibilityReason::CardCancelled),
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
        assert_eq!(
            card_verdict(&issued, now).reason,
            EligibilityReason::CardNotReceived
        );
        assert_eq!(
            card_verdict(&received(false), now).reason,
            EligibilityReason::CardNotActivated
        );
    }

    #[test]
    fn a_retired_legacy_card_is_not_usable() {
        assert_eq!(
            legacy_verdict(true, None, Utc::now()).reason,
            EligibilityReason::LegacyCardRetired
        );
    }
}

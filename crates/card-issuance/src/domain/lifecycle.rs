//! A card's states, the changes allowed between them, and what each change
//! asks of the request.
//!
//! ```text
//! ISSUED ──receive──► RECEIVED
//!   │ \                 │
//!   │  report loss ─────┼──► LOST
//!   │                   │     │
//!   └──── replace / cancel (from ISSUED, RECEIVED or LOST) ──► REPLACED | CANCELLED
//! ```
//! REPLACED and CANCELLED are final. Activation is the activation service's
//! business; a card here is only ever made, handed over, lost or retired.

use std::str::FromStr;

use super::UnknownState;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardStatus {
    Issued,
    Received,
    Lost,
    Replaced,
    Cancelled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardChange {
    Receive,
    ReportLoss,
    Replace,
    Cancel,
}

/// A change the card's current state does not allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a {} card cannot be {}", from.as_str().to_lowercase(), change.past_tense())]
pub struct TransitionRefused {
    pub from: CardStatus,
    pub change: CardChange,
}

impl TransitionRefused {
    /// `CARD_STATE_<STATE>`: the reason names the state that refused.
    pub fn reason(&self) -> String {
        format!("CARD_STATE_{}", self.from.as_str())
    }
}

/// Why a change is recorded in the card's history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReasonRule {
    /// The change is for good: the caller must say why.
    Required,
    /// The caller may say why; this is recorded when they do not.
    Optional(&'static str),
    /// Always recorded as this.
    Fixed(&'static str),
}

impl CardChange {
    fn past_tense(self) -> &'static str {
        match self {
            Self::Receive => "received",
            Self::ReportLoss => "reported lost",
            Self::Replace => "replaced",
            Self::Cancel => "cancelled",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Receive => "RECEIVE",
            Self::ReportLoss => "REPORT_LOSS",
            Self::Replace => "REPLACE",
            Self::Cancel => "CANCEL",
        }
    }

    /// What the change asks of the reason given with it: a cancellation or
    /// a replacement is for good and must say why; a loss report may.
    pub fn reason_rule(self) -> ReasonRule {
        match self {
            Self::Receive => ReasonRule::Fixed("received by the holder"),
            Self::ReportLoss => ReasonRule::Optional("reported lost"),
            Self::Replace | Self::Cancel => ReasonRule::Required,
        }
    }
}

impl CardStatus {
    /// The states in which a card can still be used; a person holds at most
    /// one such card.
    pub const USABLE: [CardStatus; 2] = [CardStatus::Issued, CardStatus::Received];

    pub fn apply(self, change: CardChange) -> Result<CardStatus, TransitionRefused> {
        use CardChange::*;
        use CardStatus::*;
        match (self, change) {
            (Issued, Receive) => Ok(Received),
            (Issued | Received, ReportLoss) => Ok(Lost),
            (Issued | Received | Lost, Replace) => Ok(Replaced),
            (Issued | Received | Lost, Cancel) => Ok(Cancelled),
            (from, change) => Err(TransitionRefused { from, change }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issued => "ISSUED",
            Self::Received => "RECEIVED",
            Self::Lost => "LOST",
            Self::Replaced => "REPLACED",
            Self::Cancelled => "CANCELLED",
        }
    }
}

impl FromStr for CardStatus {
    type Err = UnknownState;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Ok(match value {
            "ISSUED" => Self::Issued,
            "RECEIVED" => Self::Received,
            "LOST" => Self::Lost,
            "REPLACED" => Self::Replaced,
            "CANCELLED" => Self::Cancelled,
            _ => {
                return Err(UnknownState {
                    kind: "card status",
                    value: value.to_owned(),
                });
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{CardChange::*, CardStatus, CardStatus::*, ReasonRule};

    #[test]
    fn the_allowed_transitions() {
        assert_eq!(Issued.apply(Receive), Ok(Received));
        assert_eq!(Received.apply(ReportLoss), Ok(Lost));
        assert_eq!(Lost.apply(Replace), Ok(Replaced));
        assert_eq!(Received.apply(Cancel), Ok(Cancelled));
    }

    #[test]
    fn final_states_refuse_everything_and_name_themselves() {
        for from in [Replaced, Cancelled] {
            for change in [Receive, ReportLoss, Replace, Cancel] {
                let refused = from.apply(change).unwrap_err();
                assert_eq!(refused.reason(), format!("CARD_STATE_{}", from.as_str()));
            }
        }
        assert_eq!(
            Received.apply(Receive).unwrap_err().reason(),
            "CARD_STATE_RECEIVED"
        );
        assert_eq!(
            Lost.apply(Receive).unwrap_err().to_string(),
            "a lost card cannot be received"
        );
    }

    #[test]
    fn every_state_reads_back_and_an_unknown_one_is_an_error() {
        for status in [Issued, Received, Lost, Replaced, Cancelled] {
            assert_eq!(status.as_str().parse::<CardStatus>(), Ok(status));
        }
        assert!("ACTIVE".parse::<CardStatus>().is_err());
        assert!("".parse::<CardStatus>().is_err());
    }

    #[test]
    fn changes_for_good_must_say_why() {
        assert_eq!(Cancel.reason_rule(), ReasonRule::Required);
        assert_eq!(Replace.reason_rule(), ReasonRule::Required);
        assert_eq!(
            ReportLoss.reason_rule(),
            ReasonRule::Optional("reported lost")
        );
    }
}

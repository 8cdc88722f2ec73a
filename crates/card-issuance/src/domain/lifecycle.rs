//! A card's states and the changes allowed between them.
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

use socsec_proto::card::v1 as pb;

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
}

impl CardStatus {
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

    pub fn from_db(value: &str) -> Self {
        match value {
            "ISSUED" => Self::Issued,
            "RECEIVED" => Self::Received,
            "LOST" => Self::Lost,
            "REPLACED" => Self::Replaced,
            _ => Self::Cancelled,
        }
    }

    pub fn to_proto(self) -> pb::CardStatus {
        match self {
            Self::Issued => pb::CardStatus::Issued,
            Self::Received => pb::CardStatus::Received,
            Self::Lost => pb::CardStatus::Lost,
            Self::Replaced => pb::CardStatus::Replaced,
            Self::Cancelled => pb::CardStatus::Cancelled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{CardChange::*, CardStatus::*};

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
}

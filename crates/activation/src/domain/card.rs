//! A social security card's states, the channels that activate it, and the
//! rule that says whether it may be activated now.

use chrono::{DateTime, Utc};

use super::text_enum;

/// A card's state as card-issuance publishes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardState {
    Issued,
    Received,
    Lost,
    Replaced,
    Cancelled,
}

text_enum!(CardState, "card status" {
    Issued => "ISSUED",
    Received => "RECEIVED",
    Lost => "LOST",
    Replaced => "REPLACED",
    Cancelled => "CANCELLED",
});

impl CardState {
    /// Issued or received: it may be activated and, once activated, used.
    /// Lost, replaced and cancelled cards never become usable again.
    pub fn is_usable(self) -> bool {
        matches!(self, Self::Issued | Self::Received)
    }
}

/// The card's state to act on: the projection's, or the state card-issuance
/// gave when it was asked because the projection was behind (`verified`).
/// An unusable state in the projection stands: no card becomes usable again.
pub fn effective_state(projected: CardState, verified: Option<CardState>) -> CardState {
    match verified {
        Some(verified) if projected.is_usable() => verified,
        _ => projected,
    }
}

/// The five ways a card is activated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    BankOutlet,
    Hospital,
    Pharmacy,
    FinancialFunction,
    Hotline,
}

text_enum!(Channel, "activation channel" {
    BankOutlet => "BANK_OUTLET",
    Hospital => "HOSPITAL",
    Pharmacy => "PHARMACY",
    FinancialFunction => "FINANCIAL_FUNCTION",
    Hotline => "HOTLINE",
});

/// A card's activation: through which channel, when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Activation {
    pub channel: Channel,
    pub at: DateTime<Utc>,
}

/// Why an activation is refused. Each is one gRPC code and reason
/// (`ActivationError`); the order in which a channel checks them is what
/// its callers observe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The card has an activation already; a second one changes nothing.
    AlreadyActive(Activation),
    CardLost,
    CardReplaced,
    CardCancelled,
    /// An outlet or bank presenting a card of another bank.
    CardOfAnotherBank,
    /// The ID number (or name) presented is not the card holder's.
    HolderMismatch,
    /// Serial number, ID number and bank card number are not one card's.
    FinancialDetailsMismatch,
    /// The old medical insurance card is another person's.
    LegacyCardOfAnotherPerson,
    /// The old medical insurance card was retired already.
    LegacyCardRetired,
}

/// A card may be activated once, while it is issued or received: a lost,
/// replaced or cancelled card never (whether or not it was activated), an
/// activated one says when and how it was.
pub fn ensure_activatable(state: CardState, activation: Option<Activation>) -> Result<(), Refusal> {
    match state {
        CardState::Lost => Err(Refusal::CardLost),
        CardState::Replaced => Err(Refusal::CardReplaced),
        CardState::Cancelled => Err(Refusal::CardCancelled),
        CardState::Issued | CardState::Received => match activation {
            Some(activation) => Err(Refusal::AlreadyActive(activation)),
            None => Ok(()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_read_back_exactly_and_unknown_ones_are_errors() {
        for state in [
            CardState::Issued,
            CardState::Received,
            CardState::Lost,
            CardState::Replaced,
            CardState::Cancelled,
        ] {
            assert_eq!(state.as_str().parse::<CardState>(), Ok(state));
        }
        assert!("ACTIVE".parse::<CardState>().is_err());
        assert!("".parse::<Channel>().is_err());
        assert_eq!("HOTLINE".parse::<Channel>(), Ok(Channel::Hotline));
    }

    #[test]
    fn an_unusable_card_says_why_even_when_activated() {
        let activation = Activation {
            channel: Channel::Hospital,
            at: Utc::now(),
        };
        assert_eq!(
            ensure_activatable(CardState::Lost, Some(activation)),
            Err(Refusal::CardLost)
        );
        assert_eq!(
            ensure_activatable(CardState::Received, Some(activation)),
            Err(Refusal::AlreadyActive(activation))
        );
        assert_eq!(ensure_activatable(CardState::Issued, None), Ok(()));
    }

    #[test]
    fn a_verified_state_replaces_a_usable_projection_but_never_revives_a_card() {
        use CardState::*;
        assert_eq!(effective_state(Received, Some(Lost)), Lost);
        assert_eq!(effective_state(Issued, Some(Received)), Received);
        assert_eq!(effective_state(Received, None), Received);
        assert_eq!(effective_state(Lost, Some(Received)), Lost);
        assert_eq!(effective_state(Cancelled, None), Cancelled);
    }
}

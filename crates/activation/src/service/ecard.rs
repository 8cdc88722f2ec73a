//! A card shown as an electronic social security card's QR token. The
//! token names an e-card, not a card; card-issuance, which issues e-cards
//! and keeps their binding to cards, checks it (signature and expiry with
//! its key, then the card's status in its own table at this instant, then
//! single use) and says which card it stands for. So a token of a card
//! reported lost is refused from the commit of the loss report on — no
//! projection lag — and when card-issuance cannot be asked the presentation
//! fails closed (`CARD_STATUS_UNVERIFIED`). The card found is then handled
//! exactly as if shown with its chip.

use pii::{CardIdentificationCode, CardNumber};
use platform::auth::Caller;
use socsec_proto::card::v1::EcardTokenOutcome as Outcome;

use super::{Activations, Result};
use crate::{domain::command::ShownCard, error::ActivationError};

impl Activations {
    /// The card `token` stands for now, used once under `single_use` (the
    /// presenting partner's request id) when given: `None` for a token this
    /// system did not sign (the caller records the failed presentation);
    /// `ECARD_TOKEN_EXPIRED`, `ECARD_TOKEN_REPLAYED`, `ECARD_NOT_IN_FORCE`.
    pub(super) async fn ecard_card(
        &self,
        caller: &Caller,
        token: &str,
        single_use: Option<&str>,
    ) -> Result<Option<(CardNumber, CardIdentificationCode)>> {
        let answer = self
            .directory
            .redeem_ecard_token(token, single_use, caller)
            .await?;
        match Outcome::try_from(answer.outcome) {
            Ok(Outcome::Valid) => {
                let number = CardNumber::parse(&answer.card_number);
                let code = CardIdentificationCode::parse(&answer.card_identification_code);
                match (number, code) {
                    (Ok(number), Ok(code)) => Ok(Some((number, code))),
                    // Card-issuance answered what no card holds: nothing
                    // is answered from it.
                    _ => Err(ActivationError::CardStatusUnverified),
                }
            }
            Ok(Outcome::Invalid) => Ok(None),
            Ok(Outcome::Expired) => Err(ActivationError::EcardTokenExpired),
            Ok(Outcome::Replayed) => Err(ActivationError::EcardTokenReplayed),
            Ok(Outcome::NotInForce) => Err(ActivationError::EcardNotInForce),
            _ => Err(ActivationError::CardStatusUnverified),
        }
    }

    /// The card a hospital or pharmacy shows for `action`'s request
    /// `request_id`: the chip's number and code as given, or the card of an
    /// e-card token (used once). A token not genuine is a failed
    /// presentation, answered `CARD_NOT_FOUND` like a card not presented.
    pub(super) async fn shown_card(
        &self,
        caller: &Caller,
        action: &str,
        card: &ShownCard,
        request_id: &str,
    ) -> Result<(CardNumber, Option<CardIdentificationCode>)> {
        match card {
            ShownCard::Chip {
                number,
                identification_code,
            } => Ok((number.clone(), identification_code.clone())),
            ShownCard::Ecard(token) => {
                match self.ecard_card(caller, token, Some(request_id)).await? {
                    Some((number, code)) => Ok((number, Some(code))),
                    None => {
                        self.failed_presentation(caller, action, None, Some(request_id))
                            .await?;
                        Err(ActivationError::CardNotFound)
                    }
                }
            }
        }
    }
}

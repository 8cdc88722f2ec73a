//! What activation asks identity and card-issuance, and tells card-issuance,
//! over gRPC: whether an ID number (and name) is a card holder's; a card's
//! state as card-issuance has it now (when the projection is behind); and
//! that an old medical insurance card was retired.

use platform::{
    auth::Caller,
    client::{ServiceChannel, on_behalf_of},
};
use socsec_proto::{
    card::v1::{self as card, card_service_client::CardServiceClient},
    identity::v1::{self as identity, identity_service_client::IdentityServiceClient},
};

use uuid::Uuid;

use crate::error::ActivationError;

#[derive(Clone)]
pub struct Directory {
    identity: IdentityServiceClient<ServiceChannel>,
    cards: CardServiceClient<ServiceChannel>,
}

fn unavailable(status: tonic::Status) -> ActivationError {
    // A partner over its limit at identity is told so, with the delay.
    if status.code() == tonic::Code::ResourceExhausted {
        return ActivationError::RateLimited(status);
    }
    tracing::warn!(code = ?status.code(), message = status.message(), "identity call failed");
    ActivationError::IdentityUnavailable
}

/// Card-issuance could not say what state a card is in.
fn unverified(status: tonic::Status) -> ActivationError {
    tracing::warn!(code = ?status.code(), reason = %reason(&status), "card-issuance could not be asked");
    ActivationError::CardStatusUnverified
}

/// The `ErrorInfo.reason` of a refusal (empty if it has none).
pub fn reason(status: &tonic::Status) -> String {
    use tonic_types::StatusExt;
    status
        .get_details_error_info()
        .map(|i| i.reason)
        .unwrap_or_default()
}

/// `None` for NOT_FOUND: the other service has no such thing.
fn found<T>(answer: Result<tonic::Response<T>, tonic::Status>) -> Result<Option<T>, tonic::Status> {
    match answer {
        Ok(answer) => Ok(Some(answer.into_inner())),
        Err(status) if status.code() == tonic::Code::NotFound => Ok(None),
        Err(status) => Err(status),
    }
}

impl Directory {
    pub fn new(identity: ServiceChannel, cards: ServiceChannel) -> Self {
        Self {
            identity: IdentityServiceClient::new(identity),
            cards: CardServiceClient::new(cards),
        }
    }

    /// Whether `id_number` is the ID number of person `person_id`; asked
    /// for `origin`'s request `request_id`.
    pub async fn is_holder(
        &self,
        person_id: &str,
        id_number: &str,
        origin: &Caller,
        request_id: &str,
    ) -> Result<bool, ActivationError> {
        let request = on_behalf_of(
            identity::VerifyHolderRequest {
                person_id: person_id.to_owned(),
                id_number: id_number.to_owned(),
            },
            origin,
            Some(request_id),
        );
        let answer = self
            .identity
            .clone()
            .verify_holder(request)
            .await
            .map_err(unavailable)?;
        Ok(answer.into_inner().r#match)
    }

    /// The person whose ID number and name these are, if they belong
    /// together; asked for `origin`'s request `request_id`.
    pub async fn verified_person(
        &self,
        id_number: &str,
        name: &str,
        origin: &Caller,
        request_id: &str,
    ) -> Result<Option<String>, ActivationError> {
        let request = on_behalf_of(
            identity::VerifyIdentityRequest {
                id_number: id_number.to_owned(),
                name: name.to_owned(),
            },
            origin,
            Some(request_id),
        );
        let answer = self
            .identity
            .clone()
            .verify_identity(request)
            .await
            .map_err(unavailable)?
            .into_inner();
        Ok(answer.r#match.then_some(answer.person_id))
    }

    /// The partner as identity has it now, if registered.
    pub async fn partner(&self, code: &str) -> Result<Option<identity::Partner>, ActivationError> {
        let request = identity::GetPartnerRequest {
            code: code.to_owned(),
        };
        found(self.identity.clone().get_partner(request).await).map_err(unavailable)
    }

    /// The card as card-issuance has it now, asked for `origin`; `None` if
    /// card-issuance has no such card.
    pub async fn card(
        &self,
        card_number: &str,
        origin: &Caller,
    ) -> Result<Option<card::Card>, ActivationError> {
        let request = on_behalf_of(
            card::GetCardRequest {
                key: Some(card::get_card_request::Key::CardNumber(
                    card_number.to_owned(),
                )),
            },
            origin,
            None,
        );
        found(self.cards.clone().get_card(request).await).map_err(unverified)
    }

    /// The old card as card-issuance has it now, asked for `origin`.
    pub async fn legacy_card(
        &self,
        legacy_card_number: &str,
        origin: &Caller,
    ) -> Result<Option<card::LegacyMedicalCard>, ActivationError> {
        let request = on_behalf_of(
            card::GetLegacyMedicalCardRequest {
                card_number: legacy_card_number.to_owned(),
            },
            origin,
            None,
        );
        found(self.cards.clone().get_legacy_medical_card(request).await).map_err(unverified)
    }

    /// The person's cards as card-issuance has them now, asked for `origin`.
    pub async fn person_cards(
        &self,
        person_id: &str,
        origin: &Caller,
    ) -> Result<Vec<card::Card>, ActivationError> {
        let request = on_behalf_of(
            card::ListPersonCardsRequest {
                person_id: person_id.to_owned(),
            },
            origin,
            None,
        );
        let answer = self
            .cards
            .clone()
            .list_person_cards(request)
            .await
            .map_err(unverified)?;
        Ok(answer.into_inner().cards)
    }

    /// What an e-card token presents, as card-issuance says now, asked for
    /// `origin`; used once under `single_use` (the presenting partner's
    /// request id) when given.
    pub async fn redeem_ecard_token(
        &self,
        token: &str,
        single_use: Option<&str>,
        origin: &Caller,
    ) -> Result<card::EcardPresentation, ActivationError> {
        let request = on_behalf_of(
            card::RedeemEcardTokenRequest {
                token: token.to_owned(),
                single_use: single_use.is_some(),
                request_id: single_use.unwrap_or_default().to_owned(),
            },
            origin,
            single_use,
        );
        let answer = self
            .cards
            .clone()
            .redeem_ecard_token(request)
            .await
            .map_err(unverified)?;
        Ok(answer.into_inner())
    }

    /// Tells card-issuance that `legacy` was retired in favour of `card`.
    /// Idempotent: the request id is built from the relay entry's opaque id
    /// (`relay_id`), never from the old card's number, which may be an ID
    /// number (a request id holding one is refused).
    pub async fn retire_legacy_card(
        &self,
        relay_id: Uuid,
        legacy: &str,
        card: &str,
    ) -> Result<(), tonic::Status> {
        let request = card::RetireLegacyMedicalCardRequest {
            // Hyphenated: no run of 18 digits, whatever the id.
            request_id: format!("activation-retire-{}", relay_id.hyphenated()),
            card_number: legacy.to_owned(),
            replaced_by_card_number: card.to_owned(),
        };
        self.cards
            .clone()
            .retire_legacy_medical_card(request)
            .await
            .map(|_| ())
    }
}

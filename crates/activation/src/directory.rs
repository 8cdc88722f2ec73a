//! What activation asks identity and tells card-issuance over gRPC: whether
//! an ID number (and name) is a card holder's, and that an old medical
//! insurance card was retired.

use platform::{
    auth::Caller,
    client::{ServiceChannel, on_behalf_of},
};
use socsec_proto::{
    card::v1::{self as card, card_service_client::CardServiceClient},
    identity::v1::{self as identity, identity_service_client::IdentityServiceClient},
};

use crate::error::ActivationError;

#[derive(Clone)]
pub struct Directory {
    identity: IdentityServiceClient<ServiceChannel>,
    cards: CardServiceClient<ServiceChannel>,
}

fn unavailable(status: tonic::Status) -> ActivationError {
    tracing::warn!(code = ?status.code(), message = status.message(), "identity call failed");
    ActivationError::IdentityUnavailable
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
        match self.identity.clone().get_partner(request).await {
            Ok(partner) => Ok(Some(partner.into_inner())),
            Err(status) if status.code() == tonic::Code::NotFound => Ok(None),
            Err(status) => Err(unavailable(status)),
        }
    }

    /// Tells card-issuance that `legacy` was retired in favour of `card`.
    /// Idempotent: the request id is derived from the old card.
    pub async fn retire_legacy_card(&self, legacy: &str, card: &str) -> Result<(), tonic::Status> {
        let request = card::RetireLegacyMedicalCardRequest {
            request_id: format!("activation-retire-{legacy}"),
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

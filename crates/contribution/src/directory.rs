//! What contribution asks identity: is the person registered, is the
//! employer or agency a registered partner in force. Asked before any
//! transaction opens; the answers are facts the transaction relies on.

use pii::PartnerCode;
use platform::{
    auth::{Caller, CallerKind},
    client::{ServiceChannel, on_behalf_of},
    registry,
};
use socsec_proto::identity::v1::{
    self as identity, identity_service_client::IdentityServiceClient,
};
use tonic::Code;
use uuid::Uuid;

use crate::{domain::payment::may_collect, error::ContributionError};

#[derive(Clone)]
pub struct Directory {
    identity: IdentityServiceClient<ServiceChannel>,
}

fn unavailable(status: tonic::Status) -> ContributionError {
    tracing::warn!(code = ?status.code(), message = status.message(), "identity call failed");
    ContributionError::IdentityUnavailable
}

impl Directory {
    pub fn new(channel: ServiceChannel) -> Self {
        Self {
            identity: IdentityServiceClient::new(channel),
        }
    }

    /// Refuses unless person `person_id` is registered; asked for
    /// `origin`'s request `request_id`.
    pub async fn ensure_registered(
        &self,
        person_id: Uuid,
        origin: &Caller,
        request_id: &str,
    ) -> Result<(), ContributionError> {
        let request = on_behalf_of(
            identity::GetPersonRequest {
                person_id: person_id.to_string(),
            },
            origin,
            Some(request_id),
        );
        match self.identity.clone().get_person(request).await {
            Ok(_) => Ok(()),
            Err(status) if status.code() == Code::NotFound => {
                Err(ContributionError::PersonNotFound)
            }
            Err(status) => Err(unavailable(status)),
        }
    }

    /// The registered persons among `id_numbers` (an import's holders),
    /// asked in one call for `origin`'s batch `request_id`.
    pub async fn holders(
        &self,
        id_numbers: Vec<String>,
        origin: &Caller,
        request_id: &str,
    ) -> Result<std::collections::HashMap<String, platform::import::Holder>, ContributionError>
    {
        platform::import::lookup_holders(self.identity.clone(), id_numbers, origin, request_id)
            .await
            .map_err(unavailable)
    }

    /// Refuses unless `bank` is registered in identity as a bank in force
    /// that collects contributions. Asked every time (not remembered), so a
    /// withdrawal takes effect at once; when identity cannot be asked, the
    /// payment is not recorded (`UNAVAILABLE`).
    pub async fn ensure_collecting_bank(
        &self,
        bank: &PartnerCode,
        origin: &Caller,
        request_id: &str,
    ) -> Result<(), ContributionError> {
        let request = on_behalf_of(
            identity::GetPartnerRequest {
                code: bank.as_str().to_owned(),
            },
            origin,
            Some(request_id),
        );
        match self.identity.clone().get_partner(request).await {
            Ok(partner) => {
                let partner = partner.into_inner();
                let collects = partner.collects_contributions;
                if may_collect(registry::registration(&partner), collects) {
                    Ok(())
                } else {
                    Err(ContributionError::NotCollectingBank)
                }
            }
            Err(status) if status.code() == Code::NotFound => {
                Err(ContributionError::NotCollectingBank)
            }
            Err(status) => Err(unavailable(status)),
        }
    }

    /// Refuses unless `code` is a partner registered as a `kind` and in
    /// force (an employer or agency that may pay).
    pub async fn ensure_partner(
        &self,
        code: &PartnerCode,
        kind: CallerKind,
    ) -> Result<(), ContributionError> {
        let request = identity::GetPartnerRequest {
            code: code.as_str().to_owned(),
        };
        match self.identity.clone().get_partner(request).await {
            Ok(partner) => match registry::registration(&partner.into_inner()) {
                Some(registration) if registration.in_force_as(kind) => Ok(()),
                _ => Err(ContributionError::PayerNotRegistered),
            },
            Err(status) if status.code() == Code::NotFound => {
                Err(ContributionError::PayerNotRegistered)
            }
            Err(status) => Err(unavailable(status)),
        }
    }
}

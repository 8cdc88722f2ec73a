//! What contribution asks identity: is the person registered, is the
//! employer or agency a registered partner in force.

use platform::{
    auth::Caller,
    client::{ServiceChannel, on_behalf_of},
};
use socsec_proto::{
    common::v1::PartnerKind,
    identity::v1::{self as identity, identity_service_client::IdentityServiceClient},
};
use tonic::Code;

use crate::error::ContributionError;

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
        person_id: &str,
        origin: &Caller,
        request_id: &str,
    ) -> Result<(), ContributionError> {
        let request = on_behalf_of(
            identity::GetPersonRequest {
                person_id: person_id.to_owned(),
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

    pub async fn ensure_partner(
        &self,
        code: &str,
        kind: PartnerKind,
    ) -> Result<(), ContributionError> {
        let request = identity::GetPartnerRequest {
            code: code.to_owned(),
        };
        match self.identity.clone().get_partner(request).await {
            Ok(partner) => {
                let partner = partner.into_inner();
                if partner.kind == kind as i32 && partner.designation_in_force {
                    Ok(())
                } else {
                    Err(ContributionError::PayerNotRegistered)
                }
            }
            Err(status) if status.code() == Code::NotFound => {
                Err(ContributionError::PayerNotRegistered)
            }
            Err(status) => Err(unavailable(status)),
        }
    }
}

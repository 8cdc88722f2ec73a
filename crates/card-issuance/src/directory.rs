//! What card-issuance asks identity: is this person's information confirmed,
//! is this partner a co-operating bank.

use platform::{
    auth::Caller,
    client::{ServiceChannel, on_behalf_of},
};
use socsec_proto::{
    common::v1::PartnerKind,
    identity::v1::{
        self as identity, BasicInfoStatus, identity_service_client::IdentityServiceClient,
    },
};
use tonic::Code;

use crate::error::CardError;

#[derive(Clone)]
pub struct Directory {
    identity: IdentityServiceClient<ServiceChannel>,
}

/// What card-issuance needs to know of a person.
pub struct PersonFacts {
    pub confirmed: bool,
    pub region_code: String,
}

fn unavailable(status: tonic::Status) -> CardError {
    tracing::warn!(code = ?status.code(), message = status.message(), "identity call failed");
    CardError::IdentityUnavailable
}

impl Directory {
    pub fn new(channel: ServiceChannel) -> Self {
        Self {
            identity: IdentityServiceClient::new(channel),
        }
    }

    /// What card-issuance needs of person `person_id`, asked for
    /// `origin`'s request `request_id`.
    pub async fn person(
        &self,
        person_id: &str,
        origin: &Caller,
        request_id: &str,
    ) -> Result<PersonFacts, CardError> {
        let request = on_behalf_of(
            identity::GetPersonRequest {
                person_id: person_id.to_owned(),
            },
            origin,
            Some(request_id),
        );
        match self.identity.clone().get_person(request).await {
            Ok(person) => {
                let person = person.into_inner();
                Ok(PersonFacts {
                    confirmed: person.status == BasicInfoStatus::Confirmed as i32,
                    region_code: person.region_code,
                })
            }
            Err(status) if status.code() == Code::NotFound => Err(CardError::PersonNotFound),
            Err(status) => Err(unavailable(status)),
        }
    }

    /// Refuses unless `code` is a bank whose co-operation is in force.
    pub async fn ensure_cooperating_bank(&self, code: &str) -> Result<(), CardError> {
        let request = identity::GetPartnerRequest {
            code: code.to_owned(),
        };
        match self.identity.clone().get_partner(request).await {
            Ok(partner) => {
                let partner = partner.into_inner();
                if partner.kind == PartnerKind::Bank as i32 && partner.designation_in_force {
                    Ok(())
                } else {
                    Err(CardError::BankNotCooperating)
                }
            }
            Err(status) if status.code() == Code::NotFound => Err(CardError::BankNotFound),
            Err(status) => Err(unavailable(status)),
        }
    }
}

//! What card-issuance asks identity: who is this person (is their
//! information confirmed), how is this partner registered. Only ever called
//! before a transaction opens.

use pii::PartnerCode;
use platform::{
    auth::Caller,
    client::{ServiceChannel, on_behalf_of},
    registry::{Registration, registration},
};
use socsec_proto::identity::v1::{
    self as identity, BasicInfoStatus, identity_service_client::IdentityServiceClient,
};
use tonic::Code;
use uuid::Uuid;

use crate::{domain::Applicant, error::CardError};

#[derive(Clone)]
pub struct Directory {
    identity: IdentityServiceClient<ServiceChannel>,
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
        person_id: Uuid,
        origin: &Caller,
        request_id: &str,
    ) -> Result<Applicant, CardError> {
        let request = on_behalf_of(
            identity::GetPersonRequest {
                person_id: person_id.to_string(),
            },
            origin,
            Some(request_id),
        );
        match self.identity.clone().get_person(request).await {
            Ok(person) => {
                let person = person.into_inner();
                Ok(Applicant {
                    confirmed: person.status == BasicInfoStatus::Confirmed as i32,
                    region_code: person.region_code,
                })
            }
            Err(status) if status.code() == Code::NotFound => Err(CardError::PersonNotFound),
            Err(status) => Err(unavailable(status)),
        }
    }

    /// The registered persons among `id_numbers` (the import's holders),
    /// asked for `origin`'s batch `request_id`.
    pub async fn holders(
        &self,
        id_numbers: Vec<String>,
        origin: &Caller,
        request_id: &str,
    ) -> Result<std::collections::HashMap<String, platform::import::Holder>, CardError> {
        platform::import::lookup_holders(self.identity.clone(), id_numbers, origin, request_id)
            .await
            .map_err(unavailable)
    }

    /// Whether `caller` (a hospital or pharmacy) is registered as that kind
    /// with its medical insurance designation in force; asked on every PIN
    /// check, so a withdrawn designation counts at once.
    pub async fn designated(&self, caller: &Caller) -> Result<bool, CardError> {
        let request = identity::GetPartnerRequest {
            code: caller.code.clone(),
        };
        match self.identity.clone().get_partner(request).await {
            Ok(partner) => Ok(registration(&partner.into_inner())
                .is_some_and(|registered| registered.in_force_as(caller.kind))),
            Err(status) if status.code() == Code::NotFound => Ok(false),
            Err(status) => Err(unavailable(status)),
        }
    }

    /// How partner `code` is registered (`None`: under no kind this system
    /// knows); `BANK_NOT_FOUND` if it is not registered at all.
    pub async fn bank(&self, code: &PartnerCode) -> Result<Option<Registration>, CardError> {
        let request = identity::GetPartnerRequest {
            code: code.as_str().to_owned(),
        };
        match self.identity.clone().get_partner(request).await {
            Ok(partner) => Ok(registration(&partner.into_inner())),
            Err(status) if status.code() == Code::NotFound => Err(CardError::BankNotFound),
            Err(status) => Err(unavailable(status)),
        }
    }
}

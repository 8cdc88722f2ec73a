//! The portal's way to the services: a TLS channel to each (trusting the
//! services' CA, presenting no client certificate) and the person's session
//! token on every request, as `authorization: Bearer <token>` — exactly
//! what the CLI's `--token` and the tests' `as_caller("person:<id>")` send.
//! So every call is the person's own: the services authorize, mask and
//! audit it as any call of that person.

use socsec_proto::{
    activation::v1::activation_service_client::ActivationServiceClient,
    card::v1::card_service_client::CardServiceClient,
    contribution::v1::contribution_service_client::ContributionServiceClient,
    identity::v1::identity_service_client::IdentityServiceClient,
};
use tonic::{
    Request,
    metadata::MetadataValue,
    transport::{Certificate, Channel, ClientTlsConfig, Endpoint},
};

use crate::PortalConfig;

#[derive(Clone)]
pub struct Services {
    identity: Channel,
    cards: Channel,
    activation: Channel,
    contribution: Channel,
}

impl Services {
    pub fn connect(config: &PortalConfig) -> Result<Self, String> {
        let ca = std::fs::read(&config.services_ca_file)
            .map_err(|e| format!("{}: {e}", config.services_ca_file.display()))?;
        let channel = |url: &str| -> Result<Channel, String> {
            Ok(Endpoint::from_shared(url.to_owned())
                .map_err(|e| format!("{url}: {e}"))?
                .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&ca)))
                .map_err(|e| format!("{url}: {e}"))?
                .connect_lazy())
        };
        Ok(Self {
            identity: channel(&config.identity_url)?,
            cards: channel(&config.cards_url)?,
            activation: channel(&config.activation_url)?,
            contribution: channel(&config.contribution_url)?,
        })
    }

    pub fn identity(&self) -> IdentityServiceClient<Channel> {
        IdentityServiceClient::new(self.identity.clone())
    }

    pub fn cards(&self) -> CardServiceClient<Channel> {
        CardServiceClient::new(self.cards.clone())
    }

    pub fn activation(&self) -> ActivationServiceClient<Channel> {
        ActivationServiceClient::new(self.activation.clone())
    }

    pub fn contribution(&self) -> ContributionServiceClient<Channel> {
        ContributionServiceClient::new(self.contribution.clone())
    }
}

/// `message` sent as the person whose session `token` is.
pub fn as_person<T>(token: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    if let Ok(value) = MetadataValue::try_from(format!("Bearer {token}")) {
        request.metadata_mut().insert("authorization", value);
    }
    request
}

/// A fresh idempotency key for a mutation started from a form.
pub fn request_id(what: &str) -> String {
    format!("portal-{what}-{}", uuid::Uuid::new_v4())
}

/// The person a session token names (`v2.<kid>.<session>.<person>.<expiry>.<mac>`).
/// Not verified here: only to name the person's own records in requests;
/// the services verify the token and refuse anyone else's records.
pub fn person_of(token: &str) -> Option<String> {
    let parts: Vec<&str> = token.split('.').collect();
    match parts.as_slice() {
        ["v2", _, _, person, _, _] => uuid::Uuid::parse_str(person).ok().map(|id| id.to_string()),
        _ => None,
    }
}

//! The portal's way to the services: a TLS channel to each (trusting the
//! services' CA, presenting no client certificate) and the person's session
//! token on every request, as `authorization: Bearer <token>` — exactly
//! what the CLI's `--token` and the tests' `as_caller("person:<id>")` send.
//! So every call is the person's own: the services authorize, mask and
//! audit it as any call of that person.
//!
//! One exception: `SignIn` (before there is a session) goes over a channel
//! of its own presenting the portal's client certificate, with the
//! browser's address in `x-socsec-client-address`, so identity limits
//! sign-ins per browser.

use std::net::IpAddr;

use socsec_proto::{
    activation::v1::activation_service_client::ActivationServiceClient,
    card::v1::card_service_client::CardServiceClient,
    contribution::v1::contribution_service_client::ContributionServiceClient,
    identity::v1::identity_service_client::IdentityServiceClient,
};
use tonic::{
    Request,
    metadata::MetadataValue,
    transport::{Certificate, ClientTlsConfig, Endpoint, Identity},
};

use socsec_core::balance::Balanced;

use crate::PortalConfig;

#[derive(Clone)]
pub struct Services {
    identity: Balanced,
    /// To identity, presenting the portal's client certificate: `SignIn` only.
    sign_in: Balanced,
    cards: Balanced,
    activation: Balanced,
    contribution: Balanced,
}

impl Services {
    pub fn connect(config: &PortalConfig) -> Result<Self, String> {
        let ca = std::fs::read(&config.services_ca_file)
            .map_err(|e| format!("{}: {e}", config.services_ca_file.display()))?;
        let read = |path: &std::path::Path| {
            std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
        };
        let portal = Identity::from_pem(
            read(&config.client_cert_file)?,
            read(&config.client_key_file)?,
        );
        let tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&ca));
        // One URL, or the instances of one service separated by commas
        // (calls spread over them and sent to the next on a connect error
        // or UNAVAILABLE: `socsec_core::balance`).
        let channel_with = |urls: &str, tls: ClientTlsConfig| -> Result<Balanced, String> {
            let endpoints = socsec_core::balance::urls(urls)
                .into_iter()
                .map(|url| {
                    Endpoint::from_shared(url.to_owned())
                        .and_then(|e| e.tls_config(tls.clone()))
                        .map_err(|e| format!("{url}: {e}"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            if endpoints.is_empty() {
                return Err(format!("{urls:?}: no URL"));
            }
            Ok(socsec_core::balance::channel(endpoints, None))
        };
        let channel = |url: &str| channel_with(url, tls.clone());
        Ok(Self {
            identity: channel(&config.identity_url)?,
            sign_in: channel_with(&config.identity_url, tls.clone().identity(portal))?,
            cards: channel(&config.cards_url)?,
            activation: channel(&config.activation_url)?,
            contribution: channel(&config.contribution_url)?,
        })
    }

    pub fn identity(&self) -> IdentityServiceClient<Balanced> {
        IdentityServiceClient::new(self.identity.clone())
    }

    /// Identity as the portal itself: for `SignIn` with [`for_browser`].
    pub fn sign_in(&self) -> IdentityServiceClient<Balanced> {
        IdentityServiceClient::new(self.sign_in.clone())
    }

    pub fn cards(&self) -> CardServiceClient<Balanced> {
        CardServiceClient::new(self.cards.clone())
    }

    pub fn activation(&self) -> ActivationServiceClient<Balanced> {
        ActivationServiceClient::new(self.activation.clone())
    }

    pub fn contribution(&self) -> ContributionServiceClient<Balanced> {
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

/// `message` sent for the browser at `address` (a person signing in).
pub fn for_browser<T>(address: IpAddr, message: T) -> Request<T> {
    let mut request = Request::new(message);
    if let Ok(value) = MetadataValue::try_from(address.to_string()) {
        request
            .metadata_mut()
            .insert(socsec_core::caller::CLIENT_ADDRESS_HEADER, value);
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

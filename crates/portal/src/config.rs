//! The portal's configuration: defaults, then a TOML file
//! (`SOCSEC_PORTAL_CONFIG`), then `SOCSEC_PORTAL_*` variables
//! (`SOCSEC_PORTAL_LISTEN_ADDR=0.0.0.0:8443`). `deploy/portal.example.toml`
//! lists every key.

use std::path::PathBuf;

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PortalConfig {
    /// Where the portal serves HTTPS.
    pub listen_addr: String,
    pub identity_url: String,
    pub cards_url: String,
    pub activation_url: String,
    pub contribution_url: String,
    /// The CA the services' certificates chain to (the internal CA).
    pub services_ca_file: PathBuf,
    /// The portal's own HTTPS certificate and key (server use only; it is
    /// never presented to the services).
    pub tls_cert_file: PathBuf,
    pub tls_key_file: PathBuf,
    /// The portal's client certificate (`spiffe://socsec/portal/<name>`,
    /// issued by the internal CA) and key, presented to identity with each
    /// `SignIn` alone, so that identity believes the browser address the
    /// portal names and limits sign-ins per browser (otherwise every person
    /// behind the portal would share one allowance). It is a credential for
    /// nothing else: every other call is the signed-in person's.
    pub client_cert_file: PathBuf,
    pub client_key_file: PathBuf,
    /// Load balancers or reverse proxies in front of the portal (addresses
    /// or networks, `["10.0.0.0/8"]`) whose `X-Forwarded-For` names the
    /// browser; empty (the default): the TCP peer is the browser.
    pub trusted_proxies: Vec<String>,
}

impl Default for PortalConfig {
    fn default() -> Self {
        Self {
            listen_addr: "127.0.0.1:8443".into(),
            identity_url: "https://127.0.0.1:50051".into(),
            cards_url: "https://127.0.0.1:50052".into(),
            activation_url: "https://127.0.0.1:50053".into(),
            contribution_url: "https://127.0.0.1:50054".into(),
            services_ca_file: ".data/pki/internal-ca.pem".into(),
            tls_cert_file: ".data/pki/portal.pem".into(),
            tls_key_file: ".data/pki/portal-key.pem".into(),
            client_cert_file: ".data/pki/portal-web.pem".into(),
            client_key_file: ".data/pki/portal-web-key.pem".into(),
            trusted_proxies: Vec::new(),
        }
    }
}

impl PortalConfig {
    pub fn load() -> Result<Self, String> {
        let mut figment = Figment::from(Serialized::defaults(Self::default()));
        if let Some(file) = std::env::var_os("SOCSEC_PORTAL_CONFIG") {
            figment = figment.merge(Toml::file_exact(PathBuf::from(file)));
        }
        figment
            .merge(Env::prefixed("SOCSEC_PORTAL_").ignore(&["config"]))
            .extract()
            .map_err(|e| format!("configuration: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_lists_the_defaults() {
        let example = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../deploy/portal.example.toml"
        );
        let read: PortalConfig = Figment::from(Toml::file_exact(example))
            .extract()
            .expect("every key, each as the portal reads it");
        assert_eq!(read, PortalConfig::default());
    }
}

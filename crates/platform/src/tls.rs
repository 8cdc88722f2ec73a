//! Mutual TLS between the services and for partners.
//!
//! Every server presents its certificate and asks the caller for one signed
//! by the configured CA. A caller's identity is the URI subject alternative
//! name of its verified certificate (`spiffe://socsec/<kind>/<code>`). A
//! certificate from another CA, or an expired one, never gets a connection:
//! the TLS handshake fails. A connection without a client certificate is
//! accepted for the calls anyone may make (signing in, health) and for
//! persons' calls carrying a session token; every other call on it is refused
//! with `UNAUTHENTICATED`.
//!
//! Plaintext is only used when `plaintext = true` is configured.

use std::{fs, path::Path, time::Duration};

use tonic::{
    Code, Status,
    transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig},
};
use x509_parser::{extensions::GeneralName, prelude::FromDer};

use crate::{
    auth::{Caller, CallerKind},
    config::{ConfigError, PlatformConfig},
    error,
};

/// The PEM files named by the configuration, read once at start.
#[derive(Clone)]
pub struct TlsMaterial {
    ca: Certificate,
    identity: Identity,
}

impl TlsMaterial {
    /// The files of `config`; `None` when it is configured for plaintext.
    pub fn load(config: &PlatformConfig) -> Result<Option<Self>, ConfigError> {
        if config.plaintext {
            return Ok(None);
        }
        let read = |key: &'static str, path: &Option<std::path::PathBuf>| {
            let path = path.as_deref().ok_or_else(|| {
                ConfigError::invalid(key, "is required unless `plaintext = true`")
            })?;
            read_pem(key, path)
        };
        let ca = read("tls_ca_file", &config.tls_ca_file)?;
        let cert = read("tls_cert_file", &config.tls_cert_file)?;
        let key = read("tls_key_file", &config.tls_key_file)?;
        Ok(Some(Self {
            ca: Certificate::from_pem(ca),
            identity: Identity::from_pem(cert, key),
        }))
    }

    /// The server side: our certificate, and the CA callers' certificates
    /// must chain to (a caller may also come without one; see the module).
    pub fn server(&self) -> ServerTlsConfig {
        ServerTlsConfig::new()
            .identity(self.identity.clone())
            .client_ca_root(self.ca.clone())
            .client_auth_optional(true)
            .timeout(Duration::from_secs(10))
    }

    /// The client side: trust servers signed by our CA, present our certificate.
    pub fn client(&self) -> ClientTlsConfig {
        ClientTlsConfig::new()
            .ca_certificate(self.ca.clone())
            .identity(self.identity.clone())
    }
}

fn read_pem(key: &'static str, path: &Path) -> Result<Vec<u8>, ConfigError> {
    let bytes = fs::read(path)
        .map_err(|e| ConfigError::invalid(key, format!("cannot read {}: {e}", path.display())))?;
    if !bytes.starts_with(b"-----BEGIN") {
        return Err(ConfigError::invalid(
            key,
            format!("{} is not a PEM file", path.display()),
        ));
    }
    Ok(bytes)
}

/// The caller named by a verified peer certificate chain (leaf first).
pub fn caller_of_certificate(der: &[u8]) -> Result<Caller, Status> {
    let invalid = |detail: &str| {
        error::status(
            Code::Unauthenticated,
            "CERTIFICATE_IDENTITY_INVALID",
            format!("the client certificate {detail}"),
        )
    };
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der)
        .map_err(|_| invalid("cannot be parsed"))?;
    let names = cert
        .subject_alternative_name()
        .map_err(|_| invalid("has a malformed subject alternative name"))?
        .ok_or_else(|| invalid("names no caller (no subject alternative name)"))?;
    let callers: Vec<Caller> = names
        .value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::URI(uri) => Caller::from_uri(uri),
            _ => None,
        })
        .collect();
    match callers.as_slice() {
        [caller] if caller.kind == CallerKind::Person => Err(invalid(
            "names a person (persons sign in with a session token)",
        )),
        [caller] => Ok(caller.clone()),
        [] => Err(invalid(
            "names no caller (no spiffe://socsec/<kind>/<code> URI)",
        )),
        _ => Err(invalid("names more than one caller")),
    }
}

//! Mutual TLS between the services and for partners.
//!
//! Every server presents its certificate (issued by the internal CA) and
//! asks the caller for one issued by the partner CA or the internal CA. A
//! caller's identity is the URI subject alternative name of its verified
//! certificate (`spiffe://socsec/<kind>/<code>`); which CA may vouch for
//! which kind, and revocation, are checked per call ([`crate::trust`]). A
//! certificate from any other CA, or an expired one, never gets a
//! connection: the TLS handshake fails. A connection without a client
//! certificate is accepted for the calls anyone may make (signing in,
//! health) and for persons' calls carrying a session token; every other call
//! on it is refused with `UNAUTHENTICATED`. Services calling each other
//! trust the internal CA for the servers' certificates.
//!
//! Plaintext is only used when `plaintext = true` is configured.

use std::{fs, path::Path, sync::Arc, time::Duration};

use tonic::{
    Code, Status,
    transport::{Certificate, ClientTlsConfig, Identity},
};
use x509_parser::{certificate::X509Certificate, extensions::GeneralName};

use crate::{
    auth::{Caller, CallerKind},
    config::{ConfigError, PlatformConfig},
    error,
    host::Tasks,
    trust::{Ca, CaFiles, Trust},
};

/// The PEM files named by the configuration, read once at start (the
/// revocation lists are reloaded by [`Trust`]).
#[derive(Clone)]
pub struct TlsMaterial {
    /// Both CAs: client certificates may chain to either.
    client_roots: Certificate,
    /// The internal CA: the servers' certificates chain to it.
    server_root: Certificate,
    identity: Identity,
    /// The same certificate and key, for [`crate::tls_incoming`].
    cert_pem: Vec<u8>,
    key_pem: Vec<u8>,
    trust: Arc<Trust>,
    crl_reload: Duration,
}

impl TlsMaterial {
    /// The files of `config`; `None` when it is configured for plaintext.
    pub fn load(config: &PlatformConfig) -> Result<Option<Self>, ConfigError> {
        if config.plaintext {
            return Ok(None);
        }
        let required = |key: &'static str, path: &Option<std::path::PathBuf>| {
            path.clone()
                .ok_or_else(|| ConfigError::invalid(key, "is required unless `plaintext = true`"))
        };
        let read = |key, path: &Option<std::path::PathBuf>| read_pem(key, &required(key, path)?);
        let partner_ca = read("tls_partner_ca_file", &config.tls_partner_ca_file)?;
        let internal_ca = read("tls_internal_ca_file", &config.tls_internal_ca_file)?;
        let cert = read("tls_cert_file", &config.tls_cert_file)?;
        let key = read("tls_key_file", &config.tls_key_file)?;
        let trust = Trust::load(
            CaFiles {
                ca: Ca::Partner,
                cert_pem: partner_ca.clone(),
                cert_key: "tls_partner_ca_file",
                crl_path: required("tls_partner_crl_file", &config.tls_partner_crl_file)?,
                crl_key: "tls_partner_crl_file",
            },
            CaFiles {
                ca: Ca::Internal,
                cert_pem: internal_ca.clone(),
                cert_key: "tls_internal_ca_file",
                crl_path: required("tls_internal_crl_file", &config.tls_internal_crl_file)?,
                crl_key: "tls_internal_crl_file",
            },
        )?;
        if !trust.issued_by(&cert, Ca::Internal) {
            return Err(ConfigError::invalid(
                "tls_cert_file",
                "is not issued by the internal CA (tls_internal_ca_file): the services' \
                 certificates come from the internal CA, which is what other services trust",
            ));
        }
        let mut client_roots = partner_ca;
        client_roots.push(b'\n');
        client_roots.extend_from_slice(&internal_ca);
        Ok(Some(Self {
            client_roots: Certificate::from_pem(client_roots),
            server_root: Certificate::from_pem(internal_ca),
            identity: Identity::from_pem(&cert, &key),
            cert_pem: cert,
            key_pem: key,
            trust: Arc::new(trust),
            crl_reload: Duration::from_millis(config.tls_crl_reload_ms),
        }))
    }

    /// The server side as rustls sees it: our certificate, the CAs callers'
    /// certificates must chain to (a caller may also come without one; see
    /// the module), and ALPN `h2` and `http/1.1` — tonic's own acceptor
    /// offers only `h2`, and rustls refuses a client that offers only
    /// `http/1.1` (the JSON interface's callers; see [`crate::json`]).
    pub fn server_config(&self) -> Result<Arc<tokio_rustls::rustls::ServerConfig>, String> {
        crate::tls_incoming::server_config(
            self.client_roots.get_ref(),
            &self.cert_pem,
            &self.key_pem,
        )
    }

    /// The client side: trust servers issued by the internal CA, present
    /// our certificate.
    pub fn client(&self) -> ClientTlsConfig {
        ClientTlsConfig::new()
            .ca_certificate(self.server_root.clone())
            .identity(self.identity.clone())
    }
}

/// The CAs and revocation lists the auth layer checks callers against (none
/// over plaintext), the lists re-read every `tls_crl_reload_ms` by a task of
/// `tasks` (it ends when the service stops).
pub fn keep_revocations_current(tls: Option<&TlsMaterial>, tasks: &Tasks) -> Option<Arc<Trust>> {
    let tls = tls?;
    tasks.spawn_until_stopped(tls.trust.clone().keep_revocations_current(tls.crl_reload));
    Some(tls.trust.clone())
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

/// The caller a certificate names in its subject alternative name.
pub fn caller_named_by(cert: &X509Certificate<'_>) -> Result<Caller, Status> {
    let invalid = |detail: &str| {
        error::status(
            Code::Unauthenticated,
            "CERTIFICATE_IDENTITY_INVALID",
            format!("the client certificate {detail}"),
        )
    };
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

//! Which CA may vouch for whom, and which certificates it no longer vouches
//! for.
//!
//! The bureau runs two CAs: the **partner CA** issues partners'
//! certificates (banks, outlets, hospitals, pharmacies, agencies,
//! employers, the hotline), the **internal CA** those of the services
//! (their server certificates are their client certificates too) and of
//! the operators. The TLS handshake accepts a client certificate chaining
//! to either (rustls checks the signature and the validity period); then,
//! on every call, [`Trust::caller`]:
//!
//! 1. names the caller from the certificate's `spiffe://socsec/<kind>/<code>`;
//! 2. finds the CA that issued it (issuer name, then the signature checked
//!    against that CA's key) and refuses a caller kind vouched for by the
//!    wrong CA — a `service` or `operator` certificate from the partner CA,
//!    a partner's from the internal CA: `UNAUTHENTICATED` /
//!    `CERTIFICATE_ISSUER_MISMATCH`. A certificate must be issued by one of
//!    the two CAs directly (no intermediate CAs);
//! 3. refuses a certificate listed on its CA's revocation list:
//!    `UNAUTHENTICATED` / `CERTIFICATE_REVOKED`. Because this runs per call,
//!    a connection opened before the revocation is refused from its next
//!    call on;
//! 4. refuses every certificate of a CA whose list in force is past its
//!    `nextUpdate`: `UNAVAILABLE` / `REVOCATION_LIST_EXPIRED` (fail closed:
//!    what the CA revoked since is unknown).
//!
//! Revocation lists are reloaded without a restart; see [`crl`].

mod crl;
#[cfg(test)]
mod tests;

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use sha2::{Digest, Sha256};

use tonic::{Code, Status};
use x509_parser::{certificate::X509Certificate, prelude::FromDer, x509::SubjectPublicKeyInfo};

use crate::{
    auth::{Caller, CallerKind},
    config::ConfigError,
    error, tls,
};

use self::crl::CrlSlot;

/// One of the bureau's two CAs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ca {
    Partner,
    Internal,
}

impl Ca {
    /// The CA whose certificates may name a caller of `kind`.
    pub fn for_kind(kind: CallerKind) -> Ca {
        if kind.is_partner() {
            Ca::Partner
        } else {
            Ca::Internal
        }
    }

    /// `partner` or `internal`, for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Ca::Partner => "partner",
            Ca::Internal => "internal",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Ca::Partner => "the partner CA",
            Ca::Internal => "the internal CA",
        }
    }
}

/// What the configuration names for one CA.
pub struct CaFiles {
    pub ca: Ca,
    /// The CA's certificate, PEM, and the key it was configured under.
    pub cert_pem: Vec<u8>,
    pub cert_key: &'static str,
    /// Its revocation list, PEM or DER, and the key it was configured under.
    pub crl_path: PathBuf,
    pub crl_key: &'static str,
}

/// A CA as the auth layer checks against it.
struct Authority {
    ca: Ca,
    /// The DER of its subject name (what its certificates name as issuer).
    subject: Vec<u8>,
    /// The DER of its public key.
    public_key: Vec<u8>,
    crl: CrlSlot,
}

/// The two CAs and their revocation lists.
pub struct Trust {
    authorities: [Authority; 2],
    /// Which CA's signature each certificate seen carries (by the SHA-256 of
    /// its DER): a certificate's signature does not change, and checking it
    /// was most of the per-call cost (measured in a debug build: ~300 µs a
    /// call without this, ~50 µs with it, ~10 µs of which reading the
    /// name). Cleared when it reaches [`ISSUERS_REMEMBERED`] entries.
    issuers: Mutex<HashMap<[u8; 32], Ca>>,
}

/// How many certificates' issuers [`Trust`] remembers.
const ISSUERS_REMEMBERED: usize = 4096;

impl Trust {
    /// The CAs of `partner` and `internal` and their revocation lists, each
    /// read and checked now: a list that cannot be read, parsed or verified
    /// against its CA stops the service before it opens a port.
    pub fn load(partner: CaFiles, internal: CaFiles) -> Result<Self, ConfigError> {
        let authorities = [Authority::load(partner)?, Authority::load(internal)?];
        if authorities[0].subject == authorities[1].subject {
            return Err(ConfigError::invalid(
                "tls_partner_ca_file",
                "names the same CA as tls_internal_ca_file; partners' certificates and \
                 the services' and operators' must come from two different CAs",
            ));
        }
        Ok(Self {
            authorities,
            issuers: Mutex::default(),
        })
    }

    /// The caller named by the verified client certificate `der`, if the CA
    /// for its kind issued it and has not revoked it (see the module).
    pub fn caller(&self, der: &[u8]) -> Result<Caller, Status> {
        let (_, certificate) = X509Certificate::from_der(der).map_err(|_| {
            error::status(
                Code::Unauthenticated,
                "CERTIFICATE_IDENTITY_INVALID",
                "the client certificate cannot be parsed",
            )
        })?;
        let caller = tls::caller_named_by(&certificate)?;
        let issuer = self.issuer_of(der, &certificate).ok_or_else(|| {
            mismatch(
                "the client certificate was not issued directly by the partner or the internal CA",
            )
        })?;
        let expected = Ca::for_kind(caller.kind);
        if issuer.ca != expected {
            return Err(mismatch(format!(
                "a {} certificate must be issued by {}, not by {}",
                caller.kind.as_str(),
                expected.describe(),
                issuer.ca.describe()
            )));
        }
        issuer.crl.check(&certificate.serial.to_bytes_be())?;
        Ok(caller)
    }

    /// Whether `cert_pem` (this service's own certificate) was issued by `ca`.
    pub fn issued_by(&self, cert_pem: &[u8], ca: Ca) -> bool {
        let Some(der) = first_pem(cert_pem) else {
            return false;
        };
        let Ok((_, certificate)) = X509Certificate::from_der(&der) else {
            return false;
        };
        self.issuer_of(&der, &certificate)
            .is_some_and(|issuer| issuer.ca == ca)
    }

    /// The CA that issued `certificate` (whose DER is `der`) directly: the
    /// one its issuer names, if that CA's key verifies its signature.
    fn issuer_of(&self, der: &[u8], certificate: &X509Certificate<'_>) -> Option<&Authority> {
        let fingerprint: [u8; 32] = Sha256::digest(der).into();
        let remembered = self
            .issuers
            .lock()
            .expect("issuers lock")
            .get(&fingerprint)
            .copied();
        if let Some(ca) = remembered {
            return self.authorities.iter().find(|a| a.ca == ca);
        }
        let authority = self
            .authorities
            .iter()
            .find(|a| a.subject == certificate.issuer().as_raw())?;
        let (_, key) = SubjectPublicKeyInfo::from_der(&authority.public_key).ok()?;
        certificate.verify_signature(Some(&key)).ok()?;
        let mut issuers = self.issuers.lock().expect("issuers lock");
        if issuers.len() >= ISSUERS_REMEMBERED {
            issuers.clear();
        }
        issuers.insert(fingerprint, authority.ca);
        Some(authority)
    }

    /// Looks at each revocation list file every `every` and takes a new
    /// version once it is good (see [`crl`]); runs until dropped.
    pub async fn keep_revocations_current(self: Arc<Self>, every: Duration) {
        loop {
            tokio::time::sleep(every).await;
            let trust = self.clone();
            let _ = tokio::task::spawn_blocking(move || {
                for authority in &trust.authorities {
                    authority
                        .crl
                        .reload_if_changed(&authority.subject, &authority.public_key);
                }
            })
            .await;
        }
    }
}

impl Authority {
    fn load(files: CaFiles) -> Result<Self, ConfigError> {
        let der = first_pem(&files.cert_pem)
            .ok_or_else(|| ConfigError::invalid(files.cert_key, "holds no PEM certificate"))?;
        let (_, certificate) = X509Certificate::from_der(&der).map_err(|e| {
            ConfigError::invalid(files.cert_key, format!("is not a certificate: {e}"))
        })?;
        let subject = certificate.subject().as_raw().to_vec();
        let public_key = certificate.public_key().raw.to_vec();
        let crl = CrlSlot::load(files.ca, files.crl_path.clone(), &subject, &public_key).map_err(
            |problem| {
                ConfigError::invalid(
                    files.crl_key,
                    format!("{} {problem}", files.crl_path.display()),
                )
            },
        )?;
        Ok(Self {
            ca: files.ca,
            subject,
            public_key,
            crl,
        })
    }
}

fn mismatch(message: impl Into<String>) -> Status {
    error::status(
        Code::Unauthenticated,
        "CERTIFICATE_ISSUER_MISMATCH",
        message,
    )
}

/// The contents of the first PEM block of `bytes`.
fn first_pem(bytes: &[u8]) -> Option<Vec<u8>> {
    x509_parser::pem::Pem::iter_from_buffer(bytes)
        .next()?
        .ok()
        .map(|pem| pem.contents)
}

//! Certificate revocation lists: each CA's signed list of the certificates
//! it no longer vouches for. Revoking rewrites the CA's list whole, with a
//! higher CRL number (temp file + rename), and the services pick it up
//! without a restart.

use std::path::{Path, PathBuf};

use rcgen::{
    CertificateRevocationListParams, KeyIdMethod, RevokedCertParams, SerialNumber, date_time_ymd,
};
use time::OffsetDateTime;
use x509_parser::{
    certificate::X509Certificate, pem::Pem, prelude::FromDer,
    revocation_list::CertificateRevocationList,
};

use crate::{Authority, Ca, PkiDirs, PkiError, read, write};

/// A revoked certificate: its serial number (big-endian, no leading
/// zeros) and when it was revoked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revoked {
    pub serial: Vec<u8>,
    pub at: OffsetDateTime,
}

/// What [`revoke`] did.
#[derive(Clone, Debug)]
pub struct Revocation {
    /// The CA that issued the certificate.
    pub ca: Ca,
    /// Its CRL, rewritten (unless the certificate was listed already).
    pub crl: PathBuf,
    /// The certificate's serial number, hex.
    pub serial: String,
    /// The certificate was on the list before.
    pub already: bool,
}

impl Authority {
    /// This CA's CRL listing `revoked`, numbered `number` (a rewrite must
    /// carry a higher number: the services refuse to go back to an older
    /// list), PEM. Development lists are current until the end of 2099.
    pub fn crl(&self, revoked: &[Revoked], number: u64) -> Result<String, PkiError> {
        let params = CertificateRevocationListParams {
            this_update: OffsetDateTime::now_utc(),
            next_update: date_time_ymd(2099, 12, 31),
            crl_number: SerialNumber::from_slice(minimal(&number.to_be_bytes())),
            issuing_distribution_point: None,
            revoked_certs: revoked
                .iter()
                .map(|r| RevokedCertParams {
                    serial_number: SerialNumber::from_slice(&r.serial),
                    revocation_time: r.at,
                    reason_code: None,
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        Ok(params.signed_by(&self.issuer)?.pem()?)
    }
}

/// The serial number of the certificate `cert_pem` (big-endian, no
/// leading zeros).
pub fn serial_of(cert_pem: &str) -> Result<Vec<u8>, PkiError> {
    let der = pem_contents(cert_pem.as_bytes(), Path::new("certificate"))?;
    let (_, cert) = X509Certificate::from_der(&der).map_err(|e| invalid("certificate", e))?;
    Ok(cert.serial.to_bytes_be())
}

/// Adds the certificate `cert_pem` to the CRL of the CA (of `dirs`) that
/// issued it, and rewrites that CRL whole with the next number.
pub fn revoke(dirs: &PkiDirs, cert_pem: &str) -> Result<Revocation, PkiError> {
    let der = pem_contents(cert_pem.as_bytes(), Path::new("certificate"))?;
    let (_, cert) = X509Certificate::from_der(&der).map_err(|e| invalid("certificate", e))?;
    let mut issuer = None;
    for ca in Ca::BOTH {
        let path = dirs.certs.join(ca.cert_file());
        let ca_der = pem_contents(read(&path)?.as_bytes(), &path)?;
        let (_, ca_cert) = X509Certificate::from_der(&ca_der).map_err(|e| invalid(&path, e))?;
        if cert.issuer().as_raw() == ca_cert.subject().as_raw()
            && cert.verify_signature(Some(ca_cert.public_key())).is_ok()
        {
            issuer = Some(ca);
        }
    }
    let ca = issuer.ok_or_else(|| PkiError::Invalid {
        path: dirs.certs.clone(),
        problem: "the certificate was issued by neither of this directory's CAs".into(),
    })?;
    let serial = cert.serial.to_bytes_be();
    let crl = dirs.certs.join(ca.crl_file());
    let (number, mut revoked) = if crl.exists() {
        listed(&crl)?
    } else {
        (0, Vec::new())
    };
    let hex = serial.iter().map(|b| format!("{b:02x}")).collect();
    if revoked.iter().any(|r| r.serial == serial) {
        return Ok(Revocation {
            ca,
            crl,
            serial: hex,
            already: true,
        });
    }
    revoked.push(Revoked {
        serial,
        at: OffsetDateTime::now_utc(),
    });
    let pem = Authority::load(dirs, ca)?.crl(&revoked, number + 1)?;
    write(&crl, &pem, false)?;
    Ok(Revocation {
        ca,
        crl,
        serial: hex,
        already: false,
    })
}

/// The number and entries of the CRL at `path`.
fn listed(path: &Path) -> Result<(u64, Vec<Revoked>), PkiError> {
    let der = pem_contents(read(path)?.as_bytes(), path)?;
    let (_, crl) = CertificateRevocationList::from_der(&der).map_err(|e| invalid(path, e))?;
    let number = crl
        .crl_number()
        .and_then(|n| u64::try_from(n.clone()).ok())
        .unwrap_or(0);
    let revoked = crl
        .iter_revoked_certificates()
        .map(|entry| Revoked {
            serial: entry.user_certificate.to_bytes_be(),
            at: OffsetDateTime::from_unix_timestamp(entry.revocation_date.timestamp())
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        })
        .collect();
    Ok((number, revoked))
}

fn pem_contents(bytes: &[u8], path: &Path) -> Result<Vec<u8>, PkiError> {
    Pem::iter_from_buffer(bytes)
        .next()
        .and_then(Result::ok)
        .map(|pem| pem.contents)
        .ok_or_else(|| PkiError::Invalid {
            path: path.to_owned(),
            problem: "is not PEM".into(),
        })
}

fn invalid(path: impl AsRef<Path>, e: impl std::fmt::Display) -> PkiError {
    PkiError::Invalid {
        path: path.as_ref().to_owned(),
        problem: e.to_string(),
    }
}

/// `bytes` without leading zero bytes (at least one byte).
fn minimal(bytes: &[u8]) -> &[u8] {
    let first = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len() - 1);
    &bytes[first..]
}

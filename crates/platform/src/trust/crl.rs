//! Revocation lists (CRLs), one per CA, reloaded without a restart.
//!
//! Each list's file is read every `tls_crl_reload_ms` (default 2 s); when
//! its contents changed (a SHA-256 of the bytes, so no change of
//! modification time is missed) it is parsed (PEM or DER), its issuer
//! compared with the CA, its signature verified with the CA's key, and its
//! CRL number compared with the list in force. A good
//! list replaces the one in force at once, so a revocation takes effect at
//! most `tls_crl_reload_ms` (plus the read) after the file is rewritten.
//! Write the file whole (a new file renamed over it), as `socsec certs
//! revoke` does.
//!
//! A list that cannot be read, parsed or verified, or that is older than
//! the one in force (a lower CRL number, or the same number issued
//! earlier), is **not taken: the last good list stays in force**, so a
//! broken, truncated or replayed file never undoes a revocation, and
//! partners are not all locked out by a botched copy. A warning naming the
//! CA, the file and the problem (never a caller) is logged each time the
//! file changes while it is bad. At start there is no last good list: a bad
//! one stops the service.
//!
//! A list past its `nextUpdate` no longer says what its CA has revoked:
//! every certificate of that CA is then refused `UNAVAILABLE` /
//! `REVOCATION_LIST_EXPIRED` until a current list is in place (fail
//! closed; logged as an error once).

use std::{
    collections::HashSet,
    fs,
    path::PathBuf,
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicBool, Ordering},
    },
    time::{SystemTime, UNIX_EPOCH},
};

use sha2::{Digest, Sha256};
use tonic::{Code, Status};
use x509_parser::{
    num_bigint::BigUint, prelude::FromDer, revocation_list::CertificateRevocationList,
    x509::SubjectPublicKeyInfo,
};

use super::{Ca, first_pem};
use crate::error;

/// A verified revocation list.
#[derive(Debug, PartialEq)]
struct Crl {
    number: Option<BigUint>,
    this_update: i64,
    next_update: Option<i64>,
    /// Serial numbers, big-endian without leading zeros.
    revoked: HashSet<Vec<u8>>,
}

/// What was last read from a list's file.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seen {
    Contents([u8; 32]),
    Unreadable(String),
}

impl Seen {
    fn of(read: &Result<Vec<u8>, String>) -> Self {
        match read {
            Ok(bytes) => Seen::Contents(Sha256::digest(bytes).into()),
            Err(problem) => Seen::Unreadable(problem.clone()),
        }
    }
}

/// A CA's list in force, and its file.
pub(super) struct CrlSlot {
    ca: Ca,
    path: PathBuf,
    in_force: RwLock<Arc<Crl>>,
    seen: Mutex<Seen>,
    expiry_logged: AtomicBool,
}

impl CrlSlot {
    /// Reads and verifies the list at `path` for the CA with `subject` and
    /// `public_key` (DER); any problem is an error (at start, nothing can
    /// stay in force instead).
    pub(super) fn load(
        ca: Ca,
        path: PathBuf,
        subject: &[u8],
        public_key: &[u8],
    ) -> Result<Self, String> {
        let read = fs::read(&path).map_err(|e| format!("cannot be read: {e}"));
        let seen = Seen::of(&read);
        let crl = parse(&read?, subject, public_key)?;
        tracing::info!(
            ca = ca.as_str(),
            path = %path.display(),
            revoked = crl.revoked.len(),
            number = %shown(&crl.number),
            "revocation list in force"
        );
        Ok(Self {
            ca,
            path,
            in_force: RwLock::new(Arc::new(crl)),
            seen: Mutex::new(seen),
            expiry_logged: AtomicBool::new(false),
        })
    }

    /// Refuses the certificate with `serial` if the list in force names it,
    /// or every certificate if the list has expired.
    pub(super) fn check(&self, serial: &[u8]) -> Result<(), Status> {
        let crl = self.in_force.read().expect("revocation list lock").clone();
        if crl.next_update.is_some_and(|next| next < now()) {
            return Err(error::status(
                Code::Unavailable,
                "REVOCATION_LIST_EXPIRED",
                format!(
                    "{}'s revocation list is past its next update, so its certificates \
                     cannot be checked; retry later",
                    self.ca.describe()
                ),
            ));
        }
        if crl.revoked.contains(serial) {
            return Err(error::status(
                Code::Unauthenticated,
                "CERTIFICATE_REVOKED",
                format!(
                    "the client certificate has been revoked by {}",
                    self.ca.describe()
                ),
            ));
        }
        Ok(())
    }

    /// Takes the file's new contents if they changed and are good (see the
    /// module); logs what it did.
    pub(super) fn reload_if_changed(&self, subject: &[u8], public_key: &[u8]) {
        self.log_expiry();
        let read = fs::read(&self.path).map_err(|e| format!("cannot be read: {e}"));
        {
            let now_seen = Seen::of(&read);
            let mut seen = self.seen.lock().expect("revocation file lock");
            if *seen == now_seen {
                return;
            }
            *seen = now_seen;
        }
        let taken = read
            .and_then(|bytes| parse(&bytes, subject, public_key))
            .and_then(|crl| self.replace(crl));
        match taken {
            Ok(Some(crl)) => {
                self.expiry_logged.store(false, Ordering::Relaxed);
                tracing::info!(
                    ca = self.ca.as_str(),
                    path = %self.path.display(),
                    revoked = crl.revoked.len(),
                    number = %shown(&crl.number),
                    "revocation list reloaded"
                );
            }
            Ok(None) => {}
            Err(problem) => tracing::warn!(
                ca = self.ca.as_str(),
                path = %self.path.display(),
                %problem,
                "revocation list not taken; the last good one stays in force"
            ),
        }
    }

    /// Puts `crl` in force unless it is older than the list in force;
    /// `None` when it is the same list.
    fn replace(&self, crl: Crl) -> Result<Option<Arc<Crl>>, String> {
        let mut in_force = self.in_force.write().expect("revocation list lock");
        if **in_force == crl {
            return Ok(None);
        }
        let older = match (&crl.number, &in_force.number) {
            (Some(new), Some(old)) if new != old => new < old,
            (None, Some(_)) => true,
            _ => crl.this_update < in_force.this_update,
        };
        if older {
            return Err(format!(
                "is older than the list in force (number {:?}, issued at {}; in force: number \
                 {:?}, issued at {})",
                crl.number, crl.this_update, in_force.number, in_force.this_update
            ));
        }
        *in_force = Arc::new(crl);
        Ok(Some(in_force.clone()))
    }

    fn log_expiry(&self) {
        let next = self
            .in_force
            .read()
            .expect("revocation list lock")
            .next_update;
        if next.is_some_and(|next| next < now())
            && !self.expiry_logged.swap(true, Ordering::Relaxed)
        {
            tracing::error!(
                ca = self.ca.as_str(),
                path = %self.path.display(),
                "revocation list past its next update; refusing every certificate of this CA \
                 until a current list is in place"
            );
        }
    }
}

/// The list in `bytes` (PEM or DER), if it is a CRL issued and signed by
/// the CA with `subject` and `public_key` (DER).
fn parse(bytes: &[u8], subject: &[u8], public_key: &[u8]) -> Result<Crl, String> {
    let der = if bytes.starts_with(b"-----BEGIN") {
        first_pem(bytes).ok_or("holds no readable PEM block")?
    } else {
        bytes.to_vec()
    };
    let (_, crl) = CertificateRevocationList::from_der(&der)
        .map_err(|e| format!("is not a revocation list: {e}"))?;
    if crl.issuer().as_raw() != subject {
        return Err("was issued by another CA (its issuer is not this CA's name)".into());
    }
    let (_, key) = SubjectPublicKeyInfo::from_der(public_key)
        .map_err(|e| format!("the CA's public key cannot be read: {e}"))?;
    crl.verify_signature(&key)
        .map_err(|_| "its signature does not verify with this CA's key".to_owned())?;
    Ok(Crl {
        number: crl.crl_number().cloned(),
        this_update: crl.last_update().timestamp(),
        next_update: crl.next_update().map(|t| t.timestamp()),
        revoked: crl
            .iter_revoked_certificates()
            .map(|entry| entry.user_certificate.to_bytes_be())
            .collect(),
    })
}

/// A CRL number for logs.
fn shown(number: &Option<BigUint>) -> String {
    number
        .as_ref()
        .map_or_else(|| "none".to_owned(), ToString::to_string)
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

//! The fingerprint a retry of a request id must match.
//!
//! Without secrets it is the SHA-256 of the request's encoded proto, as it
//! always was. Secret fields (PINs, passwords) are cleared from that proto
//! and given to the pipeline apart ([`Secrets`], via
//! `Mutation::with_secrets`): the fingerprint is then an HMAC-SHA256 of the
//! proto and the secrets under a key derived from the session token keys.
//! So a request id reused with another PIN is refused as a reuse, and the
//! idempotency table holds nothing from which a PIN can be found without
//! that key. A plain hash would not do: all million 6-digit PINs can be
//! hashed in well under a second, so a copy of the table (a backup, a
//! replica) would give every PIN away. The key is derived from the session
//! token keys rather than configured apart because every service that takes
//! PINs or passwords already holds them, outside the database, rotated with
//! care; a derived key (HMAC of a purpose string) reveals nothing of them.

use std::sync::Arc;

use hmac::{Hmac, Mac};
use prost::Message;
use sha2::{Digest, Sha256};

use crate::idempotency::IdempotencyError;

/// The keys secret fields are fingerprinted with: derived from the
/// session token keys (purpose `socsec/idempotency-secrets/v1`), the
/// signing key's first. Every key still listed is tried when a retry is
/// matched, so rotating the session keys does not turn a retry into a reuse.
#[derive(Clone, Default)]
pub struct FingerprintKeys(Arc<[[u8; 32]]>);

impl FingerprintKeys {
    const PURPOSE: &str = "socsec/idempotency-secrets/v1";

    /// Keys derived from `session`; none without session keys (then a
    /// request with secrets is refused as INTERNAL: fail closed).
    pub fn from_session_keys(session: Option<&crate::session::SessionKeys>) -> Self {
        Self(
            session
                .map(|keys| keys.derive(Self::PURPOSE))
                .unwrap_or_default()
                .into(),
        )
    }
}

impl std::fmt::Debug for FingerprintKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FingerprintKeys({} keys)", self.0.len())
    }
}

/// A request's secret fields (cleared from the proto it is fingerprinted
/// by), with the keys their digest is keyed with.
#[derive(Clone, Copy)]
pub struct Secrets<'a> {
    pub keys: &'a FingerprintKeys,
    pub values: &'a [&'a [u8]],
}

impl std::fmt::Debug for Secrets<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets(<{} masked>)", self.values.len())
    }
}

/// The hashes a retry may match, the one to store first: the SHA-256 of the
/// request; with secrets, an HMAC of the request and the secrets (each
/// length-prefixed) per fingerprint key.
pub(crate) fn fingerprints(
    request: &impl Message,
    secrets: Option<Secrets<'_>>,
) -> Result<Vec<Vec<u8>>, IdempotencyError> {
    let encoded = request.encode_to_vec();
    let Some(secrets) = secrets else {
        return Ok(vec![Sha256::digest(encoded).to_vec()]);
    };
    if secrets.keys.0.is_empty() {
        return Err(IdempotencyError::NoFingerprintKey);
    }
    Ok(secrets
        .keys
        .0
        .iter()
        .map(|key| {
            let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
            for part in std::iter::once(encoded.as_slice()).chain(secrets.values.iter().copied()) {
                mac.update(&(part.len() as u64).to_be_bytes());
                mac.update(part);
            }
            mac.finalize().into_bytes().to_vec()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> FingerprintKeys {
        FingerprintKeys::from_session_keys(Some(&crate::session::SessionKeys::new(secret)))
    }

    fn hashes(keys: &FingerprintKeys, pin: &str) -> Vec<Vec<u8>> {
        let values: &[&[u8]] = &[pin.as_bytes()];
        let secrets = Secrets { keys, values };
        fingerprints(&"card".to_owned(), Some(secrets)).unwrap()
    }

    #[test]
    fn secrets_change_the_fingerprint_only_under_the_deployment_key() {
        let ours = keys(&"k".repeat(32));
        assert_eq!(hashes(&ours, "135790"), hashes(&ours, "135790"));
        assert_ne!(hashes(&ours, "135790"), hashes(&ours, "135791"));
        // Another deployment's key gives other digests: the stored one
        // cannot be recomputed (PINs guessed) without the key.
        assert_ne!(
            hashes(&keys(&"o".repeat(32)), "135790"),
            hashes(&ours, "135790")
        );
        // Without secrets the fingerprint is the plain hash it always was.
        let plain = fingerprints(&"card".to_owned(), None).unwrap();
        assert_eq!(
            plain,
            vec![Sha256::digest("card".to_owned().encode_to_vec()).to_vec()]
        );
        let none = FingerprintKeys::default();
        let values: &[&[u8]] = &[b"135790"];
        let secrets = Secrets {
            keys: &none,
            values,
        };
        assert!(matches!(
            fingerprints(&"card".to_owned(), Some(secrets)),
            Err(IdempotencyError::NoFingerprintKey)
        ));
    }

    #[test]
    fn a_retry_matches_under_a_rotated_session_key_still_listed() {
        let (old, new) = ("o".repeat(32), "n".repeat(32));
        let before = FingerprintKeys::from_session_keys(Some(
            &crate::session::SessionKeys::rotating([("k1", old.as_str())], Some("k1")),
        ));
        let after =
            FingerprintKeys::from_session_keys(Some(&crate::session::SessionKeys::rotating(
                [("k1", old.as_str()), ("k2", new.as_str())],
                Some("k2"),
            )));
        let stored = &hashes(&before, "135790")[0];
        assert!(hashes(&after, "135790").contains(stored));
        assert!(!hashes(&after, "135791").contains(stored));
    }
}

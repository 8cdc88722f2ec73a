//! HMAC-SHA256 keys by key id, for tokens a service signs and checks
//! itself: `<prefix>.<key id>.<body>.<signature>`, the signature (base64url,
//! no padding) taken over `<prefix>.<key id>.<body>` with the key the key id
//! names. Persons' session tokens (`session`) and card-issuance's e-card
//! tokens are two such formats.
//!
//! Keys rotate without refusing tokens in flight: one key signs, every key
//! still listed verifies. Add the new key everywhere, make it the signing
//! key, and remove the old one once the longest token it signed has expired.

use std::collections::BTreeMap;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// A token is not of this format, or not signed by a listed key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a token signed by a key of this system")]
pub struct Forged;

/// The keys tokens are checked with, and the one that signs. `Debug` shows
/// the key ids only.
#[derive(Clone, Default)]
pub struct KeyRing {
    keys: BTreeMap<String, Vec<u8>>,
    signing: Option<String>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("key_ids", &self.keys.keys().collect::<Vec<_>>())
            .field("signing", &self.signing)
            .finish()
    }
}

impl KeyRing {
    /// Keys by id; `signing` signs if it is one of them (else nothing signs).
    pub fn new<'a, K>(
        keys: impl IntoIterator<Item = (&'a str, &'a K)>,
        signing: Option<&str>,
    ) -> Self
    where
        K: AsRef<[u8]> + ?Sized + 'a,
    {
        let keys: BTreeMap<String, Vec<u8>> = keys
            .into_iter()
            .map(|(id, secret)| (id.to_owned(), secret.as_ref().to_vec()))
            .collect();
        Self {
            signing: signing
                .filter(|id| keys.contains_key(*id))
                .map(str::to_owned),
            keys,
        }
    }

    /// The key id new tokens are signed with, if any.
    pub fn signing_key(&self) -> Option<&str> {
        self.signing.as_deref()
    }

    fn mac(secret: &[u8], signed: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
        mac.update(signed.as_bytes());
        mac
    }

    /// `<prefix>.<signing key id>.<body>.<signature>`; `None` without a
    /// signing key.
    pub fn sign(&self, prefix: &str, body: &str) -> Option<String> {
        let kid = self.signing.as_deref()?;
        let signed = format!("{prefix}.{kid}.{body}");
        let signature = Self::mac(&self.keys[kid], &signed).finalize().into_bytes();
        Some(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }

    /// The body of `token` if it has `prefix` and is signed by the listed
    /// key its key id names. Nothing of the body is trusted before this.
    pub fn verify<'t>(&self, prefix: &str, token: &'t str) -> Result<&'t str, Forged> {
        let (signed, signature) = token.rsplit_once('.').ok_or(Forged)?;
        let rest = signed
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('.'))
            .ok_or(Forged)?;
        let (kid, body) = rest.split_once('.').ok_or(Forged)?;
        let secret = self.keys.get(kid).ok_or(Forged)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| Forged)?;
        Self::mac(secret, signed)
            .verify_slice(&signature)
            .map_err(|_| Forged)?;
        Ok(body)
    }

    /// A key for `purpose` derived from each listed key (HMAC-SHA256 of the
    /// purpose under it), the signing key's first: keys for another use
    /// that rotate with these and reveal nothing of them.
    pub fn derive(&self, purpose: &str) -> Vec<[u8; 32]> {
        let signing = self.signing.as_deref();
        let ordered = signing
            .and_then(|kid| self.keys.get_key_value(kid))
            .into_iter()
            .chain(
                self.keys
                    .iter()
                    .filter(|(id, _)| Some(id.as_str()) != signing),
            );
        ordered
            .map(|(_, secret)| Self::mac(secret, purpose).finalize().into_bytes().into())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(signing: &str) -> KeyRing {
        KeyRing::new([("a", "first-key"), ("b", "second-key")], Some(signing))
    }

    #[test]
    fn a_token_verifies_under_any_listed_key_and_only_with_its_prefix() {
        let token = ring("a").sign("t1", "x.y").unwrap();
        assert!(token.starts_with("t1.a.x.y."));
        assert_eq!(ring("b").verify("t1", &token), Ok("x.y"));
        assert_eq!(ring("a").verify("t2", &token), Err(Forged));
        assert_eq!(ring("a").verify("t", &token), Err(Forged));
        let only_b = KeyRing::new([("b", "second-key")], Some("b"));
        assert_eq!(only_b.verify("t1", &token), Err(Forged));
        assert_eq!(KeyRing::default().sign("t1", "x"), None);
    }

    #[test]
    fn a_changed_body_or_swapped_key_id_is_forged() {
        let token = ring("a").sign("t1", "body").unwrap();
        let changed = token.replacen(".body.", ".bodx.", 1);
        assert_eq!(ring("a").verify("t1", &changed), Err(Forged));
        let swapped = token.replacen("t1.a.", "t1.b.", 1);
        assert_eq!(ring("a").verify("t1", &swapped), Err(Forged));
        assert_eq!(ring("a").verify("t1", "garbage"), Err(Forged));
    }

    #[test]
    fn derived_keys_put_the_signing_key_first_and_differ_by_purpose() {
        let (by_a, by_b) = (ring("a").derive("p"), ring("b").derive("p"));
        assert_eq!(by_a.len(), 2);
        assert_eq!((by_a[0], by_a[1]), (by_b[1], by_b[0]));
        assert_ne!(ring("a").derive("q")[0], by_a[0]);
    }
}

//! The electronic social security card: who may have one, and its QR
//! tokens. No I/O.
//!
//! A token is `ecard1.<key id>.<payload>.<signature>`: the payload
//! (base64url) is the opaque e-card id (16 bytes), a random nonce (16
//! bytes) and the expiry (unix seconds, 8 bytes big-endian); the signature
//! is HMAC-SHA256 over `ecard1.<key id>.<payload>` under the key the key id
//! names. Nothing in it is personal data: the e-card id is a random UUID
//! that only card-issuance can tie to a card. Signature and expiry are
//! checked with the key alone (no database); whether the card is in force
//! and whether the token was used is card-issuance's word at presentation.
//!
//! Keys rotate like session keys: add the new key to `ecard_token_keys`,
//! make it `ecard_token_signing_key`, remove the old one a minute later
//! (a token lives `ecard_token_ttl_secs`).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use platform::signing::KeyRing;
use uuid::Uuid;

use super::CardStatus;

const PREFIX: &str = "ecard1";

/// The first card generation that has an electronic card.
pub const FIRST_ECARD_GENERATION: i16 = 3;

/// Why a card cannot have an e-card.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EcardRefused {
    /// `ECARD_CARD_NOT_ELIGIBLE`.
    #[error("only a received card of the third generation or later has an electronic card")]
    CardNotEligible,
}

/// A card may have an e-card once received, if of the third generation or
/// later.
pub fn may_have_ecard(status: CardStatus, generation: i16) -> Result<(), EcardRefused> {
    if status == CardStatus::Received && generation >= FIRST_ECARD_GENERATION {
        Ok(())
    } else {
        Err(EcardRefused::CardNotEligible)
    }
}

/// An e-card works while its card is received (not lost, replaced or
/// cancelled).
pub fn in_force(card_status: CardStatus) -> bool {
    card_status == CardStatus::Received
}

/// What a genuine token says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenClaims {
    pub ecard_id: Uuid,
    /// What makes the token single-use: the use is recorded under it.
    pub nonce: Uuid,
    pub expires_at: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("not an e-card token signed by this system")]
    Invalid,
    #[error("the e-card token has expired")]
    Expired,
}

/// The keys e-card tokens are checked with, and the one that signs.
#[derive(Clone, Debug, Default)]
pub struct TokenKeys {
    keys: KeyRing,
    ttl: Duration,
}

impl TokenKeys {
    /// Keys by id; `signing` (one of them) signs; tokens live `ttl`.
    pub fn new<'a>(
        keys: impl IntoIterator<Item = (&'a str, &'a [u8])>,
        signing: Option<&str>,
        ttl: Duration,
    ) -> Self {
        Self {
            keys: KeyRing::new(keys, signing),
            ttl,
        }
    }

    /// The key id new tokens are signed with, if any.
    pub fn signing_key(&self) -> Option<&str> {
        self.keys.signing_key()
    }

    /// A new token for `ecard_id`, valid from `now` for the configured
    /// lifetime; `None` without a signing key.
    pub fn issue(&self, ecard_id: Uuid, now: DateTime<Utc>) -> Option<(String, TokenClaims)> {
        self.signing_key()?;
        // Whole seconds, as the token carries it.
        let expires_at = DateTime::from_timestamp((now + self.ttl).timestamp(), 0)?;
        let claims = TokenClaims {
            ecard_id,
            nonce: Uuid::new_v4(),
            expires_at,
        };
        let mut payload = Vec::with_capacity(40);
        payload.extend_from_slice(claims.ecard_id.as_bytes());
        payload.extend_from_slice(claims.nonce.as_bytes());
        payload.extend_from_slice(&claims.expires_at.timestamp().to_be_bytes());
        let token = self.keys.sign(PREFIX, &URL_SAFE_NO_PAD.encode(payload))?;
        Some((token, claims))
    }

    /// The claims of a genuine token (signed under a listed key) that has
    /// not expired at `now`. A forged token is `Invalid` whatever else is
    /// wrong with it; its expiry is read only once the signature holds.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<TokenClaims, TokenError> {
        let payload = self
            .keys
            .verify(PREFIX, token)
            .map_err(|_| TokenError::Invalid)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Invalid)?;
        let (Ok(ecard), Ok(nonce), Ok(expiry)) = (
            <[u8; 16]>::try_from(payload.get(0..16).unwrap_or_default()),
            <[u8; 16]>::try_from(payload.get(16..32).unwrap_or_default()),
            <[u8; 8]>::try_from(payload.get(32..).unwrap_or_default()),
        ) else {
            return Err(TokenError::Invalid);
        };
        let expires_at =
            DateTime::from_timestamp(i64::from_be_bytes(expiry), 0).ok_or(TokenError::Invalid)?;
        if now >= expires_at {
            return Err(TokenError::Expired);
        }
        Ok(TokenClaims {
            ecard_id: Uuid::from_bytes(ecard),
            nonce: Uuid::from_bytes(nonce),
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(signing: &str) -> TokenKeys {
        TokenKeys::new(
            [
                ("k1", b"first-key".as_slice()),
                ("k2", b"second-key".as_slice()),
            ],
            Some(signing),
            Duration::seconds(60),
        )
    }

    #[test]
    fn a_token_holds_no_card_and_verifies_until_it_expires() {
        let now = Utc::now();
        let ecard = Uuid::new_v4();
        let (token, claims) = keys("k1").issue(ecard, now).unwrap();
        assert!(token.starts_with("ecard1.k1."));
        assert_eq!(keys("k2").verify(&token, now), Ok(claims));
        assert_eq!(claims.ecard_id, ecard);
        let later = now + Duration::seconds(61);
        assert_eq!(keys("k1").verify(&token, later), Err(TokenError::Expired));
    }

    #[test]
    fn a_token_of_the_published_format_verifies() {
        // Computed outside this code (Python's hmac) for e-card id 0x11…,
        // nonce 0x22…, expiry 1798000000.
        const TOKEN: &str = "ecard1.k1.ERERERERERERERERERERESIiIiIiIiIiIiIiIiIiIiIAAAAAaytNgA.\
                             b_wR4eNMPeck5djkdmMx2q2SrsuyXCiuTpGGJ06NHE0";
        let expiry = DateTime::from_timestamp(1_798_000_000, 0).unwrap();
        let claims = keys("k2").verify(TOKEN, expiry - Duration::seconds(1));
        assert_eq!(
            claims,
            Ok(TokenClaims {
                ecard_id: Uuid::from_bytes([0x11; 16]),
                nonce: Uuid::from_bytes([0x22; 16]),
                expires_at: expiry,
            })
        );
    }

    #[test]
    fn a_changed_or_unknown_keyed_token_is_invalid() {
        let now = Utc::now();
        let (token, _) = keys("k1").issue(Uuid::new_v4(), now).unwrap();
        let mut forged = token.clone();
        forged.replace_range(12..13, if &token[12..13] == "A" { "B" } else { "A" });
        assert_eq!(keys("k1").verify(&forged, now), Err(TokenError::Invalid));
        let rotated_out = TokenKeys::new(
            [("k2", b"second-key".as_slice())],
            Some("k2"),
            Duration::seconds(60),
        );
        assert_eq!(rotated_out.verify(&token, now), Err(TokenError::Invalid));
        assert_eq!(
            keys("k1").verify("ecard1.k1.x.y", now),
            Err(TokenError::Invalid)
        );
        assert_eq!(TokenKeys::default().issue(Uuid::new_v4(), now), None);
    }
}

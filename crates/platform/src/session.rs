//! Persons' session tokens: `v1.<person_id>.<expiry unix seconds>.<signature>`,
//! signed with HMAC-SHA256 under the shared `session_token_secret`, so every
//! service can check a token without calling identity.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub struct SessionKeys {
    secret: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("session token is malformed or not signed by this system")]
    Invalid,
    #[error("session token has expired; sign in again")]
    Expired,
}

impl SessionKeys {
    pub fn new(secret: &str) -> Self {
        Self {
            secret: secret.as_bytes().to_vec(),
        }
    }

    fn mac(&self, claims: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.secret).expect("HMAC takes any key length");
        mac.update(claims.as_bytes());
        mac
    }

    pub fn issue(&self, person_id: &str, expires_at: DateTime<Utc>) -> String {
        let claims = format!("v1.{person_id}.{}", expires_at.timestamp());
        let signature = URL_SAFE_NO_PAD.encode(self.mac(&claims).finalize().into_bytes());
        format!("{claims}.{signature}")
    }

    /// The person id the token was issued to, if it is genuine and unexpired.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<String, SessionError> {
        let (claims, signature) = token.rsplit_once('.').ok_or(SessionError::Invalid)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| SessionError::Invalid)?;
        self.mac(claims)
            .verify_slice(&signature)
            .map_err(|_| SessionError::Invalid)?;
        let mut parts = claims.split('.');
        let (Some("v1"), Some(person_id), Some(expiry), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(SessionError::Invalid);
        };
        let expiry: i64 = expiry.parse().map_err(|_| SessionError::Invalid)?;
        if now.timestamp() >= expiry {
            return Err(SessionError::Expired);
        }
        Ok(person_id.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn a_token_verifies_until_it_expires() {
        let keys = SessionKeys::new(&"k".repeat(32));
        let now = Utc::now();
        let token = keys.issue("p-1", now + Duration::minutes(15));
        assert_eq!(keys.verify(&token, now).unwrap(), "p-1");
        assert_eq!(
            keys.verify(&token, now + Duration::minutes(15)),
            Err(SessionError::Expired)
        );
    }

    #[test]
    fn a_tampered_or_foreign_token_is_refused() {
        let keys = SessionKeys::new(&"k".repeat(32));
        let other = SessionKeys::new(&"o".repeat(32));
        let now = Utc::now();
        let token = keys.issue("p-1", now + Duration::minutes(15));
        assert_eq!(other.verify(&token, now), Err(SessionError::Invalid));
        let forged = token.replace("p-1", "p-2");
        assert_eq!(keys.verify(&forged, now), Err(SessionError::Invalid));
        assert_eq!(keys.verify("garbage", now), Err(SessionError::Invalid));
    }
}

//! Persons' session tokens:
//! `v2.<key id>.<session id>.<person id>.<expiry unix seconds>.<signature>`,
//! signed with HMAC-SHA256 under the key the key id names, so every service
//! can check a token's signature and expiry without calling identity.
//!
//! Keys rotate without logging anyone out: identity signs with one key (the
//! signing key), every service verifies with every key still listed. Add the
//! new key everywhere, then make it the signing key, then, once the longest
//! session has passed, remove the old one: tokens it signed are refused from
//! then on (`CREDENTIAL_INVALID`).
//!
//! Whether a session is still live (not signed out, not revoked) is
//! identity's word: the session id is what the auth layer asks about
//! (`auth::PartnerRegistry::ensure_session_live`).

use chrono::{DateTime, Utc};

use crate::signing::KeyRing;

/// The key id of `session_token_secret`, the single-key configuration.
pub const DEFAULT_KEY_ID: &str = "default";

/// The format's prefix: `v2.<key id>.<session id>.<person id>.<expiry>.<sig>`.
const PREFIX: &str = "v2";

/// The keys a service checks session tokens with, and the one identity signs with.
#[derive(Clone, Debug)]
pub struct SessionKeys(KeyRing);

/// A genuine, unexpired token's claims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionClaims {
    pub person_id: String,
    /// Identity's session record; sign-out and revocation end it.
    pub session_id: String,
}

/// The session a call's token belongs to, put in the request's extensions by
/// the auth layer beside the `Caller` (so `SignOut` knows which to end).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionId(pub String);

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("session token is malformed or not signed by a key of this system")]
    Invalid,
    #[error("session token has expired; sign in again")]
    Expired,
}

/// Whether `id` can name a key: 1 to 32 of `A-Z a-z 0-9 _ -`.
pub fn is_valid_key_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl SessionKeys {
    /// One key (`session_token_secret`), id [`DEFAULT_KEY_ID`], signing too.
    pub fn new(secret: &str) -> Self {
        Self::rotating([(DEFAULT_KEY_ID, secret)], Some(DEFAULT_KEY_ID))
    }

    /// Several verification keys by id; `signing` (one of them) signs.
    pub fn rotating<'a>(
        keys: impl IntoIterator<Item = (&'a str, &'a str)>,
        signing: Option<&str>,
    ) -> Self {
        Self(KeyRing::new(keys, signing))
    }

    /// Whether tokens can be issued (a signing key is configured).
    pub fn can_sign(&self) -> bool {
        self.0.signing_key().is_some()
    }

    /// A token for `session_id` of `person_id`, signed with the signing key.
    /// Panics without one: services that issue tokens refuse to start
    /// without a signing key.
    pub fn issue(&self, person_id: &str, session_id: &str, expires_at: DateTime<Utc>) -> String {
        let body = format!("{session_id}.{person_id}.{}", expires_at.timestamp());
        self.0
            .sign(PREFIX, &body)
            .expect("a signing key is configured")
    }

    /// The token's claims, if it is genuine (signed by a listed key) and unexpired.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<SessionClaims, SessionError> {
        let body = self
            .0
            .verify(PREFIX, token)
            .map_err(|_| SessionError::Invalid)?;
        let mut parts = body.split('.');
        let (Some(session_id), Some(person_id), Some(expiry), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(SessionError::Invalid);
        };
        let expiry: i64 = expiry.parse().map_err(|_| SessionError::Invalid)?;
        if now.timestamp() >= expiry {
            return Err(SessionError::Expired);
        }
        Ok(SessionClaims {
            person_id: person_id.to_owned(),
            session_id: session_id.to_owned(),
        })
    }

    /// Keys for `purpose` derived from the session keys (the signing key's
    /// first), for secrets every service holding these keys may use.
    pub fn derive(&self, purpose: &str) -> Vec<[u8; 32]> {
        self.0.derive(purpose)
    }
}

/// The claims of `token`, or `UNAUTHENTICATED` with `CREDENTIAL_INVALID` /
/// `SESSION_EXPIRED`.
pub fn claims(
    keys: &SessionKeys,
    token: &str,
    now: DateTime<Utc>,
) -> Result<SessionClaims, tonic::Status> {
    keys.verify(token, now).map_err(|e| {
        let reason = match e {
            SessionError::Invalid => "CREDENTIAL_INVALID",
            SessionError::Expired => "SESSION_EXPIRED",
        };
        crate::error::status(tonic::Code::Unauthenticated, reason, e.to_string())
    })
}

/// The session of a request's `authorization: Bearer <token>`, if genuine.
pub fn of_request<B>(
    keys: &SessionKeys,
    request: &http::Request<B>,
    now: DateTime<Utc>,
) -> Option<SessionId> {
    let token = request
        .headers()
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    let claims = keys.verify(token, now).ok()?;
    Some(SessionId(claims.session_id))
}

/// `UNAVAILABLE` / `SESSION_STATUS_UNAVAILABLE`: whether the session is
/// still live cannot be asked now (identity unreachable); fail closed.
pub fn status_unavailable() -> tonic::Status {
    crate::error::status(
        tonic::Code::Unavailable,
        "SESSION_STATUS_UNAVAILABLE",
        "whether this session is still live cannot be checked now; retry",
    )
}

/// `UNAUTHENTICATED` / `SESSION_REVOKED`: the person signed out, or the
/// session was revoked (by an operator, or by a password change).
pub fn status_revoked() -> tonic::Status {
    crate::error::status(
        tonic::Code::Unauthenticated,
        "SESSION_REVOKED",
        "this session has ended (signed out or revoked); sign in again",
    )
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    const SESSION: &str = "0190a0b0-0000-7000-8000-000000000001";

    #[test]
    fn a_token_verifies_until_it_expires() {
        let keys = SessionKeys::new(&"k".repeat(32));
        let now = Utc::now();
        let token = keys.issue("p-1", SESSION, now + Duration::minutes(15));
        let claims = keys.verify(&token, now).unwrap();
        assert_eq!(
            (claims.person_id.as_str(), claims.session_id.as_str()),
            ("p-1", SESSION)
        );
        assert_eq!(
            keys.verify(&token, now + Duration::minutes(15)),
            Err(SessionError::Expired)
        );
    }

    #[test]
    fn the_wire_format_is_unchanged() {
        // Computed outside this code (Python's hmac): a token issued before
        // the key ring was shared with e-card tokens still verifies, and the
        // same claims still give the same token.
        const ISSUED: &str = "v2.default.0190a0b0-0000-7000-8000-000000000001.p-1.1798000000.\
                              y1WVIBG5hNYr_LcY41LOvp_lhVfrElcrqEIAYNdoamI";
        let keys = SessionKeys::new(&"k".repeat(32));
        let expiry = DateTime::from_timestamp(1_798_000_000, 0).unwrap();
        assert_eq!(keys.issue("p-1", SESSION, expiry), ISSUED);
        let claims = keys.verify(ISSUED, expiry - Duration::seconds(1)).unwrap();
        assert_eq!(
            (claims.person_id.as_str(), claims.session_id.as_str()),
            ("p-1", SESSION)
        );
    }

    #[test]
    fn a_tampered_or_foreign_token_is_refused() {
        let keys = SessionKeys::new(&"k".repeat(32));
        let other = SessionKeys::new(&"o".repeat(32));
        let now = Utc::now();
        let token = keys.issue("p-1", SESSION, now + Duration::minutes(15));
        assert_eq!(other.verify(&token, now), Err(SessionError::Invalid));
        let forged = token.replace("p-1", "p-2");
        assert_eq!(keys.verify(&forged, now), Err(SessionError::Invalid));
        assert_eq!(keys.verify("garbage", now), Err(SessionError::Invalid));
    }

    #[test]
    fn a_token_signed_by_an_old_key_verifies_while_that_key_is_listed() {
        let (old, new) = ("o".repeat(32), "n".repeat(32));
        let now = Utc::now();
        let before = SessionKeys::rotating([("k2025", old.as_str())], Some("k2025"));
        let token = before.issue("p-1", SESSION, now + Duration::minutes(15));

        // Rotated: the new key signs, the old one is still listed.
        let rotated = SessionKeys::rotating(
            [("k2025", old.as_str()), ("k2026", new.as_str())],
            Some("k2026"),
        );
        assert_eq!(rotated.verify(&token, now).unwrap().person_id, "p-1");
        let fresh = rotated.issue("p-2", SESSION, now + Duration::minutes(15));
        assert!(fresh.starts_with("v2.k2026."), "signed with the new key");

        // The old key removed: its tokens are refused, the new ones verify.
        let after = SessionKeys::rotating([("k2026", new.as_str())], Some("k2026"));
        assert_eq!(after.verify(&token, now), Err(SessionError::Invalid));
        assert_eq!(after.verify(&fresh, now).unwrap().person_id, "p-2");
    }

    #[test]
    fn a_key_id_cannot_be_swapped_for_another_listed_key() {
        let keys = SessionKeys::rotating(
            [
                ("a", "a".repeat(32).as_str()),
                ("b", "b".repeat(32).as_str()),
            ],
            Some("a"),
        );
        let now = Utc::now();
        let token = keys.issue("p-1", SESSION, now + Duration::minutes(15));
        let swapped = token.replacen("v2.a.", "v2.b.", 1);
        assert_eq!(keys.verify(&swapped, now), Err(SessionError::Invalid));
    }
}

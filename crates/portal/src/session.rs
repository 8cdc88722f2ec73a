//! The browser's side of a session: the cookie holding the service session
//! token (`__Host-` prefix: Secure, Path=/, no Domain; HttpOnly;
//! SameSite=Strict), a pre-session cookie for the sign-in form, and CSRF
//! tokens: every form carries HMAC(key, cookie value), checked in constant
//! time, so a form works only with the cookie it was made for.

use axum::http::HeaderMap;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub const SESSION: &str = "__Host-socsec-session";
pub const PRE_SESSION: &str = "__Host-socsec-pre";
pub const LANG: &str = "socsec-lang";

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

/// `Set-Cookie` for a secret cookie: only over HTTPS, never to scripts,
/// never on requests from other sites.
pub fn secret_cookie(name: &str, value: &str, max_age_secs: i64) -> String {
    format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}")
}

pub fn cleared(name: &str) -> String {
    secret_cookie(name, "", 0)
}

/// A random value for the pre-session cookie.
pub fn random_value() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The portal's CSRF key: random at start (a restart only invalidates open
/// forms; sessions live on in identity).
pub struct CsrfKey([u8; 32]);

impl CsrfKey {
    pub fn random() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The token a form made for the cookie value `bound_to` carries.
    pub fn token(&self, bound_to: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("any key length");
        mac.update(b"socsec-portal-csrf:");
        mac.update(bound_to.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    pub fn check(&self, bound_to: &str, presented: &str) -> bool {
        let expected = self.token(bound_to);
        expected.len() == presented.len()
            && bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
    }
}

//! The online service password: its policy and its argon2 hash.

use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng},
};
use pii::Secret;

/// A password that meets the policy: 8 to 64 characters, at least one letter
/// and one digit. Never logged (`Secret`).
#[derive(Debug)]
pub struct OnlinePassword(Secret<String>);

/// A password that does not meet the policy (`PASSWORD_TOO_WEAK`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("must be 8 to 64 characters with at least one letter and one digit")]
pub struct PasswordTooWeak;

impl PasswordTooWeak {
    pub fn reason(&self) -> &'static str {
        "PASSWORD_TOO_WEAK"
    }
}

impl OnlinePassword {
    pub fn parse(value: &str) -> Result<Self, PasswordTooWeak> {
        let length = value.chars().count();
        let valid = (8..=64).contains(&length)
            && value.chars().any(char::is_alphabetic)
            && value.chars().any(|c| c.is_ascii_digit());
        if valid {
            Ok(Self(Secret::new(value.to_owned())))
        } else {
            Err(PasswordTooWeak)
        }
    }

    /// An argon2id PHC string. CPU-heavy: call from a blocking task, and
    /// never while holding a database connection.
    pub fn hash(&self) -> String {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(self.0.expose().as_bytes(), &salt)
            .expect("argon2 with default parameters hashes any input")
            .to_string()
    }
}

/// Whether `password` matches the stored `hash`. CPU-heavy: call from a
/// blocking task, and never while holding a database connection.
pub fn verify(password: &Secret<String>, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.expose().as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ_by_salt() {
        let password = OnlinePassword::parse("correct horse 1").unwrap();
        let (a, b) = (password.hash(), password.hash());
        assert_ne!(a, b);
        assert!(a.starts_with("$argon2id$"));
        assert!(verify(&Secret::new("correct horse 1".into()), &a));
        assert!(!verify(&Secret::new("wrong horse 1".into()), &a));
    }

    #[test]
    fn weak_passwords_are_refused() {
        for weak in ["short1", "onlyletters", "12345678901"] {
            assert!(OnlinePassword::parse(weak).is_err(), "{weak}");
        }
    }
}

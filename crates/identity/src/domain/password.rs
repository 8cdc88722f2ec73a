//! The online service password: its policy and its argon2 hash.

use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng},
};
use pii::Secret;
use platform::error::FieldViolations;

/// A password that meets the policy: 8 to 64 characters, at least one letter
/// and one digit. Never logged (`Secret`).
#[derive(Debug)]
pub struct OnlinePassword(Secret<String>);

impl OnlinePassword {
    pub fn parse(violations: &mut FieldViolations, value: &str) -> Option<Self> {
        let length = value.chars().count();
        let valid = (8..=64).contains(&length)
            && value.chars().any(char::is_alphabetic)
            && value.chars().any(|c| c.is_ascii_digit());
        if valid {
            Some(Self(Secret::new(value.to_owned())))
        } else {
            violations.add(
                "password",
                "PASSWORD_TOO_WEAK",
                "must be 8 to 64 characters with at least one letter and one digit",
            );
            None
        }
    }

    /// An argon2id PHC string. CPU-heavy: call from a blocking task.
    pub fn hash(&self) -> String {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(self.0.expose().as_bytes(), &salt)
            .expect("argon2 with default parameters hashes any input")
            .to_string()
    }
}

/// Whether `password` matches the stored `hash`. CPU-heavy: call from a
/// blocking task.
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
        let mut v = FieldViolations::new();
        let password = OnlinePassword::parse(&mut v, "correct horse 1").unwrap();
        let (a, b) = (password.hash(), password.hash());
        assert_ne!(a, b);
        assert!(a.starts_with("$argon2id$"));
        assert!(verify(&Secret::new("correct horse 1".into()), &a));
        assert!(!verify(&Secret::new("wrong horse 1".into()), &a));
    }

    #[test]
    fn weak_passwords_are_refused() {
        for weak in ["short1", "onlyletters", "12345678901"] {
            let mut v = FieldViolations::new();
            assert!(OnlinePassword::parse(&mut v, weak).is_none(), "{weak}");
        }
    }
}

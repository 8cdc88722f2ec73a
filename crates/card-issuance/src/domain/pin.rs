//! The medical-settlement PIN of a card: its policy, its argon2 hash, and
//! the lockout after wrong PINs in a row.
//!
//! A PIN is 6 digits and not trivial: not one digit repeated (`000000`) and
//! not a run up or down (`123456`, `654321`). It lives in a `Secret` (masked
//! `Debug`), is hashed with argon2id (the crate identity hashes passwords
//! with) and is never stored, returned or logged in clear.
//!
//! Lockout: [`MAX_FAILURES`] wrong PINs in a row (at a hospital, a pharmacy,
//! or as the current PIN of a change) lock the PIN. Unlike the sign-in delay
//! it does not end by itself — 6 digits are a small space — only the
//! counter's reset unlocks it. A right PIN clears the count.

use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng},
};
use pii::Secret;

use super::CardStatus;

/// Wrong PINs in a row that lock a PIN.
pub const MAX_FAILURES: i32 = 5;

/// A PIN that meets the policy. Never logged (`Secret`).
#[derive(Debug)]
pub struct Pin(Secret<String>);

/// Why a PIN is refused: `PIN_FORMAT` (not 6 digits) or `PIN_TOO_SIMPLE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PinRefused {
    #[error("must be exactly 6 digits")]
    Format,
    #[error("must not be one digit repeated or a run such as 123456")]
    TooSimple,
}

impl PinRefused {
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Format => "PIN_FORMAT",
            Self::TooSimple => "PIN_TOO_SIMPLE",
        }
    }
}

impl Pin {
    /// A PIN to set: 6 digits, not trivial.
    pub fn parse_new(value: &str) -> Result<Self, PinRefused> {
        let pin = Self::parse_presented(value)?;
        let digits: Vec<i32> = value.bytes().map(|b| i32::from(b - b'0')).collect();
        let steps: Vec<i32> = digits.windows(2).map(|w| w[1] - w[0]).collect();
        let trivial = [0, 1, -1]
            .iter()
            .any(|step| steps.iter().all(|s| s == step));
        if trivial {
            return Err(PinRefused::TooSimple);
        }
        Ok(pin)
    }

    /// A PIN presented for checking: 6 digits (an old trivial PIN is still
    /// judged against the hash, never refused by its shape).
    pub fn parse_presented(value: &str) -> Result<Self, PinRefused> {
        if value.len() == 6 && value.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(Secret::new(value.to_owned())))
        } else {
            Err(PinRefused::Format)
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

    /// Whether this PIN matches the stored `hash`. CPU-heavy: call from a
    /// blocking task, and never while holding a database connection.
    pub fn matches(&self, hash: &str) -> bool {
        PasswordHash::new(hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(self.0.expose().as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    }
}

/// A card's PIN as stored: the hash and the count of wrong PINs in a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinRecord {
    pub hash: String,
    pub failed_attempts: i32,
}

impl PinRecord {
    pub fn locked(&self) -> bool {
        self.failed_attempts >= MAX_FAILURES
    }

    /// Wrong PINs still allowed before the PIN locks.
    pub fn attempts_left(&self) -> i32 {
        (MAX_FAILURES - self.failed_attempts).max(0)
    }

    /// The count after one more wrong PIN.
    pub fn after_failure(&self) -> i32 {
        self.failed_attempts.saturating_add(1).min(MAX_FAILURES)
    }
}

/// A PIN may be set, changed, reset or verified only on a card that can
/// still be used: a lost, replaced or cancelled card's PIN is dead (a
/// replacement card starts without one).
pub fn card_usable(status: CardStatus) -> bool {
    CardStatus::USABLE.contains(&status)
}

/// Whether a presented card identification code is the card's own, in
/// time that does not depend on where they differ.
pub fn same_code(stored: &str, presented: &str) -> bool {
    stored.len() == presented.len()
        && stored
            .bytes()
            .zip(presented.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_digits_not_trivial() {
        for trivial in ["000000", "999999", "123456", "654321", "012345", "987654"] {
            assert_eq!(Pin::parse_new(trivial).unwrap_err(), PinRefused::TooSimple);
        }
        for bad in ["12345", "1234567", "12a456", "", "１２３４５６"] {
            assert_eq!(Pin::parse_new(bad).unwrap_err(), PinRefused::Format);
        }
        assert!(Pin::parse_new("270419").is_ok());
        assert!(
            Pin::parse_presented("123456").is_ok(),
            "judged, not refused"
        );
    }

    #[test]
    fn hashes_verify_and_never_show_the_pin() {
        let pin = Pin::parse_new("270419").unwrap();
        let hash = pin.hash();
        assert!(hash.starts_with("$argon2id$"));
        assert!(!hash.contains("270419"));
        assert!(pin.matches(&hash));
        assert!(!Pin::parse_presented("270418").unwrap().matches(&hash));
        assert!(!format!("{pin:?}").contains("270419"));
    }

    #[test]
    fn five_wrong_pins_lock() {
        let mut record = PinRecord {
            hash: String::new(),
            failed_attempts: 0,
        };
        for left in (0..MAX_FAILURES).rev() {
            assert!(!record.locked());
            record.failed_attempts = record.after_failure();
            assert_eq!(record.attempts_left(), left);
        }
        assert!(record.locked());
        assert_eq!(record.after_failure(), MAX_FAILURES);
    }
}

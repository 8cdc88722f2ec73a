//! Presenting a card: its number and its 32-character card identification
//! code, read from the chip. Card numbers are sequential, so a number alone
//! proves nothing; the code (64 random bits per card) shows the card is in
//! the caller's hands. A card presented without its own code is answered
//! exactly like a number that does not exist, and each such failure is
//! counted against the caller: over [`PresentationLimit`], the caller is
//! refused until its oldest failure in the window ages out.

use chrono::{DateTime, Duration, Utc};
use pii::{CardIdentificationCode, CardNumber};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What activation keeps of a card's identification code: SHA-256 of the
/// card number, `:`, and the code, so that its copy of card-issuance's
/// cards holds no code a reader of the database could present, and equal
/// codes of two cards (there are none) would not show. Computed the same
/// way in SQL by migration 1000003.
#[derive(Clone, PartialEq, Eq)]
pub struct CodeDigest(pub Vec<u8>);

impl std::fmt::Debug for CodeDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeDigest(..)")
    }
}

impl CodeDigest {
    pub fn of(number: &CardNumber, code: &CardIdentificationCode) -> Self {
        let mut hash = Sha256::new();
        hash.update(number.as_str().as_bytes());
        hash.update(b":");
        hash.update(code.as_str().as_bytes());
        Self(hash.finalize().to_vec())
    }

    /// Whether `presented` is this card's code, in time independent of
    /// where the two differ; a missing code is never the card's.
    pub fn admits(&self, number: &CardNumber, presented: Option<&CardIdentificationCode>) -> bool {
        presented.is_some_and(|code| bool::from(Self::of(number, code).0.ct_eq(&self.0)))
    }
}

/// How many failed presentations a caller may make within a window before
/// it is refused (`RESOURCE_EXHAUSTED` / `PRESENTATION_LIMIT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PresentationLimit {
    pub max_failures: u32,
    pub window: Duration,
}

impl PresentationLimit {
    /// How long the caller must wait, if its failures since
    /// `now - window` (`count` of them, the oldest at `oldest`) reach the
    /// limit: until the oldest ages out of the window (at least a second).
    pub fn wait(
        &self,
        count: i64,
        oldest: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<Duration> {
        if count < i64::from(self.max_failures) {
            return None;
        }
        let until = oldest.map_or(now + self.window, |o| o + self.window);
        Some((until - now).max(Duration::seconds(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card() -> (CardNumber, CardIdentificationCode) {
        (
            CardNumber::parse("X00000019").unwrap(),
            CardIdentificationCode::new("110105", 0x1234_5678_9ABC_DEF0).unwrap(),
        )
    }

    #[test]
    fn only_the_cards_own_code_is_admitted() {
        let (number, code) = card();
        let digest = CodeDigest::of(&number, &code);
        assert!(digest.admits(&number, Some(&code)));
        let other = CardIdentificationCode::new("110105", 0x1234_5678_9ABC_DEF1).unwrap();
        assert!(!digest.admits(&number, Some(&other)));
        assert!(!digest.admits(&number, None));
        // The same code under another number is another digest.
        let next = CardNumber::parse("X00000027").unwrap();
        assert!(!digest.admits(&next, Some(&code)));
    }

    #[test]
    fn the_limit_holds_until_the_oldest_failure_ages_out() {
        let limit = PresentationLimit {
            max_failures: 3,
            window: Duration::minutes(10),
        };
        let now = Utc::now();
        assert_eq!(limit.wait(2, Some(now), now), None);
        let oldest = now - Duration::minutes(4);
        assert_eq!(limit.wait(3, Some(oldest), now), Some(Duration::minutes(6)));
        assert_eq!(
            limit.wait(5, Some(now - Duration::minutes(10)), now),
            Some(Duration::seconds(1))
        );
    }
}

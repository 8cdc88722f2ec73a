//! Old medical insurance cards: the pharmacy channel exchanges one for the
//! new card and retires it.

use std::time::Duration;

use uuid::Uuid;

use super::{Refusal, text_enum};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegacyStatus {
    Active,
    Retired,
}

text_enum!(LegacyStatus, "old medical insurance card status" {
    Active => "ACTIVE",
    Retired => "RETIRED",
});

/// The old card presented with a new one must be the same person's.
pub fn ensure_same_person(legacy_holder: Uuid, card_holder: Uuid) -> Result<(), Refusal> {
    if legacy_holder == card_holder {
        Ok(())
    } else {
        Err(Refusal::LegacyCardOfAnotherPerson)
    }
}

/// An old card is retired once.
pub fn ensure_retirable(status: LegacyStatus) -> Result<(), Refusal> {
    match status {
        LegacyStatus::Active => Ok(()),
        LegacyStatus::Retired => Err(Refusal::LegacyCardRetired),
    }
}

/// An old card's number as a log line may show it: in some regions it is
/// the holder's ID number, so it is masked like one (first 6, last 4).
pub fn masked(number: &str) -> String {
    pii::mask_middle(number, 6, 4)
}

/// How long the relay waits before the next attempt to tell card-issuance
/// of a retirement, after `attempts` failed ones: doubling from one second
/// to at most five minutes, spread over ±50 % by `jitter_permille` (0 to
/// 999, drawn at random) so that entries failing together do not retry
/// together.
pub fn retry_delay(attempts: u32, jitter_permille: u32) -> Duration {
    const FIRST_MS: u64 = 1_000;
    const LONGEST_MS: u64 = 300_000;
    let base = (FIRST_MS << attempts.min(20)).min(LONGEST_MS);
    Duration::from_millis(base * (500 + u64::from(jitter_permille.min(1_000))) / 1_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_old_card_number_that_is_an_id_number_is_masked_like_one() {
        assert_eq!(masked("11010519491231002X"), "110105********002X");
        assert_eq!(masked("YB0000000001"), "YB0000**0001");
        // Too short to keep anything.
        assert_eq!(masked("YB0000001"), "*********");
    }

    #[test]
    fn retries_back_off_with_jitter_up_to_five_minutes() {
        assert_eq!(retry_delay(0, 500), Duration::from_secs(1));
        assert_eq!(retry_delay(3, 500), Duration::from_secs(8));
        assert_eq!(retry_delay(3, 0), Duration::from_secs(4));
        assert_eq!(retry_delay(3, 999), Duration::from_millis(11_992));
        assert_eq!(retry_delay(30, 500), Duration::from_secs(300));
        assert_eq!(retry_delay(u32::MAX, 5_000), Duration::from_secs(450));
    }
}

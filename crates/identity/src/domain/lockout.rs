//! The sign-in delay policy: after a few wrong passwords in a row, each
//! further attempt must wait a delay that doubles with every failure, up to
//! a cap. Attempts during the delay are refused without being judged, so a
//! guesser gets one guess per delay. It is never a permanent lock: the
//! delay ends on its own, a successful sign-in clears it, a day without a
//! wrong password clears the count, and the owner can always clear it at
//! the counter (an operator's `SetOnlinePassword`, which also ends every
//! session).

use chrono::{DateTime, Duration, Utc};

/// When delays begin, how long the first is, and the longest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Wrong passwords in a row answered without delay; the next one (and
    /// each after it) starts a delay (at least 1).
    pub max_failures: i32,
    /// The first delay; each further failure doubles it …
    pub first_delay: Duration,
    /// … up to this.
    pub longest_delay: Duration,
    /// Wrong passwords count until this long after the last one.
    pub failures_kept: Duration,
}

/// One credential's standing: wrong passwords since the last success or
/// reset, and the end of the current delay, if any.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LockoutState {
    pub failed_attempts: i32,
    pub locked_until: Option<DateTime<Utc>>,
}

impl LockoutState {
    /// Until when sign-in must wait at `now`, if it must.
    pub fn locked_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.locked_until.filter(|until| *until > now)
    }
}

impl LockoutPolicy {
    /// The standing sign-in judges by at `now`, from the `stored` one whose
    /// last wrong password was at `last_failed_at` (unknown: it stands): a
    /// clean slate once `failures_kept` has passed without one.
    pub fn standing(
        &self,
        stored: LockoutState,
        last_failed_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> LockoutState {
        match last_failed_at {
            Some(at) if at < self.forgotten_before(now) => LockoutState::default(),
            _ => stored,
        }
    }

    /// Wrong passwords before this no longer count at `now`.
    pub fn forgotten_before(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.failures_kept
    }

    /// The standing after a wrong password at `now` (no delay was running):
    /// one more failure and, from the `max_failures`-th on, a delay of
    /// `first_delay · 2^(failures − max_failures)`, at most `longest_delay`.
    pub fn after_failure(&self, state: LockoutState, now: DateTime<Utc>) -> LockoutState {
        let failures = state.failed_attempts.saturating_add(1);
        if failures < self.max_failures {
            return LockoutState {
                failed_attempts: failures,
                locked_until: None,
            };
        }
        let doublings = u32::try_from(failures - self.max_failures)
            .unwrap_or(0)
            .min(30);
        let delay = self
            .first_delay
            .checked_mul(1 << doublings)
            .unwrap_or(self.longest_delay)
            .min(self.longest_delay);
        LockoutState {
            failed_attempts: failures,
            locked_until: Some(now + delay),
        }
    }

    /// The standing after a successful sign-in: a clean slate.
    pub fn after_success(&self) -> LockoutState {
        LockoutState::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> LockoutPolicy {
        LockoutPolicy {
            max_failures: 5,
            first_delay: Duration::seconds(1),
            longest_delay: Duration::minutes(15),
            failures_kept: Duration::days(1),
        }
    }

    #[test]
    fn from_the_fifth_failure_in_a_row_each_delay_doubles_up_to_the_longest() {
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let mut state = LockoutState::default();
        for failures in 1..5 {
            state = policy().after_failure(state, now);
            assert_eq!(state.failed_attempts, failures);
            assert_eq!(state.locked_at(now), None);
        }
        let mut delays = Vec::new();
        for _ in 0..14 {
            state = policy().after_failure(state, now);
            delays.push((state.locked_until.unwrap() - now).num_seconds());
        }
        assert_eq!(
            delays,
            [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900, 900]
        );
        let until = state.locked_until.unwrap();
        assert_eq!(state.locked_at(now), Some(until));
        assert_eq!(state.locked_at(until), None, "the delay ends on its own");
    }

    #[test]
    fn a_success_clears_the_count() {
        assert_eq!(policy().after_success(), LockoutState::default());
        let far = LockoutState {
            failed_attempts: i32::MAX,
            locked_until: None,
        };
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let next = policy().after_failure(far, now);
        assert_eq!(next.locked_until, Some(now + Duration::minutes(15)));
    }

    #[test]
    fn a_day_without_a_wrong_password_clears_the_count() {
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let stored = LockoutState {
            failed_attempts: 7,
            locked_until: Some(now - Duration::hours(23)),
        };
        let day_ago = Some(now - Duration::days(1));
        assert_eq!(policy().standing(stored, day_ago, now), stored);
        let older = Some(now - Duration::days(1) - Duration::seconds(1));
        assert_eq!(
            policy().standing(stored, older, now),
            LockoutState::default()
        );
        assert_eq!(
            policy().standing(stored, None, now),
            stored,
            "unknown: it stands"
        );
    }
}

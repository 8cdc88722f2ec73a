//! The sign-in lockout policy: how many failed sign-ins in a row lock the
//! online account, and for how long.

use chrono::{DateTime, Duration, Utc};

/// How many failures in a row lock an account, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failed sign-ins in a row that lock the account (at least 1).
    pub max_failures: i32,
    /// How long a locked account stays locked.
    pub lockout: Duration,
}

/// One credential's standing: failures since the last success or lock, and
/// the end of the current lock, if any.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LockoutState {
    pub failed_attempts: i32,
    pub locked_until: Option<DateTime<Utc>>,
}

impl LockoutState {
    /// Until when the account is locked at `now`, if it is.
    pub fn locked_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.locked_until.filter(|until| *until > now)
    }
}

impl LockoutPolicy {
    /// The standing after a wrong password at `now` (the account was not
    /// locked): one more failure, or, at the limit, locked for the lockout
    /// period with the count started afresh.
    pub fn after_failure(&self, state: LockoutState, now: DateTime<Utc>) -> LockoutState {
        let failures = state.failed_attempts + 1;
        if failures >= self.max_failures {
            LockoutState {
                failed_attempts: 0,
                locked_until: Some(now + self.lockout),
            }
        } else {
            LockoutState {
                failed_attempts: failures,
                locked_until: None,
            }
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
            lockout: Duration::minutes(15),
        }
    }

    #[test]
    fn the_fifth_failure_in_a_row_locks_for_the_lockout_period() {
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let mut state = LockoutState::default();
        for failures in 1..5 {
            state = policy().after_failure(state, now);
            assert_eq!(state.failed_attempts, failures);
            assert_eq!(state.locked_at(now), None);
        }
        state = policy().after_failure(state, now);
        let until = now + Duration::minutes(15);
        assert_eq!(
            state,
            LockoutState {
                failed_attempts: 0,
                locked_until: Some(until)
            }
        );
        assert_eq!(state.locked_at(now), Some(until));
        assert_eq!(state.locked_at(until), None, "unlocked at the end");
    }

    #[test]
    fn a_failure_after_an_expired_lock_counts_from_one() {
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let expired = LockoutState {
            failed_attempts: 0,
            locked_until: Some(now - Duration::minutes(1)),
        };
        assert_eq!(
            policy().after_failure(expired, now),
            LockoutState {
                failed_attempts: 1,
                locked_until: None
            }
        );
        assert_eq!(policy().after_success(), LockoutState::default());
    }
}

//! Per-key rate limits (GCRA, `governor`): a caller, a client address or an
//! ID number gets `burst` calls at once and one more every
//! `60 / per_minute` seconds. A call over its limit is refused
//! `RESOURCE_EXHAUSTED` with an `ErrorInfo` reason and a
//! `google.rpc.RetryInfo` delay: when the next call would be accepted.

use std::{
    collections::HashMap,
    hash::Hash,
    num::NonZeroU32,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};
use serde::{Deserialize, Serialize};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::error::ERROR_DOMAIN;

/// A limit as configured: `burst` at once, `per_minute` sustained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    pub per_minute: u32,
    pub burst: u32,
}

impl Limit {
    pub const fn new(per_minute: u32, burst: u32) -> Self {
        Self { per_minute, burst }
    }

    /// Whether both numbers are at least 1.
    pub fn is_valid(&self) -> bool {
        self.per_minute >= 1 && self.burst >= 1
    }
}

/// Calls since the last sweep of idle keys; the map is swept every this many.
const SWEEP_EVERY: u64 = 4096;

/// One limit applied per key.
pub struct KeyedLimit<K: Hash + Eq + Clone = String> {
    limiter: DefaultKeyedRateLimiter<K>,
    reason: &'static str,
    calls: AtomicU64,
}

impl<K: Hash + Eq + Clone> KeyedLimit<K> {
    /// `limit` per key; refusals carry `reason`.
    pub fn new(limit: Limit, reason: &'static str) -> Self {
        let per_minute = NonZeroU32::new(limit.per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            reason,
            calls: AtomicU64::new(0),
        }
    }

    /// Counts a call of `key`: `Ok` within the limit, else the refusal.
    pub fn check(&self, key: &K) -> Result<(), Status> {
        if self.calls.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            // Keys whose allowance is full again are forgotten (bounded memory).
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            exhausted(self.reason, wait)
        })
    }
}

/// `RESOURCE_EXHAUSTED` with `reason` and a retry delay of `wait` (at least
/// a millisecond), also in the `ErrorInfo` metadata as `retry_after_ms`.
pub fn exhausted(reason: &str, wait: Duration) -> Status {
    let wait = wait.max(Duration::from_millis(1));
    let metadata = HashMap::from([("retry_after_ms".to_owned(), wait.as_millis().to_string())]);
    let mut details = ErrorDetails::with_error_info(reason, ERROR_DOMAIN, metadata);
    details.set_retry_info(Some(wait));
    Status::with_error_details(
        Code::ResourceExhausted,
        "too many calls; retry after the delay given",
        details,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_over_its_burst_is_refused_with_a_retry_delay_and_others_are_not() {
        let limit = KeyedLimit::new(Limit::new(6, 2), "TOO_MANY");
        let key = "a".to_owned();
        limit.check(&key).unwrap();
        limit.check(&key).unwrap();
        let refused = limit.check(&key).unwrap_err();
        assert_eq!(refused.code(), Code::ResourceExhausted);
        assert_eq!(refused.get_details_error_info().unwrap().reason, "TOO_MANY");
        let delay = refused
            .get_details_retry_info()
            .unwrap()
            .retry_delay
            .unwrap();
        assert!(
            delay > Duration::ZERO && delay <= Duration::from_secs(10),
            "{delay:?}"
        );
        limit.check(&"b".to_owned()).unwrap();
    }
}

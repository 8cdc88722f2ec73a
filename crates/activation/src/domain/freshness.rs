//! Whether activation's copy of card-issuance's state may answer, and how
//! fresh an answer is.
//!
//! The card projector records, with each batch it applies, the instant of
//! card-issuance's last heartbeat: every event committed before that
//! instant is in the projection. The projection answers only while that
//! instant is within the configured bound of now; otherwise card-issuance
//! is asked directly, and if it cannot answer, nothing is answered.
//! Freshness is judged by the publisher's progress, never by the age of a
//! card's row (a card's row can be old and current, or new and stale).

use chrono::{DateTime, Duration, Utc};

/// Where the card's state behind an answer came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The projection, caught up to `as_of`.
    Projection,
    /// Card-issuance, asked at `as_of`.
    CardIssuance,
}

/// How fresh an answer's card state is: every change card-issuance
/// committed before `as_of` is reflected in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Basis {
    pub source: Source,
    pub as_of: DateTime<Utc>,
}

/// Whether a projection caught up at `caught_up_at` may answer at `now`:
/// caught up no longer than `bound` ago. Never caught up, or caught up at
/// an instant still to come (the publisher's clock ahead of ours, so its
/// instant proves nothing), is not fresh.
pub fn caught_up_within(
    caught_up_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    bound: Duration,
) -> bool {
    caught_up_at.is_some_and(|at| at <= now && now - at <= bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_only_within_the_bound_and_never_from_the_future() {
        let now = Utc::now();
        let bound = Duration::milliseconds(1500);
        assert!(caught_up_within(Some(now), now, bound));
        assert!(caught_up_within(
            Some(now - Duration::milliseconds(1500)),
            now,
            bound
        ));
        assert!(!caught_up_within(
            Some(now - Duration::milliseconds(1501)),
            now,
            bound
        ));
        assert!(!caught_up_within(None, now, bound));
        assert!(!caught_up_within(
            Some(now + Duration::milliseconds(1)),
            now,
            bound
        ));
    }
}

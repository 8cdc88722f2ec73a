//! The presentations each caller has in flight on this instance, so that a
//! burst of presentations sent at once cannot outrun the limit on failed
//! ones: the limit is judged against the failures recorded *and* the
//! presentations still being judged (each may yet fail). Held in memory,
//! without a lock around the database read: see [`Probe::admit`] for why
//! no failure is missed. Across instances a burst can reach the
//! limit once per instance.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst},
    },
};

use tokio::sync::Notify;

/// One caller's presentations on this instance.
#[derive(Default)]
pub(super) struct CallerPresentations {
    in_flight: AtomicUsize,
    /// Failures this instance has recorded, ever (only differences count).
    recorded: AtomicU64,
    /// Told whenever one of this caller's presentations ends.
    ended: Notify,
}

#[derive(Default)]
pub struct Presenting {
    callers: Mutex<HashMap<String, Arc<CallerPresentations>>>,
}

/// A presentation about to be counted: see [`Probe::admit`].
pub(super) struct Probe<'a> {
    before: u64,
    ticket: Ticket<'a>,
}

impl<'a> Probe<'a> {
    /// Counts the presentation in, given the caller's `failures` as the
    /// database had them (read after [`Presenting::begin`]), and returns it
    /// with an upper bound of the caller's failures plus presentations in
    /// flight, this one included.
    ///
    /// Why the bound holds without a lock: a failure is written to the
    /// database, then counted in `recorded`, then leaves `in_flight` (its
    /// ticket drops at the end of its call). If the database read missed
    /// it, it committed after the read began, so after `before` was read:
    /// either `recorded` has counted it by the time `after` is read, or it
    /// is still `in_flight` when this presentation counts itself in.
    pub(super) fn admit(mut self, failures: i64) -> (Ticket<'a>, i64) {
        self.ticket.admitted = true;
        let caller = &self.ticket.caller;
        let others = caller.in_flight.fetch_add(1, SeqCst);
        let after = caller.recorded.load(SeqCst);
        let bound = failures + others as i64 + 1 + (after - self.before) as i64;
        (self.ticket, bound)
    }
}

/// A presentation being judged: counted against its caller's limit until
/// dropped, at the end of the call.
pub(super) struct Ticket<'a> {
    presenting: &'a Presenting,
    admitted: bool,
    key: String,
    caller: Arc<CallerPresentations>,
}

impl Presenting {
    fn of(&self, key: &str) -> Arc<CallerPresentations> {
        let mut callers = self.callers.lock().expect("not poisoned");
        callers.entry(key.to_owned()).or_default().clone()
    }

    /// Starts counting one presentation of `key`: read the failures the
    /// database has recorded, then [`Probe::admit`] with them.
    pub(super) fn begin(&self, key: &str) -> Probe<'_> {
        let caller = self.of(key);
        Probe {
            before: caller.recorded.load(SeqCst),
            ticket: Ticket {
                presenting: self,
                admitted: false,
                key: key.to_owned(),
                caller,
            },
        }
    }

    /// Counts a failure of `key` that the database has recorded. Only a
    /// caller with presentations under way has an entry, and only they
    /// need to see it (an operator's failures make none).
    pub(super) fn failure_recorded(&self, key: &str) {
        if let Some(caller) = self.callers.lock().expect("not poisoned").get(key) {
            caller.recorded.fetch_add(1, SeqCst);
        }
    }
}

impl Ticket<'_> {
    /// Gives this place back and waits until another of the caller's
    /// presentations ends.
    pub(super) async fn another_ended(mut self) {
        let caller = self.caller.clone();
        // Listening from before the place is given back (`notify_waiters`
        // reaches a listener from its creation), and without telling
        // itself: an end in between is not missed.
        let ended = caller.ended.notified();
        if std::mem::take(&mut self.admitted) {
            caller.in_flight.fetch_sub(1, SeqCst);
        }
        drop(self);
        ended.await;
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if self.admitted {
            self.caller.in_flight.fetch_sub(1, SeqCst);
            self.caller.ended.notify_waiters();
        }
        let mut callers = self.presenting.callers.lock().expect("not poisoned");
        // The map's own reference and this ticket's: no one else is
        // presenting or recording for this caller.
        if Arc::strong_count(&self.caller) == 2 && self.caller.in_flight.load(SeqCst) == 0 {
            callers.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presentations_in_flight_count_until_they_end() {
        let presenting = Presenting::default();
        let (first, bound) = presenting.begin("p").admit(3);
        assert_eq!(bound, 4);
        let (second, bound) = presenting.begin("p").admit(3);
        assert_eq!(bound, 5);
        let (_other, bound) = presenting.begin("q").admit(0);
        assert_eq!(bound, 1, "another caller's are its own");
        drop(first);
        drop(second);
        let abandoned = presenting.begin("r");
        drop(abandoned);
        let (_third, bound) = presenting.begin("r").admit(0);
        assert_eq!(bound, 1, "a probe not admitted counts nothing");
        assert_eq!(
            presenting.callers.lock().unwrap().len(),
            2,
            "ended callers go"
        );
    }

    #[test]
    fn a_failure_recorded_during_the_read_is_counted() {
        let presenting = Presenting::default();
        let (failing, _) = presenting.begin("p").admit(0);
        let probe = presenting.begin("p");
        // The failure commits while the next presentation's read is under
        // way, and that read misses it; the failing call ends before the
        // read returns.
        presenting.failure_recorded("p");
        drop(failing);
        let (_next, bound) = probe.admit(0);
        assert_eq!(bound, 2, "the failure, and this presentation");
    }
}

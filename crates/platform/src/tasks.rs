//! The work a service runs besides answering calls, tracked so that
//! shutdown can end it and wait for it.

use std::future::Future;

use tokio_util::{sync::CancellationToken, task::TaskTracker};

/// The work a service runs besides answering calls — background loops
/// (projectors, relays, retention) and the producers of streamed answers —
/// so that shutdown can end it and wait for it: at shutdown the stop token
/// is cancelled (open `Watch…` streams and loops end) and the drain waits
/// for every tracked task within the drain deadline.
#[derive(Clone, Default)]
pub struct Tasks {
    pub(crate) tracker: TaskTracker,
    pub(crate) stop: CancellationToken,
}

impl Tasks {
    /// Runs `work` to its end; shutdown waits for it (within the drain deadline).
    pub fn spawn<F>(&self, work: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.tracker.spawn(work)
    }

    /// Runs `work` until it ends or the service stops, whichever is first
    /// (for loops that never end on their own).
    pub fn spawn_until_stopped<F>(&self, work: F) -> tokio::task::JoinHandle<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let stop = self.stop.clone();
        self.tracker.spawn(async move {
            tokio::select! {
                () = work => {}
                () = stop.cancelled() => {}
            }
        })
    }

    /// Cancelled when the service starts shutting down.
    pub fn stopping(&self) -> CancellationToken {
        self.stop.clone()
    }
}

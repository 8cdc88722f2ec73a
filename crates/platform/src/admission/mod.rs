//! Admission before work: a service serves at most `max_concurrent_calls`
//! calls at once; a call that finds them all busy waits in a bounded queue
//! (`max_queued_calls`) for at most `max_queue_wait_ms`, and never past its
//! own deadline (`grpc-timeout`); beyond that it is refused at once with
//! `RESOURCE_EXHAUSTED` and a `RetryInfo` delay (`OVERLOADED`), or
//! `DEADLINE_EXCEEDED` when its deadline passed while it waited — before
//! any of its database work. One caller (a partner, or the partner a
//! service acts for) holds at most `max_calls_per_caller` of the calls
//! served and waiting (`CALLER_OVER_SHARE`), so one partner's burst cannot
//! take a service's capacity from the others.
//!
//! Past its capacity a service answers the excess at once instead of
//! queueing it without bound, so the calls it admits are answered in time
//! (Google SRE book, "Handling Overload"; tower's `ConcurrencyLimit` with
//! `load_shed`). It sits inside the auth layer, which names the caller, and
//! holds a call's place until its answer's headers are sent: a stream's
//! place is given back once it has started.
//!
//! The health service is never queued: a load balancer must hear that an
//! overloaded instance is alive.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::Duration,
};

use futures::future::BoxFuture;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::{Code, Status};
use tower::{Layer, Service};

use crate::{auth::Caller, error, rate_limit::exhausted};

/// How many calls a service serves and holds, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdmissionSettings {
    pub max_concurrent_calls: usize,
    pub max_queued_calls: usize,
    pub max_queue_wait: Duration,
    pub max_calls_per_caller: usize,
}

/// The delay an overloaded service asks callers to wait before retrying.
pub const RETRY_AFTER: Duration = Duration::from_millis(250);

#[derive(Clone)]
pub struct AdmissionLayer {
    state: Arc<State>,
}

struct State {
    settings: AdmissionSettings,
    serving: Arc<Semaphore>,
    /// Places in the queue: a call takes one before it waits.
    queue: Arc<Semaphore>,
    /// Calls served or waiting, by caller.
    per_caller: Mutex<HashMap<String, usize>>,
}

impl AdmissionLayer {
    pub fn new(settings: AdmissionSettings) -> Self {
        Self {
            state: Arc::new(State {
                settings,
                serving: Arc::new(Semaphore::new(settings.max_concurrent_calls)),
                queue: Arc::new(Semaphore::new(settings.max_queued_calls)),
                per_caller: Mutex::default(),
            }),
        }
    }
}

impl<S> Layer<S> for AdmissionLayer {
    type Service = Admission<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Admission {
            inner,
            state: self.state.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Admission<S> {
    inner: S,
    state: Arc<State>,
}

impl<S, B> Service<http::Request<B>> for Admission<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        // The inner service was made ready for this call; keep that one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        if request.uri().path().starts_with("/grpc.health.v1.") {
            return Box::pin(inner.call(request));
        }
        let state = self.state.clone();
        let deadline = socsec_core::balance::grpc_timeout(request.headers());
        let caller = caller_key(request.extensions().get::<Caller>());
        Box::pin(async move {
            match state.admit(caller, deadline).await {
                Ok(_admitted) => inner.call(request).await,
                Err(status) => {
                    drain(request.into_body()).await;
                    Ok(status.into_http())
                }
            }
        })
    }
}

/// A call's place: given back when the call's answer has started.
struct Admitted {
    _serving: OwnedSemaphorePermit,
    _share: Share,
}

/// One of a caller's places.
struct Share {
    state: Arc<State>,
    caller: String,
}

impl Drop for Share {
    fn drop(&mut self) {
        let mut per_caller = self.state.per_caller.lock().expect("not poisoned");
        if let Some(count) = per_caller.get_mut(&self.caller) {
            *count -= 1;
            if *count == 0 {
                per_caller.remove(&self.caller);
            }
        }
    }
}

impl State {
    async fn admit(
        self: Arc<Self>,
        caller: String,
        deadline: Option<Duration>,
    ) -> Result<Admitted, Status> {
        if deadline == Some(Duration::ZERO) {
            return Err(deadline_passed());
        }
        let share = self.clone().share(caller)?;
        if let Ok(serving) = self.serving.clone().try_acquire_owned() {
            return Ok(Admitted {
                _serving: serving,
                _share: share,
            });
        }
        let Ok(_place) = self.queue.clone().try_acquire_owned() else {
            tracing::debug!("queue full; call refused");
            return Err(overloaded());
        };
        let wait = deadline.map_or(self.settings.max_queue_wait, |d| {
            d.min(self.settings.max_queue_wait)
        });
        match tokio::time::timeout(wait, self.serving.clone().acquire_owned()).await {
            Ok(serving) => Ok(Admitted {
                _serving: serving.expect("the semaphore is never closed"),
                _share: share,
            }),
            Err(_) if deadline.is_some_and(|d| d <= self.settings.max_queue_wait) => {
                Err(deadline_passed())
            }
            Err(_) => {
                tracing::debug!("no place freed within the queue wait; call refused");
                Err(overloaded())
            }
        }
    }

    /// One more of `caller`'s places, unless it holds its share already.
    fn share(self: Arc<Self>, caller: String) -> Result<Share, Status> {
        {
            let mut per_caller = self.per_caller.lock().expect("not poisoned");
            let count = per_caller.entry(caller.clone()).or_default();
            if *count >= self.settings.max_calls_per_caller {
                tracing::debug!(caller = %caller, "caller over its share; call refused");
                return Err(exhausted("CALLER_OVER_SHARE", RETRY_AFTER));
            }
            *count += 1;
        }
        Ok(Share {
            state: self,
            caller,
        })
    }
}

/// Reads what the caller is still sending (a unary request: a few hundred
/// bytes; at most [`DRAIN_BYTES`] or [`DRAIN_TIME`]) before the refusal is
/// sent: answered while the client is still sending, the stream is reset
/// and the client may see a broken pipe instead of the refusal.
async fn drain<B>(body: B)
where
    B: http_body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    use http_body_util::{BodyExt, Limited};
    let _ = tokio::time::timeout(DRAIN_TIME, Limited::new(body, DRAIN_BYTES).collect()).await;
}

const DRAIN_BYTES: usize = 64 * 1024;
const DRAIN_TIME: Duration = Duration::from_millis(100);

/// `RESOURCE_EXHAUSTED` / `OVERLOADED` with a `RetryInfo` delay.
pub fn overloaded() -> Status {
    exhausted("OVERLOADED", RETRY_AFTER)
}

fn deadline_passed() -> Status {
    error::status(
        Code::DeadlineExceeded,
        "DEADLINE_PASSED_IN_QUEUE",
        "the call's deadline passed before the service could take it; nothing was done",
    )
}

/// Whom a call counts against: the partner a service acts for, else the
/// caller; anonymous calls (sign-in) share one key.
fn caller_key(caller: Option<&Caller>) -> String {
    match caller {
        Some(caller) => match &caller.on_behalf_of {
            Some(origin) => origin.caller.clone(),
            None => caller.to_string(),
        },
        None => "anonymous".to_owned(),
    }
}

#[cfg(test)]
mod tests;

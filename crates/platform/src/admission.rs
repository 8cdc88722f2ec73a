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
        let deadline = grpc_timeout(request.headers());
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

/// The call's `grpc-timeout` (`<digits><unit>`, unit one of `H M S m u n`),
/// if it has a valid one.
fn grpc_timeout(headers: &http::HeaderMap) -> Option<Duration> {
    let value = headers.get("grpc-timeout")?.to_str().ok()?;
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.saturating_mul(3600)),
        "M" => Duration::from_secs(amount.saturating_mul(60)),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use tonic_types::StatusExt;

    use super::*;

    /// A queue wait of an hour: a call that returns did not wait it out.
    fn settings(concurrent: usize, queued: usize, per_caller: usize) -> AdmissionSettings {
        AdmissionSettings {
            max_concurrent_calls: concurrent,
            max_queued_calls: queued,
            max_queue_wait: Duration::from_secs(3600),
            max_calls_per_caller: per_caller,
        }
    }

    fn state(settings: AdmissionSettings) -> Arc<State> {
        AdmissionLayer::new(settings).state
    }

    fn reason(status: &Status) -> String {
        status.get_details_error_info().unwrap().reason
    }

    #[test]
    fn grpc_timeouts_are_read_in_every_unit() {
        let of = |v: &str| {
            let mut headers = http::HeaderMap::new();
            headers.insert("grpc-timeout", v.parse().unwrap());
            grpc_timeout(&headers)
        };
        assert_eq!(of("5S"), Some(Duration::from_secs(5)));
        assert_eq!(of("250m"), Some(Duration::from_millis(250)));
        assert_eq!(of("2M"), Some(Duration::from_secs(120)));
        assert_eq!(of("100u"), Some(Duration::from_micros(100)));
        assert_eq!(of("S"), None);
        assert_eq!(of("5x"), None);
        assert_eq!(of("1234567890S"), None);
        assert_eq!(grpc_timeout(&http::HeaderMap::new()), None);
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_at_once_with_a_retry_delay() {
        let state = state(settings(1, 1, 10));
        let serving = state.clone().admit("a".into(), None).await.unwrap();
        let waiting = tokio::spawn(state.clone().admit("b".into(), None));
        tokio::task::yield_now().await;
        while state.queue.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let refused = state.clone().admit("c".into(), None).await.err().unwrap();
        assert_eq!(refused.code(), Code::ResourceExhausted);
        assert_eq!(reason(&refused), "OVERLOADED");
        assert_eq!(
            refused.get_details_retry_info().unwrap().retry_delay,
            Some(RETRY_AFTER)
        );
        drop(serving);
        assert!(waiting.await.unwrap().is_ok(), "the queued call is served");
    }

    #[tokio::test]
    async fn a_queued_call_waits_no_longer_than_the_queue_wait_or_its_deadline() {
        let state = state(settings(1, 4, 10));
        let _serving = state.clone().admit("a".into(), None).await.unwrap();
        let short = Some(Duration::from_millis(20));
        let refused = state.clone().admit("b".into(), short).await.err().unwrap();
        assert_eq!(refused.code(), Code::DeadlineExceeded);
        let passed = state
            .clone()
            .admit("b".into(), Some(Duration::ZERO))
            .await
            .err()
            .unwrap();
        assert_eq!(passed.code(), Code::DeadlineExceeded);

        let mut quick = settings(1, 4, 10);
        quick.max_queue_wait = Duration::from_millis(20);
        let state = super::tests::state(quick);
        let _serving = state.clone().admit("a".into(), None).await.unwrap();
        let refused = state.clone().admit("b".into(), None).await.err().unwrap();
        assert_eq!(reason(&refused), "OVERLOADED");
        let long = Some(Duration::from_secs(3600));
        let refused = state.clone().admit("b".into(), long).await.err().unwrap();
        assert_eq!(
            reason(&refused),
            "OVERLOADED",
            "the queue wait, not the deadline"
        );
    }

    /// An inner service whose calls are answered once told to.
    #[derive(Clone)]
    struct Held(Arc<tokio::sync::Notify>);

    impl Service<http::Request<tonic::body::Body>> for Held {
        type Response = http::Response<tonic::body::Body>;
        type Error = std::convert::Infallible;
        type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: http::Request<tonic::body::Body>) -> Self::Future {
            let release = self.0.clone();
            Box::pin(async move {
                release.notified().await;
                Ok(http::Response::new(tonic::body::Body::empty()))
            })
        }
    }

    fn call(path: &str) -> http::Request<tonic::body::Body> {
        http::Request::builder()
            .uri(path)
            .body(tonic::body::Body::empty())
            .unwrap()
    }

    #[tokio::test]
    async fn through_the_layer_a_full_service_answers_overloaded_at_once_but_health() {
        let layer = AdmissionLayer::new(settings(1, 0, 10));
        let release = Arc::new(tokio::sync::Notify::new());
        let mut service = layer.layer(Held(release.clone()));
        let held = tokio::spawn(service.call(call(
            "/socsec.activation.v1.ActivationService/CheckEligibility",
        )));
        while layer.state.serving.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let refused = service
            .call(call(
                "/socsec.activation.v1.ActivationService/CheckEligibility",
            ))
            .await
            .unwrap();
        let status = Status::from_header_map(refused.headers()).expect("a trailers-only refusal");
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert_eq!(reason(&status), "OVERLOADED");
        assert_eq!(
            status.get_details_retry_info().unwrap().retry_delay,
            Some(RETRY_AFTER)
        );
        // The health service is answered all the same.
        let health = tokio::spawn(service.call(call("/grpc.health.v1.Health/Check")));
        release.notify_one();
        release.notify_one();
        let health = health.await.unwrap().unwrap();
        assert!(Status::from_header_map(health.headers()).is_none());
        assert!(held.await.unwrap().is_ok());
    }

    #[tokio::test]
    async fn one_caller_holds_at_most_its_share() {
        let state = state(settings(10, 10, 2));
        let first = state.clone().admit("a".into(), None).await.unwrap();
        let _second = state.clone().admit("a".into(), None).await.unwrap();
        let refused = state.clone().admit("a".into(), None).await.err().unwrap();
        assert_eq!(reason(&refused), "CALLER_OVER_SHARE");
        assert!(state.clone().admit("b".into(), None).await.is_ok());
        drop(first);
        assert!(state.clone().admit("a".into(), None).await.is_ok());
        assert_eq!(state.per_caller.lock().unwrap().len(), 1, "freed keys go");
    }
}

//! Spreading calls over the instances of one service, on the client: a
//! service's address in a configuration or on the command line may be one
//! URL or several separated by commas (the instances of that service). With
//! several, calls go in turn to the instances that answer their health
//! check (`grpc.health.v1` SERVING), so mutual TLS stays end to end — no
//! proxy in between holds a key — and a call that meets a connect error or
//! an `UNAVAILABLE` answer is sent to the next instance before the caller
//! sees it, within the call's deadline.
//!
//! Each instance's health is followed with the standard `grpc.health.v1`
//! `Watch` stream, over a connection of its own ([`health`]): an instance
//! is skipped while its stream says NOT_SERVING (as one does at the start of
//! a graceful stop) or is broken (a killed process breaks it at once), and
//! taken again when a new stream says SERVING. Skipped instances are still
//! tried, last: a one-shot client (the command line) calls before any
//! health is known, and with every instance down a call fails fast with
//! UNAVAILABLE rather than wait. A frozen instance keeps its stream open: it
//! is skipped once the connection's HTTP/2 keepalive gives up on it, and
//! meanwhile a call to it waits its own timeout.
//!
//! Trying another instance is safe: a call answered UNAVAILABLE did
//! nothing (every service refuses that way before committing), and every
//! mutating call carries a request id, so a retry returns the first answer.
//! Only whole answers are judged: a server stream that breaks after its
//! first message is the caller's to resume. Requests are unary (no RPC
//! streams its request), so the request is kept to be sent again.

mod health;

use std::{
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    task::{Context, Poll},
    time::{Duration, Instant},
};

use http_body_util::{BodyExt, Full};
use tonic::{
    body::Body,
    codegen::StdError,
    transport::{Channel, Endpoint},
};
use tower::ServiceExt;

pub use health::RETRY_WATCH;

/// The URLs in `urls`: one, or several separated by commas (spaces around
/// them ignored, empty ones dropped).
pub fn urls(urls: &str) -> Vec<&str> {
    urls.split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .collect()
}

/// A lazily connecting channel over the instances at `endpoints`; with
/// several, a call tries them in turn within `deadline` (or the call's own
/// `grpc-timeout`, if shorter). Several endpoints need a Tokio runtime (the
/// health tasks are spawned on it).
///
/// # Panics
/// If `endpoints` is empty.
pub fn channel(endpoints: Vec<Endpoint>, deadline: Option<Duration>) -> Balanced {
    assert!(!endpoints.is_empty(), "no endpoint to call");
    let (closed, watching) = tokio::sync::watch::channel(());
    let instances = Arc::new(Instances {
        channels: endpoints.iter().map(Endpoint::connect_lazy).collect(),
        serving: endpoints.iter().map(|_| AtomicBool::new(false)).collect(),
        next: AtomicUsize::new(0),
        deadline,
        _closed: closed,
    });
    if endpoints.len() > 1 {
        for (i, endpoint) in endpoints.into_iter().enumerate() {
            tokio::spawn(health::watch(
                endpoint,
                Arc::downgrade(&instances),
                i,
                watching.clone(),
            ));
        }
    }
    Balanced(instances)
}

/// The instances of one service, as a channel for generated clients.
#[derive(Clone)]
pub struct Balanced(Arc<Instances>);

struct Instances {
    channels: Vec<Channel>,
    /// What each instance's health stream last said.
    serving: Vec<AtomicBool>,
    /// Whose turn is first.
    next: AtomicUsize,
    deadline: Option<Duration>,
    /// Dropped with the channel: the health tasks end.
    _closed: tokio::sync::watch::Sender<()>,
}

type Answer = Result<http::Response<Body>, StdError>;

impl tower::Service<http::Request<Body>> for Balanced {
    type Response = http::Response<Body>;
    type Error = StdError;
    type Future = Pin<Box<dyn Future<Output = Answer> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Each instance's channel is made ready in `call`.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let instances = self.0.clone();
        if let [only] = instances.channels.as_slice() {
            let only = only.clone();
            return Box::pin(async move { only.oneshot(request).await.map_err(StdError::from) });
        }
        Box::pin(async move { instances.call(request).await })
    }
}

impl Instances {
    /// The instances in the order to try: those serving from the one whose
    /// turn it is, then the others.
    fn order(&self) -> Vec<usize> {
        let n = self.channels.len();
        let first = self.next.fetch_add(1, Ordering::Relaxed) % n;
        let (mut order, others): (Vec<usize>, Vec<usize>) = (0..n)
            .map(|k| (first + k) % n)
            .partition(|&i| self.serving[i].load(Ordering::Relaxed));
        order.extend(others);
        order
    }

    async fn call(&self, request: http::Request<Body>) -> Answer {
        let started = Instant::now();
        let budget = grpc_timeout(request.headers())
            .into_iter()
            .chain(self.deadline)
            .min();
        let (parts, body) = request.into_parts();
        let body = body.collect().await?.to_bytes();
        let mut last = None;
        for i in self.order() {
            let remaining = match budget.map(|b| b.saturating_sub(started.elapsed())) {
                Some(Duration::ZERO) => break,
                remaining => remaining,
            };
            let mut attempt = http::Request::new(Body::new(Full::new(body.clone())));
            *attempt.method_mut() = parts.method.clone();
            *attempt.uri_mut() = parts.uri.clone();
            *attempt.version_mut() = parts.version;
            *attempt.headers_mut() = parts.headers.clone();
            *attempt.extensions_mut() = parts.extensions.clone();
            let call = self.channels[i].clone().oneshot(attempt);
            let answer = match remaining {
                Some(remaining) => match tokio::time::timeout(remaining, call).await {
                    Ok(answer) => answer,
                    Err(_) => break,
                },
                None => call.await,
            };
            match answer {
                Ok(response) if !is_unavailable(&response) => return Ok(response),
                answer => last = Some(answer.map_err(StdError::from)),
            }
        }
        last.unwrap_or_else(|| {
            Err(tonic::Status::deadline_exceeded(
                "no instance of the service answered within the call's deadline",
            )
            .into())
        })
    }
}

/// An answer `UNAVAILABLE` with no body (gRPC's trailers-only answer, as
/// every refusal is).
fn is_unavailable(response: &http::Response<Body>) -> bool {
    response
        .headers()
        .get("grpc-status")
        .is_some_and(|s| s.as_bytes() == b"14")
}

/// The call's deadline from its `grpc-timeout` header (gRPC over HTTP/2:
/// up to eight digits and a unit, `H M S m u n`), if it has a valid one.
/// The services' admission reads it too.
pub fn grpc_timeout(headers: &http::HeaderMap) -> Option<Duration> {
    let value = headers.get("grpc-timeout")?.to_str().ok()?;
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.saturating_mul(3600)),
        "M" => Duration::from_secs(n.saturating_mul(60)),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_are_read_in_their_units() {
        let with = |v: &str| {
            let mut headers = http::HeaderMap::new();
            headers.insert("grpc-timeout", v.parse().unwrap());
            grpc_timeout(&headers)
        };
        assert_eq!(with("5S"), Some(Duration::from_secs(5)));
        assert_eq!(with("250m"), Some(Duration::from_millis(250)));
        assert_eq!(with("2M"), Some(Duration::from_secs(120)));
        assert_eq!(with("7u"), Some(Duration::from_micros(7)));
        assert_eq!(with("100u"), Some(Duration::from_micros(100)));
        assert_eq!(with("S"), None);
        assert_eq!(with("5x"), None);
        assert_eq!(with("1234567890S"), None);
        assert_eq!(grpc_timeout(&http::HeaderMap::new()), None);
    }
}

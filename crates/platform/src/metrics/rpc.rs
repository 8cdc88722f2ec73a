//! Per-call metrics, in OpenTelemetry's RPC semantic conventions:
//! `rpc.server.call.duration` (seconds; Prometheus:
//! `rpc_server_call_duration_seconds`) by `rpc.system`, `rpc.service`,
//! `rpc.method` and `rpc.grpc.status_code`, and the calls in flight.
//!
//! The layer sits outside every other (before the concurrency limit and the
//! auth layer), so a call waiting for a slot is in flight and a refused call
//! is counted with its code.
//!
//! The code of a gRPC answer is in the `grpc-status` header of a
//! trailers-only answer (every refusal made before a handler answers, and
//! every error a unary handler returns), otherwise in the trailers after the
//! body. A call is therefore recorded when its answer's body ends — for a
//! streaming RPC that is the end of the stream, so a `Watch…Events` stream
//! counts as one call lasting as long as the subscriber stayed — or at once
//! when the code is in the headers. A call whose answer is dropped before
//! its end (the client went away) is recorded as `CANCELLED` (1).
//!
//! Only methods the service's policy names (plus health and reflection) get
//! their own series; any other path is `_OTHER`, as the conventions ask, so
//! a caller inventing paths cannot grow the series without bound.

use std::{
    collections::HashMap,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Instant,
};

use bytes::Bytes;
use futures::future::BoxFuture;
use http_body::{Body, Frame};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{family::Family, gauge::Gauge, histogram::Histogram},
    registry::{Registry, Unit},
};
use tower::{Layer, Service};

use crate::auth::{PLATFORM_RULES, Policy};

/// OpenTelemetry's recommended boundaries for durations, in seconds.
const BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// gRPC status codes as label values; anything else is UNKNOWN (2).
const CODES: [&str; 17] = [
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16",
];
const CANCELLED: &str = "1";
const UNKNOWN: &str = "2";

/// Methods outside the service's tables, as OpenTelemetry names them.
const OTHER: &str = "_OTHER";

/// Served by every host besides the policy's RPCs.
const ALWAYS_SERVED: [&str; 4] = [
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/Watch",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    rpc_system: &'static str,
    rpc_service: &'static str,
    rpc_method: &'static str,
    rpc_grpc_status_code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabels {
    rpc_system: &'static str,
    rpc_service: &'static str,
    rpc_method: &'static str,
}

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

#[derive(Clone)]
pub(crate) struct RpcMetrics {
    duration: Family<CallLabels, Histogram, fn() -> Histogram>,
    active: Family<MethodLabels, Gauge>,
}

impl RpcMetrics {
    pub(crate) fn register(registry: &mut Registry) -> Self {
        let duration = Family::new_with_constructor(histogram as fn() -> Histogram);
        registry.register_with_unit(
            "rpc_server_call_duration",
            "Duration of calls served (OpenTelemetry rpc.server.call.duration), until the \
             answer's end (a stream's end for streaming RPCs)",
            Unit::Seconds,
            duration.clone(),
        );
        let active = Family::default();
        registry.register(
            "rpc_server_active_calls",
            "Calls received and not yet answered in full, waiting for a slot included",
            active.clone(),
        );
        Self { duration, active }
    }
}

/// Times every call (see the module).
#[derive(Clone)]
pub struct RpcMetricsLayer {
    metrics: RpcMetrics,
    methods: Arc<HashMap<&'static str, (&'static str, &'static str)>>,
}

impl RpcMetricsLayer {
    pub(crate) fn new(metrics: RpcMetrics, policy: &'static Policy) -> Self {
        let methods = policy
            .rules
            .iter()
            .chain(PLATFORM_RULES)
            .map(|(path, _)| *path)
            .chain(ALWAYS_SERVED)
            .filter_map(|path| {
                let (service, method) = path.strip_prefix('/')?.rsplit_once('/')?;
                Some((path, (service, method)))
            })
            .collect();
        Self {
            metrics,
            methods: Arc::new(methods),
        }
    }
}

impl<S> Layer<S> for RpcMetricsLayer {
    type Service = RpcMetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RpcMetricsService {
            inner,
            layer: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct RpcMetricsService<S> {
    inner: S,
    layer: RpcMetricsLayer,
}

impl<S, B, R> Service<http::Request<B>> for RpcMetricsService<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send,
    B: Send + 'static,
    R: Body<Data = Bytes> + Send + 'static,
    R::Error: Into<tonic::codegen::StdError>,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, S::Error>>;

    /// Always ready: the wait for the inner services (a slot under
    /// `max_concurrent_calls`) happens inside the call, so it is timed and
    /// the call counts as in flight meanwhile.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        use tower::ServiceExt;

        let (service, method) = self
            .layer
            .methods
            .get(request.uri().path())
            .copied()
            .unwrap_or((OTHER, OTHER));
        let call = Call::start(self.layer.metrics.clone(), service, method);
        // The clone taken is the one made ready in the call (tower's advice
        // for services that are called after their readiness is awaited).
        let ready = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, ready);
        Box::pin(async move {
            let response = inner.oneshot(request).await?;
            match response.headers().get("grpc-status") {
                // Trailers-only: the code is known now and no trailers follow.
                Some(code) => {
                    call.finish(code_label(code.as_bytes()));
                    Ok(response.map(tonic::body::Body::new))
                }
                None => Ok(response.map(|body| {
                    tonic::body::Body::new(MeteredBody {
                        inner: body,
                        call: Some(call),
                    })
                })),
            }
        })
    }
}

fn code_label(value: &[u8]) -> &'static str {
    std::str::from_utf8(value)
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .and_then(|code| CODES.get(code).copied())
        .unwrap_or(UNKNOWN)
}

/// One call being served: in flight until finished; recorded once.
struct Call {
    metrics: RpcMetrics,
    service: &'static str,
    method: &'static str,
    started: Instant,
    finished: bool,
}

impl Call {
    fn start(metrics: RpcMetrics, service: &'static str, method: &'static str) -> Self {
        let call = Self {
            metrics,
            service,
            method,
            started: Instant::now(),
            finished: false,
        };
        call.metrics
            .active
            .get_or_create(&call.method_labels())
            .inc();
        call
    }

    fn method_labels(&self) -> MethodLabels {
        MethodLabels {
            rpc_system: "grpc",
            rpc_service: self.service,
            rpc_method: self.method,
        }
    }

    fn finish(mut self, code: &'static str) {
        self.record(code);
    }

    fn record(&mut self, code: &'static str) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        self.metrics
            .active
            .get_or_create(&self.method_labels())
            .dec();
        self.metrics
            .duration
            .get_or_create(&CallLabels {
                rpc_system: "grpc",
                rpc_service: self.service,
                rpc_method: self.method,
                rpc_grpc_status_code: code,
            })
            .observe(self.started.elapsed().as_secs_f64());
    }
}

impl Drop for Call {
    /// Dropped unfinished: the answer was abandoned (the client went away
    /// or the connection broke).
    fn drop(&mut self) {
        self.record(CANCELLED);
    }
}

pin_project_lite::pin_project! {
    /// An answer's body, recording the call when its trailers pass or it ends.
    struct MeteredBody<B> {
        #[pin]
        inner: B,
        call: Option<Call>,
    }
}

impl<B: Body> Body for MeteredBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        let code = match &polled {
            Poll::Ready(Some(Ok(frame))) => frame.trailers_ref().map(|t| {
                t.get("grpc-status")
                    .map_or(UNKNOWN, |v| code_label(v.as_bytes()))
            }),
            Poll::Ready(Some(Err(_))) | Poll::Ready(None) => Some(UNKNOWN),
            Poll::Pending => None,
        };
        if let Some(code) = code
            && let Some(call) = this.call.take()
        {
            call.finish(code);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_outside_grpc_are_unknown() {
        assert_eq!(code_label(b"0"), "0");
        assert_eq!(code_label(b"16"), "16");
        assert_eq!(code_label(b"17"), UNKNOWN);
        assert_eq!(code_label(b"x"), UNKNOWN);
    }
}

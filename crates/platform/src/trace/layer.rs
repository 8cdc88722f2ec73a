//! The layer that serves every call in its trace (see the module above).

use std::task::{Context as TaskContext, Poll};

use futures::future::BoxFuture;
use opentelemetry::{Context, KeyValue, context::FutureExt as _, trace::TraceContextExt};
use tower::{Layer, Service};
use tracing::Instrument as _;

use super::{TRACE_RESPONSE_HEADER, Traces, failed};

/// Serves every call in its trace (see the module).
#[derive(Clone)]
pub struct ServerLayer {
    traces: Traces,
}

impl ServerLayer {
    pub fn new(traces: Traces) -> Self {
        Self { traces }
    }
}

impl<S> Layer<S> for ServerLayer {
    type Service = ServerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ServerService {
            inner,
            traces: self.traces.clone(),
        }
    }
}

#[derive(Clone)]
pub struct ServerService<S> {
    inner: S,
    traces: Traces,
}

impl<S, B, R> Service<http::Request<B>> for ServerService<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send,
    B: Send + 'static,
    R: Send + 'static,
{
    type Response = http::Response<R>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let path = request.uri().path();
        let cx = self.traces.server(request.headers(), path);
        let span_context = cx.span().span_context().clone();
        let span = tracing::info_span!(
            "grpc",
            method = %path,
            trace_id = %span_context.trace_id(),
        );
        let response_header = http::HeaderValue::try_from(format!(
            "00-{}-{}-{:02x}",
            span_context.trace_id(),
            span_context.span_id(),
            span_context.trace_flags().to_u8()
        ))
        .ok();
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let call = {
            let _entered = span.enter();
            let _attached = cx.clone().attach();
            inner.call(request)
        };
        let served = async move {
            tracing::debug!("call received");
            let mut response = call.await?;
            if let Some(value) = response_header {
                response.headers_mut().insert(TRACE_RESPONSE_HEADER, value);
            }
            if let Some(code) = response.headers().get("grpc-status")
                && code.as_bytes() != b"0"
            {
                let code = String::from_utf8_lossy(code.as_bytes()).into_owned();
                let cx = Context::current();
                cx.span()
                    .set_attribute(KeyValue::new("rpc.grpc.status_code", code.clone()));
                failed(&cx, &code);
            }
            Ok(response)
        };
        Box::pin(served.instrument(span).with_context(cx))
    }
}

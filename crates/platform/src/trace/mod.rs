//! W3C trace context (`traceparent`, `tracestate`) through every call and
//! every event, the trace id in every log line of a call, and OTLP export
//! when `otlp_endpoint` is set.
//!
//! - **Calls served**: [`ServerLayer`] (outside every other layer) reads the
//!   caller's `traceparent`/`tracestate` with OpenTelemetry's W3C
//!   propagator. A valid one is continued (same trace id, this call a child
//!   of the caller's span); a missing or malformed one is ignored and a new
//!   trace started — never an error. The call runs in a `grpc` tracing span
//!   with fields `method` and `trace_id` (so every log line written while
//!   serving it carries the trace id) and with the OpenTelemetry context
//!   attached; the answer carries `traceresponse` (W3C Trace Context level
//!   2: the trace id and this call's span id), so a partner can quote it.
//! - **Calls made**: the interceptor of every channel to another service
//!   (`client::ServiceCredential`) injects the current context ([`inject`]).
//! - **Events**: the mutation pipeline stores the context of the call that
//!   produced them beside them in the outbox ([`current_traceparent`]);
//!   the `Watch…Events` streams send it (`socsec.common.v1.TraceContext`),
//!   and a consumer continues the trace ([`Traces::consumer`]).
//!
//! Ids: without an exporter no OpenTelemetry SDK span is made at all — this
//! module draws the span (and, for a new trace, the trace) id itself from
//! the SDK's random id generator: two random numbers and a header parse per
//! call. With `otlp_endpoint` set, each service has its own tracer
//! provider (resource `service.name` = its schema, `_` as `-`), spans
//! sampled always, sent in batches over OTLP/gRPC by the SDK's batch
//! processor (a background thread), and flushed when the service stops.
//! A provider per service, not one installed process-wide (nor a
//! `tracing-opentelemetry` layer in the global subscriber), so services
//! sharing a process — the tests — export under their own names, as the
//! metrics registry is per service too.

use std::time::Duration;

use opentelemetry::{
    Context, KeyValue,
    propagation::{Extractor, Injector, TextMapPropagator},
    trace::{
        SpanContext, SpanKind, Status, TraceContextExt, TraceFlags, TraceState, Tracer as _,
        TracerProvider as _,
    },
};
use opentelemetry_sdk::{
    propagation::TraceContextPropagator,
    trace::{IdGenerator as _, RandomIdGenerator, Sampler, SdkTracer, SdkTracerProvider},
};

use crate::config::{ConfigError, PlatformConfig};

mod layer;
pub use layer::{ServerLayer, ServerService};

/// The answer header naming the trace and this service's span.
pub const TRACE_RESPONSE_HEADER: &str = "traceresponse";

/// A service's traces: ids always, export when configured.
#[derive(Clone, Default)]
pub struct Traces {
    export: Option<Export>,
}

#[derive(Clone)]
struct Export {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
}

impl Traces {
    /// Without `otlp_endpoint`: ids and propagation only, nothing exported
    /// and no task started. With it: an OTLP/gRPC batch exporter to it
    /// (must be called inside the Tokio runtime).
    pub fn start(config: &PlatformConfig) -> Result<Self, ConfigError> {
        let Some(endpoint) = &config.otlp_endpoint else {
            return Ok(Self::default());
        };
        use opentelemetry_otlp::WithExportConfig as _;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint.clone())
            .with_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| ConfigError::invalid("otlp_endpoint", e.to_string()))?;
        let name = config.database_schema.replace('_', "-");
        let provider = SdkTracerProvider::builder()
            .with_sampler(Sampler::AlwaysOn)
            .with_resource(
                opentelemetry_sdk::Resource::builder_empty()
                    .with_service_name(name)
                    .build(),
            )
            .with_batch_exporter(exporter)
            .build();
        let tracer = provider.tracer("socsec");
        tracing::info!(endpoint = %endpoint, "exporting traces over OTLP");
        Ok(Self {
            export: Some(Export { provider, tracer }),
        })
    }

    /// Whether spans are exported.
    pub fn exporting(&self) -> bool {
        self.export.is_some()
    }

    /// The context of a call served: a child of the caller's valid
    /// `traceparent` in `headers`, else the root of a new trace.
    pub fn server(&self, headers: &http::HeaderMap, path: &str) -> Context {
        let parent =
            TraceContextPropagator::new().extract_with_context(&Context::new(), &Headers(headers));
        let (service, method) = path
            .strip_prefix('/')
            .and_then(|p| p.rsplit_once('/'))
            .unwrap_or(("", path));
        let attributes = || {
            vec![
                KeyValue::new("rpc.system", "grpc"),
                KeyValue::new("rpc.service", service.to_owned()),
                KeyValue::new("rpc.method", method.to_owned()),
            ]
        };
        self.child(
            &parent,
            path.trim_start_matches('/'),
            SpanKind::Server,
            attributes,
        )
    }

    /// The context in which a consumer handles an event that carried
    /// `traceparent`/`tracestate` (empty: the producer had none): the same
    /// trace, a span of its own (a child of the producing call's span).
    pub fn consumer(&self, traceparent: &str, tracestate: &str, name: &'static str) -> Context {
        let carried = [("traceparent", traceparent), ("tracestate", tracestate)];
        let parent =
            TraceContextPropagator::new().extract_with_context(&Context::new(), &Pairs(&carried));
        self.child(&parent, name, SpanKind::Consumer, Vec::new)
    }

    /// A new span under `parent` (a new trace if it has no valid span).
    fn child(
        &self,
        parent: &Context,
        name: &str,
        kind: SpanKind,
        attributes: impl FnOnce() -> Vec<KeyValue>,
    ) -> Context {
        if let Some(export) = &self.export {
            let span = export
                .tracer
                .span_builder(name.to_owned())
                .with_kind(kind)
                .with_attributes(attributes())
                .start_with_context(&export.tracer, parent);
            return parent.with_span(span);
        }
        let ids = RandomIdGenerator::default();
        let caller = parent.span().span_context().clone();
        let (trace_id, flags, state) = if caller.is_valid() {
            (
                caller.trace_id(),
                caller.trace_flags(),
                caller.trace_state().clone(),
            )
        } else {
            (ids.new_trace_id(), TraceFlags::default(), TraceState::NONE)
        };
        let span = SpanContext::new(trace_id, ids.new_span_id(), flags, false, state);
        parent.with_remote_span_context(span)
    }

    /// Sends what is left and stops the exporter (a no-op without one).
    pub async fn shutdown(&self) {
        if let Some(export) = &self.export {
            let provider = export.provider.clone();
            let _ = tokio::task::spawn_blocking(move || {
                if let Err(e) = provider.shutdown() {
                    tracing::warn!(error = %e, "trace exporter did not shut down cleanly");
                }
            })
            .await;
        }
    }
}

/// The trace id of `cx`'s span, as logged (32 lowercase hex digits).
pub fn trace_id(cx: &Context) -> String {
    cx.span().span_context().trace_id().to_string()
}

/// The current context's `traceparent` and `tracestate` (empty strings when
/// there is none), as stored with events.
pub fn current_traceparent() -> (String, String) {
    let mut carried = Carried::default();
    TraceContextPropagator::new().inject_context(&Context::current(), &mut carried);
    (carried.traceparent, carried.tracestate)
}

/// Adds the current context's `traceparent`/`tracestate` to a call to
/// another service.
pub fn inject(metadata: &mut tonic::metadata::MetadataMap) {
    TraceContextPropagator::new().inject_context(&Context::current(), &mut Metadata(metadata));
}

/// A `tracing` span for handling one event in `cx`: its log lines carry
/// the trace id.
pub fn event_span(cx: &Context, stream: &'static str, cursor: &str) -> tracing::Span {
    tracing::debug_span!("event", stream, cursor, trace_id = %trace_id(cx))
}

/// Marks `cx`'s exported span failed (no-op when not exported).
pub fn failed(cx: &Context, error: &str) {
    cx.span().set_status(Status::error(error.to_owned()));
}

struct Headers<'a>(&'a http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

struct Pairs<'a>(&'a [(&'static str, &'a str)]);

impl Extractor for Pairs<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| *k == key && !v.is_empty())
            .map(|(_, v)| *v)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| *k).collect()
    }
}

#[derive(Default)]
struct Carried {
    traceparent: String,
    tracestate: String,
}

impl Injector for Carried {
    fn set(&mut self, key: &str, value: String) {
        match key {
            "traceparent" => self.traceparent = value,
            "tracestate" => self.tracestate = value,
            _ => {}
        }
    }
}

struct Metadata<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for Metadata<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            tonic::metadata::MetadataValue::try_from(value),
        ) {
            self.0.insert(key, value);
        }
    }
}

#[cfg(test)]
mod tests;

//! Tracing setup: human-readable lines by default, JSON by option. Every
//! line written while serving a call is inside the call's `grpc` span,
//! whose `trace_id` field (`platform::trace`) both formats show: the human
//! one in the span prefix, JSON in the `spans` list.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::{LogFormat, PlatformConfig};

/// Installs the global subscriber. Does nothing if one is already installed
/// (tests install their own).
pub fn init(config: &PlatformConfig) {
    let filter = EnvFilter::try_new(&config.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match config.log_format {
        LogFormat::Human => registry.with(fmt::layer().with_target(true)).try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    // Every enclosing span, so the call's `trace_id` is on
                    // each line even under a nested span.
                    .with_span_list(true),
            )
            .try_init(),
    };
}

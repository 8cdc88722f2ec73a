//! Tracing setup: human-readable lines by default, JSON by option.

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
                    .with_current_span(true),
            )
            .try_init(),
    };
}

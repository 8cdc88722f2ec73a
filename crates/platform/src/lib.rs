//! What every socsec service needs and nothing domain-specific: configuration,
//! telemetry, the database pool and migrations, the gRPC host (health,
//! reflection, auth, graceful shutdown), errors as `google.rpc.Status`, the
//! bounds on what a request may carry, idempotency, the audit trail and the
//! transactional outbox.

pub mod admission;
pub mod audit;
pub mod auth;
pub mod client;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod fingerprint;
pub mod health_check;
mod health_report;
pub mod host;
pub mod idempotency;
pub mod import;
pub mod json;
pub mod limits;
pub mod message_size;
pub mod metrics;
pub mod mutation;
pub mod outbox;
pub mod paging;
pub mod partitions;
pub mod rate_limit;
pub mod reflection;
pub mod registry;
pub mod retention;
pub mod service;
pub mod session;
pub mod signing;
pub mod tasks;
pub mod telemetry;
pub mod tls;
pub mod tls_incoming;
pub mod trace;
pub mod trust;

/// Masking types for personal data live in `pii`; re-exported for services.
pub use pii as masking;

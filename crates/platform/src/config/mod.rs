//! Configuration in layers: built-in defaults, then an optional TOML file
//! (`--config FILE` or `SOCSEC_CONFIG`), then environment variables:
//! `DATABASE_URL`, then `SOCSEC_<KEY>` for every service, then
//! `SOCSEC_<SERVICE>_<KEY>` for one service. A bad value is reported with its
//! key and source, before any port is opened.

use std::{
    collections::BTreeMap,
    fmt,
    net::SocketAddr,
    path::{Path, PathBuf},
};

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use secrecy::SecretString;

mod validate;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

/// What every service is configured with. Services flatten it into their own
/// configuration struct.
#[derive(Clone, Serialize, Deserialize)]
pub struct PlatformConfig {
    /// Address the gRPC server listens on; port 0 picks a free port.
    pub listen_addr: SocketAddr,
    /// Address of the Prometheus metrics port (plain HTTP, `GET /metrics`),
    /// for Prometheus on the internal network only. Off unless set; port 0
    /// picks a free port.
    #[serde(default)]
    pub metrics_listen: Option<SocketAddr>,
    /// Where spans are sent over OTLP/gRPC (an OpenTelemetry Collector,
    /// e.g. `http://127.0.0.1:4317`). Off unless set: then nothing is
    /// exported and no exporter runs; trace ids are propagated and logged
    /// either way.
    #[serde(default)]
    pub otlp_endpoint: Option<String>,
    /// `postgres://user:password@host:port/database`.
    pub database_url: String,
    /// The Postgres schema that holds this service's tables and migration history.
    pub database_schema: String,
    pub database_max_connections: u32,
    /// How long a call waits for a free database connection before it is
    /// refused as UNAVAILABLE.
    pub database_acquire_timeout_ms: u64,
    /// Longest single SQL statement (Postgres `statement_timeout`).
    pub database_statement_timeout_ms: u64,
    /// Longest wait for a row or advisory lock (Postgres `lock_timeout`).
    pub database_lock_timeout_ms: u64,
    /// A transaction left idle this long is ended by the server, releasing
    /// its locks and request-id claims (a frozen or vanished process).
    pub database_idle_in_transaction_timeout_ms: u64,
    /// HTTP/2 keepalive: a ping after this much silence on every server and
    /// client connection (event streams included) …
    pub keepalive_interval_ms: u64,
    /// … and the connection is closed if the ping is not answered in this
    /// time, so a half-open stream is noticed and re-established.
    pub keepalive_timeout_ms: u64,
    /// `human` or `json`.
    pub log_format: LogFormat,
    /// A `tracing` filter, e.g. `info` or `info,identity=debug`.
    pub log_filter: String,
    /// How long in-flight calls may take to finish after SIGTERM/SIGINT.
    pub drain_timeout_ms: u64,
    /// How often the database is checked for the health service (each
    /// check waits at most 500 ms): health follows the database within
    /// this plus half a second.
    pub health_check_interval_ms: u64,
    /// Serve gRPC reflection (for grpcurl and buf curl). Off unless enabled.
    pub reflection: bool,
    /// Accept the development credential `x-socsec-dev-caller: KIND:CODE`.
    /// Off unless enabled; for local experiments without certificates.
    pub dev_credentials: bool,
    /// Serve and call without TLS. Off unless enabled; then callers can only
    /// be named by `dev_credentials` or session tokens.
    pub plaintext: bool,
    /// Replaced by `tls_partner_ca_file` and `tls_internal_ca_file`;
    /// refused when set, so an old configuration is not half applied.
    pub tls_ca_file: Option<PathBuf>,
    /// PEM certificate of the partner CA: it issues partners' certificates.
    pub tls_partner_ca_file: Option<PathBuf>,
    /// PEM certificate of the internal CA: it issues the services'
    /// certificates (this one's included) and the operators'.
    pub tls_internal_ca_file: Option<PathBuf>,
    /// The partner CA's certificate revocation list (PEM or DER), signed by it.
    pub tls_partner_crl_file: Option<PathBuf>,
    /// The internal CA's certificate revocation list (PEM or DER), signed by it.
    pub tls_internal_crl_file: Option<PathBuf>,
    /// How often the revocation list files are looked at for a new version.
    pub tls_crl_reload_ms: u64,
    /// PEM certificate of this service (server and client).
    pub tls_cert_file: Option<PathBuf>,
    /// PEM private key of `tls_cert_file`.
    pub tls_key_file: Option<PathBuf>,
    /// Largest request or response message, in bytes.
    pub max_message_bytes: usize,
    /// Calls served at once, over all connections; more wait in a queue
    /// (see `platform::admission`).
    pub max_concurrent_calls: usize,
    /// Calls that may wait for one of those places; more are refused at
    /// once (`RESOURCE_EXHAUSTED` / `OVERLOADED`, with a retry delay).
    pub max_queued_calls: usize,
    /// How long a call waits in that queue before it is refused (never
    /// past its own deadline).
    pub max_queue_wait_ms: u64,
    /// Calls one caller (or the partner a service acts for) may have
    /// served and waiting at once (`CALLER_OVER_SHARE` beyond).
    pub max_calls_per_caller: usize,
    /// How long audit records are kept, in days (at least 183: six months).
    pub audit_retention_days: u32,
    /// How long answers to request ids are kept, in days (at least 7: a
    /// partner's retry after that is a new request).
    pub idempotency_retention_days: u32,
    /// How long published events are kept, in days; a consumer further
    /// behind is refused (`CURSOR_EXPIRED`) and must resynchronise.
    pub outbox_retention_days: u32,
    /// Key (at least 32 bytes) that signs and checks persons' session tokens.
    /// Shared by every service that accepts persons' calls.
    /// Never serialized; shown as `[REDACTED]`.
    #[serde(default, skip_serializing)]
    pub session_token_secret: Option<SecretString>,
    /// Session token keys by key id (1-32 of `A-Z a-z 0-9 _ -`), each at
    /// least 32 bytes, for rotating keys: a token is checked with the key its
    /// key id names, while that key is listed. `session_token_secret` is the
    /// key with id `default`. Never serialized.
    #[serde(default, skip_serializing)]
    pub session_token_keys: BTreeMap<String, SecretString>,
    /// The key id identity signs new tokens with: one of
    /// `session_token_keys` (or `default`). Unset: `default` when
    /// `session_token_secret` is set, else the only key listed.
    #[serde(default)]
    pub session_token_signing_key: Option<String>,
}

/// A week: partners retry a request for up to this long.
pub const MIN_IDEMPOTENCY_RETENTION_DAYS: u32 = 7;

/// Six months: the shortest audit retention a deployment may configure.
pub const MIN_AUDIT_RETENTION_DAYS: u32 = 183;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

impl PlatformConfig {
    /// How many calls this service serves and holds (see `admission`).
    pub fn admission(&self) -> crate::admission::AdmissionSettings {
        crate::admission::AdmissionSettings {
            max_concurrent_calls: self.max_concurrent_calls,
            max_queued_calls: self.max_queued_calls,
            max_queue_wait: std::time::Duration::from_millis(self.max_queue_wait_ms),
            max_calls_per_caller: self.max_calls_per_caller,
        }
    }

    /// Defaults for a service listening on `port` with its tables in `schema`.
    pub fn defaults(port: u16, schema: &str) -> Self {
        Self {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], port)),
            metrics_listen: None,
            otlp_endpoint: None,
            database_url: "postgres://postgres@127.0.0.1:5432/socsec".into(),
            database_schema: schema.into(),
            database_max_connections: 16,
            database_acquire_timeout_ms: 5_000,
            database_statement_timeout_ms: 60_000,
            database_lock_timeout_ms: 10_000,
            database_idle_in_transaction_timeout_ms: 15_000,
            keepalive_interval_ms: 10_000,
            keepalive_timeout_ms: 10_000,
            log_format: LogFormat::Human,
            log_filter: "info".into(),
            drain_timeout_ms: 10_000,
            health_check_interval_ms: 250,
            reflection: false,
            dev_credentials: false,
            plaintext: false,
            tls_ca_file: None,
            tls_partner_ca_file: None,
            tls_internal_ca_file: None,
            tls_partner_crl_file: None,
            tls_internal_crl_file: None,
            tls_crl_reload_ms: 2_000,
            tls_cert_file: None,
            tls_key_file: None,
            max_message_bytes: 4 * 1024 * 1024,
            max_concurrent_calls: 64,
            max_queued_calls: 256,
            max_queue_wait_ms: 100,
            max_calls_per_caller: 32,
            audit_retention_days: 366,
            idempotency_retention_days: 30,
            outbox_retention_days: 30,
            session_token_secret: None,
            session_token_keys: BTreeMap::new(),
            session_token_signing_key: None,
        }
    }

    /// The session token keys configured, if any (see
    /// `session_token_secret`, `session_token_keys`, `session_token_signing_key`).
    pub fn session_keys(&self) -> Option<crate::session::SessionKeys> {
        use secrecy::ExposeSecret;
        let mut keys: Vec<(&str, &str)> = self
            .session_token_keys
            .iter()
            .map(|(id, secret)| (id.as_str(), secret.expose_secret()))
            .collect();
        if let Some(secret) = &self.session_token_secret {
            keys.push((crate::session::DEFAULT_KEY_ID, secret.expose_secret()));
        }
        if keys.is_empty() {
            return None;
        }
        let signing = match &self.session_token_signing_key {
            Some(id) => Some(id.as_str()),
            None if self.session_token_secret.is_some() => Some(crate::session::DEFAULT_KEY_ID),
            None if keys.len() == 1 => Some(keys[0].0),
            None => None,
        };
        Some(crate::session::SessionKeys::rotating(keys, signing))
    }
}

impl fmt::Debug for PlatformConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The database URL may carry a password and the secret is a secret.
        f.debug_struct("PlatformConfig")
            .field("listen_addr", &self.listen_addr)
            .field("metrics_listen", &self.metrics_listen)
            .field("otlp_endpoint", &self.otlp_endpoint)
            .field("database_url", &redact_password(&self.database_url))
            .field("database_schema", &self.database_schema)
            .field("database_max_connections", &self.database_max_connections)
            .field(
                "database_timeouts_ms",
                &(
                    self.database_acquire_timeout_ms,
                    self.database_statement_timeout_ms,
                    self.database_lock_timeout_ms,
                    self.database_idle_in_transaction_timeout_ms,
                ),
            )
            .field(
                "keepalive_ms",
                &(self.keepalive_interval_ms, self.keepalive_timeout_ms),
            )
            .field("log_format", &self.log_format)
            .field("log_filter", &self.log_filter)
            .field("drain_timeout_ms", &self.drain_timeout_ms)
            .field("reflection", &self.reflection)
            .field("dev_credentials", &self.dev_credentials)
            .field("plaintext", &self.plaintext)
            .field("tls_ca_file", &self.tls_ca_file)
            .field("tls_partner_ca_file", &self.tls_partner_ca_file)
            .field("tls_internal_ca_file", &self.tls_internal_ca_file)
            .field("tls_partner_crl_file", &self.tls_partner_crl_file)
            .field("tls_internal_crl_file", &self.tls_internal_crl_file)
            .field("tls_crl_reload_ms", &self.tls_crl_reload_ms)
            .field("tls_cert_file", &self.tls_cert_file)
            .field("tls_key_file", &self.tls_key_file)
            .field("max_message_bytes", &self.max_message_bytes)
            .field("max_concurrent_calls", &self.max_concurrent_calls)
            .field("max_queued_calls", &self.max_queued_calls)
            .field("max_queue_wait_ms", &self.max_queue_wait_ms)
            .field("max_calls_per_caller", &self.max_calls_per_caller)
            .field("audit_retention_days", &self.audit_retention_days)
            .field(
                "idempotency_retention_days",
                &self.idempotency_retention_days,
            )
            .field("outbox_retention_days", &self.outbox_retention_days)
            .field("session_token_secret", &self.session_token_secret)
            .field("session_token_keys", &self.session_token_keys)
            .field("session_token_signing_key", &self.session_token_signing_key)
            .finish()
    }
}

fn redact_password(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("configuration: `{key}` {problem}")]
    Invalid { key: &'static str, problem: String },
}

impl ConfigError {
    pub fn invalid(key: &'static str, problem: impl Into<String>) -> Self {
        Self::Invalid {
            key,
            problem: problem.into(),
        }
    }
}

/// Loads a service's configuration. `service` names its environment prefix:
/// `identity` reads `SOCSEC_IDENTITY_*`.
pub fn load<C>(service: &str, file: Option<&Path>, defaults: C) -> Result<C, ConfigError>
where
    C: Serialize + DeserializeOwned,
{
    let service_prefix = format!("SOCSEC_{}_", service.to_ascii_uppercase().replace('-', "_"));
    let file = file
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("SOCSEC_CONFIG").map(Into::into));

    let mut figment = Figment::from(Serialized::defaults(defaults));
    if let Some(file) = file {
        figment = figment.merge(Toml::file_exact(file));
    }
    let shared_prefixes = [
        "IDENTITY_",
        "CARD_ISSUANCE_",
        "ACTIVATION_",
        "CONTRIBUTION_",
        "CONFIG",
    ];
    figment = figment
        .merge(Env::raw().only(&["database_url"]))
        .merge(Env::prefixed("SOCSEC_").filter(move |key| {
            let key = key.as_str().to_ascii_uppercase();
            !shared_prefixes.iter().any(|p| key.starts_with(p))
        }))
        .merge(Env::prefixed(&service_prefix));
    figment
        .extract()
        .map_err(|e| ConfigError::Load(Box::new(e)))
}

#[cfg(test)]
mod tests;

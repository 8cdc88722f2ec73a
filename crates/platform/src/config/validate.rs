//! What types alone cannot check: each bad value named with its key,
//! before any port opens.

use secrecy::ExposeSecret;

use super::{
    ConfigError, MIN_AUDIT_RETENTION_DAYS, MIN_IDEMPOTENCY_RETENTION_DAYS, PlatformConfig,
};

impl PlatformConfig {
    /// Checks what types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_database()?;
        self.validate_serving()
    }

    /// The part `--migrate-only` needs: where the database and the schema are.
    pub fn validate_database(&self) -> Result<(), ConfigError> {
        if !(self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::invalid(
                "database_url",
                "must start with postgres:// or postgresql://",
            ));
        }
        let schema = &self.database_schema;
        let valid_schema = schema.len() <= 63
            && schema.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && schema
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid_schema {
            return Err(ConfigError::invalid(
                "database_schema",
                "must be 1-63 characters of a-z, 0-9 and _, not starting with a digit",
            ));
        }
        Ok(())
    }

    /// Everything else, for a service about to serve.
    fn validate_serving(&self) -> Result<(), ConfigError> {
        if let Some(metrics) = self.metrics_listen
            && metrics.port() != 0
            && metrics.port() == self.listen_addr.port()
            && (metrics.ip() == self.listen_addr.ip()
                || metrics.ip().is_unspecified()
                || self.listen_addr.ip().is_unspecified())
        {
            return Err(ConfigError::invalid(
                "metrics_listen",
                "must be another port than listen_addr",
            ));
        }
        if let Some(endpoint) = &self.otlp_endpoint
            && !(endpoint.starts_with("http://") && endpoint.parse::<http::Uri>().is_ok())
        {
            return Err(ConfigError::invalid(
                "otlp_endpoint",
                "must be an http:// URL of an OTLP/gRPC receiver (a collector beside the service)",
            ));
        }
        if self.database_max_connections == 0 {
            return Err(ConfigError::invalid(
                "database_max_connections",
                "must be at least 1",
            ));
        }
        if let Some(secret) = &self.session_token_secret
            && secret.expose_secret().len() < 32
        {
            return Err(ConfigError::invalid(
                "session_token_secret",
                "must be at least 32 bytes",
            ));
        }
        for (id, secret) in &self.session_token_keys {
            if !crate::session::is_valid_key_id(id) || id == crate::session::DEFAULT_KEY_ID {
                return Err(ConfigError::invalid(
                    "session_token_keys",
                    "key ids must be 1-32 of A-Z a-z 0-9 _ - (and not `default`: that is session_token_secret)",
                ));
            }
            if secret.expose_secret().len() < 32 {
                return Err(ConfigError::invalid(
                    "session_token_keys",
                    "every key must be at least 32 bytes",
                ));
            }
        }
        if let Some(signing) = &self.session_token_signing_key {
            let listed = self.session_token_keys.contains_key(signing)
                || (signing == crate::session::DEFAULT_KEY_ID
                    && self.session_token_secret.is_some());
            if !listed {
                return Err(ConfigError::invalid(
                    "session_token_signing_key",
                    "must name a key of session_token_keys (or `default` for session_token_secret)",
                ));
            }
        }
        for (key, value) in [
            (
                "database_acquire_timeout_ms",
                self.database_acquire_timeout_ms,
            ),
            (
                "database_statement_timeout_ms",
                self.database_statement_timeout_ms,
            ),
            ("database_lock_timeout_ms", self.database_lock_timeout_ms),
            (
                "database_idle_in_transaction_timeout_ms",
                self.database_idle_in_transaction_timeout_ms,
            ),
            ("keepalive_interval_ms", self.keepalive_interval_ms),
            ("keepalive_timeout_ms", self.keepalive_timeout_ms),
        ] {
            // 0 would mean "no limit" to Postgres: refuse it, every wait is bounded.
            if value == 0 || value > 86_400_000 {
                return Err(ConfigError::invalid(
                    key,
                    "must be between 1 and 86400000 (a day)",
                ));
            }
        }
        if self.max_message_bytes < 1024 {
            return Err(ConfigError::invalid(
                "max_message_bytes",
                "must be at least 1024",
            ));
        }
        for (key, value) in [
            ("max_concurrent_calls", self.max_concurrent_calls),
            ("max_calls_per_caller", self.max_calls_per_caller),
        ] {
            if value == 0 {
                return Err(ConfigError::invalid(key, "must be at least 1"));
            }
        }
        if self.max_queue_wait_ms > 60_000 {
            return Err(ConfigError::invalid(
                "max_queue_wait_ms",
                "must be at most 60000 (a minute)",
            ));
        }
        if self.audit_retention_days < MIN_AUDIT_RETENTION_DAYS {
            return Err(ConfigError::invalid(
                "audit_retention_days",
                format!("must be at least {MIN_AUDIT_RETENTION_DAYS} (six months)"),
            ));
        }
        if self.idempotency_retention_days < MIN_IDEMPOTENCY_RETENTION_DAYS {
            return Err(ConfigError::invalid(
                "idempotency_retention_days",
                format!(
                    "must be at least {MIN_IDEMPOTENCY_RETENTION_DAYS} (partners retry for up to a week)"
                ),
            ));
        }
        if self.outbox_retention_days < 1 {
            return Err(ConfigError::invalid(
                "outbox_retention_days",
                "must be at least 1",
            ));
        }
        if self.dev_credentials && !self.plaintext {
            return Err(ConfigError::invalid(
                "dev_credentials",
                "is only for plaintext development setups (`plaintext = true`); with TLS, \
                 callers are named by their certificates",
            ));
        }
        if self.dev_credentials && !self.listen_addr.ip().is_loopback() {
            return Err(ConfigError::invalid(
                "dev_credentials",
                format!(
                    "is only for a development setup on this machine: listen_addr {} is not a \
                     loopback address, and whoever reaches it could name themselves any caller",
                    self.listen_addr
                ),
            ));
        }
        if self.tls_ca_file.is_some() {
            return Err(ConfigError::invalid(
                "tls_ca_file",
                "is no longer used: name the partner CA (`tls_partner_ca_file`), the internal \
                 CA of the services and operators (`tls_internal_ca_file`) and their \
                 revocation lists (`tls_partner_crl_file`, `tls_internal_crl_file`) instead",
            ));
        }
        if !(100..=3_600_000).contains(&self.tls_crl_reload_ms) {
            return Err(ConfigError::invalid(
                "tls_crl_reload_ms",
                "must be between 100 and 3600000 (an hour)",
            ));
        }
        if !self.plaintext {
            for (key, value) in [
                ("tls_partner_ca_file", &self.tls_partner_ca_file),
                ("tls_internal_ca_file", &self.tls_internal_ca_file),
                ("tls_partner_crl_file", &self.tls_partner_crl_file),
                ("tls_internal_crl_file", &self.tls_internal_crl_file),
                ("tls_cert_file", &self.tls_cert_file),
                ("tls_key_file", &self.tls_key_file),
            ] {
                if value.is_none() {
                    return Err(ConfigError::invalid(
                        key,
                        "is required unless `plaintext = true` (see deploy/run.sh for development certificates)",
                    ));
                }
            }
        }
        tracing_subscriber::EnvFilter::try_new(&self.log_filter)
            .map_err(|e| ConfigError::invalid("log_filter", e.to_string()))?;
        Ok(())
    }
}

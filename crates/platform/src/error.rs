//! Errors as partners see them: a `google.rpc.Status` whose details carry an
//! `ErrorInfo` with a stable UPPER_SNAKE `reason` (always) and, for invalid
//! input, a `BadRequest` listing every bad field at once.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// The `ErrorInfo.domain` of every socsec error.
pub const ERROR_DOMAIN: &str = "socsec";

/// A status with an `ErrorInfo` reason.
pub fn status(code: Code, reason: &str, message: impl Into<String>) -> Status {
    status_with_metadata(code, reason, message, HashMap::new())
}

/// A status with an `ErrorInfo` reason and metadata (for example the current
/// state of the thing that refused the call). Metadata must never carry
/// unmasked personal data.
pub fn status_with_metadata(
    code: Code,
    reason: &str,
    message: impl Into<String>,
    metadata: HashMap<String, String>,
) -> Status {
    let details = ErrorDetails::with_error_info(reason, ERROR_DOMAIN, metadata);
    Status::with_error_details(code, message, details)
}

/// The status for an unexpected failure (database down, bug): the caller
/// learns nothing of the cause, which is logged by the caller of this function.
pub fn internal() -> Status {
    status(
        Code::Internal,
        "INTERNAL",
        "internal error; it has been logged",
    )
}

/// The status for a failed database operation. A database that cannot be
/// reached, is shutting down, or did not answer in time (statement, lock or
/// pool timeout, a broken connection, a deadlock or serialization failure)
/// is `UNAVAILABLE` / `DATABASE_UNAVAILABLE` with a retry delay: the caller
/// may retry with the same request id and loses nothing. Anything else is a
/// bug: `INTERNAL`. The cause is logged here, never sent.
pub fn database(e: &sqlx::Error) -> Status {
    if matches!(e, sqlx::Error::PoolTimedOut) {
        crate::metrics::pool_timed_out();
    }
    if is_transient(e) {
        tracing::warn!(error = %e, "database unavailable");
        let mut details =
            ErrorDetails::with_error_info("DATABASE_UNAVAILABLE", ERROR_DOMAIN, HashMap::new());
        details.set_retry_info(Some(std::time::Duration::from_secs(1)));
        Status::with_error_details(
            Code::Unavailable,
            "the database is unavailable; retry with the same request id",
            details,
        )
    } else {
        tracing::error!(error = %e, "database operation failed");
        internal()
    }
}

/// Whether a database error is a fault of availability (retry) rather than
/// a bug.
pub fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            let code = code.as_ref();
            // 55000 is also raised by mistakes in SQL; only a database
            // closed to connections (ALLOW_CONNECTIONS false, maintenance)
            // is a fault of availability.
            if code == "55000" {
                return db.message().contains("accepting connections");
            }
            // 08: connection exception; 57P0x: shutdown / cannot connect now;
            // 57014: statement timeout; 55P03: lock timeout; 25P03: idle in
            // transaction timeout; 40001 / 40P01: serialization failure,
            // deadlock; 53: insufficient resources; 25006: a write reached
            // a read-only node — during a failover, a connection made to the
            // old primary as it came back as a standby, before the proxy
            // moved (the services never open read-only transactions).
            code.starts_with("08")
                || code.starts_with("57P")
                || code.starts_with("53")
                || matches!(
                    code,
                    "57014" | "55P03" | "25P03" | "40001" | "40P01" | "25006"
                )
        }),
        _ => false,
    }
}

/// How many bad fields one refusal lists (see [`FieldViolations::into_status`]).
pub const MAX_LISTED_VIOLATIONS: usize = 20;

/// Every bad field of one request, collected so the caller sees them all at once.
#[derive(Debug, Default)]
pub struct FieldViolations(Vec<FieldViolation>);

impl FieldViolations {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `field` (its proto path, e.g. `basic_info.name`) is bad
    /// for `reason` (UPPER_SNAKE). `description` must not repeat personal data.
    pub fn add(&mut self, field: &str, reason: &str, description: impl ToString) {
        let mut violation = FieldViolation::new(field, description.to_string());
        violation.reason = reason.to_owned();
        self.0.push(violation);
    }

    /// Records `result`'s error, if any, against `field`; returns the value.
    pub fn check<T, E: Reason>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        result
            .map_err(|e| self.add(field, e.reason(), e.to_string()))
            .ok()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The parsed request if no violation was recorded (and every part
    /// parsed), otherwise the `INVALID_ARGUMENT` status listing them all.
    pub fn finish<T>(self, parsed: Option<T>) -> Result<T, Status> {
        match parsed {
            Some(parsed) if self.0.is_empty() => Ok(parsed),
            _ => Err(self.into_status()),
        }
    }

    /// `INVALID_ARGUMENT`; the `ErrorInfo.reason` is the first violation's
    /// reason, `ErrorInfo.metadata["fields"]` lists the bad fields and
    /// `metadata["violations"]` counts them. At most [`MAX_LISTED_VIOLATIONS`]
    /// are listed (in the message, `fields` and the `BadRequest`), the first
    /// ones: the status travels in HTTP/2 trailers, which clients cap (16 KiB
    /// in hyper/tonic, 8 KiB in grpc-java), and a batch of a thousand bad
    /// entries listed in full would be refused by the client's HTTP/2 layer
    /// — sometimes taking the caller's whole connection down with it.
    pub fn into_status(mut self) -> Status {
        let reason = self
            .0
            .first()
            .map(|v| v.reason.clone())
            .unwrap_or_else(|| "INVALID_ARGUMENT".into());
        let total = self.0.len();
        self.0.truncate(MAX_LISTED_VIOLATIONS);
        let fields: Vec<&str> = self.0.iter().map(|v| v.field.as_str()).collect();
        let mut message = format!("invalid request: {}", fields.join(", "));
        if total > fields.len() {
            message.push_str(&format!(" (the first {} of {total})", fields.len()));
        }
        let metadata = HashMap::from([
            ("fields".to_owned(), fields.join(",")),
            ("violations".to_owned(), total.to_string()),
        ]);
        let mut details = ErrorDetails::with_error_info(reason, ERROR_DOMAIN, metadata);
        details.set_bad_request(self.0);
        Status::with_error_details(Code::InvalidArgument, message, details)
    }
}

/// `Some((a, b, …))` if every argument is `Some`: the parts of a request
/// that all parsed.
#[macro_export]
macro_rules! all_some {
    ($($part:expr),+ $(,)?) => {
        (|| Some(($($part?,)+)))()
    };
}

/// An error with a stable, machine-readable reason.
pub trait Reason: std::fmt::Display {
    fn reason(&self) -> &'static str;
}

macro_rules! reason_for {
    ($($t:ty),*) => {$(
        impl Reason for $t {
            fn reason(&self) -> &'static str {
                <$t>::reason(self)
            }
        }
    )*};
}
reason_for!(
    pii::IdNumberError,
    pii::CreditCodeError,
    pii::PersonNameError,
    pii::PartnerCodeError,
    pii::RegionCodeError,
    pii::CardIdError
);

/// Reads a UUID identifier field (reason `ID_INVALID`).
pub fn uuid(violations: &mut FieldViolations, field: &str, value: &str) -> Option<uuid::Uuid> {
    let parsed = uuid::Uuid::parse_str(value).ok();
    if parsed.is_none() {
        violations.add(field, "ID_INVALID", "must be a UUID");
    }
    parsed
}

/// Reads a 6-digit region code field.
pub fn region_code(violations: &mut FieldViolations, field: &str, value: &str) -> Option<String> {
    violations
        .check(field, pii::RegionCode::parse(value))
        .map(String::from)
}

/// A handler's result as tonic wants it.
pub fn respond<T, E: Into<Status>>(result: Result<T, E>) -> Result<tonic::Response<T>, Status> {
    result.map(tonic::Response::new).map_err(Into::into)
}

/// Reads a required string field: trimmed, non-empty.
pub fn required<'a>(
    violations: &mut FieldViolations,
    field: &str,
    value: &'a str,
) -> Option<&'a str> {
    let value = value.trim();
    if value.is_empty() {
        violations.add(field, "FIELD_REQUIRED", "is required");
        None
    } else {
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_field_is_reported_with_its_reason() {
        let mut violations = FieldViolations::new();
        violations.add(
            "id_number",
            "ID_NUMBER_CHECK_CHARACTER",
            "check character does not match",
        );
        violations.add("basic_info.name", "NAME_EMPTY", "must not be empty");
        let status = violations.into_status();
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let info = details.error_info().unwrap();
        assert_eq!(info.reason, "ID_NUMBER_CHECK_CHARACTER");
        assert_eq!(info.metadata["fields"], "id_number,basic_info.name");
        let bad = details.bad_request().unwrap();
        assert_eq!(bad.field_violations.len(), 2);
        assert_eq!(bad.field_violations[1].reason, "NAME_EMPTY");
        assert_eq!(info.metadata["violations"], "2");
    }

    #[test]
    fn a_thousand_bad_fields_are_counted_and_the_first_ones_listed() {
        let mut violations = FieldViolations::new();
        for i in 0..1000 {
            violations.add(&format!("id_numbers[{i}]"), "FIELD_REQUIRED", "is required");
        }
        let status = violations.into_status();
        let details = status.get_error_details();
        let info = details.error_info().unwrap();
        assert_eq!(info.metadata["violations"], "1000");
        let listed: Vec<String> = (0..MAX_LISTED_VIOLATIONS)
            .map(|i| format!("id_numbers[{i}]"))
            .collect();
        assert_eq!(info.metadata["fields"], listed.join(","));
        let bad = details.bad_request().unwrap();
        assert_eq!(bad.field_violations.len(), MAX_LISTED_VIOLATIONS);
        assert!(status.message().ends_with("(the first 20 of 1000)"));
        // The whole status, as trailers, fits grpc-java's 8 KiB.
        let trailers = status.message().len() + status.details().len() * 4 / 3;
        assert!(trailers < 8 * 1024, "{trailers} bytes");
    }
}

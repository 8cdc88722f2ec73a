//! The identity service's errors and the gRPC status each becomes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use platform::{
    error::{self, FieldViolations},
    idempotency::IdempotencyError,
};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::domain::{
    access::NotOwnRecord,
    basic_info::{GenderMismatch, Refusal},
    partner::ParentNotABank,
};

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// `INVALID_ARGUMENT`, every bad field in `BadRequest`.
    #[error("invalid request")]
    Invalid(Status),
    /// `ALREADY_EXISTS` / `PERSON_ALREADY_REGISTERED`.
    #[error("a person with this ID number is already registered")]
    PersonAlreadyRegistered,
    /// `NOT_FOUND` / `PERSON_NOT_FOUND`.
    #[error("no such person")]
    PersonNotFound,
    /// `FAILED_PRECONDITION` / `VERSION_MISMATCH`, with the current version.
    #[error("the record is at version {current}, not the version given")]
    VersionMismatch { current: i32 },
    /// `INVALID_ARGUMENT` / `GENDER_MISMATCH` on `basic_info.gender`: a
    /// correction contradicts the ID number on record.
    #[error("the gender does not agree with the ID number")]
    GenderMismatch,
    /// `FAILED_PRECONDITION` / `BASIC_INFO_ALREADY_CONFIRMED`.
    #[error("this version of the basic information is already confirmed")]
    AlreadyConfirmed,
    /// `PERMISSION_DENIED` / `NOT_OWN_RECORD`: a person asked for someone else's data.
    #[error("a person may only see and confirm their own record")]
    NotOwnRecord,
    /// `UNAUTHENTICATED` / `SIGN_IN_FAILED`: wrong ID number or password
    /// (which one is not said).
    #[error("ID number or password is wrong")]
    SignInFailed,
    /// `UNAUTHENTICATED` / `SIGN_IN_DELAYED`: after wrong passwords in a row
    /// the next attempt must wait until `until` (metadata `not_before`, and a
    /// `RetryInfo` delay). Attempts before then are not judged.
    #[error("too many wrong passwords in a row; wait before the next attempt")]
    SignInDelayed {
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    /// `RESOURCE_EXHAUSTED` with a reason (`SIGN_IN_RATE_LIMITED`,
    /// `SIGN_IN_BUSY`, `VERIFY_IDENTITY_RATE_LIMITED`) and a `RetryInfo` delay.
    #[error("rate limited")]
    RateLimited(Status),
    /// `ALREADY_EXISTS` / `PARTNER_ALREADY_REGISTERED`.
    #[error("a partner with this code or credit code is already registered")]
    PartnerAlreadyRegistered,
    /// `NOT_FOUND` / `PARTNER_NOT_FOUND`.
    #[error("no such partner")]
    PartnerNotFound,
    /// `FAILED_PRECONDITION` / `PARENT_NOT_A_BANK`.
    #[error("a bank outlet's parent must be a registered bank")]
    ParentNotABank,
    #[error(transparent)]
    Idempotency(#[from] IdempotencyError),
    /// `UNAVAILABLE` / `DATABASE_UNAVAILABLE` when the database is down or
    /// timed out (retry), otherwise `INTERNAL`; the cause is logged, never sent.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<IdentityError> for Status {
    fn from(e: IdentityError) -> Self {
        let reason =
            |code, reason: &str, e: &IdentityError| error::status(code, reason, e.to_string());
        match e {
            IdentityError::Invalid(status) => status,
            IdentityError::PersonAlreadyRegistered => {
                reason(Code::AlreadyExists, "PERSON_ALREADY_REGISTERED", &e)
            }
            IdentityError::PersonNotFound => reason(Code::NotFound, "PERSON_NOT_FOUND", &e),
            IdentityError::VersionMismatch { current } => error::status_with_metadata(
                Code::FailedPrecondition,
                "VERSION_MISMATCH",
                e.to_string(),
                HashMap::from([("current_version".to_owned(), current.to_string())]),
            ),
            IdentityError::GenderMismatch => {
                let mut violations = FieldViolations::new();
                violations.add("basic_info.gender", GenderMismatch.reason(), GenderMismatch);
                violations.into_status()
            }
            IdentityError::AlreadyConfirmed => {
                reason(Code::FailedPrecondition, "BASIC_INFO_ALREADY_CONFIRMED", &e)
            }
            IdentityError::NotOwnRecord => reason(Code::PermissionDenied, "NOT_OWN_RECORD", &e),
            IdentityError::SignInFailed => reason(Code::Unauthenticated, "SIGN_IN_FAILED", &e),
            IdentityError::SignInDelayed { until, now } => {
                let wait = (until - now).to_std().unwrap_or_default();
                let metadata = HashMap::from([
                    ("not_before".to_owned(), until.to_rfc3339()),
                    ("retry_after_ms".to_owned(), wait.as_millis().to_string()),
                ]);
                let mut details =
                    ErrorDetails::with_error_info("SIGN_IN_DELAYED", error::ERROR_DOMAIN, metadata);
                details.set_retry_info(Some(wait));
                Status::with_error_details(Code::Unauthenticated, e.to_string(), details)
            }
            IdentityError::RateLimited(status) => status,
            IdentityError::PartnerAlreadyRegistered => {
                reason(Code::AlreadyExists, "PARTNER_ALREADY_REGISTERED", &e)
            }
            IdentityError::PartnerNotFound => reason(Code::NotFound, "PARTNER_NOT_FOUND", &e),
            IdentityError::ParentNotABank => {
                reason(Code::FailedPrecondition, "PARENT_NOT_A_BANK", &e)
            }
            IdentityError::Idempotency(e) => e.into_status(),
            IdentityError::Database(e) => error::database(&e),
        }
    }
}

impl From<Refusal> for IdentityError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::VersionMismatch { current } => Self::VersionMismatch { current },
            Refusal::AlreadyConfirmed => Self::AlreadyConfirmed,
            Refusal::GenderMismatch => Self::GenderMismatch,
        }
    }
}

impl From<NotOwnRecord> for IdentityError {
    fn from(_: NotOwnRecord) -> Self {
        Self::NotOwnRecord
    }
}

impl From<ParentNotABank> for IdentityError {
    fn from(_: ParentNotABank) -> Self {
        Self::ParentNotABank
    }
}

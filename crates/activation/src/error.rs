//! The activation service's errors and the gRPC status each becomes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use platform::{error, idempotency::IdempotencyError};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::domain::{Channel, Refusal};

#[derive(Debug, thiserror::Error)]
pub enum ActivationError {
    /// `INVALID_ARGUMENT`, every bad field in `BadRequest`.
    #[error("invalid request")]
    Invalid(Status),
    /// `NOT_FOUND` / `CARD_NOT_FOUND`: no card with this number and
    /// identification code (a wrong or missing code is answered exactly
    /// like a number that does not exist); also while card-issuance's
    /// latest events are still on their way: retry shortly.
    #[error("no card with this number and identification code")]
    CardNotFound,
    /// `NOT_FOUND` / `LEGACY_CARD_NOT_FOUND`.
    #[error("no such old medical insurance card")]
    LegacyCardNotFound,
    /// `FAILED_PRECONDITION` / `CARD_ALREADY_ACTIVE`, with the original
    /// `channel` and `activated_at` (not which partner: that a hospital or
    /// pharmacy activated the card is a medical visit, no business of the
    /// next partner).
    #[error("the card is already active")]
    AlreadyActive { channel: Channel, at: DateTime<Utc> },
    /// `FAILED_PRECONDITION` / `CARD_LOST`, `CARD_REPLACED`, `CARD_CANCELLED`.
    #[error("the card can no longer be used")]
    CardUnusable { reason: &'static str },
    /// `PERMISSION_DENIED` / `PARTNER_NOT_DESIGNATED`.
    #[error("the partner is not designated, or its designation is not in force")]
    PartnerNotDesignated,
    /// `PERMISSION_DENIED` / `CARD_OF_ANOTHER_BANK`.
    #[error("the card carries another bank's financial function")]
    CardOfAnotherBank,
    /// `FAILED_PRECONDITION` / `HOLDER_MISMATCH`: the ID number (or name) is
    /// not the card holder's.
    #[error("the ID certificate presented is not the card holder's")]
    HolderMismatch,
    /// `RESOURCE_EXHAUSTED` / `PRESENTATION_LIMIT` with a `RetryInfo`
    /// delay: the caller presented too many cards that were not found
    /// (or failed too many holder checks) within the window.
    #[error("too many failed card presentations; retry later")]
    PresentationLimit { retry_after: std::time::Duration },
    /// `FAILED_PRECONDITION` / `FINANCIAL_DETAILS_MISMATCH`: serial number,
    /// ID number and bank card number do not all belong to one card.
    #[error("serial number, ID number and bank card number do not match one card")]
    FinancialDetailsMismatch,
    /// `FAILED_PRECONDITION` / `LEGACY_CARD_OF_ANOTHER_PERSON`.
    #[error("the old medical insurance card and the new card belong to different persons")]
    LegacyCardOfAnotherPerson,
    /// `FAILED_PRECONDITION` / `LEGACY_CARD_RETIRED`.
    #[error("the old medical insurance card is already retired")]
    LegacyCardRetired,
    /// `UNAVAILABLE` / `IDENTITY_UNAVAILABLE`.
    #[error("the identity service is unavailable; retry")]
    IdentityUnavailable,
    /// `RESOURCE_EXHAUSTED` as identity answered it for the partner
    /// (`VERIFY_IDENTITY_RATE_LIMITED`, with its `RetryInfo` delay).
    #[error("rate limited by identity")]
    RateLimited(Status),
    /// `UNAVAILABLE` / `CARD_STATUS_UNVERIFIED`: this service's copy of the
    /// card's state is not known to be current and card-issuance could not
    /// be asked; nothing is answered from a guess.
    #[error("the card's current status cannot be verified now; retry")]
    CardStatusUnverified,
    /// `FAILED_PRECONDITION` / `ECARD_TOKEN_EXPIRED`: the person's app
    /// shows a new one.
    #[error("the e-card token has expired; scan a new one")]
    EcardTokenExpired,
    /// `FAILED_PRECONDITION` / `ECARD_TOKEN_REPLAYED`: an e-card token is
    /// used once for an activation (the same request retried excepted).
    #[error("the e-card token was already used; scan a new one")]
    EcardTokenReplayed,
    /// `FAILED_PRECONDITION` / `ECARD_NOT_IN_FORCE`: the e-card's card is
    /// lost, replaced or cancelled.
    #[error("the electronic card is not in force")]
    EcardNotInForce,
    #[error(transparent)]
    Idempotency(#[from] IdempotencyError),
    /// `UNAVAILABLE` / `DATABASE_UNAVAILABLE` when the database cannot be
    /// reached or did not answer in time, else `INTERNAL`; the cause is
    /// logged, never sent.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<Refusal> for ActivationError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::AlreadyActive(activation) => Self::AlreadyActive {
                channel: activation.channel,
                at: activation.at,
            },
            Refusal::CardLost => Self::CardUnusable {
                reason: "CARD_LOST",
            },
            Refusal::CardReplaced => Self::CardUnusable {
                reason: "CARD_REPLACED",
            },
            Refusal::CardCancelled => Self::CardUnusable {
                reason: "CARD_CANCELLED",
            },
            Refusal::CardOfAnotherBank => Self::CardOfAnotherBank,
            Refusal::HolderMismatch => Self::HolderMismatch,
            Refusal::FinancialDetailsMismatch => Self::FinancialDetailsMismatch,
            Refusal::LegacyCardOfAnotherPerson => Self::LegacyCardOfAnotherPerson,
            Refusal::LegacyCardRetired => Self::LegacyCardRetired,
        }
    }
}

impl From<ActivationError> for Status {
    fn from(e: ActivationError) -> Self {
        use ActivationError::*;
        let plain =
            |code, reason: &str, e: &ActivationError| error::status(code, reason, e.to_string());
        match e {
            Invalid(status) => status,
            CardNotFound => plain(Code::NotFound, "CARD_NOT_FOUND", &e),
            LegacyCardNotFound => plain(Code::NotFound, "LEGACY_CARD_NOT_FOUND", &e),
            AlreadyActive { ref channel, at } => error::status_with_metadata(
                Code::FailedPrecondition,
                "CARD_ALREADY_ACTIVE",
                e.to_string(),
                HashMap::from([
                    ("channel".to_owned(), channel.as_str().to_owned()),
                    ("activated_at".to_owned(), at.to_rfc3339()),
                ]),
            ),
            CardUnusable { reason } => plain(Code::FailedPrecondition, reason, &e),
            PartnerNotDesignated => plain(Code::PermissionDenied, "PARTNER_NOT_DESIGNATED", &e),
            CardOfAnotherBank => plain(Code::PermissionDenied, "CARD_OF_ANOTHER_BANK", &e),
            HolderMismatch => plain(Code::FailedPrecondition, "HOLDER_MISMATCH", &e),
            PresentationLimit { retry_after } => {
                let mut details = ErrorDetails::with_error_info(
                    "PRESENTATION_LIMIT",
                    error::ERROR_DOMAIN,
                    HashMap::new(),
                );
                details.set_retry_info(Some(retry_after));
                Status::with_error_details(Code::ResourceExhausted, e.to_string(), details)
            }
            FinancialDetailsMismatch => {
                plain(Code::FailedPrecondition, "FINANCIAL_DETAILS_MISMATCH", &e)
            }
            LegacyCardOfAnotherPerson => plain(
                Code::FailedPrecondition,
                "LEGACY_CARD_OF_ANOTHER_PERSON",
                &e,
            ),
            LegacyCardRetired => plain(Code::FailedPrecondition, "LEGACY_CARD_RETIRED", &e),
            IdentityUnavailable => plain(Code::Unavailable, "IDENTITY_UNAVAILABLE", &e),
            RateLimited(status) => status,
            CardStatusUnverified => plain(Code::Unavailable, "CARD_STATUS_UNVERIFIED", &e),
            EcardTokenExpired => plain(Code::FailedPrecondition, "ECARD_TOKEN_EXPIRED", &e),
            EcardTokenReplayed => plain(Code::FailedPrecondition, "ECARD_TOKEN_REPLAYED", &e),
            EcardNotInForce => plain(Code::FailedPrecondition, "ECARD_NOT_IN_FORCE", &e),
            Idempotency(e) => e.into_status(),
            Database(e) => error::database(&e),
        }
    }
}

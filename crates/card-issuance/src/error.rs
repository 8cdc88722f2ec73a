//! The card-issuance service's errors and the gRPC status each becomes.

use std::collections::HashMap;

use platform::{error, idempotency::IdempotencyError};
use tonic::{Code, Status};

use crate::domain::{
    ApplyRefused, CardStatus, Denied, LegacyRefused, TransitionRefused, ecard::EcardRefused,
};

#[derive(Debug, thiserror::Error)]
pub enum CardError {
    /// `FAILED_PRECONDITION` / `BASIC_INFO_NOT_CONFIRMED`.
    #[error("the person's basic information is not confirmed")]
    BasicInfoNotConfirmed,
    /// `NOT_FOUND` / `PERSON_NOT_FOUND`.
    #[error("no such person")]
    PersonNotFound,
    /// `NOT_FOUND` / `BANK_NOT_FOUND`.
    #[error("no such bank")]
    BankNotFound,
    /// `FAILED_PRECONDITION` / `BANK_NOT_COOPERATING`: not a bank, or not in force.
    #[error("the partner is not a co-operating bank in force")]
    BankNotCooperating,
    /// `ALREADY_EXISTS` / `APPLICATION_ALREADY_PENDING`.
    #[error("the person already has a pending application")]
    ApplicationAlreadyPending,
    /// `FAILED_PRECONDITION` / `PERSON_ALREADY_HAS_CARD`.
    #[error("the person already holds a usable card; replace it instead")]
    PersonAlreadyHasCard,
    /// `NOT_FOUND` / `APPLICATION_NOT_FOUND`.
    #[error("no such application")]
    ApplicationNotFound,
    /// `FAILED_PRECONDITION` / `APPLICATION_ALREADY_ISSUED`.
    #[error("the application's card was already issued")]
    ApplicationAlreadyIssued,
    /// `NOT_FOUND` / `CARD_NOT_FOUND`.
    #[error("no such card")]
    CardNotFound,
    /// `FAILED_PRECONDITION` / `CARD_STATE_<STATE>`, with `current_state`
    /// and `change` in the metadata.
    #[error(transparent)]
    Transition(#[from] TransitionRefused),
    /// `PERMISSION_DENIED` / `CARD_OF_ANOTHER_BANK`.
    #[error("the card carries another bank's financial function")]
    CardOfAnotherBank,
    /// `PERMISSION_DENIED` / `NOT_OWN_RECORD`.
    #[error("a person may only see and report their own cards")]
    NotOwnRecord,
    /// `ALREADY_EXISTS` / `LEGACY_CARD_ALREADY_REGISTERED`.
    #[error("this old medical insurance card is already registered")]
    LegacyCardAlreadyRegistered,
    /// `NOT_FOUND` / `LEGACY_CARD_NOT_FOUND`.
    #[error("no such old medical insurance card")]
    LegacyCardNotFound,
    /// `FAILED_PRECONDITION` / `LEGACY_CARD_RETIRED`.
    #[error("the old medical insurance card is already retired")]
    LegacyCardRetired,
    /// `FAILED_PRECONDITION` / `LEGACY_CARD_OF_ANOTHER_PERSON`.
    #[error("the old medical insurance card belongs to someone else")]
    LegacyCardOfAnotherPerson,
    /// `ALREADY_EXISTS` / `BANK_CARD_NUMBER_IN_USE`.
    #[error("the bank card number is already linked to a card")]
    BankCardNumberInUse,
    /// `UNAVAILABLE` / `IDENTITY_UNAVAILABLE`: retry later.
    #[error("the identity service is unavailable")]
    IdentityUnavailable,
    /// `RESOURCE_EXHAUSTED` / `CARD_NUMBERS_EXHAUSTED`.
    #[error("card identifiers are exhausted")]
    NumbersExhausted,
    /// The caller of a batch went away mid-way; its transaction was rolled
    /// back. `CANCELLED` / `CALLER_WENT_AWAY`, though nobody is left to hear it.
    #[error("the caller went away; nothing was issued")]
    CallerWentAway,
    /// `NOT_FOUND` / `ECARD_NOT_FOUND` (someone else's e-card too).
    #[error("no such electronic card")]
    EcardNotFound,
    /// `FAILED_PRECONDITION` / `ECARD_NOT_IN_FORCE`: its card is lost,
    /// replaced or cancelled.
    #[error("the electronic card's card is lost, replaced or cancelled")]
    EcardNotInForce,
    /// `FAILED_PRECONDITION` / `ECARD_CARD_NOT_ELIGIBLE`: the card is not
    /// received, or older than the third generation.
    #[error(transparent)]
    EcardRefused(#[from] EcardRefused),
    /// `FAILED_PRECONDITION` / `ECARD_TOKENS_DISABLED`: no
    /// `ecard_token_keys` signing key is configured.
    #[error("e-card tokens are not configured on this service")]
    EcardTokensDisabled,
    /// `FAILED_PRECONDITION` / `CARD_STATE_<STATE>` (with `current_state`):
    /// the card's state allows no PIN call (lost, replaced, cancelled; or
    /// not yet received, for the holder's first PIN).
    #[error("a {} card's PIN cannot be set or checked", .0.as_str().to_lowercase())]
    PinCardState(CardStatus),
    /// `FAILED_PRECONDITION` / `PIN_NOT_SET`.
    #[error("the card has no PIN yet")]
    PinNotSet,
    /// `FAILED_PRECONDITION` / `PIN_ALREADY_SET`: change it, or reset it at the counter.
    #[error("the card already has a PIN")]
    PinAlreadySet,
    /// `PERMISSION_DENIED` / `PIN_MISMATCH`, with `attempts_left`.
    #[error("the current PIN is wrong")]
    PinMismatch { attempts_left: i32 },
    /// `FAILED_PRECONDITION` / `PIN_LOCKED`: only a reset at the counter unlocks it.
    #[error("the PIN is locked after too many wrong PINs; reset it at the counter")]
    PinLocked,
    /// `ABORTED` / `PIN_CHANGED_MEANWHILE`: retry.
    #[error("the PIN changed while this call was judged; retry")]
    PinChangedMeanwhile,
    /// `PERMISSION_DENIED` / `PARTNER_NOT_DESIGNATED`.
    #[error("the hospital or pharmacy's medical insurance designation is not in force")]
    PartnerNotDesignated,
    /// `RESOURCE_EXHAUSTED` / `PIN_CHECK_BUSY` (with `RetryInfo`).
    #[error("busy")]
    Busy(Status),
    #[error(transparent)]
    Idempotency(#[from] IdempotencyError),
    /// `UNAVAILABLE` / `DATABASE_UNAVAILABLE` when the database is down or
    /// timed out (retry), otherwise `INTERNAL`; the cause is logged, never sent.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<CardError> for Status {
    fn from(e: CardError) -> Self {
        use CardError::*;
        let plain = |code, reason: &str, e: &CardError| error::status(code, reason, e.to_string());
        match e {
            BasicInfoNotConfirmed => {
                plain(Code::FailedPrecondition, "BASIC_INFO_NOT_CONFIRMED", &e)
            }
            PersonNotFound => plain(Code::NotFound, "PERSON_NOT_FOUND", &e),
            BankNotFound => plain(Code::NotFound, "BANK_NOT_FOUND", &e),
            BankNotCooperating => plain(Code::FailedPrecondition, "BANK_NOT_COOPERATING", &e),
            ApplicationAlreadyPending => {
                plain(Code::AlreadyExists, "APPLICATION_ALREADY_PENDING", &e)
            }
            PersonAlreadyHasCard => plain(Code::FailedPrecondition, "PERSON_ALREADY_HAS_CARD", &e),
            ApplicationNotFound => plain(Code::NotFound, "APPLICATION_NOT_FOUND", &e),
            ApplicationAlreadyIssued => {
                plain(Code::FailedPrecondition, "APPLICATION_ALREADY_ISSUED", &e)
            }
            CardNotFound => plain(Code::NotFound, "CARD_NOT_FOUND", &e),
            Transition(refused) => error::status_with_metadata(
                Code::FailedPrecondition,
                &refused.reason(),
                refused.to_string(),
                HashMap::from([
                    ("current_state".to_owned(), refused.from.as_str().to_owned()),
                    ("change".to_owned(), refused.change.as_str().to_owned()),
                ]),
            ),
            CardOfAnotherBank => plain(Code::PermissionDenied, "CARD_OF_ANOTHER_BANK", &e),
            NotOwnRecord => plain(Code::PermissionDenied, "NOT_OWN_RECORD", &e),
            LegacyCardAlreadyRegistered => {
                plain(Code::AlreadyExists, "LEGACY_CARD_ALREADY_REGISTERED", &e)
            }
            LegacyCardNotFound => plain(Code::NotFound, "LEGACY_CARD_NOT_FOUND", &e),
            LegacyCardRetired => plain(Code::FailedPrecondition, "LEGACY_CARD_RETIRED", &e),
            LegacyCardOfAnotherPerson => plain(
                Code::FailedPrecondition,
                "LEGACY_CARD_OF_ANOTHER_PERSON",
                &e,
            ),
            BankCardNumberInUse => plain(Code::AlreadyExists, "BANK_CARD_NUMBER_IN_USE", &e),
            IdentityUnavailable => plain(Code::Unavailable, "IDENTITY_UNAVAILABLE", &e),
            NumbersExhausted => plain(Code::ResourceExhausted, "CARD_NUMBERS_EXHAUSTED", &e),
            CallerWentAway => plain(Code::Cancelled, "CALLER_WENT_AWAY", &e),
            EcardNotFound => plain(Code::NotFound, "ECARD_NOT_FOUND", &e),
            EcardNotInForce => plain(Code::FailedPrecondition, "ECARD_NOT_IN_FORCE", &e),
            EcardRefused(_) => plain(Code::FailedPrecondition, "ECARD_CARD_NOT_ELIGIBLE", &e),
            EcardTokensDisabled => plain(Code::FailedPrecondition, "ECARD_TOKENS_DISABLED", &e),
            PinCardState(status) => error::status_with_metadata(
                Code::FailedPrecondition,
                &format!("CARD_STATE_{}", status.as_str()),
                e.to_string(),
                HashMap::from([("current_state".to_owned(), status.as_str().to_owned())]),
            ),
            PinNotSet => plain(Code::FailedPrecondition, "PIN_NOT_SET", &e),
            PinAlreadySet => plain(Code::FailedPrecondition, "PIN_ALREADY_SET", &e),
            PinMismatch { attempts_left } => error::status_with_metadata(
                Code::PermissionDenied,
                "PIN_MISMATCH",
                e.to_string(),
                HashMap::from([("attempts_left".to_owned(), attempts_left.to_string())]),
            ),
            PinLocked => plain(Code::FailedPrecondition, "PIN_LOCKED", &e),
            PinChangedMeanwhile => plain(Code::Aborted, "PIN_CHANGED_MEANWHILE", &e),
            PartnerNotDesignated => plain(Code::PermissionDenied, "PARTNER_NOT_DESIGNATED", &e),
            Busy(status) => status,
            Idempotency(e) => e.into_status(),
            Database(e) => error::database(&e),
        }
    }
}

impl From<ApplyRefused> for CardError {
    fn from(refused: ApplyRefused) -> Self {
        match refused {
            ApplyRefused::BasicInfoNotConfirmed => Self::BasicInfoNotConfirmed,
            ApplyRefused::BankNotCooperating => Self::BankNotCooperating,
            ApplyRefused::AlreadyIssued => Self::ApplicationAlreadyIssued,
        }
    }
}

impl From<Denied> for CardError {
    fn from(denied: Denied) -> Self {
        match denied {
            Denied::CardOfAnotherBank => Self::CardOfAnotherBank,
            Denied::NotOwnRecord => Self::NotOwnRecord,
        }
    }
}

impl From<LegacyRefused> for CardError {
    fn from(refused: LegacyRefused) -> Self {
        match refused {
            LegacyRefused::AlreadyRetired => Self::LegacyCardRetired,
            LegacyRefused::OfAnotherPerson => Self::LegacyCardOfAnotherPerson,
        }
    }
}

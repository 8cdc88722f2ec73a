//! The contribution service's errors and the gRPC status each becomes.

use std::collections::HashMap;

use platform::{error, idempotency::IdempotencyError};
use tonic::{Code, Status};

use crate::domain::{ContractRefusal, InsuranceType, Money, Period};

#[derive(Debug, thiserror::Error)]
pub enum ContributionError {
    /// `INVALID_ARGUMENT`, every bad field in `BadRequest`.
    #[error("invalid request")]
    Invalid(Status),
    /// `NOT_FOUND` / `PERSON_NOT_FOUND`: not registered in identity.
    #[error("no such registered person")]
    PersonNotFound,
    /// `FAILED_PRECONDITION` / `PAYER_NOT_REGISTERED`: the employer or agency
    /// is not a registered partner of that kind in force.
    #[error("the employer or agency is not a registered partner in force")]
    PayerNotRegistered,
    /// `FAILED_PRECONDITION` / `REGION_UNKNOWN`: no rate table for the region.
    #[error("the region has no rate tables")]
    RegionUnknown,
    /// `FAILED_PRECONDITION` / `RATE_TABLE_MISSING`, with `insurance_type` and `year`.
    #[error("no rate table for an enrolled insurance type that year")]
    RateTableMissing {
        insurance_type: InsuranceType,
        year: i32,
    },
    /// `ALREADY_EXISTS` / `ENROLMENT_OVERLAPS`, with `insurance_type`.
    #[error("the person is already enrolled in this insurance type for an overlapping period")]
    EnrolmentOverlaps { insurance_type: InsuranceType },
    /// `NOT_FOUND` / `CONTRACT_NOT_FOUND`.
    #[error("no such agency contract")]
    ContractNotFound,
    /// `FAILED_PRECONDITION` / `CONTRACT_MISMATCH`: the contract is another
    /// person's or another agency's, or does not cover the start month.
    #[error("the agency contract does not cover this enrolment")]
    ContractMismatch,
    /// `FAILED_PRECONDITION` / `CONTRACT_NOT_CONFIRMED`: the person has not
    /// confirmed the contract (`ConfirmAgencyContract`).
    #[error("the person has not confirmed this agency contract")]
    ContractNotConfirmed,
    /// `FAILED_PRECONDITION` / `CONTRACT_ENDED`: the contract was ended
    /// early (or declined); it cannot be confirmed, ended or enrolled under.
    #[error("the agency contract was ended")]
    ContractEnded,
    /// `ALREADY_EXISTS` / `CONTRACT_PENDING`: the agency already has a
    /// contract with the person awaiting their consent.
    #[error("a contract of this agency with the person is awaiting the person's consent")]
    ContractPending,
    /// `FAILED_PRECONDITION` / `END_NOT_EARLIER`: an early end must be
    /// before the contract's end.
    #[error("the contract already ends by then")]
    EndNotEarlier,
    /// `FAILED_PRECONDITION` / `MONTHS_ALREADY_BILLED`, with `earliest_month`
    /// (and `insurance_type` for an enrolment): months already billed to an
    /// agency stay with it; the person's own enrolment starts, or the
    /// contract ends, no earlier than that.
    #[error("those months are already billed to the agency")]
    MonthsBilled {
        insurance_type: Option<InsuranceType>,
        earliest: Period,
    },
    /// `FAILED_PRECONDITION` / `PERIOD_BEFORE_ENROLMENT`.
    #[error("the person is not enrolled in that month")]
    PeriodBeforeEnrolment,
    /// `PERMISSION_DENIED` / `NOT_OWN_RECORD`: another person's record, or a
    /// person not employed by / contracted to the calling partner.
    #[error("the caller may not act on this person's record")]
    NotOwnRecord,
    /// `PERMISSION_DENIED` / `NOT_PAYER_FOR_PERIOD`: a wage declared by a
    /// partner or person who does not pay for every one of those months.
    #[error(
        "the caller does not pay this person's contributions for every declared month; \
         declare month by month"
    )]
    NotPayerForPeriod,
    /// `FAILED_PRECONDITION` / `PAYMENT_EXCEEDS_OWED`, with `outstanding_fen`.
    #[error("the payment is more than is owed")]
    PaymentExceedsOwed { outstanding: Money },
    /// `NOT_FOUND` / `BILL_NOT_FOUND`: nothing computed for that payer and month.
    #[error("nothing is billed to this payer for that month")]
    BillNotFound,
    /// `UNAVAILABLE` / `IDENTITY_UNAVAILABLE`.
    #[error("the identity service is unavailable; retry")]
    IdentityUnavailable,
    /// The client of a monthly run stopped listening: the run is rolled
    /// back, and nobody is told (`CANCELLED` if it were).
    #[error("the caller went away; the run was rolled back")]
    CallerWentAway,
    #[error(transparent)]
    Idempotency(#[from] IdempotencyError),
    /// `UNAVAILABLE` / `DATABASE_UNAVAILABLE` when the database is down or
    /// timed out (retry), otherwise `INTERNAL`; the cause is logged, never sent.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    // --- payments through the collecting bank ---
    /// `FAILED_PRECONDITION` / `NOTHING_OUTSTANDING`: no order for a paid bill.
    #[error("nothing is outstanding on this bill")]
    NothingOutstanding,
    /// `NOT_FOUND` / `ORDER_NOT_FOUND`.
    #[error("no such payment order")]
    OrderNotFound,
    /// `FAILED_PRECONDITION` / `ORDER_ALREADY_PAID`: a payment was recorded
    /// against this order (under another reference); ask for a new order.
    #[error("this payment order was already paid")]
    OrderAlreadyPaid,
    /// `FAILED_PRECONDITION` / `ORDER_EXPIRED`: paid at or after the order's expiry.
    #[error("the payment order had expired when it was paid")]
    OrderExpired,
    /// `FAILED_PRECONDITION` / `PAID_BEFORE_ORDER`.
    #[error("the payment is dated before the order was created")]
    PaidBeforeOrder,
    /// `FAILED_PRECONDITION` / `AMOUNT_DIFFERS_FROM_ORDER`, with `order_amount_fen`.
    #[error("the amount is not the order's; collect exactly the order's amount")]
    AmountDiffersFromOrder { ordered: Money },
    /// `FAILED_PRECONDITION` / `BANK_REFERENCE_REUSED`: the bank's reference
    /// was recorded with other content.
    #[error("this bank reference was already recorded for another payment")]
    BankReferenceReused,
    /// `PERMISSION_DENIED` / `NOT_COLLECTING_BANK`: the bank is not
    /// registered in identity as a bank in force that collects contributions.
    #[error("the bank is not designated to collect contributions")]
    NotCollectingBank,
    /// `PERMISSION_DENIED` / `PAYMENT_OF_ANOTHER_BANK`: a bank names another
    /// bank's payment.
    #[error("a bank records and reverses only its own payments")]
    PaymentOfAnotherBank,
    /// `NOT_FOUND` / `PAYMENT_NOT_FOUND`: no payment under this bank and reference.
    #[error("no payment under this bank and reference")]
    PaymentNotFound,
}

impl From<ContributionError> for Status {
    fn from(e: ContributionError) -> Self {
        use ContributionError::*;
        let message = e.to_string();
        let plain = |code, reason: &str| error::status(code, reason, message.clone());
        let with = |code, reason: &str, pairs: Vec<(&str, String)>| {
            let metadata: HashMap<String, String> =
                pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            error::status_with_metadata(code, reason, message.clone(), metadata)
        };
        match e {
            Invalid(status) => status,
            PersonNotFound => plain(Code::NotFound, "PERSON_NOT_FOUND"),
            PayerNotRegistered => plain(Code::FailedPrecondition, "PAYER_NOT_REGISTERED"),
            RegionUnknown => plain(Code::FailedPrecondition, "REGION_UNKNOWN"),
            RateTableMissing {
                insurance_type,
                year,
            } => with(
                Code::FailedPrecondition,
                "RATE_TABLE_MISSING",
                vec![
                    ("insurance_type", insurance_type.as_str().to_owned()),
                    ("year", year.to_string()),
                ],
            ),
            EnrolmentOverlaps { insurance_type } => with(
                Code::AlreadyExists,
                "ENROLMENT_OVERLAPS",
                vec![("insurance_type", insurance_type.as_str().to_owned())],
            ),
            ContractNotFound => plain(Code::NotFound, "CONTRACT_NOT_FOUND"),
            ContractMismatch => plain(Code::FailedPrecondition, "CONTRACT_MISMATCH"),
            ContractNotConfirmed => plain(Code::FailedPrecondition, "CONTRACT_NOT_CONFIRMED"),
            ContractEnded => plain(Code::FailedPrecondition, "CONTRACT_ENDED"),
            ContractPending => plain(Code::AlreadyExists, "CONTRACT_PENDING"),
            EndNotEarlier => plain(Code::FailedPrecondition, "END_NOT_EARLIER"),
            MonthsBilled {
                insurance_type,
                earliest,
            } => with(
                Code::FailedPrecondition,
                "MONTHS_ALREADY_BILLED",
                std::iter::once(("earliest_month", earliest.to_string()))
                    .chain(insurance_type.map(|t| ("insurance_type", t.as_str().to_owned())))
                    .collect(),
            ),
            PeriodBeforeEnrolment => plain(Code::FailedPrecondition, "PERIOD_BEFORE_ENROLMENT"),
            NotOwnRecord => plain(Code::PermissionDenied, "NOT_OWN_RECORD"),
            NotPayerForPeriod => plain(Code::PermissionDenied, "NOT_PAYER_FOR_PERIOD"),
            PaymentExceedsOwed { outstanding } => with(
                Code::FailedPrecondition,
                "PAYMENT_EXCEEDS_OWED",
                vec![("outstanding_fen", outstanding.fen().to_string())],
            ),
            BillNotFound => plain(Code::NotFound, "BILL_NOT_FOUND"),
            IdentityUnavailable => plain(Code::Unavailable, "IDENTITY_UNAVAILABLE"),
            CallerWentAway => plain(Code::Cancelled, "CALLER_WENT_AWAY"),
            Idempotency(inner) => inner.into_status(),
            Database(db) => error::database(&db),
            NothingOutstanding => plain(Code::FailedPrecondition, "NOTHING_OUTSTANDING"),
            OrderNotFound => plain(Code::NotFound, "ORDER_NOT_FOUND"),
            OrderAlreadyPaid => plain(Code::FailedPrecondition, "ORDER_ALREADY_PAID"),
            OrderExpired => plain(Code::FailedPrecondition, "ORDER_EXPIRED"),
            PaidBeforeOrder => plain(Code::FailedPrecondition, "PAID_BEFORE_ORDER"),
            AmountDiffersFromOrder { ordered } => with(
                Code::FailedPrecondition,
                "AMOUNT_DIFFERS_FROM_ORDER",
                vec![("order_amount_fen", ordered.fen().to_string())],
            ),
            BankReferenceReused => plain(Code::FailedPrecondition, "BANK_REFERENCE_REUSED"),
            NotCollectingBank => plain(Code::PermissionDenied, "NOT_COLLECTING_BANK"),
            PaymentOfAnotherBank => plain(Code::PermissionDenied, "PAYMENT_OF_ANOTHER_BANK"),
            PaymentNotFound => plain(Code::NotFound, "PAYMENT_NOT_FOUND"),
        }
    }
}

impl From<ContractRefusal> for ContributionError {
    fn from(refusal: ContractRefusal) -> Self {
        match refusal {
            ContractRefusal::Mismatch => Self::ContractMismatch,
            ContractRefusal::NotConfirmed => Self::ContractNotConfirmed,
            ContractRefusal::Ended => Self::ContractEnded,
            ContractRefusal::EndNotEarlier => Self::EndNotEarlier,
            ContractRefusal::MonthsBilled { earliest_end } => Self::MonthsBilled {
                insurance_type: None,
                earliest: earliest_end,
            },
        }
    }
}

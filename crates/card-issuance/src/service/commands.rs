//! The parsed requests: what `api::parse` makes of the protos and the
//! service acts on. Every value here is valid; nothing needs checking again.

use pii::{CardNumber, PartnerCode, RegionCode};
use platform::idempotency::RequestId;
use uuid::Uuid;

use crate::domain::{CardChange, Generation, LegacyCardNumber, NumberingSpec};

pub struct ApplyForCard {
    pub request_id: RequestId,
    pub person_id: Uuid,
    pub bank: PartnerCode,
    /// Where the card is issued; the person's own region when not given.
    pub region: Option<RegionCode>,
}

pub struct IssueCard {
    pub request_id: RequestId,
    pub application_id: Uuid,
    pub generation: Generation,
    pub numbering: NumberingSpec,
}

pub struct IssueCards {
    pub request_id: RequestId,
    pub bank: PartnerCode,
    pub numbering: NumberingSpec,
    pub generation: Generation,
    pub max_cards: i64,
}

/// Receipt, loss or cancellation of one card.
pub struct ChangeCard {
    /// The RPC, as the audit trail names it.
    pub rpc: &'static str,
    pub request_id: RequestId,
    pub card_number: CardNumber,
    pub change: CardChange,
    /// Why, as the card's history records it.
    pub reason: String,
}

pub struct ReplaceCard {
    pub request_id: RequestId,
    pub card_number: CardNumber,
    pub reason: String,
    pub generation: Generation,
    pub numbering: NumberingSpec,
}

pub struct RegisterLegacyCard {
    pub request_id: RequestId,
    pub card_number: LegacyCardNumber,
    pub person_id: Uuid,
    pub region: RegionCode,
}

pub struct RetireLegacyCard {
    pub request_id: RequestId,
    pub card_number: LegacyCardNumber,
    pub replaced_by: CardNumber,
}

/// An e-card for a received card.
pub struct IssueEcard {
    pub request_id: RequestId,
    pub card_number: CardNumber,
}

/// A token a partner presented, as activation asks about it.
pub struct RedeemEcardToken {
    /// As presented (checked by the service: a malformed token is INVALID).
    pub token: String,
    /// The presenting partner's request id, when the token is to be used once.
    pub single_use: Option<RequestId>,
}

/// One imported card, every field parsed; its holder still named by ID
/// number (resolved with identity before the transaction).
#[derive(Debug)]
pub struct ImportCard {
    pub holder: pii::IdNumber,
    pub card_number: CardNumber,
    pub identification_code: pii::CardIdentificationCode,
    pub serial_number: pii::SerialNumber,
    pub generation: Generation,
    pub status: crate::domain::CardStatus,
    pub region: RegionCode,
    pub issued_on: chrono::NaiveDate,
    pub received_at: Option<chrono::DateTime<chrono::Utc>>,
    pub bank_code: PartnerCode,
    pub bank_card_number: pii::BankCardNumber,
    pub activation: Option<crate::domain::import::ImportedActivation>,
}

/// One imported old medical card, parsed as `RegisterLegacyMedicalCard`.
#[derive(Debug)]
pub struct ImportLegacyCard {
    pub holder: pii::IdNumber,
    pub card_number: LegacyCardNumber,
    pub region: RegionCode,
}

/// An import batch: each record (with its line) parsed or rejected.
pub type ImportBatch<T> = platform::import::Batch<T>;

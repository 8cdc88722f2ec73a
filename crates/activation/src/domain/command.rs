//! Requests as the API parsed them: every field valid, so the service
//! cannot hold a bad one.

use chrono::{DateTime, Utc};
use pii::{BankCardNumber, CardIdentificationCode, CardNumber, IdNumber, PersonName, SerialNumber};
use platform::{idempotency::RequestId, paging::Page};

use super::RegionPolicy;

/// A bank outlet: the card and the holder's original ID certificate.
pub struct AtBankOutlet {
    pub request_id: RequestId,
    pub operator_id: String,
    pub card_number: CardNumber,
    pub id_number: IdNumber,
}

/// The first outpatient or inpatient registration at a designated hospital.
pub struct AtHospital {
    pub request_id: RequestId,
    pub operator_id: String,
    pub card_number: CardNumber,
    pub identification_code: CardIdentificationCode,
}

/// First use at a designated pharmacy: the old card, then the new one.
pub struct AtPharmacy {
    pub request_id: RequestId,
    pub operator_id: String,
    /// Upper-case, as old cards are printed.
    pub legacy_card_number: String,
    pub card_number: CardNumber,
}

/// The card's bank enabling its financial function.
pub struct WithFinancialFunction {
    pub request_id: RequestId,
    pub serial_number: SerialNumber,
    pub id_number: IdNumber,
    pub bank_card_number: BankCardNumber,
}

/// A 12333 agent, after verifying the caller by phone.
pub struct ByHotline {
    pub request_id: RequestId,
    pub agent_id: String,
    pub id_number: IdNumber,
    pub name: PersonName,
    pub card_number: CardNumber,
}

/// The card a hospital or pharmacy asks about.
pub enum EligibilityQuery {
    /// A social security card; hospitals always send its identification code.
    Card {
        number: CardNumber,
        identification_code: Option<CardIdentificationCode>,
    },
    /// An old medical insurance card (upper-case).
    Legacy(String),
}

/// Received, unactivated cards whose deadline falls within `within_days`.
pub struct ApproachingDeadlines {
    pub within_days: u32,
    pub region_code: Option<String>,
    pub page: Page,
    /// The page key `(deadline, card_number)` to continue after.
    pub after: Option<(DateTime<Utc>, String)>,
}

pub struct SetRegionPolicy {
    pub request_id: RequestId,
    pub region_code: String,
    pub policy: RegionPolicy,
}

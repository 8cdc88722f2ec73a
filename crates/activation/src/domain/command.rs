//! Requests as the API parsed them: every field valid, so the service
//! cannot hold a bad one.

use chrono::{DateTime, Utc};
use pii::{BankCardNumber, CardIdentificationCode, CardNumber, IdNumber, PersonName, SerialNumber};
use platform::{idempotency::RequestId, paging::Page};

/// Where a page of approaching deadlines continues: after this deadline
/// and card number (`deadline|card_number` in the page token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadlineKey {
    pub deadline: DateTime<Utc>,
    pub card_number: String,
}

impl std::fmt::Display for DeadlineKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}|{}", self.deadline.to_rfc3339(), self.card_number)
    }
}

impl std::str::FromStr for DeadlineKey {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        let (at, card) = s.split_once('|').ok_or(())?;
        Ok(Self {
            deadline: DateTime::parse_from_rfc3339(at)
                .map_err(|_| ())?
                .with_timezone(&Utc),
            card_number: card.to_owned(),
        })
    }
}

use super::RegionPolicy;

/// A bank outlet: the card and the holder's original ID certificate.
pub struct AtBankOutlet {
    pub request_id: RequestId,
    pub operator_id: String,
    pub card_number: CardNumber,
    /// Read from the card's chip; missing: the card is not found.
    pub identification_code: Option<CardIdentificationCode>,
    pub id_number: IdNumber,
}

/// How a hospital or pharmacy shows a card.
pub enum ShownCard {
    /// The plastic card: its number and, read from its chip, its
    /// identification code (missing: the card is not found).
    Chip {
        number: CardNumber,
        identification_code: Option<CardIdentificationCode>,
    },
    /// An electronic card's QR token, as presented (card-issuance says
    /// which card it stands for, if any).
    Ecard(String),
}

/// The first outpatient or inpatient registration at a designated hospital.
pub struct AtHospital {
    pub request_id: RequestId,
    pub operator_id: String,
    pub card: ShownCard,
}

/// First use at a designated pharmacy: the old card, then the new one.
pub struct AtPharmacy {
    pub request_id: RequestId,
    pub operator_id: String,
    /// Upper-case, as old cards are printed.
    pub legacy_card_number: String,
    /// The new card.
    pub card: ShownCard,
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
    /// A social security card, with its identification code (required of
    /// hospitals and pharmacies: see `service::presentation`).
    Card {
        number: CardNumber,
        identification_code: Option<CardIdentificationCode>,
    },
    /// An old medical insurance card (upper-case).
    Legacy(String),
    /// An electronic card's QR token, standing for its card.
    Ecard(String),
}

/// Received, unactivated cards whose deadline falls within `within_days`.
pub struct ApproachingDeadlines {
    pub within_days: u32,
    pub region_code: Option<String>,
    /// How many, after which `(deadline, card_number)`.
    pub page: Page<DeadlineKey>,
}

pub struct SetRegionPolicy {
    pub request_id: RequestId,
    pub region_code: String,
    pub policy: RegionPolicy,
}

//! What issuing a card needs: its generation, how its bank card number is
//! numbered, for whom it is made; and turning allocated sequence numbers
//! into identifiers.

use pii::{
    BankBin, BankCardNumber, CardIdError, CardIdentificationCode, CardNumber, PartnerCode,
    RegionCode, SerialNumber,
};
use uuid::Uuid;

/// The most cards one batch request may make.
pub const MAX_BATCH: i32 = 100_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Generation(i16);

impl Generation {
    /// The current generation, made when a request leaves it unset (0).
    pub const CURRENT: Generation = Generation(3);

    /// 1, 2 or 3; 0 (unset) means [`Self::CURRENT`]; anything else is not
    /// a generation.
    pub fn from_requested(value: i32) -> Option<Self> {
        match value {
            0 => Some(Self::CURRENT),
            1..=3 => Some(Self(value as i16)),
            _ => None,
        }
    }

    pub fn value(self) -> i16 {
        self.0
    }
}

/// How to number a card's bank card: given by the bank, or from its BIN.
#[derive(Clone, Debug)]
pub enum NumberingSpec {
    Given(BankCardNumber),
    FromBin(BankBin),
}

/// One card to make: for whom, under which application, in which region,
/// carrying which bank's financial function, replacing which card.
#[derive(Clone, Debug)]
pub struct CardOrder {
    pub person_id: Uuid,
    pub application_id: Option<Uuid>,
    pub region: RegionCode,
    pub bank_code: PartnerCode,
    pub replaces: Option<CardNumber>,
}

/// The identifiers of one new card.
#[derive(Clone, Debug)]
pub struct CardIdentifiers {
    pub card_number: CardNumber,
    pub identification_code: CardIdentificationCode,
    pub serial_number: SerialNumber,
    pub bank_card_number: BankCardNumber,
}

/// Sequence numbers allocated for one card.
#[derive(Clone, Copy, Debug)]
pub struct Allocated {
    pub card: i64,
    pub serial: i64,
    pub bank_card: i64,
    pub chip: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum NumberingError {
    #[error("card identifier space exhausted")]
    Exhausted,
    #[error(transparent)]
    Invalid(#[from] CardIdError),
}

impl CardIdentifiers {
    pub fn make(
        region: &str,
        numbering: &NumberingSpec,
        allocated: Allocated,
    ) -> Result<Self, NumberingError> {
        let card_number =
            CardNumber::from_sequence(allocated.card as u64).ok_or(NumberingError::Exhausted)?;
        let serial_number = SerialNumber::from_sequence(region, allocated.serial as u64)?;
        let identification_code = CardIdentificationCode::new(region, allocated.chip)?;
        let bank_card_number = match numbering {
            NumberingSpec::Given(number) => number.clone(),
            NumberingSpec::FromBin(bin) => {
                BankCardNumber::from_sequence(bin, allocated.bank_card as u64)
                    .ok_or(NumberingError::Exhausted)?
            }
        };
        Ok(Self {
            card_number,
            identification_code,
            serial_number,
            bank_card_number,
        })
    }
}

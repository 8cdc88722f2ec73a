//! What issuing a card needs: its generation and how its bank card number is
//! numbered; and turning allocated sequence numbers into identifiers.

use pii::{BankBin, BankCardNumber, CardIdError, CardIdentificationCode, CardNumber, SerialNumber};
use platform::error::FieldViolations;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Generation(i16);

impl Generation {
    /// 1, 2 or 3; 0 (unset) means 3, the current generation.
    pub fn parse(violations: &mut FieldViolations, value: i32) -> Option<Self> {
        match value {
            0 => Some(Self(3)),
            1..=3 => Some(Self(value as i16)),
            _ => {
                violations.add("generation", "GENERATION_INVALID", "must be 1, 2 or 3");
                None
            }
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

impl NumberingSpec {
    /// For one card: an explicit `bank_card_number`, else `bank_bin`.
    pub fn parse_single(
        violations: &mut FieldViolations,
        bank_card_number: &str,
        bank_bin: &str,
    ) -> Option<Self> {
        if !bank_card_number.is_empty() {
            return violations
                .check("bank_card_number", BankCardNumber::parse(bank_card_number))
                .map(Self::Given);
        }
        Self::parse_bin(violations, bank_bin)
    }

    pub fn parse_bin(violations: &mut FieldViolations, bank_bin: &str) -> Option<Self> {
        if bank_bin.is_empty() {
            violations.add(
                "bank_bin",
                "FIELD_REQUIRED",
                "is required to number the bank card",
            );
            return None;
        }
        violations
            .check("bank_bin", BankBin::parse(bank_bin))
            .map(Self::FromBin)
    }
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

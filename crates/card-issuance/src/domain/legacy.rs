//! Old medical insurance cards, from before social security cards: their
//! numbers, their states, and when one may be retired.

use std::{fmt, str::FromStr};

use pii::mask_middle;
use uuid::Uuid;

use super::UnknownState;

/// An old medical insurance card number: 6 to 20 characters of A-Z and 0-9.
/// In some regions it *is* the holder's ID number, so it is personal data:
/// `Debug` and `Display` show it masked like one (first 6, last 4).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct LegacyCardNumber(String);

/// A malformed old medical insurance card number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("must be 6 to 20 characters of A-Z and 0-9")]
pub struct LegacyCardNumberError;

impl LegacyCardNumberError {
    pub fn reason(&self) -> &'static str {
        "LEGACY_CARD_NUMBER_FORMAT"
    }
}

impl LegacyCardNumber {
    /// Trimmed and upper-cased, then checked.
    pub fn parse(value: &str) -> Result<Self, LegacyCardNumberError> {
        let value = value.trim().to_ascii_uppercase();
        if (6..=20).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Self(value))
        } else {
            Err(LegacyCardNumberError)
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn masked(&self) -> String {
        mask_middle(&self.0, 6, 4)
    }
}

impl fmt::Debug for LegacyCardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LegacyCardNumber({})", self.masked())
    }
}

impl fmt::Display for LegacyCardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl FromStr for LegacyCardNumber {
    type Err = LegacyCardNumberError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::parse(value)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegacyCardStatus {
    Active,
    Retired,
}

impl LegacyCardStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Retired => "RETIRED",
        }
    }
}

impl FromStr for LegacyCardStatus {
    type Err = UnknownState;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "ACTIVE" => Ok(Self::Active),
            "RETIRED" => Ok(Self::Retired),
            _ => Err(UnknownState {
                kind: "old medical insurance card status",
                value: value.to_owned(),
            }),
        }
    }
}

/// Why an old card cannot be retired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LegacyRefused {
    /// `LEGACY_CARD_RETIRED`.
    #[error("the old medical insurance card is already retired")]
    AlreadyRetired,
    /// `LEGACY_CARD_OF_ANOTHER_PERSON`.
    #[error("the old medical insurance card belongs to someone else")]
    OfAnotherPerson,
}

impl LegacyCardStatus {
    /// An old card is retired once.
    pub fn ensure_active(self) -> Result<(), LegacyRefused> {
        match self {
            Self::Active => Ok(()),
            Self::Retired => Err(LegacyRefused::AlreadyRetired),
        }
    }
}

/// An old card is retired only in favour of a card of the same person.
pub fn ensure_same_holder(legacy_holder: Uuid, new_card_holder: Uuid) -> Result<(), LegacyRefused> {
    if legacy_holder == new_card_holder {
        Ok(())
    } else {
        Err(LegacyRefused::OfAnotherPerson)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_old_card_number_that_is_an_id_number_prints_masked() {
        let number = LegacyCardNumber::parse(" 11010519491231002x ").unwrap();
        assert_eq!(number.expose(), "11010519491231002X");
        assert_eq!(number.to_string(), "110105********002X");
        assert_eq!(
            format!("{number:?}"),
            "LegacyCardNumber(110105********002X)"
        );
    }

    #[test]
    fn malformed_numbers_are_refused() {
        for bad in ["", "AB12", "YB-1100012345", "123456789012345678901"] {
            assert_eq!(LegacyCardNumber::parse(bad), Err(LegacyCardNumberError));
        }
    }

    #[test]
    fn a_retired_card_or_another_persons_card_cannot_be_retired() {
        assert_eq!(LegacyCardStatus::Active.ensure_active(), Ok(()));
        assert_eq!(
            LegacyCardStatus::Retired.ensure_active(),
            Err(LegacyRefused::AlreadyRetired)
        );
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(ensure_same_holder(a, a), Ok(()));
        assert_eq!(
            ensure_same_holder(a, b),
            Err(LegacyRefused::OfAnotherPerson)
        );
        assert!("LOST".parse::<LegacyCardStatus>().is_err());
    }
}

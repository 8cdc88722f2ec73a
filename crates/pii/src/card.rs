//! Identifiers of social security cards and of the bank cards linked to them.

use std::fmt;

use crate::{luhn, mask::mask_middle};

/// Why a string is not a card identifier. Messages never repeat the input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CardIdError {
    #[error("must be a letter, 7 digits and a check digit (9 characters)")]
    CardNumberFormat,
    #[error("card number check digit does not match")]
    CardNumberCheckDigit,
    #[error("must be 6 region digits, D156000005 and 16 hex digits (32 characters)")]
    IdentificationCodeFormat,
    #[error("must be 15 digits: 6 region digits, 8 sequence digits and a check digit")]
    SerialNumberFormat,
    #[error("serial number check digit does not match")]
    SerialNumberCheckDigit,
    #[error("must be 16 to 19 digits")]
    BankCardNumberFormat,
    #[error("bank card number check digit does not match (Luhn)")]
    BankCardNumberCheckDigit,
    #[error("must be 6 digits")]
    BankBinFormat,
}

impl CardIdError {
    pub fn reason(&self) -> &'static str {
        match self {
            Self::CardNumberFormat => "CARD_NUMBER_FORMAT",
            Self::CardNumberCheckDigit => "CARD_NUMBER_CHECK_DIGIT",
            Self::IdentificationCodeFormat => "CARD_IDENTIFICATION_CODE_FORMAT",
            Self::SerialNumberFormat => "SERIAL_NUMBER_FORMAT",
            Self::SerialNumberCheckDigit => "SERIAL_NUMBER_CHECK_DIGIT",
            Self::BankCardNumberFormat => "BANK_CARD_NUMBER_FORMAT",
            Self::BankCardNumberCheckDigit => "BANK_CARD_NUMBER_CHECK_DIGIT",
            Self::BankBinFormat => "BANK_BIN_FORMAT",
        }
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The 9-character card number: a letter, 7 digits and a Luhn check digit
/// computed over the letter's value (A=10 … Z=35) followed by the 7 digits.
/// `X00000019` is valid.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CardNumber(pub(crate) String);

impl CardNumber {
    /// How many card numbers exist: 26 letters × 10^7.
    pub const CAPACITY: u64 = 26 * 10_000_000;

    pub fn parse(value: &str) -> Result<Self, CardIdError> {
        let value = value.trim().to_ascii_uppercase();
        let bytes = value.as_bytes();
        if bytes.len() != 9 || !bytes[0].is_ascii_uppercase() || !all_digits(&value[1..]) {
            return Err(CardIdError::CardNumberFormat);
        }
        if card_number_check(bytes[0], &value[1..8]) != bytes[8] {
            return Err(CardIdError::CardNumberCheckDigit);
        }
        Ok(Self(value))
    }

    /// The `n`th card number (0-based): `A0000000?`, `A0000001?`, …
    pub fn from_sequence(n: u64) -> Option<Self> {
        if n >= Self::CAPACITY {
            return None;
        }
        let letter = b'A' + (n / 10_000_000) as u8;
        let digits = format!("{:07}", n % 10_000_000);
        let check = card_number_check(letter, &digits);
        Some(Self(format!("{}{digits}{}", letter as char, check as char)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn card_number_check(letter: u8, digits: &str) -> u8 {
    let value = format!("{}{digits}", u32::from(letter - b'A') + 10);
    luhn::check_digit(value.as_bytes())
}

impl fmt::Display for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The 32-character card identification code (卡识别码) hospitals send:
/// issuing region (6 digits) + `D156000005` + 16 upper-case hex digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CardIdentificationCode(pub(crate) String);

const IDENTIFICATION_MIDDLE: &str = "D156000005";

impl CardIdentificationCode {
    pub fn parse(value: &str) -> Result<Self, CardIdError> {
        let value = value.trim().to_ascii_uppercase();
        let valid = value.len() == 32
            && value.is_ascii()
            && all_digits(&value[..6])
            && &value[6..16] == IDENTIFICATION_MIDDLE
            && value[16..].bytes().all(|b| b.is_ascii_hexdigit());
        if valid {
            Ok(Self(value))
        } else {
            Err(CardIdError::IdentificationCodeFormat)
        }
    }

    /// The code of a card issued in `region` (6 digits) with chip number `chip`.
    pub fn new(region: &str, chip: u64) -> Result<Self, CardIdError> {
        Self::parse(&format!("{region}{IDENTIFICATION_MIDDLE}{chip:016X}"))
    }

    pub fn region_code(&self) -> &str {
        &self.0[..6]
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CardIdentificationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The serial number printed on a card: issuing region (6 digits), an
/// 8-digit sequence and a Luhn check digit.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SerialNumber(pub(crate) String);

impl SerialNumber {
    pub fn parse(value: &str) -> Result<Self, CardIdError> {
        let value = value.trim();
        if value.len() != 15 || !all_digits(value) {
            return Err(CardIdError::SerialNumberFormat);
        }
        if !luhn::is_valid(value.as_bytes()) {
            return Err(CardIdError::SerialNumberCheckDigit);
        }
        Ok(Self(value.to_owned()))
    }

    /// The `n`th serial (n < 10^8) of `region`.
    pub fn from_sequence(region: &str, n: u64) -> Result<Self, CardIdError> {
        if n >= 100_000_000 || region.len() != 6 || !all_digits(region) {
            return Err(CardIdError::SerialNumberFormat);
        }
        let body = format!("{region}{n:08}");
        let check = luhn::check_digit(body.as_bytes()) as char;
        Ok(Self(format!("{body}{check}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SerialNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A bank's 6-digit identification number, the first digits of its card numbers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BankBin(String);

impl BankBin {
    pub fn parse(value: &str) -> Result<Self, CardIdError> {
        let value = value.trim();
        if value.len() == 6 && all_digits(value) {
            Ok(Self(value.to_owned()))
        } else {
            Err(CardIdError::BankBinFormat)
        }
    }
}

/// A bank card number: 16 to 19 digits ending in a Luhn check digit.
/// Personal data: shown as first 6 and last 4 digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BankCardNumber(pub(crate) String);

impl BankCardNumber {
    pub fn parse(value: &str) -> Result<Self, CardIdError> {
        let value = value.trim();
        if !(16..=19).contains(&value.len()) || !all_digits(value) {
            return Err(CardIdError::BankCardNumberFormat);
        }
        if !luhn::is_valid(value.as_bytes()) {
            return Err(CardIdError::BankCardNumberCheckDigit);
        }
        Ok(Self(value.to_owned()))
    }

    /// The 19-digit number `n` (n < 10^12) under `bin`.
    pub fn from_sequence(bin: &BankBin, n: u64) -> Option<Self> {
        if n >= 1_000_000_000_000 {
            return None;
        }
        let body = format!("{}{n:012}", bin.0);
        let check = luhn::check_digit(body.as_bytes()) as char;
        Some(Self(format!("{body}{check}")))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn masked(&self) -> String {
        mask_middle(&self.0, 6, 4)
    }
}

impl fmt::Debug for BankCardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BankCardNumber({})", self.masked())
    }
}

impl fmt::Display for BankCardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_domain_example_card_number_is_valid() {
        assert_eq!(
            CardNumber::parse("X00000019").unwrap().as_str(),
            "X00000019"
        );
        assert_eq!(
            CardNumber::parse("X00000018"),
            Err(CardIdError::CardNumberCheckDigit)
        );
        assert_eq!(
            CardNumber::parse("X0000001"),
            Err(CardIdError::CardNumberFormat)
        );
        assert_eq!(
            CardNumber::parse("10000001A"),
            Err(CardIdError::CardNumberFormat)
        );
    }

    #[test]
    fn identification_codes_have_their_fixed_middle() {
        let code = CardIdentificationCode::new("110100", 0xABCDEF0123456789).unwrap();
        assert_eq!(code.as_str(), "110100D156000005ABCDEF0123456789");
        assert_eq!(code.region_code(), "110100");
        assert!(CardIdentificationCode::parse("110100D156000006ABCDEF0123456789").is_err());
        assert!(CardIdentificationCode::parse("110100d156000005abcdef0123456789").is_ok());
    }

    #[test]
    fn multibyte_input_of_the_right_length_is_refused_not_a_panic() {
        let input = format!("11010张D156000005{}", "A".repeat(14));
        assert_eq!(input.len(), 32);
        assert!(CardIdentificationCode::parse(&input).is_err());
    }

    #[test]
    fn bank_card_numbers_are_luhn_checked_and_masked() {
        let number = BankCardNumber::parse("6222021234567890128").unwrap();
        assert_eq!(number.to_string(), "622202*********0128");
        assert!(!format!("{number:?}").contains("1234567890"));
        assert_eq!(
            BankCardNumber::parse("6222021234567890127"),
            Err(CardIdError::BankCardNumberCheckDigit)
        );
        assert_eq!(
            BankCardNumber::parse("622202"),
            Err(CardIdError::BankCardNumberFormat)
        );
    }

    proptest! {
        #[test]
        fn card_numbers_round_trip(n in 0..CardNumber::CAPACITY) {
            let number = CardNumber::from_sequence(n).unwrap();
            prop_assert_eq!(CardNumber::parse(number.as_str()).unwrap(), number);
        }

        #[test]
        fn distinct_sequences_give_distinct_card_numbers(a in 0..CardNumber::CAPACITY, b in 0..CardNumber::CAPACITY) {
            prop_assume!(a != b);
            prop_assert_ne!(CardNumber::from_sequence(a), CardNumber::from_sequence(b));
        }

        #[test]
        fn a_changed_digit_breaks_the_card_number_check(n in 0..CardNumber::CAPACITY, at in 1usize..8, delta in 1u8..10) {
            let number = CardNumber::from_sequence(n).unwrap();
            let mut bytes = number.as_str().as_bytes().to_vec();
            bytes[at] = b'0' + (bytes[at] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert_eq!(CardNumber::parse(&changed), Err(CardIdError::CardNumberCheckDigit));
        }

        #[test]
        fn serials_round_trip(region in 100000u32..999999, n in 0u64..100_000_000) {
            let serial = SerialNumber::from_sequence(&region.to_string(), n).unwrap();
            prop_assert_eq!(SerialNumber::parse(serial.as_str()).unwrap(), serial);
        }

        #[test]
        fn bank_card_numbers_round_trip(bin in 100000u32..999999, n in 0u64..1_000_000_000_000) {
            let bin = BankBin::parse(&bin.to_string()).unwrap();
            let number = BankCardNumber::from_sequence(&bin, n).unwrap();
            prop_assert_eq!(number.expose().len(), 19);
            prop_assert_eq!(BankCardNumber::parse(number.expose()).unwrap(), number);
        }

        #[test]
        fn identification_codes_round_trip(region in 100000u32..999999, chip in any::<u64>()) {
            let code = CardIdentificationCode::new(&region.to_string(), chip).unwrap();
            prop_assert_eq!(CardIdentificationCode::parse(code.as_str()).unwrap(), code);
        }

        #[test]
        fn parsers_never_panic(input in "\\PC{0,40}") {
            let _ = CardNumber::parse(&input);
            let _ = CardIdentificationCode::parse(&input);
            let _ = SerialNumber::parse(&input);
            let _ = BankCardNumber::parse(&input);
        }
    }
}

//! The resident ID number (GB 11643), which is also the social security number.

use std::fmt;

use chrono::{Datelike, NaiveDate};

use crate::mask::mask_middle;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARACTERS: [u8; 11] = *b"10X98765432";
/// First two digits of the region code: provinces, autonomous regions,
/// municipalities, and 71/81/82/83 (Taiwan, Hong Kong, Macao, residence permits).
const PROVINCES: &[u8] = &[
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Gender {
    Male,
    Female,
}

/// Why a string is not a resident ID number. The messages never repeat the input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("must be 18 characters")]
    Length,
    #[error("must be 17 digits followed by a digit or X")]
    Characters,
    #[error("region code is not a known province")]
    Region,
    #[error("birth date is not a real date")]
    BirthDate,
    #[error("birth date is in the future")]
    FutureBirthDate,
    #[error("check character does not match (ISO 7064 MOD 11-2)")]
    CheckCharacter,
}

impl IdNumberError {
    /// Stable, machine-readable reason for partners to switch on.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Length => "ID_NUMBER_LENGTH",
            Self::Characters => "ID_NUMBER_CHARACTERS",
            Self::Region => "ID_NUMBER_REGION",
            Self::BirthDate => "ID_NUMBER_BIRTH_DATE_INVALID",
            Self::FutureBirthDate => "ID_NUMBER_BIRTH_DATE_IN_FUTURE",
            Self::CheckCharacter => "ID_NUMBER_CHECK_CHARACTER",
        }
    }
}

/// An 18-character resident ID number with a valid check character, a real
/// birth date not after `today`, and a known province.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(pub(crate) String);

impl IdNumber {
    /// Parses `value` (a trailing lower-case `x` is accepted and upper-cased).
    pub fn parse(value: &str, today: NaiveDate) -> Result<Self, IdNumberError> {
        let value = value.trim();
        if value.chars().count() != 18 {
            return Err(IdNumberError::Length);
        }
        let normalized = value.to_ascii_uppercase();
        let bytes = normalized.as_bytes();
        if !bytes[..17].iter().all(u8::is_ascii_digit)
            || !(bytes[17].is_ascii_digit() || bytes[17] == b'X')
        {
            return Err(IdNumberError::Characters);
        }
        let province = (bytes[0] - b'0') * 10 + (bytes[1] - b'0');
        if !PROVINCES.contains(&province) {
            return Err(IdNumberError::Region);
        }
        let birth_date = birth_date_of(bytes).ok_or(IdNumberError::BirthDate)?;
        if birth_date > today {
            return Err(IdNumberError::FutureBirthDate);
        }
        if check_character(&bytes[..17]) != bytes[17] {
            return Err(IdNumberError::CheckCharacter);
        }
        Ok(Self(normalized))
    }

    /// The number made of 17 digits and the check character they call for.
    pub fn from_body(body: &str, today: NaiveDate) -> Result<Self, IdNumberError> {
        if body.len() != 17 || !body.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdNumberError::Characters);
        }
        let check = check_character(body.as_bytes()) as char;
        Self::parse(&format!("{body}{check}"), today)
    }

    /// The check character that 17 digits call for, whatever region or
    /// date they hold (`None` unless `body` is 17 ASCII digits): for making
    /// numbers, test data among them, not for checking one.
    pub fn check_character_for(body: &str) -> Option<char> {
        (body.len() == 17 && body.bytes().all(|b| b.is_ascii_digit()))
            .then(|| check_character(body.as_bytes()) as char)
    }

    /// The full number. Call only where the full number is needed (storage,
    /// an authorised response), never to log.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `110105********002X`: what logs, errors and partners see.
    pub fn masked(&self) -> String {
        mask_middle(&self.0, 6, 4)
    }

    /// The 6-digit administrative region code of the place of registration.
    pub fn region_code(&self) -> &str {
        &self.0[..6]
    }

    pub fn birth_date(&self) -> NaiveDate {
        birth_date_of(self.0.as_bytes()).expect("validated at parse time")
    }

    /// Odd sequence digit: male; even: female.
    pub fn gender(&self) -> Gender {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 {
            Gender::Male
        } else {
            Gender::Female
        }
    }
}

/// The check character for 17 ASCII digits (ISO 7064 MOD 11-2).
pub(crate) fn check_character(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK_CHARACTERS[(sum % 11) as usize]
}

fn birth_date_of(bytes: &[u8]) -> Option<NaiveDate> {
    let number = |range: std::ops::Range<usize>| {
        bytes[range]
            .iter()
            .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
    };
    let date = NaiveDate::from_ymd_opt(number(6..10) as i32, number(10..12), number(12..14))?;
    (date.year() >= 1900).then_some(date)
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    #[test]
    fn accepts_the_standards_test_vector() {
        let id = IdNumber::parse("11010519491231002X", today()).unwrap();
        assert_eq!(id.region_code(), "110105");
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert_eq!(id.gender(), Gender::Female);
        assert_eq!(id.to_string(), "110105********002X");
        assert_eq!(format!("{id:?}"), "IdNumber(110105********002X)");
    }

    #[test]
    fn from_body_appends_the_check_character() {
        assert_eq!(
            IdNumber::from_body("11010519491231002", today())
                .unwrap()
                .expose(),
            "11010519491231002X"
        );
    }

    #[test]
    fn the_check_character_is_made_for_any_seventeen_digits() {
        assert_eq!(
            IdNumber::check_character_for("11010519491231002"),
            Some('X')
        );
        // A body whose date is not real still gets its character.
        assert!(IdNumber::check_character_for("11010219900230001").is_some());
        assert_eq!(IdNumber::check_character_for("1101051949123100"), None);
        assert_eq!(IdNumber::check_character_for("1101051949123100A"), None);
    }

    #[test]
    fn accepts_a_lower_case_check_character() {
        let id = IdNumber::parse("11010519491231002x", today()).unwrap();
        assert_eq!(id.expose(), "11010519491231002X");
    }

    #[test]
    fn refuses_each_kind_of_bad_number() {
        let cases = [
            ("1101051949123100", IdNumberError::Length),
            ("1101051949123100AX", IdNumberError::Characters),
            ("99010519491231002X", IdNumberError::Region),
            ("110105194902300021", IdNumberError::BirthDate),
            ("110105209901010021", IdNumberError::FutureBirthDate),
            ("110105194912310021", IdNumberError::CheckCharacter),
        ];
        for (input, expected) in cases {
            assert_eq!(IdNumber::parse(input, today()), Err(expected), "{input}");
        }
    }

    #[test]
    fn errors_never_repeat_the_input() {
        let err = IdNumber::parse("110105194912310021", today()).unwrap_err();
        assert!(!err.to_string().contains("1101051949"));
    }

    fn valid_body() -> impl Strategy<Value = String> {
        (
            prop::sample::select(PROVINCES),
            0u32..10_000,
            1900i32..=2026,
            1u32..=12,
            1u32..=28,
            0u32..1000,
        )
            .prop_map(|(province, county, year, month, day, sequence)| {
                format!("{province:02}{county:04}{year:04}{month:02}{day:02}{sequence:03}")
            })
            .prop_filter("not after today", |body| {
                birth_date_of(format!("{body}0").as_bytes()).is_some_and(|d| d <= today())
            })
    }

    proptest! {
        #[test]
        fn every_generated_number_round_trips(body in valid_body()) {
            let full = format!("{body}{}", check_character(body.as_bytes()) as char);
            let id = IdNumber::parse(&full, today()).unwrap();
            prop_assert_eq!(id.expose(), full.as_str());
            prop_assert_eq!(id.masked().len(), 18);
            prop_assert!(!id.to_string().contains(&full[6..14]));
        }

        #[test]
        fn any_wrong_check_character_is_refused(body in valid_body(), wrong in 0usize..11) {
            let right = check_character(body.as_bytes());
            let candidate = CHECK_CHARACTERS[wrong];
            prop_assume!(candidate != right);
            let full = format!("{body}{}", candidate as char);
            prop_assert_eq!(IdNumber::parse(&full, today()), Err(IdNumberError::CheckCharacter));
        }

        #[test]
        fn parse_never_panics(input in "\\PC{0,24}") {
            let _ = IdNumber::parse(&input, today());
        }
    }
}

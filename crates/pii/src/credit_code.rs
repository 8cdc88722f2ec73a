//! The unified social credit code of an organisation (GB 32100-2015).

use std::fmt;

/// The 31 characters of the code, in value order (no I, O, S, V, Z).
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    #[error("must be 18 characters")]
    Length,
    #[error("may only contain digits and the letters of GB 32100 (no I, O, S, V, Z)")]
    Characters,
    #[error("check character does not match (GB 32100)")]
    CheckCharacter,
}

impl CreditCodeError {
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Length => "CREDIT_CODE_LENGTH",
            Self::Characters => "CREDIT_CODE_CHARACTERS",
            Self::CheckCharacter => "CREDIT_CODE_CHECK_CHARACTER",
        }
    }
}

/// An organisation's identifier. Not personal data, so shown in full.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CreditCode(pub(crate) String);

impl CreditCode {
    pub fn parse(value: &str) -> Result<Self, CreditCodeError> {
        let value = value.trim().to_ascii_uppercase();
        if value.chars().count() != 18 {
            return Err(CreditCodeError::Length);
        }
        let values: Vec<u32> = value
            .bytes()
            .map(value_of)
            .collect::<Option<_>>()
            .ok_or(CreditCodeError::Characters)?;
        if check_value(&values[..17]) != values[17] {
            return Err(CreditCodeError::CheckCharacter);
        }
        Ok(Self(value))
    }

    /// The code with these 17 characters and the check character they call for.
    pub fn from_body(body: &str) -> Result<Self, CreditCodeError> {
        let body = body.trim().to_ascii_uppercase();
        if body.chars().count() != 17 {
            return Err(CreditCodeError::Length);
        }
        let values: Vec<u32> = body
            .bytes()
            .map(value_of)
            .collect::<Option<_>>()
            .ok_or(CreditCodeError::Characters)?;
        let check = ALPHABET[check_value(&values) as usize] as char;
        Ok(Self(format!("{body}{check}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn value_of(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

fn check_value(values: &[u32]) -> u32 {
    let sum: u32 = values.iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    (31 - sum % 31) % 31
}

impl fmt::Debug for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CreditCode({})", self.0)
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn accepts_published_codes() {
        // Codes printed on public business licences.
        for code in [
            "914403001922038216",
            "9144030071526726XG",
            "91110000802100433B",
        ] {
            assert!(CreditCode::parse(code).is_ok(), "{code}");
        }
    }

    #[test]
    fn refuses_bad_codes() {
        assert_eq!(
            CreditCode::parse("91440300192203821"),
            Err(CreditCodeError::Length)
        );
        assert_eq!(
            CreditCode::parse("9144030019220382I6"),
            Err(CreditCodeError::Characters)
        );
        assert_eq!(
            CreditCode::parse("914403001922038217"),
            Err(CreditCodeError::CheckCharacter)
        );
    }

    #[test]
    fn from_body_appends_the_check_character() {
        assert_eq!(
            CreditCode::from_body("91440300192203821").unwrap().as_str(),
            "914403001922038216"
        );
    }

    proptest! {
        #[test]
        fn generated_codes_round_trip(body in prop::collection::vec(0u32..31, 17)) {
            let check = check_value(&body);
            let code: String = body.iter().chain([&check])
                .map(|&v| ALPHABET[v as usize] as char).collect();
            let parsed = CreditCode::parse(&code).unwrap();
            prop_assert_eq!(parsed.as_str(), code.as_str());
        }

        #[test]
        fn parse_never_panics(input in "\\PC{0,24}") {
            let _ = CreditCode::parse(&input);
        }
    }
}

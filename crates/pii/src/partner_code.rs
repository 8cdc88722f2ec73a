use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("must be 2 to 32 characters of A-Z, 0-9 and -")]
pub struct PartnerCodeError;

impl PartnerCodeError {
    pub fn reason(&self) -> &'static str {
        "PARTNER_CODE_INVALID"
    }
}

/// The code a partner (bank, outlet, hospital, pharmacy, agency, employer,
/// hotline centre) is registered under: 2 to 32 characters of `A-Z 0-9 -`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PartnerCode(pub(crate) String);

impl PartnerCode {
    pub fn parse(value: &str) -> Result<Self, PartnerCodeError> {
        let valid = (2..=32).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err(PartnerCodeError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PartnerCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

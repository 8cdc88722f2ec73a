use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("must be 6 digits")]
pub struct RegionCodeError;

impl RegionCodeError {
    pub fn reason(&self) -> &'static str {
        "REGION_CODE_INVALID"
    }
}

/// A 6-digit administrative region code (GB/T 2260), as in `110105`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RegionCode(pub(crate) String);

impl RegionCode {
    pub fn parse(value: &str) -> Result<Self, RegionCodeError> {
        if value.len() == 6 && value.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(value.to_owned()))
        } else {
            Err(RegionCodeError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<RegionCode> for String {
    fn from(code: RegionCode) -> Self {
        code.0
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

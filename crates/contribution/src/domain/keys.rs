//! Where a listing stopped: the last key of a page, which the next page
//! continues after. Written into page tokens (`platform::paging`) in the
//! forms below, so tokens issued before stay valid.

use std::{fmt, str::FromStr};

use chrono::NaiveDate;

use super::{InsuranceType, Part, Payer};

/// A statement line's place: `period|insurance type|part` (the type empty
/// for a service fee).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineKey {
    pub period: NaiveDate,
    pub insurance_type: Option<InsuranceType>,
    pub part: Part,
}

/// A key this service did not write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("is not a token this service issued")]
pub struct KeyInvalid;

fn day(text: &str) -> Result<NaiveDate, KeyInvalid> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| KeyInvalid)
}

impl fmt::Display for LineKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let insurance_type = self.insurance_type.map_or("", InsuranceType::as_str);
        write!(f, "{}|{insurance_type}|{}", self.period, self.part)
    }
}

impl FromStr for LineKey {
    type Err = KeyInvalid;

    fn from_str(text: &str) -> Result<Self, KeyInvalid> {
        let mut parts = text.splitn(3, '|');
        let mut next = || parts.next().ok_or(KeyInvalid);
        let period = day(next()?)?;
        let insurance_type = match next()? {
            "" => None,
            t => Some(t.parse().map_err(|_| KeyInvalid)?),
        };
        let part = next()?.parse().map_err(|_| KeyInvalid)?;
        Ok(Self {
            period,
            insurance_type,
            part,
        })
    }
}

/// An unpaid bill's place in the arrears list: `payer|period`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArrearsKey {
    pub payer: Payer,
    pub period: NaiveDate,
}

impl fmt::Display for ArrearsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}|{}", self.payer, self.period)
    }
}

impl FromStr for ArrearsKey {
    type Err = KeyInvalid;

    fn from_str(text: &str) -> Result<Self, KeyInvalid> {
        let (payer, period) = text.rsplit_once('|').ok_or(KeyInvalid)?;
        Ok(Self {
            payer: payer.parse().map_err(|_| KeyInvalid)?,
            period: day(period)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        for text in ["2026-01-01|OLD_AGE|EMPLOYER", "2026-01-01||SERVICE_FEE"] {
            assert_eq!(text.parse::<LineKey>().unwrap().to_string(), text);
        }
        let arrears = "employer:EMP-1|2026-01-01";
        assert_eq!(arrears.parse::<ArrearsKey>().unwrap().to_string(), arrears);
        assert!("2026-01-01|OLD_AGE".parse::<LineKey>().is_err());
        assert!("nobody|2026-01-01".parse::<ArrearsKey>().is_err());
    }
}

//! A person's basic information, and how a record moves between its states:
//! registered unconfirmed, confirmed, corrected (a new version, unconfirmed
//! again).

use std::{fmt, str::FromStr};

use pii::{Gender, IdNumber, PersonName};

use super::UnknownValue;

/// Longest ethnicity, in characters.
pub const ETHNICITY_MAX: usize = 20;
/// Longest address, in characters.
pub const ADDRESS_MAX: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BasicInfoStatus {
    Unconfirmed,
    Confirmed,
}

impl BasicInfoStatus {
    /// The state's name in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unconfirmed => "UNCONFIRMED",
            Self::Confirmed => "CONFIRMED",
        }
    }
}

impl FromStr for BasicInfoStatus {
    type Err = UnknownValue;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "UNCONFIRMED" => Ok(Self::Unconfirmed),
            "CONFIRMED" => Ok(Self::Confirmed),
            other => Err(UnknownValue::new("basic information status", other)),
        }
    }
}

/// A gender's name in the database.
pub fn gender_name(gender: Gender) -> &'static str {
    match gender {
        Gender::Male => "MALE",
        Gender::Female => "FEMALE",
    }
}

/// The gender a database name stands for.
pub fn gender_from_name(value: &str) -> Result<Gender, UnknownValue> {
    match value {
        "MALE" => Ok(Gender::Male),
        "FEMALE" => Ok(Gender::Female),
        other => Err(UnknownValue::new("gender", other)),
    }
}

/// Name, gender, ethnicity, phone and address, each validated.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicInfo {
    pub name: PersonName,
    pub gender: Gender,
    pub ethnicity: String,
    pub phone: String,
    pub address: String,
}

impl fmt::Debug for BasicInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicInfo")
            .field("name", &self.name)
            .field("gender", &self.gender)
            .finish_non_exhaustive()
    }
}

/// Why a free-text field is refused. The messages are the descriptions
/// callers see.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("is required")]
    Required,
    #[error("must be at most {0} characters")]
    TooLong(usize),
    #[error("must not contain control characters")]
    Characters,
}

impl TextError {
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Required => "FIELD_REQUIRED",
            Self::TooLong(_) => "FIELD_TOO_LONG",
            Self::Characters => "FIELD_CHARACTERS",
        }
    }
}

/// Free text (ethnicity, address): trimmed, present, at most `max`
/// characters, no control characters.
pub fn text(value: &str, max: usize) -> Result<String, TextError> {
    let value = value.trim();
    if value.is_empty() {
        Err(TextError::Required)
    } else if value.chars().count() > max {
        Err(TextError::TooLong(max))
    } else if value.chars().any(char::is_control) {
        Err(TextError::Characters)
    } else {
        Ok(value.to_owned())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("is required")]
    Required,
    #[error("must be an 11-digit mobile number or a landline as AREA-NUMBER")]
    Invalid,
}

impl PhoneError {
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Required => "FIELD_REQUIRED",
            Self::Invalid => "PHONE_INVALID",
        }
    }
}

/// A mainland mobile number (11 digits starting 13-19) or a landline with
/// area code (`010-12345678`).
pub fn phone(value: &str) -> Result<String, PhoneError> {
    let value = value.trim();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mobile = value.len() == 11
        && digits(value)
        && value.starts_with('1')
        && (b'3'..=b'9').contains(&value.as_bytes()[1]);
    let landline = value.split_once('-').is_some_and(|(area, number)| {
        area.starts_with('0')
            && (3..=4).contains(&area.len())
            && digits(area)
            && (7..=8).contains(&number.len())
            && digits(number)
    });
    if value.is_empty() {
        Err(PhoneError::Required)
    } else if mobile || landline {
        Ok(value.to_owned())
    } else {
        Err(PhoneError::Invalid)
    }
}

/// The gender on record contradicts the ID number (reason `GENDER_MISMATCH`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("does not agree with the ID number's sequence digit (odd: male, even: female)")]
pub struct GenderMismatch;

impl GenderMismatch {
    pub fn reason(&self) -> &'static str {
        "GENDER_MISMATCH"
    }
}

/// The gender on record must agree with the ID number's sequence digit.
pub fn check_gender(gender: Gender, id_number: &IdNumber) -> Result<(), GenderMismatch> {
    if gender == id_number.gender() {
        Ok(())
    } else {
        Err(GenderMismatch)
    }
}

/// Why a confirmation or correction is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The caller acted on another version than the current one.
    VersionMismatch { current: i32 },
    /// This version is already confirmed.
    AlreadyConfirmed,
    /// The corrected gender contradicts the ID number.
    GenderMismatch,
}

/// The current state of a person's record, as confirmations and corrections
/// see it.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    pub version: i32,
    pub status: BasicInfoStatus,
    pub id_number: &'a IdNumber,
}

impl Record<'_> {
    /// Confirming `version`: it must be the current one, not yet confirmed.
    pub fn confirm(&self, version: i32) -> Result<(), Refusal> {
        self.ensure_current(version)?;
        if self.status == BasicInfoStatus::Confirmed {
            return Err(Refusal::AlreadyConfirmed);
        }
        Ok(())
    }

    /// Correcting `version` to `info`: it must be the current one and `info`
    /// must agree with the ID number. The correction becomes the next
    /// version (returned), unconfirmed.
    pub fn correct(&self, version: i32, info: &BasicInfo) -> Result<i32, Refusal> {
        self.ensure_current(version)?;
        check_gender(info.gender, self.id_number).map_err(|_| Refusal::GenderMismatch)?;
        Ok(self.version + 1)
    }

    fn ensure_current(&self, version: i32) -> Result<(), Refusal> {
        if self.version == version {
            Ok(())
        } else {
            Err(Refusal::VersionMismatch {
                current: self.version,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn id() -> IdNumber {
        IdNumber::parse(
            "11010519491231002X",
            NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        )
        .unwrap()
    }

    fn info(gender: Gender) -> BasicInfo {
        BasicInfo {
            name: PersonName::parse("王芳").unwrap(),
            gender,
            ethnicity: "汉".into(),
            phone: "13800138000".into(),
            address: "北京市西城区".into(),
        }
    }

    #[test]
    fn accepts_mobiles_and_landlines() {
        assert_eq!(phone("13800138000").unwrap(), "13800138000");
        assert!(phone("010-66012345").is_ok());
        assert!(phone("0755-1234567").is_ok());
        assert_eq!(phone("12345"), Err(PhoneError::Invalid));
        assert_eq!(phone(" "), Err(PhoneError::Required));
    }

    #[test]
    fn text_is_trimmed_bounded_and_printable() {
        assert_eq!(text(" 汉 ", ETHNICITY_MAX).unwrap(), "汉");
        assert_eq!(text("", 5), Err(TextError::Required));
        assert_eq!(text("abcdef", 5), Err(TextError::TooLong(5)));
        assert_eq!(text("a\u{7}b", 5), Err(TextError::Characters));
    }

    #[test]
    fn a_confirmation_needs_the_current_unconfirmed_version() {
        let id = id();
        let record = Record {
            version: 2,
            status: BasicInfoStatus::Unconfirmed,
            id_number: &id,
        };
        assert_eq!(record.confirm(2), Ok(()));
        assert_eq!(
            record.confirm(1),
            Err(Refusal::VersionMismatch { current: 2 })
        );
        let confirmed = Record {
            status: BasicInfoStatus::Confirmed,
            ..record
        };
        assert_eq!(confirmed.confirm(2), Err(Refusal::AlreadyConfirmed));
    }

    #[test]
    fn a_correction_makes_the_next_version_and_keeps_to_the_id_number() {
        let id = id();
        let record = Record {
            version: 1,
            status: BasicInfoStatus::Confirmed,
            id_number: &id,
        };
        assert_eq!(record.correct(1, &info(Gender::Female)), Ok(2));
        assert_eq!(
            record.correct(1, &info(Gender::Male)),
            Err(Refusal::GenderMismatch)
        );
        assert_eq!(
            record.correct(3, &info(Gender::Female)),
            Err(Refusal::VersionMismatch { current: 1 })
        );
    }

    #[test]
    fn unknown_database_values_are_errors() {
        assert!("PENDING".parse::<BasicInfoStatus>().is_err());
        assert!(gender_from_name("X").is_err());
        assert_eq!(
            "CONFIRMED".parse::<BasicInfoStatus>(),
            Ok(BasicInfoStatus::Confirmed)
        );
    }
}

//! A person's basic information, as registered, corrected and confirmed.

use std::fmt;

use pii::{Gender, IdNumber, PersonName};
use platform::error::FieldViolations;
use socsec_proto::{common::v1 as common, identity::v1 as pb};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BasicInfoStatus {
    Unconfirmed,
    Confirmed,
}

impl BasicInfoStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unconfirmed => "UNCONFIRMED",
            Self::Confirmed => "CONFIRMED",
        }
    }

    pub fn from_db(value: &str) -> Self {
        match value {
            "CONFIRMED" => Self::Confirmed,
            _ => Self::Unconfirmed,
        }
    }
}

/// Name, gender, ethnicity, phone and address, each validated; the gender
/// agrees with the ID number's sequence digit.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicInfo {
    pub name: PersonName,
    pub gender: Gender,
    pub ethnicity: String,
    pub phone: String,
    pub address: String,
}

impl BasicInfo {
    /// Parses `basic_info` for the person with `id_number` (when that parsed),
    /// recording every bad field in `violations`.
    pub fn parse(
        violations: &mut FieldViolations,
        info: Option<&pb::BasicInfo>,
        id_number: Option<&IdNumber>,
    ) -> Option<Self> {
        let Some(info) = info else {
            violations.add("basic_info", "FIELD_REQUIRED", "is required");
            return None;
        };
        let name = violations.check("basic_info.name", PersonName::parse(&info.name));
        let gender = match common::Gender::try_from(info.gender) {
            Ok(common::Gender::Male) => Some(Gender::Male),
            Ok(common::Gender::Female) => Some(Gender::Female),
            _ => {
                violations.add(
                    "basic_info.gender",
                    "GENDER_REQUIRED",
                    "must be MALE or FEMALE",
                );
                None
            }
        };
        if let (Some(gender), Some(id_number)) = (gender, id_number)
            && gender != id_number.gender()
        {
            violations.add(
                "basic_info.gender",
                "GENDER_MISMATCH",
                "does not agree with the ID number's sequence digit (odd: male, even: female)",
            );
        }
        let ethnicity = text(violations, "basic_info.ethnicity", &info.ethnicity, 20);
        let phone = phone(violations, &info.phone);
        let address = text(violations, "basic_info.address", &info.address, 200);
        Some(Self {
            name: name?,
            gender: gender?,
            ethnicity: ethnicity?,
            phone: phone?,
            address: address?,
        })
    }

    pub fn to_proto(&self) -> pb::BasicInfo {
        pb::BasicInfo {
            name: self.name.expose().to_owned(),
            gender: gender_to_proto(self.gender) as i32,
            ethnicity: self.ethnicity.clone(),
            phone: self.phone.clone(),
            address: self.address.clone(),
        }
    }
}

impl fmt::Debug for BasicInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicInfo")
            .field("name", &self.name)
            .field("gender", &self.gender)
            .finish_non_exhaustive()
    }
}

pub fn gender_to_proto(gender: Gender) -> common::Gender {
    match gender {
        Gender::Male => common::Gender::Male,
        Gender::Female => common::Gender::Female,
    }
}

pub fn gender_to_db(gender: Gender) -> &'static str {
    match gender {
        Gender::Male => "MALE",
        Gender::Female => "FEMALE",
    }
}

pub fn gender_from_db(value: &str) -> Gender {
    if value == "MALE" {
        Gender::Male
    } else {
        Gender::Female
    }
}

fn text(violations: &mut FieldViolations, field: &str, value: &str, max: usize) -> Option<String> {
    let value = value.trim();
    if value.is_empty() {
        violations.add(field, "FIELD_REQUIRED", "is required");
        None
    } else if value.chars().count() > max {
        violations.add(
            field,
            "FIELD_TOO_LONG",
            format!("must be at most {max} characters"),
        );
        None
    } else if value.chars().any(char::is_control) {
        violations.add(
            field,
            "FIELD_CHARACTERS",
            "must not contain control characters",
        );
        None
    } else {
        Some(value.to_owned())
    }
}

/// A mainland mobile number (11 digits starting 13-19) or a landline with
/// area code (`010-12345678`).
fn phone(violations: &mut FieldViolations, value: &str) -> Option<String> {
    let value = value.trim();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mobile = value.len() == 11
        && digits(value)
        && value.starts_with('1')
        && (b'3'..=b'9').contains(&value.as_bytes()[1]);
    let landline = match value.split_once('-') {
        Some((area, number)) => {
            area.starts_with('0')
                && (3..=4).contains(&area.len())
                && digits(area)
                && (7..=8).contains(&number.len())
                && digits(number)
        }
        None => false,
    };
    if value.is_empty() {
        violations.add("basic_info.phone", "FIELD_REQUIRED", "is required");
        None
    } else if mobile || landline {
        Some(value.to_owned())
    } else {
        violations.add(
            "basic_info.phone",
            "PHONE_INVALID",
            "must be an 11-digit mobile number or a landline as AREA-NUMBER",
        );
        None
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn info(name: &str, gender: common::Gender, phone: &str) -> pb::BasicInfo {
        pb::BasicInfo {
            name: name.into(),
            gender: gender as i32,
            ethnicity: "汉".into(),
            phone: phone.into(),
            address: "北京市西城区".into(),
        }
    }

    fn id() -> IdNumber {
        IdNumber::parse(
            "11010519491231002X",
            NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn accepts_complete_information() {
        let mut v = FieldViolations::new();
        let parsed = BasicInfo::parse(
            &mut v,
            Some(&info("王芳", common::Gender::Female, "13800138000")),
            Some(&id()),
        );
        assert!(v.is_empty(), "{v:?}");
        assert_eq!(parsed.unwrap().phone, "13800138000");
    }

    #[test]
    fn reports_every_bad_field() {
        let mut v = FieldViolations::new();
        let parsed = BasicInfo::parse(
            &mut v,
            Some(&info("", common::Gender::Male, "12345")),
            Some(&id()),
        );
        assert!(parsed.is_none());
        let status = v.into_status();
        assert!(status.message().contains("basic_info.name"));
        assert!(status.message().contains("basic_info.gender"));
        assert!(status.message().contains("basic_info.phone"));
    }

    #[test]
    fn accepts_a_landline() {
        let mut v = FieldViolations::new();
        assert!(phone(&mut v, "010-66012345").is_some());
        assert!(phone(&mut v, "0755-1234567").is_some());
        assert!(v.is_empty());
    }
}

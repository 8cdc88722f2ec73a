//! Who is billed for a contribution: an employer, an HR agency, or a
//! flexible worker paying for themselves. Stored and sent as
//! `employer:CODE`, `hr_agency:CODE` or `person:<id>`.

use std::{fmt, str::FromStr};

use pii::PartnerCode;
use socsec_core::{Caller, CallerKind};
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Payer {
    Employer(PartnerCode),
    HrAgency(PartnerCode),
    /// A flexible worker, by person id.
    Person(Uuid),
}

/// Not `employer:CODE`, `hr_agency:CODE` or `person:<id>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("must be employer:CODE, hr_agency:CODE or person:<id>")]
pub struct PayerInvalid;

impl Payer {
    /// The payer a caller is when it pays for itself: an employer, an
    /// agency or a person; `None` for anyone else.
    pub fn of(caller: &Caller) -> Option<Self> {
        match caller.kind {
            CallerKind::Employer => PartnerCode::parse(&caller.code).ok().map(Self::Employer),
            CallerKind::HrAgency => PartnerCode::parse(&caller.code).ok().map(Self::HrAgency),
            CallerKind::Person => Uuid::parse_str(&caller.code).ok().map(Self::Person),
            _ => None,
        }
    }

    /// The person whose own bill this is, when the payer is a person (a
    /// flexible worker): reading or paying it touches their data.
    pub fn person(&self) -> Option<Uuid> {
        match self {
            Self::Person(id) => Some(*id),
            _ => None,
        }
    }
}

impl FromStr for Payer {
    type Err = PayerInvalid;

    fn from_str(value: &str) -> Result<Self, PayerInvalid> {
        let parsed = match value.split_once(':') {
            Some(("employer", code)) => PartnerCode::parse(code).ok().map(Self::Employer),
            Some(("hr_agency", code)) => PartnerCode::parse(code).ok().map(Self::HrAgency),
            Some(("person", id)) => Uuid::parse_str(id).ok().map(Self::Person),
            _ => None,
        };
        parsed.ok_or(PayerInvalid)
    }
}

impl fmt::Display for Payer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Employer(code) => write!(f, "employer:{code}"),
            Self::HrAgency(code) => write!(f, "hr_agency:{code}"),
            Self::Person(id) => write!(f, "person:{id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_form_round_trips() {
        for text in [
            "employer:EMP-1",
            "hr_agency:AG-1",
            "person:0190f2c4-0000-7000-8000-000000000001",
        ] {
            let payer: Payer = text.parse().unwrap();
            assert_eq!(payer.to_string(), text);
        }
        let person: Payer = "person:0190f2c4-0000-7000-8000-000000000001"
            .parse()
            .unwrap();
        assert!(person.person().is_some());
    }

    #[test]
    fn anything_else_is_refused() {
        for text in [
            "",
            "employer",
            "employer:",
            "employer:lower",
            "bank:B1",
            "person:not-a-uuid",
            "hr_agency:A",
        ] {
            assert_eq!(text.parse::<Payer>(), Err(PayerInvalid), "{text}");
        }
    }

    #[test]
    fn a_caller_is_the_payer_of_its_own_bills() {
        let employer = Caller::new(CallerKind::Employer, "EMP-1");
        assert_eq!(Payer::of(&employer), "employer:EMP-1".parse().ok());
        assert_eq!(Payer::of(&Caller::new(CallerKind::Operator, "op-1")), None);
    }
}

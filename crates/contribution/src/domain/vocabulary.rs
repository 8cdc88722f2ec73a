//! Insurance types and enrolment schemes, as stored and as sent.

use socsec_proto::contribution::v1 as pb;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InsuranceType {
    OldAge,
    Medical,
    Unemployment,
    WorkInjury,
    Maternity,
}

impl InsuranceType {
    const ALL: [Self; 5] = [
        Self::OldAge,
        Self::Medical,
        Self::Unemployment,
        Self::WorkInjury,
        Self::Maternity,
    ];

    pub fn from_proto(value: i32) -> Option<Self> {
        match pb::InsuranceType::try_from(value).ok()? {
            pb::InsuranceType::OldAge => Some(Self::OldAge),
            pb::InsuranceType::Medical => Some(Self::Medical),
            pb::InsuranceType::Unemployment => Some(Self::Unemployment),
            pb::InsuranceType::WorkInjury => Some(Self::WorkInjury),
            pb::InsuranceType::Maternity => Some(Self::Maternity),
            pb::InsuranceType::Unspecified => None,
        }
    }

    pub fn to_proto(self) -> pb::InsuranceType {
        match self {
            Self::OldAge => pb::InsuranceType::OldAge,
            Self::Medical => pb::InsuranceType::Medical,
            Self::Unemployment => pb::InsuranceType::Unemployment,
            Self::WorkInjury => pb::InsuranceType::WorkInjury,
            Self::Maternity => pb::InsuranceType::Maternity,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OldAge => "OLD_AGE",
            Self::Medical => "MEDICAL",
            Self::Unemployment => "UNEMPLOYMENT",
            Self::WorkInjury => "WORK_INJURY",
            Self::Maternity => "MATERNITY",
        }
    }

    pub fn from_db(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == value)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Employee,
    Flexible,
    Agency,
}

impl Scheme {
    pub fn from_proto(value: i32) -> Option<Self> {
        match pb::Scheme::try_from(value).ok()? {
            pb::Scheme::Employee => Some(Self::Employee),
            pb::Scheme::Flexible => Some(Self::Flexible),
            pb::Scheme::Agency => Some(Self::Agency),
            pb::Scheme::Unspecified => None,
        }
    }

    pub fn to_proto(self) -> pb::Scheme {
        match self {
            Self::Employee => pb::Scheme::Employee,
            Self::Flexible => pb::Scheme::Flexible,
            Self::Agency => pb::Scheme::Agency,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Employee => "EMPLOYEE",
            Self::Flexible => "FLEXIBLE",
            Self::Agency => "AGENCY",
        }
    }

    pub fn from_db(value: &str) -> Self {
        match value {
            "EMPLOYEE" => Self::Employee,
            "AGENCY" => Self::Agency,
            _ => Self::Flexible,
        }
    }
}

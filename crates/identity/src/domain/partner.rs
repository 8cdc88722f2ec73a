//! Organisations that call the system, and what a registration must hold.

use pii::{CreditCode, PartnerCode};
use platform::{auth::CallerKind, error::FieldViolations};
use socsec_proto::common::v1 as common;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartnerKind {
    Bank,
    BankOutlet,
    Hospital,
    Pharmacy,
    HrAgency,
    Employer,
    HotlineCenter,
}

impl PartnerKind {
    const ALL: [PartnerKind; 7] = [
        Self::Bank,
        Self::BankOutlet,
        Self::Hospital,
        Self::Pharmacy,
        Self::HrAgency,
        Self::Employer,
        Self::HotlineCenter,
    ];

    pub fn from_proto(kind: i32) -> Option<Self> {
        match common::PartnerKind::try_from(kind).ok()? {
            common::PartnerKind::Bank => Some(Self::Bank),
            common::PartnerKind::BankOutlet => Some(Self::BankOutlet),
            common::PartnerKind::Hospital => Some(Self::Hospital),
            common::PartnerKind::Pharmacy => Some(Self::Pharmacy),
            common::PartnerKind::HrAgency => Some(Self::HrAgency),
            common::PartnerKind::Employer => Some(Self::Employer),
            common::PartnerKind::HotlineCenter => Some(Self::HotlineCenter),
            common::PartnerKind::Unspecified => None,
        }
    }

    pub fn to_proto(self) -> common::PartnerKind {
        match self {
            Self::Bank => common::PartnerKind::Bank,
            Self::BankOutlet => common::PartnerKind::BankOutlet,
            Self::Hospital => common::PartnerKind::Hospital,
            Self::Pharmacy => common::PartnerKind::Pharmacy,
            Self::HrAgency => common::PartnerKind::HrAgency,
            Self::Employer => common::PartnerKind::Employer,
            Self::HotlineCenter => common::PartnerKind::HotlineCenter,
        }
    }

    /// The caller kind a partner of this kind authenticates as; also its
    /// name in the database.
    pub fn caller_kind(self) -> CallerKind {
        match self {
            Self::Bank => CallerKind::Bank,
            Self::BankOutlet => CallerKind::BankOutlet,
            Self::Hospital => CallerKind::Hospital,
            Self::Pharmacy => CallerKind::Pharmacy,
            Self::HrAgency => CallerKind::HrAgency,
            Self::Employer => CallerKind::Employer,
            Self::HotlineCenter => CallerKind::HotlineCenter,
        }
    }

    pub fn as_str(self) -> &'static str {
        self.caller_kind().as_str()
    }

    pub fn from_db(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == value)
    }

    fn needs_credit_code(self) -> bool {
        matches!(self, Self::Employer | Self::HrAgency)
    }
}

/// A validated partner registration.
#[derive(Clone, Debug)]
pub struct NewPartner {
    pub code: PartnerCode,
    pub kind: PartnerKind,
    pub name: String,
    pub region_code: String,
    pub parent_code: Option<PartnerCode>,
    pub credit_code: Option<CreditCode>,
    pub designation_in_force: bool,
}

impl NewPartner {
    #[allow(clippy::too_many_arguments)]
    pub fn parse(
        violations: &mut FieldViolations,
        code: &str,
        kind: i32,
        name: &str,
        region_code: &str,
        parent_code: &str,
        credit_code: &str,
        designation_in_force: bool,
    ) -> Option<Self> {
        let code = violations.check("code", PartnerCode::parse(code));
        let kind = PartnerKind::from_proto(kind);
        if kind.is_none() {
            violations.add("kind", "PARTNER_KIND_REQUIRED", "must be a partner kind");
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            violations.add(
                "name",
                "PARTNER_NAME_INVALID",
                "must be 1 to 100 characters",
            );
        }
        let region_code = violations.check("region_code", pii::RegionCode::parse(region_code));
        let parent_code = match (kind, parent_code.is_empty()) {
            (Some(PartnerKind::BankOutlet), true) => {
                violations.add(
                    "parent_code",
                    "FIELD_REQUIRED",
                    "a bank outlet names its bank",
                );
                None
            }
            (Some(PartnerKind::BankOutlet), false) => {
                violations.check("parent_code", PartnerCode::parse(parent_code))
            }
            (_, false) => {
                violations.add(
                    "parent_code",
                    "PARENT_NOT_ALLOWED",
                    "only bank outlets have a parent",
                );
                None
            }
            (_, true) => None,
        };
        let credit_code = if credit_code.is_empty() {
            if kind.is_some_and(PartnerKind::needs_credit_code) {
                violations.add(
                    "credit_code",
                    "FIELD_REQUIRED",
                    "employers and HR agencies give their unified social credit code",
                );
            }
            None
        } else {
            violations.check("credit_code", CreditCode::parse(credit_code))
        };
        Some(Self {
            code: code?,
            kind: kind?,
            name: name.to_owned(),
            region_code: region_code?.into(),
            parent_code,
            credit_code,
            designation_in_force,
        })
    }
}

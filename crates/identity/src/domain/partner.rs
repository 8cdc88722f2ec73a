//! Organisations that call the system, what a registration must hold, and
//! how a registration reads to the admission rule.

use std::str::FromStr;

use pii::{CreditCode, PartnerCode, RegionCode};
use socsec_core::{CallerKind, Registration};

use super::UnknownValue;

/// Longest partner name, in characters.
pub const NAME_MAX: usize = 100;

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
    pub const ALL: [PartnerKind; 7] = [
        Self::Bank,
        Self::BankOutlet,
        Self::Hospital,
        Self::Pharmacy,
        Self::HrAgency,
        Self::Employer,
        Self::HotlineCenter,
    ];

    /// The caller kind a partner of this kind authenticates as.
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

    /// The kind's name in the database: its caller kind's name.
    pub fn as_str(self) -> &'static str {
        self.caller_kind().as_str()
    }

    /// Only a bank outlet has a parent (its bank), and it must name one.
    pub fn has_parent(self) -> bool {
        self == Self::BankOutlet
    }

    /// Employers and HR agencies give their unified social credit code.
    pub fn needs_credit_code(self) -> bool {
        matches!(self, Self::Employer | Self::HrAgency)
    }
}

impl FromStr for PartnerKind {
    type Err = UnknownValue;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == value)
            .ok_or_else(|| UnknownValue::new("partner kind", value))
    }
}

/// A partner as the admission rule ([`socsec_core::admit`]) reads it.
pub fn registration(kind: PartnerKind, designation_in_force: bool) -> Registration {
    Registration {
        kind: kind.caller_kind(),
        in_force: designation_in_force,
    }
}

/// A validated partner registration.
#[derive(Clone, Debug)]
pub struct NewPartner {
    pub code: PartnerCode,
    pub kind: PartnerKind,
    pub name: String,
    pub region_code: RegionCode,
    pub parent_code: Option<PartnerCode>,
    pub credit_code: Option<CreditCode>,
    pub designation_in_force: bool,
    /// A bank designated to collect contributions (banks only).
    pub collects_contributions: bool,
}

/// A partner name that is empty or too long (`PARTNER_NAME_INVALID`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("must be 1 to 100 characters")]
pub struct PartnerNameInvalid;

impl PartnerNameInvalid {
    pub fn reason(&self) -> &'static str {
        "PARTNER_NAME_INVALID"
    }
}

/// A partner's name: trimmed, 1 to [`NAME_MAX`] characters.
pub fn name(value: &str) -> Result<String, PartnerNameInvalid> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > NAME_MAX {
        Err(PartnerNameInvalid)
    } else {
        Ok(value.to_owned())
    }
}

/// A bank outlet's parent is not registered as a bank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParentNotABank;

/// A bank outlet's parent must be registered, as a bank. `parent` is the
/// registered kind of the code the outlet names, if any.
pub fn ensure_parent_is_bank(parent: Option<PartnerKind>) -> Result<(), ParentNotABank> {
    match parent {
        Some(PartnerKind::Bank) => Ok(()),
        _ => Err(ParentNotABank),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_database_name() {
        for kind in PartnerKind::ALL {
            assert_eq!(kind.as_str().parse::<PartnerKind>(), Ok(kind));
        }
        assert!("insurer".parse::<PartnerKind>().is_err());
        assert!("operator".parse::<PartnerKind>().is_err());
    }

    #[test]
    fn only_a_registered_bank_is_a_parent() {
        assert_eq!(ensure_parent_is_bank(Some(PartnerKind::Bank)), Ok(()));
        assert_eq!(
            ensure_parent_is_bank(Some(PartnerKind::Hospital)),
            Err(ParentNotABank)
        );
        assert_eq!(ensure_parent_is_bank(None), Err(ParentNotABank));
    }

    #[test]
    fn a_registration_reads_as_its_caller_kind() {
        let suspended = registration(PartnerKind::Hospital, false);
        assert_eq!(suspended.kind, CallerKind::Hospital);
        assert!(!suspended.in_force_as(CallerKind::Hospital));
    }
}

//! Enrolments and the HR agency contracts some of them are made under.

use pii::PartnerCode;
use socsec_core::{Caller, CallerKind};
use uuid::Uuid;

use super::{EnrolmentChannel, InsuranceType, Money, Payer, Period, Scheme};

/// An HR agency's contract with a person: the agency pays the person's
/// contributions every month, plus its service fee.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgencyContract {
    pub contract_id: Uuid,
    pub agency: PartnerCode,
    pub person_id: Uuid,
    pub monthly_service_fee: Money,
    pub start: Period,
    pub end: Option<Period>,
}

impl AgencyContract {
    /// Does this contract cover enrolling `person` from `start`, asked by
    /// `caller`? It must be the person's, run in that month, and (asked by
    /// an agency) be that agency's own.
    pub fn covers(&self, caller: &Caller, person: Uuid, start: Period) -> bool {
        self.person_id == person
            && self.start <= start
            && self.end.is_none_or(|end| end >= start)
            && (!caller.is(CallerKind::HrAgency) || self.agency.as_str() == caller.code)
    }
}

/// Under which scheme, and so with whom, a person is enrolled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Enrolling {
    /// By their employer, who pays.
    Employee { employer: PartnerCode },
    /// As a flexible worker, who pays for themselves.
    Flexible,
    /// Under an HR agency contract; the agency pays.
    Agency { contract_id: Uuid },
}

impl Enrolling {
    pub fn scheme(&self) -> Scheme {
        match self {
            Self::Employee { .. } => Scheme::Employee,
            Self::Flexible => Scheme::Flexible,
            Self::Agency { .. } => Scheme::Agency,
        }
    }
}

/// One insurance type of one person, from a month on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrolment {
    pub enrolment_id: Uuid,
    pub person_id: Uuid,
    pub region_code: String,
    pub insurance_type: InsuranceType,
    pub scheme: Scheme,
    pub employer: Option<PartnerCode>,
    pub contract_id: Option<Uuid>,
    /// Who is billed.
    pub payer: Payer,
    pub start: Period,
    pub channel: EnrolmentChannel,
}

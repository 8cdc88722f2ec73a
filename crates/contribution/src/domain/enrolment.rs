//! Enrolments, and what a new enrolment does to those already in force.

use pii::PartnerCode;
use uuid::Uuid;

use super::{EnrolmentChannel, InsuranceType, Payer, Period, Scheme};

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
    /// The last month in force (`None`: open-ended). An agency enrolment
    /// ends with its contract; before `start`, it never took effect.
    pub end: Option<Period>,
    pub channel: EnrolmentChannel,
}

/// An enrolment of the person in force in some month a new enrolment
/// would cover, in one of its insurance types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overlap {
    pub enrolment_id: Uuid,
    pub insurance_type: InsuranceType,
    /// Made under an HR agency contract.
    pub under_contract: bool,
}

/// What a new enrolment under `scheme` does to the enrolments it overlaps.
///
/// The person's own enrolment (an employee's or a flexible worker's, made
/// at the counter or online) takes over from an agency's: the agency
/// enrolments it overlaps end the month before it starts (returned). An
/// agency never displaces anyone, and two enrolments of the person's own
/// never overlap: any other overlap refuses the new enrolment, naming the
/// insurance type (`Err`).
pub fn takes_over(scheme: Scheme, overlaps: &[Overlap]) -> Result<Vec<Uuid>, InsuranceType> {
    let own = scheme != Scheme::Agency;
    let mut superseded = Vec::new();
    for overlap in overlaps {
        if own && overlap.under_contract {
            superseded.push(overlap.enrolment_id);
        } else {
            return Err(overlap.insurance_type);
        }
    }
    Ok(superseded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overlap(n: u128, under_contract: bool) -> Overlap {
        Overlap {
            enrolment_id: Uuid::from_u128(n),
            insurance_type: InsuranceType::OldAge,
            under_contract,
        }
    }

    #[test]
    fn the_persons_own_enrolment_takes_over_from_an_agency() {
        let agency = [overlap(1, true)];
        assert_eq!(
            takes_over(Scheme::Flexible, &agency),
            Ok(vec![Uuid::from_u128(1)])
        );
        assert_eq!(
            takes_over(Scheme::Employee, &agency),
            Ok(vec![Uuid::from_u128(1)])
        );
        assert_eq!(
            takes_over(Scheme::Agency, &agency),
            Err(InsuranceType::OldAge)
        );
    }

    #[test]
    fn nothing_displaces_the_persons_own_enrolment() {
        let own = [overlap(1, true), overlap(2, false)];
        assert_eq!(
            takes_over(Scheme::Flexible, &own),
            Err(InsuranceType::OldAge)
        );
        assert_eq!(takes_over(Scheme::Agency, &own), Err(InsuranceType::OldAge));
        assert_eq!(takes_over(Scheme::Flexible, &[]), Ok(vec![]));
    }
}

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

/// The months an enrolment is in force: from `start` to `end` (`None`:
/// open-ended).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Term {
    pub start: Period,
    pub end: Option<Period>,
}

impl Term {
    /// Whether it was ever in force (an enrolment ended before its start
    /// never took effect).
    pub fn took_effect(self) -> bool {
        self.end.is_none_or(|end| end >= self.start)
    }

    /// Whether some month is in force in both.
    pub fn overlaps(self, other: Term) -> bool {
        self.took_effect()
            && other.took_effect()
            && self.end.is_none_or(|end| end >= other.start)
            && other.end.is_none_or(|end| end >= self.start)
    }
}

/// A person's enrolment as stored: what a new one is checked against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrolled {
    pub enrolment_id: Uuid,
    pub person_id: Uuid,
    pub insurance_type: InsuranceType,
    pub region_code: String,
    pub term: Term,
    /// Made under an HR agency contract.
    pub under_contract: bool,
}

/// The enrolments among `enrolled` that a new enrolment of `person_id` in
/// `types` over `term` would overlap, by insurance type and id.
pub fn overlaps(
    enrolled: &[Enrolled],
    person_id: Uuid,
    types: &[InsuranceType],
    term: Term,
) -> Vec<Overlap> {
    let mut found: Vec<Overlap> = enrolled
        .iter()
        .filter(|e| {
            e.person_id == person_id && types.contains(&e.insurance_type) && e.term.overlaps(term)
        })
        .map(|e| Overlap {
            enrolment_id: e.enrolment_id,
            insurance_type: e.insurance_type,
            under_contract: e.under_contract,
        })
        .collect();
    found.sort_by_key(|o| (o.insurance_type.as_str(), o.enrolment_id));
    found
}

/// What an imported enrolment comes to against the person's enrolments
/// (those stored and those imported before it in the batch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Import {
    /// Not here yet: to be stored.
    New,
    /// The person already has that insurance type in that region from
    /// that start (in force): that enrolment.
    AlreadyHere(Uuid),
    /// `Enrol` would refuse it (`ENROLMENT_OVERLAPS`). An import never ends
    /// an agency's enrolment as the person's own enrolment does: that needs
    /// the ledger checked for months billed to the agency, one enrolment
    /// at a time, which is `Enrol`'s work.
    Overlaps,
}

pub fn import(
    enrolled: &[Enrolled],
    person_id: Uuid,
    region_code: &str,
    insurance_type: InsuranceType,
    scheme: Scheme,
    term: Term,
) -> Import {
    let same = enrolled.iter().find(|e| {
        e.person_id == person_id
            && e.insurance_type == insurance_type
            && e.region_code == region_code
            && e.term.start == term.start
            && e.term.took_effect()
    });
    if let Some(e) = same {
        return Import::AlreadyHere(e.enrolment_id);
    }
    match takes_over(
        scheme,
        &overlaps(enrolled, person_id, &[insurance_type], term),
    ) {
        Ok(superseded) if superseded.is_empty() => Import::New,
        _ => Import::Overlaps,
    }
}

/// Whether a wage may be declared for `month`, given the start of the
/// person's first enrolment that took effect (none: not enrolled).
pub fn wage_declarable(first_enrolment: Option<Period>, month: Period) -> bool {
    first_enrolment.is_some_and(|first| month >= first)
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

    fn term(start: (i32, i32), end: Option<(i32, i32)>) -> Term {
        let p = |(y, m)| Period::from_year_month(y, m).unwrap();
        Term {
            start: p(start),
            end: end.map(p),
        }
    }

    #[test]
    fn terms_overlap_when_a_month_is_in_force_in_both() {
        let open = term((2026, 1), None);
        assert!(open.overlaps(term((2025, 1), Some((2026, 1)))));
        assert!(!open.overlaps(term((2025, 1), Some((2025, 12)))));
        assert!(term((2025, 1), Some((2025, 6))).overlaps(term((2025, 6), None)));
        // Ended before its start: never in force, overlaps nothing.
        assert!(!open.overlaps(term((2026, 3), Some((2026, 2)))));
    }

    #[test]
    fn an_import_is_new_already_here_or_overlapping() {
        let person = Uuid::from_u128(7);
        let stored = Enrolled {
            enrolment_id: Uuid::from_u128(1),
            person_id: person,
            insurance_type: InsuranceType::OldAge,
            region_code: "440100".into(),
            term: term((2024, 1), Some((2024, 12))),
            under_contract: false,
        };
        let enrolled = [stored];
        let import = |region: &str, t| {
            super::import(
                &enrolled,
                person,
                region,
                InsuranceType::OldAge,
                Scheme::Flexible,
                t,
            )
        };
        assert_eq!(
            import("440100", term((2024, 1), None)),
            Import::AlreadyHere(Uuid::from_u128(1))
        );
        assert_eq!(import("440300", term((2024, 6), None)), Import::Overlaps);
        assert_eq!(import("440300", term((2025, 1), None)), Import::New);
        assert!(!wage_declarable(None, term((2024, 1), None).start));
        assert!(wage_declarable(
            Some(term((2024, 1), None).start),
            term((2024, 1), None).start
        ));
        assert!(!wage_declarable(
            Some(term((2024, 2), None).start),
            term((2024, 1), None).start
        ));
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

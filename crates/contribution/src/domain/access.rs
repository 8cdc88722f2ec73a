//! Who may do what with whose contribution record: through which channel a
//! caller enrols, who may read or change a person's record, who may pay a
//! bill or declare a wage, and which statement lines a caller sees.
//! (Which caller kinds may call an RPC at all is `policy.rs`.)

use pii::PartnerCode;
use socsec_core::{Caller, CallerKind};
use uuid::Uuid;

use super::{EnrolmentChannel, Payer, Period, Scheme};

/// Is `caller` the person `person` themselves?
fn is_person(caller: &Caller, person: Uuid) -> bool {
    caller.is(CallerKind::Person) && caller.code == person.to_string()
}

/// Through which channel `caller` enrols `person` under `scheme`: an
/// operator at the counter (any scheme), an HR agency under its contract
/// (confirmed by the person: `AgencyContract::admits_enrolment`), a person
/// online as a flexible worker for themselves. `None`: the caller may not
/// make this enrolment.
pub fn enrolment_channel(
    caller: &Caller,
    scheme: Scheme,
    person: Uuid,
) -> Option<EnrolmentChannel> {
    match (caller.kind, scheme) {
        (CallerKind::Operator, _) => Some(EnrolmentChannel::Counter),
        (CallerKind::HrAgency, Scheme::Agency) => Some(EnrolmentChannel::Agency),
        (CallerKind::Person, Scheme::Flexible) if is_person(caller, person) => {
            Some(EnrolmentChannel::Online)
        }
        _ => None,
    }
}

/// May `caller` register a contract for `agency`? An agency only for itself.
pub fn may_register_contract(caller: &Caller, agency: &PartnerCode) -> bool {
    !caller.is(CallerKind::HrAgency) || caller.code == agency.as_str()
}

/// Whether `caller` may read or change a person's contribution record, or
/// the fact in the ledger that decides it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordAccess {
    Granted,
    Denied,
    /// If the agency has a contract with the person that the person
    /// confirmed and that runs to `month` or later: a pending, declined or
    /// ended contract gives the agency nothing.
    IfAgencyClient {
        agency: PartnerCode,
        month: Period,
    },
    /// If the person is (was) enrolled with this payer.
    IfPayerOf(Payer),
}

/// May `caller` read or change `person`'s record in `month` (the current
/// one): an operator always, a person their own, an agency its clients'
/// (under a confirmed contract), an employer its employees'.
pub fn record_access(caller: &Caller, person: Uuid, month: Period) -> RecordAccess {
    let granted_if = |yes: bool| {
        if yes {
            RecordAccess::Granted
        } else {
            RecordAccess::Denied
        }
    };
    match caller.kind {
        CallerKind::Operator => RecordAccess::Granted,
        CallerKind::Person => granted_if(is_person(caller, person)),
        CallerKind::HrAgency => PartnerCode::parse(&caller.code)
            .map_or(RecordAccess::Denied, |agency| {
                RecordAccess::IfAgencyClient { agency, month }
            }),
        CallerKind::Employer => {
            Payer::of(caller).map_or(RecordAccess::Denied, RecordAccess::IfPayerOf)
        }
        _ => RecordAccess::Denied,
    }
}

/// Whose contracts with a person a caller sees: an operator and the person
/// all, an agency its own (it registered them), anyone else none (`None`).
pub fn visible_contracts(caller: &Caller, person: Uuid) -> Option<ContractsOf> {
    match caller.kind {
        CallerKind::Operator => Some(ContractsOf::EveryAgency),
        CallerKind::Person if is_person(caller, person) => Some(ContractsOf::EveryAgency),
        CallerKind::HrAgency => PartnerCode::parse(&caller.code)
            .ok()
            .map(ContractsOf::Agency),
        _ => None,
    }
}

/// Which of a person's contracts are listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContractsOf {
    EveryAgency,
    Agency(PartnerCode),
}

impl ContractsOf {
    pub fn agency(&self) -> Option<&PartnerCode> {
        match self {
            Self::EveryAgency => None,
            Self::Agency(agency) => Some(agency),
        }
    }
}

/// A payer may only see and pay its own bills; an operator any.
pub fn may_pay(caller: &Caller, payer: &Payer) -> bool {
    caller.is(CallerKind::Operator) || Payer::of(caller).as_ref() == Some(payer)
}

/// The bill a caller means when it names no payer: its own.
pub fn own_bill_payer(caller: &Caller) -> Option<Payer> {
    Payer::of(caller)
}

/// Who may declare a person's wage for some months.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WageDeclarer {
    /// An operator: for any month.
    Bureau,
    /// Whoever pays for those months (the employer, the agency, the
    /// flexible worker), for every one of them: a former employer cannot
    /// change this year's base.
    PayerOfEveryMonth(Payer),
    /// A caller that pays for nothing.
    NotAPayer,
}

pub fn wage_declarer(caller: &Caller) -> WageDeclarer {
    if caller.is(CallerKind::Operator) {
        return WageDeclarer::Bureau;
    }
    Payer::of(caller).map_or(WageDeclarer::NotAPayer, WageDeclarer::PayerOfEveryMonth)
}

/// Which lines of a person's statement a caller (already allowed to read
/// it) sees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VisibleLines {
    All,
    /// An HR agency: only what it paid, not the person's employers' or
    /// other agencies' lines.
    PaidBy(Payer),
}

impl VisibleLines {
    pub fn payer(&self) -> Option<&Payer> {
        match self {
            Self::All => None,
            Self::PaidBy(payer) => Some(payer),
        }
    }
}

/// `None`: the caller sees no line (an agency whose code is no partner code).
pub fn visible_lines(caller: &Caller) -> Option<VisibleLines> {
    if caller.is(CallerKind::HrAgency) {
        Payer::of(caller).map(VisibleLines::PaidBy)
    } else {
        Some(VisibleLines::All)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PERSON: &str = "0190f2c4-0000-7000-8000-000000000001";

    fn person() -> Uuid {
        PERSON.parse().unwrap()
    }

    #[test]
    fn who_enrols_through_which_channel() {
        let operator = Caller::new(CallerKind::Operator, "op-1");
        let agency = Caller::new(CallerKind::HrAgency, "AG-1");
        let me = Caller::new(CallerKind::Person, PERSON);
        let stranger = Caller::new(CallerKind::Person, "0190f2c4-0000-7000-8000-000000000002");
        assert_eq!(
            enrolment_channel(&operator, Scheme::Employee, person()),
            Some(EnrolmentChannel::Counter)
        );
        assert_eq!(
            enrolment_channel(&agency, Scheme::Agency, person()),
            Some(EnrolmentChannel::Agency)
        );
        assert_eq!(enrolment_channel(&agency, Scheme::Flexible, person()), None);
        assert_eq!(
            enrolment_channel(&me, Scheme::Flexible, person()),
            Some(EnrolmentChannel::Online)
        );
        assert_eq!(enrolment_channel(&me, Scheme::Employee, person()), None);
        assert_eq!(
            enrolment_channel(&stranger, Scheme::Flexible, person()),
            None
        );
    }

    #[test]
    fn a_person_lists_their_own_contracts_an_agency_its_own() {
        let me = Caller::new(CallerKind::Person, PERSON);
        assert_eq!(
            visible_contracts(&me, person()),
            Some(ContractsOf::EveryAgency)
        );
        let stranger = Caller::new(CallerKind::Person, "0190f2c4-0000-7000-8000-000000000002");
        assert_eq!(visible_contracts(&stranger, person()), None);
        let agency = Caller::new(CallerKind::HrAgency, "AG-1");
        assert_eq!(
            visible_contracts(&agency, person()),
            Some(ContractsOf::Agency(PartnerCode::parse("AG-1").unwrap()))
        );
        assert_eq!(
            visible_contracts(&Caller::new(CallerKind::Employer, "EMP-1"), person()),
            None
        );
    }

    #[test]
    fn an_agency_sees_only_the_lines_it_paid() {
        let agency = Caller::new(CallerKind::HrAgency, "AG-1");
        assert_eq!(
            visible_lines(&agency),
            Some(VisibleLines::PaidBy("hr_agency:AG-1".parse().unwrap()))
        );
        let me = Caller::new(CallerKind::Person, PERSON);
        assert_eq!(visible_lines(&me), Some(VisibleLines::All));
    }

    #[test]
    fn only_the_payer_or_an_operator_pays() {
        let employer = Caller::new(CallerKind::Employer, "EMP-1");
        let own: Payer = "employer:EMP-1".parse().unwrap();
        let other: Payer = "employer:EMP-2".parse().unwrap();
        assert!(may_pay(&employer, &own));
        assert!(!may_pay(&employer, &other));
        assert!(may_pay(&Caller::new(CallerKind::Operator, "op-1"), &other));
    }
}

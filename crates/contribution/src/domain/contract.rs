//! HR agency contracts: the person's consent, the contract's term, and
//! ending one early.
//!
//! An agency registers a contract for a person; it does nothing until the
//! person confirms it with their own session (or an operator at the
//! counter, the person present). Only a confirmed contract lets the agency
//! enrol the person, declare their wage or read its lines of their
//! statement, and only for the months it covers. Every contract ends (at
//! most [`MAX_CONTRACT_MONTHS`] after its start); the person, an operator
//! or the agency may end it early, never before a month already billed
//! under it.

use chrono::{DateTime, Utc};
use pii::PartnerCode;
use socsec_core::{Caller, CallerKind};
use uuid::Uuid;

use super::{Money, Period};

/// The longest term of one contract, in months (start and end included):
/// three years, the usual longest term of a labour-dispatch or agency
/// service agreement. A longer relationship is a new contract, consented to
/// again, so a consent given once does not run for ever.
pub const MAX_CONTRACT_MONTHS: u32 = 36;

/// An HR agency's contract with a person: the agency pays the person's
/// contributions every month, plus its service fee.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgencyContract {
    pub contract_id: Uuid,
    pub agency: PartnerCode,
    pub person_id: Uuid,
    pub monthly_service_fee: Money,
    pub start: Period,
    /// The last month covered; before `start` for a contract ended before
    /// it took effect.
    pub end: Period,
    /// The person's consent (or the counter's); `None` while pending.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// When it was ended early.
    pub ended_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContractStatus {
    /// Registered by the agency, not (yet) confirmed by the person.
    Pending,
    /// Confirmed; in force from its start to its end.
    Confirmed,
    /// Ended early (declined, when it was pending).
    Ended,
}

/// Why a contract refuses what was asked of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContractRefusal {
    /// Another person's or another agency's contract, or it does not run
    /// in the month asked for.
    Mismatch,
    /// The person has not confirmed it.
    NotConfirmed,
    /// It was ended early; it cannot be confirmed or ended again.
    Ended,
    /// Ending it then would leave months billed under it outside it; the
    /// earliest end allowed.
    MonthsBilled { earliest_end: Period },
    /// An early end must be earlier than the contract's end.
    EndNotEarlier,
}

/// The number of months from `start` to `end`, both included (0 if `end`
/// is before `start`).
pub fn months_between(start: Period, end: Period) -> u32 {
    let months = |p: Period| p.year() * 12 + p.month() as i32;
    u32::try_from(months(end) - months(start) + 1).unwrap_or(0)
}

impl AgencyContract {
    pub fn status(&self) -> ContractStatus {
        match (self.ended_at, self.confirmed_at) {
            (Some(_), _) => ContractStatus::Ended,
            (None, Some(_)) => ContractStatus::Confirmed,
            (None, None) => ContractStatus::Pending,
        }
    }

    /// May `caller` enrol `person` from `start` under this contract? It
    /// must be the person's, confirmed and not ended, run in that month,
    /// and (asked by an agency) be that agency's own. The enrolment ends
    /// with the contract.
    pub fn admits_enrolment(
        &self,
        caller: &Caller,
        person: Uuid,
        start: Period,
    ) -> Result<(), ContractRefusal> {
        let own_agency = !caller.is(CallerKind::HrAgency) || self.agency.as_str() == caller.code;
        if self.person_id != person || !own_agency {
            return Err(ContractRefusal::Mismatch);
        }
        // Ended (or declined), it takes no new enrolment, even for a month
        // it still covers: the person withdrew.
        if self.ended_at.is_some() {
            return Err(ContractRefusal::Ended);
        }
        if self.confirmed_at.is_none() {
            return Err(ContractRefusal::NotConfirmed);
        }
        if start < self.start || start > self.end {
            return Err(ContractRefusal::Mismatch);
        }
        Ok(())
    }

    /// Whether confirming changes anything: `Ok(true)` for a pending
    /// contract, `Ok(false)` for one already confirmed.
    pub fn needs_confirmation(&self) -> Result<bool, ContractRefusal> {
        match self.status() {
            ContractStatus::Pending => Ok(true),
            ContractStatus::Confirmed => Ok(false),
            ContractStatus::Ended => Err(ContractRefusal::Ended),
        }
    }

    /// The last month of the contract when ended early, asked for
    /// `requested` (`None`: as early as possible), given the last month
    /// already billed under it. Billed months stay inside the contract;
    /// with nothing billed, the earliest end is the month before its start
    /// (it never takes effect).
    pub fn early_end(
        &self,
        requested: Option<Period>,
        last_billed: Option<Period>,
    ) -> Result<Period, ContractRefusal> {
        if self.ended_at.is_some() {
            return Err(ContractRefusal::Ended);
        }
        let never_started = self.start.previous();
        let earliest = last_billed.map_or(never_started, |billed| billed.max(never_started));
        let end = match requested {
            None => earliest,
            Some(month) if month < earliest => {
                return match last_billed {
                    Some(_) => Err(ContractRefusal::MonthsBilled {
                        earliest_end: earliest,
                    }),
                    // Nothing billed: any month before the start is the same end.
                    None => Ok(earliest),
                };
            }
            Some(month) => month,
        };
        if end >= self.end {
            return Err(ContractRefusal::EndNotEarlier);
        }
        Ok(end)
    }
}

/// Who may see or act on a contract beyond what `policy.rs` lets in.
/// Confirm: an operator (at the counter) or the person. End: those, or the
/// contract's agency.
pub fn may_confirm(caller: &Caller, contract: &AgencyContract) -> bool {
    caller.is(CallerKind::Operator) || is_the_person(caller, contract)
}

pub fn may_end(caller: &Caller, contract: &AgencyContract) -> bool {
    may_confirm(caller, contract) || is_the_agency(caller, contract)
}

fn is_the_person(caller: &Caller, contract: &AgencyContract) -> bool {
    caller.is(CallerKind::Person) && caller.code == contract.person_id.to_string()
}

fn is_the_agency(caller: &Caller, contract: &AgencyContract) -> bool {
    caller.is(CallerKind::HrAgency) && caller.code == contract.agency.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PERSON: &str = "0190f2c4-0000-7000-8000-000000000001";

    fn month(year: i32, month: i32) -> Period {
        Period::from_year_month(year, month).unwrap()
    }

    fn contract() -> AgencyContract {
        AgencyContract {
            contract_id: Uuid::nil(),
            agency: PartnerCode::parse("AG-1").unwrap(),
            person_id: PERSON.parse().unwrap(),
            monthly_service_fee: Money::from_fen(100),
            start: month(2026, 1),
            end: month(2026, 12),
            confirmed_at: None,
            ended_at: None,
        }
    }

    fn confirmed() -> AgencyContract {
        AgencyContract {
            confirmed_at: Some(Utc::now()),
            ..contract()
        }
    }

    #[test]
    fn a_pending_contract_enrols_nobody() {
        let agency = Caller::new(CallerKind::HrAgency, "AG-1");
        let person = PERSON.parse().unwrap();
        assert_eq!(
            contract().admits_enrolment(&agency, person, month(2026, 1)),
            Err(ContractRefusal::NotConfirmed)
        );
        assert_eq!(
            confirmed().admits_enrolment(&agency, person, month(2026, 1)),
            Ok(())
        );
        let other = Caller::new(CallerKind::HrAgency, "AG-2");
        assert_eq!(
            confirmed().admits_enrolment(&other, person, month(2026, 1)),
            Err(ContractRefusal::Mismatch)
        );
        assert_eq!(
            confirmed().admits_enrolment(&agency, person, month(2027, 1)),
            Err(ContractRefusal::Mismatch)
        );
    }

    #[test]
    fn only_the_person_or_the_counter_confirms() {
        let c = contract();
        assert!(may_confirm(&Caller::new(CallerKind::Person, PERSON), &c));
        assert!(may_confirm(&Caller::new(CallerKind::Operator, "op-1"), &c));
        assert!(!may_confirm(&Caller::new(CallerKind::HrAgency, "AG-1"), &c));
        let stranger = Caller::new(CallerKind::Person, "0190f2c4-0000-7000-8000-000000000002");
        assert!(!may_confirm(&stranger, &c));
        assert!(!may_end(&stranger, &c));
        assert!(may_end(&Caller::new(CallerKind::HrAgency, "AG-1"), &c));
        assert!(!may_end(&Caller::new(CallerKind::HrAgency, "AG-2"), &c));
    }

    #[test]
    fn an_early_end_keeps_billed_months_inside() {
        let c = confirmed();
        // Nothing billed: it never takes effect.
        assert_eq!(c.early_end(None, None), Ok(month(2025, 12)));
        assert_eq!(c.early_end(Some(month(2025, 3)), None), Ok(month(2025, 12)));
        // March billed: not before March.
        assert_eq!(c.early_end(None, Some(month(2026, 3))), Ok(month(2026, 3)));
        assert_eq!(
            c.early_end(Some(month(2026, 2)), Some(month(2026, 3))),
            Err(ContractRefusal::MonthsBilled {
                earliest_end: month(2026, 3)
            })
        );
        assert_eq!(
            c.early_end(Some(month(2026, 6)), Some(month(2026, 3))),
            Ok(month(2026, 6))
        );
        assert_eq!(
            c.early_end(Some(month(2026, 12)), None),
            Err(ContractRefusal::EndNotEarlier)
        );
        let ended = AgencyContract {
            ended_at: Some(Utc::now()),
            ..c
        };
        assert_eq!(ended.early_end(None, None), Err(ContractRefusal::Ended));
        let agency = Caller::new(CallerKind::HrAgency, "AG-1");
        assert_eq!(
            ended.admits_enrolment(&agency, ended.person_id, month(2026, 1)),
            Err(ContractRefusal::Ended)
        );
        assert_eq!(ended.needs_confirmation(), Err(ContractRefusal::Ended));
    }

    #[test]
    fn terms_are_counted_in_whole_months() {
        assert_eq!(months_between(month(2026, 1), month(2026, 12)), 12);
        assert_eq!(months_between(month(2026, 1), month(2028, 12)), 36);
        assert_eq!(months_between(month(2026, 2), month(2026, 1)), 0);
    }
}

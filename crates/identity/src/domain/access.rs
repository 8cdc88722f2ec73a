//! Who may act on a record and what each caller learns, beyond the policy
//! table (which only says who may call an RPC at all).

use socsec_core::{Caller, CallerKind};
use uuid::Uuid;

/// A person asked for or acted on someone else's record (`NOT_OWN_RECORD`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotOwnRecord;

/// A person may only see and confirm their own record; other callers the
/// policy admits may act on any.
pub fn ensure_own(caller: &Caller, person_id: Uuid) -> Result<(), NotOwnRecord> {
    if caller.is(CallerKind::Person) && caller.code != person_id.to_string() {
        return Err(NotOwnRecord);
    }
    Ok(())
}

/// Whether a caller whose ID-number/name pair matched learns whose it is.
/// Partners learn whether the pair matches, nothing more.
pub fn learns_who_matched(caller: &Caller) -> bool {
    matches!(caller.kind, CallerKind::Operator | CallerKind::Service)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_acts_only_on_their_own_record() {
        let own = Uuid::now_v7();
        let person = Caller::new(CallerKind::Person, own.to_string());
        assert_eq!(ensure_own(&person, own), Ok(()));
        assert_eq!(ensure_own(&person, Uuid::now_v7()), Err(NotOwnRecord));
        let operator = Caller::new(CallerKind::Operator, "OP0001");
        assert_eq!(ensure_own(&operator, own), Ok(()));
    }

    #[test]
    fn only_operators_and_services_learn_who_matched() {
        assert!(learns_who_matched(&Caller::new(CallerKind::Service, "x")));
        assert!(!learns_who_matched(&Caller::new(
            CallerKind::BankOutlet,
            "ICBC-0101"
        )));
        assert!(!learns_who_matched(&Caller::new(
            CallerKind::HotlineCenter,
            "12333-BJ"
        )));
    }
}

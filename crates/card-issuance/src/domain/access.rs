//! Who may see or act on which card, and how much of it they see. The
//! policy table (`policy.rs`) says which kinds of caller may call an RPC;
//! these are the object-level rules on top.

use socsec_core::{Caller, CallerKind};
use uuid::Uuid;

/// An object-level refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// `CARD_OF_ANOTHER_BANK`.
    #[error("the card carries another bank's financial function")]
    CardOfAnotherBank,
    /// `NOT_OWN_RECORD`.
    #[error("a person may only see and report their own cards")]
    NotOwnRecord,
}

/// A bank sees only the cards carrying its own financial function.
pub fn may_see_card(caller: &Caller, card_bank: &str) -> Result<(), Denied> {
    if caller.is(CallerKind::Bank) && caller.code != card_bank {
        return Err(Denied::CardOfAnotherBank);
    }
    Ok(())
}

/// A person sees and reports only their own cards.
pub fn may_act_for(caller: &Caller, person_id: Uuid) -> Result<(), Denied> {
    if caller.is(CallerKind::Person) && caller.code != person_id.to_string() {
        return Err(Denied::NotOwnRecord);
    }
    Ok(())
}

/// The full bank card number is shown to operators, services and the card's
/// own bank; everyone else (the holder included) sees it masked.
pub fn sees_full_bank_card_number(caller: &Caller, card_bank: &str) -> bool {
    match caller.kind {
        CallerKind::Operator | CallerKind::Service => true,
        CallerKind::Bank => caller.code == card_bank,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_cards_own_bank_operators_and_services_see_the_full_number() {
        let of = |kind, code: &str| Caller::new(kind, code);
        assert!(sees_full_bank_card_number(
            &of(CallerKind::Operator, "OP1"),
            "ICBC"
        ));
        assert!(sees_full_bank_card_number(
            &of(CallerKind::Service, "activation"),
            "ICBC"
        ));
        assert!(sees_full_bank_card_number(
            &of(CallerKind::Bank, "ICBC"),
            "ICBC"
        ));
        assert!(!sees_full_bank_card_number(
            &of(CallerKind::Bank, "CCB"),
            "ICBC"
        ));
        let person = Uuid::now_v7();
        assert!(!sees_full_bank_card_number(
            &of(CallerKind::Person, &person.to_string()),
            "ICBC"
        ));
        assert!(!sees_full_bank_card_number(
            &of(CallerKind::Hospital, "H1"),
            "ICBC"
        ));
    }

    #[test]
    fn a_bank_sees_its_own_cards_and_a_person_acts_for_themselves() {
        let bank = Caller::new(CallerKind::Bank, "ICBC");
        assert_eq!(may_see_card(&bank, "ICBC"), Ok(()));
        assert_eq!(may_see_card(&bank, "CCB"), Err(Denied::CardOfAnotherBank));
        let me = Uuid::now_v7();
        let person = Caller::new(CallerKind::Person, me.to_string());
        assert_eq!(may_act_for(&person, me), Ok(()));
        assert_eq!(
            may_act_for(&person, Uuid::now_v7()),
            Err(Denied::NotOwnRecord)
        );
        let operator = Caller::new(CallerKind::Operator, "OP1");
        assert_eq!(may_act_for(&operator, me), Ok(()));
    }
}

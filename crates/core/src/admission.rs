//! May a partner named by a certificate call the system? The rule, once:
//! identity applies it to its own table, the other services to identity's
//! answer, and every check of "is this partner in force as a …" asks
//! [`Registration::in_force_as`].

use crate::caller::{Caller, CallerKind};

/// What the partner registry holds of one partner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Registration {
    pub kind: CallerKind,
    /// For hospitals and pharmacies, the medical insurance designation; for
    /// every other kind, whether the partner may call the system at all.
    pub in_force: bool,
}

/// Why a partner is not admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `PARTNER_NOT_REGISTERED`: unknown, or registered under another kind.
    NotRegistered,
    /// `PARTNER_SUSPENDED`: registered, but its registration is not in force.
    Suspended,
}

impl Refusal {
    pub fn reason(self) -> &'static str {
        match self {
            Self::NotRegistered => "PARTNER_NOT_REGISTERED",
            Self::Suspended => "PARTNER_SUSPENDED",
        }
    }
}

impl Registration {
    /// Registered as a `kind` and in force: a bank that may issue cards, a
    /// designated hospital, an employer that may pay.
    pub fn in_force_as(&self, kind: CallerKind) -> bool {
        self.kind == kind && self.in_force
    }
}

/// The admission rule: the partner is registered under the kind its
/// certificate names and, except for hospitals and pharmacies (whose
/// designation only limits medical calls, checked where they are made), its
/// registration is in force.
pub fn admit(caller: &Caller, registered: Option<Registration>) -> Result<(), Refusal> {
    let registered = registered.ok_or(Refusal::NotRegistered)?;
    if registered.kind != caller.kind {
        return Err(Refusal::NotRegistered);
    }
    let medical = matches!(caller.kind, CallerKind::Hospital | CallerKind::Pharmacy);
    if !medical && !registered.in_force {
        return Err(Refusal::Suspended);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suspended_hospital_is_admitted_but_not_in_force() {
        let caller = Caller::new(CallerKind::Hospital, "H1");
        let suspended = Registration {
            kind: CallerKind::Hospital,
            in_force: false,
        };
        assert_eq!(admit(&caller, Some(suspended)), Ok(()));
        assert!(!suspended.in_force_as(CallerKind::Hospital));
    }

    #[test]
    fn another_kind_or_a_suspension_is_refused() {
        let bank = Caller::new(CallerKind::Bank, "B1");
        let outlet = Registration {
            kind: CallerKind::BankOutlet,
            in_force: true,
        };
        assert_eq!(admit(&bank, Some(outlet)), Err(Refusal::NotRegistered));
        assert_eq!(admit(&bank, None), Err(Refusal::NotRegistered));
        let suspended = Registration {
            kind: CallerKind::Bank,
            in_force: false,
        };
        assert_eq!(admit(&bank, Some(suspended)), Err(Refusal::Suspended));
    }
}

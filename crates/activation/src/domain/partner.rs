//! The partners registered in identity, as activation knows them.

use socsec_core::{CallerKind, Registration};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partner {
    pub code: String,
    pub registration: Registration,
    /// An outlet's bank.
    pub parent_code: Option<String>,
}

impl Partner {
    /// Registered as a `kind` whose designation (or, for banks and outlets,
    /// co-operation) is in force.
    pub fn in_force_as(&self, kind: CallerKind) -> bool {
        self.registration.in_force_as(kind)
    }

    /// Whether this partner (an outlet) belongs to bank `bank_code`.
    pub fn is_outlet_of(&self, bank_code: &str) -> bool {
        self.parent_code.as_deref() == Some(bank_code)
    }
}

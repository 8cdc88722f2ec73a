//! The identity domain: validated values and the rules that act on them.
//! No I/O, no proto and no transport types: the API layer parses requests
//! into these types, the service applies the rules, the store keeps them.

pub mod access;
pub mod basic_info;
pub mod commands;
pub mod lockout;
pub mod partner;
pub mod password;

pub use basic_info::{BasicInfo, BasicInfoStatus, Record};
pub use lockout::{LockoutPolicy, LockoutState};
pub use partner::{NewPartner, PartnerKind};
pub use password::OnlinePassword;

/// A value read from the database that names no state this code knows: an
/// error, never a silent default.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?}")]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
}

impl UnknownValue {
    pub fn new(what: &'static str, value: &str) -> Self {
        Self {
            what,
            value: value.to_owned(),
        }
    }
}

//! The card domain: card states and their transitions, applications, who
//! may see what, old medical insurance cards, what an issue request holds.
//! No I/O, no proto, no transport.

pub mod access;
pub mod application;
pub mod ecard;
pub mod import;
pub mod issuing;
pub mod legacy;
pub mod lifecycle;
pub mod pin;

pub use access::Denied;
pub use application::{Applicant, ApplicationStatus, ApplyRefused};
pub use issuing::{CardOrder, Generation, NumberingSpec};
pub use legacy::{LegacyCardNumber, LegacyCardStatus, LegacyRefused};
pub use lifecycle::{CardChange, CardStatus, TransitionRefused};
pub use pin::{Pin, PinRecord, PinRefused};

/// A state read from the database that this code does not know: an error,
/// never a guess.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?}")]
pub struct UnknownState {
    pub kind: &'static str,
    pub value: String,
}

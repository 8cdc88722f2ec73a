//! The card domain: card states and their transitions, what an issue
//! request holds. No I/O.

pub mod issuing;
pub mod lifecycle;

pub use issuing::{Generation, NumberingSpec};
pub use lifecycle::{CardChange, CardStatus, TransitionRefused};

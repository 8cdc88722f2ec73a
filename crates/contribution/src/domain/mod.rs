//! The contribution domain: periods, insurance types, schemes, money
//! rounding and the late fee. No I/O.

pub mod late_fee;
pub mod money;
pub mod period;
pub mod vocabulary;

pub use late_fee::late_fee;
pub use money::Rounding;
pub use period::Period;
pub use vocabulary::{InsuranceType, Scheme};

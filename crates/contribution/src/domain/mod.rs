//! The contribution domain: periods, money, payers, insurance types and
//! schemes, who may do what, bills and the late fee. No I/O, no proto.

pub mod access;
pub mod bill;
pub mod commands;
pub mod contract;
pub mod enrolment;
pub mod keys;
pub mod late_fee;
pub mod money;
pub mod payer;
pub mod payment;
pub mod period;
pub mod rates;
pub mod vocabulary;

pub use bill::{Bill, BillTerms};
pub use contract::{AgencyContract, ContractRefusal, ContractStatus};
pub use enrolment::{Enrolled, Enrolling, Enrolment, Overlap, Term};
pub use keys::{ArrearsKey, LineKey};
pub use late_fee::late_fee;
pub use money::{Money, Rounding};
pub use payer::Payer;
pub use period::Period;
pub use rates::RateTable;
pub use vocabulary::{Account, EnrolmentChannel, InsuranceType, Part, Scheme, UnknownValue};

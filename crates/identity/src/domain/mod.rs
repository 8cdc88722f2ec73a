//! The identity domain: validated types and rules, no I/O.

pub mod basic_info;
pub mod partner;
pub mod password;

pub use basic_info::{BasicInfo, BasicInfoStatus};
pub use partner::{NewPartner, PartnerKind};
pub use password::OnlinePassword;

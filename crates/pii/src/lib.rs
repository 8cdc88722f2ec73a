//! Personal data and the identifiers of the social security domain as types.
//!
//! Each type is parsed once, at the edge of a service, and cannot hold an
//! invalid value afterwards. Their `Debug` and `Display` show a masked form,
//! so a log line or an error message cannot leak the full value; the full
//! value is only reachable through an explicit `expose()`.

mod card;
mod credit_code;
#[cfg(feature = "sqlx")]
mod db;
mod id_number;
mod luhn;
mod mask;
mod name;
mod partner_code;
mod region_code;
mod secret;

pub use card::{
    BankBin, BankCardNumber, CardIdError, CardIdentificationCode, CardNumber, SerialNumber,
};
pub use credit_code::{CreditCode, CreditCodeError};
pub use id_number::{Gender, IdNumber, IdNumberError};
pub use mask::mask_middle;
pub use name::{PersonName, PersonNameError};
pub use partner_code::{PartnerCode, PartnerCodeError};
pub use region_code::{RegionCode, RegionCodeError};
pub use secret::Secret;

//! Personal data of the social security domain as types.
//!
//! Each type is parsed once, at the edge of a service, and cannot hold an
//! invalid value afterwards. Their `Debug` and `Display` show a masked form,
//! so a log line or an error message cannot leak the full value; the full
//! value is only reachable through an explicit `expose()`.

mod credit_code;
mod id_number;
mod mask;
mod name;
mod secret;

pub use credit_code::{CreditCode, CreditCodeError};
pub use id_number::{Gender, IdNumber, IdNumberError};
pub use mask::mask_middle;
pub use name::{PersonName, PersonNameError};
pub use secret::Secret;

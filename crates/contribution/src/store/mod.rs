//! All of contribution's SQL. The monthly run is set-based: a constant
//! number of statements per chunk of enrolments, whatever its size.
//!
//! Rows hold domain and `pii` types: a payer is a [`Payer`], a partner code
//! a `PartnerCode`, a stored state an enum; a stored value that no longer
//! parses is an error when read, never a silent default.

mod bills;
mod contracts;
mod enrolments;
mod import;
mod payments;
mod rates;
mod run;
mod statements;

pub use bills::*;
pub use contracts::*;
pub use enrolments::*;
pub use import::*;
pub use payments::*;
pub use rates::*;
pub use run::*;
pub use statements::*;

use sqlx::{
    Decode, Encode, Postgres, Type,
    encode::IsNull,
    error::BoxDynError,
    postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo, PgValueRef},
};

use crate::domain::Payer;

/// A payer is stored as text, `employer:CODE`, `hr_agency:CODE` or
/// `person:<id>`.
impl Type<Postgres> for Payer {
    fn type_info() -> PgTypeInfo {
        <&str as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <&str as Type<Postgres>>::compatible(ty)
    }
}

impl PgHasArrayType for Payer {
    fn array_type_info() -> PgTypeInfo {
        <&str as PgHasArrayType>::array_type_info()
    }
}

impl Encode<'_, Postgres> for Payer {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <&str as Encode<Postgres>>::encode(self.to_string().as_str(), buf)
    }
}

impl<'r> Decode<'r, Postgres> for Payer {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<Postgres>>::decode(value)?;
        text.parse()
            .map_err(|_| "a stored payer is not employer:, hr_agency: or person:".into())
    }
}

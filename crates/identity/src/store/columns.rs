//! Domain states as Postgres `text` columns: written by their database
//! name, read back through `FromStr`, so a value this code does not know is
//! a decoding error, never a silent default.

use std::str::FromStr;

use pii::Gender;
use sqlx::{
    Decode, Encode, Postgres, Type,
    encode::IsNull,
    error::BoxDynError,
    postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef},
};

use crate::domain::{
    BasicInfoStatus, PartnerKind, UnknownValue,
    basic_info::{gender_from_name, gender_name},
};

macro_rules! text_column {
    ($ty:ty, $name:expr, $parse:expr) => {
        impl Type<Postgres> for $ty {
            fn type_info() -> PgTypeInfo {
                <&str as Type<Postgres>>::type_info()
            }
            fn compatible(ty: &PgTypeInfo) -> bool {
                <&str as Type<Postgres>>::compatible(ty)
            }
        }

        impl Encode<'_, Postgres> for $ty {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                let name: fn(&$ty) -> &'static str = $name;
                <&str as Encode<Postgres>>::encode(name(self), buf)
            }
        }

        impl<'r> Decode<'r, Postgres> for $ty {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <&str as Decode<Postgres>>::decode(value)?;
                let parse: fn(&str) -> Result<$ty, UnknownValue> = $parse;
                Ok(parse(text)?)
            }
        }
    };
}

text_column!(BasicInfoStatus, |s| s.as_str(), BasicInfoStatus::from_str);
text_column!(PartnerKind, |k| k.as_str(), PartnerKind::from_str);

/// A gender as stored (`MALE`, `FEMALE`); `pii::Gender` is not this crate's
/// to give a column type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GenderColumn(pub Gender);

text_column!(GenderColumn, |g| gender_name(g.0), |s| gender_from_name(s)
    .map(GenderColumn));

//! Personal identifiers as Postgres `text` columns (feature `sqlx`).
//!
//! A row can hold an `IdNumber` or a `PersonName` instead of a `String`, so
//! the value read from the database is masked in `Debug` like one parsed
//! from a request. Decoding re-validates: a value that no longer parses is
//! an error, never a silently wrong identifier.

use chrono::NaiveDate;
use sqlx::{
    Decode, Encode, Postgres, Type,
    encode::IsNull,
    error::BoxDynError,
    postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef},
};

use crate::{
    BankCardNumber, CardIdentificationCode, CardNumber, CreditCode, IdNumber, PartnerCode,
    PersonName, RegionCode, SerialNumber,
};

macro_rules! text_column {
    ($ty:ty, $parse:expr) => {
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
                <&str as Encode<Postgres>>::encode(self.0.as_str(), buf)
            }
        }

        impl<'r> Decode<'r, Postgres> for $ty {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <&str as Decode<Postgres>>::decode(value)?;
                let parse: fn(&str) -> Result<$ty, String> = $parse;
                parse(text).map_err(|reason| {
                    format!(
                        concat!("stored ", stringify!($ty), " is invalid: {}"),
                        reason
                    )
                    .into()
                })
            }
        }
    };
}

// A stored ID number was checked against the day it was stored; a birth date
// cannot move into the future afterwards, so decoding checks everything else.
text_column!(IdNumber, |s| IdNumber::parse(s, NaiveDate::MAX)
    .map_err(|e| e.to_string()));
text_column!(PersonName, |s| PersonName::parse(s)
    .map_err(|e| e.to_string()));
text_column!(BankCardNumber, |s| BankCardNumber::parse(s)
    .map_err(|e| e.to_string()));
text_column!(CardNumber, |s| CardNumber::parse(s)
    .map_err(|e| e.to_string()));
text_column!(CardIdentificationCode, |s| CardIdentificationCode::parse(s)
    .map_err(|e| e.to_string()));
text_column!(SerialNumber, |s| SerialNumber::parse(s)
    .map_err(|e| e.to_string()));
text_column!(CreditCode, |s| CreditCode::parse(s)
    .map_err(|e| e.to_string()));
text_column!(PartnerCode, |s| PartnerCode::parse(s)
    .map_err(|e| e.to_string()));
text_column!(RegionCode, |s| RegionCode::parse(s)
    .map_err(|e| e.to_string()));

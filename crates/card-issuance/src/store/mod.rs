//! All of card-issuance's SQL. Rows hold `pii` types where a column holds
//! personal data, and domain states where a column holds a state; a value
//! that no longer parses is an error, never a default.

mod applications;
mod cards;
mod ecards;
mod import;
mod issuing;
mod legacy;
mod numbering;
mod pins;

pub use applications::*;
pub use cards::*;
pub use ecards::*;
pub use import::{Stored, import_cards, import_legacy_cards};
pub use issuing::*;
pub use legacy::*;
pub use pins::*;

use platform::auth::Caller;
use sqlx::{
    Postgres,
    encode::IsNull,
    error::BoxDynError,
    postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef},
};

use crate::domain::{ApplicationStatus, CardStatus, LegacyCardNumber, LegacyCardStatus};

/// A read of a person's data, as the audit trail records it.
#[derive(Clone, Copy, Debug)]
pub struct ReadBy<'a> {
    pub caller: &'a Caller,
    /// The RPC, as the audit trail names it.
    pub rpc: &'static str,
}

/// A domain value stored as `text`: written with `$text`, read back through
/// its `FromStr`, so an unknown value is a decode error.
macro_rules! text_column {
    ($ty:ty, $text:expr) => {
        impl sqlx::Type<Postgres> for $ty {
            fn type_info() -> PgTypeInfo {
                <&str as sqlx::Type<Postgres>>::type_info()
            }
            fn compatible(ty: &PgTypeInfo) -> bool {
                <&str as sqlx::Type<Postgres>>::compatible(ty)
            }
        }

        impl sqlx::Encode<'_, Postgres> for $ty {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                let text: fn(&$ty) -> &str = $text;
                <&str as sqlx::Encode<Postgres>>::encode(text(self), buf)
            }
        }

        impl<'r> sqlx::Decode<'r, Postgres> for $ty {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <&str as sqlx::Decode<Postgres>>::decode(value)?;
                Ok(text.parse::<$ty>()?)
            }
        }
    };
}

text_column!(CardStatus, |s| s.as_str());
text_column!(ApplicationStatus, |s| s.as_str());
text_column!(LegacyCardStatus, |s| s.as_str());
text_column!(LegacyCardNumber, |n| n.expose());

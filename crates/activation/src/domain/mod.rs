//! The activation domain: a card's states and when it may be activated,
//! the channels, activation windows, eligibility, the partners that may
//! activate, and the commands the API hands the service. No I/O, no proto.

pub mod card;
pub mod command;
pub mod eligibility;
pub mod freshness;
pub mod legacy;
pub mod partner;
pub mod presentation;
pub mod window;

pub use card::{Activation, CardState, Channel, Refusal, effective_state, ensure_activatable};
pub use eligibility::{CardFacts, Reason, Verdict, card_verdict, legacy_verdict};
pub use freshness::{Basis, Source};
pub use legacy::LegacyStatus;
pub use partner::Partner;
pub use presentation::{CodeDigest, PresentationLimit};
pub use window::{Consequence, RegionPolicy, Window};

/// A stored value this code does not know: an error, never a default.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what}: {value:?}")]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
}

/// A closed set of states spelt as UPPER_SNAKE text in the database:
/// `as_str`, `Display` and a strict `FromStr`.
macro_rules! text_enum {
    ($ty:ident, $what:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::domain::UnknownValue;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                match value {
                    $($text => Ok(Self::$variant),)+
                    _ => Err($crate::domain::UnknownValue {
                        what: $what,
                        value: value.to_owned(),
                    }),
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use text_enum;

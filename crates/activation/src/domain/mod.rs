//! The activation domain: channels, activation windows and eligibility. No I/O.

pub mod eligibility;
pub mod window;

pub use eligibility::{CardFacts, CardState, Verdict, card_verdict, legacy_verdict};
pub use window::{Consequence, RegionPolicy, Window};

use socsec_proto::activation::v1 as pb;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    BankOutlet,
    Hospital,
    Pharmacy,
    FinancialFunction,
    Hotline,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BankOutlet => "BANK_OUTLET",
            Self::Hospital => "HOSPITAL",
            Self::Pharmacy => "PHARMACY",
            Self::FinancialFunction => "FINANCIAL_FUNCTION",
            Self::Hotline => "HOTLINE",
        }
    }

    pub fn to_proto_str(value: &str) -> pb::Channel {
        match value {
            "BANK_OUTLET" => pb::Channel::BankOutlet,
            "HOSPITAL" => pb::Channel::Hospital,
            "PHARMACY" => pb::Channel::Pharmacy,
            "FINANCIAL_FUNCTION" => pb::Channel::FinancialFunction,
            "HOTLINE" => pb::Channel::Hotline,
            _ => pb::Channel::Unspecified,
        }
    }
}

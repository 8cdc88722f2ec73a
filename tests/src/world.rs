//! The setup most test files begin with: the system started, its partners
//! registered in identity, a client of each service. A test file wraps
//! [`World`] in its own type (`system_tests::world!(World);`) and adds the
//! calls it makes; the fields stay reachable as `w.system`, `w.cards`, ….

use socsec_proto::{
    card::v1 as card, common::v1::PartnerKind,
    contribution::v1::contribution_service_client::ContributionServiceClient,
    identity::v1 as identity,
};

use crate::{
    CallerChannel, System,
    journeys::{self, Activation, Cards, Identity},
};

pub type Contribution = ContributionServiceClient<CallerChannel>;

/// A partner to register: its code, kind and parent bank's code (`""` if
/// none).
pub type Partner = (&'static str, PartnerKind, &'static str);

/// A bank (ICBC, which issues the holders' cards), a hospital (H-001) and
/// a pharmacy (P-001).
pub const CARD_PARTNERS: &[Partner] = &[
    ("ICBC", PartnerKind::Bank, ""),
    ("H-001", PartnerKind::Hospital, ""),
    ("P-001", PartnerKind::Pharmacy, ""),
];

/// A started system with a client of each service.
pub struct World {
    pub system: System,
    pub identity: Identity,
    pub cards: Cards,
    pub activation: Activation,
    pub contribution: Contribution,
}

impl World {
    /// The system with `partners` registered, and a designated collecting
    /// bank for each of `collecting_banks`.
    pub async fn with_partners(partners: &[Partner], collecting_banks: &[&str]) -> Self {
        Self::on(System::start().await, partners, collecting_banks).await
    }

    /// [`World::with_partners`] on a system already started.
    pub async fn on(system: System, partners: &[Partner], collecting_banks: &[&str]) -> Self {
        let mut identity = system.identity_client().await;
        for (code, kind, parent) in partners {
            journeys::register_partner(&mut identity, code, *kind, parent).await;
        }
        for code in collecting_banks {
            journeys::register_collecting_bank(&mut identity, code).await;
        }
        Self {
            identity,
            cards: system.card_client().await,
            activation: system.activation_client().await,
            contribution: system.contribution_client().await,
            system,
        }
    }

    /// A confirmed person with a received ICBC card, projected into
    /// activation.
    pub async fn holder(&mut self, name: &str) -> (identity::Person, card::Card) {
        let (person, card) =
            journeys::person_with_received_card(&mut self.identity, &mut self.cards, name, "ICBC")
                .await;
        journeys::projected(&mut self.activation, &card.card_number, "RECEIVED").await;
        (person, card)
    }

    /// [`World::holder`], signed in: they act through a live session.
    pub async fn signed_in_holder(&mut self, name: &str) -> (identity::Person, card::Card) {
        let (person, card) = self.holder(name).await;
        self.system.sign_in(&person).await;
        (person, card)
    }
}

/// `struct $name(system_tests::World)`, dereferencing to it, for a test
/// file to add its own calls to.
#[macro_export]
macro_rules! world {
    ($name:ident) => {
        struct $name($crate::World);

        impl std::ops::Deref for $name {
            type Target = $crate::World;
            fn deref(&self) -> &$crate::World {
                &self.0
            }
        }

        impl std::ops::DerefMut for $name {
            fn deref_mut(&mut self) -> &mut $crate::World {
                &mut self.0
            }
        }
    };
}

//! Steps of the seed's journeys, as a bureau operator (`OP0001`) or partner
//! performs them over gRPC, for the tests: the fixtures' steps
//! (`socsec_fixtures::journey`), expected to succeed.

use std::time::Duration;

use socsec_fixtures::journey;
pub use socsec_fixtures::journey::{BANK_BIN, basic_info};
use socsec_proto::{
    activation::v1::{self as activation, activation_service_client::ActivationServiceClient},
    card::v1::{self as card, card_service_client::CardServiceClient},
    common::v1::{Gender, PartnerKind},
    identity::v1::{self as identity, identity_service_client::IdentityServiceClient},
};

use crate::{CallerChannel as Channel, Operator, ids, operator};

pub type Identity = IdentityServiceClient<Channel>;
pub type Activation = ActivationServiceClient<Channel>;
pub type Cards = CardServiceClient<Channel>;

/// How long a test waits for an event to reach activation's projection.
pub const PROJECTION_PATIENCE: Duration = Duration::from_secs(10);

/// Registers a man called `name` with a fresh ID number (not yet confirmed).
pub async fn register(identity: &mut Identity, name: &str) -> identity::Person {
    journey::register(
        identity,
        &Operator,
        ids::id_number(true),
        basic_info(name, Gender::Male),
    )
    .await
    .expect("registration succeeds")
}

/// Sets `person`'s online password at the counter (an operator's
/// `SetOnlinePassword`).
pub async fn set_online_password(
    identity: &mut Identity,
    person: &identity::Person,
    password: &str,
) {
    identity
        .set_online_password(operator(identity::SetOnlinePasswordRequest {
            request_id: format!("pw-{}", uuid::Uuid::new_v4()),
            id_number: person.id_number.clone(),
            password: password.into(),
        }))
        .await
        .expect("the password is set");
}

pub async fn confirm(identity: &mut Identity, person: &identity::Person) -> identity::Person {
    journey::confirm(identity, &Operator, person)
        .await
        .expect("confirmation succeeds")
}

/// Registers and confirms a person.
pub async fn confirmed_person(identity: &mut Identity, name: &str) -> identity::Person {
    let person = register(identity, name).await;
    confirm(identity, &person).await
}

pub async fn register_partner(
    identity: &mut Identity,
    code: &str,
    kind: PartnerKind,
    parent: &str,
) {
    register_partner_collecting(identity, code, kind, parent, false).await;
}

/// A bank designated to collect contributions (it records payments).
pub async fn register_collecting_bank(identity: &mut Identity, code: &str) {
    register_partner_collecting(identity, code, PartnerKind::Bank, "", true).await;
}

async fn register_partner_collecting(
    identity: &mut Identity,
    code: &str,
    kind: PartnerKind,
    parent: &str,
    collects_contributions: bool,
) {
    // Employers and agencies carry a (valid, distinct) unified social credit code.
    let credit_code = match kind {
        PartnerKind::Employer | PartnerKind::HrAgency => {
            let digits: String = code.bytes().map(|b| format!("{:02}", b % 100)).collect();
            let tail = &digits[digits.len().saturating_sub(9)..];
            pii::CreditCode::from_body(&format!("91110000{tail:0>9}"))
                .unwrap()
                .as_str()
                .to_owned()
        }
        _ => String::new(),
    };
    identity
        .register_partner(operator(identity::RegisterPartnerRequest {
            request_id: format!("partner-{code}"),
            code: code.into(),
            kind: kind as i32,
            name: format!("{code} 名称"),
            region_code: "110000".into(),
            parent_code: parent.into(),
            credit_code,
            designation_in_force: true,
            collects_contributions,
        }))
        .await
        .expect("partner registration succeeds");
}

pub async fn apply(
    cards: &mut Cards,
    person: &identity::Person,
    bank: &str,
) -> card::CardApplication {
    journey::apply(cards, &Operator, person, bank)
        .await
        .expect("application succeeds")
}

pub async fn issue(cards: &mut Cards, application: &card::CardApplication) -> card::Card {
    journey::issue(cards, &Operator, application)
        .await
        .expect("issuing succeeds")
}

pub async fn receive(cards: &mut Cards, card: &card::Card) -> card::Card {
    journey::receive(cards, &Operator, &card.card_number)
        .await
        .expect("receipt succeeds")
}

/// A confirmed person with a card issued through `bank` and received.
pub async fn person_with_received_card(
    identity: &mut Identity,
    cards: &mut Cards,
    name: &str,
    bank: &str,
) -> (identity::Person, card::Card) {
    journey::person_with_received_card(identity, cards, &Operator, name, bank)
        .await
        .expect("a person with a received card")
}

/// Waits until activation's projection shows `card` in `status` (events
/// travel asynchronously from card-issuance).
pub async fn projected(
    activation: &mut Activation,
    card_number: &str,
    status: &str,
) -> activation::CardActivation {
    journey::projected(
        activation,
        &Operator,
        card_number,
        status,
        PROJECTION_PATIENCE,
    )
    .await
    .unwrap_or_else(|timed_out| panic!("{timed_out}"))
}

pub async fn register_legacy_card(
    cards: &mut Cards,
    person: &identity::Person,
    number: &str,
) -> card::LegacyMedicalCard {
    cards
        .register_legacy_medical_card(operator(card::RegisterLegacyMedicalCardRequest {
            request_id: format!("legacy-{number}"),
            card_number: number.into(),
            person_id: person.person_id.clone(),
            region_code: person.region_code.clone(),
        }))
        .await
        .expect("legacy card registration succeeds")
        .into_inner()
}

//! Steps of the seed's journeys, as a bureau operator or partner performs
//! them over gRPC, shared by the tests.

use crate::CallerChannel as Channel;
use socsec_proto::{
    activation::v1::{self as activation, activation_service_client::ActivationServiceClient},
    card::v1::{self as card, card_service_client::CardServiceClient},
    common::v1::{Gender, PartnerKind},
    identity::v1::{self as identity, identity_service_client::IdentityServiceClient},
};

use crate::{ids, operator};

pub type Identity = IdentityServiceClient<Channel>;
pub type Activation = ActivationServiceClient<Channel>;
pub type Cards = CardServiceClient<Channel>;

pub fn basic_info(name: &str, gender: Gender) -> identity::BasicInfo {
    identity::BasicInfo {
        name: name.into(),
        gender: gender as i32,
        ethnicity: "汉".into(),
        phone: "13800138000".into(),
        address: "北京市西城区复兴门内大街".into(),
    }
}

/// Registers a person (not yet confirmed).
pub async fn register(identity: &mut Identity, name: &str) -> identity::Person {
    let id_number = ids::id_number(true);
    identity
        .register_person(operator(identity::RegisterPersonRequest {
            request_id: format!("reg-{}", uuid::Uuid::new_v4().simple()),
            id_number,
            basic_info: Some(basic_info(name, Gender::Male)),
        }))
        .await
        .expect("registration succeeds")
        .into_inner()
}

pub async fn confirm(identity: &mut Identity, person: &identity::Person) -> identity::Person {
    identity
        .confirm_basic_info(operator(identity::ConfirmBasicInfoRequest {
            request_id: format!("confirm-{}-{}", person.person_id, person.version),
            person_id: person.person_id.clone(),
            version: person.version,
        }))
        .await
        .expect("confirmation succeeds")
        .into_inner()
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
        }))
        .await
        .expect("partner registration succeeds");
}

pub async fn apply(
    cards: &mut Cards,
    person: &identity::Person,
    bank: &str,
) -> card::CardApplication {
    cards
        .apply_for_card(operator(card::ApplyForCardRequest {
            request_id: format!("apply-{}", person.person_id),
            person_id: person.person_id.clone(),
            bank_code: bank.into(),
            issuing_region_code: String::new(),
        }))
        .await
        .expect("application succeeds")
        .into_inner()
}

pub const BANK_BIN: &str = "622202";

pub async fn issue(cards: &mut Cards, application: &card::CardApplication) -> card::Card {
    cards
        .issue_card(operator(card::IssueCardRequest {
            request_id: format!("issue-{}", application.application_id),
            application_id: application.application_id.clone(),
            generation: 3,
            bank_card_number: String::new(),
            bank_bin: BANK_BIN.into(),
        }))
        .await
        .expect("issuing succeeds")
        .into_inner()
}

pub async fn receive(cards: &mut Cards, card: &card::Card) -> card::Card {
    cards
        .record_receipt(operator(card::RecordReceiptRequest {
            request_id: format!("receive-{}", card.card_number),
            card_number: card.card_number.clone(),
        }))
        .await
        .expect("receipt succeeds")
        .into_inner()
}

/// A confirmed person with a card issued through `bank` and received.
pub async fn person_with_received_card(
    identity: &mut Identity,
    cards: &mut Cards,
    name: &str,
    bank: &str,
) -> (identity::Person, card::Card) {
    let person = confirmed_person(identity, name).await;
    let application = apply(cards, &person, bank).await;
    let card = issue(cards, &application).await;
    let card = receive(cards, &card).await;
    (person, card)
}

/// Waits until activation's projection shows `card` in `status` (events
/// travel asynchronously from card-issuance).
pub async fn projected(
    activation: &mut Activation,
    card_number: &str,
    status: &str,
) -> activation::CardActivation {
    for _ in 0..200 {
        if let Ok(state) = activation
            .get_card_activation(operator(activation::GetCardActivationRequest {
                card_number: card_number.into(),
            }))
            .await
            && state.get_ref().card_status == status
        {
            return state.into_inner();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("card {card_number} never reached {status} in activation's projection");
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

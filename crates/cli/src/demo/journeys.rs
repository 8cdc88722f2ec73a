//! Journeys 1 (bank outlet activation and a hospital visit) and 3 (first
//! use at a pharmacy with the old medical insurance card), then 7.

use std::time::Duration;

use socsec_fixtures::{ids, journey, reason, try_eventually};
use socsec_proto::{
    activation::v1 as activation, card::v1 as card, common::v1::Gender, identity::v1 as identity,
};

use super::{
    BANK, HOSPITAL, OUTLET, PHARMACY, REGION,
    flexible::{enrol_and_pay_online, flexible_worker},
    step,
};
use crate::{
    connection::{Connection, Failure, Outcome},
    output::Printer,
};

/// How long the demo waits for events to reach activation.
const PATIENCE: Duration = Duration::from_secs(10);

/// A man called `name`, registered with a fresh ID number, his address
/// completed at the counter, confirmed, with a card issued and received,
/// and projected into activation; each step printed.
async fn person_with_received_card(
    c: &Connection,
    out: Printer,
    name: &str,
) -> Result<(identity::Person, card::Card), Failure> {
    let mut identity = c.identity().await?;
    let info = |phone: &str, address: &str| identity::BasicInfo {
        phone: phone.into(),
        address: address.into(),
        ..journey::basic_info(name, Gender::Male)
    };
    let person = journey::register(
        &mut identity,
        c,
        ids::random(true),
        info("13800138000", "北京市西城区"),
    )
    .await?;
    step(
        out,
        format!(
            "registered {name}, ID {}",
            person.masked_id_number.clone().unwrap_or_default().masked
        ),
    );
    let person = identity
        .correct_basic_info(c.request(identity::CorrectBasicInfoRequest {
            request_id: format!("demo-correct-{}", person.person_id),
            person_id: person.person_id.clone(),
            basic_info: Some(info("13900139000", "北京市西城区复兴门内大街")),
            reason: "address completed at the counter".into(),
            evidence_ref: "HUKOU-DEMO".into(),
            version: 1,
        }))
        .await?
        .into_inner();
    step(
        out,
        format!("basic information corrected (version {})", person.version),
    );
    let person = journey::confirm(&mut identity, c, &person).await?;
    step(out, "basic information confirmed".into());
    let mut cards = c.cards().await?;
    let application = journey::apply(&mut cards, c, &person, BANK).await?;
    let issued = journey::issue(&mut cards, c, &application).await?;
    step(
        out,
        format!(
            "card {} issued with bank card {}",
            issued.card_number, issued.masked_bank_card_number
        ),
    );
    let received = journey::receive(&mut cards, c, &issued.card_number).await?;
    step(out, "card received by the holder".into());
    let mut activation = c.activation().await?;
    let card_number = &received.card_number;
    journey::projected(&mut activation, c, card_number, "RECEIVED", PATIENCE)
        .await
        .map_err(|_| Failure::Usage(format!("card {card_number} never reached activation")))?;
    Ok((person, received))
}

fn eligibility_text(e: &activation::Eligibility) -> String {
    let reason = activation::EligibilityReason::try_from(e.reason)
        .map(|r| {
            r.as_str_name()
                .trim_start_matches("ELIGIBILITY_REASON_")
                .to_owned()
        })
        .unwrap_or_default();
    format!(
        "{} ({reason})",
        if e.eligible {
            "eligible"
        } else {
            "not eligible"
        }
    )
}

pub async fn journeys(c: &Connection, out: Printer) -> Outcome {
    out.line("Journey 1: register, correct, confirm, card, bank outlet activation, hospital visit");
    let (person, card) = person_with_received_card(c, out, "王建国").await?;
    let mut activation = c.activation().await?;
    let activated = activation
        .activate_at_bank_outlet(c.request_as(
            &format!("bank_outlet:{OUTLET}"),
            activation::ActivateAtBankOutletRequest {
                request_id: format!("demo-outlet-{}", card.card_number),
                operator_id: "TELLER-1".into(),
                card_number: card.card_number.clone(),
                id_number: person.id_number.clone(),
                card_identification_code: card.card_identification_code.clone(),
            },
        ))
        .await?
        .into_inner();
    step(
        out,
        format!(
            "activated at outlet {} by {}",
            activated.partner_code, activated.operator_id
        ),
    );
    let eligibility = activation
        .check_eligibility(c.request_as(
            &format!("hospital:{HOSPITAL}"),
            activation::CheckEligibilityRequest {
                card: Some(
                    activation::check_eligibility_request::Card::SocialSecurityCard(
                        activation::CardPresented {
                            card_number: card.card_number.clone(),
                            card_identification_code: card.card_identification_code.clone(),
                        },
                    ),
                ),
            },
        ))
        .await?
        .into_inner();
    step(
        out,
        format!(
            "at the hospital the card is {}",
            eligibility_text(&eligibility)
        ),
    );

    out.line("Journey 3: first use at a designated pharmacy with the old medical insurance card");
    let (person, card) = person_with_received_card(c, out, "李秀英").await?;
    let legacy_number = format!("YB{}", &person.id_number[10..17]);
    let mut cards = c.cards().await?;
    cards
        .register_legacy_medical_card(c.request(card::RegisterLegacyMedicalCardRequest {
            request_id: format!("demo-legacy-{legacy_number}"),
            card_number: legacy_number.clone(),
            person_id: person.person_id.clone(),
            region_code: REGION.into(),
        }))
        .await?;
    step(
        out,
        format!("old medical insurance card {legacy_number} on record"),
    );
    let pharmacy = format!("pharmacy:{PHARMACY}");
    // The old card travels to activation on card-issuance's event stream:
    // until it arrives, the pharmacy hears LEGACY_CARD_NOT_FOUND.
    let attempt = try_eventually("the old card at activation", PATIENCE, async || {
        let attempt = activation
            .activate_at_pharmacy(c.request_as(
                &pharmacy,
                activation::ActivateAtPharmacyRequest {
                    request_id: format!("demo-pharmacy-{}", card.card_number),
                    operator_id: "POS-1".into(),
                    legacy_card_number: legacy_number.clone(),
                    card_number: card.card_number.clone(),
                    card_identification_code: card.card_identification_code.clone(),
                    ..Default::default()
                },
            ))
            .await;
        match attempt {
            Err(status) if reason(&status) == "LEGACY_CARD_NOT_FOUND" => None,
            answered => Some(answered),
        }
    })
    .await
    .map_err(|_| Failure::Usage("the old card never reached activation".into()))?;
    let activated = attempt?.into_inner();
    step(
        out,
        format!(
            "old card in, new card in: {} activated, {} retired",
            activated.card_number, activated.retired_legacy_card_number
        ),
    );
    let old = activation
        .check_eligibility(c.request_as(
            &pharmacy,
            activation::CheckEligibilityRequest {
                card: Some(
                    activation::check_eligibility_request::Card::LegacyCardNumber(legacy_number),
                ),
            },
        ))
        .await?
        .into_inner();
    step(
        out,
        format!("the old card is now {}", eligibility_text(&old)),
    );

    out.line("Journey 7: a flexible worker enrols online and pays monthly");
    flexible_worker(c, out).await?;

    out.line("The web portal: a person with a received card, an online password and a paid month");
    let (person, _) = person_with_received_card(c, out, "陈网办").await?;
    let id_number = person.id_number.clone();
    let password = "Portal2026demo";
    enrol_and_pay_online(c, out, person, id_number.clone(), password).await?;
    // Printed in full on purpose: a newcomer signs in with them at once.
    out.line(&format!(
        "  sign in at the portal (deploy/run.sh prints its address) with ID number {id_number} and password {password}"
    ));
    Ok(())
}

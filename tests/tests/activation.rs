//! The activation service over gRPC, with identity and card-issuance running.

use std::{collections::HashSet, time::Duration};

use socsec_proto::{
    activation::v1::{self as pb, EligibilityReason, check_eligibility_request::Card},
    card::v1 as card,
    common::v1::PartnerKind,
    identity::v1 as identity,
};
use system_tests::{as_caller, bad_fields, ids, journeys, operator, reason};
use tonic::Code;

system_tests::world!(World);

/// Two banks with an outlet each, a designated and an undesignated
/// hospital, a pharmacy and a hotline centre.
async fn world() -> World {
    let mut w = system_tests::World::with_partners(
        &[
            ("ICBC", PartnerKind::Bank, ""),
            ("CCB", PartnerKind::Bank, ""),
            ("ICBC-0101", PartnerKind::BankOutlet, "ICBC"),
            ("CCB-0101", PartnerKind::BankOutlet, "CCB"),
            ("H-001", PartnerKind::Hospital, ""),
            ("H-002", PartnerKind::Hospital, ""),
            ("P-001", PartnerKind::Pharmacy, ""),
            ("HL-12333", PartnerKind::HotlineCenter, ""),
        ],
        &[],
    )
    .await;
    w.identity
        .set_partner_designation(operator(identity::SetPartnerDesignationRequest {
            request_id: "undesignate-h2".into(),
            code: "H-002".into(),
            designation_in_force: false,
            reason: "agreement ended".into(),
            collects_contributions: None,
        }))
        .await
        .unwrap();
    World(w)
}

impl World {
    async fn eligibility(&mut self, caller: &str, card: Card) -> pb::Eligibility {
        self.activation
            .check_eligibility(as_caller(
                caller,
                pb::CheckEligibilityRequest { card: Some(card) },
            ))
            .await
            .unwrap()
            .into_inner()
    }
}

fn presented(card: &card::Card) -> Card {
    Card::SocialSecurityCard(pb::CardPresented {
        card_number: card.card_number.clone(),
        card_identification_code: card.card_identification_code.clone(),
    })
}

fn at_outlet(
    request_id: &str,
    card: &card::Card,
    id_number: &str,
) -> pb::ActivateAtBankOutletRequest {
    pb::ActivateAtBankOutletRequest {
        request_id: request_id.into(),
        operator_id: "TELLER-7".into(),
        card_number: card.card_number.clone(),
        card_identification_code: card.card_identification_code.clone(),
        id_number: id_number.into(),
    }
}

fn at_hospital(request_id: &str, card: &card::Card, code: &str) -> pb::ActivateAtHospitalRequest {
    pb::ActivateAtHospitalRequest {
        request_id: request_id.into(),
        operator_id: "DESK-1".into(),
        card_number: card.card_number.clone(),
        card_identification_code: code.into(),
        visit_type: pb::VisitType::Outpatient as i32,
        ..Default::default()
    }
}

fn by_hotline(
    request_id: &str,
    person: &identity::Person,
    name: &str,
    card: &card::Card,
) -> pb::ActivateByHotlineRequest {
    pb::ActivateByHotlineRequest {
        request_id: request_id.into(),
        agent_id: "AGENT-3".into(),
        id_number: person.id_number.clone(),
        name: name.into(),
        card_number: card.card_number.clone(),
    }
}

#[tokio::test]
async fn the_cards_own_bank_outlet_activates_it_with_the_holders_id() {
    let mut w = world().await;
    let (person, card) = w.holder("王五").await;

    let status = w
        .activation
        .activate_at_bank_outlet(as_caller(
            "bank_outlet:CCB-0101",
            at_outlet("o-1", &card, &person.id_number),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(reason(&status), "CARD_OF_ANOTHER_BANK");

    let stranger = ids::id_number(true);
    let status = w
        .activation
        .activate_at_bank_outlet(as_caller(
            "bank_outlet:ICBC-0101",
            at_outlet("o-2", &card, &stranger),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "HOLDER_MISMATCH");

    let before = w.eligibility("hospital:H-001", presented(&card)).await;
    assert_eq!(before.reason, EligibilityReason::CardNotActivated as i32);
    assert!(!before.eligible && before.activation_deadline.is_some());

    let activation = w
        .activation
        .activate_at_bank_outlet(as_caller(
            "bank_outlet:ICBC-0101",
            at_outlet("o-3", &card, &person.id_number),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(activation.channel, pb::Channel::BankOutlet as i32);
    assert_eq!(activation.partner_code, "ICBC-0101");
    assert_eq!(activation.operator_id, "TELLER-7");

    let retry = w
        .activation
        .activate_at_bank_outlet(as_caller(
            "bank_outlet:ICBC-0101",
            at_outlet("o-3", &card, &person.id_number),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(retry, activation);

    let status = w
        .activation
        .activate_at_bank_outlet(as_caller(
            "bank_outlet:ICBC-0101",
            at_outlet("o-4", &card, &person.id_number),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(reason(&status), "CARD_ALREADY_ACTIVE");
    use tonic_types::StatusExt;
    let info = status.get_details_error_info().unwrap();
    assert_eq!(info.metadata["channel"], "BANK_OUTLET");
    assert!(!info.metadata.contains_key("partner_code"));
    assert!(!info.metadata["activated_at"].is_empty());

    let after = w.eligibility("hospital:H-001", presented(&card)).await;
    assert!(after.eligible);
    assert_eq!(after.reason, EligibilityReason::Eligible as i32);
}

#[tokio::test]
async fn the_first_registration_at_a_designated_hospital_activates_the_card() {
    let mut w = world().await;
    let (_, outpatient) = w.holder("李四").await;
    let (_, inpatient) = w.holder("李五").await;

    let status = w
        .activation
        .activate_at_hospital(as_caller(
            "hospital:H-002",
            at_hospital("h-0", &outpatient, &outpatient.card_identification_code),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(reason(&status), "PARTNER_NOT_DESIGNATED");

    let status = w
        .activation
        .activate_at_hospital(as_caller(
            "hospital:H-001",
            at_hospital("h-1", &outpatient, &inpatient.card_identification_code),
        ))
        .await
        .unwrap_err();
    // Another card's code: answered as a number that does not exist.
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(reason(&status), "CARD_NOT_FOUND");

    let activation = w
        .activation
        .activate_at_hospital(as_caller(
            "hospital:H-001",
            at_hospital("h-2", &outpatient, &outpatient.card_identification_code),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(activation.channel, pb::Channel::Hospital as i32);

    let mut request = at_hospital("h-3", &inpatient, &inpatient.card_identification_code);
    request.visit_type = pb::VisitType::Inpatient as i32;
    w.activation
        .activate_at_hospital(as_caller("hospital:H-001", request))
        .await
        .unwrap();
    assert!(
        w.eligibility("hospital:H-001", presented(&inpatient))
            .await
            .eligible
    );

    let status = w
        .activation
        .check_eligibility(as_caller(
            "hospital:H-002",
            pb::CheckEligibilityRequest {
                card: Some(presented(&inpatient)),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "PARTNER_NOT_DESIGNATED");

    let mut missing_visit = at_hospital("h-4", &inpatient, &inpatient.card_identification_code);
    missing_visit.visit_type = 0;
    let status = w
        .activation
        .activate_at_hospital(as_caller("hospital:H-001", missing_visit))
        .await
        .unwrap_err();
    assert_eq!(
        bad_fields(&status),
        vec![("visit_type".into(), "VISIT_TYPE_REQUIRED".into())]
    );
}

#[tokio::test]
async fn a_pharmacy_activates_with_the_old_card_then_the_new_and_retires_the_old() {
    let mut w = world().await;
    let (person, card) = w.holder("赵六").await;
    let (other, _) = w.holder("赵七").await;
    journeys::register_legacy_card(&mut w.cards, &person, "YB0000001").await;
    journeys::register_legacy_card(&mut w.cards, &other, "YB0000002").await;
    // Wait for the old cards to reach activation's projection.
    for legacy in ["YB0000001", "YB0000002"] {
        let what = format!("old card {legacy} in activation's projection");
        system_tests::eventually(&what, Duration::from_secs(10), async || {
            let e = w
                .eligibility("pharmacy:P-001", Card::LegacyCardNumber(legacy.into()))
                .await;
            (e.reason != EligibilityReason::CardUnknown as i32).then_some(())
        })
        .await;
    }
    let request = |request_id: &str, legacy: &str| pb::ActivateAtPharmacyRequest {
        request_id: request_id.into(),
        operator_id: "POS-2".into(),
        legacy_card_number: legacy.into(),
        card_number: card.card_number.clone(),
        card_identification_code: card.card_identification_code.clone(),
        ..Default::default()
    };

    let status = w
        .activation
        .activate_at_pharmacy(as_caller("pharmacy:P-001", request("p-1", "YB0000002")))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "LEGACY_CARD_OF_ANOTHER_PERSON");

    let activation = w
        .activation
        .activate_at_pharmacy(as_caller("pharmacy:P-001", request("p-2", "YB0000001")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(activation.channel, pb::Channel::Pharmacy as i32);
    assert_eq!(activation.retired_legacy_card_number, "YB0000001");

    let old = w
        .eligibility("pharmacy:P-001", Card::LegacyCardNumber("YB0000001".into()))
        .await;
    assert_eq!(old.reason, EligibilityReason::LegacyCardRetired as i32);
    assert!(
        w.eligibility("pharmacy:P-001", presented(&card))
            .await
            .eligible
    );

    // card-issuance learns of the retirement too.
    let retired = system_tests::try_eventually(
        "card-issuance to see the old card retired",
        Duration::from_secs(10),
        async || {
            let legacy = w
                .cards
                .get_legacy_medical_card(operator(card::GetLegacyMedicalCardRequest {
                    card_number: "YB0000001".into(),
                }))
                .await
                .unwrap()
                .into_inner();
            (legacy.status == card::LegacyCardStatus::Retired as i32).then_some(())
        },
    )
    .await
    .is_ok();
    assert!(retired, "card-issuance never saw the old card retired");
}

#[tokio::test]
async fn the_bank_enabling_the_financial_function_activates_when_all_three_match() {
    let mut w = world().await;
    let (person, card) = w.holder("钱八").await;
    let request = |request_id: &str, id_number: &str, bank_card: &str| {
        pb::ActivateWithFinancialFunctionRequest {
            request_id: request_id.into(),
            serial_number: card.serial_number.clone(),
            id_number: id_number.into(),
            bank_card_number: bank_card.into(),
        }
    };
    let other_bank_card = "6222029999999999990";
    let other_bank_card = format!(
        "{}{}",
        &other_bank_card[..18],
        luhn_digit(&other_bank_card[..18])
    );

    let status = w
        .activation
        .activate_with_financial_function(as_caller(
            "bank:CCB",
            request("f-1", &person.id_number, &card.bank_card_number),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "CARD_OF_ANOTHER_BANK");
    let status = w
        .activation
        .activate_with_financial_function(as_caller(
            "bank:ICBC",
            request("f-2", &person.id_number, &other_bank_card),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "FINANCIAL_DETAILS_MISMATCH");
    let status = w
        .activation
        .activate_with_financial_function(as_caller(
            "bank:ICBC",
            request("f-3", &ids::id_number(true), &card.bank_card_number),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "FINANCIAL_DETAILS_MISMATCH");

    let activation = w
        .activation
        .activate_with_financial_function(as_caller(
            "bank:ICBC",
            request("f-4", &person.id_number, &card.bank_card_number),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(activation.channel, pb::Channel::FinancialFunction as i32);
    assert_eq!(activation.partner_code, "ICBC");
}

fn luhn_digit(body: &str) -> char {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

#[tokio::test]
async fn a_hotline_agent_activates_after_verifying_the_caller() {
    let mut w = world().await;
    let (person, card) = w.holder("孙九").await;
    let (other, _) = w.holder("孙十").await;

    let status = w
        .activation
        .activate_by_hotline(as_caller(
            "hotline_center:HL-12333",
            by_hotline("t-1", &person, "孙拾", &card),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "HOLDER_MISMATCH");
    let status = w
        .activation
        .activate_by_hotline(as_caller(
            "hotline_center:HL-12333",
            by_hotline("t-2", &other, "孙十", &card),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "HOLDER_MISMATCH");
    let activation = w
        .activation
        .activate_by_hotline(as_caller(
            "hotline_center:HL-12333",
            by_hotline("t-3", &person, "孙九", &card),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(activation.channel, pb::Channel::Hotline as i32);
    assert_eq!(activation.operator_id, "AGENT-3");

    let status = w
        .activation
        .activate_by_hotline(as_caller(
            "bank_outlet:ICBC-0101",
            by_hotline("t-4", &person, "孙九", &card),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "CALLER_KIND_NOT_ALLOWED");
}

#[tokio::test]
async fn a_lost_card_cannot_be_activated_and_says_why() {
    let mut w = world().await;
    let (person, card) = w.holder("周一").await;
    w.cards
        .report_loss(operator(card::ReportLossRequest {
            request_id: "lost".into(),
            card_number: card.card_number.clone(),
            reason: String::new(),
        }))
        .await
        .unwrap();
    journeys::projected(&mut w.activation, &card.card_number, "LOST").await;
    let status = w
        .activation
        .activate_at_bank_outlet(as_caller(
            "bank_outlet:ICBC-0101",
            at_outlet("l-1", &card, &person.id_number),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "CARD_LOST");
    let e = w.eligibility("hospital:H-001", presented(&card)).await;
    assert_eq!(e.reason, EligibilityReason::CardLost as i32);
    let unknown = w
        .eligibility(
            "hospital:H-001",
            Card::SocialSecurityCard(pb::CardPresented {
                card_number: "X00000019".into(),
                card_identification_code: card.card_identification_code.clone(),
            }),
        )
        .await;
    assert_eq!(unknown.reason, EligibilityReason::CardUnknown as i32);
}

#[tokio::test]
async fn the_old_card_is_restricted_from_the_deadline_instant_until_activation() {
    let mut w = world().await;
    let (person, card) = w.holder("吴二").await;
    journeys::register_legacy_card(&mut w.cards, &person, "YB0000009").await;
    let state = journeys::projected(&mut w.activation, &card.card_number, "RECEIVED").await;
    let deadline = state.activation_deadline.unwrap();
    let received = state.received_at.unwrap();
    // Six calendar months after receipt (the test clock's date, 25 Nov, has
    // a 25 May six months later).
    assert_eq!(deadline.seconds - received.seconds, 181 * 86_400);

    let legacy = || Card::LegacyCardNumber("YB0000009".into());
    let deadline_at = chrono::DateTime::from_timestamp(deadline.seconds, 0).unwrap();
    w.system.clock.set(deadline_at - chrono::Duration::days(10));
    let reminders = w
        .activation
        .list_approaching_deadlines(operator(pb::ListApproachingDeadlinesRequest {
            within_days: 30,
            region_code: String::new(),
            page: None,
        }))
        .await
        .unwrap()
        .into_inner()
        .cards;
    assert_eq!(reminders.len(), 1);
    assert_eq!(reminders[0].card_number, card.card_number);
    assert_eq!(reminders[0].activation_deadline, Some(deadline));

    w.system
        .clock
        .set(deadline_at - chrono::Duration::seconds(1));
    system_tests::eventually(
        "the old card in activation's projection",
        Duration::from_secs(10),
        async || {
            let e = w.eligibility("pharmacy:P-001", legacy()).await;
            (e.reason != EligibilityReason::CardUnknown as i32).then_some(())
        },
    )
    .await;
    let before = w.eligibility("pharmacy:P-001", legacy()).await;
    assert!(before.eligible, "{before:?}");

    w.system
        .clock
        .set(deadline_at + chrono::Duration::seconds(1));
    let after = w.eligibility("pharmacy:P-001", legacy()).await;
    assert!(!after.eligible);
    assert_eq!(after.reason, EligibilityReason::LegacyCardRestricted as i32);
    assert!(after.deadline_passed);
    let new_card = w.eligibility("hospital:H-001", presented(&card)).await;
    assert_eq!(new_card.reason, EligibilityReason::CardNotActivated as i32);
    assert!(new_card.deadline_passed);

    w.activation
        .activate_by_hotline(as_caller(
            "hotline_center:HL-12333",
            by_hotline("late", &person, "吴二", &card),
        ))
        .await
        .unwrap();
    let lifted = w.eligibility("pharmacy:P-001", legacy()).await;
    assert!(lifted.eligible, "{lifted:?}");
}

#[tokio::test]
async fn a_region_can_set_its_own_window() {
    let mut w = world().await;
    let (_, card) = w.holder("郑三").await;
    let policy = w
        .activation
        .set_region_policy(operator(pb::SetRegionPolicyRequest {
            request_id: "policy-1".into(),
            policy: Some(pb::RegionPolicy {
                region_code: card.issuing_region_code.clone(),
                window_months: 0,
                window_days: 300,
                consequence: pb::DeadlineConsequence::RestrictLegacyCard as i32,
            }),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(policy.window_days, 300);
    let state = journeys::projected(&mut w.activation, &card.card_number, "RECEIVED").await;
    assert_eq!(
        state.activation_deadline.unwrap().seconds - state.received_at.unwrap().seconds,
        300 * 86_400
    );

    let status = w
        .activation
        .set_region_policy(operator(pb::SetRegionPolicyRequest {
            request_id: "policy-2".into(),
            policy: Some(pb::RegionPolicy {
                region_code: "11".into(),
                window_months: 6,
                window_days: 300,
                consequence: 0,
            }),
        }))
        .await
        .unwrap_err();
    let fields: Vec<String> = bad_fields(&status).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        fields,
        [
            "policy.region_code",
            "policy.window_months",
            "policy.consequence"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_activations_through_every_channel_end_with_exactly_one() {
    let mut w = world().await;
    let (person, card) = w.holder("冯四").await;
    let mut calls = Vec::new();
    for attempt in 0..3 {
        for _retry in 0..3 {
            let mut client = w.activation.clone();
            let (person1, card1) = (person.clone(), card.clone());
            calls.push(tokio::spawn(async move {
                let id = format!("outlet-{attempt}");
                (
                    id.clone(),
                    client
                        .activate_at_bank_outlet(as_caller(
                            "bank_outlet:ICBC-0101",
                            at_outlet(&id, &card1, &person1.id_number),
                        ))
                        .await,
                )
            }));
            let mut client = w.activation.clone();
            let card2 = card.clone();
            calls.push(tokio::spawn(async move {
                let id = format!("hospital-{attempt}");
                (
                    id.clone(),
                    client
                        .activate_at_hospital(as_caller(
                            "hospital:H-001",
                            at_hospital(&id, &card2, &card2.card_identification_code),
                        ))
                        .await,
                )
            }));
            let mut client = w.activation.clone();
            let (person3, card3) = (person.clone(), card.clone());
            calls.push(tokio::spawn(async move {
                let id = format!("hotline-{attempt}");
                (
                    id.clone(),
                    client
                        .activate_by_hotline(as_caller(
                            "hotline_center:HL-12333",
                            by_hotline(&id, &person3, "冯四", &card3),
                        ))
                        .await,
                )
            }));
        }
    }
    let mut winners = HashSet::new();
    let mut answers = Vec::new();
    for call in futures::future::join_all(calls).await {
        let (id, outcome) = call.unwrap();
        match outcome {
            Ok(activation) => {
                winners.insert(id);
                answers.push(activation.into_inner());
            }
            Err(status) => assert_eq!(reason(&status), "CARD_ALREADY_ACTIVE", "{status:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    assert!(answers.windows(2).all(|a| a[0] == a[1]));
    let state = w
        .activation
        .get_card_activation(operator(pb::GetCardActivationRequest {
            card_number: card.card_number.clone(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(state.activation.unwrap(), answers[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_cut_off_mid_way_leave_nothing_half_done() {
    use futures::StreamExt;
    let mut w = world().await;
    let (person, card) = w.holder("陈断").await;
    // The partner's deadline is so short that most attempts are cut off
    // while the activation is under way; each is rolled back whole.
    let mut cut_off = 0;
    for attempt in 0..30 {
        let mut request = tonic::Request::new(at_outlet("cut-1", &card, &person.id_number));
        request.set_timeout(Duration::from_micros(200 + attempt * 150));
        if w.activation
            .activate_at_bank_outlet(as_caller_request("bank_outlet:ICBC-0101", request))
            .await
            .is_err()
        {
            cut_off += 1;
        }
    }
    assert!(
        cut_off > 0,
        "no attempt was cut off; the test proves nothing"
    );
    // A retry with time to finish gets one answer, and exactly one
    // activation event exists for the card.
    let answer = w
        .activation
        .activate_at_bank_outlet(as_caller(
            "bank_outlet:ICBC-0101",
            at_outlet("cut-1", &card, &person.id_number),
        ))
        .await
        .unwrap()
        .into_inner();
    let state = w
        .activation
        .get_card_activation(operator(pb::GetCardActivationRequest {
            card_number: card.card_number.clone(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(state.activation.unwrap(), answer);
    let mut events = w
        .activation
        .watch_activation_events(as_caller(
            "service:test",
            pb::WatchActivationEventsRequest {
                after: None,
                heartbeats: false,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let mut activated = 0;
    while let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_millis(1500), events.next()).await
    {
        if let Some(pb::activation_event::Event::CardActivated(a)) = event.unwrap().event
            && a.activation.unwrap().card_number == card.card_number
        {
            activated += 1;
        }
    }
    assert_eq!(activated, 1);
}

/// A prepared request sent as `caller`.
fn as_caller_request<T>(caller: &str, mut request: tonic::Request<T>) -> tonic::Request<T> {
    request
        .extensions_mut()
        .insert(system_tests::AsCaller(caller.to_owned()));
    request
}

// ---- races: N first activations of one card at once ----

const RACERS: usize = 10;

/// What a refused caller observes: the code, the reason and its metadata.
fn observed(status: &tonic::Status) -> (Code, String, Vec<(String, String)>) {
    use tonic_types::StatusExt;
    let mut metadata: Vec<(String, String)> = status
        .get_details_error_info()
        .map(|info| info.metadata.into_iter().collect())
        .unwrap_or_default();
    metadata.sort();
    (status.code(), reason(status), metadata)
}

/// Sends `RACERS` calls at once, each with its own request id, then one
/// more after the winner has committed; exactly one of the racers wins and
/// every other one is answered exactly as the late-comer is. A retry of
/// the winner's request gets the winner's answer.
async fn race<F, Fut>(call: F)
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<tonic::Response<pb::Activation>, tonic::Status>>
        + Send
        + 'static,
{
    let calls: Vec<_> = (0..RACERS)
        .map(|i| {
            let id = format!("race-{i}");
            let call = call(id.clone());
            tokio::spawn(async move { (id, call.await) })
        })
        .collect();
    let mut winners = Vec::new();
    let mut losers = Vec::new();
    for outcome in futures::future::join_all(calls).await {
        match outcome.unwrap() {
            (id, Ok(activation)) => winners.push((id, activation.into_inner())),
            (_, Err(status)) => losers.push(status),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}, losers: {losers:?}");
    let late = call("race-late".into()).await.unwrap_err();
    assert_eq!(late.code(), Code::FailedPrecondition);
    assert_eq!(reason(&late), "CARD_ALREADY_ACTIVE");
    for loser in &losers {
        assert_eq!(observed(loser), observed(&late), "{loser:?}");
    }
    let (id, answer) = winners.pop().unwrap();
    let retry = call(id).await.unwrap().into_inner();
    assert_eq!(retry, answer);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_first_activations_at_a_bank_outlet_end_with_one() {
    let mut w = world().await;
    let (person, card) = w.holder("赛一").await;
    let client = w.activation.clone();
    race(move |id| {
        let mut client = client.clone();
        let request = at_outlet(&id, &card, &person.id_number);
        async move {
            client
                .activate_at_bank_outlet(as_caller("bank_outlet:ICBC-0101", request))
                .await
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_first_activations_at_a_hospital_end_with_one() {
    let mut w = world().await;
    let (_, card) = w.holder("赛二").await;
    let client = w.activation.clone();
    race(move |id| {
        let mut client = client.clone();
        let request = at_hospital(&id, &card, &card.card_identification_code);
        async move {
            client
                .activate_at_hospital(as_caller("hospital:H-001", request))
                .await
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_first_activations_at_a_pharmacy_end_with_one() {
    let mut w = world().await;
    let (person, card) = w.holder("赛三").await;
    journeys::register_legacy_card(&mut w.cards, &person, "YB0000031").await;
    for _ in 0..100 {
        let e = w
            .eligibility("pharmacy:P-001", Card::LegacyCardNumber("YB0000031".into()))
            .await;
        if e.reason != EligibilityReason::CardUnknown as i32 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let client = w.activation.clone();
    race(move |id| {
        let mut client = client.clone();
        let request = pb::ActivateAtPharmacyRequest {
            request_id: id,
            operator_id: "POS-2".into(),
            legacy_card_number: "YB0000031".into(),
            card_number: card.card_number.clone(),
            card_identification_code: card.card_identification_code.clone(),
            ..Default::default()
        };
        async move {
            client
                .activate_at_pharmacy(as_caller("pharmacy:P-001", request))
                .await
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_financial_function_activations_end_with_one() {
    let mut w = world().await;
    let (person, card) = w.holder("赛四").await;
    let client = w.activation.clone();
    race(move |id| {
        let mut client = client.clone();
        let request = pb::ActivateWithFinancialFunctionRequest {
            request_id: id,
            serial_number: card.serial_number.clone(),
            id_number: person.id_number.clone(),
            bank_card_number: card.bank_card_number.clone(),
        };
        async move {
            client
                .activate_with_financial_function(as_caller("bank:ICBC", request))
                .await
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_hotline_activations_end_with_one() {
    let mut w = world().await;
    let (person, card) = w.holder("赛五").await;
    let client = w.activation.clone();
    race(move |id| {
        let mut client = client.clone();
        let request = by_hotline(&id, &person, "赛五", &card);
        async move {
            client
                .activate_by_hotline(as_caller("hotline_center:HL-12333", request))
                .await
        }
    })
    .await;
}

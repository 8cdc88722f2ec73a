//! Probing (issue 14): card numbers are sequential, so a partner must
//! present what a real card presents — the number and the card's own
//! 32-character identification code. A scan of numbers without (or with
//! wrong) codes learns nothing, writes no visit into any holder's trail,
//! is recorded as failed attempts, and trips the caller's limit; the right
//! code works on every channel.

use std::time::Duration;

use pii::{CardIdentificationCode, CardNumber};
use socsec_proto::{
    activation::v1::{self as pb, EligibilityReason, check_eligibility_request::Card},
    common::v1::PartnerKind,
    identity::v1 as identity,
};
use system_tests::{as_caller, audit_trail, journeys, reason};
use tonic::{Code, Status};
use tonic_types::StatusExt;

system_tests::world!(World);

async fn world() -> World {
    World(
        system_tests::World::with_partners(
            &[
                ("ICBC", PartnerKind::Bank, ""),
                ("ICBC-0101", PartnerKind::BankOutlet, "ICBC"),
                ("H-001", PartnerKind::Hospital, ""),
                ("H-002", PartnerKind::Hospital, ""),
                ("P-001", PartnerKind::Pharmacy, ""),
                ("HL-12333", PartnerKind::HotlineCenter, ""),
            ],
            &[],
        )
        .await,
    )
}

impl World {
    async fn check(
        &mut self,
        caller: &str,
        number: &str,
        code: &str,
    ) -> Result<pb::Eligibility, Status> {
        self.activation
            .check_eligibility(as_caller(
                caller,
                pb::CheckEligibilityRequest {
                    card: Some(Card::SocialSecurityCard(pb::CardPresented {
                        card_number: number.into(),
                        card_identification_code: code.into(),
                    })),
                },
            ))
            .await
            .map(|r| r.into_inner())
    }

    /// The `CheckEligibility` visits and failed attempts in a person's trail at activation.
    async fn trail(&self, person: &identity::Person) -> (usize, usize) {
        let records = audit_trail(&self.system.activation, &person.person_id).await;
        let visits = records
            .iter()
            .filter(|r| r.action == "CheckEligibility" && r.access == "READ")
            .count();
        let failed = records
            .iter()
            .filter(|r| r.access == "FAILED_ATTEMPT")
            .count();
        (visits, failed)
    }
}

/// The limit the services run with (the default configuration).
fn limit() -> usize {
    activation::Config::default().presentation_failure_limit as usize
}

/// A well-formed code that is no card's (chip numbers are random).
fn forged_code(n: u64) -> String {
    CardIdentificationCode::new("110105", 0xF0F0_0000_0000_0000 + n)
        .unwrap()
        .to_string()
}

/// What an eligibility answer says of the card (not how fresh it is, nor
/// where it came from: that depends on the projection's lag, not the card).
fn seen(e: &pb::Eligibility) -> (bool, i32, bool, bool) {
    (
        e.eligible,
        e.reason,
        e.activation_deadline.is_some(),
        e.deadline_passed,
    )
}

fn assert_presentation_limit(status: &Status) {
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(reason(status), "PRESENTATION_LIMIT");
    let delay = status
        .get_details_retry_info()
        .and_then(|r| r.retry_delay)
        .expect("a retry delay");
    assert!(
        delay > Duration::ZERO && delay <= Duration::from_secs(600),
        "{delay:?}"
    );
}

#[tokio::test]
async fn a_scan_of_sequential_card_numbers_is_refused_leaves_no_visit_and_trips_the_limit() {
    let mut w = world().await;
    let mut holders = Vec::new();
    for name in ["扫一", "扫二", "扫三"] {
        holders.push(w.holder(name).await);
    }
    let pharmacy = "pharmacy:P-001";
    // What a number that does not exist gets.
    let nobody = CardNumber::from_sequence(9_000).unwrap();
    let unknown = w
        .check(pharmacy, nobody.as_str(), &forged_code(0))
        .await
        .unwrap();
    assert_eq!(unknown.reason, EligibilityReason::CardUnknown as i32);
    let mut failures = 1;

    // The scan: sequential numbers (the three real cards among them),
    // alternately without a code and with a code that is not theirs.
    let mut n = 0;
    while failures < limit() {
        let number = CardNumber::from_sequence(n).unwrap();
        let code = if n % 2 == 0 {
            String::new()
        } else {
            // Another real card's code, or a forged one.
            holders
                .iter()
                .map(|(_, c)| c)
                .find(|c| c.card_number != number.as_str())
                .map(|c| c.card_identification_code.clone())
                .filter(|_| n % 4 == 1)
                .unwrap_or_else(|| forged_code(n))
        };
        let answer = w.check(pharmacy, number.as_str(), &code).await.unwrap();
        assert_eq!(
            seen(&answer),
            seen(&unknown),
            "card {n} answered differently"
        );
        failures += 1;
        n += 1;
    }
    assert!(
        n as usize > holders.len(),
        "the scan passed every real card"
    );

    // Over the limit: refused, whatever is presented — the right code too.
    let (_, first) = &holders[0];
    let status = w
        .check(
            pharmacy,
            &first.card_number,
            &first.card_identification_code,
        )
        .await
        .unwrap_err();
    assert_presentation_limit(&status);
    let status = w
        .activation
        .activate_at_pharmacy(as_caller(
            pharmacy,
            pb::ActivateAtPharmacyRequest {
                request_id: "after-the-scan".into(),
                operator_id: "POS".into(),
                legacy_card_number: "YB0000001".into(),
                card_number: first.card_number.clone(),
                card_identification_code: first.card_identification_code.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_presentation_limit(&status);

    // No visit in any holder's trail; each holder's number tried with a
    // wrong or missing code shows as a failed attempt.
    for (person, _) in &holders {
        let (visits, failed) = w.trail(person).await;
        assert_eq!(visits, 0, "a scan wrote a visit");
        assert!(
            failed >= 1,
            "the attempt on the holder's card is not recorded"
        );
    }

    // The limit is the scanner's: a hospital presenting the card properly
    // is answered, and that is a visit.
    let real = w
        .check(
            "hospital:H-001",
            &first.card_number,
            &first.card_identification_code,
        )
        .await
        .unwrap();
    assert_eq!(real.reason, EligibilityReason::CardNotActivated as i32);
    assert_eq!(w.trail(&holders[0].0).await.0, 1);
}

#[tokio::test]
async fn activating_with_a_wrong_or_missing_code_is_answered_as_an_unknown_card_and_activates_nothing()
 {
    let mut w = world().await;
    let (person, card) = w.holder("探一").await;
    let (_, other) = w.holder("探二").await;
    let nobody = CardNumber::from_sequence(9_000).unwrap();
    let not_found = |status: Status| {
        assert_eq!(status.code(), Code::NotFound, "{status:?}");
        assert_eq!(reason(&status), "CARD_NOT_FOUND");
        assert_eq!(
            status.message(),
            "no card with this number and identification code"
        );
    };

    // The bank outlet: the right ID number does not make up for the code,
    // and no other detail (the card's bank, its holder) is told first.
    for (i, (number, code)) in [
        (card.card_number.as_str(), ""),
        (
            card.card_number.as_str(),
            other.card_identification_code.as_str(),
        ),
        (nobody.as_str(), card.card_identification_code.as_str()),
    ]
    .into_iter()
    .enumerate()
    {
        let status = w
            .activation
            .activate_at_bank_outlet(as_caller(
                "bank_outlet:ICBC-0101",
                pb::ActivateAtBankOutletRequest {
                    request_id: format!("o-{i}"),
                    operator_id: "T".into(),
                    card_number: number.into(),
                    id_number: person.id_number.clone(),
                    card_identification_code: code.into(),
                },
            ))
            .await
            .unwrap_err();
        not_found(status);
        let status = w
            .activation
            .activate_at_pharmacy(as_caller(
                "pharmacy:P-001",
                pb::ActivateAtPharmacyRequest {
                    request_id: format!("p-{i}"),
                    operator_id: "POS".into(),
                    legacy_card_number: "YB0000001".into(),
                    card_number: number.into(),
                    card_identification_code: code.into(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap_err();
        not_found(status);
    }

    // A hospital scanning with forged codes: not found, then the limit.
    let hospital = |i: usize, number: &str, code: &str| {
        as_caller(
            "hospital:H-001",
            pb::ActivateAtHospitalRequest {
                request_id: format!("h-{i}"),
                operator_id: "DESK".into(),
                card_number: number.into(),
                card_identification_code: code.into(),
                visit_type: pb::VisitType::Outpatient as i32,
                ..Default::default()
            },
        )
    };
    for i in 0..limit() {
        let number = CardNumber::from_sequence(i as u64).unwrap();
        let status = w
            .activation
            .activate_at_hospital(hospital(i, number.as_str(), &forged_code(i as u64)))
            .await
            .unwrap_err();
        not_found(status);
    }
    let status = w
        .activation
        .activate_at_hospital(hospital(
            99,
            &card.card_number,
            &card.card_identification_code,
        ))
        .await
        .unwrap_err();
    assert_presentation_limit(&status);

    for c in [&card, &other] {
        let state = journeys::projected(&mut w.activation, &c.card_number, "RECEIVED").await;
        assert!(state.activation.is_none(), "a card was activated");
    }
}

#[tokio::test]
async fn the_right_code_works_on_every_channel_and_a_failed_holder_check_is_a_failed_attempt() {
    let mut w = world().await;
    let (at_outlet, outlet_card) = w.holder("正一").await;
    let (_, hospital_card) = w.holder("正二").await;
    let (at_pharmacy, pharmacy_card) = w.holder("正三").await;
    let (by_phone, phone_card) = w.holder("正四").await;
    let (at_bank, bank_card) = w.holder("正五").await;

    let activated = |answer: Result<tonic::Response<pb::Activation>, Status>,
                     channel: pb::Channel| {
        let activation = answer.expect("activated").into_inner();
        assert_eq!(activation.channel, channel as i32);
    };
    activated(
        w.activation
            .activate_at_bank_outlet(as_caller(
                "bank_outlet:ICBC-0101",
                pb::ActivateAtBankOutletRequest {
                    request_id: "o".into(),
                    operator_id: "T".into(),
                    card_number: outlet_card.card_number.clone(),
                    id_number: at_outlet.id_number.clone(),
                    card_identification_code: outlet_card.card_identification_code.clone(),
                },
            ))
            .await,
        pb::Channel::BankOutlet,
    );
    activated(
        w.activation
            .activate_at_hospital(as_caller(
                "hospital:H-001",
                pb::ActivateAtHospitalRequest {
                    request_id: "h".into(),
                    operator_id: "DESK".into(),
                    card_number: hospital_card.card_number.clone(),
                    card_identification_code: hospital_card.card_identification_code.clone(),
                    visit_type: pb::VisitType::Inpatient as i32,
                    ..Default::default()
                },
            ))
            .await,
        pb::Channel::Hospital,
    );
    journeys::register_legacy_card(&mut w.cards, &at_pharmacy, "YB0000077").await;
    let pharmacy = system_tests::eventually(
        "the old card at activation",
        Duration::from_secs(10),
        async || {
            let answer = w
                .activation
                .activate_at_pharmacy(as_caller(
                    "pharmacy:P-001",
                    pb::ActivateAtPharmacyRequest {
                        request_id: "p".into(),
                        operator_id: "POS".into(),
                        legacy_card_number: "YB0000077".into(),
                        card_number: pharmacy_card.card_number.clone(),
                        card_identification_code: pharmacy_card.card_identification_code.clone(),
                        ..Default::default()
                    },
                ))
                .await;
            match answer {
                Err(s) if reason(&s) == "LEGACY_CARD_NOT_FOUND" => None,
                answered => Some(answered),
            }
        },
    )
    .await;
    activated(pharmacy, pb::Channel::Pharmacy);

    // By phone no card is read: the holder's ID number and name instead.
    // A wrong name is a failed attempt in the holder's trail.
    let hotline = |request_id: &str, name: &str| {
        as_caller(
            "hotline_center:HL-12333",
            pb::ActivateByHotlineRequest {
                request_id: request_id.into(),
                agent_id: "AGENT".into(),
                id_number: by_phone.id_number.clone(),
                name: name.into(),
                card_number: phone_card.card_number.clone(),
            },
        )
    };
    let status = w
        .activation
        .activate_by_hotline(hotline("t-1", "别人"))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "HOLDER_MISMATCH");
    assert_eq!(w.trail(&by_phone).await.1, 1);
    activated(
        w.activation
            .activate_by_hotline(hotline("t-2", "正四"))
            .await,
        pb::Channel::Hotline,
    );
    activated(
        w.activation
            .activate_with_financial_function(as_caller(
                "bank:ICBC",
                pb::ActivateWithFinancialFunctionRequest {
                    request_id: "f".into(),
                    serial_number: bank_card.serial_number.clone(),
                    id_number: at_bank.id_number.clone(),
                    bank_card_number: bank_card.bank_card_number.clone(),
                },
            ))
            .await,
        pb::Channel::FinancialFunction,
    );

    // Eligibility with the right code, at a hospital and at a pharmacy: a
    // visit each, no failed attempt.
    for caller in ["hospital:H-001", "pharmacy:P-001"] {
        let e = w
            .check(
                caller,
                &hospital_card.card_number,
                &hospital_card.card_identification_code,
            )
            .await
            .unwrap();
        assert!(e.eligible, "{e:?}");
    }
    let hospital_holder =
        journeys::projected(&mut w.activation, &hospital_card.card_number, "RECEIVED")
            .await
            .person_id;
    let records = audit_trail(&w.system.activation, &hospital_holder).await;
    assert_eq!(
        records
            .iter()
            .filter(|r| r.action == "CheckEligibility" && r.access == "READ")
            .count(),
        2
    );
    assert!(records.iter().all(|r| r.access != "FAILED_ATTEMPT"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_projection_stale_the_code_is_checked_against_card_issuance() {
    use sqlx::Connection;
    let mut w = world().await;
    let (holder, card) = w.holder("旧一").await;
    // Cut the projector off: the row its every batch (heartbeats included)
    // must write is held locked by another session.
    let mut locker = sqlx::PgConnection::connect(&w.system.database_url)
        .await
        .unwrap();
    sqlx::query("BEGIN").execute(&mut locker).await.unwrap();
    sqlx::query(
        "SELECT 1 FROM activation.projection_cursors WHERE stream = 'card-issuance' FOR UPDATE",
    )
    .execute(&mut locker)
    .await
    .unwrap();
    let from_card_issuance = pb::CardStateSource::CardIssuance as i32;
    // The hospital, with the right code, until card-issuance answers.
    system_tests::eventually(
        "the stale projection bypassed",
        Duration::from_secs(10),
        async || {
            let e = w
                .check(
                    "hospital:H-001",
                    &card.card_number,
                    &card.card_identification_code,
                )
                .await
                .unwrap();
            (e.source == from_card_issuance).then_some(())
        },
    )
    .await;

    let nobody = CardNumber::from_sequence(9_000).unwrap();
    let unknown = w
        .check("pharmacy:P-001", nobody.as_str(), &forged_code(1))
        .await
        .unwrap();
    for code in [String::new(), forged_code(2)] {
        let e = w
            .check("pharmacy:P-001", &card.card_number, &code)
            .await
            .unwrap();
        assert_eq!(e.reason, EligibilityReason::CardUnknown as i32);
        assert_eq!(seen(&e), seen(&unknown));
    }
    let visits_by_pharmacy = audit_trail(&w.system.activation, &holder.person_id)
        .await
        .iter()
        .filter(|r| r.access == "READ" && r.actor.starts_with("pharmacy"))
        .count();
    assert_eq!(visits_by_pharmacy, 0);
    let e = w
        .check(
            "pharmacy:P-001",
            &card.card_number,
            &card.card_identification_code,
        )
        .await
        .unwrap();
    assert_eq!(e.reason, EligibilityReason::CardNotActivated as i32);
    sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();
}

/// The limit cannot be outrun by sending a burst of wrong presentations at
/// once (issue 24): each presentation in flight counts against the caller
/// until it ends, so at most the limit of them are judged; the others are
/// refused `PRESENTATION_LIMIT` (or, past the service's share for one
/// caller, `CALLER_OVER_SHARE`) before anything of the card is read.
#[tokio::test]
async fn a_burst_of_wrong_presentations_sent_at_once_is_judged_at_most_up_to_the_limit() {
    let mut w = world().await;
    let burst = 100;
    let answers = futures::future::join_all((0..burst).map(|n| {
        let mut activation = w.activation.clone();
        async move {
            let number = CardNumber::from_sequence(5_000 + n).unwrap();
            activation
                .check_eligibility(as_caller(
                    "hospital:H-002",
                    pb::CheckEligibilityRequest {
                        card: Some(Card::SocialSecurityCard(pb::CardPresented {
                            card_number: number.as_str().into(),
                            card_identification_code: forged_code(n),
                        })),
                    },
                ))
                .await
        }
    }))
    .await;
    let mut judged = 0;
    for answer in &answers {
        match answer {
            Ok(e) => {
                assert_eq!(e.get_ref().reason, EligibilityReason::CardUnknown as i32);
                judged += 1;
            }
            Err(status) if reason(status) == "PRESENTATION_LIMIT" => {
                assert_presentation_limit(status)
            }
            Err(status) => {
                assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
                assert_eq!(reason(status), "CALLER_OVER_SHARE");
            }
        }
    }
    assert!(judged >= 1, "the burst was judged at all");
    assert!(
        judged <= limit(),
        "{judged} of {burst} judged at once; the limit is {}",
        limit()
    );
    // And the limit holds afterwards, sequentially as before.
    let status = w
        .check("hospital:H-002", "X00000019", &forged_code(0))
        .await;
    if judged == limit() {
        assert_presentation_limit(&status.unwrap_err());
    }
}

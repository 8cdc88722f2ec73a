//! The card-issuance service over gRPC, with identity really running.

use std::{collections::HashSet, time::Duration};

use futures::StreamExt;
use pii::{BankCardNumber, CardIdentificationCode, CardNumber, SerialNumber};
use socsec_proto::{
    card::v1::{self as pb, card_event::Event},
    common::v1::{EventCursor, PartnerKind},
};
use sqlx::{Connection, PgConnection};
use system_tests::{
    System, as_caller, bad_fields, ids,
    journeys::{self, BANK_BIN, Cards},
    logs, operator, reason,
};
use tonic::Code;

async fn system_with_bank() -> System {
    let system = System::start().await;
    let mut identity = system.identity_client().await;
    journeys::register_partner(&mut identity, "ICBC", PartnerKind::Bank, "").await;
    journeys::register_partner(&mut identity, "CCB", PartnerKind::Bank, "").await;
    journeys::register_partner(&mut identity, "H-001", PartnerKind::Hospital, "").await;
    system
}

fn apply_request(request_id: &str, person_id: &str, bank: &str) -> pb::ApplyForCardRequest {
    pb::ApplyForCardRequest {
        request_id: request_id.into(),
        person_id: person_id.into(),
        bank_code: bank.into(),
        issuing_region_code: String::new(),
    }
}

#[tokio::test]
async fn a_card_is_applied_for_only_once_basic_information_is_confirmed() {
    let system = system_with_bank().await;
    let mut identity = system.identity_client().await;
    let mut cards = system.card_client().await;
    let person = journeys::register(&mut identity, "王强").await;

    let status = cards
        .apply_for_card(operator(apply_request("a-1", &person.person_id, "ICBC")))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(reason(&status), "BASIC_INFO_NOT_CONFIRMED");

    let person = journeys::confirm(&mut identity, &person).await;
    let application = journeys::apply(&mut cards, &person, "ICBC").await;
    assert_eq!(application.status, pb::ApplicationStatus::Pending as i32);
    assert_eq!(application.issuing_region_code, person.region_code);

    let card = journeys::issue(&mut cards, &application).await;
    assert_eq!(card.status, pb::CardStatus::Issued as i32);
    assert_eq!(card.person_id, person.person_id);
    assert_eq!(card.generation, 3);
    assert_eq!(card.bank_code, "ICBC");
    CardNumber::parse(&card.card_number).unwrap();
    let code = CardIdentificationCode::parse(&card.card_identification_code).unwrap();
    assert_eq!(code.region_code(), person.region_code);
    SerialNumber::parse(&card.serial_number).unwrap();
    let bank_card = BankCardNumber::parse(&card.bank_card_number).unwrap();
    assert!(card.bank_card_number.starts_with(BANK_BIN));
    assert_eq!(card.masked_bank_card_number, bank_card.masked());

    let received = journeys::receive(&mut cards, &card).await;
    assert_eq!(received.status, pb::CardStatus::Received as i32);
    assert!(received.received_at.is_some());

    let listed = cards
        .list_person_cards(operator(pb::ListPersonCardsRequest {
            person_id: person.person_id.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .cards;
    assert_eq!(listed.len(), 1);
    let history: Vec<i32> = listed[0].history.iter().map(|h| h.status).collect();
    assert_eq!(
        history,
        [
            pb::CardStatus::Issued as i32,
            pb::CardStatus::Received as i32
        ]
    );

    // Issuing the same application again is refused; a retry is answered.
    let retry = journeys::issue(&mut cards, &application).await;
    assert_eq!(retry.card_number, card.card_number);
    let status = cards
        .issue_card(operator(pb::IssueCardRequest {
            request_id: "issue-again".into(),
            application_id: application.application_id.clone(),
            generation: 3,
            bank_card_number: String::new(),
            bank_bin: BANK_BIN.into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "APPLICATION_ALREADY_ISSUED");
}

#[tokio::test]
async fn the_bank_must_be_a_cooperating_bank() {
    let system = system_with_bank().await;
    let mut identity = system.identity_client().await;
    let mut cards = system.card_client().await;
    let person = journeys::confirmed_person(&mut identity, "赵丽").await;

    let status = cards
        .apply_for_card(operator(apply_request("b-1", &person.person_id, "H-001")))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "BANK_NOT_COOPERATING");
    let status = cards
        .apply_for_card(operator(apply_request("b-2", &person.person_id, "NOBANK")))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(reason(&status), "BANK_NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_applications_for_one_person_make_one_application() {
    let system = system_with_bank().await;
    let mut identity = system.identity_client().await;
    let cards = system.card_client().await;
    let person = journeys::confirmed_person(&mut identity, "钱坤").await;

    let calls = (0..12).map(|i| {
        let mut cards = cards.clone();
        let request = apply_request(&format!("c-{i}"), &person.person_id, "ICBC");
        tokio::spawn(async move { cards.apply_for_card(operator(request)).await })
    });
    let outcomes: Vec<_> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let accepted = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(accepted, 1, "{outcomes:?}");
    for refused in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert_eq!(reason(refused), "APPLICATION_ALREADY_PENDING");
    }
}

#[tokio::test]
async fn malformed_identifiers_name_their_field() {
    let system = system_with_bank().await;
    let mut cards = system.card_client().await;

    let status = cards
        .record_receipt(operator(pb::RecordReceiptRequest {
            request_id: "r-1".into(),
            card_number: "X00000018".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(
        bad_fields(&status),
        vec![("card_number".into(), "CARD_NUMBER_CHECK_DIGIT".into())]
    );

    let status = cards
        .issue_card(operator(pb::IssueCardRequest {
            request_id: "i-1".into(),
            application_id: "not-a-uuid".into(),
            generation: 4,
            bank_card_number: "6222021234567890127".into(),
            bank_bin: String::new(),
        }))
        .await
        .unwrap_err();
    assert_eq!(
        bad_fields(&status),
        vec![
            ("application_id".into(), "ID_INVALID".into()),
            ("generation".into(), "GENERATION_INVALID".into()),
            (
                "bank_card_number".into(),
                "BANK_CARD_NUMBER_CHECK_DIGIT".into()
            ),
        ]
    );

    for (key, field, expected) in [
        (
            pb::get_card_request::Key::CardIdentificationCode(
                "110100D156000006ABCDEF0123456789".into(),
            ),
            "card_identification_code",
            "CARD_IDENTIFICATION_CODE_FORMAT",
        ),
        (
            pb::get_card_request::Key::SerialNumber("12345".into()),
            "serial_number",
            "SERIAL_NUMBER_FORMAT",
        ),
    ] {
        let status = cards
            .get_card(operator(pb::GetCardRequest { key: Some(key) }))
            .await
            .unwrap_err();
        assert_eq!(bad_fields(&status), vec![(field.into(), expected.into())]);
    }
}

#[tokio::test]
async fn a_lost_card_is_replaced_and_can_no_longer_be_used() {
    let system = system_with_bank().await;
    let mut identity = system.identity_client().await;
    let mut cards = system.card_client().await;
    let (person, card) =
        journeys::person_with_received_card(&mut identity, &mut cards, "孙悟", "ICBC").await;

    let lost = cards
        .report_loss(operator(pb::ReportLossRequest {
            request_id: "loss-1".into(),
            card_number: card.card_number.clone(),
            reason: "lost on the bus".into(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(lost.status, pb::CardStatus::Lost as i32);

    let status = cards
        .record_receipt(operator(pb::RecordReceiptRequest {
            request_id: "r-lost".into(),
            card_number: card.card_number.clone(),
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(reason(&status), "CARD_STATE_LOST");

    let new = cards
        .replace_card(operator(pb::ReplaceCardRequest {
            request_id: "replace-1".into(),
            card_number: card.card_number.clone(),
            reason: "lost".into(),
            generation: 3,
            bank_card_number: String::new(),
            bank_bin: BANK_BIN.into(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(new.card_number, card.card_number);
    assert_eq!(new.replaces_card_number, card.card_number);
    assert_eq!(new.status, pb::CardStatus::Issued as i32);
    assert_eq!(new.person_id, person.person_id);

    let old = cards
        .get_card(operator(pb::GetCardRequest {
            key: Some(pb::get_card_request::Key::CardNumber(
                card.card_number.clone(),
            )),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(old.status, pb::CardStatus::Replaced as i32);
    assert_eq!(old.replaced_by_card_number, new.card_number);
    let history: Vec<i32> = old.history.iter().map(|h| h.status).collect();
    assert_eq!(
        history,
        [
            pb::CardStatus::Issued,
            pb::CardStatus::Received,
            pb::CardStatus::Lost,
            pb::CardStatus::Replaced
        ]
        .map(|s| s as i32)
    );
    assert_eq!(old.history[2].reason, "lost on the bus");

    for change in ["loss", "replace", "cancel"] {
        let status = match change {
            "loss" => {
                cards
                    .report_loss(operator(pb::ReportLossRequest {
                        request_id: "l-2".into(),
                        card_number: card.card_number.clone(),
                        reason: String::new(),
                    }))
                    .await
            }
            "replace" => {
                cards
                    .replace_card(operator(pb::ReplaceCardRequest {
                        request_id: "rp-2".into(),
                        card_number: card.card_number.clone(),
                        reason: "again".into(),
                        generation: 3,
                        bank_card_number: String::new(),
                        bank_bin: BANK_BIN.into(),
                    }))
                    .await
            }
            _ => {
                cards
                    .cancel_card(operator(pb::CancelCardRequest {
                        request_id: "c-2".into(),
                        card_number: card.card_number.clone(),
                        reason: "again".into(),
                    }))
                    .await
            }
        }
        .unwrap_err();
        assert_eq!(reason(&status), "CARD_STATE_REPLACED", "{change}");
    }

    // The person now has two cards; the new one is usable, so a new
    // application is refused.
    let listed = cards
        .list_person_cards(operator(pb::ListPersonCardsRequest {
            person_id: person.person_id.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .cards;
    assert_eq!(listed.len(), 2);
    let status = cards
        .apply_for_card(operator(apply_request("again", &person.person_id, "ICBC")))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "PERSON_ALREADY_HAS_CARD");
}

#[tokio::test]
async fn a_cancelled_card_stays_cancelled() {
    let system = system_with_bank().await;
    let mut identity = system.identity_client().await;
    let mut cards = system.card_client().await;
    let (_, card) =
        journeys::person_with_received_card(&mut identity, &mut cards, "周芷", "ICBC").await;
    let cancelled = cards
        .cancel_card(operator(pb::CancelCardRequest {
            request_id: "cx".into(),
            card_number: card.card_number.clone(),
            reason: "holder deceased".into(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cancelled.status, pb::CardStatus::Cancelled as i32);
    let status = cards
        .replace_card(operator(pb::ReplaceCardRequest {
            request_id: "rx".into(),
            card_number: card.card_number.clone(),
            reason: "x".into(),
            generation: 3,
            bank_card_number: String::new(),
            bank_bin: BANK_BIN.into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "CARD_STATE_CANCELLED");
}

#[tokio::test]
async fn a_bank_sees_only_cards_carrying_its_own_financial_function() {
    let system = system_with_bank().await;
    let mut identity = system.identity_client().await;
    let mut cards = system.card_client().await;
    let (_, card) =
        journeys::person_with_received_card(&mut identity, &mut cards, "吴用", "ICBC").await;
    let key = || pb::GetCardRequest {
        key: Some(pb::get_card_request::Key::SerialNumber(
            card.serial_number.clone(),
        )),
    };

    let seen = cards
        .get_card(as_caller("bank:ICBC", key()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(seen.card_number, card.card_number);
    let status = cards
        .get_card(as_caller("bank:CCB", key()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(reason(&status), "CARD_OF_ANOTHER_BANK");
    let status = cards
        .get_card(as_caller("hospital:H-001", key()))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "CALLER_KIND_NOT_ALLOWED");
    let status = cards
        .issue_card(as_caller("bank:ICBC", pb::IssueCardRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "CALLER_KIND_NOT_ALLOWED");
}

#[tokio::test]
async fn old_medical_insurance_cards_are_registered_and_retired_once() {
    let system = system_with_bank().await;
    let mut identity = system.identity_client().await;
    let mut cards = system.card_client().await;
    let (person, card) =
        journeys::person_with_received_card(&mut identity, &mut cards, "郑和", "ICBC").await;
    let (_, other_card) =
        journeys::person_with_received_card(&mut identity, &mut cards, "郑成", "ICBC").await;

    let legacy = cards
        .register_legacy_medical_card(operator(pb::RegisterLegacyMedicalCardRequest {
            request_id: "lg-1".into(),
            card_number: "YB1100012345".into(),
            person_id: person.person_id.clone(),
            region_code: "110000".into(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(legacy.status, pb::LegacyCardStatus::Active as i32);

    let retire = |request_id: &str, by: &str| pb::RetireLegacyMedicalCardRequest {
        request_id: request_id.into(),
        card_number: "YB1100012345".into(),
        replaced_by_card_number: by.into(),
    };
    let status = cards
        .retire_legacy_medical_card(as_caller(
            "service:activation",
            retire("rt-0", &other_card.card_number),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "LEGACY_CARD_OF_ANOTHER_PERSON");
    let retired = cards
        .retire_legacy_medical_card(as_caller(
            "service:activation",
            retire("rt-1", &card.card_number),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(retired.status, pb::LegacyCardStatus::Retired as i32);
    let status = cards
        .retire_legacy_medical_card(as_caller(
            "service:activation",
            retire("rt-2", &card.card_number),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "LEGACY_CARD_RETIRED");

    let status = cards
        .register_legacy_medical_card(operator(pb::RegisterLegacyMedicalCardRequest {
            request_id: "lg-2".into(),
            card_number: "YB1100012345".into(),
            person_id: person.person_id.clone(),
            region_code: "110000".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "LEGACY_CARD_ALREADY_REGISTERED");
}

async fn next_event(stream: &mut tonic::Streaming<pb::CardEvent>) -> pb::CardEvent {
    tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("an event within 5 s")
        .expect("stream open")
        .expect("event")
}

#[tokio::test]
async fn card_events_arrive_in_order_and_resume_from_a_cursor() {
    let system = system_with_bank().await;
    let mut identity = system.identity_client().await;
    let mut cards = system.card_client().await;
    let (_, card) =
        journeys::person_with_received_card(&mut identity, &mut cards, "冯唐", "ICBC").await;

    let watch = |after: &str| {
        as_caller(
            "service:activation",
            pb::WatchCardEventsRequest {
                after: Some(EventCursor {
                    cursor: after.into(),
                }),
                heartbeats: false,
            },
        )
    };
    let mut stream = cards
        .watch_card_events(watch(""))
        .await
        .unwrap()
        .into_inner();
    let issued = next_event(&mut stream).await;
    let received = next_event(&mut stream).await;
    assert!(
        matches!(&issued.event, Some(Event::CardIssued(c)) if c.card_number == card.card_number && c.bank_card_number == card.bank_card_number)
    );
    assert!(
        matches!(&received.event, Some(Event::CardStatusChanged(c)) if c.status == pb::CardStatus::Received as i32 && c.received_at.is_some())
    );
    drop(stream);

    cards
        .report_loss(operator(pb::ReportLossRequest {
            request_id: "ev-l".into(),
            card_number: card.card_number.clone(),
            reason: String::new(),
        }))
        .await
        .unwrap();
    let new = cards
        .replace_card(operator(pb::ReplaceCardRequest {
            request_id: "ev-r".into(),
            card_number: card.card_number.clone(),
            reason: "lost".into(),
            generation: 3,
            bank_card_number: String::new(),
            bank_bin: BANK_BIN.into(),
        }))
        .await
        .unwrap()
        .into_inner();

    let mut resumed = cards
        .watch_card_events(watch(&received.cursor))
        .await
        .unwrap()
        .into_inner();
    let lost = next_event(&mut resumed).await;
    let new_issued = next_event(&mut resumed).await;
    let replaced = next_event(&mut resumed).await;
    assert!(
        matches!(&lost.event, Some(Event::CardStatusChanged(c)) if c.status == pb::CardStatus::Lost as i32)
    );
    assert!(
        matches!(&new_issued.event, Some(Event::CardIssued(c)) if c.card_number == new.card_number && c.replaces_card_number == card.card_number)
    );
    assert!(matches!(&replaced.event, Some(Event::CardStatusChanged(c))
        if c.status == pb::CardStatus::Replaced as i32 && c.replaced_by_card_number == new.card_number));
    assert!(
        tokio::time::timeout(Duration::from_millis(1500), resumed.next())
            .await
            .is_err(),
        "nothing more"
    );
}

/// Seeds `count` pending applications of `bank` straight into
/// card-issuance's schema: the batch is what these tests exercise, and
/// 10,000 persons registered, confirmed and applied for over gRPC would
/// take minutes in a debug build. Applying is tested over gRPC above.
async fn seed_pending_applications(system: &System, bank: &str, count: i64) {
    let mut conn = PgConnection::connect(&system.database_url).await.unwrap();
    sqlx::query(
        "INSERT INTO card_issuance.applications
             (application_id, person_id, bank_code, issuing_region_code, status, applied_at, applied_by)
         SELECT gen_random_uuid(), gen_random_uuid(), $1, '110102', 'PENDING',
             now() - make_interval(secs => $2 - n), 'operator:SEED'
         FROM generate_series(1, $2) AS n",
    )
    .bind(bank)
    .bind(count)
    .execute(&mut conn)
    .await
    .unwrap();
}

fn batch(request_id: &str, bank: &str, max_cards: i32) -> pb::IssueCardsRequest {
    pb::IssueCardsRequest {
        request_id: request_id.into(),
        bank_code: bank.into(),
        bank_bin: BANK_BIN.into(),
        generation: 3,
        max_cards,
    }
}

async fn run_batch(
    cards: &mut Cards,
    request: pb::IssueCardsRequest,
) -> Vec<pb::IssueCardsProgress> {
    let mut stream = cards
        .issue_cards(operator(request))
        .await
        .unwrap()
        .into_inner();
    let mut progress = Vec::new();
    while let Some(message) = stream.next().await {
        progress.push(message.unwrap());
    }
    progress
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_cards_are_issued_in_one_request_with_progress_and_unique_identifiers() {
    let system = system_with_bank().await;
    let mut cards = system.card_client().await;
    seed_pending_applications(&system, "ICBC", 10_000).await;

    let progress = run_batch(&mut cards, batch("batch-1", "ICBC", 100_000)).await;
    let counts: Vec<i32> = progress.iter().map(|p| p.issued).collect();
    assert_eq!(
        counts,
        (1..=10)
            .map(|i| i * 1_000)
            .chain([10_000])
            .collect::<Vec<_>>()
    );
    let last = progress.last().unwrap();
    assert!(last.done && last.total == 10_000);
    assert!(progress[..10].iter().all(|p| !p.done));

    // A retry of the batch answers with its outcome and issues nothing more.
    let replay = run_batch(&mut cards, batch("batch-1", "ICBC", 100_000)).await;
    assert_eq!(replay, vec![last.clone()]);

    // Every card issued is on the event stream, each identifier unique and valid.
    let mut events = cards
        .watch_card_events(as_caller(
            "service:activation",
            pb::WatchCardEventsRequest {
                after: None,
                heartbeats: false,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let (mut numbers, mut codes, mut serials, mut bank_cards) = (
        HashSet::new(),
        HashSet::new(),
        HashSet::new(),
        HashSet::new(),
    );
    while numbers.len() < 10_000 {
        let Some(Event::CardIssued(card)) = next_event(&mut events).await.event else {
            panic!("only issued cards expected");
        };
        CardNumber::parse(&card.card_number).unwrap();
        CardIdentificationCode::parse(&card.card_identification_code).unwrap();
        SerialNumber::parse(&card.serial_number).unwrap();
        BankCardNumber::parse(&card.bank_card_number).unwrap();
        assert!(numbers.insert(card.card_number));
        assert!(codes.insert(card.card_identification_code));
        assert!(serials.insert(card.serial_number));
        assert!(bank_cards.insert(card.bank_card_number));
    }
    assert_eq!(numbers.iter().min().unwrap(), &last.first_card_number);
    assert_eq!(numbers.iter().max().unwrap(), &last.last_card_number);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_abandoned_mid_way_issues_nothing() {
    let system = system_with_bank().await;
    let mut cards = system.card_client().await;
    seed_pending_applications(&system, "CCB", 3_000).await;

    let mut stream = cards
        .issue_cards(operator(batch("abandoned", "CCB", 3_000)))
        .await
        .unwrap()
        .into_inner();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.issued, 1_000);
    drop(stream);
    // The abandoned batch's transaction ends (rolled back) once the service
    // notices the caller left: then all 3,000 applications are pending and
    // none is locked, so the next batch skips none of them.
    let mut conn = PgConnection::connect(&system.database_url).await.unwrap();
    system_tests::eventually(
        "the abandoned batch to release its applications",
        Duration::from_secs(10),
        async || {
            let free: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM (
                     SELECT 1 FROM card_issuance.applications
                     WHERE bank_code = 'CCB' AND status = 'PENDING'
                     FOR UPDATE SKIP LOCKED) AS free",
            )
            .fetch_one(&mut conn)
            .await
            .ok()?;
            (free == 3_000).then_some(())
        },
    )
    .await;

    // Every application is still pending: a new batch issues all of them.
    let progress = run_batch(&mut cards, batch("second", "CCB", 3_000)).await;
    let last = progress.last().unwrap();
    assert!(last.done);
    assert_eq!((last.issued, last.total), (3_000, 3_000));
}

#[tokio::test]
async fn identity_being_down_is_reported_as_unavailable() {
    let system = system_with_bank().await;
    let mut config =
        system_tests::card_config(&system.database_url, "127.0.0.1:9".parse().unwrap());
    config.call_deadline_ms = 500;
    let cards_alone =
        system_tests::spawn_cards_with(config, std::sync::Arc::new(system.clock.clone())).await;
    let mut cards = pb::card_service_client::CardServiceClient::new(cards_alone.channel().await);
    let status = cards
        .apply_for_card(operator(apply_request("down-1", &uuid_like(), "ICBC")))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(reason(&status), "IDENTITY_UNAVAILABLE");
}

fn uuid_like() -> String {
    "0190f2c4-0000-7000-8000-000000000001".into()
}

#[tokio::test]
async fn a_card_in_a_state_the_service_does_not_know_is_an_error_not_a_guess() {
    let system = system_with_bank().await;
    let mut identity = system.identity_client().await;
    let mut cards = system.card_client().await;
    let (_, card) =
        journeys::person_with_received_card(&mut identity, &mut cards, "韩信", "ICBC").await;

    // A state no version of this service writes (the CHECK is lifted so the
    // row can hold it): it must not be read as some state it is not.
    let mut conn = PgConnection::connect(&system.database_url).await.unwrap();
    sqlx::query("ALTER TABLE card_issuance.cards DROP CONSTRAINT cards_status_check")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("UPDATE card_issuance.cards SET status = 'MISLAID' WHERE card_number = $1")
        .bind(&card.card_number)
        .execute(&mut conn)
        .await
        .unwrap();

    let status = cards
        .get_card(operator(pb::GetCardRequest {
            key: Some(pb::get_card_request::Key::CardNumber(
                card.card_number.clone(),
            )),
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Internal);
    assert_eq!(reason(&status), "INTERNAL");
    let status = cards
        .cancel_card(operator(pb::CancelCardRequest {
            request_id: "cancel-mislaid".into(),
            card_number: card.card_number.clone(),
            reason: "holder moved away".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Internal);
}

#[tokio::test]
async fn every_change_is_audited_under_its_rpc_and_request_id() {
    let system = system_with_bank().await;
    let mut identity = system.identity_client().await;
    let mut cards = system.card_client().await;
    let (person, card) =
        journeys::person_with_received_card(&mut identity, &mut cards, "萧何", "ICBC").await;
    cards
        .report_loss(operator(pb::ReportLossRequest {
            request_id: "audit-loss".into(),
            card_number: card.card_number.clone(),
            reason: String::new(),
        }))
        .await
        .unwrap();
    cards
        .replace_card(operator(pb::ReplaceCardRequest {
            request_id: "audit-replace".into(),
            card_number: card.card_number.clone(),
            reason: "lost".into(),
            generation: 3,
            bank_card_number: String::new(),
            bank_bin: BANK_BIN.into(),
        }))
        .await
        .unwrap();

    let changes: Vec<(String, String)> =
        system_tests::audit_trail(&system.cards, &person.person_id)
            .await
            .into_iter()
            .filter(|r| r.access == "CHANGE")
            .map(|r| (r.action, r.request_id))
            .collect();
    for (action, request_id) in [
        ("ApplyForCard", format!("apply-{}", person.person_id)),
        ("RecordReceipt", format!("receive-{}", card.card_number)),
        ("ReportLoss", "audit-loss".to_owned()),
        ("ReplaceCard", "audit-replace".to_owned()),
    ] {
        let entries = changes
            .iter()
            .filter(|(a, r)| a == action && *r == request_id)
            .count();
        assert_eq!(entries, 1, "{action} {request_id}: {changes:?}");
    }
    assert_eq!(
        changes.iter().filter(|(a, _)| a == "IssueCard").count(),
        1,
        "{changes:?}"
    );

    // A batch audits one change per person whose card it made.
    seed_pending_applications(&system, "CCB", 3).await;
    run_batch(&mut cards, batch("audit-batch", "CCB", 10)).await;
    let mut conn = PgConnection::connect(&system.database_url).await.unwrap();
    let (entries, persons): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT subject_id) FROM card_issuance.audit_log
         WHERE action = 'IssueCards' AND access = 'CHANGE' AND request_id = 'audit-batch'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!((entries, persons), (3, 3));
}

#[tokio::test]
async fn an_old_card_number_that_is_an_id_number_is_never_logged_in_full() {
    let system = system_with_bank().await;
    let mut identity = system.identity_client().await;
    let mut cards = system.card_client().await;
    let (person, card) =
        journeys::person_with_received_card(&mut identity, &mut cards, "曹参", "ICBC").await;
    let (_, other) =
        journeys::person_with_received_card(&mut identity, &mut cards, "陈平", "ICBC").await;
    let number = system_tests::ids::id_number(true);

    cards
        .register_legacy_medical_card(operator(pb::RegisterLegacyMedicalCardRequest {
            request_id: "legacy-id-number".into(),
            card_number: number.clone(),
            person_id: person.person_id.clone(),
            region_code: person.region_code.clone(),
        }))
        .await
        .unwrap();
    let retire = |request_id: &str, by: &str| {
        as_caller(
            "service:activation",
            pb::RetireLegacyMedicalCardRequest {
                request_id: request_id.into(),
                card_number: number.clone(),
                replaced_by_card_number: by.into(),
            },
        )
    };
    let status = cards
        .retire_legacy_medical_card(retire("retire-other", &other.card_number))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "LEGACY_CARD_OF_ANOTHER_PERSON");
    let retired = cards
        .retire_legacy_medical_card(retire("retire-own", &card.card_number))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(retired.status, pb::LegacyCardStatus::Retired as i32);
    cards
        .get_legacy_medical_card(as_caller(
            "service:activation",
            pb::GetLegacyMedicalCardRequest {
                card_number: number.clone(),
            },
        ))
        .await
        .unwrap();

    assert!(
        !system_tests::logs::captured().contains(&number),
        "an old medical card number that is an ID number was logged in full"
    );
}

/// Expected conflicts — a second pending application, a bank card number
/// already linked to a card, an old card number already registered (here an
/// ID number) — are refused as before and leave no personal data in the
/// database server's log: the inserts do not fail on them (a unique
/// violation logs the key in its `DETAIL`).
#[tokio::test]
async fn conflicts_leave_no_personal_data_in_the_database_log() {
    let system = system_with_bank().await;
    let mut identity = system.identity_client().await;
    let mut cards = system.card_client().await;
    let (person, card) =
        journeys::person_with_received_card(&mut identity, &mut cards, "萧何", "ICBC").await;
    let other = journeys::confirmed_person(&mut identity, "韩信").await;
    let application = journeys::apply(&mut cards, &other, "ICBC").await;
    let status = cards
        .apply_for_card(operator(apply_request(
            "apply-again",
            &other.person_id,
            "ICBC",
        )))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "APPLICATION_ALREADY_PENDING");

    let status = cards
        .issue_card(operator(pb::IssueCardRequest {
            request_id: "same-bank-card".into(),
            application_id: application.application_id.clone(),
            generation: 3,
            bank_card_number: card.bank_card_number.clone(),
            bank_bin: String::new(),
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(reason(&status), "BANK_CARD_NUMBER_IN_USE");
    // Nothing of the refused issue stayed: the application can still be issued.
    journeys::issue(&mut cards, &application).await;

    let number = ids::id_number(true);
    let legacy = |request_id: &str, person: &socsec_proto::identity::v1::Person| {
        operator(pb::RegisterLegacyMedicalCardRequest {
            request_id: request_id.into(),
            card_number: number.clone(),
            person_id: person.person_id.clone(),
            region_code: person.region_code.clone(),
        })
    };
    cards
        .register_legacy_medical_card(legacy("legacy-first", &person))
        .await
        .unwrap();
    let status = cards
        .register_legacy_medical_card(legacy("legacy-again", &other))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(reason(&status), "LEGACY_CARD_ALREADY_REGISTERED");

    let found = logs::personal_data_in_database_log(&[
        &number,
        &card.bank_card_number,
        &person.id_number,
        &other.id_number,
    ]);
    assert!(
        found.is_empty(),
        "{} ID numbers, bank card numbers or names in the database server's log",
        found.len()
    );
}

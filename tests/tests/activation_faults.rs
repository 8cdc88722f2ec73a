//! Activation under faults: eligibility fails closed when its projection
//! cannot be shown to be current, two instances share one database, and
//! the relay to card-issuance cannot be poisoned. Real services, real
//! Postgres, generated clients; faults injected from the outside (an open
//! transaction, a locked row, a stopped service, a refused relay entry).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use socsec_proto::{
    activation::v1::{
        self as pb, CardStateSource, EligibilityReason,
        activation_service_client::ActivationServiceClient, check_eligibility_request::Card,
    },
    card::v1::{self as card, card_event::Event as CardEvent},
    common::v1::PartnerKind,
    identity::v1 as identity,
};
use sqlx::{Connection, PgConnection};
use system_tests::{
    System, activation_config, as_caller, fresh_database, ids,
    journeys::{self, Activation, Cards},
    logs, operator, published, reason, spawn_activation_with,
};
use tonic::Code;

/// A loss committed longer ago than this is never answered ELIGIBLE.
const BOUND: Duration = Duration::from_secs(2);

system_tests::world!(World);

const PARTNERS: &[system_tests::world::Partner] = &[
    ("ICBC", PartnerKind::Bank, ""),
    ("ICBC-0101", PartnerKind::BankOutlet, "ICBC"),
    ("H-001", PartnerKind::Hospital, ""),
    ("P-001", PartnerKind::Pharmacy, ""),
];

async fn world() -> World {
    World(system_tests::World::with_partners(PARTNERS, &[]).await)
}

impl World {
    /// A holder whose card was activated at the hospital (so it is eligible).
    async fn eligible_holder(&mut self, name: &str) -> (identity::Person, card::Card) {
        let (person, card) = self.holder(name).await;
        activate_at_hospital(&mut self.activation, "act", &card)
            .await
            .expect("the hospital activates the card");
        let e = eligibility(&mut self.activation, &card).await.unwrap();
        assert!(e.eligible, "{e:?}");
        (person, card)
    }

    async fn report_loss(&mut self, card: &card::Card) {
        self.cards
            .report_loss(operator(card::ReportLossRequest {
                request_id: format!("loss-{}", card.card_number),
                card_number: card.card_number.clone(),
                reason: String::new(),
            }))
            .await
            .expect("the loss is reported");
    }

    /// A connection of the test's own to the system's database.
    async fn sql(&self) -> PgConnection {
        PgConnection::connect(&self.system.database_url)
            .await
            .expect("connect to the test database")
    }
}

async fn activate_at_hospital(
    activation: &mut Activation,
    request_id: &str,
    card: &card::Card,
) -> Result<pb::Activation, tonic::Status> {
    activation
        .activate_at_hospital(as_caller(
            "hospital:H-001",
            pb::ActivateAtHospitalRequest {
                request_id: format!("{request_id}-{}", card.card_number),
                operator_id: "DESK-1".into(),
                card_number: card.card_number.clone(),
                card_identification_code: card.card_identification_code.clone(),
                visit_type: pb::VisitType::Outpatient as i32,
                ..Default::default()
            },
        ))
        .await
        .map(|a| a.into_inner())
}

async fn eligibility(
    activation: &mut Activation,
    card: &card::Card,
) -> Result<pb::Eligibility, tonic::Status> {
    activation
        .check_eligibility(as_caller(
            "hospital:H-001",
            pb::CheckEligibilityRequest {
                card: Some(Card::SocialSecurityCard(pb::CardPresented {
                    card_number: card.card_number.clone(),
                    card_identification_code: card.card_identification_code.clone(),
                })),
            },
        ))
        .await
        .map(|e| e.into_inner())
}

async fn legacy_eligibility(
    activation: &mut Activation,
    number: &str,
) -> Result<pb::Eligibility, tonic::Status> {
    activation
        .check_eligibility(as_caller(
            "pharmacy:P-001",
            pb::CheckEligibilityRequest {
                card: Some(Card::LegacyCardNumber(number.into())),
            },
        ))
        .await
        .map(|e| e.into_inner())
}

fn as_of(e: &pb::Eligibility) -> chrono::DateTime<chrono::Utc> {
    let t = e.data_as_of.expect("every answer says how fresh it is");
    chrono::DateTime::from_timestamp(t.seconds, t.nanos as u32).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_lost_while_a_long_transaction_is_open_is_not_eligible_within_two_seconds() {
    let mut w = world().await;
    let (_, card) = w.eligible_holder("林长").await;

    // An unrelated session opens a transaction and sleeps in it for 60 s.
    let mut blocker = w.sql().await;
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut blocker)
        .await
        .unwrap();
    sqlx::query("BEGIN").execute(&mut blocker).await.unwrap();
    sqlx::query("SELECT txid_current()")
        .execute(&mut blocker)
        .await
        .unwrap();
    let sleeping = tokio::spawn(async move {
        let _ = sqlx::query("SELECT pg_sleep(60)")
            .execute(&mut blocker)
            .await;
    });
    let mut watcher = w.sql().await;
    let open_since: Option<chrono::DateTime<chrono::Utc>> = {
        let mut open = None;
        for _ in 0..100 {
            open = sqlx::query_scalar(
                "SELECT xact_start FROM pg_stat_activity WHERE pid = $1 AND state = 'active'",
            )
            .bind(pid)
            .fetch_optional(&mut watcher)
            .await
            .unwrap();
            if open.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        open
    };
    assert!(open_since.is_some(), "the long transaction never started");

    w.report_loss(&card).await;
    let committed = Instant::now();
    let answer = loop {
        let e = eligibility(&mut w.activation, &card).await.unwrap();
        if !e.eligible {
            break e;
        }
        assert!(
            committed.elapsed() < BOUND,
            "a card lost {:?} ago, while another session's transaction was open, still \
             answers ELIGIBLE: {e:?}",
            committed.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert_eq!(
        answer.reason,
        EligibilityReason::CardLost as i32,
        "{answer:?}"
    );
    // The transaction was open throughout.
    let still_open: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT xact_start FROM pg_stat_activity WHERE pid = $1")
            .bind(pid)
            .fetch_optional(&mut watcher)
            .await
            .unwrap();
    assert_eq!(still_open, open_since, "the long transaction ended early");
    sqlx::query("SELECT pg_cancel_backend($1)")
        .bind(pid)
        .execute(&mut watcher)
        .await
        .unwrap();
    sleeping.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_card_stream_cut_a_loss_is_answered_from_card_issuance_or_not_at_all() {
    let mut w = world().await;
    let (person, card) = w.eligible_holder("林断").await;
    journeys::register_legacy_card(&mut w.cards, &person, "YB0000055").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while legacy_eligibility(&mut w.activation, "YB0000055")
        .await
        .unwrap()
        .reason
        == EligibilityReason::CardUnknown as i32
    {
        assert!(Instant::now() < deadline, "the old card never arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let fresh = eligibility(&mut w.activation, &card).await.unwrap();
    assert_eq!(
        fresh.source,
        CardStateSource::Projection as i32,
        "{fresh:?}"
    );
    let age = chrono::Utc::now() - as_of(&fresh);
    assert!(age < chrono::Duration::seconds(2), "{fresh:?}");

    // Cut the projector off: the row its every batch (heartbeats included)
    // must write is held locked by another session.
    let mut locker = w.sql().await;
    sqlx::query("BEGIN").execute(&mut locker).await.unwrap();
    sqlx::query(
        "SELECT 1 FROM activation.projection_cursors WHERE stream = 'card-issuance' FOR UPDATE",
    )
    .execute(&mut locker)
    .await
    .unwrap();

    w.report_loss(&card).await;
    let committed = Instant::now();
    let mut from_card_issuance = None;
    while committed.elapsed() < BOUND * 2 {
        let e = eligibility(&mut w.activation, &card).await.unwrap();
        assert!(
            !(e.eligible && committed.elapsed() > BOUND),
            "a card lost {:?} ago answers ELIGIBLE while the projection cannot follow: {e:?}",
            committed.elapsed()
        );
        if e.source == CardStateSource::CardIssuance as i32 {
            from_card_issuance = Some(e);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let e = from_card_issuance.expect("the stale projection was never bypassed");
    assert_eq!(e.reason, EligibilityReason::CardLost as i32, "{e:?}");
    assert!(!e.eligible);
    // The projection itself never saw the loss: the stream was cut.
    let state = w
        .activation
        .get_card_activation(operator(pb::GetCardActivationRequest {
            card_number: card.card_number.clone(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(state.card_status, "RECEIVED");
    // The old card too is judged by card-issuance's state (its holder's new
    // card lost: no activation deadline restricts it).
    let old = legacy_eligibility(&mut w.activation, "YB0000055")
        .await
        .unwrap();
    assert_eq!(old.source, CardStateSource::CardIssuance as i32, "{old:?}");
    assert!(old.eligible && old.activation_deadline.is_none(), "{old:?}");

    // Card-issuance goes down too: nothing is answered, and it says why.
    let mut w = w.0;
    w.system.cards.stop().await.unwrap();
    for status in [
        eligibility(&mut w.activation, &card).await.unwrap_err(),
        legacy_eligibility(&mut w.activation, "YB0000055")
            .await
            .unwrap_err(),
    ] {
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
        assert_eq!(reason(&status), "CARD_STATUS_UNVERIFIED");
    }
    // An activation's card check fails closed as well.
    let status = w
        .activation
        .activate_at_bank_outlet(as_caller(
            "bank_outlet:ICBC-0101",
            pb::ActivateAtBankOutletRequest {
                request_id: "outlet-while-cut".into(),
                operator_id: "TELLER-1".into(),
                card_number: card.card_number.clone(),
                card_identification_code: card.card_identification_code.clone(),
                id_number: person.id_number.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "CARD_STATUS_UNVERIFIED", "{status:?}");
    sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();
}

async fn card_activation(activation: &mut Activation, card: &card::Card) -> pb::CardActivation {
    activation
        .get_card_activation(operator(pb::GetCardActivationRequest {
            card_number: card.card_number.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
}

async fn cursor_position(conn: &mut PgConnection) -> i64 {
    sqlx::query_scalar(
        "SELECT position FROM activation.projection_cursors WHERE stream = 'card-issuance'",
    )
    .fetch_one(conn)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_database_neither_double_apply_nor_regress() {
    let mut w = world().await;
    let config = activation_config(
        &w.system.database_url,
        w.system.identity.addr,
        w.system.cards.addr,
    );
    let second = spawn_activation_with(config.clone(), Arc::new(w.system.clock.clone())).await;
    let mut b: Activation = ActivationServiceClient::new(second.channel().await);

    // Events flow while both run.
    let mut holders = Vec::new();
    for name in ["双一", "双二", "双三", "双四"] {
        let (_, card) =
            journeys::person_with_received_card(&mut w.0.identity, &mut w.0.cards, name, "ICBC")
                .await;
        holders.push(card);
    }
    for card in &holders {
        journeys::projected(&mut w.activation, &card.card_number, "RECEIVED").await;
        journeys::projected(&mut b, &card.card_number, "RECEIVED").await;
    }
    // Each card activated at once through both instances: one activation.
    for card in &holders {
        let (mut a1, mut b1) = (w.activation.clone(), b.clone());
        let (first, second) = tokio::join!(
            activate_at_hospital(&mut a1, "on-a", card),
            activate_at_hospital(&mut b1, "on-b", card),
        );
        let refused = match (&first, &second) {
            (Ok(_), Err(refused)) | (Err(refused), Ok(_)) => refused,
            _ => panic!("not exactly one activation: {first:?} / {second:?}"),
        };
        assert_eq!(reason(refused), "CARD_ALREADY_ACTIVE");
    }
    let lost = &holders[..2];
    for card in lost {
        w.report_loss(card).await;
    }
    for card in lost {
        journeys::projected(&mut w.activation, &card.card_number, "LOST").await;
        journeys::projected(&mut b, &card.card_number, "LOST").await;
    }
    // Both instances answer alike.
    for card in &holders {
        assert_eq!(
            card_activation(&mut w.activation, card).await,
            card_activation(&mut b, card).await
        );
        let (ea, eb) = (
            eligibility(&mut w.activation, card).await.unwrap(),
            eligibility(&mut b, card).await.unwrap(),
        );
        assert_eq!((ea.eligible, ea.reason), (eb.eligible, eb.reason));
    }
    // One CardActivated per card, whichever instance activated it.
    let mut activated: Vec<String> = published::card_activations(&mut w.activation)
        .await
        .into_iter()
        .map(|a| a.activation.unwrap().card_number)
        .collect();
    activated.sort();
    let mut expected: Vec<String> = holders.iter().map(|c| c.card_number.clone()).collect();
    expected.sort();
    assert_eq!(activated, expected, "activations published");

    // A stale instance applies an older batch after the newer ones (every
    // event before the first loss): nothing moves back.
    let events = published::card_events(&mut w.cards).await;
    let first_loss = events
        .iter()
        .position(|e| {
            matches!(&e.event, Some(CardEvent::CardStatusChanged(c))
                if c.status == card::CardStatus::Lost as i32)
        })
        .expect("the losses were published");
    let stale = events[..first_loss].to_vec();
    assert!(stale.iter().any(|e| matches!(
        &e.event,
        Some(CardEvent::CardIssued(c)) if c.card_number == lost[0].card_number
    )));
    let mut sql = w.sql().await;
    let before = cursor_position(&mut sql).await;
    let pool = platform::db::connect(&config.platform).await.unwrap();
    activation::projection::apply_card_batch(&pool, stale)
        .await
        .unwrap();
    for card in lost {
        for instance in [&mut w.activation, &mut b] {
            let state = card_activation(instance, card).await;
            assert_eq!(
                state.card_status, "LOST",
                "a lost card regressed: {state:?}"
            );
            assert!(state.activation.is_some());
        }
    }
    assert!(
        cursor_position(&mut sql).await >= before,
        "the cursor moved back"
    );

    // The first instance stops; the other carries on following the stream.
    let system_tests::World {
        system, mut cards, ..
    } = w.0;
    system.activation.stop().await.unwrap();
    cards
        .report_loss(operator(card::ReportLossRequest {
            request_id: "loss-after-stop".into(),
            card_number: holders[2].card_number.clone(),
            reason: String::new(),
        }))
        .await
        .unwrap();
    journeys::projected(&mut b, &holders[2].card_number, "LOST").await;
    let e = eligibility(&mut b, &holders[2]).await.unwrap();
    assert_eq!(e.reason, EligibilityReason::CardLost as i32);
    assert_eq!(
        card_activation(&mut b, &holders[3]).await.card_status,
        "RECEIVED"
    );
}

async fn legacy_status(cards: &mut Cards, number: &str) -> i32 {
    cards
        .get_legacy_medical_card(operator(card::GetLegacyMedicalCardRequest {
            card_number: number.into(),
        }))
        .await
        .unwrap()
        .into_inner()
        .status
}

async fn wait_retired(cards: &mut Cards, number: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while legacy_status(cards, number).await != card::LegacyCardStatus::Retired as i32 {
        assert!(
            Instant::now() < deadline,
            "card-issuance never learnt that {what} was retired"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_cards_numbered_like_id_numbers_and_refused_entries_do_not_block_the_relay() {
    let mut w = world().await;
    // Entries card-issuance refuses for good, queued before anything else:
    // old card numbers that are ID numbers card-issuance does not know.
    let (_, other_card) = w.holder("林他").await;
    let refused: Vec<String> = (0..50).map(|_| ids::id_number(true)).collect();
    let mut sql = w.sql().await;
    for number in &refused {
        sqlx::query(
            "INSERT INTO activation.legacy_retirements (legacy_card_number, card_number)
             VALUES ($1, $2)",
        )
        .bind(number)
        .bind(&other_card.card_number)
        .execute(&mut sql)
        .await
        .unwrap();
    }

    // An old card whose number is its holder's ID number, and an ordinary one.
    let (person, card) = w.holder("林旧").await;
    let (second, second_card) = w.holder("林常").await;
    w.cards
        .register_legacy_medical_card(operator(card::RegisterLegacyMedicalCardRequest {
            request_id: format!("legacy-of-{}", person.person_id),
            card_number: person.id_number.clone(),
            person_id: person.person_id.clone(),
            region_code: person.region_code.clone(),
        }))
        .await
        .unwrap();
    journeys::register_legacy_card(&mut w.cards, &second, "YB0000077").await;
    for (number, card) in [
        (person.id_number.as_str(), &card),
        ("YB0000077", &second_card),
    ] {
        // Wait for the old card to reach activation's projection.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let e = w
                .activation
                .check_eligibility(as_caller(
                    "pharmacy:P-001",
                    pb::CheckEligibilityRequest {
                        card: Some(Card::LegacyCardNumber(number.into())),
                    },
                ))
                .await
                .unwrap()
                .into_inner();
            if e.reason != EligibilityReason::CardUnknown as i32 {
                break;
            }
            assert!(Instant::now() < deadline, "the old card never arrived");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        w.activation
            .activate_at_pharmacy(as_caller(
                "pharmacy:P-001",
                pb::ActivateAtPharmacyRequest {
                    request_id: format!("ph-{}", card.card_number),
                    operator_id: "POS-1".into(),
                    legacy_card_number: number.into(),
                    card_number: card.card_number.clone(),
                    card_identification_code: card.card_identification_code.clone(),
                    ..Default::default()
                },
            ))
            .await
            .expect("the pharmacy activates with the old card");
    }
    wait_retired(&mut w.cards, "YB0000077", "the ordinary old card").await;
    wait_retired(
        &mut w.cards,
        &person.id_number,
        "the old card numbered like an ID number",
    )
    .await;

    // The refused entries are parked where an operator sees them.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let parked: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM activation.legacy_retirements WHERE parked_at IS NOT NULL",
        )
        .fetch_one(&mut sql)
        .await
        .unwrap();
        if parked == refused.len() as i64 {
            break;
        }
        assert!(Instant::now() < deadline, "{parked} entries parked");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pending: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM activation.legacy_retirements WHERE parked_at IS NULL",
    )
    .fetch_one(&mut sql)
    .await
    .unwrap();
    assert_eq!(pending, 0);
    let logged = logs::captured();
    assert!(
        logged.contains("retirements parked"),
        "the parked entries were never reported"
    );
    assert!(
        logged.contains(&pii::mask_middle(&refused[0], 6, 4)),
        "a parked entry was never named (masked)"
    );
    for number in refused.iter().chain([&person.id_number]) {
        assert!(
            !logged.contains(number.as_str()),
            "an old card number that is an ID number was logged unmasked"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_of_an_answered_activation_is_answered_while_identity_is_down() {
    let mut w = world().await;
    let (person, card) = w.holder("林重").await;
    let request = || {
        as_caller(
            "bank_outlet:ICBC-0101",
            pb::ActivateAtBankOutletRequest {
                request_id: "outlet-1".into(),
                operator_id: "TELLER-1".into(),
                card_number: card.card_number.clone(),
                card_identification_code: card.card_identification_code.clone(),
                id_number: person.id_number.clone(),
            },
        )
    };
    let first = w
        .activation
        .activate_at_bank_outlet(request())
        .await
        .expect("the outlet activates the card")
        .into_inner();
    let mut w = w.0;
    w.system.identity.stop().await.unwrap();
    let retry = w
        .activation
        .activate_at_bank_outlet(request())
        .await
        .expect("a retry is answered from the stored answer")
        .into_inner();
    assert_eq!(retry, first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_retirements_do_not_hold_up_an_ordinary_one() {
    const SLOW: usize = 40;
    // Card-issuance with room for every slow call at once (a connection
    // each, and activation's share of its calls above them), so what is
    // shown is the relay, not card-issuance's own limits.
    let system = System::start_adjusted(
        fresh_database().await,
        |cards| {
            cards.platform.database_max_connections = 2 * SLOW as u32;
            cards.platform.max_concurrent_calls = 4 * SLOW;
            cards.platform.max_calls_per_caller = 2 * SLOW;
        },
        |_| {},
    )
    .await;
    let mut w = World(system_tests::World::on(system, PARTNERS, &[]).await);
    let (person, card) = w.holder("林缓").await;
    let slow: Vec<String> = (0..SLOW).map(|i| format!("YB7{i:06}")).collect();
    for number in slow.iter().map(String::as_str).chain(["YB8000000"]) {
        journeys::register_legacy_card(&mut w.cards, &person, number).await;
    }
    // Card-issuance's rows of the slow ones held by a transaction of the
    // test's own: each retirement of them waits on its row lock until the
    // relay's deadline, and again on every retry.
    let mut holder = w.sql().await;
    sqlx::query("BEGIN").execute(&mut holder).await.unwrap();
    sqlx::query(
        "SELECT 1 FROM card_issuance.legacy_medical_cards WHERE card_number = ANY($1) FOR UPDATE",
    )
    .bind(&slow)
    .execute(&mut holder)
    .await
    .unwrap();
    let mut sql = w.sql().await;
    let queue = async |sql: &mut PgConnection, number: &str| {
        sqlx::query(
            "INSERT INTO activation.legacy_retirements (legacy_card_number, card_number)
             VALUES ($1, $2)",
        )
        .bind(number)
        .bind(&card.card_number)
        .execute(sql)
        .await
        .unwrap();
    };
    for number in &slow {
        queue(&mut sql, number).await;
    }
    // Every slow retirement is under way: card-issuance waits on each lock.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&mut sql)
        .await
        .unwrap();
        if waiting == SLOW as i64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{waiting} of {SLOW} slow retirements reached card-issuance"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // An ordinary retirement queued behind them gets through while they
    // still wait.
    queue(&mut sql, "YB8000000").await;
    wait_retired(&mut w.cards, "YB8000000", "the ordinary old card").await;
    let pending: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM activation.legacy_retirements WHERE legacy_card_number = ANY($1)",
    )
    .bind(&slow)
    .fetch_one(&mut sql)
    .await
    .unwrap();
    assert_eq!(
        pending, SLOW as i64,
        "a slow retirement got through its lock"
    );

    // Released, the slow ones are delivered too.
    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    for number in &slow {
        wait_retired(&mut w.cards, number, "a slow old card").await;
    }
}

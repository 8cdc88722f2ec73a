//! Importing a province that already exists (`socsec_fixtures::province`):
//! a generated file through the import RPCs, with identity, card-issuance
//! and activation really running. The resume after `kill -9` of the CLI is
//! in `crates/cli/tests/import.rs` (it needs the `socsec` binary).

// Rates of records per second, never money.
#![allow(clippy::float_arithmetic)]

use pii::{BankBin, BankCardNumber, CardIdentificationCode, CardNumber, SerialNumber};
use platform::clock::Clock;
use socsec_fixtures::province::{self, Load, Progress, Province, Rejected, Summary};
use socsec_proto::{
    activation::v1::{self as pb, EligibilityReason, check_eligibility_request::Card},
    card::v1 as card,
    common::v1::{ImportResult, PartnerKind},
    contribution::v1::InsuranceType,
    identity::v1 as identity,
};
use system_tests::{
    Operator, System, as_caller,
    journeys::{self, Activation},
    operator, published,
};

const PERSONS: u64 = 21;

struct Imported {
    system: System,
    province: Province,
    file: std::path::PathBuf,
}

impl Drop for Imported {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.file);
        let _ = std::fs::remove_file(Load::new(self.file.clone()).checkpoint);
    }
}

/// The services, the partners the imported cards meet, and a province file.
async fn province(bad_lines: bool) -> Imported {
    let system = System::start().await;
    let mut identity = system.identity_client().await;
    for (code, kind, parent) in [
        ("ICBC", PartnerKind::Bank, ""),
        ("ICBC-0101", PartnerKind::BankOutlet, "ICBC"),
        ("H-001", PartnerKind::Hospital, ""),
        ("P-001", PartnerKind::Pharmacy, ""),
    ]
    .into_iter()
    .chain(province::EMPLOYERS.map(|e| (e, PartnerKind::Employer, "")))
    {
        journeys::register_partner(&mut identity, code, kind, parent).await;
    }
    system
        .set_typical_rates(province::REGION, &[InsuranceType::OldAge])
        .await;
    let province = province::generate(PERSONS, 0, system.clock.now(), bad_lines);
    let file = std::env::temp_dir().join(format!("province-{}.jsonl", uuid::Uuid::new_v4()));
    std::fs::write(&file, province.lines.join("\n")).expect("the file is written");
    Imported {
        system,
        province,
        file,
    }
}

impl Imported {
    /// Loads the file (a fresh checkpoint each time), collecting rejections.
    async fn load(&self) -> (Summary, Vec<Rejected>) {
        let load = Load::new(self.file.clone());
        let _ = std::fs::remove_file(&load.checkpoint);
        let mut rejected = Vec::new();
        let summary = province::load(
            clients(&self.system).await,
            &Operator,
            &Load { batch: 8, ..load },
            |p| {
                if let Progress::Rejected(r) = p {
                    rejected.push(r.clone());
                }
            },
        )
        .await
        .expect("the province loads");
        (summary, rejected)
    }

    async fn count(&self, sql: &str) -> i64 {
        let pool = sqlx::PgPool::connect(&self.system.database_url)
            .await
            .unwrap();
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&pool)
            .await
            .unwrap()
    }
}

async fn clients(system: &System) -> province::Clients<system_tests::CallerChannel> {
    province::Clients {
        identity: system.identity_client().await,
        cards: system.card_client().await,
        contribution: system.contribution_client().await,
    }
}

async fn eligibility(activation: &mut Activation, caller: &str, card: Card) -> pb::Eligibility {
    activation
        .check_eligibility(as_caller(
            caller,
            pb::CheckEligibilityRequest { card: Some(card) },
        ))
        .await
        .expect("eligibility answers")
        .into_inner()
}

fn presented(number: &str, code: &str) -> Card {
    Card::SocialSecurityCard(pb::CardPresented {
        card_number: number.into(),
        card_identification_code: code.into(),
    })
}

#[tokio::test]
async fn a_generated_province_loads_and_each_bad_line_is_reported_by_line_and_field() {
    let p = province(true).await;
    let (summary, rejected) = p.load().await;
    let c = &summary.checkpoint;
    assert_eq!(c.imported[0], p.province.persons as u64);
    assert_eq!(c.imported[1], p.province.cards as u64);
    assert_eq!(c.imported[2], p.province.old_medical_cards as u64);
    assert_eq!(c.imported[3], p.province.enrolments as u64);
    assert_eq!(c.imported[4], p.province.wages as u64);
    let mut got: Vec<(i64, String, String)> = rejected
        .iter()
        .map(|r| (r.line, r.field.clone(), r.reason.clone()))
        .collect();
    got.sort();
    let want: Vec<(i64, String, String)> = p
        .province
        .bad
        .iter()
        .map(|(line, field, reason)| (*line, field.to_string(), reason.to_string()))
        .collect();
    assert_eq!(got, want);
    let cards = p.count("SELECT count(*) FROM card_issuance.cards").await;
    assert_eq!(cards, p.province.cards as i64);
}

#[tokio::test]
async fn a_rerun_imports_nothing_twice_and_publishes_nothing_twice() {
    let p = province(false).await;
    let (first, _) = p.load().await;
    let (again, rejected) = p.load().await;
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(again.checkpoint.imported, [0; 5]);
    assert_eq!(again.checkpoint.already_imported, first.checkpoint.imported);
    let registered = p
        .count("SELECT count(*) FROM identity.outbox WHERE event_type = 'PersonRegistered'")
        .await;
    assert_eq!(registered, p.province.persons as i64);
    let issued = p
        .count("SELECT count(*) FROM card_issuance.outbox WHERE event_type = 'CardIssued'")
        .await;
    assert_eq!(issued, p.province.cards as i64);
    let persons = p.count("SELECT count(*) FROM identity.persons").await;
    assert_eq!(persons, p.province.persons as i64);
}

#[tokio::test]
async fn imported_cards_check_eligibility_and_activate_like_any_other() {
    let p = province(false).await;
    p.load().await;
    let mut activation = p.system.activation_client().await;
    let (number, code, holder) = p.province.fresh_card.clone().expect("a fresh card");
    journeys::projected(&mut activation, &number, "RECEIVED").await;
    let before = eligibility(&mut activation, "hospital:H-001", presented(&number, &code)).await;
    assert_eq!(before.reason, EligibilityReason::CardNotActivated as i32);
    assert!(!before.deadline_passed);
    activation
        .activate_at_bank_outlet(as_caller(
            "bank_outlet:ICBC-0101",
            pb::ActivateAtBankOutletRequest {
                request_id: "imported-1".into(),
                operator_id: "TELLER-7".into(),
                card_number: number.clone(),
                card_identification_code: code.clone(),
                id_number: holder,
            },
        ))
        .await
        .expect("an imported card activates at its bank's outlet");
    let after = eligibility(&mut activation, "hospital:H-001", presented(&number, &code)).await;
    assert!(after.eligible, "{after:?}");

    // A card the old system activated is active here too.
    let activated = p
        .province
        .activated_card
        .clone()
        .expect("an activated card");
    let state = journeys::projected(&mut activation, &activated, "RECEIVED").await;
    assert!(state.activation.is_some(), "{state:?}");
}

#[tokio::test]
async fn a_card_received_longer_ago_than_the_window_restricts_its_old_medical_card() {
    let p = province(false).await;
    p.load().await;
    let mut activation = p.system.activation_client().await;
    let (number, old) = p.province.overdue_card.clone().expect("an overdue card");
    let state = journeys::projected(&mut activation, &number, "RECEIVED").await;
    assert!(state.activation.is_none());
    let legacy = || Card::LegacyCardNumber(old.clone());
    let answer = system_tests::eventually(
        "the imported old card in activation's projection",
        std::time::Duration::from_secs(10),
        async || {
            let e = eligibility(&mut activation, "pharmacy:P-001", legacy()).await;
            (e.reason != EligibilityReason::CardUnknown as i32).then_some(e)
        },
    )
    .await;
    assert!(!answer.eligible);
    assert_eq!(
        answer.reason,
        EligibilityReason::LegacyCardRestricted as i32
    );
    assert!(answer.deadline_passed);
}

/// A card record for `holder`, issued in `region`, whose identifiers are
/// the `n`th of each sequence card-issuance numbers from (its card number,
/// its serial number, its bank card number under [`journeys::BANK_BIN`]),
/// received 30 days ago; activated in the old system if `activated`.
fn numbered_card(
    holder: &identity::Person,
    region: &str,
    n: u64,
    now: chrono::DateTime<chrono::Utc>,
    activated: Option<chrono::DateTime<chrono::Utc>>,
) -> card::ImportedCard {
    let bin = BankBin::parse(journeys::BANK_BIN).unwrap();
    let received = now - chrono::Duration::days(30);
    card::ImportedCard {
        line: n as i64,
        holder_id_number: holder.id_number.clone(),
        card_number: CardNumber::from_sequence(n).unwrap().as_str().into(),
        card_identification_code: CardIdentificationCode::new(region, 0xE000_0000_0000 + n)
            .unwrap()
            .as_str()
            .into(),
        serial_number: SerialNumber::from_sequence(region, n)
            .unwrap()
            .as_str()
            .into(),
        generation: 3,
        status: card::CardStatus::Received as i32,
        issuing_region_code: region.into(),
        issued_on: Some(platform::clock::date(
            (received - chrono::Duration::days(20)).date_naive(),
        )),
        received_at: Some(platform::clock::timestamp(received)),
        bank_code: "ICBC".into(),
        bank_card_number: BankCardNumber::from_sequence(&bin, n)
            .unwrap()
            .expose()
            .into(),
        activation: activated.map(|at| card::ImportedActivation {
            channel: "HOSPITAL".into(),
            activated_at: Some(platform::clock::timestamp(at)),
        }),
    }
}

async fn import_cards(
    cards: &mut journeys::Cards,
    request_id: &str,
    records: Vec<card::ImportedCard>,
) -> Vec<(ImportResult, String)> {
    cards
        .import_cards(operator(card::ImportCardsRequest {
            request_id: request_id.into(),
            cards: records,
        }))
        .await
        .expect("the batch is answered")
        .into_inner()
        .outcomes
        .iter()
        .map(|o| (o.result(), o.reason.clone()))
        .collect()
}

/// The `n`th identifiers of each kind, as card-issuance makes them.
fn nth_identifiers(region: &str, n: u64) -> (String, String, String) {
    let bin = BankBin::parse(journeys::BANK_BIN).unwrap();
    (
        CardNumber::from_sequence(n).unwrap().as_str().into(),
        SerialNumber::from_sequence(region, n)
            .unwrap()
            .as_str()
            .into(),
        BankCardNumber::from_sequence(&bin, n)
            .unwrap()
            .expose()
            .into(),
    )
}

fn identifiers(c: &card::Card) -> (String, String, String) {
    (
        c.card_number.clone(),
        c.serial_number.clone(),
        c.bank_card_number.clone(),
    )
}

#[tokio::test]
async fn cards_issued_after_an_import_are_numbered_past_the_imported_ones() {
    let p = province(false).await;
    let now = p.system.clock.now();
    let mut identity = p.system.identity_client().await;
    let mut cards = p.system.card_client().await;
    // One card issued here first: the sequences' next numbers are the 2nd.
    let (_, first) =
        journeys::person_with_received_card(&mut identity, &mut cards, "王一", "ICBC").await;
    let region = first.issuing_region_code.clone();
    assert_eq!(identifiers(&first), nth_identifiers(&region, 0));

    // The old system's cards: one with exactly the numbers issuing would
    // make next, one far ahead.
    const FAR: u64 = 1 + 50_000;
    let next_holder = journeys::confirmed_person(&mut identity, "王二").await;
    let far_holder = journeys::confirmed_person(&mut identity, "王三").await;
    let imported = import_cards(
        &mut cards,
        "import-numbers",
        vec![
            numbered_card(&next_holder, &region, 1, now, None),
            numbered_card(&far_holder, &region, FAR, now, None),
        ],
    )
    .await;
    let stored = (ImportResult::Imported, String::new());
    assert_eq!(imported, [stored.clone(), stored]);

    // Issuing goes on as usual, after the highest imported numbers.
    for (i, name) in ["王四", "王五"].into_iter().enumerate() {
        let person = journeys::confirmed_person(&mut identity, name).await;
        let application = journeys::apply(&mut cards, &person, "ICBC").await;
        let issued = journeys::issue(&mut cards, &application).await;
        assert_eq!(
            identifiers(&issued),
            nth_identifiers(&issued.issuing_region_code, FAR + 1 + i as u64),
            "card {i} after the import"
        );
    }
}

#[tokio::test]
async fn an_imported_activation_shows_in_get_card_and_is_published_once_as_card_activated() {
    let p = province(false).await;
    let now = p.system.clock.now();
    let mut identity = p.system.identity_client().await;
    let mut cards = p.system.card_client().await;
    let holder = journeys::confirmed_person(&mut identity, "李一").await;
    let activated_at = now - chrono::Duration::days(10);
    let record = numbered_card(&holder, "110100", 7_000, now, Some(activated_at));
    let number = record.card_number.clone();
    let imported = import_cards(&mut cards, "import-activated", vec![record.clone()]).await;
    assert_eq!(imported, [(ImportResult::Imported, String::new())]);

    // card-issuance shows the old system's activation.
    let shown = cards
        .get_card(operator(card::GetCardRequest {
            key: Some(card::get_card_request::Key::CardNumber(number.clone())),
        }))
        .await
        .unwrap()
        .into_inner();
    let expected = card::ImportedActivation {
        channel: "HOSPITAL".into(),
        activated_at: Some(platform::clock::timestamp(activated_at)),
    };
    assert_eq!(shown.imported_activation, Some(expected.clone()));
    let listed = cards
        .list_person_cards(operator(card::ListPersonCardsRequest {
            person_id: holder.person_id.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .cards;
    assert_eq!(listed[0].imported_activation, Some(expected));

    // activation records it and publishes it as any activation.
    let mut activation = p.system.activation_client().await;
    let state = journeys::projected(&mut activation, &number, "RECEIVED").await;
    let recorded = state.activation.expect("the imported activation");
    assert_eq!(recorded.partner_code, "IMPORT");
    let published = published::card_activations(&mut activation).await;
    assert_eq!(published.len(), 1, "{published:?}");
    let event = &published[0];
    assert_eq!(event.person_id, holder.person_id);
    let activation_event = event.activation.clone().unwrap();
    assert_eq!(activation_event, recorded);
    assert_eq!(activation_event.channel, pb::Channel::Hospital as i32);
    assert_eq!(
        activation_event.activated_at,
        Some(platform::clock::timestamp(activated_at))
    );

    // Imported again, or its CardIssued delivered again: nothing more.
    let again = import_cards(&mut cards, "import-activated-again", vec![record]).await;
    assert_eq!(again, [(ImportResult::AlreadyImported, String::new())]);
    let config = system_tests::activation_config(
        &p.system.database_url,
        p.system.identity.addr,
        p.system.cards.addr,
    );
    let pool = platform::db::connect(&config.platform).await.unwrap();
    activation::projection::apply_card_batch(&pool, published::card_events(&mut cards).await)
        .await
        .unwrap();
    assert_eq!(published::card_activations(&mut activation).await.len(), 1);
}

//! Importing a province that already exists (`socsec_fixtures::province`):
//! a generated file through the import RPCs, with identity, card-issuance
//! and activation really running. The resume after `kill -9` of the CLI is
//! in `crates/cli/tests/import.rs` (it needs the `socsec` binary).

// Rates of records per second, never money.
#![allow(clippy::float_arithmetic)]

use platform::clock::Clock;
use socsec_fixtures::province::{self, Load, Progress, Province, Rejected, Summary};
use socsec_proto::{
    activation::v1::{self as pb, EligibilityReason, check_eligibility_request::Card},
    common::v1::PartnerKind,
};
use system_tests::{
    Operator, System, as_caller,
    journeys::{self, Activation},
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
    set_rates(&system).await;
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

/// The region's typical old-age rates: enrolments need the region's table.
async fn set_rates(system: &System) {
    system
        .contribution_client()
        .await
        .set_rate_table(as_caller(
            "operator:OP0001",
            socsec_proto::contribution::v1::SetRateTableRequest {
                request_id: "rates".into(),
                table: Some(socsec_fixtures::rates::typical(
                    province::REGION,
                    socsec_proto::contribution::v1::InsuranceType::OldAge,
                    2026,
                )),
            },
        ))
        .await
        .expect("rates");
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

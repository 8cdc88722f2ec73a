//! `socsec import` as an operator runs it: killed with SIGKILL in the
//! middle of a province, run again, it resumes from its checkpoint and
//! nothing is stored or published twice.

use std::{process::Command, time::Duration};

use socsec_fixtures::province::{self, Checkpoint};
use system_tests::{System, pki};

fn socsec(system: &System) -> Command {
    let pki = pki();
    pki.write_callers(&["operator:OP0001"]);
    let mut command = Command::new(env!("CARGO_BIN_EXE_socsec"));
    command
        .args(["--identity", &system.identity.url()])
        .args(["--cards", &system.cards.url()])
        .args(["--activation", &system.activation.url()])
        .args(["--contribution", &system.contribution.url()])
        .arg("--certs")
        .arg(&pki.dir);
    command
}

async fn count(system: &System, sql: &str) -> i64 {
    let pool = sqlx::PgPool::connect(&system.database_url).await.unwrap();
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_killed_with_sigkill_resumes_without_duplicates() {
    let system = System::start().await;
    let mut identity = system.identity_client().await;
    for employer in province::EMPLOYERS {
        system_tests::journeys::register_partner(
            &mut identity,
            employer,
            socsec_proto::common::v1::PartnerKind::Employer,
            "",
        )
        .await;
    }
    system
        .set_typical_rates(
            province::REGION,
            &[socsec_proto::contribution::v1::InsuranceType::OldAge],
        )
        .await;
    // The instant the test clock is set at (`system_tests::test_clock`).
    let now = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 25, 2, 0, 0).unwrap();
    let p = province::generate(300, 0, now, false);
    let file = std::env::temp_dir().join(format!("province-{}.jsonl", uuid::Uuid::new_v4()));
    std::fs::write(&file, p.lines.join("\n")).unwrap();
    let checkpoint_path = province::Load::new(file.clone()).checkpoint;

    // Small batches, one at a time, so there is a middle to kill it in.
    let mut child = socsec(&system)
        .args(["import", "--batch", "5", "--in-flight", "1"])
        .arg(&file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("socsec starts");
    let acknowledged = system_tests::eventually(
        "the first acknowledged batches",
        Duration::from_secs(60),
        async || {
            let c: Checkpoint =
                serde_json::from_slice(&std::fs::read(&checkpoint_path).ok()?).ok()?;
            (c.acknowledged[0] >= 3).then_some(c)
        },
    )
    .await;
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    assert!(
        acknowledged.acknowledged[2] == 0,
        "killed before the end: {acknowledged:?}"
    );

    let resumed = tokio::task::block_in_place(|| {
        socsec(&system)
            .args(["--json", "import", "--batch", "5"])
            .arg(&file)
            .output()
            .unwrap()
    });
    let stdout = String::from_utf8_lossy(&resumed.stdout);
    assert!(
        resumed.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let done: Checkpoint =
        serde_json::from_slice(&std::fs::read(&checkpoint_path).unwrap()).unwrap();
    // Every record counted once, across the killed run and the resumed one.
    let total = |k: usize| done.imported[k] + done.already_imported[k];
    assert!(total(0) >= p.persons as u64, "{done:?}");
    for (table, event, expected) in [
        (
            "identity.persons",
            "identity.outbox WHERE event_type = 'PersonRegistered'",
            p.persons,
        ),
        (
            "card_issuance.cards",
            "card_issuance.outbox WHERE event_type = 'CardIssued'",
            p.cards,
        ),
        (
            "card_issuance.legacy_medical_cards",
            "card_issuance.outbox WHERE event_type = 'LegacyCardRegistered'",
            p.old_medical_cards,
        ),
    ] {
        let rows = count(&system, &format!("SELECT count(*) FROM {table}")).await;
        let events = count(&system, &format!("SELECT count(*) FROM {event}")).await;
        assert_eq!(
            (rows, events),
            (expected as i64, expected as i64),
            "{table}"
        );
    }
    let enrolments = count(&system, "SELECT count(*) FROM contribution.enrolments").await;
    assert_eq!(enrolments, p.enrolments as i64);
    let _ = std::fs::remove_file(&file);
    let _ = std::fs::remove_file(&checkpoint_path);
}

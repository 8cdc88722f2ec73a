//! The `socsec` binary against the four services really running.

use std::process::Command;

use system_tests::{System, pki};

/// Runs `socsec` against `system`, over mutual TLS with the test CA's
/// certificates of the demo's callers.
fn socsec(system: &System, args: &[&str]) -> std::process::Output {
    let pki = pki();
    pki.write_callers(&[
        "operator:OP0001",
        "bank_outlet:ICBC-0101",
        "hospital:H-DEMO",
        "pharmacy:P-DEMO",
        "hospital:H-1",
        "hr_agency:HRA-DEMO",
        "bank:BOC",
    ]);
    Command::new(env!("CARGO_BIN_EXE_socsec"))
        .args(["--identity", &system.identity.url()])
        .args(["--cards", &system.cards.url()])
        .args(["--activation", &system.activation.url()])
        .args(["--contribution", &system.contribution.url()])
        .arg("--certs")
        .arg(&pki.dir)
        .args(args)
        .output()
        .expect("socsec runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_walks_journeys_one_three_and_seven() {
    let system = System::start().await;
    let seeded = tokio::task::block_in_place(|| socsec(&system, &["seed-demo"]));
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    // Seeding twice is harmless.
    let again = tokio::task::block_in_place(|| socsec(&system, &["seed-demo"]));
    assert!(again.status.success(), "{}", text(&again.stderr));

    let demo = tokio::task::block_in_place(|| socsec(&system, &["demo"]));
    let stdout = text(&demo.stdout);
    assert!(demo.status.success(), "{stdout}\n{}", text(&demo.stderr));
    for expected in [
        "activated at outlet ICBC-0101",
        "at the hospital the card is eligible (ELIGIBLE)",
        "retired",
        "the old card is now not eligible (LEGACY_CARD_RETIRED)",
        "this month's bill: 1600.00 yuan",
        "collecting bank BOC recorded the payment",
        "outstanding now 0.00 yuan",
        "FLEXIBLE_INDIVIDUAL",
        "individual account total: 640.00   pooling fund total: 960.00",
        "sign in at the portal (deploy/run.sh prints its address) with ID number",
        "and password Portal2026demo",
    ] {
        assert!(
            stdout.contains(expected),
            "missing `{expected}` in:\n{stdout}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_show_the_reason_and_the_field_and_set_the_exit_code() {
    let system = System::start().await;
    let out = tokio::task::block_in_place(|| {
        socsec(
            &system,
            &[
                "person",
                "register",
                "--id-number",
                "110105194912310021",
                "--name",
                "王芳",
                "--gender",
                "female",
                "--phone",
                "13800138000",
                "--address",
                "北京",
            ],
        )
    });
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("ID_NUMBER_CHECK_CHARACTER"), "{stderr}");
    assert!(stderr.contains("id_number"), "{stderr}");
    assert!(
        !stderr.contains("110105194912310021"),
        "the error repeats the ID number"
    );

    let out = tokio::task::block_in_place(|| {
        socsec(
            &system,
            &["--json", "--as", "hospital:H-1", "partner", "list"],
        )
    });
    assert_eq!(out.status.code(), Some(5));
    let error: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(error["reason"], "CALLER_KIND_NOT_ALLOWED");

    let out = tokio::task::block_in_place(|| {
        socsec(
            &system,
            &[
                "--json",
                "person",
                "register",
                "--id-number",
                "11010519491231002X",
                "--name",
                "王芳",
                "--gender",
                "female",
                "--phone",
                "13800138000",
                "--address",
                "北京",
            ],
        )
    });
    assert!(out.status.success(), "{}", text(&out.stderr));
    let person: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(person["maskedIdNumber"]["masked"], "110105********002X");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agency_contract_waits_for_consent_at_the_counter() {
    let system = System::start().await;
    let run = |args: &[&str]| tokio::task::block_in_place(|| socsec(&system, args));
    let json = |out: std::process::Output| -> serde_json::Value {
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let seeded = run(&["seed-demo"]);
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    let person = json(run(&[
        "--json",
        "person",
        "register",
        "--id-number",
        "11010519491231002X",
        "--name",
        "王芳",
        "--gender",
        "female",
        "--phone",
        "13800138000",
        "--address",
        "北京",
    ]));
    let person_id = person["personId"].as_str().unwrap().to_owned();
    let agency = ["--json", "--as", "hr_agency:HRA-DEMO", "contribution"];
    let contract = json(run(&[
        &agency[..],
        &[
            "contract",
            "--agency",
            "HRA-DEMO",
            "--person-id",
            &person_id,
            "--fee",
            "80",
            "--start",
            "2026-01",
            "--end",
            "2026-12",
        ],
    ]
    .concat()));
    assert_eq!(contract["status"], "AGENCY_CONTRACT_STATUS_PENDING");
    let contract_id = contract["contractId"].as_str().unwrap().to_owned();
    let enrol = [
        "enrol",
        "--person-id",
        &person_id,
        "--type",
        "old-age",
        "--scheme",
        "agency",
        "--contract",
        &contract_id,
        "--start",
        "2026-01",
    ];
    let refused = run(&[&agency[..], &enrol[..]].concat());
    assert_eq!(refused.status.code(), Some(6), "{}", text(&refused.stderr));
    let error: serde_json::Value = serde_json::from_slice(&refused.stderr).unwrap();
    assert_eq!(error["reason"], "CONTRACT_NOT_CONFIRMED");

    // The person signs at the counter.
    let confirmed = json(run(&[
        "--json",
        "contribution",
        "confirm-contract",
        "--contract",
        &contract_id,
    ]));
    assert_eq!(confirmed["status"], "AGENCY_CONTRACT_STATUS_CONFIRMED");
    json(run(&[&agency[..], &enrol[..]].concat()));
    let listed = json(run(&[
        "--json",
        "contribution",
        "contracts",
        "--person-id",
        &person_id,
    ]));
    assert_eq!(listed["contracts"][0]["contractId"], contract_id.as_str());
}

/// `socsec --help` and every `socsec … --help` below it: each subcommand says
/// what it does, in words of its own (not words its siblings share, as a
/// doc comment of a flattened argument group would give them all).
#[test]
fn every_subcommand_has_a_description_of_its_own() {
    use std::collections::HashMap;

    use clap::CommandFactory;

    fn walk(
        command: &clap::Command,
        path: &str,
        missing: &mut Vec<String>,
        shared: &mut Vec<String>,
    ) {
        let mut seen: HashMap<String, String> = HashMap::new();
        for sub in command.get_subcommands() {
            let name = format!("{path} {}", sub.get_name());
            match sub.get_about().map(|about| about.to_string()) {
                Some(about) if !about.trim().is_empty() => {
                    if let Some(sibling) = seen.insert(about.clone(), name.clone()) {
                        shared.push(format!("`{sibling}` and `{name}`: {about}"));
                    }
                }
                _ => missing.push(name.clone()),
            }
            walk(sub, &name, missing, shared);
        }
    }

    let mut cli = socsec_cli::Cli::command();
    cli.build();
    let (mut missing, mut shared) = (Vec::new(), Vec::new());
    walk(&cli, "socsec", &mut missing, &mut shared);
    assert!(
        cli.get_subcommands().count() > 5,
        "the walk sees the command tree"
    );
    assert!(missing.is_empty(), "no description: {missing:#?}");
    assert!(shared.is_empty(), "one description for two: {shared:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn card_pins_are_reset_at_the_counter_and_verified_by_a_hospital_and_never_printed() {
    let system = System::start().await;
    let seeded = tokio::task::block_in_place(|| socsec(&system, &["seed-demo"]));
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    let (mut identity, mut cards) = (system.identity_client().await, system.card_client().await);
    let (_, card) = system_tests::journeys::person_with_received_card(
        &mut identity,
        &mut cards,
        "林静",
        "ICBC",
    )
    .await;
    let number = card.card_number.as_str();
    let code = card.card_identification_code.as_str();
    let run = |args: &[&str]| tokio::task::block_in_place(|| socsec(&system, args));
    let reset = run(&[
        "--json",
        "card",
        "pin",
        "reset",
        "--request-id",
        "cli-pin-1",
        "--card",
        number,
        "--new-pin",
        "864209",
    ]);
    assert!(reset.status.success(), "{}", text(&reset.stderr));
    let verify = |pin: &str| {
        let out = run(&[
            "--json",
            "--as",
            "hospital:H-DEMO",
            "card",
            "pin",
            "verify",
            "--card",
            number,
            "--code",
            code,
            "--pin",
            pin,
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(!text(&out.stdout).contains(pin) && !text(&out.stderr).contains(pin));
        let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        answer["result"].as_str().unwrap_or_default().to_owned()
    };
    assert_eq!(verify("864209"), "PIN_VERIFICATION_MATCH");
    assert_eq!(verify("502783"), "PIN_VERIFICATION_NO_MATCH");
    assert!(!text(&reset.stdout).contains("864209"));
}

/// Passwords never on the command line (any user of the machine reads it
/// with `ps`): from a file, the environment, or the terminal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_come_from_a_file_or_the_environment_never_the_command_line() {
    let system = System::start().await;
    let mut identity = system.identity_client().await;
    let person = system_tests::journeys::register(&mut identity, "孙立").await;
    let dir = std::env::temp_dir().join(format!("socsec-cli-pw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("password");
    std::fs::write(&file, "Counter2026pw\n").unwrap();

    let set = tokio::task::block_in_place(|| {
        socsec(
            &system,
            &[
                "person",
                "set-password",
                "--id-number",
                &person.id_number,
                "--password-file",
                file.to_str().unwrap(),
            ],
        )
    });
    assert!(set.status.success(), "{}", text(&set.stderr));

    let sign_in = |env: Option<&str>, extra: &[&str]| {
        let mut args = vec!["person", "sign-in", "--id-number", &person.id_number];
        args.extend_from_slice(extra);
        let pki = pki();
        let mut command = Command::new(env!("CARGO_BIN_EXE_socsec"));
        command
            .args(["--identity", &system.identity.url()])
            .arg("--certs")
            .arg(&pki.dir)
            .args(&args)
            .env_remove("SOCSEC_PASSWORD");
        if let Some(password) = env {
            command.env("SOCSEC_PASSWORD", password);
        }
        command.output().expect("socsec runs")
    };
    let signed_in = tokio::task::block_in_place(|| sign_in(Some("Counter2026pw"), &[]));
    assert!(signed_in.status.success(), "{}", text(&signed_in.stderr));
    assert!(
        text(&signed_in.stdout).contains("token"),
        "{}",
        text(&signed_in.stdout)
    );

    // The old flag is gone: refused as a usage error, nothing sent.
    let flag = tokio::task::block_in_place(|| sign_in(None, &["--password", "Counter2026pw"]));
    assert_eq!(flag.status.code(), Some(2), "{}", text(&flag.stderr));
    std::fs::remove_dir_all(&dir).unwrap();
}

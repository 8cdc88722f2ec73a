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

#[test]
fn certs_makes_a_development_pki_once_and_issues_more() {
    let dir = std::env::temp_dir().join(format!("socsec-cli-certs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let certs = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_socsec"))
            .arg("--certs")
            .arg(&dir)
            .arg("certs")
            .args(args)
            .output()
            .expect("socsec runs")
    };
    let first = certs(&[]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    for file in [
        "ca.pem",
        "identity.pem",
        "card-issuance-key.pem",
        "operator-OP0001.pem",
        "bank-ICBC.pem",
        "bank_outlet-ICBC-0101.pem",
        "hospital-H-DEMO.pem",
        "pharmacy-P-DEMO.pem",
        "hotline_center-HL-12333.pem",
        "hr_agency-HRA-DEMO.pem",
        "employer-EMP-DEMO.pem",
    ] {
        assert!(dir.join(file).exists(), "{file}");
    }
    let ca = std::fs::read(dir.join("ca.pem")).unwrap();
    // A second run keeps the CA and writes nothing.
    let again = certs(&[]);
    assert!(again.status.success());
    assert!(text(&again.stdout).is_empty(), "{}", text(&again.stdout));
    assert_eq!(std::fs::read(dir.join("ca.pem")).unwrap(), ca);
    // A partner onboarded later gets its certificate from the same CA.
    let issued = certs(&["--issue", "bank:CCB"]);
    assert!(issued.status.success(), "{}", text(&issued.stderr));
    assert!(dir.join("bank-CCB.pem").exists());
    let bad = certs(&["--issue", "nobody:X"]);
    assert_eq!(bad.status.code(), Some(2));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("ca-key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "private keys are the owner's only");
    }
    let _ = std::fs::remove_dir_all(&dir);
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

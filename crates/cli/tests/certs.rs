//! `socsec certs`: the development PKI the command line makes.

use std::process::Command;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn certs_makes_two_cas_once_issues_more_and_revokes() {
    let dir = std::env::temp_dir().join(format!("socsec-cli-certs-{}", std::process::id()));
    let keys = std::env::temp_dir().join(format!("socsec-cli-ca-keys-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&keys);
    let certs = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_socsec"))
            .arg("--certs")
            .arg(&dir)
            .arg("--ca-keys")
            .arg(&keys)
            .arg("certs")
            .args(args)
            .output()
            .expect("socsec runs")
    };
    let first = certs(&[]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    for file in [
        "partner-ca.pem",
        "internal-ca.pem",
        "partner-ca.crl.pem",
        "internal-ca.crl.pem",
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
    // The CA keys are elsewhere: nothing in the certificates directory
    // (what the services read) can issue a certificate.
    for file in ["partner-ca-key.pem", "internal-ca-key.pem"] {
        assert!(keys.join(file).exists(), "{file}");
        assert!(!dir.join(file).exists(), "{file}");
    }
    assert!(!dir.join("ca.pem").exists());
    let ca = std::fs::read(dir.join("partner-ca.pem")).unwrap();
    // A second run keeps the CAs and writes nothing.
    let again = certs(&[]);
    assert!(again.status.success());
    assert!(text(&again.stdout).is_empty(), "{}", text(&again.stdout));
    assert_eq!(std::fs::read(dir.join("partner-ca.pem")).unwrap(), ca);
    // A partner onboarded later gets its certificate from the partner CA.
    let issued = certs(&["--issue", "bank:CCB"]);
    assert!(issued.status.success(), "{}", text(&issued.stderr));
    assert!(dir.join("bank-CCB.pem").exists());
    let bad = certs(&["--issue", "nobody:X"]);
    assert_eq!(bad.status.code(), Some(2));
    // Revoking rewrites the issuing CA's list, once.
    let partner_crl = std::fs::read(dir.join("partner-ca.crl.pem")).unwrap();
    let internal_crl = std::fs::read(dir.join("internal-ca.crl.pem")).unwrap();
    let revoked = certs(&["revoke", "bank:CCB"]);
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    assert!(
        text(&revoked.stdout).contains("partner CA"),
        "{}",
        text(&revoked.stdout)
    );
    assert_ne!(
        std::fs::read(dir.join("partner-ca.crl.pem")).unwrap(),
        partner_crl
    );
    let operator = certs(&["revoke", "operator:OP0001"]);
    assert!(operator.status.success(), "{}", text(&operator.stderr));
    assert!(text(&operator.stdout).contains("internal CA"));
    assert_ne!(
        std::fs::read(dir.join("internal-ca.crl.pem")).unwrap(),
        internal_crl
    );
    let twice = certs(&["revoke", "bank:CCB"]);
    assert!(
        text(&twice.stdout).contains("already"),
        "{}",
        text(&twice.stdout)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(
            mode(&keys) & 0o077,
            0,
            "the CA keys' directory is the owner's only"
        );
        assert_eq!(
            mode(&keys.join("partner-ca-key.pem")) & 0o077,
            0,
            "private keys are the owner's only"
        );
        assert_eq!(mode(&dir.join("bank-CCB-key.pem")) & 0o077, 0);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&keys);
}

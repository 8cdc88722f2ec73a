//! The configuration's checks.

use super::*;

#[test]
fn debug_hides_the_database_password_and_secret() {
    let mut config = PlatformConfig::defaults(1, "identity");
    config.database_url = "postgres://app:hunter2@db:5432/socsec".into();
    config.session_token_secret = Some("s".repeat(32).into());
    let shown = format!("{config:?}");
    assert!(
        shown.contains("postgres://app:***@db:5432/socsec"),
        "{shown}"
    );
    assert!(!shown.contains("hunter2"));
    assert!(!shown.contains(&"s".repeat(32)));
}

#[test]
fn validation_names_the_bad_key() {
    let mut config = PlatformConfig::defaults(1, "identity");
    config.plaintext = true;
    config.database_schema = "Identity; drop".into();
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("database_schema"), "{err}");
}

#[test]
fn tls_files_are_required_unless_plaintext() {
    let config = PlatformConfig::defaults(1, "identity");
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("tls_partner_ca_file"), "{err}");
    let mut config = PlatformConfig::defaults(1, "identity");
    config.plaintext = true;
    config.validate().unwrap();
}

#[test]
fn the_development_credential_only_over_plaintext_on_loopback() {
    let mut config = PlatformConfig::defaults(1, "identity");
    config.tls_partner_ca_file = Some("partner-ca.pem".into());
    config.tls_internal_ca_file = Some("internal-ca.pem".into());
    config.tls_partner_crl_file = Some("partner-ca.crl.pem".into());
    config.tls_internal_crl_file = Some("internal-ca.crl.pem".into());
    config.tls_cert_file = Some("identity.pem".into());
    config.tls_key_file = Some("identity-key.pem".into());
    config.dev_credentials = true;
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("dev_credentials"), "{err}");
    config.plaintext = true;
    config.validate().unwrap();
    // Never where another machine could reach it.
    for addr in ["0.0.0.0:50051", "10.0.0.5:50051", "[::]:50051"] {
        config.listen_addr = addr.parse().unwrap();
        let err = config.validate().unwrap_err().to_string();
        assert!(
            err.contains("dev_credentials") && err.contains("loopback"),
            "{err}"
        );
    }
    config.listen_addr = "[::1]:50051".parse().unwrap();
    config.validate().unwrap();
}

#[test]
fn audit_retention_is_at_least_six_months() {
    let mut config = PlatformConfig::defaults(1, "identity");
    config.plaintext = true;
    config.audit_retention_days = 90;
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("audit_retention_days"), "{err}");
}

#[test]
fn rotating_session_keys_name_their_signing_key() {
    let mut config = PlatformConfig::defaults(1, "identity");
    config.plaintext = true;
    config.session_token_keys = [
        ("k2025".to_owned(), "a".repeat(32).into()),
        ("k2026".to_owned(), "b".repeat(32).into()),
    ]
    .into();
    config.validate().unwrap();
    assert!(
        !config.session_keys().unwrap().can_sign(),
        "two keys, none named to sign"
    );
    config.session_token_signing_key = Some("k2027".into());
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("session_token_signing_key"), "{err}");
    config.session_token_signing_key = Some("k2026".into());
    config.validate().unwrap();
    assert!(config.session_keys().unwrap().can_sign());
    config
        .session_token_keys
        .insert("k.1".into(), "c".repeat(32).into());
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("session_token_keys"), "{err}");
}

#[test]
fn the_single_secret_signs_as_the_default_key() {
    let mut config = PlatformConfig::defaults(1, "identity");
    config.plaintext = true;
    config.session_token_secret = Some("s".repeat(32).into());
    config.validate().unwrap();
    assert!(config.session_keys().unwrap().can_sign());
}

#[test]
fn the_single_ca_key_of_earlier_versions_is_refused_by_name() {
    let mut config = PlatformConfig::defaults(1, "identity");
    config.plaintext = true;
    config.tls_ca_file = Some("ca.pem".into());
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("tls_ca_file"), "{err}");
    assert!(err.contains("tls_partner_ca_file"), "{err}");
}

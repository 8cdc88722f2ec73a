//! The service binaries' deployment modes, as a Kubernetes deployment uses
//! them: `--migrate-only` (the migration job) and `--health-check` (the
//! exec probe), through the functions the shared `main` runs for them.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use platform::{
    config::PlatformConfig,
    health_check::{self, HealthCheckError},
    service::{Service, migrate_only},
};
use sqlx::{Connection, PgConnection};
use system_tests::{
    activation_config, card_config, contribution_config, eventually, fresh_database,
    identity_config, spawn_identity_with, test_clock,
};

/// Nobody listens here: the configurations need an address, the migration
/// mode never calls it.
const NOWHERE: &str = "127.0.0.1:9";

/// A migration job gets the database settings only.
fn without_certificates(platform: &mut PlatformConfig) {
    platform.tls_partner_ca_file = None;
    platform.tls_internal_ca_file = None;
    platform.tls_partner_crl_file = None;
    platform.tls_internal_crl_file = None;
    platform.tls_cert_file = None;
    platform.tls_key_file = None;
    platform.session_token_secret = None;
}

/// Runs `S`'s migration mode twice (the second finds nothing to do) and
/// returns the latest version its schema's history records, with the
/// latest of `S`'s own migrations.
async fn migrate_twice<S: Service>(config: S::Config, database: &str, schema: &str) -> (i64, i64) {
    migrate_only::<S>(&config)
        .await
        .unwrap_or_else(|e| panic!("{} migrates: {e}", S::NAME));
    migrate_only::<S>(&config)
        .await
        .unwrap_or_else(|e| panic!("{} migrates again: {e}", S::NAME));
    let mut conn = PgConnection::connect(database).await.unwrap();
    let recorded: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT max(version) FROM {schema}._sqlx_migrations WHERE success"
    )))
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let latest = S::migrations().iter().map(|m| m.version).max().unwrap();
    (recorded, latest)
}

#[tokio::test]
async fn migrate_only_brings_every_schema_to_its_latest_migration_without_certificates() {
    let database = fresh_database().await;
    let nowhere: SocketAddr = NOWHERE.parse().unwrap();

    let mut identity = identity_config(&database);
    without_certificates(&mut identity.platform);
    let (recorded, latest) =
        migrate_twice::<identity::Application>(identity, &database, "identity").await;
    assert_eq!(recorded, latest, "identity");

    let mut cards = card_config(&database, nowhere);
    without_certificates(&mut cards.platform);
    let (recorded, latest) =
        migrate_twice::<card_issuance::Application>(cards, &database, "card_issuance").await;
    assert_eq!(recorded, latest, "card-issuance");

    let mut activation = activation_config(&database, nowhere, nowhere);
    without_certificates(&mut activation.platform);
    let (recorded, latest) =
        migrate_twice::<activation::Application>(activation, &database, "activation").await;
    assert_eq!(recorded, latest, "activation");

    let mut contribution = contribution_config(&database, nowhere);
    without_certificates(&mut contribution.platform);
    let (recorded, latest) =
        migrate_twice::<contribution::Application>(contribution, &database, "contribution").await;
    assert_eq!(recorded, latest, "contribution");

    // A service started on the migrated schema serves.
    let service = spawn_identity_with(identity_config(&database), Arc::new(test_clock())).await;
    let mut platform = identity_config(&database).platform;
    platform.listen_addr = service.addr;
    eventually(
        "identity to be SERVING",
        Duration::from_secs(10),
        async || health_check::check(&platform).await.ok(),
    )
    .await;
}

#[tokio::test]
async fn migrate_only_refuses_a_bad_database_setting_naming_it() {
    let mut config = identity_config("mysql://somewhere/socsec");
    without_certificates(&mut config.platform);
    let error = migrate_only::<identity::Application>(&config)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("database_url"), "{error}");
}

#[tokio::test]
async fn the_health_check_passes_while_the_service_serves_and_fails_once_it_stops() {
    let database = fresh_database().await;
    let service = spawn_identity_with(identity_config(&database), Arc::new(test_clock())).await;
    // The probe's configuration is the service's own: the same certificate
    // files, its listen address.
    let mut platform = identity_config(&database).platform;
    platform.listen_addr = service.addr;
    eventually(
        "the health check to pass",
        Duration::from_secs(10),
        async || health_check::check(&platform).await.ok(),
    )
    .await;

    service.stop().await.unwrap();
    match health_check::check(&platform).await {
        Err(HealthCheckError::Unreachable { addr, .. }) => assert_eq!(addr, platform.listen_addr),
        other => panic!("expected the stopped service to be unreachable, got {other:?}"),
    }
}

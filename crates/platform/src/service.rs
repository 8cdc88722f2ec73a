//! The one `main` every service binary runs: parse `--config`, load and
//! validate the configuration (refusing before any port opens), set up
//! tracing, start, serve until SIGTERM/SIGINT. Two other modes, for
//! deployments: `--migrate-only` applies the database migrations and exits
//! (a migration job), `--health-check` asks the service running beside it
//! whether it is SERVING (a container's exec probe).

use std::{future::Future, path::PathBuf, process::ExitCode, sync::Arc};

use clap::Parser;
use sqlx::migrate::Migrator;

use crate::{
    clock::{Clock, SystemClock},
    config::{ConfigError, PlatformConfig},
    db, health_check,
    host::{Ready, StartupError, shutdown_signal},
    telemetry,
};

pub use tonic::transport::Error as TransportError;

/// What a service binary is.
pub trait Service {
    type Config: Send;
    /// The binary's name, e.g. `card-issuance`.
    const NAME: &'static str;

    fn load_config(file: Option<&std::path::Path>) -> Result<Self::Config, ConfigError>;
    fn platform_config(config: &Self::Config) -> &PlatformConfig;
    /// The service's own migrations (the platform's are applied with them).
    fn migrations() -> &'static Migrator;
    /// Validates, connects, migrates, binds: the service ready to serve.
    fn build(
        config: Self::Config,
        clock: Arc<dyn Clock>,
    ) -> impl Future<Output = Result<Ready, StartupError>> + Send;
}

#[derive(Parser)]
#[command(version, about = "A socsec service; see the README for its settings")]
struct Args {
    /// A TOML file with settings; environment variables override it.
    #[arg(long, env = "SOCSEC_CONFIG")]
    config: Option<PathBuf>,
    /// Apply the database migrations to the service's schema and exit
    /// without serving (a deployment's migration job). Needs only the
    /// database settings.
    #[arg(long, conflicts_with = "health_check")]
    migrate_only: bool,
    /// Ask the service running on this machine at `listen_addr` (over TLS
    /// with this service's certificate) whether it is SERVING: exit 0 if it
    /// is, 1 if not. For exec probes, as Kubernetes' `grpc` probe speaks no
    /// TLS.
    #[arg(long)]
    health_check: bool,
}

/// Runs service `S` as the process's `main`.
pub async fn main<S: Service>() -> ExitCode {
    let args = Args::parse();
    let config = match S::load_config(args.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{}: {e}", S::NAME);
            return ExitCode::from(2);
        }
    };
    if args.health_check {
        return match health_check::check(S::platform_config(&config)).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{}: {e}", S::NAME);
                ExitCode::FAILURE
            }
        };
    }
    telemetry::init(S::platform_config(&config));
    if args.migrate_only {
        return match migrate_only::<S>(&config).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!(error = %e, "{} migrations failed", S::NAME);
                ExitCode::FAILURE
            }
        };
    }
    let service = match S::build(config, Arc::new(SystemClock)).await {
        Ok(service) => service,
        Err(e) => {
            tracing::error!(error = %e, "{} failed to start", S::NAME);
            return ExitCode::FAILURE;
        }
    };
    match service.serve(shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "{} stopped with an error", S::NAME);
            ExitCode::FAILURE
        }
    }
}

/// Applies the platform's and service `S`'s migrations to its schema and
/// returns, serving nothing: what a migration job runs before the service's
/// instances start (they migrate at start too; with nothing left to apply
/// that is a read of the history). Only the database settings are needed:
/// no certificates, no session keys.
pub async fn migrate_only<S: Service>(config: &S::Config) -> Result<(), StartupError> {
    let mut config = S::platform_config(config).clone();
    config.validate_database()?;
    // The migrator holds one connection (and an advisory lock on it, so
    // instances starting meanwhile wait for it).
    config.database_max_connections = 1;
    let pool = db::connect(&config).await?;
    let migrated = db::migrate(&pool, &config.database_schema, S::migrations()).await;
    pool.close().await;
    migrated?;
    let latest = S::migrations().iter().map(|m| m.version).max();
    tracing::info!(
        schema = %config.database_schema,
        latest = latest.unwrap_or_default(),
        "migrations applied"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::Args;

    #[test]
    fn the_deployment_modes_are_flags_and_exclude_each_other() {
        let args = Args::try_parse_from(["svc", "--migrate-only"]).unwrap();
        assert!(args.migrate_only && !args.health_check);
        let args = Args::try_parse_from(["svc", "--health-check", "--config", "c.toml"]).unwrap();
        assert!(args.health_check && args.config.is_some());
        assert!(Args::try_parse_from(["svc", "--migrate-only", "--health-check"]).is_err());
        let args = Args::try_parse_from(["svc"]).unwrap();
        assert!(!args.migrate_only && !args.health_check);
    }
}

use std::{path::PathBuf, process::ExitCode, sync::Arc};

use clap::Parser;
use identity::{Application, Config};
use platform::{clock::SystemClock, host::shutdown_signal, telemetry};

/// The identity service: persons' basic information, online sign-in, partners.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// A TOML file with settings; environment variables override it.
    #[arg(long, env = "SOCSEC_CONFIG")]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let config = match Config::load(args.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("identity: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&config.platform);
    let app = match Application::build(config, Arc::new(SystemClock)).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!(error = %e, "identity failed to start");
            return ExitCode::FAILURE;
        }
    };
    match app.run_until_stopped(shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "identity stopped with an error");
            ExitCode::FAILURE
        }
    }
}

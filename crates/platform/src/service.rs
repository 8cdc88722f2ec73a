//! The one `main` every service binary runs: parse `--config`, load and
//! validate the configuration (refusing before any port opens), set up
//! tracing, start, serve until SIGTERM/SIGINT.

use std::{future::Future, path::PathBuf, process::ExitCode, sync::Arc};

use clap::Parser;

use crate::{
    clock::{Clock, SystemClock},
    config::{ConfigError, PlatformConfig},
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
    telemetry::init(S::platform_config(&config));
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

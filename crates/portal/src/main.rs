//! `portal`: the person's self-service web portal (see the crate docs).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config = match portal::PortalConfig::load() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("portal: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match portal::start(config).await {
        Ok(running) => {
            tracing::info!(addr = %running.addr, "portal serving over HTTPS");
            let _ = tokio::signal::ctrl_c().await;
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("portal: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

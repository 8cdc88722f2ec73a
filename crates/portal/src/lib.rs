//! The person's self-service web portal: server-rendered HTML (maud, no
//! JavaScript) over HTTPS. Every page is made from calls to the four
//! services over gRPC + TLS **as the signed-in person**: each request
//! carries the person's own session token (`authorization: Bearer …`, as
//! the CLI's `--token` does), and no client certificate, so the services
//! apply their rules for persons and audit every read as today. The
//! portal's one credential of its own, a client certificate of the internal
//! CA, goes with `SignIn` alone: with it identity believes the browser's
//! address the portal names, and limits sign-ins per browser.
//!
//! Modules: `config` (TOML + environment), `client` (the channels and the
//! token on each call), `browser` (a browser's address, behind trusted
//! proxies), `session` (cookies, CSRF), `i18n` (中文 / English),
//! `routes` (one module per area), `pages` (maud templates), `chart`
//! (the month-by-month SVG), `tls` (the HTTPS listener).

mod browser;
mod chart;
mod client;
pub mod config;
mod i18n;
mod pages;
mod routes;
mod session;
mod tls;

use std::{net::SocketAddr, sync::Arc};

pub use config::PortalConfig;

/// A portal serving in the background.
pub struct Running {
    pub addr: SocketAddr,
    pub task: tokio::task::JoinHandle<()>,
}

/// Binds `config.listen_addr` (port 0: any free port) and serves the portal
/// over HTTPS until the task is aborted.
pub async fn start(config: PortalConfig) -> Result<Running, String> {
    let services = client::Services::connect(&config)?;
    let trusted_proxies = browser::TrustedProxies::parse(&config.trusted_proxies)?;
    let tls = tls::server_config(&config)?;
    let listener = tokio::net::TcpListener::bind(&config.listen_addr)
        .await
        .map_err(|e| format!("bind {}: {e}", config.listen_addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let state = routes::State {
        services,
        csrf: Arc::new(session::CsrfKey::random()),
        trusted_proxies: Arc::new(trusted_proxies),
    };
    let app = routes::router(state);
    let listener = tls::TlsListener::new(listener, tls);
    let task = tokio::spawn(async move {
        let app = app.into_make_service_with_connect_info::<tls::Browser>();
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "portal stopped");
        }
    });
    Ok(Running { addr, task })
}

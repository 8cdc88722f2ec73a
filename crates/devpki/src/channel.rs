//! A client channel that calls each request as the caller the request
//! names: each caller gets its own TLS connection with its own certificate.
//! The tests and the `socsec` command line use it to speak as several
//! partners through one generated client.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    task::{Context, Poll},
};

use futures::future::BoxFuture;
use socsec_core::balance::Balanced;
use tonic::{
    body::Body,
    codegen::StdError,
    transport::{Certificate, ClientTlsConfig, Endpoint, Identity},
};
use tower::ServiceExt;

use crate::stem;

/// The caller a request is sent as, `KIND:CODE` (e.g.
/// `bank_outlet:ICBC-0101`), put in the request's extensions.
#[derive(Clone, Debug)]
pub struct AsCaller(pub String);

type Connect = dyn Fn(Option<&str>) -> Result<Balanced, String> + Send + Sync;

/// Sends each request over the channel of its [`AsCaller`] (no caller: a
/// connection without a client certificate), made on first use by
/// `connect`.
#[derive(Clone)]
pub struct CallerChannel {
    connect: Arc<Connect>,
    channels: Arc<Mutex<HashMap<Option<String>, Balanced>>>,
}

impl CallerChannel {
    pub fn new(
        connect: impl Fn(Option<&str>) -> Result<Balanced, String> + Send + Sync + 'static,
    ) -> Self {
        Self {
            connect: Arc::new(connect),
            channels: Arc::default(),
        }
    }

    fn channel_for(&self, caller: Option<String>) -> Result<Balanced, String> {
        let mut channels = self.channels.lock().expect("channels lock");
        if let Some(channel) = channels.get(&caller) {
            return Ok(channel.clone());
        }
        let channel = (self.connect)(caller.as_deref())?;
        channels.insert(caller, channel.clone());
        Ok(channel)
    }
}

/// A channel to `url` — or to the instances of one service, their URLs
/// separated by commas, calls spread over those answering SERVING
/// (`socsec_core::balance`) — trusting the servers' CA,
/// `dir/internal-ca.pem`, and presenting, for each request, its caller's
/// certificate from `dir` (`<kind>-<code>.pem` and `<kind>-<code>-key.pem`,
/// as [`crate::ensure_development_pki`] and [`crate::issue_into`] write
/// them).
pub fn from_dir(dir: &Path, url: &str) -> Result<CallerChannel, String> {
    let endpoints = endpoints(url)?;
    let read = |dir: &Path, name: &str| -> Result<Vec<u8>, String> {
        let path: PathBuf = dir.join(name);
        std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let ca = read(dir, &crate::Ca::Internal.cert_file())?;
    let dir = dir.to_owned();
    Ok(CallerChannel::new(move |caller: Option<&str>| {
        let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&ca));
        if let Some(caller) = caller {
            let stem = stem(caller);
            let cert = read(&dir, &format!("{stem}.pem"))?;
            let key = read(&dir, &format!("{stem}-key.pem"))?;
            tls = tls.identity(Identity::from_pem(cert, key));
        }
        let with_tls = endpoints
            .iter()
            .map(|e| e.clone().tls_config(tls.clone()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        Ok(socsec_core::balance::channel(with_tls, None))
    }))
}

/// The endpoints of `urls` (one URL, or several separated by commas).
pub fn endpoints(urls: &str) -> Result<Vec<Endpoint>, String> {
    let endpoints = socsec_core::balance::urls(urls)
        .into_iter()
        .map(|url| {
            Endpoint::from_shared(url.to_owned())
                .map(|e| e.tcp_nodelay(true))
                .map_err(|e| format!("{url}: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if endpoints.is_empty() {
        return Err(format!("{urls:?}: no URL"));
    }
    Ok(endpoints)
}

impl tower::Service<http::Request<Body>> for CallerChannel {
    type Response = http::Response<Body>;
    type Error = StdError;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Each caller's channel is made ready in `call`.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let caller = request.extensions().get::<AsCaller>().map(|c| c.0.clone());
        let channel = self.channel_for(caller);
        Box::pin(async move {
            let channel = channel.map_err(StdError::from)?;
            channel.oneshot(request).await
        })
    }
}

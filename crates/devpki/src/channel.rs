//! A client channel that calls each request as the caller the request
//! names: each caller gets its own TLS connection with its own certificate.
//! The tests and the `socsec` command line use it to speak as several
//! partners through one generated client.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    task::{Context, Poll},
};

use futures::future::BoxFuture;
use tonic::{body::Body, codegen::StdError, transport::Channel};
use tower::ServiceExt;

/// The caller a request is sent as, `KIND:CODE` (e.g.
/// `bank_outlet:ICBC-0101`), put in the request's extensions.
#[derive(Clone, Debug)]
pub struct AsCaller(pub String);

type Connect = dyn Fn(Option<&str>) -> Result<Channel, String> + Send + Sync;

/// Sends each request over the channel of its [`AsCaller`] (no caller: a
/// connection without a client certificate), made on first use by
/// `connect`.
#[derive(Clone)]
pub struct CallerChannel {
    connect: Arc<Connect>,
    channels: Arc<Mutex<HashMap<Option<String>, Channel>>>,
}

impl CallerChannel {
    pub fn new(
        connect: impl Fn(Option<&str>) -> Result<Channel, String> + Send + Sync + 'static,
    ) -> Self {
        Self {
            connect: Arc::new(connect),
            channels: Arc::default(),
        }
    }

    fn channel_for(&self, caller: Option<String>) -> Result<Channel, String> {
        let mut channels = self.channels.lock().expect("channels lock");
        if let Some(channel) = channels.get(&caller) {
            return Ok(channel.clone());
        }
        let channel = (self.connect)(caller.as_deref())?;
        channels.insert(caller, channel.clone());
        Ok(channel)
    }
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
            channel.oneshot(request).await.map_err(StdError::from)
        })
    }
}

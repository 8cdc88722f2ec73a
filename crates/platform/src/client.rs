//! Channels for calling another socsec service: mutual TLS with this
//! service's certificate (or, with `plaintext`, the development credential),
//! a default deadline on every call, and HTTP/2 keepalive on every
//! connection.

use std::time::Duration;

use tonic::{
    Request, Status,
    metadata::MetadataValue,
    service::{Interceptor, interceptor::InterceptedService},
    transport::Endpoint,
};

use socsec_core::balance::Balanced;

use crate::{
    auth::{Caller, DEV_CALLER_HEADER, ON_BEHALF_OF_HEADER, ORIGIN_REQUEST_ID_HEADER},
    config::ConfigError,
    tls::TlsMaterial,
};

/// Over plaintext, adds `service:<name>` as the caller of every request;
/// over TLS the certificate names the caller. Either way, adds the current
/// trace context (`traceparent`, `tracestate`; see `platform::trace`).
#[derive(Clone)]
pub struct ServiceCredential(Option<MetadataValue<tonic::metadata::Ascii>>);

impl Interceptor for ServiceCredential {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(credential) = &self.0 {
            request
                .metadata_mut()
                .insert(DEV_CALLER_HEADER, credential.clone());
        }
        crate::trace::inject(request.metadata_mut());
        Ok(request)
    }
}

pub type ServiceChannel = InterceptedService<Balanced, ServiceCredential>;

/// How this service calls the others.
#[derive(Clone)]
pub struct Upstreams {
    /// This service's name, e.g. `card-issuance`.
    pub caller: &'static str,
    pub tls: Option<TlsMaterial>,
    /// The deadline of every call.
    pub deadline: Duration,
    /// HTTP/2 keepalive ping interval and the time its answer may take: a
    /// half-open connection (an event stream included) is closed and
    /// re-established instead of hanging.
    pub keepalive: (Duration, Duration),
}

impl Upstreams {
    /// A lazily connecting channel to `urls` (config key `key`): one URL,
    /// or the instances of one service separated by commas, calls spread
    /// over those answering SERVING and sent to the next instance on a
    /// connect error or UNAVAILABLE, within [`Upstreams::deadline`]
    /// (`socsec_core::balance`).
    pub fn channel(&self, key: &'static str, urls: &str) -> Result<ServiceChannel, ConfigError> {
        check_url(key, urls, self.tls.is_none())?;
        let problem = |problem: String| ConfigError::invalid(key, problem);
        let mut endpoints = Vec::new();
        for url in socsec_core::balance::urls(urls) {
            let mut endpoint = Endpoint::from_shared(url.to_owned())
                .map_err(|e| problem(e.to_string()))?
                .connect_timeout(Duration::from_secs(3))
                .timeout(self.deadline)
                .tcp_nodelay(true)
                .tcp_keepalive(Some(self.keepalive.0))
                .http2_keep_alive_interval(self.keepalive.0)
                .keep_alive_timeout(self.keepalive.1)
                .keep_alive_while_idle(true);
            if let Some(tls) = &self.tls {
                endpoint = endpoint
                    .tls_config(tls.client())
                    .map_err(|e| problem(e.to_string()))?;
            }
            endpoints.push(endpoint);
        }
        let credential = self.tls.is_none().then(|| {
            MetadataValue::try_from(format!("service:{}", self.caller))
                .expect("service names are ASCII")
        });
        Ok(InterceptedService::new(
            socsec_core::balance::channel(endpoints, Some(self.deadline)),
            ServiceCredential(credential),
        ))
    }
}

/// `message` for another service, sent for `origin` (the caller this
/// service is serving) and its `request_id`, so the other service's audit
/// trail names whom the access was for.
pub fn on_behalf_of<T>(message: T, origin: &Caller, request_id: Option<&str>) -> Request<T> {
    let mut request = Request::new(message);
    let metadata = request.metadata_mut();
    if let Ok(value) = MetadataValue::try_from(origin.to_string()) {
        metadata.insert(ON_BEHALF_OF_HEADER, value);
    }
    if let Some(Ok(value)) = request_id.map(MetadataValue::try_from) {
        metadata.insert(ORIGIN_REQUEST_ID_HEADER, value);
    }
    request
}

/// Checks the URL of another service (config key `key`), or each of its
/// instances' URLs separated by commas: `https://` with TLS, `http://` only
/// when `plaintext`.
pub fn check_url(key: &'static str, urls: &str, plaintext: bool) -> Result<(), ConfigError> {
    let scheme = if plaintext { "http://" } else { "https://" };
    let each = socsec_core::balance::urls(urls);
    if !each.is_empty() && each.iter().all(|url| url.starts_with(scheme)) {
        Ok(())
    } else if plaintext {
        Err(ConfigError::invalid(
            key,
            "must be an http:// URL, or several separated by commas (`plaintext = true`)",
        ))
    } else {
        Err(ConfigError::invalid(
            key,
            "must be an https:// URL, or several separated by commas (mutual TLS; `plaintext = true` allows http://)",
        ))
    }
}

/// Checks `call_deadline_ms`.
pub fn check_deadline(deadline_ms: u64) -> Result<(), ConfigError> {
    if deadline_ms == 0 {
        return Err(ConfigError::invalid(
            "call_deadline_ms",
            "must be at least 1",
        ));
    }
    Ok(())
}

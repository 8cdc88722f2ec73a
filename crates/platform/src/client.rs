//! Channels for calling another socsec service: a default deadline per call,
//! and this service's credential on every request.

use std::time::Duration;

use tonic::{
    Request, Status,
    metadata::MetadataValue,
    service::{Interceptor, interceptor::InterceptedService},
    transport::{Channel, Endpoint},
};

use crate::auth::DEV_CALLER_HEADER;

/// Adds `service:<name>` as the caller of every request.
#[derive(Clone)]
pub struct ServiceCredential(MetadataValue<tonic::metadata::Ascii>);

impl Interceptor for ServiceCredential {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request
            .metadata_mut()
            .insert(DEV_CALLER_HEADER, self.0.clone());
        Ok(request)
    }
}

pub type ServiceChannel = InterceptedService<Channel, ServiceCredential>;

#[derive(Debug, thiserror::Error)]
#[error("`{key}` is not a usable URL: {source}")]
pub struct ClientConfigError {
    key: &'static str,
    source: tonic::transport::Error,
}

/// A lazily connecting channel to `url` (config key `key`), calling as
/// service `caller`, with `deadline` on every call.
pub fn service_channel(
    key: &'static str,
    url: &str,
    caller: &str,
    deadline: Duration,
) -> Result<ServiceChannel, ClientConfigError> {
    let endpoint = Endpoint::from_shared(url.to_owned())
        .map_err(|source| ClientConfigError { key, source })?
        .connect_timeout(Duration::from_secs(3))
        .timeout(deadline)
        .tcp_nodelay(true);
    let credential =
        MetadataValue::try_from(format!("service:{caller}")).expect("service names are ASCII");
    Ok(InterceptedService::new(
        endpoint.connect_lazy(),
        ServiceCredential(credential),
    ))
}

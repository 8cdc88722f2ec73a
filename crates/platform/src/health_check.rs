//! `--health-check`: asks the service running on this machine, at its
//! configured `listen_addr`, whether it is SERVING (`grpc.health.v1`). For a
//! container's exec probe: Kubernetes' own `grpc` probe speaks no TLS, and
//! the services serve only TLS. Health is open to any caller (see
//! [`crate::tls`]); the check connects with this service's own certificate
//! anyway, verifies the server's against the internal CA, and uses a DNS
//! name of this service's certificate as the server name, since the server
//! presents that same certificate.

use std::{
    fs,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    time::Duration,
};

use tonic::transport::Endpoint;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use x509_parser::{extensions::GeneralName, pem::parse_x509_pem};

use crate::{
    config::{ConfigError, PlatformConfig},
    tls::TlsMaterial,
};

/// How long the whole check may take: probes have their own timeout (1 s by
/// default in Kubernetes), this only keeps a stuck check from lingering.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum HealthCheckError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot reach {addr}: {detail}")]
    Unreachable { addr: SocketAddr, detail: String },
    #[error("{addr} answers {status:?}")]
    NotServing {
        addr: SocketAddr,
        status: ServingStatus,
    },
}

/// Ok when the service at `config.listen_addr` (its loopback address when it
/// listens on every address) answers SERVING for the whole server.
pub async fn check(config: &PlatformConfig) -> Result<(), HealthCheckError> {
    let addr = local_target(config.listen_addr);
    let tls = TlsMaterial::load(config)?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let unreachable = |detail: String| HealthCheckError::Unreachable { addr, detail };
    let mut endpoint = Endpoint::from_shared(format!("{scheme}://{addr}"))
        .map_err(|e| unreachable(e.to_string()))?
        .connect_timeout(CHECK_TIMEOUT)
        .timeout(CHECK_TIMEOUT);
    if let Some(tls) = &tls {
        let server_name = own_server_name(config, addr.ip())?;
        endpoint = endpoint
            .tls_config(tls.client().domain_name(server_name))
            .map_err(|e| unreachable(e.to_string()))?;
    }
    let asked = async {
        let channel = endpoint
            .connect()
            .await
            .map_err(|e| unreachable(error_chain(&e)))?;
        let answer = HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .map_err(|status| unreachable(format!("{:?}: {}", status.code(), status.message())))?;
        match answer.into_inner().status() {
            ServingStatus::Serving => Ok(()),
            status => Err(HealthCheckError::NotServing { addr, status }),
        }
    };
    tokio::time::timeout(CHECK_TIMEOUT, asked)
        .await
        .map_err(|_| unreachable(format!("no answer within {CHECK_TIMEOUT:?}")))?
}

/// Where to reach a server listening on `listen`: itself, or loopback when
/// it listens on every address.
fn local_target(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

/// The first DNS name of this service's certificate (the server presents
/// that certificate), else the address connected to.
fn own_server_name(config: &PlatformConfig, connected: IpAddr) -> Result<String, ConfigError> {
    let invalid = |problem: String| ConfigError::invalid("tls_cert_file", problem);
    let path = config
        .tls_cert_file
        .as_ref()
        .ok_or_else(|| invalid("is required unless `plaintext = true`".into()))?;
    let pem =
        fs::read(path).map_err(|e| invalid(format!("cannot read {}: {e}", path.display())))?;
    let (_, pem) = parse_x509_pem(&pem).map_err(|e| invalid(format!("not a PEM file: {e}")))?;
    let cert = pem
        .parse_x509()
        .map_err(|e| invalid(format!("not a certificate: {e}")))?;
    let dns_name = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .and_then(|names| {
            names
                .value
                .general_names
                .iter()
                .find_map(|name| match name {
                    GeneralName::DNSName(dns) => Some((*dns).to_owned()),
                    _ => None,
                })
        });
    Ok(dns_name.unwrap_or_else(|| connected.to_string()))
}

/// A transport error with its causes ("transport error: … : connection refused").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_on_every_address_is_asked_on_loopback() {
        let target = local_target("0.0.0.0:50051".parse().unwrap());
        assert_eq!(target, "127.0.0.1:50051".parse().unwrap());
        let target = local_target("[::]:50052".parse().unwrap());
        assert_eq!(target, "[::1]:50052".parse().unwrap());
        let target = local_target("10.1.2.3:50053".parse().unwrap());
        assert_eq!(target, "10.1.2.3:50053".parse().unwrap());
    }
}

//! Mutual TLS for the tests: one development CA per test binary, the four
//! services' certificates on disk (services read them as configured), and a
//! client certificate per caller, made when a test first calls as it.
//!
//! Tests name the caller of a request with [`crate::as_caller`]; the
//! channel from [`CallerChannel`] sends it over a TLS connection made with
//! that caller's certificate. Requests naming no caller go over a TLS
//! connection without a client certificate (persons with session tokens,
//! calls anyone may make).

use std::{
    collections::HashMap,
    net::SocketAddr,
    path::PathBuf,
    sync::{Mutex, OnceLock},
};

pub use devpki::channel::{AsCaller, CallerChannel};
use devpki::{Authority, Issued, Validity};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

pub struct TestPki {
    pub dir: PathBuf,
    authority: Authority,
    issued: Mutex<HashMap<String, Issued>>,
}

static PKI: OnceLock<TestPki> = OnceLock::new();

/// The test binary's CA, with the services' certificates written.
pub fn pki() -> &'static TestPki {
    PKI.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("socsec-test-pki-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the test PKI directory");
        let authority = Authority::new("socsec test CA").expect("make the test CA");
        authority.write(&dir).expect("write the test CA");
        for service in devpki::SERVICES {
            authority
                .service(service, &[])
                .and_then(|issued| issued.write(&dir, service))
                .expect("issue a service certificate");
        }
        TestPki {
            dir,
            authority,
            issued: Mutex::new(HashMap::new()),
        }
    })
}

impl TestPki {
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    pub fn cert_file(&self, service: &str) -> PathBuf {
        self.dir.join(format!("{service}.pem"))
    }

    pub fn key_file(&self, service: &str) -> PathBuf {
        self.dir.join(format!("{service}-key.pem"))
    }

    pub fn ca_pem(&self) -> &str {
        self.authority.cert_pem()
    }

    /// A client certificate naming `caller` (`KIND:CODE`, even one no
    /// service accepts), valid for the development period.
    pub fn caller(&self, caller: &str) -> Issued {
        let mut issued = self.issued.lock().unwrap();
        issued
            .entry(caller.to_owned())
            .or_insert_with(|| self.issue(caller, Validity::DEVELOPMENT))
            .clone()
    }

    /// Writes the certificates of `callers` (`KIND:CODE`) into the test CA's
    /// directory, named as the `socsec` command line looks for them.
    pub fn write_callers(&self, callers: &[&str]) {
        for caller in callers {
            self.caller(caller)
                .write(&self.dir, &devpki::stem(caller))
                .expect("write a caller certificate");
        }
    }

    /// A certificate for `caller` with the given validity, from this CA.
    pub fn issue(&self, caller: &str, validity: Validity) -> Issued {
        let (kind, code) = caller.split_once(':').expect("caller is KIND:CODE");
        self.authority
            .client_for_uri(&format!("spiffe://socsec/{kind}/{code}"), validity)
            .expect("issue a caller certificate")
    }
}

/// A TLS channel to `addr` trusting the test CA, presenting `client` (none:
/// no client certificate).
pub fn tls_channel(addr: SocketAddr, client: Option<&Issued>) -> Channel {
    let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pki().ca_pem()));
    if let Some(client) = client {
        tls = tls.identity(Identity::from_pem(&client.cert_pem, &client.key_pem));
    }
    Endpoint::from_shared(format!("https://{addr}"))
        .unwrap()
        .tls_config(tls)
        .expect("client TLS settings")
        .connect_lazy()
}

/// A channel to the service at `addr` sending each request with the
/// certificate of its caller, issued by the test CA.
pub fn caller_channel(addr: SocketAddr) -> CallerChannel {
    CallerChannel::new(move |caller: Option<&str>| {
        let issued = caller.map(|caller| pki().caller(caller));
        Ok(tls_channel(addr, issued.as_ref()))
    })
}

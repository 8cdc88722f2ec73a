//! Mutual TLS for the tests: the bureau's two CAs per test binary (the
//! partner CA for partners, the internal CA for services and operators),
//! their revocation lists and the four services' certificates on disk
//! (services read them as configured), and a client certificate per
//! caller, from the CA for its kind, made when a test first calls as it.
//! The CA keys stay in memory: nothing a service reads holds them.
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
use devpki::{Authority, Ca, CallerKind, Issued, Revoked, Validity};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

pub struct TestPki {
    pub dir: PathBuf,
    partner: Authority,
    internal: Authority,
    issued: Mutex<HashMap<String, Issued>>,
    /// Each CA's revoked certificates and its list's number, rewritten
    /// together (tests revoke concurrently).
    revoked: Mutex<HashMap<Ca, (u64, Vec<Revoked>)>>,
}

static PKI: OnceLock<TestPki> = OnceLock::new();

/// The test binary's CAs, with their (empty) revocation lists and the
/// services' certificates written.
pub fn pki() -> &'static TestPki {
    PKI.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("socsec-test-pki-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the test PKI directory");
        let pki = TestPki {
            dir,
            partner: Authority::new("socsec test partner CA").expect("make the partner CA"),
            internal: Authority::new("socsec test internal CA").expect("make the internal CA"),
            issued: Mutex::new(HashMap::new()),
            revoked: Mutex::new(HashMap::new()),
        };
        for ca in Ca::BOTH {
            std::fs::write(pki.dir.join(ca.cert_file()), pki.authority(ca).cert_pem())
                .expect("write a CA certificate");
            pki.rewrite_crl(ca, &mut (0, Vec::new()));
        }
        for service in devpki::SERVICES {
            pki.internal
                .service(service, &[])
                .and_then(|issued| issued.write(&pki.dir, service))
                .expect("issue a service certificate");
        }
        pki
    })
}

impl TestPki {
    pub fn authority(&self, ca: Ca) -> &Authority {
        match ca {
            Ca::Partner => &self.partner,
            Ca::Internal => &self.internal,
        }
    }

    pub fn ca_file(&self, ca: Ca) -> PathBuf {
        self.dir.join(ca.cert_file())
    }

    pub fn crl_file(&self, ca: Ca) -> PathBuf {
        self.dir.join(ca.crl_file())
    }

    pub fn cert_file(&self, service: &str) -> PathBuf {
        self.dir.join(format!("{service}.pem"))
    }

    pub fn key_file(&self, service: &str) -> PathBuf {
        self.dir.join(format!("{service}-key.pem"))
    }

    /// A client certificate naming `caller` (`KIND:CODE`, even one no
    /// service accepts), from the CA for its kind, valid for the development
    /// period; the same one each time (never revoke it: other tests of the
    /// binary call with it).
    pub fn caller(&self, caller: &str) -> Issued {
        let mut issued = self.issued.lock().unwrap();
        issued
            .entry(caller.to_owned())
            .or_insert_with(|| self.issue(caller, Validity::DEVELOPMENT))
            .clone()
    }

    /// Writes the certificates of `callers` (`KIND:CODE`) into the test CAs'
    /// directory, named as the `socsec` command line looks for them.
    pub fn write_callers(&self, callers: &[&str]) {
        for caller in callers {
            self.caller(caller)
                .write(&self.dir, &devpki::stem(caller))
                .expect("write a caller certificate");
        }
    }

    /// A new certificate for `caller` with the given validity, from the CA
    /// for its kind (unknown kinds: the partner CA).
    pub fn issue(&self, caller: &str, validity: Validity) -> Issued {
        let kind = caller
            .split_once(':')
            .and_then(|(k, _)| CallerKind::parse(k));
        let ca = kind.map_or(Ca::Partner, Ca::for_kind);
        self.issue_from(ca, caller, validity)
    }

    /// A new certificate for `caller` from `ca`, whatever its kind (to show
    /// that the wrong CA is refused).
    pub fn issue_from(&self, ca: Ca, caller: &str, validity: Validity) -> Issued {
        let (kind, code) = caller.split_once(':').expect("caller is KIND:CODE");
        self.authority(ca)
            .client_for_uri(&format!("spiffe://socsec/{kind}/{code}"), validity)
            .expect("issue a caller certificate")
    }

    /// Adds `certificate` (issued by `ca`) to `ca`'s revocation list and
    /// rewrites the list's file whole, with the next number; the services
    /// pick it up without a restart.
    pub fn revoke(&self, ca: Ca, certificate: &Issued) {
        let mut revoked = self.revoked.lock().unwrap();
        let list = revoked.entry(ca).or_insert((1, Vec::new()));
        list.1.push(Revoked {
            serial: devpki::serial_of(&certificate.cert_pem).expect("a certificate's serial"),
            at: time::OffsetDateTime::now_utc(),
        });
        self.rewrite_crl(ca, list);
    }

    fn rewrite_crl(&self, ca: Ca, list: &mut (u64, Vec<Revoked>)) {
        list.0 += 1;
        let pem = self
            .authority(ca)
            .crl(&list.1, list.0)
            .expect("sign a revocation list");
        let path = self.crl_file(ca);
        let partial = path.with_extension(format!("{}.partial", list.0));
        std::fs::write(&partial, pem).expect("write a revocation list");
        std::fs::rename(&partial, &path).expect("replace a revocation list");
    }
}

/// A TLS channel to `addr` trusting the servers' CA (the internal CA),
/// presenting `client` (none: no client certificate).
pub fn tls_channel(addr: SocketAddr, client: Option<&Issued>) -> Channel {
    tls_endpoint(addr, client).connect_lazy()
}

/// The endpoint of [`tls_channel`].
fn tls_endpoint(addr: SocketAddr, client: Option<&Issued>) -> Endpoint {
    let server_ca = pki().authority(Ca::Internal).cert_pem().to_owned();
    let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(server_ca));
    if let Some(client) = client {
        tls = tls.identity(Identity::from_pem(&client.cert_pem, &client.key_pem));
    }
    Endpoint::from_shared(format!("https://{addr}"))
        .unwrap()
        .tls_config(tls)
        .expect("client TLS settings")
}

/// A channel to the service at `addr` sending each request with the
/// certificate of its caller, issued by the test CA for its kind.
pub fn caller_channel(addr: SocketAddr) -> CallerChannel {
    CallerChannel::new(move |caller: Option<&str>| {
        let issued = caller.map(|caller| pki().caller(caller));
        Ok(socsec_core::balance::channel(
            vec![tls_endpoint(addr, issued.as_ref())],
            None,
        ))
    })
}

/// Like [`caller_channel`], over several instances of one service: calls
/// are balanced over those answering SERVING (`socsec_core::balance`, as
/// for a comma-separated address).
pub fn balanced_caller_channel(addrs: &[SocketAddr]) -> CallerChannel {
    let addrs = addrs.to_vec();
    CallerChannel::new(move |caller: Option<&str>| {
        let issued = caller.map(|caller| pki().caller(caller));
        let endpoints = addrs
            .iter()
            .map(|addr| tls_endpoint(*addr, issued.as_ref()))
            .collect();
        Ok(socsec_core::balance::channel(endpoints, None))
    })
}

/// An HTTP/1.1-only client (the JSON interface and the medical-insurance
/// envelope) trusting the services' CA, presenting `caller`'s certificate
/// (none: no client certificate).
pub fn http1_client(caller: Option<&str>) -> reqwest::Client {
    let server_ca = pki().authority(Ca::Internal).cert_pem().to_owned();
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .http1_only()
        .tls_built_in_root_certs(false)
        .add_root_certificate(
            reqwest::Certificate::from_pem(server_ca.as_bytes()).expect("the internal CA"),
        );
    if let Some(caller) = caller {
        let issued = pki().caller(caller);
        let pem = format!("{}\n{}", issued.cert_pem, issued.key_pem);
        builder = builder
            .identity(reqwest::Identity::from_pem(pem.as_bytes()).expect("a caller identity"));
    }
    builder.build().expect("an HTTP client")
}

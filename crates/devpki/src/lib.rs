//! Development certificate authorities. They make what mutual TLS needs in
//! development and in the tests: the bureau's two CAs, one certificate per
//! service (server and client), client certificates for callers, and a
//! certificate revocation list (CRL) per CA.
//!
//! - The **partner CA** issues the certificates of partners (banks, outlets,
//!   hospitals, pharmacies, agencies, employers, the hotline).
//! - The **internal CA** issues the certificates of the services (the
//!   servers' own certificates, which are also their client certificates)
//!   and of the bureau's operators.
//!
//! A caller's identity is in its certificate as a URI subject alternative
//! name, `spiffe://socsec/<kind>/<code>` (see [`socsec_core::Caller::uri`]);
//! the services read it from the verified peer certificate and check that
//! the CA for that kind issued it.
//!
//! Certificates, CA certificates and CRLs live in one directory (what the
//! services and callers read); the CA keys in another ([`PkiDirs`]).
//! Production certificates come from the bureau's own CAs; nothing here is
//! meant for them.

pub mod channel;
mod crl;
mod layout;

pub use crl::{Revocation, Revoked, revoke, serial_of};
pub use layout::{Ca, PkiDirs, ensure_development_pki, file_stem, issue_into};

use std::{
    fs,
    io::{self, Write},
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
    path::{Path, PathBuf},
};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
pub use socsec_core::{Caller, CallerKind};

use rcgen::date_time_ymd;

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("certificate generation: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: {problem}")]
    Invalid { path: PathBuf, problem: String },
}

/// A certificate and its private key, both PEM.
#[derive(Clone)]
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
}

/// When a certificate is valid.
#[derive(Clone, Copy, Debug)]
pub struct Validity {
    pub not_before: (i32, u8, u8),
    pub not_after: (i32, u8, u8),
}

impl Validity {
    /// What development certificates get: valid from 2020 to 2099.
    pub const DEVELOPMENT: Validity = Validity {
        not_before: (2020, 1, 1),
        not_after: (2099, 12, 31),
    };
    /// Expired at the end of 2021.
    pub const EXPIRED: Validity = Validity {
        not_before: (2020, 1, 1),
        not_after: (2021, 12, 31),
    };

    fn apply(self, params: &mut CertificateParams) {
        let (y, m, d) = self.not_before;
        params.not_before = date_time_ymd(y, m, d);
        let (y, m, d) = self.not_after;
        params.not_after = date_time_ymd(y, m, d);
    }
}

/// A certificate authority that can issue certificates.
pub struct Authority {
    cert_pem: String,
    key_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Authority {
    /// A new self-signed CA named `name`.
    pub fn new(name: &str) -> Result<Self, PkiError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name(name);
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        Validity::DEVELOPMENT.apply(&mut params);
        let cert = params.self_signed(&key)?;
        let key_pem = key.serialize_pem();
        Ok(Self {
            cert_pem: cert.pem(),
            key_pem,
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA made earlier and written by [`Authority::write`].
    pub fn load(dirs: &PkiDirs, ca: Ca) -> Result<Self, PkiError> {
        let cert_pem = read(&dirs.certs.join(ca.cert_file()))?;
        let key_pem = read(&dirs.keys.join(ca.key_file()))?;
        let key = KeyPair::from_pem(&key_pem)?;
        let issuer = Issuer::from_ca_cert_pem(&cert_pem, key)?;
        Ok(Self {
            cert_pem,
            key_pem,
            issuer,
        })
    }

    /// The CA's certificate, PEM: what every party trusts.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// A certificate for service `name` (e.g. `card-issuance`): a server
    /// certificate for `localhost`, 127.0.0.1 and ::1 (plus `hosts`), and a
    /// client certificate naming the service as caller.
    pub fn service(&self, name: &str, hosts: &[String]) -> Result<Issued, PkiError> {
        let caller = Caller::new(CallerKind::Service, name);
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name(&caller.to_string());
        let mut names = vec![
            SanType::DnsName("localhost".try_into()?),
            SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            SanType::URI(caller.uri().try_into()?),
        ];
        for host in hosts {
            names.push(match host.parse::<IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName(host.clone().try_into()?),
            });
        }
        params.subject_alt_names = names;
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        self.sign(params, Validity::DEVELOPMENT)
    }

    /// A server-only certificate for the web portal (`localhost`,
    /// 127.0.0.1, ::1, plus `hosts`): no caller URI and no client use, so
    /// it speaks for nobody to the services.
    pub fn web_server(&self, hosts: &[String]) -> Result<Issued, PkiError> {
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name("socsec portal");
        let mut names = vec![
            SanType::DnsName("localhost".try_into()?),
            SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        ];
        for host in hosts {
            names.push(match host.parse::<IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName(host.clone().try_into()?),
            });
        }
        params.subject_alt_names = names;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.sign(params, Validity::DEVELOPMENT)
    }

    /// A client certificate for `caller` (a partner or an operator).
    pub fn caller(&self, caller: &Caller, validity: Validity) -> Result<Issued, PkiError> {
        self.client_for_uri(&caller.uri(), validity)
    }

    /// A client certificate naming `uri` (tests use it for names no service
    /// accepts).
    pub fn client_for_uri(&self, uri: &str, validity: Validity) -> Result<Issued, PkiError> {
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name(uri);
        params.subject_alt_names = vec![SanType::URI(uri.to_owned().try_into()?)];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.sign(params, validity)
    }

    fn sign(&self, mut params: CertificateParams, validity: Validity) -> Result<Issued, PkiError> {
        validity.apply(&mut params);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// Writes the CA's certificate into `dirs.certs` and its key into
    /// `dirs.keys` (made mode 0700), as `ca`.
    pub fn write(&self, dirs: &PkiDirs, ca: Ca) -> Result<(), PkiError> {
        layout::create_private_dir(&dirs.keys)?;
        write(&dirs.certs.join(ca.cert_file()), &self.cert_pem, false)?;
        write(&dirs.keys.join(ca.key_file()), &self.key_pem, true)
    }
}

/// The four services.
pub const SERVICES: [&str; 4] = ["identity", "card-issuance", "activation", "contribution"];

/// The web portal as a caller (`spiffe://socsec/portal/web`, issued by the
/// internal CA, `portal-web.pem`): what it presents to identity with a
/// person's `SignIn`, to name the browser's address; nothing else.
pub const PORTAL_CALLER: (CallerKind, &str) = (CallerKind::Portal, "web");

/// The sample callers whose certificates the development setup makes: an
/// operator and one partner of each kind, the ones `socsec seed-demo`
/// registers.
pub const SAMPLE_CALLERS: [(CallerKind, &str); 9] = [
    (CallerKind::Operator, "OP0001"),
    (CallerKind::Bank, "ICBC"),
    // The collecting bank contributions are paid through.
    (CallerKind::Bank, "BOC"),
    (CallerKind::BankOutlet, "ICBC-0101"),
    (CallerKind::Hospital, "H-DEMO"),
    (CallerKind::Pharmacy, "P-DEMO"),
    (CallerKind::HotlineCenter, "HL-12333"),
    (CallerKind::HrAgency, "HRA-DEMO"),
    (CallerKind::Employer, "EMP-DEMO"),
];

impl Issued {
    /// Writes `<stem>.pem` and `<stem>-key.pem` into `dir`.
    pub fn write(&self, dir: &Path, stem: &str) -> Result<(), PkiError> {
        write(&dir.join(format!("{stem}.pem")), &self.cert_pem, false)?;
        write(&dir.join(format!("{stem}-key.pem")), &self.key_pem, true)
    }
}

/// The file stem of a caller's certificate: `bank_outlet-ICBC-0101` for
/// `bank_outlet:ICBC-0101`.
pub fn stem(caller: &str) -> String {
    caller.replacen(':', "-", 1)
}

pub(crate) fn caller_stem(caller: &Caller) -> String {
    stem(&caller.to_string())
}

fn distinguished_name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "socsec development");
    name.push(DnType::CommonName, common_name);
    name
}

pub(crate) fn read(path: &Path) -> Result<String, PkiError> {
    fs::read_to_string(path).map_err(|source| PkiError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Writes `contents` to `path` whole or not at all: into a new file beside
/// it, then renamed over it, so a program reading the certificate or key
/// meanwhile (a client starting up, a service reloading a CRL) never sees
/// it half written. Private keys are readable by the owner only.
pub(crate) fn write(path: &Path, contents: &str, private: bool) -> Result<(), PkiError> {
    let io = |source| PkiError::Io {
        path: path.to_owned(),
        source,
    };
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut partial = path.as_os_str().to_owned();
    partial.push(format!(".{}-{n}.partial", std::process::id()));
    let partial = std::path::PathBuf::from(partial);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(&partial).map_err(io)?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .and_then(|()| fs::rename(&partial, path))
        .map_err(|e| {
            let _ = fs::remove_file(&partial);
            io(e)
        })
}

//! Issuers per caller kind and revocation lists, against devpki's CAs.

use std::path::{Path, PathBuf};

use devpki::{Authority, Issued, Revoked, Validity};
use tonic::Code;

use super::*;

struct Pki {
    dir: PathBuf,
    partner: Authority,
    internal: Authority,
}

impl Pki {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("socsec-trust-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let pki = Self {
            dir,
            partner: Authority::new("partner CA").unwrap(),
            internal: Authority::new("internal CA").unwrap(),
        };
        pki.write_crl(Ca::Partner, &[], 1);
        pki.write_crl(Ca::Internal, &[], 1);
        pki
    }

    fn authority(&self, ca: Ca) -> &Authority {
        match ca {
            Ca::Partner => &self.partner,
            Ca::Internal => &self.internal,
        }
    }

    fn crl_path(&self, ca: Ca) -> PathBuf {
        self.dir.join(format!("{}.crl.pem", ca.as_str()))
    }

    fn write_crl(&self, ca: Ca, revoked: &[&Issued], number: u64) {
        let revoked: Vec<Revoked> = revoked
            .iter()
            .map(|issued| Revoked {
                serial: devpki::serial_of(&issued.cert_pem).unwrap(),
                at: time::OffsetDateTime::now_utc(),
            })
            .collect();
        let pem = self.authority(ca).crl(&revoked, number).unwrap();
        write_whole(&self.crl_path(ca), pem.as_bytes());
    }

    fn files(&self, ca: Ca) -> CaFiles {
        CaFiles {
            ca,
            cert_pem: self.authority(ca).cert_pem().as_bytes().to_vec(),
            cert_key: "ca",
            crl_path: self.crl_path(ca),
            crl_key: "crl",
        }
    }

    fn trust(&self) -> Result<Trust, ConfigError> {
        Trust::load(self.files(Ca::Partner), self.files(Ca::Internal))
    }

    fn issue(&self, ca: Ca, caller: &str) -> Issued {
        let (kind, code) = caller.split_once(':').unwrap();
        self.authority(ca)
            .client_for_uri(
                &format!("spiffe://socsec/{kind}/{code}"),
                Validity::DEVELOPMENT,
            )
            .unwrap()
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn write_whole(path: &Path, bytes: &[u8]) {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, bytes).unwrap();
    std::fs::rename(partial, path).unwrap();
}

fn der(issued: &Issued) -> Vec<u8> {
    first_pem(issued.cert_pem.as_bytes()).unwrap()
}

fn reason(status: &Status) -> String {
    use tonic_types::StatusExt;
    status.get_details_error_info().unwrap().reason
}

fn reload(trust: &Trust) {
    for authority in &trust.authorities {
        authority
            .crl
            .reload_if_changed(&authority.subject, &authority.public_key);
    }
}

#[test]
fn each_caller_kind_must_come_from_its_own_ca() {
    let pki = Pki::new("issuers");
    let trust = pki.trust().unwrap();
    for (ca, caller) in [
        (Ca::Partner, "bank:ICBC"),
        (Ca::Partner, "pharmacy:P-1"),
        (Ca::Internal, "service:activation"),
        (Ca::Internal, "operator:OP0001"),
    ] {
        let named = trust.caller(&der(&pki.issue(ca, caller))).unwrap();
        assert_eq!(named.to_string(), caller);
    }
    for (ca, caller) in [
        (Ca::Partner, "service:activation"),
        (Ca::Partner, "operator:OP0001"),
        (Ca::Internal, "bank:ICBC"),
        (Ca::Internal, "hotline_center:HL-1"),
    ] {
        let refused = trust.caller(&der(&pki.issue(ca, caller))).unwrap_err();
        assert_eq!(refused.code(), Code::Unauthenticated, "{caller}");
        assert_eq!(reason(&refused), "CERTIFICATE_ISSUER_MISMATCH", "{caller}");
    }
    // Neither CA: refused even though it names an operator.
    let stranger = Authority::new("stranger CA")
        .unwrap()
        .client_for_uri("spiffe://socsec/operator/OP0001", Validity::DEVELOPMENT)
        .unwrap();
    let refused = trust.caller(&der(&stranger)).unwrap_err();
    assert_eq!(reason(&refused), "CERTIFICATE_ISSUER_MISMATCH");
}

#[test]
fn a_rewritten_list_revokes_and_a_bad_or_older_one_keeps_the_last_good() {
    let pki = Pki::new("revocation");
    let trust = pki.trust().unwrap();
    let bank = pki.issue(Ca::Partner, "bank:ICBC");
    let other_bank = pki.issue(Ca::Partner, "bank:CCB");
    trust.caller(&der(&bank)).unwrap();

    pki.write_crl(Ca::Partner, &[&bank], 2);
    reload(&trust);
    let refused = trust.caller(&der(&bank)).unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert_eq!(reason(&refused), "CERTIFICATE_REVOKED");
    trust.caller(&der(&other_bank)).unwrap();

    // Garbage, a list signed by the other CA, an older list, a missing
    // file: none is taken; the bank stays revoked.
    write_whole(
        &pki.crl_path(Ca::Partner),
        b"-----BEGIN X509 CRL-----\nAAAA\n",
    );
    reload(&trust);
    let forged = pki.internal.crl(&[], 9).unwrap();
    write_whole(&pki.crl_path(Ca::Partner), forged.as_bytes());
    reload(&trust);
    pki.write_crl(Ca::Partner, &[], 1);
    reload(&trust);
    std::fs::remove_file(pki.crl_path(Ca::Partner)).unwrap();
    reload(&trust);
    assert_eq!(
        reason(&trust.caller(&der(&bank)).unwrap_err()),
        "CERTIFICATE_REVOKED"
    );

    // A newer good list is taken again.
    pki.write_crl(Ca::Partner, &[&other_bank], 3);
    reload(&trust);
    trust.caller(&der(&bank)).unwrap();
    assert_eq!(
        reason(&trust.caller(&der(&other_bank)).unwrap_err()),
        "CERTIFICATE_REVOKED"
    );
}

#[test]
fn a_list_that_does_not_verify_stops_the_start() {
    let pki = Pki::new("start");
    let forged = pki.partner.crl(&[], 1).unwrap();
    write_whole(&pki.crl_path(Ca::Internal), forged.as_bytes());
    let err = pki.trust().err().unwrap().to_string();
    assert!(err.contains("crl"), "{err}");
    assert!(err.contains("another CA"), "{err}");

    let err = Trust::load(pki.files(Ca::Partner), pki.files(Ca::Partner))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("two different CAs"), "{err}");
}

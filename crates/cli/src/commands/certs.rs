//! `socsec certs`: development certificates for the services, the demo's
//! partners and operator OP0001, and for partners onboarded later, each
//! from the CA for its kind; `socsec certs revoke` puts one on its CA's
//! revocation list.

use clap::Subcommand;
use devpki::PkiDirs;
use socsec_core::{Caller, CallerKind};

use crate::connection::{Connection, Failure, Outcome};

#[derive(Subcommand)]
pub enum CertsAction {
    /// Puts a caller's certificate (the one in `--certs`) on the revocation
    /// list of the CA that issued it and rewrites that list; the services
    /// refuse the certificate within `tls_crl_reload_ms` (2 s by default),
    /// without a restart.
    Revoke {
        /// KIND:CODE of the caller (`service:NAME` for a service).
        caller: String,
    },
}

fn dirs(c: &Connection) -> PkiDirs {
    PkiDirs::new(&c.certs, c.ca_keys.as_deref())
}

pub(super) fn make(c: &Connection, issue: Option<String>, host: &[String]) -> Outcome {
    let dirs = dirs(c);
    let written =
        devpki::ensure_development_pki(&dirs, host).map_err(|e| Failure::Usage(e.to_string()))?;
    for path in &written {
        println!("wrote {}", path.display());
    }
    if let Some(caller) = issue {
        let caller = Caller::parse(&caller)
            // Services' certificates come with the setup; persons
            // have none.
            .filter(|c| c.kind.is_partner() || c.kind == CallerKind::Operator)
            .ok_or_else(|| {
                Failure::Usage(format!(
                    "--issue {caller}: expected KIND:CODE of a partner or an operator"
                ))
            })?;
        let path = devpki::issue_into(&dirs, &caller).map_err(|e| Failure::Usage(e.to_string()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

pub(super) fn revoke(c: &Connection, caller: &str) -> Outcome {
    let parsed = Caller::parse(caller)
        .filter(|c| c.kind != CallerKind::Person)
        .ok_or_else(|| {
            Failure::Usage(format!(
                "revoke {caller}: expected KIND:CODE of a partner, an operator or a service"
            ))
        })?;
    let dirs = dirs(c);
    let path = dirs
        .certs
        .join(format!("{}.pem", devpki::file_stem(&parsed)));
    let pem = std::fs::read_to_string(&path)
        .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    let done = devpki::revoke(&dirs, &pem).map_err(|e| Failure::Usage(e.to_string()))?;
    let ca = match done.ca {
        devpki::Ca::Partner => "the partner CA",
        devpki::Ca::Internal => "the internal CA",
    };
    if done.already {
        println!(
            "{caller}'s certificate (serial {}) is already on {ca}'s revocation list",
            done.serial
        );
    } else {
        let next = if parsed.kind == CallerKind::Service {
            format!(
                "remove {} and run `socsec certs` for a new one",
                path.display()
            )
        } else {
            format!("`socsec certs --issue {caller}` issues a new one")
        };
        println!(
            "revoked {caller}'s certificate (serial {}): rewrote {} ({ca}); {next}",
            done.serial,
            done.crl.display()
        );
    }
    Ok(())
}

//! `socsec certs`: development certificates for the services, the demo's
//! partners and operator OP0001, and for partners onboarded later.

use crate::connection::{Connection, Failure, Outcome};

pub(super) fn make(c: &Connection, issue: Option<String>, host: &[String]) -> Outcome {
    let written = devpki::ensure_development_pki(&c.certs, host)
        .map_err(|e| Failure::Usage(e.to_string()))?;
    for path in &written {
        println!("wrote {}", path.display());
    }
    if let Some(caller) = issue {
        let caller = socsec_core::Caller::parse(&caller)
            // Services' certificates come with the setup; persons
            // have none.
            .filter(|c| c.kind.is_partner() || c.kind == socsec_core::CallerKind::Operator)
            .ok_or_else(|| {
                Failure::Usage(format!(
                    "--issue {caller}: expected KIND:CODE of a partner or an operator"
                ))
            })?;
        let path =
            devpki::issue_into(&c.certs, &caller).map_err(|e| Failure::Usage(e.to_string()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

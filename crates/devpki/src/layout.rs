//! Where a development PKI lives and what `socsec certs` makes in it: the
//! two CAs (certificates in the certificates directory, keys in a directory
//! of their own), an empty revocation list for each, the services' and the
//! sample callers' certificates.

use std::{
    fs,
    path::{Path, PathBuf},
};

use crate::{
    Authority, Caller, CallerKind, PORTAL_CALLER, PkiError, SAMPLE_CALLERS, SERVICES, Validity,
    caller_stem, write,
};

/// Which of the bureau's two CAs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ca {
    /// Issues partners' certificates.
    Partner,
    /// Issues the services' and the operators' certificates.
    Internal,
}

impl Ca {
    pub const BOTH: [Ca; 2] = [Ca::Partner, Ca::Internal];

    /// The CA that issues certificates to callers of `kind`: partners from
    /// the partner CA, services and operators from the internal CA.
    pub fn for_kind(kind: CallerKind) -> Ca {
        if kind.is_partner() {
            Ca::Partner
        } else {
            Ca::Internal
        }
    }

    /// `partner-ca` or `internal-ca`: the stem of its files.
    pub fn stem(self) -> &'static str {
        match self {
            Ca::Partner => "partner-ca",
            Ca::Internal => "internal-ca",
        }
    }

    /// Its certificate's file name in the certificates directory.
    pub fn cert_file(self) -> String {
        format!("{}.pem", self.stem())
    }

    /// Its CRL's file name in the certificates directory.
    pub fn crl_file(self) -> String {
        format!("{}.crl.pem", self.stem())
    }

    /// Its key's file name in the CA keys directory.
    pub fn key_file(self) -> String {
        format!("{}-key.pem", self.stem())
    }
}

/// Where a development PKI lives: `certs`, what the services and callers
/// read (CA certificates, CRLs, certificates and their keys), and `keys`,
/// the CA keys (a directory of their own, mode 0700, that no service's
/// configuration names).
#[derive(Clone, Debug)]
pub struct PkiDirs {
    pub certs: PathBuf,
    pub keys: PathBuf,
}

impl PkiDirs {
    /// `certs`, with the CA keys in `<certs>-ca-keys` beside it unless
    /// `keys` is given.
    pub fn new(certs: &Path, keys: Option<&Path>) -> Self {
        let keys = keys.map(Path::to_path_buf).unwrap_or_else(|| {
            let mut beside = certs.as_os_str().to_owned();
            beside.push("-ca-keys");
            PathBuf::from(beside)
        });
        Self {
            certs: certs.to_owned(),
            keys,
        }
    }
}

/// Issues a certificate for `caller` from the CA for its kind and writes it
/// into `dirs.certs` (for a partner onboarded after the first setup).
pub fn issue_into(dirs: &PkiDirs, caller: &Caller) -> Result<PathBuf, PkiError> {
    refuse_single_ca_layout(&dirs.certs)?;
    let stem = caller_stem(caller);
    Authority::load(dirs, Ca::for_kind(caller.kind))?
        .caller(caller, Validity::DEVELOPMENT)?
        .write(&dirs.certs, &stem)?;
    Ok(dirs.certs.join(format!("{stem}.pem")))
}

/// The file stem of `caller`'s certificate in the certificates directory:
/// the service's name for a service, `<kind>-<code>` for anyone else.
pub fn file_stem(caller: &Caller) -> String {
    if caller.kind == CallerKind::Service {
        caller.code.clone()
    } else {
        caller_stem(caller)
    }
}

/// Makes the two CAs (unless they are there), an empty CRL for each, and
/// the certificates of the four services, of the web portal (its HTTPS
/// server certificate, and the client certificate it signs persons in with)
/// and of the sample callers that
/// are not there yet. A CA's key is only read when something must be
/// issued or signed. Returns the files it wrote.
pub fn ensure_development_pki(dirs: &PkiDirs, hosts: &[String]) -> Result<Vec<PathBuf>, PkiError> {
    create_dir(&dirs.certs)?;
    refuse_single_ca_layout(&dirs.certs)?;
    let mut cas = Authorities {
        dirs,
        loaded: Vec::new(),
        written: Vec::new(),
    };
    for ca in Ca::BOTH {
        let crl = dirs.certs.join(ca.crl_file());
        if !crl.exists() {
            let pem = cas.get(ca)?.crl(&[], 1)?;
            write(&crl, &pem, false)?;
            cas.written.push(crl);
        }
    }
    for service in SERVICES {
        if !dirs.certs.join(format!("{service}.pem")).exists() {
            cas.get(Ca::Internal)?
                .service(service, hosts)?
                .write(&dirs.certs, service)?;
            cas.written.push(dirs.certs.join(format!("{service}.pem")));
        }
    }
    // The web portal's HTTPS certificate (server use only).
    if !dirs.certs.join("portal.pem").exists() {
        cas.get(Ca::Internal)?
            .web_server(hosts)?
            .write(&dirs.certs, "portal")?;
        cas.written.push(dirs.certs.join("portal.pem"));
    }
    // Its client certificate: to name, on a person's `SignIn`, the address
    // of the browser it signs in for.
    for (kind, code) in [PORTAL_CALLER].into_iter().chain(SAMPLE_CALLERS) {
        let caller = Caller::new(kind, code);
        let stem = caller_stem(&caller);
        if !dirs.certs.join(format!("{stem}.pem")).exists() {
            cas.get(Ca::for_kind(kind))?
                .caller(&caller, Validity::DEVELOPMENT)?
                .write(&dirs.certs, &stem)?;
            cas.written.push(dirs.certs.join(format!("{stem}.pem")));
        }
    }
    Ok(cas.written)
}

/// The CAs of a directory, loaded (or made) on first use.
struct Authorities<'a> {
    dirs: &'a PkiDirs,
    loaded: Vec<(Ca, Authority)>,
    written: Vec<PathBuf>,
}

impl Authorities<'_> {
    fn get(&mut self, ca: Ca) -> Result<&Authority, PkiError> {
        if let Some(i) = self.loaded.iter().position(|(c, _)| *c == ca) {
            return Ok(&self.loaded[i].1);
        }
        let authority = if self.dirs.certs.join(ca.cert_file()).exists() {
            Authority::load(self.dirs, ca)?
        } else {
            let name = match ca {
                Ca::Partner => "socsec development partner CA",
                Ca::Internal => "socsec development internal CA",
            };
            let authority = Authority::new(name)?;
            authority.write(self.dirs, ca)?;
            self.written.push(self.dirs.certs.join(ca.cert_file()));
            authority
        };
        self.loaded.push((ca, authority));
        Ok(&self.loaded.last().expect("just pushed").1)
    }
}

/// A directory from before the two CAs (`ca.pem`, one CA for everyone)
/// cannot be extended: its certificates chain to a CA no service trusts now.
fn refuse_single_ca_layout(certs: &Path) -> Result<(), PkiError> {
    let old = certs.join("ca.pem");
    if old.exists() && !certs.join(Ca::Internal.cert_file()).exists() {
        return Err(PkiError::Invalid {
            path: certs.to_owned(),
            problem: "holds certificates from a single development CA (`ca.pem`, an earlier \
                      version); move the directory away and run `socsec certs` again to \
                      make the partner and internal CAs"
                .into(),
        });
    }
    Ok(())
}

fn create_dir(dir: &Path) -> Result<(), PkiError> {
    fs::create_dir_all(dir).map_err(|source| PkiError::Io {
        path: dir.to_owned(),
        source,
    })
}

/// Makes `dir` readable by its owner only (0700).
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), PkiError> {
    create_dir(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(|source| {
            PkiError::Io {
                path: dir.to_owned(),
                source,
            }
        })?;
    }
    Ok(())
}

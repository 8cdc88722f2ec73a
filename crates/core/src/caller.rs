//! Who is calling: the caller vocabulary every socsec program shares (the
//! services' auth layer, the CLI, the development CA).

use std::fmt;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The `ErrorInfo.domain` of every socsec error.
pub const ERROR_DOMAIN: &str = "socsec";

pub const DEV_CALLER_HEADER: &str = "x-socsec-dev-caller";
/// Sent by a service calling another for a caller of its own: `KIND:CODE`.
pub const ON_BEHALF_OF_HEADER: &str = "x-socsec-on-behalf-of";
/// Sent with [`ON_BEHALF_OF_HEADER`]: that caller's request id.
pub const ORIGIN_REQUEST_ID_HEADER: &str = "x-socsec-origin-request-id";
/// Sent by the web portal with a person's `SignIn`: the address of the
/// browser it signs in for (believed only from a [`CallerKind::Portal`]).
pub const CLIENT_ADDRESS_HEADER: &str = "x-socsec-client-address";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallerKind {
    /// A social security bureau operator at a counter or back office.
    Operator,
    /// Another socsec service.
    Service,
    /// A person, signed in online.
    Person,
    /// The web portal persons sign in through: it may name, on `SignIn`,
    /// the browser's address (so that sign-in limits are per browser, not
    /// one allowance for every person behind the portal); it may call
    /// nothing as itself — every other call it makes is the person's.
    Portal,
    Bank,
    BankOutlet,
    Hospital,
    Pharmacy,
    HrAgency,
    Employer,
    HotlineCenter,
}

impl CallerKind {
    pub const ALL: [CallerKind; 11] = [
        Self::Operator,
        Self::Service,
        Self::Person,
        Self::Portal,
        Self::Bank,
        Self::BankOutlet,
        Self::Hospital,
        Self::Pharmacy,
        Self::HrAgency,
        Self::Employer,
        Self::HotlineCenter,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operator => "operator",
            Self::Service => "service",
            Self::Person => "person",
            Self::Portal => "portal",
            Self::Bank => "bank",
            Self::BankOutlet => "bank_outlet",
            Self::Hospital => "hospital",
            Self::Pharmacy => "pharmacy",
            Self::HrAgency => "hr_agency",
            Self::Employer => "employer",
            Self::HotlineCenter => "hotline_center",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == value)
    }

    /// Organisations registered in identity's partner registry.
    pub fn is_partner(self) -> bool {
        !matches!(
            self,
            Self::Operator | Self::Service | Self::Person | Self::Portal
        )
    }
}

/// How a caller is named in its certificate.
const URI_PREFIX: &str = "spiffe://socsec/";

/// The authenticated caller of one request.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Caller {
    pub kind: CallerKind,
    /// Operator id, partner code, service name or person id.
    pub code: String,
    /// For a service calling for a caller of its own: whom it acts for.
    pub on_behalf_of: Option<Box<OnBehalfOf>>,
}

/// Whom a service acts for when it calls another service: the caller it is
/// serving and that caller's request id. Only believed from services.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OnBehalfOf {
    /// `KIND:CODE`.
    pub caller: String,
    pub request_id: Option<String>,
}

impl Caller {
    pub fn new(kind: CallerKind, code: impl Into<String>) -> Self {
        Self {
            kind,
            code: code.into(),
            on_behalf_of: None,
        }
    }

    /// The caller of a request that passed the auth layer.
    pub fn of<T>(request: &tonic::Request<T>) -> Result<Caller, Status> {
        request
            .extensions()
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| {
                let details = ErrorDetails::with_error_info(
                    "CREDENTIAL_MISSING",
                    ERROR_DOMAIN,
                    std::collections::HashMap::new(),
                );
                Status::with_error_details(Code::Unauthenticated, "no credential", details)
            })
    }

    pub fn is(&self, kind: CallerKind) -> bool {
        self.kind == kind
    }

    /// `KIND:CODE`, e.g. `bank_outlet:ICBC-0101`.
    pub fn parse(value: &str) -> Option<Caller> {
        let (kind, code) = value.split_once(':')?;
        Self::checked(kind, code)
    }

    /// The caller's name in a certificate: `spiffe://socsec/<kind>/<code>`.
    pub fn uri(&self) -> String {
        format!("{URI_PREFIX}{}/{}", self.kind.as_str(), self.code)
    }

    /// The caller a certificate's URI names; `None` for any other URI.
    pub fn from_uri(uri: &str) -> Option<Caller> {
        let (kind, code) = uri.strip_prefix(URI_PREFIX)?.split_once('/')?;
        Self::checked(kind, code)
    }

    fn checked(kind: &str, code: &str) -> Option<Caller> {
        let kind = CallerKind::parse(kind)?;
        let valid = !code.is_empty()
            && code.len() <= 64
            && code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
        valid.then(|| Caller::new(kind, code))
    }
}

impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.code)
    }
}

//! Who is calling, and may they call this RPC.
//!
//! A tower layer in front of every service reads the caller's credential,
//! checks it against the service's [`Policy`] (one table per service: RPC →
//! caller kinds allowed), refuses with `UNAUTHENTICATED` or
//! `PERMISSION_DENIED` and a reason, and otherwise puts the [`Caller`] in the
//! request's extensions for the handler.
//!
//! Credentials, in this order:
//! - `authorization: Bearer <session token>`: a person signed in online;
//! - the client certificate of the TLS connection, naming the caller as
//!   `spiffe://socsec/<kind>/<code>`, issued by the CA for that kind and not
//!   revoked ([`crate::trust`]); partners named so must be registered in
//!   identity's partner registry under that kind ([`PartnerRegistry`]);
//! - `x-socsec-dev-caller: <kind>:<code>` (e.g. `bank_outlet:ICBC-0101`):
//!   a development credential, accepted only when `dev_credentials` is on.

use std::{
    sync::Arc,
    task::{Context, Poll},
};

use futures::future::BoxFuture;
use tonic::{
    Code, Status,
    transport::server::{TcpConnectInfo, TlsConnectInfo},
};
use tower::{Layer, Service};

use crate::{
    clock::Clock,
    error,
    idempotency::RequestId,
    session::{SessionId, SessionKeys},
    trust::Trust,
};

pub use socsec_core::caller::{
    CLIENT_ADDRESS_HEADER, Caller, CallerKind, DEV_CALLER_HEADER, ON_BEHALF_OF_HEADER,
    ORIGIN_REQUEST_ID_HEADER, OnBehalfOf,
};

/// Identity's partner registry, as the auth layer asks it: is this caller a
/// registered partner of its kind? Identity answers from its own tables;
/// the other services ask identity (and remember the answer a while).
/// It is also identity's word on whether a person's session is still live.
pub trait PartnerRegistry: Send + Sync + 'static {
    fn ensure_registered(&self, caller: Caller) -> BoxFuture<'static, Result<(), Status>>;

    /// `Ok` if `session` of `person` is live, else `SESSION_REVOKED`, or
    /// `UNAVAILABLE` if that cannot be known (the default: fail closed).
    fn ensure_session_live(
        &self,
        _: SessionId,
        _: Caller,
    ) -> BoxFuture<'static, Result<(), Status>> {
        Box::pin(async { Err(crate::session::status_unavailable()) })
    }
}

/// Who may call an RPC.
#[derive(Clone, Copy, Debug)]
pub enum Access {
    /// Anyone, even without a credential (e.g. signing in).
    Anyone,
    /// Only callers of these kinds.
    Only(&'static [CallerKind]),
}

/// What every service serves besides its own RPCs, and who may call it.
pub const PLATFORM_RULES: &[(&str, Access)] = &[(
    "/socsec.audit.v1.AuditService/ListAuditRecords",
    Access::Only(&[CallerKind::Operator]),
)];

/// One service's authorization table: full method path
/// (`/socsec.identity.v1.IdentityService/GetPerson`) → who may call it.
/// A method missing from the table is refused: the table fails closed.
#[derive(Debug)]
pub struct Policy {
    pub rules: &'static [(&'static str, Access)],
}

impl Policy {
    /// Methods of `service` (`socsec.card.v1.CardService`) in the compiled
    /// descriptors without a rule, and rules naming no such method. Empty
    /// when the table covers the service exactly; each service tests this.
    pub fn coverage_gaps(&self, service: &str) -> Vec<String> {
        let set = <prost_types::FileDescriptorSet as prost::Message>::decode(
            socsec_proto::FILE_DESCRIPTOR_SET,
        )
        .expect("compiled descriptors decode");
        let (package, name) = service.rsplit_once('.').unwrap_or(("", service));
        let methods: Vec<String> = set
            .file
            .iter()
            .filter(|f| f.package() == package)
            .flat_map(|f| &f.service)
            .filter(|s| s.name() == name)
            .flat_map(|s| &s.method)
            .map(|m| format!("/{service}/{}", m.name()))
            .collect();
        let mut gaps: Vec<String> = methods
            .iter()
            .filter(|m| !self.rules.iter().any(|(rule, _)| rule == m))
            .map(|m| format!("no rule for {m}"))
            .collect();
        gaps.extend(
            self.rules
                .iter()
                .filter(|(rule, _)| !methods.iter().any(|m| m == rule))
                .map(|(rule, _)| format!("rule for unknown method {rule}")),
        );
        gaps
    }

    fn access(&self, path: &str) -> Option<Access> {
        if path.starts_with("/grpc.health.v1.") || path.starts_with("/grpc.reflection.") {
            return Some(Access::Anyone);
        }
        if let Some((_, access)) = PLATFORM_RULES.iter().find(|(method, _)| *method == path) {
            return Some(*access);
        }
        self.rules
            .iter()
            .find(|(method, _)| *method == path)
            .map(|(_, access)| *access)
    }
}

struct AuthState {
    policy: &'static Policy,
    dev_credentials: bool,
    sessions: Option<SessionKeys>,
    clock: Arc<dyn Clock>,
    registry: Arc<dyn PartnerRegistry>,
    /// The CAs and revocation lists client certificates are checked
    /// against; `None` over plaintext (no certificates then).
    certificates: Option<Arc<Trust>>,
}

/// The tower layer that authenticates and authorizes every call.
#[derive(Clone)]
pub struct AuthLayer(Arc<AuthState>);

impl AuthLayer {
    /// `certificates`: the CAs and revocation lists client certificates are
    /// checked against (issuer per caller kind, revocation); without them
    /// every call with a certificate is refused.
    pub fn new(
        policy: &'static Policy,
        dev_credentials: bool,
        sessions: Option<SessionKeys>,
        clock: Arc<dyn Clock>,
        registry: Arc<dyn PartnerRegistry>,
        certificates: Option<Arc<Trust>>,
    ) -> Self {
        Self(Arc::new(AuthState {
            policy,
            dev_credentials,
            sessions,
            clock,
            registry,
            certificates,
        }))
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            state: self.0.clone(),
        }
    }
}

#[derive(Clone)]
pub struct AuthService<S> {
    inner: S,
    state: Arc<AuthState>,
}

impl AuthState {
    fn authenticate<B>(&self, request: &http::Request<B>) -> Result<Option<Caller>, Status> {
        let headers = request.headers();
        let certificate = request
            .extensions()
            .get::<TlsConnectInfo<TcpConnectInfo>>()
            .and_then(|info| info.peer_certs())
            .and_then(|chain| chain.first().cloned());
        if certificate.is_some() && headers.contains_key(http::header::AUTHORIZATION) {
            // One caller per call: an organisation's connection does not
            // carry a person's session, nor the other way round.
            return Err(error::status(
                Code::Unauthenticated,
                "CREDENTIALS_AMBIGUOUS",
                "send either a client certificate or a session token, not both",
            ));
        }
        if let Some(value) = headers.get(http::header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or_else(|| {
                    error::status(
                        Code::Unauthenticated,
                        "CREDENTIAL_INVALID",
                        "authorization must be `Bearer <token>`",
                    )
                })?;
            let sessions = self.sessions.as_ref().ok_or_else(|| {
                error::status(
                    Code::Unauthenticated,
                    "CREDENTIAL_INVALID",
                    "this service does not accept session tokens",
                )
            })?;
            let claims = crate::session::claims(sessions, token, self.clock.now())?;
            return Ok(Some(Caller::new(CallerKind::Person, claims.person_id)));
        }
        if let Some(certificate) = certificate {
            // Fail closed: a certificate nobody can check names no one.
            let trust = self.certificates.as_ref().ok_or_else(|| {
                error::status(
                    Code::Unauthenticated,
                    "CERTIFICATE_IDENTITY_INVALID",
                    "this service does not check client certificates",
                )
            })?;
            return trust
                .caller(&certificate)
                .map(|c| Some(with_origin(c, headers)));
        }
        if let Some(value) = headers.get(DEV_CALLER_HEADER) {
            if !self.dev_credentials {
                return Err(error::status(
                    Code::Unauthenticated,
                    "DEV_CREDENTIALS_DISABLED",
                    "development credentials are not accepted by this deployment",
                ));
            }
            let caller = value.to_str().ok().and_then(Caller::parse).ok_or_else(|| {
                error::status(
                    Code::Unauthenticated,
                    "CREDENTIAL_INVALID",
                    format!("{DEV_CALLER_HEADER} must be KIND:CODE"),
                )
            })?;
            return Ok(Some(with_origin(caller, headers)));
        }
        Ok(None)
    }

    fn authorize(&self, path: &str, caller: Option<&Caller>) -> Result<(), Status> {
        match (self.policy.access(path), caller) {
            (None, _) => Err(error::status(
                Code::PermissionDenied,
                "METHOD_NOT_ALLOWED",
                "no caller may call this method",
            )),
            (Some(Access::Anyone), _) => Ok(()),
            (Some(Access::Only(_)), None) => Err(error::status(
                Code::Unauthenticated,
                "CREDENTIAL_MISSING",
                "this method needs a credential",
            )),
            (Some(Access::Only(kinds)), Some(caller)) if kinds.contains(&caller.kind) => Ok(()),
            (Some(Access::Only(_)), Some(caller)) => Err(error::status(
                Code::PermissionDenied,
                "CALLER_KIND_NOT_ALLOWED",
                format!("a {} may not call this method", caller.kind.as_str()),
            )),
        }
    }
}

impl<S, B> Service<http::Request<B>> for AuthService<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let path = request.uri().path().to_owned();
        let outcome = self.state.authenticate(&request).and_then(|caller| {
            self.state.authorize(&path, caller.as_ref())?;
            Ok(caller)
        });
        // The inner service was made ready for this call; keep that one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let registry = self.state.registry.clone();
        let person = matches!(&outcome, Ok(Some(c)) if c.kind == CallerKind::Person);
        let session = (self.state.sessions.as_ref())
            .filter(|_| person)
            .and_then(|keys| crate::session::of_request(keys, &request, self.state.clock.now()));
        Box::pin(async move {
            let outcome = match outcome {
                Ok(Some(caller)) if caller.kind.is_partner() => registry
                    .ensure_registered(caller.clone())
                    .await
                    .map(|()| Some(caller)),
                // A signed token is not enough: its session must be live.
                Ok(Some(caller)) if caller.kind == CallerKind::Person => match session.clone() {
                    Some(session) => registry
                        .ensure_session_live(session, caller.clone())
                        .await
                        .map(|()| Some(caller)),
                    None => Err(crate::session::status_revoked()),
                },
                outcome => outcome,
            };
            match outcome {
                Ok(caller) => {
                    if let Some(session) = session {
                        request.extensions_mut().insert(session);
                    }
                    if let Some(caller) = caller {
                        request.extensions_mut().insert(caller);
                    }
                    inner.call(request).await
                }
                Err(status) => {
                    tracing::info!(method = %path, code = ?status.code(), reason = %refusal_reason(&status), "call refused");
                    Ok(status.into_http())
                }
            }
        })
    }
}

/// A service's caller with whom it acts for, from the request's headers;
/// anyone else's caller unchanged (only services act for others).
fn with_origin(mut caller: Caller, headers: &http::HeaderMap) -> Caller {
    if caller.kind != CallerKind::Service {
        return caller;
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(origin) = header(ON_BEHALF_OF_HEADER).and_then(Caller::parse) {
        let request_id = header(ORIGIN_REQUEST_ID_HEADER)
            .filter(|id| RequestId::is_well_formed(id))
            .map(str::to_owned);
        caller.on_behalf_of = Some(Box::new(OnBehalfOf {
            caller: origin.to_string(),
            request_id,
        }));
    }
    caller
}

fn refusal_reason(status: &Status) -> String {
    use tonic_types::StatusExt;
    status
        .get_details_error_info()
        .map(|info| info.reason)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_uri_round_trips() {
        let caller = Caller::new(CallerKind::BankOutlet, "ICBC-0101");
        assert_eq!(caller.uri(), "spiffe://socsec/bank_outlet/ICBC-0101");
        assert_eq!(Caller::from_uri(&caller.uri()), Some(caller));
    }

    #[test]
    fn only_services_act_on_behalf_of_others() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            ON_BEHALF_OF_HEADER,
            "bank_outlet:ICBC-0101".parse().unwrap(),
        );
        headers.insert(ORIGIN_REQUEST_ID_HEADER, "serial-1".parse().unwrap());
        let service = with_origin(Caller::new(CallerKind::Service, "activation"), &headers);
        assert_eq!(
            service.on_behalf_of.as_deref(),
            Some(&OnBehalfOf {
                caller: "bank_outlet:ICBC-0101".into(),
                request_id: Some("serial-1".into()),
            })
        );
        let partner = with_origin(Caller::new(CallerKind::Bank, "ICBC"), &headers);
        assert_eq!(partner.on_behalf_of, None);
    }

    #[test]
    fn other_uris_name_no_caller() {
        for uri in [
            "spiffe://other/bank/ICBC",
            "spiffe://socsec/nobody/X",
            "spiffe://socsec/bank/",
            "spiffe://socsec/bank/IC BC",
            "https://socsec/bank/ICBC",
        ] {
            assert_eq!(Caller::from_uri(uri), None, "{uri}");
        }
    }
}

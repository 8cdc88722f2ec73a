//! Is a partner named by a certificate registered under that kind? The rule
//! is here; identity answers from its own tables, the other services ask
//! identity and remember a positive answer for a while.

use std::{sync::Arc, time::Duration};

use futures::future::BoxFuture;
use moka::future::Cache;
use socsec_core::Refusal;
use socsec_proto::{
    common::v1::PartnerKind,
    identity::v1::{
        CheckSessionRequest, GetPartnerRequest, Partner,
        identity_service_client::IdentityServiceClient,
    },
};
use tonic::{Code, Status};

use crate::{
    auth::{Caller, CallerKind, PartnerRegistry},
    client::ServiceChannel,
    error,
    session::{self, SessionId},
};

pub use socsec_core::admission::Registration;

/// The admission rule ([`socsec_core::admit`]) as the status a refused
/// partner sees.
pub fn admit(caller: &Caller, registered: Option<Registration>) -> Result<(), Status> {
    socsec_core::admit(caller, registered).map_err(|refusal| {
        let message = match refusal {
            Refusal::NotRegistered => format!(
                "{} is not registered as a {} partner",
                caller.code,
                caller.kind.as_str()
            ),
            Refusal::Suspended => format!("{}'s registration is not in force", caller.code),
        };
        error::status(Code::PermissionDenied, refusal.reason(), message)
    })
}

/// A partner as identity's registry answers, in the shared vocabulary.
pub fn registration(partner: &Partner) -> Option<Registration> {
    Some(Registration {
        kind: caller_kind(partner.kind)?,
        in_force: partner.designation_in_force,
    })
}

/// `UNAVAILABLE` / `PARTNER_REGISTRY_UNAVAILABLE`: the registry could not be
/// read; the caller may retry.
pub fn unavailable() -> Status {
    error::status(
        Code::Unavailable,
        "PARTNER_REGISTRY_UNAVAILABLE",
        "the partner registry cannot be read now; retry",
    )
}

/// The caller kind of a registry `PartnerKind`.
pub fn caller_kind(kind: i32) -> Option<CallerKind> {
    Some(match PartnerKind::try_from(kind).ok()? {
        PartnerKind::Bank => CallerKind::Bank,
        PartnerKind::BankOutlet => CallerKind::BankOutlet,
        PartnerKind::Hospital => CallerKind::Hospital,
        PartnerKind::Pharmacy => CallerKind::Pharmacy,
        PartnerKind::HrAgency => CallerKind::HrAgency,
        PartnerKind::Employer => CallerKind::Employer,
        PartnerKind::HotlineCenter => CallerKind::HotlineCenter,
        PartnerKind::Unspecified => return None,
    })
}

/// How long another service trusts identity's word that a partner is
/// registered: a suspension takes effect everywhere within this time.
pub const PARTNER_CACHE: Duration = Duration::from_secs(60);

/// How long another service trusts identity's word that a session is live:
/// a sign-out or revocation is refused everywhere within this time (the
/// revocation delay). Identity itself checks its table on every call.
pub const SESSION_CACHE: Duration = Duration::from_secs(5);

/// Identity's registry over gRPC. Admitted partners are remembered for
/// `ttl`, so a suspension reaches this service within that time; refusals
/// are not remembered, so a partner registered a moment ago is admitted.
/// Concurrent first calls of one partner make a single call to identity
/// (moka's `try_get_with` runs one initialiser per key and shares its result).
#[derive(Clone)]
pub struct RemoteRegistry {
    identity: IdentityServiceClient<ServiceChannel>,
    admitted: Cache<Caller, ()>,
    /// Sessions identity said were live, for [`SESSION_CACHE`].
    live_sessions: Cache<(String, String), ()>,
}

impl RemoteRegistry {
    /// Identity's registry at `identity`, as the auth layer asks it.
    pub fn shared(identity: ServiceChannel, ttl: Duration) -> Arc<dyn PartnerRegistry> {
        Arc::new(Self::new(identity, ttl))
    }

    pub fn new(identity: ServiceChannel, ttl: Duration) -> Self {
        Self {
            identity: IdentityServiceClient::new(identity),
            admitted: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(ttl)
                .build(),
            live_sessions: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(SESSION_CACHE.min(ttl))
                .build(),
        }
    }

    /// Asks identity whether `session` of `person_id` is live.
    async fn ask_session(&self, session_id: &str, person_id: &str) -> Result<(), Status> {
        let request = CheckSessionRequest {
            session_id: session_id.to_owned(),
            person_id: person_id.to_owned(),
        };
        match self.identity.clone().check_session(request).await {
            Ok(answer) if answer.get_ref().live => Ok(()),
            Ok(_) => Err(session::status_revoked()),
            Err(status) => {
                tracing::warn!(code = ?status.code(), message = status.message(), "session check unavailable");
                Err(session::status_unavailable())
            }
        }
    }

    /// Asks identity whether `caller` is admitted.
    async fn ask(&self, caller: &Caller) -> Result<(), Status> {
        let request = GetPartnerRequest {
            code: caller.code.clone(),
        };
        let registered = match self.identity.clone().get_partner(request).await {
            Ok(partner) => registration(&partner.into_inner()),
            Err(status) if matches!(status.code(), Code::NotFound | Code::InvalidArgument) => None,
            Err(status) => {
                tracing::warn!(code = ?status.code(), message = status.message(), "partner registry unavailable");
                return Err(unavailable());
            }
        };
        admit(caller, registered)
    }
}

impl PartnerRegistry for RemoteRegistry {
    fn ensure_registered(&self, caller: Caller) -> BoxFuture<'static, Result<(), Status>> {
        let this = self.clone();
        Box::pin(async move {
            this.admitted
                .try_get_with(caller.clone(), this.ask(&caller))
                .await
                .map_err(|refusal: Arc<Status>| (*refusal).clone())
        })
    }

    /// Live answers are remembered for [`SESSION_CACHE`] (single-flight per
    /// session); ended sessions and failures are not remembered.
    fn ensure_session_live(
        &self,
        session: SessionId,
        person: Caller,
    ) -> BoxFuture<'static, Result<(), Status>> {
        let this = self.clone();
        Box::pin(async move {
            let key = (session.0, person.code);
            this.live_sessions
                .try_get_with(key.clone(), this.ask_session(&key.0, &key.1))
                .await
                .map_err(|refusal: Arc<Status>| (*refusal).clone())
        })
    }
}

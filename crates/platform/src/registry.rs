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

/// Where a registry's answers come from: identity's own tables (identity's
/// auth layer) or identity over gRPC (every other service).
pub trait RegistrySource: Clone + Send + Sync + 'static {
    /// `caller`'s registration, `None` if its code is not registered;
    /// `Err` (UNAVAILABLE) if the registry cannot be read.
    fn registration(
        &self,
        caller: &Caller,
    ) -> impl Future<Output = Result<Option<Registration>, Status>> + Send;

    /// Whether `session_id` of `person_id` is live; `Err` (UNAVAILABLE) if
    /// that cannot be asked now.
    fn session_live(
        &self,
        session_id: &str,
        person_id: &str,
    ) -> impl Future<Output = Result<bool, Status>> + Send;
}

/// The partner registry as the auth layer asks it, over a [`RegistrySource`].
/// Admitted partners are remembered for a while, so a suspension takes
/// effect within that time; refusals are not remembered, so a partner
/// registered a moment ago is admitted. Concurrent first calls of one
/// partner (or session) share one question (moka's `try_get_with` runs one
/// initialiser per key and shares its result).
#[derive(Clone)]
pub struct CachedRegistry<S> {
    source: S,
    admitted: Cache<Caller, ()>,
    /// Sessions the source said were live; `None`: asked on every call.
    live_sessions: Option<Cache<(String, String), ()>>,
}

/// Identity's registry over gRPC, as every other service asks it.
pub type RemoteRegistry = CachedRegistry<IdentityOverGrpc>;

impl<S: RegistrySource> CachedRegistry<S> {
    /// Admissions remembered for `admitted_for`, live sessions for
    /// `sessions_for` (`None`: every call asks).
    pub fn with_source(source: S, admitted_for: Duration, sessions_for: Option<Duration>) -> Self {
        Self {
            source,
            admitted: bounded_cache(admitted_for),
            live_sessions: sessions_for.map(bounded_cache),
        }
    }

    async fn ask(&self, caller: &Caller) -> Result<(), Status> {
        admit(caller, self.source.registration(caller).await?)
    }

    async fn ask_session(&self, session_id: &str, person_id: &str) -> Result<(), Status> {
        if self.source.session_live(session_id, person_id).await? {
            Ok(())
        } else {
            Err(session::status_revoked())
        }
    }
}

fn bounded_cache<K, V>(ttl: Duration) -> Cache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    Cache::builder()
        .max_capacity(100_000)
        .time_to_live(ttl)
        .build()
}

impl RemoteRegistry {
    /// Identity's registry at `identity`, as the auth layer asks it.
    pub fn shared(identity: ServiceChannel, ttl: Duration) -> Arc<dyn PartnerRegistry> {
        Arc::new(Self::new(identity, ttl))
    }

    /// Admissions remembered for `ttl`, live sessions for [`SESSION_CACHE`]
    /// (or `ttl` if shorter).
    pub fn new(identity: ServiceChannel, ttl: Duration) -> Self {
        let identity = IdentityOverGrpc(IdentityServiceClient::new(identity));
        Self::with_source(identity, ttl, Some(SESSION_CACHE.min(ttl)))
    }
}

/// Identity's answers over gRPC.
#[derive(Clone)]
pub struct IdentityOverGrpc(IdentityServiceClient<ServiceChannel>);

impl RegistrySource for IdentityOverGrpc {
    async fn registration(&self, caller: &Caller) -> Result<Option<Registration>, Status> {
        let request = GetPartnerRequest {
            code: caller.code.clone(),
        };
        match self.0.clone().get_partner(request).await {
            Ok(partner) => Ok(registration(&partner.into_inner())),
            Err(status) if matches!(status.code(), Code::NotFound | Code::InvalidArgument) => {
                Ok(None)
            }
            Err(status) => {
                tracing::warn!(code = ?status.code(), message = status.message(), "partner registry unavailable");
                Err(unavailable())
            }
        }
    }

    async fn session_live(&self, session_id: &str, person_id: &str) -> Result<bool, Status> {
        let request = CheckSessionRequest {
            session_id: session_id.to_owned(),
            person_id: person_id.to_owned(),
        };
        match self.0.clone().check_session(request).await {
            Ok(answer) => Ok(answer.get_ref().live),
            Err(status) => {
                tracing::warn!(code = ?status.code(), message = status.message(), "session check unavailable");
                Err(session::status_unavailable())
            }
        }
    }
}

impl<S: RegistrySource> PartnerRegistry for CachedRegistry<S> {
    fn ensure_registered(&self, caller: Caller) -> BoxFuture<'static, Result<(), Status>> {
        let this = self.clone();
        Box::pin(async move {
            this.admitted
                .try_get_with(caller.clone(), this.ask(&caller))
                .await
                .map_err(|refusal: Arc<Status>| (*refusal).clone())
        })
    }

    /// Live answers are remembered (single-flight per session) where the
    /// registry caches sessions; ended sessions and failures are not.
    fn ensure_session_live(
        &self,
        session: SessionId,
        person: Caller,
    ) -> BoxFuture<'static, Result<(), Status>> {
        let this = self.clone();
        Box::pin(async move {
            let key = (session.0, person.code);
            match &this.live_sessions {
                Some(cache) => cache
                    .try_get_with(key.clone(), this.ask_session(&key.0, &key.1))
                    .await
                    .map_err(|refusal: Arc<Status>| (*refusal).clone()),
                None => this.ask_session(&key.0, &key.1).await,
            }
        })
    }
}

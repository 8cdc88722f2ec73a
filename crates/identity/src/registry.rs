//! The partner registry and the session table as identity's own auth layer
//! asks them: straight from the tables, through the admission pool (a few
//! connections of their own, so a flood of sign-ins or other calls cannot
//! starve partners' admission), judged by the one admission rule
//! (`socsec_core::admit`, as `platform::registry::admit` words its
//! refusals). Concurrent first calls of one partner share one query, and an
//! admission is remembered for a second; a session is checked on every call.

use std::{sync::Arc, time::Duration};

use futures::future::BoxFuture;
use moka::future::Cache;
use platform::{
    auth::{Caller, PartnerRegistry},
    clock::Clock,
    registry::{admit, unavailable},
    session::{self, SessionId},
};
use sqlx::PgPool;
use tonic::Status;
use uuid::Uuid;

use crate::{domain::partner::registration, store};

/// How long identity's auth layer remembers that a partner was admitted.
const ADMITTED_FOR: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct LocalRegistry {
    admission: PgPool,
    clock: Arc<dyn Clock>,
    admitted: Cache<Caller, ()>,
}

impl LocalRegistry {
    pub fn new(admission: PgPool, clock: Arc<dyn Clock>) -> Self {
        Self {
            admission,
            clock,
            admitted: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(ADMITTED_FOR)
                .build(),
        }
    }

    async fn ask(&self, caller: &Caller) -> Result<(), Status> {
        let row = store::partner_by_code(&self.admission, &caller.code)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "partner registry query failed");
                unavailable()
            })?;
        admit(
            caller,
            row.map(|row| registration(row.kind, row.designation_in_force)),
        )
    }
}

impl PartnerRegistry for LocalRegistry {
    fn ensure_registered(&self, caller: Caller) -> BoxFuture<'static, Result<(), Status>> {
        let this = self.clone();
        Box::pin(async move {
            this.admitted
                .try_get_with(caller.clone(), this.ask(&caller))
                .await
                .map_err(|refusal: Arc<Status>| (*refusal).clone())
        })
    }

    fn ensure_session_live(
        &self,
        session: SessionId,
        person: Caller,
    ) -> BoxFuture<'static, Result<(), Status>> {
        let this = self.clone();
        Box::pin(async move {
            let (Ok(session_id), Ok(person_id)) =
                (Uuid::parse_str(&session.0), Uuid::parse_str(&person.code))
            else {
                return Err(session::status_revoked());
            };
            let live =
                store::session_live(&this.admission, session_id, person_id, this.clock.now())
                    .await
                    .map_err(|e| {
                        tracing::warn!(error = %e, "session check failed");
                        session::status_unavailable()
                    })?;
            if live {
                Ok(())
            } else {
                Err(session::status_revoked())
            }
        })
    }
}

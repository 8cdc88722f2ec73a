//! The partner registry and the session table as identity's own auth layer
//! asks them: straight from the tables, through the admission pool (a few
//! connections of their own, so a flood of sign-ins or other calls cannot
//! starve partners' admission), judged by the one admission rule. The
//! caching and single-flight are `platform::registry::CachedRegistry`'s: an
//! admission is remembered for a second; a session is checked on every call.

use std::{sync::Arc, time::Duration};

use platform::{
    auth::Caller,
    clock::Clock,
    registry::{CachedRegistry, Registration, RegistrySource, unavailable},
    session,
};
use sqlx::PgPool;
use tonic::Status;
use uuid::Uuid;

use crate::{domain::partner::registration, store};

/// How long identity's auth layer remembers that a partner was admitted.
const ADMITTED_FOR: Duration = Duration::from_secs(1);

/// Identity's auth layer's registry.
pub type LocalRegistry = CachedRegistry<Tables>;

/// Identity's own tables, read through the admission pool.
#[derive(Clone)]
pub struct Tables {
    admission: PgPool,
    clock: Arc<dyn Clock>,
}

/// The registry over identity's tables: admissions remembered for
/// [`ADMITTED_FOR`], sessions checked on every call.
pub fn local(admission: PgPool, clock: Arc<dyn Clock>) -> LocalRegistry {
    CachedRegistry::with_source(Tables { admission, clock }, ADMITTED_FOR, None)
}

impl RegistrySource for Tables {
    async fn registration(&self, caller: &Caller) -> Result<Option<Registration>, Status> {
        let row = store::partner_by_code(&self.admission, &caller.code)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "partner registry query failed");
                unavailable()
            })?;
        Ok(row.map(|row| registration(row.kind, row.designation_in_force)))
    }

    async fn session_live(&self, session_id: &str, person_id: &str) -> Result<bool, Status> {
        let (Ok(session_id), Ok(person_id)) =
            (Uuid::parse_str(session_id), Uuid::parse_str(person_id))
        else {
            return Ok(false);
        };
        store::session_live(&self.admission, session_id, person_id, self.clock.now())
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "session check failed");
                session::status_unavailable()
            })
    }
}

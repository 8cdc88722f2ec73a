//! The partner registry as identity's own auth layer asks it: straight from
//! the `partners` table, judged by the one admission rule
//! (`socsec_core::admit`, as `platform::registry::admit` words its refusals).

use futures::future::BoxFuture;
use platform::{
    auth::{Caller, PartnerRegistry},
    registry::{admit, unavailable},
};
use sqlx::PgPool;
use tonic::Status;

use crate::{domain::partner::registration, store};

pub struct LocalRegistry {
    pool: PgPool,
}

impl LocalRegistry {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

impl PartnerRegistry for LocalRegistry {
    fn ensure_registered(&self, caller: Caller) -> BoxFuture<'static, Result<(), Status>> {
        let pool = self.pool.clone();
        Box::pin(async move {
            let row = store::partner_by_code(&pool, &caller.code)
                .await
                .map_err(|e| {
                    tracing::warn!(error = %e, "partner registry query failed");
                    unavailable()
                })?;
            admit(
                &caller,
                row.map(|row| registration(row.kind, row.designation_in_force)),
            )
        })
    }
}

//! The partner registry as identity's own auth layer asks it: straight from
//! the `partners` table.

use futures::future::BoxFuture;
use platform::{
    auth::{Caller, CallerKind, PartnerRegistry},
    registry::{Registration, admit, unavailable},
};
use sqlx::PgPool;
use tonic::Status;

use crate::store;

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
            let registered = row.and_then(|row| {
                Some(Registration {
                    kind: CallerKind::parse(&row.kind)?,
                    in_force: row.designation_in_force,
                })
            });
            admit(&caller, registered)
        })
    }
}

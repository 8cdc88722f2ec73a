//! Tells card-issuance about old cards the pharmacy channel retired. The
//! retirement itself committed with the activation (`legacy_retirements`);
//! the call to card-issuance is made here, outside any transaction, until
//! card-issuance has acknowledged each.

use std::{sync::Arc, time::Duration};

use sqlx::PgPool;
use tokio::sync::Notify;

use crate::{directory::Directory, store};

/// Delivers pending retirements for ever; woken after every pharmacy
/// activation and every few seconds.
pub async fn relay_retirements(pool: PgPool, directory: Directory, wake: Arc<Notify>) {
    loop {
        match store::pending_retirements(&pool, 100).await {
            Ok(pending) => {
                for p in pending {
                    let delivered = match directory
                        .retire_legacy_card(&p.legacy_card_number, p.card_number.as_str())
                        .await
                    {
                        Ok(()) => true,
                        // Retired already (by an earlier attempt): delivered.
                        Err(status) => {
                            let reason = platform_reason(&status);
                            if reason == "LEGACY_CARD_RETIRED" {
                                true
                            } else {
                                tracing::warn!(legacy = %p.legacy_card_number, code = ?status.code(), "retirement not delivered; will retry");
                                false
                            }
                        }
                    };
                    let recorded = if delivered {
                        store::retirement_delivered(&pool, &p.legacy_card_number).await
                    } else {
                        store::retirement_failed(&pool, &p.legacy_card_number).await
                    };
                    if let Err(e) = recorded {
                        tracing::warn!(error = %e, "could not record a retirement's delivery");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not read pending retirements"),
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}

fn platform_reason(status: &tonic::Status) -> String {
    use tonic_types::StatusExt;
    status
        .get_details_error_info()
        .map(|i| i.reason)
        .unwrap_or_default()
}

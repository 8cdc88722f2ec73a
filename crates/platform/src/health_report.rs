//! The health a service reports (`grpc.health.v1`): SERVING while its
//! database answers.

use std::time::Duration;

use sqlx::{Connection, PgPool};
use tonic_health::{ServingStatus, server::HealthReporter};

/// How long the health check waits for the database.
const HEALTH_CHECK: Duration = Duration::from_millis(500);

/// SERVING while the database answers, NOT_SERVING otherwise, checked
/// every `every` on a connection of its own: a pool busy with calls (or
/// refusing them past its queue) is not a database down, and a database
/// back up is seen at the next check, not after the pool's connections
/// have failed one by one. A check not answered within [`HEALTH_CHECK`]
/// counts as down and its connection is replaced; one that failed with an
/// error is recorded in `outages`, so the pool replaces its connections
/// from before.
pub(crate) async fn report_health(
    reporter: HealthReporter,
    pool: PgPool,
    outages: crate::db::Outages,
    service_name: &'static str,
    every: Duration,
) {
    let options = pool.connect_options();
    let mut connection: Option<sqlx::PgConnection> = None;
    let mut last = None;
    loop {
        let checked = tokio::time::timeout(HEALTH_CHECK, async {
            let conn = match &mut connection {
                Some(conn) => conn,
                None => connection.insert(sqlx::PgConnection::connect_with(&options).await?),
            };
            sqlx::query("SELECT 1").execute(conn).await
        })
        .await;
        let ok = checked.as_ref().is_ok_and(|r| r.is_ok());
        if !ok {
            connection = None;
        }
        // An error, not a slow answer: the database went away, and the
        // pool's connections from before are broken (see `db::Outages`).
        if matches!(checked, Ok(Err(_))) {
            outages.seen_down();
        }
        let status = if ok {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        if last != Some(status) {
            if ok {
                tracing::info!("database answering; health SERVING");
            } else {
                tracing::warn!("database not answering; health NOT_SERVING");
            }
            reporter.set_service_status(service_name, status).await;
            reporter.set_service_status("", status).await;
            last = Some(status);
        }
        tokio::time::sleep(every).await;
    }
}

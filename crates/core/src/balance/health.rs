//! Following one instance's health for the balancer: the standard
//! `grpc.health.v1` `Watch` stream, over a connection of its own.

use std::{
    sync::{Weak, atomic::Ordering},
    time::Duration,
};

use tonic::transport::Endpoint;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use super::Instances;

/// How long after a health stream broke a new one is opened.
pub const RETRY_WATCH: Duration = Duration::from_millis(250);

/// Follows instance `i`'s health with `Watch`, setting its serving flag
/// from each status, and clearing it when the stream breaks; ends when the
/// channel is dropped (`closed` then says so).
pub(super) async fn watch(
    endpoint: Endpoint,
    instances: Weak<Instances>,
    i: usize,
    mut closed: tokio::sync::watch::Receiver<()>,
) {
    let mut client = HealthClient::new(endpoint.connect_lazy());
    let report = |serving: bool| match instances.upgrade() {
        Some(instances) => {
            instances.serving[i].store(serving, Ordering::Relaxed);
            true
        }
        None => false,
    };
    loop {
        let follow = async {
            let mut stream = client
                .watch(HealthCheckRequest {
                    service: String::new(),
                })
                .await?
                .into_inner();
            while let Some(answer) = stream.message().await? {
                let serving = answer.status() == ServingStatus::Serving;
                // Not serving: the stream is ended (and a new one tried
                // after RETRY_WATCH), since an instance draining for a
                // graceful stop waits for the calls open on it, this one too.
                if !report(serving) || !serving {
                    break;
                }
            }
            Ok::<(), tonic::Status>(())
        };
        tokio::select! {
            _ = closed.changed() => return,
            _ = follow => {}
        }
        if !report(false) {
            return;
        }
        tokio::select! {
            _ = closed.changed() => return,
            () = tokio::time::sleep(RETRY_WATCH) => {}
        }
    }
}

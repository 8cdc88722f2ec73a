//! Spreading calls over the instances of one service, on the client: a
//! service's address in a configuration or on the command line may be one
//! URL or several separated by commas (the instances of that service). With
//! several, calls are balanced over the instances that answer their health
//! check (`grpc.health.v1` SERVING), so mutual TLS stays end to end — no
//! proxy in between holds a key.
//!
//! tonic's own `Channel::balance_list` keeps sending calls to an instance
//! that is gone (each such call fails at once with UNAVAILABLE). Here each
//! instance's health is followed with the standard `grpc.health.v1` `Watch`
//! stream, over a connection of its own: an instance leaves the balancer
//! when its stream says NOT_SERVING (as one does at the start of a graceful
//! stop) or breaks (a killed process breaks it at once), and comes back
//! when a new stream says SERVING (tried every [`RETRY_WATCH`]). When no instance is SERVING, all are offered: calls
//! then fail fast with UNAVAILABLE rather than wait for one. The tasks end
//! when the channel is dropped. A frozen instance keeps its stream open: it
//! leaves when the connection's HTTP/2 keepalive gives up on it.

use std::time::Duration;

use tokio::sync::mpsc;
use tonic::transport::{Channel, Endpoint, channel::Change};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// How long after a health stream broke a new one is opened.
pub const RETRY_WATCH: Duration = Duration::from_millis(250);

/// The URLs in `urls`: one, or several separated by commas (spaces around
/// them ignored, empty ones dropped).
pub fn urls(urls: &str) -> Vec<&str> {
    urls.split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .collect()
}

/// A lazily connecting channel over `endpoints`: one endpoint's own
/// channel, or calls balanced over those whose health is SERVING. Several
/// endpoints need a Tokio runtime (the health tasks are spawned on it).
///
/// # Panics
/// If `endpoints` is empty.
pub fn channel(endpoints: Vec<Endpoint>) -> Channel {
    assert!(!endpoints.is_empty(), "no endpoint to call");
    if endpoints.len() == 1 {
        return endpoints[0].connect_lazy();
    }
    let n = endpoints.len();
    let (channel, changes) = Channel::balance_channel::<usize>(n * 4);
    let (reports, health) = mpsc::channel(n * 4);
    for (i, endpoint) in endpoints.iter().enumerate() {
        tokio::spawn(watch_health(i, endpoint.clone(), reports.clone()));
    }
    tokio::spawn(offer_serving(endpoints, health, changes));
    channel
}

/// Keeps the balancer's set of instances to those SERVING (all of them
/// when none is), from the health reports `(instance, serving)`.
async fn offer_serving(
    endpoints: Vec<Endpoint>,
    mut health: mpsc::Receiver<(usize, bool)>,
    changes: mpsc::Sender<Change<usize, Endpoint>>,
) {
    let mut serving = vec![false; endpoints.len()];
    let mut offered = vec![false; endpoints.len()];
    loop {
        let wanted: Vec<bool> = if serving.iter().any(|s| *s) {
            serving.clone()
        } else {
            vec![true; endpoints.len()]
        };
        for (i, want) in wanted.into_iter().enumerate() {
            if want == offered[i] {
                continue;
            }
            let change = if want {
                Change::Insert(i, endpoints[i].clone())
            } else {
                Change::Remove(i)
            };
            if changes.send(change).await.is_err() {
                return; // the channel is gone
            }
            offered[i] = want;
        }
        let report = tokio::select! {
            () = changes.closed() => return,
            report = health.recv() => report,
        };
        let Some((i, now)) = report else { return };
        serving[i] = now;
    }
}

/// Follows instance `i`'s health with `Watch`, reporting each status, and
/// not-serving when the stream breaks; ends when nobody listens.
async fn watch_health(i: usize, endpoint: Endpoint, reports: mpsc::Sender<(usize, bool)>) {
    let mut client = HealthClient::new(endpoint.connect_lazy());
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
                if reports.send((i, serving)).await.is_err() || !serving {
                    break;
                }
            }
            Ok::<(), tonic::Status>(())
        };
        tokio::select! {
            () = reports.closed() => return,
            _ = follow => {}
        }
        if reports.send((i, false)).await.is_err() {
            return;
        }
        tokio::select! {
            () = reports.closed() => return,
            () = tokio::time::sleep(RETRY_WATCH) => {}
        }
    }
}

//! Spreading calls over the instances of one service, on the client: a
//! service's address in a configuration or on the command line may be one
//! URL or several separated by commas (the instances of that service). With
//! several, calls are balanced over the instances that answer their health
//! check (`grpc.health.v1` SERVING), so mutual TLS stays end to end — no
//! proxy in between holds a key.
//!
//! tonic's own `Channel::balance_list` keeps sending calls to an instance
//! that is gone (each such call fails at once with UNAVAILABLE). Here a
//! task asks each instance's health every [`PROBE_EVERY`] over a connection
//! of its own and takes an instance out of the balancer when it does not
//! answer SERVING within [`PROBE_TIMEOUT`], and back in when it does again.
//! When no instance answers, all stay in: calls then fail fast with
//! UNAVAILABLE rather than wait for one. The task ends when the channel is
//! dropped.

use std::time::Duration;

use tonic::transport::{Channel, Endpoint, channel::Change};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// How often each instance's health is asked.
pub const PROBE_EVERY: Duration = Duration::from_millis(500);
/// How long an instance has to answer SERVING.
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(800);

/// The URLs in `urls`: one, or several separated by commas (spaces around
/// them ignored, empty ones dropped).
pub fn urls(urls: &str) -> Vec<&str> {
    urls.split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .collect()
}

/// A lazily connecting channel over `endpoints`: one endpoint's own
/// channel, or calls balanced over those whose health check answers
/// SERVING. Several endpoints need a Tokio runtime (the health task is
/// spawned on it).
///
/// # Panics
/// If `endpoints` is empty.
pub fn channel(endpoints: Vec<Endpoint>) -> Channel {
    assert!(!endpoints.is_empty(), "no endpoint to call");
    if endpoints.len() == 1 {
        return endpoints[0].connect_lazy();
    }
    let (channel, changes) = Channel::balance_channel::<usize>(endpoints.len() * 2 + 2);
    tokio::spawn(follow_health(endpoints, changes));
    channel
}

/// Keeps the balancer's set of instances to those answering SERVING.
async fn follow_health(
    endpoints: Vec<Endpoint>,
    changes: tokio::sync::mpsc::Sender<Change<usize, Endpoint>>,
) {
    let probes: Vec<HealthClient<Channel>> = endpoints
        .iter()
        .map(|e| HealthClient::new(e.connect_lazy()))
        .collect();
    let mut offered = vec![false; endpoints.len()];
    loop {
        let serving = serving_now(&probes).await;
        // None answering: offer every instance, so calls fail fast.
        let wanted = if serving.iter().any(|s| *s) {
            serving
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
        tokio::select! {
            () = changes.closed() => return,
            () = tokio::time::sleep(PROBE_EVERY) => {}
        }
    }
}

/// Whether each instance answers SERVING within [`PROBE_TIMEOUT`], asked
/// all at once.
async fn serving_now(probes: &[HealthClient<Channel>]) -> Vec<bool> {
    let asks = probes.iter().map(|probe| {
        let mut probe = probe.clone();
        tokio::spawn(async move {
            let mut request = tonic::Request::new(HealthCheckRequest {
                service: String::new(),
            });
            request.set_timeout(PROBE_TIMEOUT);
            let answer = tokio::time::timeout(PROBE_TIMEOUT, probe.check(request)).await;
            matches!(answer, Ok(Ok(a)) if a.get_ref().status() == ServingStatus::Serving)
        })
    });
    let mut serving = Vec::with_capacity(probes.len());
    for ask in asks.collect::<Vec<_>>() {
        serving.push(ask.await.unwrap_or(false));
    }
    serving
}

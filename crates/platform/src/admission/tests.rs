use tonic_types::StatusExt;

use super::*;

/// A queue wait of an hour: a call that returns did not wait it out.
fn settings(concurrent: usize, queued: usize, per_caller: usize) -> AdmissionSettings {
    AdmissionSettings {
        max_concurrent_calls: concurrent,
        max_queued_calls: queued,
        max_queue_wait: Duration::from_secs(3600),
        max_calls_per_caller: per_caller,
    }
}

fn state(settings: AdmissionSettings) -> Arc<State> {
    AdmissionLayer::new(settings).state
}

fn reason(status: &Status) -> String {
    status.get_details_error_info().unwrap().reason
}

#[tokio::test]
async fn a_full_queue_is_refused_at_once_with_a_retry_delay() {
    let state = state(settings(1, 1, 10));
    let serving = state.clone().admit("a".into(), None).await.unwrap();
    let waiting = tokio::spawn(state.clone().admit("b".into(), None));
    tokio::task::yield_now().await;
    while state.queue.available_permits() > 0 {
        tokio::task::yield_now().await;
    }
    let refused = state.clone().admit("c".into(), None).await.err().unwrap();
    assert_eq!(refused.code(), Code::ResourceExhausted);
    assert_eq!(reason(&refused), "OVERLOADED");
    assert_eq!(
        refused.get_details_retry_info().unwrap().retry_delay,
        Some(RETRY_AFTER)
    );
    drop(serving);
    assert!(waiting.await.unwrap().is_ok(), "the queued call is served");
}

#[tokio::test]
async fn a_queued_call_waits_no_longer_than_the_queue_wait_or_its_deadline() {
    let state = state(settings(1, 4, 10));
    let _serving = state.clone().admit("a".into(), None).await.unwrap();
    let short = Some(Duration::from_millis(20));
    let refused = state.clone().admit("b".into(), short).await.err().unwrap();
    assert_eq!(refused.code(), Code::DeadlineExceeded);
    let passed = state
        .clone()
        .admit("b".into(), Some(Duration::ZERO))
        .await
        .err()
        .unwrap();
    assert_eq!(passed.code(), Code::DeadlineExceeded);

    let mut quick = settings(1, 4, 10);
    quick.max_queue_wait = Duration::from_millis(20);
    let state = super::tests::state(quick);
    let _serving = state.clone().admit("a".into(), None).await.unwrap();
    let refused = state.clone().admit("b".into(), None).await.err().unwrap();
    assert_eq!(reason(&refused), "OVERLOADED");
    let long = Some(Duration::from_secs(3600));
    let refused = state.clone().admit("b".into(), long).await.err().unwrap();
    assert_eq!(
        reason(&refused),
        "OVERLOADED",
        "the queue wait, not the deadline"
    );
}

/// An inner service whose calls are answered once told to.
#[derive(Clone)]
struct Held(Arc<tokio::sync::Notify>);

impl Service<http::Request<tonic::body::Body>> for Held {
    type Response = http::Response<tonic::body::Body>;
    type Error = std::convert::Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Request<tonic::body::Body>) -> Self::Future {
        let release = self.0.clone();
        Box::pin(async move {
            release.notified().await;
            Ok(http::Response::new(tonic::body::Body::empty()))
        })
    }
}

fn call(path: &str) -> http::Request<tonic::body::Body> {
    http::Request::builder()
        .uri(path)
        .body(tonic::body::Body::empty())
        .unwrap()
}

#[tokio::test]
async fn through_the_layer_a_full_service_answers_overloaded_at_once_but_health() {
    let layer = AdmissionLayer::new(settings(1, 0, 10));
    let release = Arc::new(tokio::sync::Notify::new());
    let mut service = layer.layer(Held(release.clone()));
    let held = tokio::spawn(service.call(call(
        "/socsec.activation.v1.ActivationService/CheckEligibility",
    )));
    while layer.state.serving.available_permits() > 0 {
        tokio::task::yield_now().await;
    }
    let refused = service
        .call(call(
            "/socsec.activation.v1.ActivationService/CheckEligibility",
        ))
        .await
        .unwrap();
    let status = Status::from_header_map(refused.headers()).expect("a trailers-only refusal");
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert_eq!(reason(&status), "OVERLOADED");
    assert_eq!(
        status.get_details_retry_info().unwrap().retry_delay,
        Some(RETRY_AFTER)
    );
    // The health service is answered all the same.
    let health = tokio::spawn(service.call(call("/grpc.health.v1.Health/Check")));
    release.notify_one();
    release.notify_one();
    let health = health.await.unwrap().unwrap();
    assert!(Status::from_header_map(health.headers()).is_none());
    assert!(held.await.unwrap().is_ok());
}

#[tokio::test]
async fn one_caller_holds_at_most_its_share() {
    let state = state(settings(10, 10, 2));
    let first = state.clone().admit("a".into(), None).await.unwrap();
    let _second = state.clone().admit("a".into(), None).await.unwrap();
    let refused = state.clone().admit("a".into(), None).await.err().unwrap();
    assert_eq!(reason(&refused), "CALLER_OVER_SHARE");
    assert!(state.clone().admit("b".into(), None).await.is_ok());
    drop(first);
    assert!(state.clone().admit("a".into(), None).await.is_ok());
    assert_eq!(state.per_caller.lock().unwrap().len(), 1, "freed keys go");
}

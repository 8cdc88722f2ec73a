//! The metrics port: plain HTTP/1.1, `GET /metrics` only, for Prometheus on
//! the internal network (no TLS, no credentials: bind it to an internal
//! address, never to the partners' network). A few connections at once,
//! each bounded in time, so a stuck client cannot pile them up.

use std::{convert::Infallible, sync::Arc, time::Duration};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, Response, StatusCode, server::conn::http1, service::service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{net::TcpListener, sync::Semaphore};

use super::Metrics;

/// Scrapes served at once; further connections are closed at once.
const CONNECTIONS: usize = 8;
/// The longest a client may take to send its request headers …
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// … and the longest one connection is kept.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Answers scrapes on `listener` for ever (the host ends it at shutdown).
pub(crate) async fn serve(listener: TcpListener, metrics: Metrics) {
    let slots = Arc::new(Semaphore::new(CONNECTIONS));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "metrics port: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            continue; // dropped: closed
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let answer = service_fn(move |request| {
                let metrics = metrics.clone();
                async move { Ok::<_, Infallible>(respond(&metrics, request).await) }
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), answer);
            let _ = tokio::time::timeout(CONNECTION_TIMEOUT, connection).await;
            drop(slot);
        });
    }
}

async fn respond<B>(metrics: &Metrics, request: Request<B>) -> Response<Full<Bytes>> {
    let plain = |status, text: &'static str| {
        Response::builder()
            .status(status)
            .header(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(Full::new(Bytes::from_static(text.as_bytes())))
            .expect("a valid response")
    };
    if request.uri().path() != "/metrics" {
        return plain(StatusCode::NOT_FOUND, "metrics are at /metrics\n");
    }
    if request.method() != Method::GET {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "GET only\n");
    }
    Response::builder()
        .header(http::header::CONTENT_TYPE, OPENMETRICS)
        .body(Full::new(Bytes::from(metrics.scrape().await)))
        .expect("a valid response")
}

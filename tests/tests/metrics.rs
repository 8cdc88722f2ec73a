//! The metrics port: every call timed by method and gRPC code, the pool,
//! outbox and event-stream gauges, and the services' own gauges, scraped
//! over plain HTTP as Prometheus would.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use socsec_proto::{
    common::v1::{PageRequest, YearMonth},
    contribution::v1 as contribution_pb,
    identity::v1 as pb,
};
use system_tests::{
    activation_config, as_caller, card_config, contribution_config, eventually, fresh_database,
    identity_client, identity_config, operator, spawn_activation_with, spawn_cards_with,
    spawn_contribution_with, spawn_identity_with, test_clock,
};
use tonic::Code;

const IDENTITY: &str = "socsec.identity.v1.IdentityService";
const PATIENCE: Duration = Duration::from_secs(20);

fn metrics_on(platform: &mut platform::config::PlatformConfig) {
    platform.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
}

/// `GET /metrics` with a real HTTP/1.1 client, as Prometheus does.
async fn scrape(addr: SocketAddr) -> String {
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .expect("metrics port accepts");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .expect("HTTP handshake");
    tokio::spawn(connection);
    let request = http::Request::get("/metrics")
        .header(http::header::HOST, addr.to_string())
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.expect("an answer");
    assert_eq!(response.status(), http::StatusCode::OK);
    let content_type = response.headers()[http::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let body = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(body.to_vec()).expect("text")
}

/// The value of the series `name` whose labels include `labels`.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, set) = series.split_once('{').unwrap_or((series, "}"));
            let pairs: Vec<(&str, &str)> = set
                .strip_suffix('}')?
                .split(',')
                .filter_map(|pair| pair.split_once('='))
                .map(|(k, v)| (k, v.trim_matches('"')))
                .collect();
            (metric == name && labels.iter().all(|l| pairs.contains(l)))
                .then(|| value.parse().expect("a number"))
        })
}

fn calls(text: &str, method: &str, code: &str) -> Option<f64> {
    sample(
        text,
        "rpc_server_call_duration_seconds_count",
        &[
            ("rpc_system", "grpc"),
            ("rpc_service", IDENTITY),
            ("rpc_method", method),
            ("rpc_grpc_status_code", code),
        ],
    )
}

fn list_partners() -> pb::ListPartnersRequest {
    pb::ListPartnersRequest {
        page: Some(PageRequest {
            page_size: 10,
            page_token: String::new(),
        }),
        kind: 0,
    }
}

#[tokio::test]
async fn each_call_is_timed_by_method_and_code_and_the_pool_and_outbox_gauges_are_served() {
    let database_url = fresh_database().await;
    let mut config = identity_config(&database_url);
    metrics_on(&mut config.platform);
    let identity = spawn_identity_with(config, Arc::new(test_clock())).await;
    let metrics = identity.metrics_addr.expect("metrics_listen was set");
    let mut client = identity_client(&identity).await;

    client
        .list_partners(operator(list_partners()))
        .await
        .expect("operators may list partners");
    let refused = client
        .list_partners(as_caller("bank_outlet:ICBC-0101", list_partners()))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    // A path no table names: counted, but under `_OTHER`, so invented
    // paths cannot add series.
    let mut raw = tonic::client::Grpc::new(identity.channel().await);
    raw.ready().await.unwrap();
    let unknown = raw
        .unary::<(), (), _>(
            operator(()),
            http::uri::PathAndQuery::from_static("/socsec.identity.v1.IdentityService/Invented"),
            tonic_prost::ProstCodec::default(),
        )
        .await
        .unwrap_err();

    let text = scrape(metrics).await;
    assert_eq!(calls(&text, "ListPartners", "0"), Some(1.0), "{text}");
    assert_eq!(calls(&text, "ListPartners", "7"), Some(1.0), "{text}");
    assert_eq!(
        sample(
            &text,
            "rpc_server_call_duration_seconds_bucket",
            &[
                ("rpc_method", "ListPartners"),
                ("rpc_grpc_status_code", "0"),
                ("le", "+Inf")
            ],
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            "rpc_server_active_calls",
            &[("rpc_service", IDENTITY), ("rpc_method", "ListPartners")],
        ),
        Some(0.0)
    );
    let code = (unknown.code() as i32).to_string();
    assert_eq!(
        sample(
            &text,
            "rpc_server_call_duration_seconds_count",
            &[("rpc_method", "_OTHER"), ("rpc_grpc_status_code", &code)],
        ),
        Some(1.0),
        "{text}"
    );
    assert!(!text.contains("Invented"), "{text}");

    let pool = [("pool_name", "identity")];
    let used = sample(
        &text,
        "db_client_connections_usage",
        &[pool[0], ("state", "used")],
    );
    let idle = sample(
        &text,
        "db_client_connections_usage",
        &[pool[0], ("state", "idle")],
    );
    assert!(used.is_some() && idle.is_some(), "{text}");
    assert_eq!(
        sample(&text, "db_client_connections_max", &pool),
        Some(16.0)
    );
    assert_eq!(
        sample(&text, "db_client_connections_timeouts_total", &pool),
        Some(0.0)
    );
    let stream = [("stream", "identity")];
    assert_eq!(
        sample(&text, "socsec_outbox_head_position", &stream),
        Some(0.0)
    );
    assert_eq!(
        sample(&text, "socsec_outbox_unsequenced_events", &stream),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &text,
            "socsec_outbox_oldest_unsequenced_age_seconds",
            &stream
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(&text, "socsec_event_stream_subscribers", &stream),
        Some(0.0)
    );
}

#[tokio::test]
async fn a_watch_stream_counts_as_a_subscriber_until_it_ends_then_as_one_call() {
    let database_url = fresh_database().await;
    let mut config = identity_config(&database_url);
    metrics_on(&mut config.platform);
    let identity = spawn_identity_with(config, Arc::new(test_clock())).await;
    let metrics = identity.metrics_addr.expect("metrics_listen was set");
    let mut client = identity_client(&identity).await;

    let mut events = client
        .watch_identity_events(as_caller(
            "service:activation",
            pb::WatchIdentityEventsRequest {
                after: None,
                heartbeats: true,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let heartbeat = events.next().await.unwrap().unwrap();
    assert!(heartbeat.caught_up_at.is_some());
    let stream = [("stream", "identity")];
    eventually(
        "the subscriber is counted, caught up",
        PATIENCE,
        async || {
            let text = scrape(metrics).await;
            (sample(&text, "socsec_event_stream_subscribers", &stream) == Some(1.0)
                && sample(&text, "socsec_event_stream_lag_events", &stream) == Some(0.0))
            .then_some(())
        },
    )
    .await;
    assert_eq!(
        sample(
            &scrape(metrics).await,
            "rpc_server_active_calls",
            &[("rpc_method", "WatchIdentityEvents")],
        ),
        Some(1.0)
    );

    drop(events);
    eventually(
        "the ended stream is one cancelled call",
        PATIENCE,
        async || {
            let text = scrape(metrics).await;
            (sample(&text, "socsec_event_stream_subscribers", &stream) == Some(0.0)
                && calls(&text, "WatchIdentityEvents", "1") == Some(1.0)
                && sample(
                    &text,
                    "rpc_server_active_calls",
                    &[("rpc_method", "WatchIdentityEvents")],
                ) == Some(0.0))
            .then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn activation_and_contribution_serve_the_relay_projection_and_monthly_run_gauges() {
    let database_url = fresh_database().await;
    let clock = test_clock();
    let identity =
        spawn_identity_with(identity_config(&database_url), Arc::new(clock.clone())).await;
    let cards = spawn_cards_with(
        card_config(&database_url, identity.addr),
        Arc::new(clock.clone()),
    )
    .await;
    let mut config = activation_config(&database_url, identity.addr, cards.addr);
    metrics_on(&mut config.platform);
    let activation = spawn_activation_with(config, Arc::new(clock.clone())).await;
    let mut config = contribution_config(&database_url, identity.addr);
    metrics_on(&mut config.platform);
    let contribution = spawn_contribution_with(config, Arc::new(clock.clone())).await;

    let metrics = activation.metrics_addr.expect("metrics_listen was set");
    let text = eventually("both projections caught up", PATIENCE, async || {
        let text = scrape(metrics).await;
        ["card-issuance", "identity"]
            .iter()
            .all(|stream| {
                sample(
                    &text,
                    "socsec_projection_lag_seconds",
                    &[("stream", stream)],
                )
                .is_some_and(f64::is_finite)
            })
            .then_some(text)
    })
    .await;
    let queue = ("queue", "legacy_retirements");
    assert_eq!(
        sample(
            &text,
            "socsec_relay_queue_depth",
            &[queue, ("state", "pending")]
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &text,
            "socsec_relay_queue_depth",
            &[queue, ("state", "parked")]
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(&text, "socsec_relay_oldest_entry_age_seconds", &[queue]),
        Some(0.0)
    );
    assert!(
        sample(
            &text,
            "socsec_outbox_head_position",
            &[("stream", "activation")]
        )
        .is_some()
    );

    let metrics = contribution.metrics_addr.expect("metrics_listen was set");
    assert_eq!(
        sample(&scrape(metrics).await, "socsec_month_runs_in_progress", &[]),
        Some(0.0)
    );
    let mut client = contribution_pb::contribution_service_client::ContributionServiceClient::new(
        contribution.channel().await,
    );
    let mut run = client
        .run_month(operator(contribution_pb::RunMonthRequest {
            request_id: "metrics-run-1".into(),
            period: Some(YearMonth {
                year: 2026,
                month: 10,
            }),
            region_code: "110100".into(),
            payer_code: String::new(),
        }))
        .await
        .unwrap()
        .into_inner();
    while let Some(progress) = run.next().await {
        progress.expect("the run goes through");
    }
    let text = scrape(metrics).await;
    let region = [("region", "110100")];
    assert_eq!(
        sample(&text, "socsec_month_runs_in_progress", &[]),
        Some(0.0)
    );
    assert_eq!(
        sample(&text, "socsec_month_run_enrolments", &region),
        Some(0.0)
    );
    assert_eq!(
        sample(&text, "socsec_month_run_enrolments_done", &region),
        Some(0.0)
    );
}

//! Faults give callers an honest code, and the system recovers on its own.

use std::{sync::Arc, time::Duration};

use socsec_proto::identity::v1 as pb;
use sqlx::{Connection, PgConnection};
use system_tests::{
    cut_off, fresh_database, identity_client, identity_config, ids, journeys, operator, reason,
    spawn_identity_with, test_clock,
};
use tonic::Code;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// Polls identity's health until it reports `wanted`, for at most `within`.
async fn health_becomes(
    health: &mut HealthClient<system_tests::CallerChannel>,
    wanted: ServingStatus,
    within: Duration,
) {
    let deadline = tokio::time::Instant::now() + within;
    let mut last = ServingStatus::Unknown;
    while tokio::time::Instant::now() < deadline {
        if let Ok(answer) = health
            .check(HealthCheckRequest {
                service: identity::SERVICE_NAME.into(),
            })
            .await
        {
            last = answer.into_inner().status();
            if last == wanted {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("health was {last:?}, not {wanted:?}, after {within:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_is_unavailable_not_internal_and_the_service_recovers() {
    let database = fresh_database().await;
    let mut config = identity_config(&database);
    config.platform.database_acquire_timeout_ms = 500;
    let identity = spawn_identity_with(config, Arc::new(test_clock())).await;
    let mut health = HealthClient::new(identity.channel().await);
    health_becomes(&mut health, ServingStatus::Serving, Duration::from_secs(5)).await;
    let mut client = identity_client(&identity).await;
    let register = pb::RegisterPersonRequest {
        request_id: "outage-1".into(),
        id_number: ids::id_number(true),
        basic_info: Some(journeys::basic_info(
            "王断",
            socsec_proto::common::v1::Gender::Male,
        )),
    };

    cut_off(&database, true).await;
    let refused = client
        .register_person(operator(register.clone()))
        .await
        .expect_err("the database is cut off");
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    assert_eq!(reason(&refused), "DATABASE_UNAVAILABLE");
    health_becomes(
        &mut health,
        ServingStatus::NotServing,
        Duration::from_secs(5),
    )
    .await;

    cut_off(&database, false).await;
    health_becomes(&mut health, ServingStatus::Serving, Duration::from_secs(10)).await;
    // The refused request did nothing: the same request id now registers.
    let person = client
        .register_person(operator(register.clone()))
        .await
        .expect("registered once the database is back")
        .into_inner();
    assert!(!person.person_id.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_unrelated_transaction_does_not_hold_back_events() {
    use futures::StreamExt;
    use pb::identity_event::Event;

    let database = fresh_database().await;
    let identity = spawn_identity_with(identity_config(&database), Arc::new(test_clock())).await;
    let mut client = identity_client(&identity).await;
    // A session that started a transaction (with a transaction id) and went
    // idle: a stuck psql, a long monthly run. It is ended at the test's end.
    let mut stuck = PgConnection::connect(&database).await.expect("connect");
    sqlx::query("BEGIN").execute(&mut stuck).await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut stuck)
        .await
        .unwrap();

    let mut events = client
        .watch_identity_events(system_tests::as_caller(
            "service:activation",
            pb::WatchIdentityEventsRequest {
                after: None,
                heartbeats: true,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let registered = journeys::register(&mut client, "李等").await;
    let committed = tokio::time::Instant::now();
    let delivered = tokio::time::timeout(Duration::from_secs(1), async {
        loop {
            let event = events.next().await.expect("stream open").expect("event");
            if let Some(Event::PersonRegistered(p)) = &event.event
                && p.person_id == registered.person_id
            {
                return event;
            }
        }
    })
    .await
    .expect("the event arrives within a second while the other transaction is open");
    assert!(!delivered.cursor.is_empty());
    // And the stream says it has caught up, with a time after the commit.
    let heartbeat = tokio::time::timeout(Duration::from_secs(1), events.next())
        .await
        .expect("a heartbeat within a second")
        .unwrap()
        .unwrap();
    assert!(heartbeat.event.is_none() && heartbeat.caught_up_at.is_some());
    assert_eq!(heartbeat.cursor, delivered.cursor);
    assert!(committed.elapsed() < Duration::from_secs(2));
    sqlx::query("ROLLBACK").execute(&mut stuck).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_and_events_past_retention_are_deleted_and_an_expired_cursor_is_refused() {
    let database = fresh_database().await;
    let mut config = identity_config(&database);
    // The service's own start-up sweep keeps answers a century: the purge
    // counted below is this test's, not a race with that sweep.
    config.platform.idempotency_retention_days = 36_500;
    let identity = spawn_identity_with(config.clone(), Arc::new(test_clock())).await;
    let mut client = identity_client(&identity).await;
    let old = journeys::register(&mut client, "周旧").await;
    let recent = journeys::register(&mut client, "吴新").await;
    // The service stops, so that its own sweeps (at start and hourly) run
    // beside none of this test's: what is purged and dropped below is the
    // test's doing alone. A new instance serves the streams afterwards.
    identity.stop().await.unwrap();
    let pool = platform::db::connect(&config.platform).await.unwrap();
    // The first registration's answer was written 40 days ago, its event in
    // the month three months back (events go a month partition at a time).
    sqlx::query(
        "UPDATE idempotency_keys SET created_at = now() - interval '40 days'
         WHERE request_id = (SELECT min(request_id) FROM idempotency_keys)",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE outbox SET occurred_at = date_trunc('month', now()) - interval '3 months'
         WHERE seq = (SELECT min(seq) FROM outbox)",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(
        platform::retention::purge_idempotency(&pool, 30)
            .await
            .unwrap(),
        1
    );
    // Its month goes whole, in one sweep.
    let dropped = platform::retention::purge_outbox(&pool, 30).await.unwrap();
    assert_eq!(dropped.len(), 1, "{dropped:?}");
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE position = 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(kept, 0, "the old event's month is still there");
    let identity = spawn_identity_with(config.clone(), Arc::new(test_clock())).await;
    let mut client = identity_client(&identity).await;

    // A consumer that had seen nothing would miss the first event: refused.
    let expired = client
        .watch_identity_events(system_tests::as_caller(
            "service:activation",
            pb::WatchIdentityEventsRequest {
                after: None,
                heartbeats: false,
            },
        ))
        .await
        .expect_err("events before the kept ones are gone");
    assert_eq!(expired.code(), Code::FailedPrecondition);
    assert_eq!(reason(&expired), "CURSOR_EXPIRED");
    // One that had seen it resumes with the second registration.
    use futures::StreamExt;
    let mut resumed = client
        .watch_identity_events(system_tests::as_caller(
            "service:activation",
            pb::WatchIdentityEventsRequest {
                after: Some(socsec_proto::common::v1::EventCursor { cursor: "1".into() }),
                heartbeats: false,
            },
        ))
        .await
        .expect("resumes from a kept position")
        .into_inner();
    let next = resumed.next().await.unwrap().unwrap();
    assert!(matches!(
        next.event,
        Some(pb::identity_event::Event::PersonRegistered(p)) if p.person_id == recent.person_id
    ));
    assert_ne!(old.person_id, recent.person_id);
}

//! Tables that stay fast at province scale (issue 18): `audit_log`, `outbox`
//! and contribution's `ledger_entries` are partitioned by China's calendar
//! month; retention drops whole months; the idempotency table is pruned in
//! batches past its window.

use std::sync::Arc;

use futures::StreamExt;
use socsec_proto::identity::v1 as pb;
use sqlx::PgPool;
use system_tests::{
    contribution_config, fresh_database, identity_client, identity_config, journeys,
    spawn_contribution_with, spawn_identity_with, test_clock,
};

/// The partitions of `table` in the pool's schema, by name.
async fn partitions_of(pool: &PgPool, table: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = to_regclass($1) ORDER BY c.relname",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// The name of `table`'s partition for the month `months` after this one.
async fn month_partition(pool: &PgPool, table: &str, months: i32) -> String {
    sqlx::query_scalar(
        "SELECT $1 || '_p' || to_char((now() AT TIME ZONE 'Asia/Shanghai')
                                       + make_interval(months => $2), 'YYYY_MM')",
    )
    .bind(table)
    .bind(months)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Which partition holds each row of `table`, in `order`.
async fn holders(pool: &PgPool, table: &str, order: &str) -> Vec<String> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT tableoid::regclass::text FROM {table} ORDER BY {order}"
    )))
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn audit_entries_and_events_land_in_this_china_month_and_months_ahead_exist() {
    let database = fresh_database().await;
    let config = identity_config(&database);
    let identity = spawn_identity_with(config.clone(), Arc::new(test_clock())).await;
    let mut client = identity_client(&identity).await;
    journeys::register(&mut client, "周分").await;
    let pool = platform::db::connect(&config.platform).await.unwrap();

    for table in ["audit_log", "outbox"] {
        let this_month = month_partition(&pool, table, 0).await;
        let rows = holders(&pool, table, "1").await;
        assert!(!rows.is_empty(), "{table} has rows");
        assert!(rows.iter().all(|p| *p == this_month), "{table}: {rows:?}");
        let partitions = partitions_of(&pool, table).await;
        for ahead in 0..=platform::partitions::AHEAD {
            let month = month_partition(&pool, table, ahead).await;
            assert!(partitions.contains(&month), "{month} in {partitions:?}");
        }
        assert!(partitions.contains(&format!("{table}_default")));
    }
}

#[tokio::test]
async fn ledger_rows_of_a_month_without_partition_wait_in_default_then_move_to_their_month() {
    let database = fresh_database().await;
    let identity = spawn_identity_with(identity_config(&database), Arc::new(test_clock())).await;
    let config = contribution_config(&database, identity.addr);
    let contribution = spawn_contribution_with(config.clone(), Arc::new(test_clock())).await;
    // Stopped, so that its own sweep cannot move the rows before we look.
    contribution.stop().await.unwrap();
    let pool = platform::db::connect(&config.platform).await.unwrap();
    // History from before the service existed (as an import brings), and
    // this month's booking.
    for period in ["2019-03-01", "2019-03-01", "2019-04-01"] {
        sqlx::query(
            "INSERT INTO ledger_entries (person_id, region_code, period, part, account, payer,
                 base_fen, rate_bp, amount_fen, kind, run_request_id, created_at)
             VALUES (gen_random_uuid(), '110105', $1::date, 'BASIC_POOLING', 'POOLING_FUND',
                 'person:x', 500000, 800, 40000, 'CONTRIBUTION', 'run-1', now())",
        )
        .bind(period)
        .execute(&pool)
        .await
        .unwrap();
    }
    assert_eq!(
        holders(&pool, "ledger_entries", "entry_id").await,
        ["ledger_entries_default"; 3]
    );

    assert_eq!(platform::partitions::maintain(&pool).await.unwrap(), 2);
    assert_eq!(
        holders(&pool, "ledger_entries", "entry_id").await,
        [
            "ledger_entries_p2019_03",
            "ledger_entries_p2019_03",
            "ledger_entries_p2019_04"
        ]
    );
    // Nothing waits in the default partition: a second sweep creates nothing.
    assert_eq!(platform::partitions::maintain(&pool).await.unwrap(), 0);
    // The ledger is the fund's book: its months are never dropped.
    assert!(
        platform::partitions::monthly_tables(&pool)
            .await
            .unwrap()
            .contains(&"ledger_entries".to_owned())
    );
}

#[tokio::test]
async fn events_stamped_in_other_months_are_delivered_in_commit_order() {
    let database = fresh_database().await;
    let config = identity_config(&database);
    let identity = spawn_identity_with(config.clone(), Arc::new(test_clock())).await;
    let mut client = identity_client(&identity).await;
    let pool = platform::db::connect(&config.platform).await.unwrap();
    let mut registered = Vec::new();
    for name in ["甲一", "乙二", "丙三"] {
        registered.push(journeys::register(&mut client, name).await.person_id);
    }
    // Numbered in commit order. Stamped against that order: the first in
    // the next month, the last in the month before (as a transaction begun
    // before midnight and committed after would be), so the three sit in
    // three partitions in the reverse order.
    while platform::outbox::sequence(&pool).await.unwrap().numbered > 0 {}
    let positions: Vec<i64> = sqlx::query_scalar("SELECT position FROM outbox ORDER BY position")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(positions.len(), 3, "one event per registration");
    for (position, moved) in [
        (positions[0], "+ interval '1 month'"),
        (positions[2], "- interval '1 month'"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE outbox SET occurred_at = now() {moved} WHERE position = $1"
        )))
        .bind(position)
        .execute(&pool)
        .await
        .unwrap();
    }
    platform::partitions::maintain(&pool).await.unwrap();
    let stamped = holders(&pool, "outbox", "position").await;
    assert_eq!(
        stamped,
        [
            month_partition(&pool, "outbox", 1).await,
            month_partition(&pool, "outbox", 0).await,
            month_partition(&pool, "outbox", -1).await,
        ]
    );

    let mut events = client
        .watch_identity_events(system_tests::as_caller(
            "service:activation",
            pb::WatchIdentityEventsRequest {
                after: None,
                heartbeats: false,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let mut delivered = Vec::new();
    let mut cursors = Vec::new();
    while delivered.len() < 3 {
        let event = events.next().await.unwrap().unwrap();
        let cursor: i64 = event.cursor.parse().unwrap();
        cursors.push(cursor);
        if let Some(pb::identity_event::Event::PersonRegistered(p)) = event.event {
            delivered.push(p.person_id);
        }
    }
    assert_eq!(delivered, registered);
    assert!(cursors.windows(2).all(|w| w[0] < w[1]), "{cursors:?}");
}

#[tokio::test]
async fn retention_drops_whole_months_past_it_and_keeps_newer_ones() {
    let database = fresh_database().await;
    let config = identity_config(&database);
    let _identity = spawn_identity_with(config.clone(), Arc::new(test_clock())).await;
    let pool = platform::db::connect(&config.platform).await.unwrap();
    // Entries at the start of the month 8 months back (its whole month is
    // more than 190 days old), 5 months back (not yet) and now.
    for back in [8, 5, 0] {
        sqlx::query(
            "INSERT INTO audit_log (at, actor_kind, actor_code, action, access, subject_id)
             VALUES ((date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai')
                          - make_interval(months => $1)) AT TIME ZONE 'Asia/Shanghai',
                     'operator', 'OP0001', 'GetPerson', 'READ', $2)",
        )
        .bind(back)
        .bind(format!("subject-{back}"))
        .execute(&pool)
        .await
        .unwrap();
    }

    let dropped = platform::retention::purge_audit(&pool, 190).await.unwrap();
    assert_eq!(dropped, [month_partition(&pool, "audit_log", -8).await]);
    let kept: Vec<String> = sqlx::query_scalar(
        "SELECT subject_id FROM audit_log WHERE subject_id LIKE 'subject-%' ORDER BY at",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(kept, ["subject-5", "subject-0"]);
    let partitions = partitions_of(&pool, "audit_log").await;
    assert!(partitions.contains(&month_partition(&pool, "audit_log", -5).await));
    assert!(partitions.contains(&"audit_log_default".to_owned()));
    // A second sweep finds nothing more to drop.
    assert!(
        platform::retention::purge_audit(&pool, 190)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn idempotency_answers_are_kept_for_their_window_and_pruned_after_in_batches() {
    let database = fresh_database().await;
    let mut config = identity_config(&database);
    // The service's own sweep (at start, then hourly) keeps a century: the
    // rows below are this test's to purge, not a race with that sweep.
    config.platform.idempotency_retention_days = 36_500;
    let identity = spawn_identity_with(config.clone(), Arc::new(test_clock())).await;
    let mut client = identity_client(&identity).await;
    journeys::register(&mut client, "赵窗").await;
    let pool = platform::db::connect(&config.platform).await.unwrap();
    // The registration's answer is 20 days old: inside a 30-day window.
    sqlx::query("UPDATE idempotency_keys SET created_at = now() - interval '20 days'")
        .execute(&pool)
        .await
        .unwrap();
    // More answers than one batch, 31 to 40 days old.
    let old = platform::retention::BATCH + 5;
    sqlx::query(
        "INSERT INTO idempotency_keys (caller, request_id, rpc, request_hash, response, created_at)
         SELECT 'operator:OP0001', 'old-' || n, 'RegisterPerson', '\\x00', '\\x00',
                now() - make_interval(days => 31 + n::int % 10)
         FROM generate_series(1, $1::int) AS n",
    )
    .bind(old)
    .execute(&pool)
    .await
    .unwrap();

    let purged = platform::retention::purge_idempotency(&pool, 30)
        .await
        .unwrap();
    assert_eq!(purged, u64::try_from(old).unwrap());
    let left: Vec<String> = sqlx::query_scalar("SELECT rpc FROM idempotency_keys")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(left, ["RegisterPerson"]);
}

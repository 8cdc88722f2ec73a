//! What Postgres itself does on this machine, to measure the services
//! against: pgbench, COPY of the rows the monthly run wrote; and the
//! database chores around the loads.

use std::{process::Command, time::Instant};

use futures::StreamExt;
use sqlx::{Connection, PgConnection};

use crate::Args;

/// pgbench's TPC-B and select-only rates at `args.clients`.
pub struct Pgbench {
    pub tpcb: f64,
    pub select_only: f64,
}

/// Initialises pgbench's tables in `url` and measures both rates.
pub fn measure_pgbench(args: &Args, url: &str) -> Pgbench {
    let clients = args.clients.to_string();
    let seconds = args.seconds.to_string();
    println!("baseline: pgbench at {} clients", args.clients);
    let init = Command::new(&args.pgbench)
        .args(["-i", "-q", "-s", "10"])
        .arg(url)
        .output()
        .expect("pgbench -i");
    assert!(
        init.status.success(),
        "pgbench -i: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    let tpcb = pgbench(
        args,
        url,
        &["-c", &clients, "-j", "2", "-T", &seconds, "-M", "prepared"],
    );
    let select_only = pgbench(
        args,
        url,
        &[
            "-S", "-c", &clients, "-j", "2", "-T", &seconds, "-M", "prepared",
        ],
    );
    println!("  TPC-B {tpcb:.0} tps, select-only {select_only:.0} tps");
    Pgbench { tpcb, select_only }
}

/// pgbench's `tps = …` for these arguments.
fn pgbench(args: &Args, url: &str, extra: &[&str]) -> f64 {
    let output = Command::new(&args.pgbench)
        .args(extra)
        .arg(url)
        .output()
        .expect("pgbench runs");
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.trim_start_matches("tps = ").split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "no tps in pgbench output: {text}{}",
                String::from_utf8_lossy(&output.stderr)
            )
        })
}

/// Seconds to COPY the very rows the run wrote into a fresh table shaped,
/// indexed and partitioned (by period, one DEFAULT partition) like the
/// ledger.
pub async fn copy_baseline(url: &str) -> (i64, f64) {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    sqlx::query("DROP TABLE IF EXISTS bench_copy")
        .execute(&mut conn)
        .await
        .unwrap();
    for statement in [
        "CREATE TABLE bench_copy (LIKE contribution.ledger_entries INCLUDING ALL) \
         PARTITION BY RANGE (period)",
        "CREATE TABLE bench_copy_all PARTITION OF bench_copy DEFAULT",
    ] {
        sqlx::query(statement).execute(&mut conn).await.unwrap();
    }
    let columns = "person_id, enrolment_id, contract_id, region_code, period, insurance_type, part, account, \
                   payer, base_fen, rate_bp, amount_fen, kind, run_request_id, created_at";
    let mut data = Vec::new();
    {
        let mut out = conn
            .copy_out_raw(&format!(
                "COPY (SELECT {columns} FROM contribution.ledger_entries) TO STDOUT"
            ))
            .await
            .expect("copy out");
        while let Some(chunk) = out.next().await {
            data.extend_from_slice(&chunk.expect("copy out data"));
        }
    }
    let rows = data.iter().filter(|b| **b == b'\n').count() as i64;
    let started = Instant::now();
    let mut copy = conn
        .copy_in_raw(&format!("COPY bench_copy ({columns}) FROM STDIN"))
        .await
        .expect("copy in");
    for chunk in data.chunks(1 << 20) {
        copy.send(chunk).await.expect("copy data");
    }
    copy.finish().await.expect("copy done");
    let seconds = started.elapsed().as_secs_f64();
    sqlx::query("DROP TABLE bench_copy")
        .execute(&mut conn)
        .await
        .unwrap();
    (rows, seconds)
}

/// Seeds `persons` employees (old-age, with a declared wage) straight into
/// contribution's schema: a million enrolments over gRPC would take longer
/// than the benchmark itself; the run is what is measured.
pub async fn seed_enrolments(url: &str, persons: i64) {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    sqlx::query(
        "INSERT INTO contribution.enrolments (enrolment_id, person_id, region_code, insurance_type,
             scheme, employer_code, payer, start_period, channel, created_at)
         SELECT gen_random_uuid(), p, '110100', 'OLD_AGE', 'EMPLOYEE', 'EMP-' || (n % 1000),
             'employer:EMP-' || (n % 1000), '2026-01-01', 'COUNTER', now()
         FROM (SELECT n, gen_random_uuid() AS p FROM generate_series(1, $1) AS n) s",
    )
    .bind(persons)
    .execute(&mut conn)
    .await
    .expect("seed enrolments");
    sqlx::query(
        "INSERT INTO contribution.current_wages (person_id, period, wage_fen)
         SELECT person_id, '2026-01-01', 500000 + (hashtext(person_id::text) & 1048575)
         FROM contribution.enrolments",
    )
    .execute(&mut conn)
    .await
    .expect("seed wages");
    sqlx::query("ANALYZE contribution.enrolments")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("ANALYZE contribution.current_wages")
        .execute(&mut conn)
        .await
        .unwrap();
}

/// Flushes dirty pages now, so a timed load does not pay for the writes of
/// the phase before it (a checkpoint in the middle of a few-second load
/// shows up as its p99).
pub async fn checkpoint(url: &str) {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    sqlx::query("CHECKPOINT")
        .execute(&mut conn)
        .await
        .expect("checkpoint");
}

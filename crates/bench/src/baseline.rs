//! What Postgres itself does on this machine, to measure the services
//! against: pgbench (TPC-B, select-only, and each measured RPC's own SQL
//! from `deploy/pgbench/`), COPY of the rows the monthly run wrote; and the
//! database chores around the loads.

use std::{process::Command, time::Instant};

use futures::StreamExt;
use socsec_bench::{
    machine::{cpu_per_call, cpu_seconds},
    prepare::Prepared,
    services::Services,
};
use sqlx::{Connection, PgConnection};

use crate::Args;

/// pgbench's TPC-B, select-only and audited-read rates at `args.clients`.
pub struct Pgbench {
    pub tpcb: f64,
    pub select_only: f64,
    /// One primary-key read and one audit insert in one statement,
    /// autocommitted: the least an audited read of personal data costs.
    pub audited_read: f64,
}

/// The audited read: the row read by its key and the read recorded, in one
/// statement.
const AUDITED_READ: &str = "\\set aid random(1, 100000 * :scale)
WITH r AS (SELECT aid, abalance FROM pgbench_accounts WHERE aid = :aid)
INSERT INTO bench_audit (actor, subject, at) SELECT 'hospital H-001', r.aid, now() FROM r
RETURNING id;
";

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
    let create = Command::new(psql(args))
        .args([
            "-q",
            "-c",
            "CREATE TABLE IF NOT EXISTS bench_audit (id bigserial PRIMARY KEY, actor text NOT NULL, \
             subject integer NOT NULL, at timestamptz NOT NULL)",
        ])
        .arg(url)
        .output()
        .expect("psql");
    assert!(
        create.status.success(),
        "bench_audit: {}",
        String::from_utf8_lossy(&create.stderr)
    );
    let script = std::env::temp_dir().join("socsec-bench-audited-read.sql");
    std::fs::write(&script, AUDITED_READ).expect("write the audited read");
    let audited_read = pgbench(
        args,
        url,
        &[
            "-n",
            "-f",
            script.to_str().expect("a UTF-8 temporary directory"),
            "-c",
            &clients,
            "-j",
            "2",
            "-T",
            &seconds,
            "-M",
            "prepared",
        ],
    );
    println!(
        "  TPC-B {tpcb:.0} tps, select-only {select_only:.0} tps, audited read {audited_read:.0} tps"
    );
    Pgbench {
        tpcb,
        select_only,
        audited_read,
    }
}

/// psql beside pgbench.
fn psql(args: &Args) -> std::path::PathBuf {
    args.pgbench.with_file_name("psql")
}

/// pgbench's `tps = …` for these arguments.
fn pgbench(args: &Args, url: &str, extra: &[&str]) -> f64 {
    let output = Command::new(&args.pgbench)
        .args(extra)
        .arg(url)
        .output()
        .expect("pgbench runs");
    tps(&output)
}

/// The `tps = …` of a pgbench run.
fn tps(output: &std::process::Output) -> f64 {
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

/// Seconds to COPY the very rows the run wrote into a fresh table shaped
/// like the ledger: the same columns, constraints and indexes, partitioned
/// by `period` into the same partitions as the ledger has now.
pub async fn copy_baseline(url: &str) -> (i64, f64) {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    sqlx::query("DROP TABLE IF EXISTS bench_copy")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(
        "CREATE TABLE bench_copy (LIKE contribution.ledger_entries INCLUDING ALL)
         PARTITION BY RANGE (period)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let bounds: Vec<String> = sqlx::query_scalar(
        "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'contribution.ledger_entries'::regclass",
    )
    .fetch_all(&mut conn)
    .await
    .expect("the ledger's partitions");
    for (n, bound) in bounds.iter().enumerate() {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE TABLE bench_copy_{n} PARTITION OF bench_copy {bound}"
        )))
        .execute(&mut conn)
        .await
        .expect("a partition like the ledger's");
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

/// A measured RPC's own SQL (`deploy/pgbench/<rpc>.sql`): its file name and text.
pub struct Script {
    pub name: &'static str,
    pub text: &'static str,
}

/// Bank-outlet activation: activation's and identity's statements.
pub const ACTIVATION: Script = Script {
    name: "activation.sql",
    text: include_str!("../../../deploy/pgbench/activation.sql"),
};
/// A hospital's eligibility check.
pub const ELIGIBILITY: Script = Script {
    name: "eligibility.sql",
    text: include_str!("../../../deploy/pgbench/eligibility.sql"),
};
/// The replay of an answered activation.
pub const REPLAY: Script = Script {
    name: "replay.sql",
    text: include_str!("../../../deploy/pgbench/replay.sql"),
};

impl Script {
    /// pgbench's `-D name=value` arguments: the script's own (its `-- -D`
    /// header lines), with `overrides` in place of those of the same name.
    pub fn defines(&self, overrides: &[(&str, String)]) -> Vec<String> {
        self.text
            .lines()
            .filter_map(|l| l.strip_prefix("-- -D "))
            .map(|define| {
                let name = define.split_once('=').map_or(define, |(n, _)| n);
                overrides
                    .iter()
                    .find(|(o, _)| *o == name)
                    .map_or_else(|| define.to_owned(), |(o, v)| format!("{o}={v}"))
            })
            .flat_map(|define| ["-D".to_owned(), define])
            .collect()
    }
}

/// Lists `cards` (received, not activated) in `pgbench_input.cards`, by
/// index: the cards the per-RPC scripts activate and then check.
pub async fn list_script_cards(url: &str, cards: &[Prepared]) {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    sqlx::raw_sql(
        "CREATE SCHEMA IF NOT EXISTS pgbench_input;
         DROP TABLE IF EXISTS pgbench_input.cards;
         CREATE TABLE pgbench_input.cards (i int PRIMARY KEY, card_number text NOT NULL)",
    )
    .execute(&mut conn)
    .await
    .expect("pgbench_input.cards");
    let numbers: Vec<&str> = cards.iter().map(|c| c.card_number.as_str()).collect();
    sqlx::query(
        "INSERT INTO pgbench_input.cards (i, card_number)
         SELECT n::int - 1, number FROM UNNEST($1::text[]) WITH ORDINALITY AS u(number, n)",
    )
    .bind(&numbers)
    .execute(&mut conn)
    .await
    .expect("list the cards");
}

/// One run of a per-RPC script: transactions per second and CPU
/// milliseconds per transaction, by process.
pub struct ScriptRun {
    pub tps: f64,
    pub cpu: String,
    pub transactions: usize,
}

/// Each measured RPC's own SQL in pgbench, at the RPC loads' concurrency.
pub struct RpcSql {
    pub activation: ScriptRun,
    pub eligibility: ScriptRun,
    pub replay: ScriptRun,
}

/// Runs `script` with pgbench on `url` (`search_path` = activation's
/// schema), `runs` being `-t N` or `-T S`, after a checkpoint as every timed
/// load; `transactions` is how many it makes (for the CPU per transaction).
async fn run_script(
    args: &Args,
    url: &str,
    services: &Services,
    script: &Script,
    runs: [String; 2],
    overrides: &[(&str, String)],
) -> ScriptRun {
    let file = std::env::temp_dir().join(format!("socsec-bench-{}", script.name));
    std::fs::write(&file, script.text).expect("write the script");
    checkpoint(url).await;
    let before = cpu_seconds(services);
    let output = Command::new(&args.pgbench)
        .env("PGOPTIONS", "-c search_path=activation")
        .args(["-n", "-M", "prepared", "-c"])
        .arg(args.clients.to_string())
        .args(["-j", "2"])
        .args(&runs)
        .args(script.defines(overrides))
        .arg("-f")
        .arg(&file)
        .arg(url)
        .output()
        .expect("pgbench runs");
    assert!(
        output.status.success(),
        "pgbench -f {}: {}{}",
        script.name,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let tps = tps(&output);
    let text = String::from_utf8_lossy(&output.stdout);
    let transactions = text
        .lines()
        .find_map(|l| l.strip_prefix("number of transactions actually processed: "))
        .and_then(|v| v.split('/').next())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let cpu = cpu_per_call(&before, &cpu_seconds(services), transactions);
    println!(
        "  {}: {tps:.0} tps ({transactions} transactions), CPU ms per transaction: {cpu}",
        script.name
    );
    ScriptRun {
        tps,
        cpu,
        transactions,
    }
}

/// The measured RPCs' own SQL in pgbench with `args.clients` clients, on
/// `cards` (received, never touched by the RPC loads): as many first
/// activations as the RPC load made (`-t` per client), eligibility checks
/// of those cards for `args.seconds`, then each answered request replayed
/// once.
pub async fn per_rpc(args: &Args, url: &str, services: &Services, cards: &[Prepared]) -> RpcSql {
    println!("each RPC's own SQL in pgbench, {} clients", args.clients);
    list_script_cards(url, cards).await;
    let per_client = (cards.len() / args.clients).max(1).to_string();
    let clients = ("clients", args.clients.to_string());
    let activation = run_script(
        args,
        url,
        services,
        &ACTIVATION,
        ["-t".into(), per_client.clone()],
        std::slice::from_ref(&clients),
    )
    .await;
    let eligibility = run_script(
        args,
        url,
        services,
        &ELIGIBILITY,
        ["-T".into(), args.seconds.to_string()],
        &[("cards", activation.transactions.to_string())],
    )
    .await;
    let replay = run_script(
        args,
        url,
        services,
        &REPLAY,
        ["-t".into(), per_client],
        &[clients],
    )
    .await;
    RpcSql {
        activation,
        eligibility,
        replay,
    }
}

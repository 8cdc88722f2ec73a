//! `socsec-bench`: measures the services against what the same Postgres does
//! on the same machine in the same run, and writes BENCHMARKS.md.
//!
//! Run through `deploy/bench.sh`, which starts a private Postgres with the
//! settings the services use and builds everything in release mode. With
//! `--persons N[,N…]` the same run goes on with the scale mode ([`scale`])
//! and the report holds both.

// Rates and durations are measurements, not money: floating point is right here.
#![allow(clippy::float_arithmetic)]

mod baseline;
mod capacity;
mod loads;
mod report;
mod scale;
mod scale_db;
mod scale_report;

use std::{path::PathBuf, sync::Arc};

use clap::Parser;
use socsec_bench::{
    Target, prepare,
    services::{self, Launch, Services},
};
use socsec_proto::activation::v1::activation_service_client::ActivationServiceClient;

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    target: Target,
    /// Where pgbench is.
    #[arg(long)]
    pgbench: PathBuf,
    /// Concurrent clients, for pgbench and for the gRPC loads alike.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Seconds of each timed load.
    #[arg(long, default_value_t = 15)]
    seconds: u64,
    /// Fresh cards to activate at full load (half as many more at half load).
    #[arg(long, default_value_t = 6_000)]
    cards: usize,
    /// Enrolled persons in the monthly run (seeded with SQL).
    #[arg(long, default_value_t = 1_000_000)]
    run_persons: i64,
    /// Seconds of the overload phase (eligibility offered 2.5× the rate
    /// it reached).
    #[arg(long, default_value_t = 60)]
    overload_seconds: u64,
    /// Wrong sign-ins per second in the sign-in flood phase …
    #[arg(long, default_value_t = 300.0)]
    flood_rate: f64,
    /// … for this many seconds.
    #[arg(long, default_value_t = 60)]
    flood_seconds: u64,
    /// Scale mode: for each N, a province of N persons imported into a
    /// fresh database, then eligibility, outlet activation and the monthly
    /// run measured on it (e.g. `--persons 100000,10000000`).
    #[arg(long, value_delimiter = ',')]
    persons: Vec<u64>,
    /// Where the scale mode writes its province files (deleted once loaded).
    #[arg(long, default_value_os_t = std::env::temp_dir())]
    province_dir: PathBuf,
    #[arg(long, default_value = "BENCHMARKS.md")]
    out: PathBuf,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let figures = measure(&args).await;
    std::fs::write(&args.out, report::render(&args, &figures)).expect("write report");
    if !args.persons.is_empty() {
        let mut runs = Vec::new();
        for &n in &args.persons {
            runs.push(scale::measure(&args, n).await);
        }
        std::fs::write(&args.out, report::scale(&args, &runs)).expect("write report");
    }
    println!("wrote {}", args.out.display());
}

/// The services against pgbench and COPY on a fresh database: activation,
/// eligibility, replays, each beside its own SQL, and the monthly run.
async fn measure(args: &Args) -> report::Figures {
    let url = args.target.fresh_database("socsec_bench").await;
    let pgbench = baseline::measure_pgbench(args, &url);

    let services = Services::start(Launch {
        bin_dir: args.target.bin_dir.clone(),
        database_url: url.clone(),
        callers: services::CALLERS.map(String::from).to_vec(),
        log_dir: std::env::temp_dir().join("socsec-bench-logs"),
    });
    // As many again for the RPCs' own SQL in pgbench (`baseline::per_rpc`).
    let count = args.cards + args.cards / 2;
    let cards = prepare::received_cards(&services, args.clients, count + args.cards).await;
    let activation = ActivationServiceClient::new(services.serving(&services.activation).await);
    prepare::wait_projected(&activation, args.clients, &cards).await;
    let (cards, script_cards) = cards.split_at(count);
    let (full, half) = cards.split_at(args.cards);
    let (full, half) = (Arc::new(full.to_vec()), Arc::new(half.to_vec()));

    let idle = capacity::idle(&services).await;
    let activations =
        loads::activations(args, &url, &services, &activation, full.clone(), half).await;
    let (eligibility, eligibility_cpu) =
        loads::eligibility(args, &url, &services, &activation, full.clone()).await;
    let eligibility_half = loads::eligibility_at(
        &activation,
        full.clone(),
        eligibility.per_second() / 2.0,
        args.seconds,
    )
    .await;
    let rpc_path = capacity::rpc_path(args, &services).await;
    let overload = capacity::overload(
        &activation,
        full.clone(),
        eligibility.per_second() * 2.5,
        args.overload_seconds,
        eligibility_half.p99,
    )
    .await;
    let flood =
        capacity::sign_in_flood(&services, full.clone(), args.flood_rate, args.flood_seconds).await;
    let rpc_sql = baseline::per_rpc(args, &url, &services, script_cards).await;
    let run = loads::monthly_run(args, &url, &services).await;
    drop(services);
    scale_db::drop_database(&args.target.database_url, &url).await;
    report::Figures {
        pgbench,
        activations,
        eligibility,
        eligibility_cpu,
        eligibility_half,
        idle,
        rpc_path,
        overload,
        flood,
        run,
        rpc_sql,
    }
}

//! `socsec-bench`: measures the services against what the same Postgres does
//! on the same machine in the same run, and writes BENCHMARKS.md.
//!
//! Run through `deploy/bench.sh`, which starts a private Postgres with the
//! settings the services use and builds everything in release mode.

// Rates and durations are measurements, not money: floating point is right here.
#![allow(clippy::float_arithmetic)]

mod baseline;
mod load;
mod loads;
mod machine;
mod prepare;
mod report;
mod services;

use std::{path::PathBuf, sync::Arc, time::Duration};

use clap::Parser;
use socsec_proto::activation::v1::activation_service_client::ActivationServiceClient;

use crate::services::Services;

#[derive(Parser)]
struct Args {
    /// A Postgres server whose user may create databases.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Where the release binaries of the services are.
    #[arg(long, default_value = "target/release")]
    bin_dir: PathBuf,
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
    /// Enrolled persons in the monthly run.
    #[arg(long, default_value_t = 1_000_000)]
    persons: i64,
    #[arg(long, default_value = "BENCHMARKS.md")]
    out: PathBuf,
}

/// Milliseconds with two decimals.
fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let url = baseline::create_database(&args).await;
    let pgbench = baseline::measure_pgbench(&args, &url);

    let services = Services::start(&args, &url);
    let cards = prepare::received_cards(&services, args.clients, args.cards + args.cards / 2).await;
    let activation = ActivationServiceClient::new(services.serving(&services.activation).await);
    prepare::wait_projected(&activation, args.clients, &cards).await;
    let (full, half) = cards.split_at(args.cards);
    let (full, half) = (Arc::new(full.to_vec()), Arc::new(half.to_vec()));

    let activations =
        loads::activations(&args, &url, &services, &activation, full.clone(), half).await;
    let (eligibility, eligibility_cpu) =
        loads::eligibility(&args, &url, &services, &activation, full).await;
    let run = loads::monthly_run(&args, &url, &services).await;
    drop(services);

    let figures = report::Figures {
        pgbench,
        activations,
        eligibility,
        eligibility_cpu,
        run,
    };
    std::fs::write(&args.out, report::render(&args, &figures)).expect("write report");
    println!("wrote {}", args.out.display());
}

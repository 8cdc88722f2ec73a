//! `socsec-faults`: starts the real system, drives a steady mixed load,
//! injects faults one after another, checks invariants after each, and
//! writes docs/RELIABILITY.md. Exits non-zero when an invariant fails.
//!
//! Run through `deploy/faults.sh`, which starts a private Postgres and
//! builds everything in release mode.

// Rates and durations are measurements, not money: floating point is right here.
#![allow(clippy::float_arithmetic)]

mod cluster;
mod inject;
mod invariants;
mod journal;
mod partner;
mod plan;
mod proxy;
mod report;
mod seed;
mod system;
mod workload;

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use clap::Parser;
use socsec_bench::{Target, load, prepare};
use socsec_proto::{
    activation::v1::activation_service_client::ActivationServiceClient,
    card::v1::card_service_client::CardServiceClient,
    contribution::v1::contribution_service_client::ContributionServiceClient,
    identity::v1::identity_service_client::IdentityServiceClient,
};
use tokio::sync::watch;

use crate::{
    invariants::Context,
    journal::{Journal, Kind},
    plan::Planned,
    report::{Outcome, Setup},
    system::{Postgres, System},
    workload::Load,
};

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    target: Target,
    /// The subset CI runs, each fault a few seconds.
    #[arg(long)]
    short: bool,
    /// Only these faults (comma-separated keys; `--only list` lists them).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// `pg_ctl` of the cluster, to restart it (Postgres faults are skipped without it).
    #[arg(long)]
    pg_ctl: Option<PathBuf>,
    /// The cluster's data directory.
    #[arg(long)]
    pg_data: Option<PathBuf>,
    /// Run `pg_ctl` as this user (the cluster's owner).
    #[arg(long)]
    pg_owner: Option<String>,
    /// Against the Patroni cluster of `deploy/cluster.sh --database-only`
    /// (`--database-url` through its HAProxy): two instances of every
    /// service, and the cluster's faults (the primary killed, one instance
    /// of each service killed) instead of the others. `deploy/failover.sh`.
    #[arg(long)]
    cluster: bool,
    /// The cluster's directory (`SOCSEC_CLUSTER_DIR` of `deploy/cluster.sh`).
    #[arg(long, default_value = ".data/cluster")]
    cluster_dir: PathBuf,
    /// `deploy/cluster.sh`, to stop and start the whole cluster.
    #[arg(long, default_value = "deploy/cluster.sh")]
    cluster_script: PathBuf,
    /// Where the report goes (default: docs/RELIABILITY.md, or
    /// target/RELIABILITY-short.md with --short or --only).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Activated before the first fault, so loss reports and eligibility
/// checks have cards from the start.
const ACTIVATED_BEFORE: usize = 200;

struct Pace {
    /// Load before the injection, and after SERVING before the checks.
    steady: Duration,
    /// How long every instance gets to answer SERVING again.
    patience: Duration,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if args.only.iter().any(|k| k == "list") {
        println!("{}", plan::keys().join("\n"));
        return;
    }
    let unknown: Vec<&String> = args
        .only
        .iter()
        .filter(|k| !plan::keys().contains(k))
        .collect();
    assert!(
        unknown.is_empty(),
        "unknown faults {unknown:?}; --only list lists them"
    );
    let planned = if args.cluster {
        plan::plan_cluster(args.short)
            .into_iter()
            .filter(|p| args.only.is_empty() || args.only.contains(&p.key))
            .collect()
    } else {
        plan::plan(args.short, &args.only)
    };
    let pace = if args.short {
        Pace {
            steady: Duration::from_secs(2),
            patience: Duration::from_secs(60),
        }
    } else {
        Pace {
            steady: Duration::from_secs(5),
            patience: Duration::from_secs(120),
        }
    };
    let out = args.out.clone().unwrap_or_else(|| {
        if args.cluster {
            "target/RELIABILITY-cluster.md".into()
        } else if args.short || !args.only.is_empty() {
            "target/RELIABILITY-short.md".into()
        } else {
            "docs/RELIABILITY.md".into()
        }
    });
    let started = Instant::now();

    // Enough fresh cards for activations all along.
    let seconds: f64 = planned
        .iter()
        .map(|p| p.hold.as_secs_f64() + 2.0 * pace.steady.as_secs_f64() + 10.0)
        .sum();
    let count = ACTIVATED_BEFORE + (seconds * 10.0 * 1.3) as usize;

    let url = args.target.fresh_database("socsec_faults").await;
    let postgres = match (&args.pg_ctl, &args.pg_data) {
        (Some(pg_ctl), Some(data)) => Some(Postgres {
            pg_ctl: pg_ctl.clone(),
            data: data.clone(),
            owner: args.pg_owner.clone(),
        }),
        _ => None,
    };
    let logs = std::env::temp_dir().join(format!("socsec-faults-{}", std::process::id()));
    println!("services log to {}", logs.display());
    let mut system = System::start(
        args.target.bin_dir.clone(),
        url.clone(),
        (
            postgres,
            args.cluster.then(|| cluster::Cluster {
                dir: args.cluster_dir.clone(),
                script: args.cluster_script.clone(),
            }),
        ),
        logs,
    )
    .await;
    let services = &system.services;
    let identity = IdentityServiceClient::new(services.channel(&services.identity));
    seed::partners(&identity).await;
    let cards = Arc::new(prepare::received_cards(services, 4, count).await);
    let activation = ActivationServiceClient::new(services.channel(&services.activation));
    prepare::wait_projected(&activation, 4, &cards).await;
    let contribution = ContributionServiceClient::new(services.channel(&services.contribution));
    let employers = seed::bills(&contribution, &cards).await;
    let period = seed::this_month();
    let booked = invariants::booked(&mut invariants::connect(&url).await, period).await;

    let journal = Arc::new(Journal::new());
    let load = Arc::new(Load::new(
        journal.clone(),
        cards.clone(),
        (employers.clone(), period),
        system.activation_clients(),
        CardServiceClient::new(services.channel(&services.cards)),
        contribution.clone(),
    ));
    let l = load.clone();
    load::closed_loop(4, ACTIVATED_BEFORE, None, move |_| {
        let load = l.clone();
        async move {
            load.step(Kind::Activate).await;
            true
        }
    })
    .await;
    let (stop, stopping) = watch::channel(false);
    let workers = load.spawn(&stopping);
    println!("load running; {} faults planned", planned.len());

    let mut outcomes = Vec::new();
    let mut not_run = Vec::new();
    let mut previous: HashMap<&'static str, usize> = HashMap::new();
    let mut since = journal.now();
    for (n, fault) in planned.iter().enumerate() {
        if outcomes
            .last()
            .is_some_and(|o: &Outcome| o.serving.is_none())
        {
            not_run.extend(planned[n..].iter().map(Planned::title));
            break;
        }
        println!("{}", fault.title());
        tokio::time::sleep(pace.steady).await;
        let timeline = inject::inject(&mut system, &load, fault).await;
        let serving = system.wait_serving(pace.patience).await;
        let recovered = journal.now();
        tokio::time::sleep(pace.steady).await;
        let outcome = check(
            &system,
            &load,
            (fault, timeline, serving, recovered),
            pace.patience,
            &booked,
            (since, &mut previous),
        )
        .await;
        for (check, failed) in &outcome.checks {
            println!(
                "  {} {}: {}",
                if *failed { "FAILS" } else { "holds" },
                check.name,
                check.detail
            );
        }
        outcomes.push(outcome);
        inject::tidy(&mut system, &load, fault).await;
        since = journal.now();
    }
    stop.send_replace(true);
    for worker in workers {
        let _ = worker.await;
    }
    drop(system);

    let setup = Setup {
        short: args.short,
        cluster: args.cluster,
        build: args
            .target
            .bin_dir
            .file_name()
            .map_or("release".into(), |n| n.to_string_lossy().into_owned()),
        cards: cards.len(),
        activated_before: ACTIVATED_BEFORE,
        cards_left: load.fresh_cards_left(),
        employees: employers.len() * 50,
        minutes: started.elapsed().as_secs_f64() / 60.0,
        not_run,
    };
    std::fs::write(&out, report::render(&setup, &outcomes, &out)).expect("write the report");
    println!("wrote {}", out.display());
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.failed())
        .map(|o| o.title.as_str())
        .collect();
    if !failed.is_empty() || !setup.not_run.is_empty() {
        eprintln!("invariants failed after: {}", failed.join("; "));
        std::process::exit(1);
    }
}

/// Checks every invariant after `fault`, counting the calls sent since
/// `since`; a cumulative check fails only if its count grew beyond
/// `previous`.
async fn check(
    system: &System,
    load: &Load,
    (fault, timeline, serving, recovered): (&Planned, inject::Timeline, Option<Duration>, Duration),
    patience: Duration,
    booked: &HashMap<String, i64>,
    (since, previous): (Duration, &mut HashMap<&'static str, usize>),
) -> Outcome {
    let calls = load.journal.calls();
    let ctx = Context {
        calls: &calls,
        cards: &load.cards,
        employers: &load.employers,
        period: load.period,
        since,
        contribution: ContributionServiceClient::new(
            system.services.channel(&system.services.contribution),
        ),
        booked,
    };
    let mut conn = invariants::connect(&system.database_url).await;
    let mut checks = vec![
        invariants::durable(&ctx, &mut conn).await,
        invariants::duplicates(&ctx, &mut conn).await,
        invariants::ledger(&ctx, &mut conn).await,
        invariants::regression(&ctx, &mut conn).await,
        invariants::lost_not_eligible(&ctx),
        invariants::serving(serving, patience),
        invariants::honest(&ctx),
    ];
    if let Some(cluster) = &system.cluster {
        checks.push(invariants::whole(
            cluster.wait_whole(patience).await,
            patience,
        ));
    }
    let checks = checks
        .into_iter()
        .map(|check| {
            let failed = if check.cumulative {
                let before = previous.insert(check.name, check.violations).unwrap_or(0);
                check.violations > before
            } else {
                check.violations > 0
            };
            (check, failed)
        })
        .collect();
    let load_ok = Kind::ALL
        .iter()
        .map(|kind| ok_again(&calls, *kind, timeline.injected, timeline.healed))
        .collect::<Option<Vec<Duration>>>()
        .and_then(|each| each.into_iter().max());
    // The fault lasts, for callers, until the instances serve and calls
    // succeed again, whichever is later.
    let over = recovered.max(timeline.healed + load_ok.unwrap_or_default());
    Outcome {
        title: fault.title(),
        during: journal::by_code(&calls, timeline.injected, over),
        slowest: journal::under_way(&calls, timeline.injected, over)
            .map(|c| c.took)
            .max()
            .unwrap_or_default(),
        timeline,
        serving,
        load_ok,
        checks,
    }
}

/// From `healed`, how long until calls of `kind` succeeded for good: the
/// first answered OK after the last refused since `injected` (none
/// refused: at once); `None` if the last ones were still refused.
fn ok_again(
    calls: &[journal::Call],
    kind: Kind,
    injected: Duration,
    healed: Duration,
) -> Option<Duration> {
    let mut since: Vec<&journal::Call> = calls
        .iter()
        .filter(|c| c.kind == kind && c.sent >= injected)
        .collect();
    since.sort_by_key(|c| c.sent);
    let Some(last_refused) = since.iter().rposition(|c| c.code != tonic::Code::Ok) else {
        return Some(Duration::ZERO);
    };
    since[last_refused + 1..]
        .first()
        .map(|c| c.sent.saturating_sub(healed))
}

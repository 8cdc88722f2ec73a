//! The scale mode (`--persons N[,N…]`): for each N, a fresh database with
//! the services running, a province of N persons (each with one card
//! received inside the activation window — every other one activated in
//! the old system — an enrolment and two months of wages) generated to a
//! file and loaded through the import RPCs with the loader `socsec import`
//! uses; COPY of the very rows the import stored into copies of the same
//! tables; the first month's run (history); then outlet activation of
//! imported fresh cards, eligibility of imported active cards and the
//! second month's run, measured with the default mode's loads; and the
//! tables' sizes.

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::Utc;
use socsec_bench::{
    load::Measured,
    prepare::{self, Partner, Prepared},
    services::{self, Launch, OPERATOR, Services},
};
use socsec_fixtures::{
    journey,
    province::{self, Clients, Load, Progress, Province, Sampled, Shape, Spec},
};
use socsec_proto::{
    activation::v1::activation_service_client::ActivationServiceClient,
    card::v1::card_service_client::CardServiceClient,
    common::v1::{PartnerKind, YearMonth},
    contribution::v1::contribution_service_client::ContributionServiceClient,
    identity::v1::identity_service_client::IdentityServiceClient,
};

use crate::{
    Args,
    loads::{self, Activations, MonthlyRun},
    scale_db::{Copy, TableSize, copy_imported, drop_database, sizes},
};

/// What one N measured.
pub struct Scale {
    pub persons: u64,
    pub province: Province,
    pub file_bytes: u64,
    /// Records sent and seconds of the import.
    pub records: u64,
    pub load_seconds: f64,
    pub rejected: u64,
    /// Rows the import stored in [`IMPORTED`], and COPY of them.
    pub copy: Copy,
    pub history: MonthlyRun,
    pub activations: Activations,
    pub eligibility: Measured,
    pub eligibility_cpu: String,
    pub run: MonthlyRun,
    pub tables: Vec<TableSize>,
    pub database_bytes: i64,
}

/// Valid unified social credit codes for the employers.
fn credit_codes() -> Vec<String> {
    (1..=province::EMPLOYERS.len())
        .map(|n| {
            pii::CreditCode::from_body(&format!("9111000020000{n:04}"))
                .expect("a credit code")
                .as_str()
                .to_owned()
        })
        .collect()
}

/// The partners the imported records meet.
fn partners(credit: &[String]) -> Vec<Partner<'_>> {
    let mut all = vec![
        Partner::new(province::BANK, PartnerKind::Bank),
        Partner {
            parent: province::BANK,
            ..Partner::new("ICBC-0101", PartnerKind::BankOutlet)
        },
        Partner::new("H-001", PartnerKind::Hospital),
    ];
    all.extend(
        province::EMPLOYERS
            .iter()
            .zip(credit)
            .map(|(code, credit_code)| Partner {
                credit_code,
                ..Partner::new(code, PartnerKind::Employer)
            }),
    );
    all
}

/// Measures the scale mode at `n` persons.
pub async fn measure(args: &Args, n: u64) -> Scale {
    println!("scale mode: {n} persons");
    let url = args
        .target
        .fresh_database(&format!("socsec_scale_{n}"))
        .await;
    let services = Services::start(Launch {
        bin_dir: args.target.bin_dir.clone(),
        database_url: url.clone(),
        callers: services::CALLERS.map(String::from).to_vec(),
        log_dir: std::env::temp_dir().join("socsec-bench-logs"),
    });
    let identity = IdentityServiceClient::new(services.serving(&services.identity).await);
    prepare::register_partners(&identity, &partners(&credit_codes())).await;

    let now = Utc::now();
    // Enrolments need their region's rate table; the runs need each year's.
    let mut contribution =
        ContributionServiceClient::new(services.serving(&services.contribution).await);
    let months = [2, 1].map(|m| year_month(&province::month_before(now, m)));
    for year in [months[0].year, months[1].year] {
        loads::set_rates(&mut contribution, year).await;
    }
    // Enough sampled cards for the activation loads, spread over the file.
    let wanted = 4 * (args.cards + args.cards / 2) as u64;
    let spec = Spec {
        shape: Shape::Received,
        wage_months: 2,
        sample_every: (n / wanted.max(1)).max(1) | 1,
        ..Spec::new(n, 0, now)
    };
    let file = args.province_dir.join(format!("socsec-province-{n}.jsonl"));
    let started = Instant::now();
    let province = std::fs::File::create(&file)
        .and_then(|f| province::write(f, &spec))
        .expect("the province file is written");
    let file_bytes = std::fs::metadata(&file).map_or(0, |m| m.len());
    println!(
        "  generated {} records ({:.1} MB) in {:.1} s",
        province.records(),
        file_bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    let clients = Clients {
        identity: identity.clone(),
        cards: CardServiceClient::new(services.serving(&services.cards).await),
        contribution: contribution.clone(),
    };
    let (records, load_seconds, rejected) = import(clients, &file).await;
    let copy = copy_imported(&url, &args.province_dir).await;
    println!(
        "  COPY of the same {} rows: {:.1} s, {:.0} rows/s; the import stored them at {:.0} rows/s",
        copy.rows,
        copy.seconds,
        copy.rows as f64 / copy.seconds,
        copy.rows as f64 / load_seconds
    );

    println!(
        "  monthly run of {}-{:02} (history)",
        months[0].year, months[0].month
    );
    let history = loads::run_month(
        &url,
        &services,
        &mut contribution,
        months[0],
        "scale-history",
    )
    .await;

    let activation = ActivationServiceClient::new(services.serving(&services.activation).await);
    let samples: Vec<Prepared> = province.samples.iter().map(prepared).collect();
    if let Some(last) = samples.last() {
        println!("  waiting for activation's projection to reach the last card");
        let mut a = activation.clone();
        journey::projected(
            &mut a,
            &OPERATOR,
            &last.card_number,
            "RECEIVED",
            Duration::from_secs(3_600),
        )
        .await
        .expect("activation's projection catches up");
    }
    prepare::wait_projected(&activation, args.clients, &samples).await;
    let pick = |activated: bool| -> Vec<Prepared> {
        province
            .samples
            .iter()
            .filter(|s| s.activated == activated)
            .map(prepared)
            .collect()
    };
    let fresh = pick(false);
    let full = args.cards.min(fresh.len() * 2 / 3).max(1);
    let half = (full / 2).min(fresh.len() - full);
    let activations = loads::activations(
        args,
        &url,
        &services,
        &activation,
        Arc::new(fresh[..full].to_vec()),
        Arc::new(fresh[full..full + half].to_vec()),
    )
    .await;
    let (eligibility, eligibility_cpu) =
        loads::eligibility(args, &url, &services, &activation, Arc::new(pick(true))).await;
    println!("  monthly run of {}-{:02}", months[1].year, months[1].month);
    let run = loads::run_month(&url, &services, &mut contribution, months[1], "scale-run").await;
    let (tables, database_bytes) = sizes(&url).await;
    let table_bytes: i64 = tables.iter().map(|t| t.total).sum();
    println!(
        "  tables {:.1} MB, database {:.1} MB: {:.0} bytes of tables per person",
        table_bytes as f64 / 1e6,
        database_bytes as f64 / 1e6,
        table_bytes as f64 / n as f64
    );
    drop(services);
    drop_database(&args.target.database_url, &url).await;
    Scale {
        persons: n,
        province,
        file_bytes,
        records,
        load_seconds,
        rejected,
        copy,
        history,
        activations,
        eligibility,
        eligibility_cpu,
        run,
        tables,
        database_bytes,
    }
}

/// Loads `file` as `socsec import` does (batches of 500, 4 in flight),
/// printing the rate every 5 s; records sent, seconds, rejections. The
/// file and its checkpoint are deleted afterwards.
async fn import(clients: Clients<devpki::channel::CallerChannel>, file: &Path) -> (u64, f64, u64) {
    let load = Load::new(file);
    let _ = std::fs::remove_file(&load.checkpoint);
    let mut last = Instant::now();
    let mut rejected = 0u64;
    let summary = province::load(clients, &OPERATOR, &load, |p| match p {
        Progress::Rejected(r) => {
            rejected += 1;
            if rejected <= 10 {
                println!("  rejected: line {} {} {}", r.line, r.field, r.reason);
            }
        }
        Progress::Batch {
            kind,
            sent,
            per_second,
        } => {
            if last.elapsed() >= Duration::from_secs(5) {
                last = Instant::now();
                println!(
                    "  import: {} … {sent} records, {per_second:.0} records/s",
                    kind.name()
                );
            }
        }
    })
    .await
    .expect("the province loads");
    let _ = std::fs::remove_file(file);
    let _ = std::fs::remove_file(&load.checkpoint);
    println!(
        "  imported {} records in {:.1} s: {:.0} records/s, {rejected} rejected",
        summary.sent,
        summary.seconds,
        summary.sent as f64 / summary.seconds
    );
    (summary.sent, summary.seconds, rejected)
}

fn prepared(s: &Sampled) -> Prepared {
    Prepared {
        card_number: s.card_number.clone(),
        code: s.code.clone(),
        id_number: s.id_number.clone(),
        person_id: String::new(),
    }
}

fn year_month(text: &str) -> YearMonth {
    let (year, month) = text.split_once('-').expect("YYYY-MM");
    YearMonth {
        year: year.parse().expect("a year"),
        month: month.parse().expect("a month"),
    }
}

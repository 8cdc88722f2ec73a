//! `socsec-bench`: measures the services against what the same Postgres does
//! on the same machine in the same run, and writes BENCHMARKS.md.
//!
//! Run through `deploy/bench.sh`, which starts a private Postgres with the
//! settings the services use and builds everything in release mode.

// Rates and durations are measurements, not money: floating point is right here.
#![allow(clippy::float_arithmetic)]

mod load;

use std::{
    fmt::Write as _,
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use clap::Parser;
use devpki::channel::{AsCaller, CallerChannel};
use futures::StreamExt;
use load::Measured;
use socsec_proto::{
    activation::v1::{self as activation, activation_service_client::ActivationServiceClient},
    card::v1::{self as card, card_service_client::CardServiceClient},
    common::v1::{Gender, Money, PartnerKind, YearMonth},
    contribution::v1::{
        self as contribution, contribution_service_client::ContributionServiceClient,
    },
    identity::v1::{self as identity, identity_service_client::IdentityServiceClient},
};
use sqlx::{Connection, PgConnection};
use tonic::Request;

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

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Services {
    children: Vec<Child>,
    /// The development CA and the certificates of the services and of the
    /// benchmark's callers.
    pki: std::path::PathBuf,
    identity: String,
    cards: String,
    activation: String,
    contribution: String,
}

impl Drop for Services {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
        }
        for child in &mut self.children {
            let _ = child.wait();
        }
    }
}

/// The callers the benchmark calls as.
const CALLERS: [&str; 4] = [
    "operator:BENCH",
    "bank_outlet:ICBC-0101",
    "hospital:H-001",
    "service:bench",
];

fn start_services(args: &Args, database_url: &str) -> Services {
    let pki = std::env::temp_dir().join(format!("socsec-bench-pki-{}", std::process::id()));
    devpki::ensure_development_pki(&pki, &[]).expect("development certificates");
    for caller in CALLERS {
        let caller = devpki::Caller::parse(caller).expect("KIND:CODE");
        devpki::issue_into(&pki, &caller).expect("a caller certificate");
    }
    let ports = [free_port(), free_port(), free_port(), free_port()];
    let url = |p: u16| format!("https://127.0.0.1:{p}");
    let children = ["identity", "card-issuance", "activation", "contribution"]
        .iter()
        .zip(ports)
        .map(|(name, port)| {
            let prefix = format!("SOCSEC_{}_", name.to_uppercase().replace('-', "_"));
            Command::new(args.bin_dir.join(name))
                .env("DATABASE_URL", database_url)
                .env(format!("{prefix}LISTEN_ADDR"), format!("127.0.0.1:{port}"))
                .env(
                    "SOCSEC_SESSION_TOKEN_SECRET",
                    "benchmark-session-secret-of-32-bytes-at-least",
                )
                // Mutual TLS, as deployed.
                .env("SOCSEC_TLS_CA_FILE", pki.join("ca.pem"))
                .env("SOCSEC_TLS_CERT_FILE", pki.join(format!("{name}.pem")))
                .env("SOCSEC_TLS_KEY_FILE", pki.join(format!("{name}-key.pem")))
                .env("SOCSEC_LOG_FILTER", "warn")
                .env("SOCSEC_DATABASE_MAX_CONNECTIONS", "24")
                .env("SOCSEC_ACTIVATION_IDENTITY_URL", url(ports[0]))
                .env("SOCSEC_ACTIVATION_CARD_ISSUANCE_URL", url(ports[1]))
                .env("SOCSEC_CARD_ISSUANCE_IDENTITY_URL", url(ports[0]))
                .env("SOCSEC_CONTRIBUTION_IDENTITY_URL", url(ports[0]))
                .stdout(
                    std::fs::File::create(
                        std::env::temp_dir().join(format!("socsec-bench-{name}.log")),
                    )
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null()),
                )
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {name}: {e}"))
        })
        .collect();
    Services {
        children,
        pki,
        identity: url(ports[0]),
        cards: url(ports[1]),
        activation: url(ports[2]),
        contribution: url(ports[3]),
    }
}

impl Services {
    /// A channel to `url` that calls each request over mutual TLS with the
    /// certificate of its caller.
    fn channel(&self, url: &str) -> CallerChannel {
        devpki::channel::from_dir(&self.pki, url).expect("the benchmark's certificates")
    }
}

async fn wait_serving(services: &Services, url: &str) -> CallerChannel {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    let channel = services.channel(url);
    for _ in 0..300 {
        if let Ok(answer) = HealthClient::new(channel.clone())
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            && answer.get_ref().status() == ServingStatus::Serving
        {
            return channel;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} never became SERVING");
}

/// `message` sent as `caller` (`KIND:CODE`), with that caller's certificate.
fn as_caller<T>(caller: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.extensions_mut().insert(AsCaller(caller.to_owned()));
    request
}

/// The `n`th distinct valid ID number, of a man or a woman by parity.
fn id_number(n: usize) -> String {
    let county = 1 + n % 90;
    let sequence = (n / 90) % 1000;
    let born = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()
        + chrono::Duration::days((n / 90_000) as i64);
    let body = format!("1101{county:02}{}{sequence:03}", born.format("%Y%m%d"));
    let today = chrono::NaiveDate::from_ymd_opt(2100, 1, 1).unwrap();
    pii::IdNumber::from_body(&body, today)
        .expect("valid")
        .expose()
        .to_owned()
}

fn gender_of(n: usize) -> i32 {
    if ((n / 90) % 1000) % 2 == 1 {
        Gender::Male as i32
    } else {
        Gender::Female as i32
    }
}

/// Persons registered, confirmed, applied for, issued (one batch) and
/// received: cards ready to activate.
/// A received card ready to activate.
#[derive(Clone)]
struct Prepared {
    card_number: String,
    code: String,
    id_number: String,
}

async fn prepare_cards(services: &Services, clients: usize, count: usize) -> Vec<Prepared> {
    let identity = IdentityServiceClient::new(wait_serving(services, &services.identity).await);
    let cards = CardServiceClient::new(wait_serving(services, &services.cards).await);
    for (code, kind, parent) in [
        ("ICBC", PartnerKind::Bank, ""),
        ("ICBC-0101", PartnerKind::BankOutlet, "ICBC"),
        ("H-001", PartnerKind::Hospital, ""),
    ] {
        identity
            .clone()
            .register_partner(as_caller(
                "operator:BENCH",
                identity::RegisterPartnerRequest {
                    request_id: format!("bench-{code}"),
                    code: code.into(),
                    kind: kind as i32,
                    name: code.into(),
                    region_code: "110000".into(),
                    parent_code: parent.into(),
                    credit_code: String::new(),
                    designation_in_force: true,
                },
            ))
            .await
            .expect("partner");
    }
    let started = Instant::now();
    let (id, cd) = (identity.clone(), cards.clone());
    let persons = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    let store = persons.clone();
    load::closed_loop(clients, count, None, move |n| {
        let (mut identity, mut cards, store) = (id.clone(), cd.clone(), store.clone());
        async move {
            let person = identity
                .register_person(as_caller(
                    "operator:BENCH",
                    identity::RegisterPersonRequest {
                        request_id: format!("reg-{n}"),
                        id_number: id_number(n),
                        basic_info: Some(identity::BasicInfo {
                            name: "测试".into(),
                            gender: gender_of(n),
                            ethnicity: "汉".into(),
                            phone: "13800138000".into(),
                            address: "北京".into(),
                        }),
                    },
                ))
                .await
                .expect("register")
                .into_inner();
            identity
                .confirm_basic_info(as_caller(
                    "operator:BENCH",
                    identity::ConfirmBasicInfoRequest {
                        request_id: format!("confirm-{n}"),
                        person_id: person.person_id.clone(),
                        version: 1,
                    },
                ))
                .await
                .expect("confirm");
            cards
                .apply_for_card(as_caller(
                    "operator:BENCH",
                    card::ApplyForCardRequest {
                        request_id: format!("apply-{n}"),
                        person_id: person.person_id.clone(),
                        bank_code: "ICBC".into(),
                        issuing_region_code: String::new(),
                    },
                ))
                .await
                .expect("apply");
            store
                .lock()
                .unwrap()
                .insert(person.person_id, person.id_number);
            true
        }
    })
    .await;
    let mut batch = cards
        .clone()
        .issue_cards(as_caller(
            "operator:BENCH",
            card::IssueCardsRequest {
                request_id: "bench-batch".into(),
                bank_code: "ICBC".into(),
                bank_bin: "622202".into(),
                generation: 3,
                max_cards: count as i32,
            },
        ))
        .await
        .expect("batch")
        .into_inner();
    while let Some(progress) = batch.next().await {
        progress.expect("batch progress");
    }
    // Every card issued, from card-issuance's event stream, with its
    // holder's ID number.
    let holders = persons.lock().unwrap().clone();
    let mut events = cards
        .clone()
        .watch_card_events(as_caller(
            "service:bench",
            card::WatchCardEventsRequest {
                after: None,
                heartbeats: false,
            },
        ))
        .await
        .expect("events")
        .into_inner();
    let mut ready = Vec::with_capacity(count);
    while ready.len() < count {
        let event = events.next().await.expect("stream open").expect("event");
        if let Some(card::card_event::Event::CardIssued(issued)) = event.event {
            let id_number = holders[&issued.person_id].clone();
            ready.push(Prepared {
                card_number: issued.card_number,
                code: issued.card_identification_code,
                id_number,
            });
        }
    }
    let to_receive = ready.clone();
    let cd = cards.clone();
    load::closed_loop(clients, count, None, move |n| {
        let mut cards = cd.clone();
        let card_number = to_receive[n].card_number.clone();
        async move {
            cards
                .record_receipt(as_caller(
                    "operator:BENCH",
                    card::RecordReceiptRequest {
                        request_id: format!("receive-{n}"),
                        card_number,
                    },
                ))
                .await
                .is_ok()
        }
    })
    .await;
    println!(
        "prepared {count} received cards in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    ready
}

/// Waits until activation's projection has caught up with every card.
async fn wait_projected(activation: &ActivationServiceClient<CallerChannel>, card_number: &str) {
    for _ in 0..600 {
        let state = activation
            .clone()
            .get_card_activation(as_caller(
                "operator:BENCH",
                activation::GetCardActivationRequest {
                    card_number: card_number.into(),
                },
            ))
            .await;
        if state.is_ok_and(|s| s.get_ref().card_status == "RECEIVED") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("activation never caught up");
}

fn outlet_request(n: usize, card: &Prepared) -> Request<activation::ActivateAtBankOutletRequest> {
    as_caller(
        "bank_outlet:ICBC-0101",
        activation::ActivateAtBankOutletRequest {
            request_id: format!("act-{n}"),
            operator_id: "T1".into(),
            card_number: card.card_number.clone(),
            id_number: card.id_number.clone(),
        },
    )
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

/// Seconds to COPY the very rows the run wrote into a fresh table shaped
/// and indexed like the ledger.
async fn copy_baseline(url: &str) -> (i64, f64) {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    sqlx::query("DROP TABLE IF EXISTS bench_copy")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE bench_copy (LIKE contribution.ledger_entries INCLUDING ALL)")
        .execute(&mut conn)
        .await
        .unwrap();
    let columns = "person_id, enrolment_id, contract_id, region_code, period, insurance_type, part, account, \
                   payer, base_fen, rate_bp, amount_fen, kind, run_request_id, created_at";
    let mut data = Vec::new();
    {
        let mut out = conn
            .copy_out_raw(&format!(
                "COPY contribution.ledger_entries ({columns}) TO STDOUT"
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
async fn seed_enrolments(url: &str, persons: i64) {
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

/// CPU seconds used so far by each component: this load generator, each
/// service process and all Postgres processes together.
fn cpu_seconds(services: &Services) -> Vec<(String, f64)> {
    fn of(stat: &str) -> Option<(String, f64)> {
        let (comm, rest) = stat.rsplit_once(") ")?;
        let name = comm.split_once(" (")?.1.to_owned();
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime, fields 14 and 15 of /proc/PID/stat, in clock ticks (100/s).
        let ticks: f64 =
            fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
        Some((name, ticks / 100.0))
    }
    let read = |pid: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| of(&s))
    };
    let mut out = vec![(
        "load generator".to_owned(),
        read("self").map_or(0.0, |(_, s)| s),
    )];
    for (name, child) in ["identity", "card-issuance", "activation", "contribution"]
        .iter()
        .zip(&services.children)
    {
        out.push((
            (*name).to_owned(),
            read(&child.id().to_string()).map_or(0.0, |(_, s)| s),
        ));
    }
    let postgres: f64 = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| read(&e.file_name().to_string_lossy()))
        .filter(|(name, _)| name == "postgres")
        .map(|(_, s)| s)
        .sum();
    out.push(("postgres".to_owned(), postgres));
    out
}

/// CPU milliseconds per call spent in each component between two snapshots.
fn cpu_per_call(before: &[(String, f64)], after: &[(String, f64)], calls: usize) -> String {
    before
        .iter()
        .zip(after)
        .map(|((name, b), (_, a))| (name, (a - b) * 1000.0 / calls.max(1) as f64))
        .filter(|(_, ms)| *ms >= 0.005)
        .map(|(name, ms)| format!("{name} {ms:.3}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Flushes dirty pages now, so a timed load does not pay for the writes of
/// the phase before it (a checkpoint in the middle of a few-second load
/// shows up as its p99).
async fn checkpoint(url: &str) {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    sqlx::query("CHECKPOINT")
        .execute(&mut conn)
        .await
        .expect("checkpoint");
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines().next().map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<u64>()
                    .unwrap_or(0)
                    / 1024
                    / 1024
            })
        })
        .unwrap_or(0);
    format!("{cores} cores ({cpu}), {memory} GiB memory")
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let mut admin = PgConnection::connect(&args.database_url)
        .await
        .expect("connect to Postgres");
    let name = format!("socsec_bench_{}", chrono::Utc::now().format("%Y%m%d%H%M%S"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let url = format!("{}/{name}", args.database_url.rsplit_once('/').unwrap().0);
    let clients = args.clients.to_string();
    let seconds = args.seconds.to_string();

    println!("baseline: pgbench at {} clients", args.clients);
    let init = Command::new(&args.pgbench)
        .args(["-i", "-q", "-s", "10"])
        .arg(&url)
        .output()
        .expect("pgbench -i");
    assert!(
        init.status.success(),
        "pgbench -i: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    let tpcb = pgbench(
        &args,
        &url,
        &["-c", &clients, "-j", "2", "-T", &seconds, "-M", "prepared"],
    );
    let select_only = pgbench(
        &args,
        &url,
        &[
            "-S", "-c", &clients, "-j", "2", "-T", &seconds, "-M", "prepared",
        ],
    );
    println!("  TPC-B {tpcb:.0} tps, select-only {select_only:.0} tps");

    let services = start_services(&args, &url);
    let cards = prepare_cards(&services, args.clients, args.cards + args.cards / 2).await;
    let activation_channel = wait_serving(&services, &services.activation).await;
    let activation = ActivationServiceClient::new(activation_channel);
    let (a, all) = (activation.clone(), std::sync::Arc::new(cards.clone()));
    load::closed_loop(args.clients, all.len(), None, move |n| {
        let (a, all) = (a.clone(), all.clone());
        async move {
            wait_projected(&a, &all[n].card_number).await;
            true
        }
    })
    .await;
    let (full, half) = cards.split_at(args.cards);
    let (full, half) = (
        std::sync::Arc::new(full.to_vec()),
        std::sync::Arc::new(half.to_vec()),
    );

    println!("activation at bank outlets, {} clients", args.clients);
    checkpoint(&url).await;
    let cpu_before = cpu_seconds(&services);
    let (a, f) = (activation.clone(), full.clone());
    let activate = load::closed_loop(args.clients, full.len(), None, move |n| {
        let (mut a, request) = (a.clone(), outlet_request(n, &f[n]));
        async move { a.activate_at_bank_outlet(request).await.is_ok() }
    })
    .await;
    println!(
        "  {:.0} RPC/s, p50 {} ms, p99 {} ms, {} errors",
        activate.per_second(),
        ms(activate.p50),
        ms(activate.p99),
        activate.errors
    );
    let activation_cpu = cpu_per_call(&cpu_before, &cpu_seconds(&services), activate.calls);
    println!("  CPU ms per call: {activation_cpu}");

    checkpoint(&url).await;
    let (a, h) = (activation.clone(), half.clone());
    let offset = full.len();
    let half_load = load::open_loop(activate.per_second() / 2.0, half.len(), move |n| {
        let (mut a, request) = (a.clone(), outlet_request(offset + n, &h[n]));
        async move { a.activate_at_bank_outlet(request).await.is_ok() }
    })
    .await;
    println!(
        "  at half load: p50 {} ms, p99 {} ms",
        ms(half_load.p50),
        ms(half_load.p99)
    );

    checkpoint(&url).await;
    let (a, f) = (activation.clone(), full.clone());
    let replay = load::closed_loop(args.clients, full.len(), None, move |n| {
        let (mut a, request) = (a.clone(), outlet_request(n, &f[n]));
        async move { a.activate_at_bank_outlet(request).await.is_ok() }
    })
    .await;
    println!(
        "replay of answered activations: {:.0} RPC/s, p99 {} ms",
        replay.per_second(),
        ms(replay.p99)
    );

    checkpoint(&url).await;
    let cpu_before = cpu_seconds(&services);
    let (a, f) = (activation.clone(), full.clone());
    let eligibility = load::closed_loop(
        args.clients,
        usize::MAX,
        Some(Duration::from_secs(args.seconds)),
        move |n| {
            let mut a = a.clone();
            let card = &f[n % f.len()];
            let request = as_caller(
                "hospital:H-001",
                activation::CheckEligibilityRequest {
                    card: Some(
                        activation::check_eligibility_request::Card::SocialSecurityCard(
                            activation::CardPresented {
                                card_number: card.card_number.clone(),
                                card_identification_code: card.code.clone(),
                            },
                        ),
                    ),
                },
            );
            async move {
                a.check_eligibility(request)
                    .await
                    .is_ok_and(|e| e.get_ref().eligible)
            }
        },
    )
    .await;
    println!(
        "eligibility: {:.0} RPC/s, p50 {} ms, p99 {} ms",
        eligibility.per_second(),
        ms(eligibility.p50),
        ms(eligibility.p99)
    );
    let eligibility_cpu = cpu_per_call(&cpu_before, &cpu_seconds(&services), eligibility.calls);
    println!("  CPU ms per call: {eligibility_cpu}");

    println!("monthly run: seeding {} enrolled persons", args.persons);
    let mut contribution =
        ContributionServiceClient::new(wait_serving(&services, &services.contribution).await);
    contribution
        .set_rate_table(as_caller(
            "operator:BENCH",
            contribution::SetRateTableRequest {
                request_id: "bench-rates".into(),
                table: Some(contribution::RateTable {
                    region_code: "110100".into(),
                    insurance_type: contribution::InsuranceType::OldAge as i32,
                    year: 2026,
                    employer_rate_bp: 1600,
                    employee_rate_bp: 800,
                    flexible_rate_bp: 2000,
                    flexible_individual_rate_bp: 800,
                    average_monthly_wage: Some(Money { fen: 1_193_700 }),
                    base_floor_percent: 60,
                    base_ceiling_percent: 300,
                    rounding: contribution::Rounding::HalfUpFen as i32,
                    due_day_of_next_month: 15,
                    version: 0,
                }),
            },
        ))
        .await
        .expect("rates");
    seed_enrolments(&url, args.persons).await;
    checkpoint(&url).await;
    let cpu_before = cpu_seconds(&services);
    let started = Instant::now();
    let mut stream = contribution
        .run_month(as_caller(
            "operator:BENCH",
            contribution::RunMonthRequest {
                request_id: "bench-run".into(),
                period: Some(YearMonth {
                    year: 2026,
                    month: 1,
                }),
                region_code: "110100".into(),
                payer_code: String::new(),
            },
        ))
        .await
        .expect("run")
        .into_inner();
    let mut entries = 0;
    while let Some(progress) = stream.next().await {
        entries = progress.expect("run progress").entries;
    }
    let run_seconds = started.elapsed().as_secs_f64();
    let run_cpu = cpu_per_call(&cpu_before, &cpu_seconds(&services), 1);
    let run_rows = entries as f64 / run_seconds;
    println!("  {entries} ledger rows in {run_seconds:.1} s: {run_rows:.0} rows/s");
    let (copied, copy_seconds) = copy_baseline(&url).await;
    let copy_rows = copied as f64 / copy_seconds;
    println!("  COPY of the same rows: {copy_seconds:.1} s, {copy_rows:.0} rows/s");
    println!("  CPU ms for the whole run: {run_cpu}");
    drop(services);

    let mut report = String::new();
    let _ = writeln!(report, "# Benchmarks\n");
    let _ = writeln!(
        report,
        "Measured by `deploy/bench.sh` on {}, {}.",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        machine()
    );
    let _ = writeln!(
        report,
        "Everything on one machine: Postgres, the four services (release builds) and the load generator. {} concurrent clients for pgbench and for every gRPC load; timed loads run {} s.\n",
        args.clients, args.seconds
    );
    let _ = writeln!(
        report,
        "| what | RPC/s or rows/s | p50 ms | p99 ms | baseline | ratio | target |"
    );
    let _ = writeln!(report, "|---|---:|---:|---:|---|---:|---|");
    let row = |report: &mut String,
               what: &str,
               m: &Measured,
               base_name: &str,
               base: f64,
               target: &str| {
        let _ = writeln!(
            report,
            "| {what} | {:.0} | {} | {} | {base_name} {base:.0} | {:.2} | {target} |",
            m.per_second(),
            ms(m.p50),
            ms(m.p99),
            m.per_second() / base
        );
    };
    row(
        &mut report,
        &format!("bank-outlet activation ({} fresh cards)", activate.calls),
        &activate,
        "pgbench TPC-B tps",
        tpcb,
        "≥ 0.75",
    );
    let _ = writeln!(
        report,
        "| activation at half load ({:.0}/s, open loop) | {:.0} | {} | {} | | | p99 ≤ 10 ms |",
        activate.per_second() / 2.0,
        half_load.per_second(),
        ms(half_load.p50),
        ms(half_load.p99)
    );
    row(
        &mut report,
        "eligibility (HIS/POS)",
        &eligibility,
        "pgbench select-only tps",
        select_only,
        "≥ 0.4, p99 ≤ 5 ms",
    );
    row(
        &mut report,
        "replay of answered activations",
        &replay,
        "first activation RPC/s",
        activate.per_second(),
        "≥ 1.0",
    );
    let _ = writeln!(
        report,
        "| monthly run, {} persons ({entries} ledger rows, {run_seconds:.1} s) | {run_rows:.0} | | | COPY rows/s {copy_rows:.0} | {:.2} | ≥ 0.5 |",
        args.persons,
        run_rows / copy_rows
    );
    let _ = writeln!(
        report,
        "\nErrors: activation {}, half load {}, replay {}, eligibility {}.",
        activate.errors, half_load.errors, replay.errors, eligibility.errors
    );
    let _ = writeln!(
        report,
        "\n## Where the CPU goes\n\nCPU milliseconds per call, by process, read from /proc around each load \
         (2 cores: at most 2,000 CPU ms per second in all).\n"
    );
    let _ = writeln!(report, "- activation: {activation_cpu}");
    let _ = writeln!(report, "- eligibility: {eligibility_cpu}");
    let _ = writeln!(report, "- monthly run (whole run, ms): {run_cpu}");
    // The hand-written analysis below the figures survives a new run.
    if let Ok(previous) = std::fs::read_to_string(&args.out)
        && let Some(at) = previous.find("\n## Analysis")
    {
        report.push_str(&previous[at..]);
    }
    std::fs::write(&args.out, report).expect("write report");
    println!("wrote {}", args.out.display());
}

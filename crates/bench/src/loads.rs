//! The timed loads: bank-outlet activation (full load, half load, replay),
//! eligibility checks, and the monthly run of a million persons.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use devpki::channel::CallerChannel;
use futures::StreamExt;
use socsec_fixtures::rates;
use socsec_proto::{
    activation::v1::{self as activation, activation_service_client::ActivationServiceClient},
    common::v1::YearMonth,
    contribution::v1::{
        self as contribution, contribution_service_client::ContributionServiceClient,
    },
};
use tonic::Request;

use socsec_bench::{
    load::{self, Measured},
    machine::{cpu_per_call, cpu_seconds},
    ms,
    prepare::Prepared,
    services::{Services, as_caller},
};

use crate::{
    Args,
    baseline::{checkpoint, copy_baseline, seed_enrolments},
};

fn outlet_request(n: usize, card: &Prepared) -> Request<activation::ActivateAtBankOutletRequest> {
    as_caller(
        "bank_outlet:ICBC-0101",
        activation::ActivateAtBankOutletRequest {
            request_id: format!("act-{n}"),
            operator_id: "T1".into(),
            card_number: card.card_number.clone(),
            id_number: card.id_number.clone(),
            card_identification_code: card.code.clone(),
        },
    )
}

/// A hospital's eligibility check of `card`, presented with its code.
pub fn hospital_check(card: &Prepared) -> Request<activation::CheckEligibilityRequest> {
    as_caller(
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
    )
}

/// First activations at full load, more at half that rate, and the first
/// ones again (answered from their stored answers).
pub struct Activations {
    pub full: Measured,
    /// CPU milliseconds per call at full load, by process.
    pub cpu: String,
    pub half: Measured,
    pub replay: Measured,
}

/// Activates `full` at bank outlets from `args.clients` clients, then
/// `half` at half the rate reached, then replays `full`.
pub async fn activations(
    args: &Args,
    url: &str,
    services: &Services,
    activation: &ActivationServiceClient<CallerChannel>,
    full: Arc<Vec<Prepared>>,
    half: Arc<Vec<Prepared>>,
) -> Activations {
    println!("activation at bank outlets, {} clients", args.clients);
    checkpoint(url).await;
    let cpu_before = cpu_seconds(services);
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
    let cpu = cpu_per_call(&cpu_before, &cpu_seconds(services), activate.calls);
    println!("  CPU ms per call: {cpu}");

    checkpoint(url).await;
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

    checkpoint(url).await;
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
    Activations {
        full: activate,
        cpu,
        half: half_load,
        replay,
    }
}

/// Eligibility checks at a hospital for `args.seconds`, over the activated
/// cards; and the CPU milliseconds per call, by process.
pub async fn eligibility(
    args: &Args,
    url: &str,
    services: &Services,
    activation: &ActivationServiceClient<CallerChannel>,
    activated: Arc<Vec<Prepared>>,
) -> (Measured, String) {
    checkpoint(url).await;
    let cpu_before = cpu_seconds(services);
    let (a, f) = (activation.clone(), activated);
    let eligibility = load::closed_loop(
        args.clients,
        usize::MAX,
        Some(Duration::from_secs(args.seconds)),
        move |n| {
            let (mut a, request) = (a.clone(), hospital_check(&f[n % f.len()]));
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
    let cpu = cpu_per_call(&cpu_before, &cpu_seconds(services), eligibility.calls);
    println!("  CPU ms per call: {cpu}");
    (eligibility, cpu)
}

/// Eligibility checks at a fixed `rate` (open loop) for `seconds`: latency
/// at that load.
pub async fn eligibility_at(
    activation: &ActivationServiceClient<CallerChannel>,
    activated: Arc<Vec<Prepared>>,
    rate: f64,
    seconds: u64,
) -> Measured {
    let a = activation.clone();
    let measured = load::open_loop(rate, (rate * seconds as f64) as usize, move |n| {
        let (mut a, request) = (a.clone(), hospital_check(&activated[n % activated.len()]));
        async move {
            a.check_eligibility(request)
                .await
                .is_ok_and(|e| e.get_ref().eligible)
        }
    })
    .await;
    println!(
        "eligibility at {rate:.0}/s (open loop): p50 {} ms, p99 {} ms, {} errors",
        ms(measured.p50),
        ms(measured.p99),
        measured.errors
    );
    measured
}

/// The monthly run of `args.persons` enrolled persons, and COPY of the
/// rows it wrote.
pub struct MonthlyRun {
    pub entries: i64,
    pub seconds: f64,
    pub rows_per_second: f64,
    /// CPU milliseconds for the whole run, by process.
    pub cpu: String,
    pub copy_rows_per_second: f64,
}

pub async fn monthly_run(args: &Args, url: &str, services: &Services) -> MonthlyRun {
    println!("monthly run: seeding {} enrolled persons", args.run_persons);
    let mut contribution =
        ContributionServiceClient::new(services.serving(&services.contribution).await);
    set_rates(&mut contribution, 2026).await;
    seed_enrolments(url, args.run_persons).await;
    let january = YearMonth {
        year: 2026,
        month: 1,
    };
    run_month(url, services, &mut contribution, january, "bench-run").await
}

/// Typical old-age rates for region 110100 in `year`.
pub async fn set_rates(contribution: &mut ContributionServiceClient<CallerChannel>, year: i32) {
    contribution
        .set_rate_table(as_caller(
            "operator:BENCH",
            contribution::SetRateTableRequest {
                request_id: format!("bench-rates-{year}"),
                table: Some(rates::typical(
                    "110100",
                    contribution::InsuranceType::OldAge,
                    year,
                )),
            },
        ))
        .await
        .expect("rates");
}

/// The monthly run of region 110100 for `period`, timed, and COPY of the
/// ledger's rows.
pub async fn run_month(
    url: &str,
    services: &Services,
    contribution: &mut ContributionServiceClient<CallerChannel>,
    period: YearMonth,
    request_id: &str,
) -> MonthlyRun {
    checkpoint(url).await;
    let cpu_before = cpu_seconds(services);
    let started = Instant::now();
    let mut stream = contribution
        .run_month(as_caller(
            "operator:BENCH",
            contribution::RunMonthRequest {
                request_id: request_id.into(),
                period: Some(period),
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
    let run_cpu = cpu_per_call(&cpu_before, &cpu_seconds(services), 1);
    let run_rows = entries as f64 / run_seconds;
    println!("  {entries} ledger rows in {run_seconds:.1} s: {run_rows:.0} rows/s");
    let (copied, copy_seconds) = copy_baseline(url).await;
    let copy_rows = copied as f64 / copy_seconds;
    println!("  COPY of the same rows: {copy_seconds:.1} s, {copy_rows:.0} rows/s");
    println!("  CPU ms for the whole run: {run_cpu}");
    MonthlyRun {
        entries,
        seconds: run_seconds,
        rows_per_second: run_rows,
        cpu: run_cpu,
        copy_rows_per_second: copy_rows,
    }
}

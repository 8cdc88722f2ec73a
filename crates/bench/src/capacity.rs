//! Capacity beside its limits and past them: the RPC path alone (the
//! health check, driven like the RPC loads), eligibility offered 2.5× the
//! rate it reached (goodput, latency of what was admitted, refusals by
//! code, recovery), and a flood of sign-ins with a hospital's checks and a
//! person's calls measured during it.

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};

use devpki::channel::CallerChannel;
use socsec_fixtures::reason;
use socsec_proto::{
    activation::v1::{self as activation, activation_service_client::ActivationServiceClient},
    card::v1::{self as card, card_service_client::CardServiceClient},
    identity::v1::{self as identity, identity_service_client::IdentityServiceClient},
};
use tonic::{Request, Status};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use socsec_bench::{
    load::{self, Measured},
    machine::{cpu_per_call, cpu_seconds},
    ms,
    prepare::Prepared,
    services::{Services, as_caller},
};

use crate::{Args, loads::hospital_check};

/// How long an overloaded caller waits for an answer (its `grpc-timeout`).
const CALL_DEADLINE: Duration = Duration::from_secs(5);

/// [`hospital_check`] with the deadline an overloaded caller gives.
fn eligibility_request(card: &Prepared) -> Request<activation::CheckEligibilityRequest> {
    let mut request = hospital_check(card);
    request.set_timeout(CALL_DEADLINE);
    request
}

/// CPU milliseconds per second each process spends with no call made for
/// [`IDLE`]: the background work (event streams and their heartbeats,
/// projectors, relays, health checks) on its own.
pub async fn idle(services: &Services) -> String {
    // After the preparation's writes have settled (the projection applied
    // them, autovacuum and the checkpointer had their turn), or they count.
    tokio::time::sleep(SETTLE).await;
    let before = cpu_seconds(services);
    tokio::time::sleep(IDLE).await;
    let per_second = cpu_per_call(&before, &cpu_seconds(services), IDLE.as_secs() as usize);
    println!("idle: CPU ms per second: {per_second}");
    per_second
}

const IDLE: Duration = Duration::from_secs(20);
const SETTLE: Duration = Duration::from_secs(15);

/// `grpc.health.v1.Health/Check` at activation from `args.clients`
/// clients for `args.seconds`: the RPC path (TLS, HTTP/2, the layers)
/// with no database work.
pub async fn rpc_path(args: &Args, services: &Services) -> Measured {
    let channel = services.serving(&services.activation).await;
    let measured = load::closed_loop(
        args.clients,
        usize::MAX,
        Some(Duration::from_secs(args.seconds)),
        move |_| {
            let mut health = HealthClient::new(channel.clone());
            async move {
                health
                    .check(as_caller(
                        "hospital:H-001",
                        HealthCheckRequest {
                            service: String::new(),
                        },
                    ))
                    .await
                    .is_ok()
            }
        },
    )
    .await;
    println!(
        "RPC path alone (health check): {:.0} RPC/s, p50 {} ms, p99 {} ms",
        measured.per_second(),
        ms(measured.p50),
        ms(measured.p99)
    );
    measured
}

/// What became of calls sent at a fixed rate past capacity.
pub struct Overload {
    pub offered_per_second: f64,
    pub seconds: u64,
    /// Answered OK (eligible), per second of the load.
    pub goodput: f64,
    /// Latency of the calls answered OK.
    pub answered: Measured,
    /// Calls not answered OK, by `CODE/REASON`.
    pub refused: BTreeMap<String, usize>,
    /// Refusals answered within 10 ms of being sent (at once).
    pub refused_at_once: usize,
    /// After the load ends: how long until a call is answered OK again
    /// within twice the unloaded p99.
    pub recovery: Duration,
}

/// The label of a refusal: `CODE/REASON`.
fn label(status: &Status) -> String {
    format!("{:?}/{}", status.code(), reason(status))
}

/// Eligibility offered at `rate` (open loop) for `seconds`, then probed
/// until it answers as unloaded (`unloaded_p99`) again.
pub async fn overload(
    activation: &ActivationServiceClient<CallerChannel>,
    cards: Arc<Vec<Prepared>>,
    rate: f64,
    seconds: u64,
    unloaded_p99: Duration,
) -> Overload {
    println!("overload: eligibility offered {rate:.0} RPC/s for {seconds} s");
    let interval = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let count = (rate * seconds as f64) as usize;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(count);
    for i in 0..count {
        tokio::time::sleep_until((started + interval.mul_f64(i as f64)).into()).await;
        let (mut a, request) = (
            activation.clone(),
            eligibility_request(&cards[i % cards.len()]),
        );
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let answer = a.check_eligibility(request).await;
            (answer.map(|e| e.get_ref().eligible), sent.elapsed())
        }));
    }
    let sending = started.elapsed();
    let mut latencies = Vec::new();
    let mut refused = BTreeMap::new();
    let mut refused_at_once = 0;
    for task in tasks {
        match task.await.expect("a call") {
            (Ok(true), latency) => latencies.push(latency),
            (Ok(false), _) => *refused.entry("OK/not eligible".to_owned()).or_default() += 1,
            (Err(status), latency) => {
                if latency <= Duration::from_millis(10) {
                    refused_at_once += 1;
                }
                *refused.entry(label(&status)).or_default() += 1;
            }
        }
    }
    let answered = Measured::of(latencies, 0, sending);
    let goodput = answered.calls as f64 / sending.as_secs_f64();
    let ended = Instant::now();
    let recovered_within = (unloaded_p99 * 2).max(Duration::from_millis(5));
    let mut n = 0;
    let recovery = loop {
        let mut a = activation.clone();
        let sent = Instant::now();
        let answer = a
            .check_eligibility(eligibility_request(&cards[n % cards.len()]))
            .await;
        if answer.is_ok_and(|e| e.get_ref().eligible) && sent.elapsed() <= recovered_within {
            break ended.elapsed();
        }
        n += 1;
        if ended.elapsed() > Duration::from_secs(60) {
            break ended.elapsed();
        }
    };
    println!(
        "  goodput {goodput:.0} RPC/s, p99 of answered {} ms, refused {refused:?} ({refused_at_once} within 10 ms), recovered in {} ms",
        ms(answered.p99),
        ms(recovery)
    );
    Overload {
        offered_per_second: rate,
        seconds,
        goodput,
        answered,
        refused,
        refused_at_once,
        recovery,
    }
}

/// A flood of wrong sign-ins and what others saw during it.
pub struct Flood {
    pub sign_ins_per_second: f64,
    pub seconds: u64,
    /// The sign-ins' answers, by `CODE/REASON`.
    pub sign_ins: BTreeMap<String, usize>,
    /// A hospital's eligibility checks during the flood.
    pub hospital: Measured,
    /// A bank outlet's activations repeated during the flood (partner
    /// admission and stored answers).
    pub bank: Measured,
    /// A signed-in person's calls (session checked at identity).
    pub person: Measured,
}

/// Wrong sign-ins through the portal's certificate from 160 browser
/// addresses, each of another ID number, at `rate` for `seconds`, while a
/// hospital checks eligibility, a bank outlet repeats its activations
/// (partner admission, stored answers) and a person lists their cards.
pub async fn sign_in_flood(
    services: &Services,
    cards: Arc<Vec<Prepared>>,
    rate: f64,
    seconds: u64,
) -> Flood {
    println!("sign-in flood: {rate:.0} wrong sign-ins/s for {seconds} s");
    let identity = IdentityServiceClient::new(services.serving(&services.identity).await);
    let card_service = CardServiceClient::new(services.serving(&services.cards).await);
    let activation = ActivationServiceClient::new(services.serving(&services.activation).await);
    let person = &cards[0];
    let token = signed_in(&identity, person).await;

    // Each one client, closed loop, for as long as the flood lasts.
    let during = Some(Duration::from_secs(seconds));
    let hospital = tokio::spawn({
        let (a, cards) = (activation.clone(), cards.clone());
        load::closed_loop(1, usize::MAX, during, move |n| {
            let (mut a, request) = (a.clone(), eligibility_request(&cards[n % cards.len()]));
            async move { a.check_eligibility(request).await.is_ok() }
        })
    });
    let bank = tokio::spawn({
        let (a, cards) = (activation.clone(), cards.clone());
        load::closed_loop(1, usize::MAX, during, move |n| {
            // The outlet's first activations again: partner admission and
            // the stored answer (the cards were activated at the outlet
            // under these request ids by the activation load).
            let mut a = a.clone();
            let n = n % cards.len();
            let mut request = as_caller(
                "bank_outlet:ICBC-0101",
                activation::ActivateAtBankOutletRequest {
                    request_id: format!("act-{n}"),
                    operator_id: "T1".into(),
                    card_number: cards[n].card_number.clone(),
                    id_number: cards[n].id_number.clone(),
                    card_identification_code: cards[n].code.clone(),
                },
            );
            request.set_timeout(CALL_DEADLINE);
            async move { a.activate_at_bank_outlet(request).await.is_ok() }
        })
    });
    let person_calls = tokio::spawn({
        let (c, person_id) = (card_service.clone(), person.person_id.clone());
        load::closed_loop(1, usize::MAX, during, move |_| {
            let mut c = c.clone();
            let mut request = Request::new(card::ListPersonCardsRequest {
                person_id: person_id.clone(),
            });
            request.metadata_mut().insert(
                "authorization",
                format!("Bearer {token}").parse().expect("a header value"),
            );
            request.set_timeout(CALL_DEADLINE);
            async move { c.list_person_cards(request).await.is_ok() }
        })
    });

    let count = (rate * seconds as f64) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let started = Instant::now();
    let mut sign_ins = Vec::with_capacity(count);
    for i in 0..count {
        tokio::time::sleep_until((started + interval.mul_f64(i as f64)).into()).await;
        let mut client = identity.clone();
        let mut request = as_caller(
            "portal:BENCH",
            // A new ID number each time, so every sign-in is judged (an
            // argon2 verification), none held back by a delay.
            identity::SignInRequest {
                id_number: socsec_fixtures::ids::nth(5_000_000 + i as u64, i % 2 == 1),
                password: format!("Wrong{i}pass"),
            },
        );
        request.metadata_mut().insert(
            "x-socsec-client-address",
            format!("198.51.100.{}", i % 160)
                .parse()
                .expect("an address"),
        );
        request.set_timeout(CALL_DEADLINE);
        sign_ins.push(tokio::spawn(async move {
            match client.sign_in(request).await {
                Ok(_) => "OK".to_owned(),
                Err(status) => label(&status),
            }
        }));
    }
    let mut outcomes = BTreeMap::new();
    for task in sign_ins {
        *outcomes.entry(task.await.expect("a sign-in")).or_default() += 1;
    }
    let flood = Flood {
        sign_ins_per_second: rate,
        seconds,
        sign_ins: outcomes,
        hospital: hospital.await.expect("hospital"),
        bank: bank.await.expect("bank"),
        person: person_calls.await.expect("person"),
    };
    for (who, m) in [
        ("hospital", &flood.hospital),
        ("bank", &flood.bank),
        ("person", &flood.person),
    ] {
        println!(
            "  {who}: {:.0} calls/s, p99 {} ms, {} errors",
            m.per_second(),
            ms(m.p99),
            m.errors
        );
    }
    println!("  sign-ins: {:?}", flood.sign_ins);
    flood
}

const PASSWORD: &str = "Bench2026online";

async fn set_password(identity: &IdentityServiceClient<CallerChannel>, person: &Prepared) {
    identity
        .clone()
        .set_online_password(as_caller(
            "operator:BENCH",
            identity::SetOnlinePasswordRequest {
                request_id: format!("bench-pw-{}", person.person_id),
                id_number: person.id_number.clone(),
                password: PASSWORD.into(),
            },
        ))
        .await
        .expect("an operator sets an online password");
}

/// `person` given a password and signed in: a session token.
async fn signed_in(identity: &IdentityServiceClient<CallerChannel>, person: &Prepared) -> String {
    set_password(identity, person).await;
    identity
        .clone()
        .sign_in(Request::new(identity::SignInRequest {
            id_number: person.id_number.clone(),
            password: PASSWORD.into(),
        }))
        .await
        .expect("the person signs in")
        .into_inner()
        .token
}

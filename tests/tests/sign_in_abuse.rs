//! Hostile callers of sign-in and identity checks: a flood of sign-ins does
//! not starve partners, a stranger cannot lock a person out, sign-in and
//! `VerifyIdentity` are rate-limited with a retry delay, and a failed
//! identity check shows on the person's audit trail.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use platform::rate_limit::Limit;
use socsec_proto::{card::v1 as card, common::v1::PartnerKind, identity::v1 as pb};
use system_tests::{
    Running, System, as_caller, audit_trail, bad_fields, fresh_database, identity_client,
    identity_config, ids, journeys, operator, reason, spawn_identity_with, test_clock,
};
use tonic::Code;
use tonic_types::StatusExt;

fn sign_in(person: &pb::Person, password: &str) -> pb::SignInRequest {
    pb::SignInRequest {
        id_number: person.id_number.clone(),
        password: password.into(),
    }
}

fn retry_delay(status: &tonic::Status) -> Duration {
    status
        .get_details_retry_info()
        .and_then(|info| info.retry_delay)
        .unwrap_or_else(|| panic!("no retry delay in {status:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_cannot_lock_a_person_out() {
    let clock = test_clock();
    let database = fresh_database().await;
    let identity = spawn_identity_with(identity_config(&database), Arc::new(clock.clone())).await;
    let mut client = identity_client(&identity).await;
    let person = journeys::register(&mut client, "林冲").await;
    journeys::set_online_password(&mut client, &person, "Leopard2026").await;

    // A stranger guesses as fast as they are let: every delay waited out,
    // until the per-ID-number allowance is spent too.
    let mut refusals = Vec::new();
    let mut longest = Duration::ZERO;
    for _ in 0..30 {
        let status = client
            .sign_in(sign_in(&person, "guess-123"))
            .await
            .unwrap_err();
        let why = reason(&status);
        if why == "SIGN_IN_DELAYED" {
            let delay = retry_delay(&status);
            longest = longest.max(delay);
            clock.advance(chrono::Duration::from_std(delay).unwrap());
        }
        let done = why == "SIGN_IN_RATE_LIMITED";
        refusals.push(why);
        if done {
            break;
        }
    }
    assert_eq!(
        refusals.last().map(String::as_str),
        Some("SIGN_IN_RATE_LIMITED"),
        "{refusals:?}"
    );
    // The delays are capped: never a lock that outlasts the longest delay.
    assert!(
        longest <= Duration::from_secs(15 * 60),
        "longest delay {longest:?}"
    );
    // Right now the owner is kept out too (delay or allowance) …
    let status = client
        .sign_in(sign_in(&person, "Leopard2026"))
        .await
        .unwrap_err();
    assert!(
        ["SIGN_IN_DELAYED", "SIGN_IN_RATE_LIMITED"].contains(&reason(&status).as_str()),
        "{status:?}"
    );
    // … until the counter sets a password anew: the owner is in at once,
    // whatever the stranger did, and the stranger's guesses stay refused.
    journeys::set_online_password(&mut client, &person, "Panther2026").await;
    client
        .sign_in(sign_in(&person, "Panther2026"))
        .await
        .expect("the owner signs in after the counter's reset");
    let status = client
        .sign_in(sign_in(&person, "guess-123"))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "SIGN_IN_FAILED");
}

/// Identity allowing each client address three sign-ins at once, then one
/// every ten seconds; a client of it.
async fn identity_allowing_three_per_address() -> (Running, system_tests::journeys::Identity) {
    let database = fresh_database().await;
    let mut config = identity_config(&database);
    config.sign_in_per_client_address = Limit::new(6, 3);
    let identity = spawn_identity_with(config, Arc::new(test_clock())).await;
    let client = identity_client(&identity).await;
    (identity, client)
}

const FAILED_THEN_LIMITED: [&str; 4] = [
    "SIGN_IN_FAILED",
    "SIGN_IN_FAILED",
    "SIGN_IN_FAILED",
    "SIGN_IN_RATE_LIMITED",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_is_limited_per_client_address_with_a_retry_delay() {
    let (_identity, mut client) = identity_allowing_three_per_address().await;
    let mut reasons = Vec::new();
    for _ in 0..4 {
        // A different (unknown) ID number each time: only the address counts.
        let status = client
            .sign_in(pb::SignInRequest {
                id_number: ids::id_number(true),
                password: "Whatever2026".into(),
            })
            .await
            .unwrap_err();
        if status.code() == Code::ResourceExhausted {
            let delay = retry_delay(&status);
            assert!(delay > Duration::ZERO && delay <= Duration::from_secs(10));
        }
        reasons.push(reason(&status));
    }
    assert_eq!(reasons, FAILED_THEN_LIMITED);
}

/// A sign-in of an unknown ID number sent by `caller` (`None`: no
/// certificate), naming `browser` as the client address (if any).
async fn sign_in_naming(
    client: &mut system_tests::journeys::Identity,
    caller: Option<&str>,
    browser: Option<&str>,
) -> tonic::Status {
    let message = pb::SignInRequest {
        id_number: ids::id_number(true),
        password: "Whatever2026".into(),
    };
    let mut request = match caller {
        Some(caller) => as_caller(caller, message),
        None => tonic::Request::new(message),
    };
    if let Some(browser) = browser {
        request.metadata_mut().insert(
            platform::auth::CLIENT_ADDRESS_HEADER,
            browser.parse().unwrap(),
        );
    }
    client.sign_in(request).await.unwrap_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_the_portal_sign_in_is_limited_per_browser_and_only_the_portal_names_one() {
    let (_identity, mut client) = identity_allowing_three_per_address().await;
    let portal = Some("portal:web");

    // One browser runs out of its allowance; another one, behind the same
    // portal, does not share it.
    let mut reasons = Vec::new();
    for _ in 0..4 {
        reasons.push(reason(
            &sign_in_naming(&mut client, portal, Some("203.0.113.7")).await,
        ));
    }
    assert_eq!(reasons, FAILED_THEN_LIMITED);
    let other = sign_in_naming(&mut client, portal, Some("2001:db8::42")).await;
    assert_eq!(reason(&other), "SIGN_IN_FAILED");

    // The portal must name the browser, as an address.
    for (named, bad) in [
        (None, "FIELD_REQUIRED"),
        (Some("browser-7"), "CLIENT_ADDRESS_INVALID"),
    ] {
        let status = sign_in_naming(&mut client, portal, named).await;
        assert_eq!(status.code(), Code::InvalidArgument, "{named:?}");
        assert_eq!(
            bad_fields(&status),
            [(
                platform::auth::CLIENT_ADDRESS_HEADER.to_owned(),
                bad.to_owned()
            )]
        );
    }

    // No one else is believed: a caller without a certificate naming a new
    // address each time is counted by its own (TCP) address, as if it had
    // named none; an operator's certificate does not make it believed
    // either (same TCP address, already out of its allowance).
    let mut reasons = Vec::new();
    for n in 0..4 {
        let named = format!("198.51.100.{n}");
        reasons.push(reason(
            &sign_in_naming(&mut client, None, Some(&named)).await,
        ));
    }
    assert_eq!(reasons, FAILED_THEN_LIMITED);
    let operator = sign_in_naming(&mut client, Some("operator:OP0001"), Some("198.51.100.9")).await;
    assert_eq!(reason(&operator), "SIGN_IN_RATE_LIMITED");

    // The portal's certificate is good for nothing else.
    let status = client
        .get_person(as_caller(
            "portal:web",
            pb::GetPersonRequest {
                person_id: uuid::Uuid::new_v4().to_string(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(reason(&status), "CALLER_KIND_NOT_ALLOWED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_identity_is_limited_per_partner_and_a_mismatch_is_a_failed_attempt_on_the_trail() {
    let database = fresh_database().await;
    let mut config = identity_config(&database);
    config.verify_identity_per_caller = Limit::new(6, 3);
    let identity = spawn_identity_with(config, Arc::new(test_clock())).await;
    let mut client = identity_client(&identity).await;
    journeys::register_partner(&mut client, "ICBC", PartnerKind::Bank, "").await;
    journeys::register_partner(&mut client, "ICBC-0101", PartnerKind::BankOutlet, "ICBC").await;
    journeys::register_partner(&mut client, "ICBC-0102", PartnerKind::BankOutlet, "ICBC").await;
    let person = journeys::register(&mut client, "宋江").await;
    let check = |outlet: &str, name: &str| {
        as_caller(
            outlet,
            pb::VerifyIdentityRequest {
                id_number: person.id_number.clone(),
                name: name.into(),
            },
        )
    };

    let answer = client
        .verify_identity(check("bank_outlet:ICBC-0101", "宋清"))
        .await
        .unwrap()
        .into_inner();
    assert!(!answer.r#match);
    let answer = client
        .verify_identity(check("bank_outlet:ICBC-0101", "宋江"))
        .await
        .unwrap()
        .into_inner();
    assert!(answer.r#match);
    client
        .verify_identity(check("bank_outlet:ICBC-0101", "宋江"))
        .await
        .unwrap();
    let status = client
        .verify_identity(check("bank_outlet:ICBC-0101", "宋江"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert_eq!(reason(&status), "VERIFY_IDENTITY_RATE_LIMITED");
    assert!(retry_delay(&status) > Duration::ZERO);
    // Another outlet has its own allowance.
    client
        .verify_identity(check("bank_outlet:ICBC-0102", "宋江"))
        .await
        .expect("another outlet is not limited by the first");

    // A holder check with the wrong ID number is a failed attempt too.
    let answer = client
        .verify_holder(operator(pb::VerifyHolderRequest {
            person_id: person.person_id.clone(),
            id_number: ids::id_number(true),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(!answer.r#match);

    let trail = audit_trail(&identity, &person.person_id).await;
    let entries: Vec<(String, String, String)> = trail
        .iter()
        .filter(|r| r.action == "VerifyIdentity" || r.action == "VerifyHolder")
        .map(|r| (r.actor.clone(), r.action.clone(), r.access.clone()))
        .collect();
    let outlet = |access: &str| {
        (
            "bank_outlet:ICBC-0101".to_owned(),
            "VerifyIdentity".to_owned(),
            access.to_owned(),
        )
    };
    assert_eq!(
        entries,
        [
            outlet("FAILED_ATTEMPT"),
            outlet("READ"),
            outlet("READ"),
            (
                "bank_outlet:ICBC-0102".into(),
                "VerifyIdentity".into(),
                "READ".into()
            ),
            (
                "operator:OP0001".into(),
                "VerifyHolder".into(),
                "FAILED_ATTEMPT".into()
            ),
        ]
    );
}

/// (median, slowest) of `samples`, in microseconds.
fn figures(mut samples: Vec<Duration>) -> (u128, u128) {
    samples.sort();
    (
        samples[samples.len() / 2].as_micros(),
        samples.last().unwrap().as_micros(),
    )
}

/// A bank's calls during a flood of sign-ins: identity's `GetPartner` (its
/// auth layer and the answer both from the admission pool) and
/// card-issuance's `GetCard` (whose first call by a bank asks identity's
/// registry); and a signed-in person's calls, whose session card-issuance
/// checks with identity. Every bank call and every person's call succeeds;
/// the excess sign-ins are refused `RESOURCE_EXHAUSTED`. The latencies are
/// printed (see docs/RELIABILITY.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn during_a_sign_in_flood_a_banks_calls_keep_succeeding() {
    let system = System::start().await;
    let mut identity = system.identity_client().await;
    let mut cards = system.card_client().await;
    journeys::register_partner(&mut identity, "ICBC", PartnerKind::Bank, "").await;
    journeys::register_partner(&mut identity, "CCB", PartnerKind::Bank, "").await;
    let (_, icbc_card) =
        journeys::person_with_received_card(&mut identity, &mut cards, "武松", "ICBC").await;
    let (_, ccb_card) =
        journeys::person_with_received_card(&mut identity, &mut cards, "武大", "CCB").await;
    let (flooder, token) = system.signed_in_person().await;

    let bank_round = async |bank: &str, card: &card::Card| -> Duration {
        let started = Instant::now();
        let mut identity = system.identity_client().await;
        identity
            .get_partner(as_caller(
                &format!("bank:{bank}"),
                pb::GetPartnerRequest { code: bank.into() },
            ))
            .await
            .unwrap_or_else(|s| panic!("GetPartner as {bank}: {s:?}"));
        let mut cards = system.card_client().await;
        cards
            .get_card(as_caller(
                &format!("bank:{bank}"),
                card::GetCardRequest {
                    key: Some(card::get_card_request::Key::SerialNumber(
                        card.serial_number.clone(),
                    )),
                },
            ))
            .await
            .unwrap_or_else(|s| panic!("GetCard as {bank}: {s:?}"));
        started.elapsed()
    };

    let mut quiet = Vec::new();
    for _ in 0..40 {
        quiet.push(bank_round("ICBC", &icbc_card).await);
    }

    let stop = Arc::new(AtomicBool::new(false));
    let channel = system.identity.channel().await;
    let flood: Vec<_> = (0..256)
        .map(|_| {
            let stop = stop.clone();
            let request = sign_in(&flooder, "Signed1nOnline");
            let channel = channel.clone();
            tokio::spawn(async move {
                let mut identity = pb::identity_service_client::IdentityServiceClient::new(channel);
                let mut outcomes = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let outcome = identity.sign_in(request.clone()).await;
                    outcomes.push(outcome.map(drop).map_err(|s| (s.code(), reason(&s))));
                }
                outcomes
            })
        })
        .collect();
    // Let the flood build up, then call as the banks (CCB for the first time).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut flooded = vec![bank_round("CCB", &ccb_card).await];
    for _ in 0..40 {
        flooded.push(bank_round("ICBC", &icbc_card).await);
        // The person's session is checked at identity on each call.
        cards
            .list_person_cards(system_tests::with_token(
                &token,
                card::ListPersonCardsRequest {
                    person_id: flooder.person_id.clone(),
                },
            ))
            .await
            .unwrap_or_else(|s| panic!("a person's call during the flood: {s:?}"));
    }
    stop.store(true, Ordering::Relaxed);
    let mut signed_in = 0;
    let mut exhausted = 0;
    for task in flood {
        for outcome in task.await.unwrap() {
            match outcome {
                Ok(()) => signed_in += 1,
                // Over the per-address or hashing limits, or over the
                // service's share for one caller (the flood is one caller).
                Err((Code::ResourceExhausted, why))
                    if ["SIGN_IN_RATE_LIMITED", "SIGN_IN_BUSY", "CALLER_OVER_SHARE"]
                        .contains(&why.as_str()) =>
                {
                    exhausted += 1
                }
                Err(other) => panic!("a flooding sign-in answered {other:?}"),
            }
        }
    }
    assert!(exhausted > 0, "the flood's excess is refused");
    let (quiet_median, quiet_slowest) = figures(quiet);
    let (flood_median, flood_slowest) = figures(flooded);
    eprintln!(
        "bank round (GetPartner at identity + GetCard at card-issuance): quiet median \
         {quiet_median} us, slowest {quiet_slowest} us; during the flood median \
         {flood_median} us, slowest {flood_slowest} us; flood: {signed_in} signed in, \
         {exhausted} refused RESOURCE_EXHAUSTED"
    );
}

/// An unknown ID number and a wrong password get the same refusal (code,
/// reason, details) and take about as long: both verify an argon2 hash. The
/// times are printed (see docs/RELIABILITY.md), not asserted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_id_number_is_answered_like_a_wrong_password() {
    let database = fresh_database().await;
    let mut config = identity_config(&database);
    config.sign_in_per_client_address = Limit::new(600, 600);
    config.sign_in_per_id_number = Limit::new(600, 600);
    config.password_max_failures = 1_000;
    let identity = spawn_identity_with(config, Arc::new(test_clock())).await;
    let mut client = identity_client(&identity).await;
    let person = journeys::register(&mut client, "卢俊").await;
    journeys::set_online_password(&mut client, &person, "Unicorn2026").await;
    let unknown = ids::id_number(true);

    let mut wrong_times = Vec::new();
    let mut unknown_times = Vec::new();
    for _ in 0..20 {
        for (id_number, times) in [
            (&person.id_number, &mut wrong_times),
            (&unknown, &mut unknown_times),
        ] {
            let started = Instant::now();
            let status = client
                .sign_in(pb::SignInRequest {
                    id_number: id_number.clone(),
                    password: "Wrong2026".into(),
                })
                .await
                .unwrap_err();
            times.push(started.elapsed());
            assert_eq!(status.code(), Code::Unauthenticated);
            assert_eq!(reason(&status), "SIGN_IN_FAILED");
            assert_eq!(
                status.message(),
                "ID number or password is wrong",
                "the same words for both"
            );
        }
    }
    let (wrong_median, wrong_slowest) = figures(wrong_times);
    let (unknown_median, unknown_slowest) = figures(unknown_times);
    eprintln!(
        "sign-in refusal: wrong password median {wrong_median} us (slowest {wrong_slowest}); \
         unknown ID number median {unknown_median} us (slowest {unknown_slowest})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_id_number_is_delayed_on_every_instance_and_forgotten_after_a_day_like_a_known_one()
 {
    let database = fresh_database().await;
    let config = identity_config(&database);
    let clock = Arc::new(test_clock());
    // Two instances of identity on one database, as in a cluster.
    let first = spawn_identity_with(config.clone(), clock.clone()).await;
    let second = spawn_identity_with(config.clone(), clock.clone()).await;
    let (mut first, mut second) = (
        identity_client(&first).await,
        identity_client(&second).await,
    );
    let person = journeys::register(&mut first, "闫双").await;
    journeys::set_online_password(&mut first, &person, "Unicorn2026").await;
    let unknown = ids::id_number(true);
    for id_number in [&person.id_number, &unknown] {
        let wrong = || pb::SignInRequest {
            id_number: id_number.clone(),
            password: "Wrong2026".into(),
        };
        // Four wrong passwords on the first instance; the fifth starts a delay.
        let mut reasons = Vec::new();
        for _ in 0..5 {
            reasons.push(reason(&first.sign_in(wrong()).await.unwrap_err()));
        }
        assert_eq!(
            reasons,
            [
                "SIGN_IN_FAILED",
                "SIGN_IN_FAILED",
                "SIGN_IN_FAILED",
                "SIGN_IN_FAILED",
                "SIGN_IN_DELAYED"
            ]
        );
        // The second instance makes the next attempt wait too: whether the
        // ID number has an account cannot be told by asking another one.
        let status = second.sign_in(wrong()).await.unwrap_err();
        assert_eq!(reason(&status), "SIGN_IN_DELAYED", "{status:?}");
    }
    // A day later the count has started over for both alike: nor can it be
    // told by waiting.
    clock.advance(chrono::Duration::hours(25));
    for id_number in [&person.id_number, &unknown] {
        for _ in 0..4 {
            let status = second
                .sign_in(pb::SignInRequest {
                    id_number: id_number.clone(),
                    password: "Wrong2026".into(),
                })
                .await
                .unwrap_err();
            assert_eq!(reason(&status), "SIGN_IN_FAILED", "{status:?}");
        }
    }
    // What is kept for the unknown number does not hold it.
    let pool = platform::db::connect(&config.platform).await.unwrap();
    let keys: Vec<Vec<u8>> = sqlx::query_scalar("SELECT key FROM unknown_sign_ins")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].len(), 32);
    let number = unknown.as_bytes();
    assert!(!keys[0].windows(number.len()).any(|w| w == number));
}

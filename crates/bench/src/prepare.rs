//! Cards ready to activate: persons registered, confirmed and applied for
//! (through the fixtures), their cards issued in one batch and received.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures::StreamExt;
use socsec_fixtures::{ids, journey};
use socsec_proto::{
    activation::v1::activation_service_client::ActivationServiceClient,
    card::v1::{self as card, card_service_client::CardServiceClient},
    common::v1::{Gender, PartnerKind},
    identity::v1::{self as identity, identity_service_client::IdentityServiceClient},
};

use crate::{
    load,
    services::{OPERATOR, Services, as_caller},
};

/// A received card ready to activate.
#[derive(Clone)]
pub struct Prepared {
    pub card_number: String,
    pub code: String,
    pub id_number: String,
    pub person_id: String,
}

/// A partner to register: code, kind, parent (a bank outlet's bank), and
/// credit code (employers and agencies).
pub struct Partner<'a> {
    pub code: &'a str,
    pub kind: PartnerKind,
    pub parent: &'a str,
    pub credit_code: &'a str,
    /// A bank that collects contributions.
    pub collects_contributions: bool,
}

impl<'a> Partner<'a> {
    pub const fn new(code: &'a str, kind: PartnerKind) -> Self {
        Self {
            code,
            kind,
            parent: "",
            credit_code: "",
            collects_contributions: false,
        }
    }
}

/// The partners the benchmark calls as, and the bank that issues.
const PARTNERS: [Partner; 3] = [
    Partner::new("ICBC", PartnerKind::Bank),
    Partner {
        parent: "ICBC",
        ..Partner::new("ICBC-0101", PartnerKind::BankOutlet)
    },
    Partner::new("H-001", PartnerKind::Hospital),
];

/// Registers `partners` with identity, designated and in force.
pub async fn register_partners(
    identity: &IdentityServiceClient<devpki::channel::CallerChannel>,
    partners: &[Partner<'_>],
) {
    for partner in partners {
        identity
            .clone()
            .register_partner(as_caller(
                "operator:BENCH",
                identity::RegisterPartnerRequest {
                    request_id: format!("bench-{}", partner.code),
                    code: partner.code.into(),
                    kind: partner.kind as i32,
                    name: partner.code.into(),
                    region_code: "110000".into(),
                    parent_code: partner.parent.into(),
                    credit_code: partner.credit_code.into(),
                    designation_in_force: true,
                    collects_contributions: partner.collects_contributions,
                },
            ))
            .await
            .expect("partner");
    }
}

/// `count` persons registered, confirmed and applied for, their cards
/// issued (one batch) and received.
pub async fn received_cards(services: &Services, clients: usize, count: usize) -> Vec<Prepared> {
    let identity = IdentityServiceClient::new(services.serving(&services.identity).await);
    let cards = CardServiceClient::new(services.serving(&services.cards).await);
    register_partners(&identity, &PARTNERS).await;
    let started = Instant::now();
    let (id, cd) = (identity.clone(), cards.clone());
    let persons = Arc::new(Mutex::new(HashMap::new()));
    let store = persons.clone();
    load::closed_loop(clients, count, None, move |n| {
        let (mut identity, mut cards, store) = (id.clone(), cd.clone(), store.clone());
        async move {
            let male = n % 2 == 1;
            let gender = if male { Gender::Male } else { Gender::Female };
            let person = journey::register(
                &mut identity,
                &OPERATOR,
                ids::nth(n as u64, male),
                journey::basic_info("测试", gender),
            )
            .await
            .expect("register");
            journey::confirm(&mut identity, &OPERATOR, &person)
                .await
                .expect("confirm");
            journey::apply(&mut cards, &OPERATOR, &person, "ICBC")
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
                bank_bin: journey::BANK_BIN.into(),
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
                person_id: issued.person_id,
            });
        }
    }
    let to_receive = ready.clone();
    let cd = cards.clone();
    load::closed_loop(clients, count, None, move |n| {
        let mut cards = cd.clone();
        let card_number = to_receive[n].card_number.clone();
        async move {
            journey::receive(&mut cards, &OPERATOR, &card_number)
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
pub async fn wait_projected(
    activation: &ActivationServiceClient<devpki::channel::CallerChannel>,
    clients: usize,
    cards: &[Prepared],
) {
    let (a, all) = (activation.clone(), Arc::new(cards.to_vec()));
    load::closed_loop(clients, all.len(), None, move |n| {
        let (mut a, all) = (a.clone(), all.clone());
        async move {
            journey::projected(
                &mut a,
                &OPERATOR,
                &all[n].card_number,
                "RECEIVED",
                Duration::from_secs(60),
            )
            .await
            .expect("activation catches up");
            true
        }
    })
    .await;
}

//! The steady mixed load: bank-outlet activations (each card once, some
//! sent again with the same request id), hospital and pharmacy eligibility
//! checks, loss reports and employers' payments, each paced by a few
//! workers. A call refused for a passing reason is sent again later with
//! the same request id, as a partner would. Every call goes to the
//! [`Journal`].

use socsec_fixtures::payment::COLLECTING_BANK;
use std::{
    collections::VecDeque,
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use devpki::channel::CallerChannel;
use rand::Rng;
use socsec_bench::prepare::Prepared;
use socsec_proto::{
    activation::v1::{self as activation, activation_service_client::ActivationServiceClient},
    card::v1::{self as card, card_service_client::CardServiceClient},
    common::v1::{Money, YearMonth},
    contribution::v1::{
        self as contribution, contribution_service_client::ContributionServiceClient,
    },
};
use tokio::{sync::watch, task::JoinHandle};
use tonic::{Code, Status};

use crate::{
    journal::{Ack, Call, Journal, Kind},
    partner::{passing, request, timed, why},
};

/// How long before a refused call is sent again.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// Every this many activations answered OK is sent again at once.
const REPLAY_EVERY: usize = 10;

/// Workers and calls per second of each kind, in all.
pub const PACE: [(Kind, usize, f64); 4] = [
    (Kind::Activate, 2, 10.0),
    (Kind::Eligibility, 2, 30.0),
    (Kind::Loss, 1, 2.0),
    (Kind::Payment, 1, 5.0),
];

/// The cards as the load knows them.
#[derive(Default)]
struct Deck {
    /// Activated, no loss reported.
    usable: Vec<usize>,
    /// Activated at some point (lost ones too).
    activated: Vec<usize>,
    /// Loss acknowledged, not yet answered CARD_LOST.
    unseen: VecDeque<usize>,
    /// Calls to send again with their request id: (kind, due, card or number).
    retries: Vec<(Kind, Instant, usize)>,
}

/// Who the load calls, and what it has done.
pub struct Load {
    pub journal: Arc<Journal>,
    pub cards: Arc<Vec<Prepared>>,
    /// Employers' codes; payer `i` is `employer:<employers[i]>`.
    pub employers: Vec<String>,
    pub period: YearMonth,
    deck: Mutex<Deck>,
    /// The next card never activated.
    next_card: AtomicUsize,
    next_payment: AtomicUsize,
    turn: AtomicUsize,
    /// Partners' calls to activation are spread over these instances.
    activation: RwLock<Vec<ActivationServiceClient<CallerChannel>>>,
    cards_service: CardServiceClient<CallerChannel>,
    contribution: ContributionServiceClient<CallerChannel>,
}

impl Load {
    pub fn new(
        journal: Arc<Journal>,
        cards: Arc<Vec<Prepared>>,
        (employers, period): (Vec<String>, YearMonth),
        activation: Vec<ActivationServiceClient<CallerChannel>>,
        cards_service: CardServiceClient<CallerChannel>,
        contribution: ContributionServiceClient<CallerChannel>,
    ) -> Self {
        Self {
            journal,
            cards,
            employers,
            period,
            deck: Mutex::default(),
            next_card: AtomicUsize::new(0),
            next_payment: AtomicUsize::new(0),
            turn: AtomicUsize::new(0),
            activation: RwLock::new(activation),
            cards_service,
            contribution,
        }
    }

    /// Spreads partners' calls to activation over `instances`.
    pub fn route_activation(&self, instances: Vec<ActivationServiceClient<CallerChannel>>) {
        *self.activation.write().expect("routes") = instances;
    }

    /// Cards never yet sent for activation.
    pub fn fresh_cards_left(&self) -> usize {
        self.cards
            .len()
            .saturating_sub(self.next_card.load(Ordering::Relaxed))
    }

    /// Starts the workers of [`PACE`]; they stop when `stop` turns true.
    pub fn spawn(self: &Arc<Self>, stop: &watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
        let mut workers = Vec::new();
        for (kind, count, rate) in PACE {
            for _ in 0..count {
                let (load, stop) = (self.clone(), stop.clone());
                let interval = Duration::from_secs_f64(count as f64 / rate);
                workers.push(tokio::spawn(async move {
                    let mut next = Instant::now();
                    while !*stop.borrow() {
                        load.step(kind).await;
                        next = (next + interval).max(Instant::now());
                        tokio::time::sleep_until(next.into()).await;
                    }
                }));
            }
        }
        workers
    }

    /// One call of `kind`: a due retry first, else a new one.
    pub async fn step(&self, kind: Kind) {
        let retry = self.due_retry(kind);
        match kind {
            Kind::Activate => {
                let card = match retry {
                    Some(card) => card,
                    None => {
                        let card = self.next_card.fetch_add(1, Ordering::Relaxed);
                        if card >= self.cards.len() {
                            return;
                        }
                        card
                    }
                };
                self.activate(card, retry.is_some()).await;
            }
            Kind::Eligibility => self.check_eligibility().await,
            Kind::Loss => {
                let card = retry.or_else(|| {
                    let mut deck = self.deck.lock().expect("deck");
                    let n = deck.usable.len();
                    (n > 0).then(|| deck.usable.swap_remove(rand::rng().random_range(0..n)))
                });
                if let Some(card) = card {
                    self.report_loss(card, retry.is_some()).await;
                }
            }
            Kind::Payment => {
                let n = retry.unwrap_or_else(|| self.next_payment.fetch_add(1, Ordering::Relaxed));
                self.pay(n, retry.is_some()).await;
            }
        }
    }

    fn due_retry(&self, kind: Kind) -> Option<usize> {
        let mut deck = self.deck.lock().expect("deck");
        let now = Instant::now();
        let at = deck
            .retries
            .iter()
            .position(|(k, due, _)| *k == kind && *due <= now)?;
        Some(deck.retries.remove(at).2)
    }

    fn retry_later(&self, kind: Kind, what: usize) {
        let due = Instant::now() + RETRY_AFTER;
        self.deck
            .lock()
            .expect("deck")
            .retries
            .push((kind, due, what));
    }

    /// Records `answer` of a call of `kind` sent at `sent`; a passing
    /// refusal is queued to be sent again.
    fn record<T>(
        &self,
        kind: Kind,
        what: usize,
        (sent, retry): (Instant, bool),
        (answer, took): &(Result<T, Status>, Duration),
        ack: impl FnOnce(&T) -> Ack,
    ) {
        let (code, reason, ack) = match answer {
            Ok(answer) => (Code::Ok, String::new(), ack(answer)),
            Err(status) => {
                if passing(status.code()) && kind != Kind::Eligibility {
                    self.retry_later(kind, what);
                }
                (status.code(), why(status), Ack::Nothing)
            }
        };
        self.journal.record(Call {
            kind,
            sent: self.journal.since_start(sent),
            took: *took,
            code,
            reason,
            retry,
            ack,
        });
    }

    fn activation_client(&self) -> ActivationServiceClient<CallerChannel> {
        let routes = self.activation.read().expect("routes");
        routes[self.turn.fetch_add(1, Ordering::Relaxed) % routes.len()].clone()
    }

    /// Activates card `card` at the bank outlet under `act-<card>`; every
    /// [`REPLAY_EVERY`]th success is sent again at once.
    pub async fn activate(&self, card: usize, retry: bool) {
        if !self.activate_once(card, retry).await {
            return;
        }
        let replay = {
            let mut deck = self.deck.lock().expect("deck");
            deck.usable.push(card);
            deck.activated.push(card);
            deck.activated.len().is_multiple_of(REPLAY_EVERY)
        };
        if replay {
            self.activate_once(card, true).await;
        }
    }

    /// One `ActivateAtBankOutlet` call; whether it was answered OK.
    async fn activate_once(&self, card: usize, retry: bool) -> bool {
        let prepared = &self.cards[card];
        let request_id = format!("act-{card}");
        let sent = Instant::now();
        let answer = timed(self.activation_client().activate_at_bank_outlet(request(
            "bank_outlet:ICBC-0101",
            activation::ActivateAtBankOutletRequest {
                request_id: request_id.clone(),
                operator_id: "T1".into(),
                card_number: prepared.card_number.clone(),
                id_number: prepared.id_number.clone(),
                card_identification_code: prepared.code.clone(),
            },
        )))
        .await;
        self.record(Kind::Activate, card, (sent, retry), &answer, |a| {
            Ack::Activated {
                card,
                request_id,
                activated_at: a
                    .activated_at
                    .as_ref()
                    .map_or(0, |t| t.seconds * 1_000_000 + i64::from(t.nanos) / 1_000),
            }
        });
        answer.0.is_ok()
    }

    /// A hospital or a pharmacy presents a card: every other time one whose
    /// loss was acknowledged and not yet answered CARD_LOST, else any
    /// activated card.
    async fn check_eligibility(&self) {
        let turn = self.turn.fetch_add(1, Ordering::Relaxed);
        let (card, followed) = {
            let mut deck = self.deck.lock().expect("deck");
            let followed = if turn.is_multiple_of(2) {
                deck.unseen.pop_front()
            } else {
                None
            };
            let any = || {
                let n = deck.activated.len();
                (n > 0).then(|| deck.activated[rand::rng().random_range(0..n)])
            };
            match followed {
                Some(card) => (Some(card), true),
                None => (any(), false),
            }
        };
        let Some(card) = card else { return };
        let prepared = &self.cards[card];
        let caller = if turn % 4 < 2 {
            "hospital:H-001"
        } else {
            "pharmacy:P-001"
        };
        let sent = Instant::now();
        let answer = timed(self.activation_client().check_eligibility(request(
            caller,
            activation::CheckEligibilityRequest {
                card: Some(
                    activation::check_eligibility_request::Card::SocialSecurityCard(
                        activation::CardPresented {
                            card_number: prepared.card_number.clone(),
                            card_identification_code: prepared.code.clone(),
                        },
                    ),
                ),
            },
        )))
        .await;
        let lost = activation::EligibilityReason::CardLost as i32;
        if followed && !answer.0.as_ref().is_ok_and(|e| e.reason == lost) {
            self.deck.lock().expect("deck").unseen.push_back(card);
        }
        self.record(Kind::Eligibility, card, (sent, false), &answer, |e| {
            Ack::Eligibility {
                card,
                eligible: e.eligible,
                reason: e.reason,
            }
        });
    }

    /// An operator reports card `card` lost under `loss-<card>`.
    async fn report_loss(&self, card: usize, retry: bool) {
        let sent = Instant::now();
        let answer = timed(self.cards_service.clone().report_loss(request(
            "operator:BENCH",
            card::ReportLossRequest {
                request_id: format!("loss-{card}"),
                card_number: self.cards[card].card_number.clone(),
                reason: "reported lost by the holder".into(),
            },
        )))
        .await;
        if answer.0.is_ok() {
            self.deck.lock().expect("deck").unseen.push_back(card);
        }
        self.record(Kind::Loss, card, (sent, retry), &answer, |_| Ack::Lost {
            card,
        });
    }

    /// Payment number `n`: employer `n % employers` asks for a payment
    /// order of 10.00 to 19.60 yuan (`order-pay-<n>`), and the collecting
    /// bank records it under reference and request id `pay-<n>`. A retry
    /// repeats both (each idempotent).
    async fn pay(&self, n: usize, retry: bool) {
        let payer = n % self.employers.len();
        let amount = 1_000 + (n % 97) as i64 * 10;
        let request_id = format!("pay-{n}");
        let sent = Instant::now();
        let contribution = self.contribution.clone();
        let answer = timed(async {
            let order = contribution
                .clone()
                .create_payment_order(request(
                    &format!("employer:{}", self.employers[payer]),
                    contribution::CreatePaymentOrderRequest {
                        request_id: format!("order-{request_id}"),
                        payer: String::new(),
                        period: Some(self.period),
                        amount: Some(Money { fen: amount }),
                    },
                ))
                .await?
                .into_inner();
            contribution
                .clone()
                .record_payment(request(
                    &format!("bank:{COLLECTING_BANK}"),
                    contribution::RecordPaymentRequest {
                        request_id: request_id.clone(),
                        amount: order.amount,
                        order_id: order.order_id,
                        bank_reference: request_id.clone(),
                        paid_at: order.created_at,
                        bank_code: String::new(),
                    },
                ))
                .await
        })
        .await;
        self.record(Kind::Payment, n, (sent, retry), &answer, |_| Ack::Paid {
            payer,
            request_id,
            amount,
        });
    }
}

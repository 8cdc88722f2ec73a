//! Every call the load makes: when it was sent, how long it took, its gRPC
//! code (and reason when refused) and, when answered OK, what it
//! acknowledged. The invariants and the report read only this and the
//! database.

use std::{
    collections::BTreeMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use tonic::Code;

/// What the load does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A bank outlet activates a card (`ActivateAtBankOutlet`).
    Activate,
    /// A hospital or pharmacy checks a card (`CheckEligibility`).
    Eligibility,
    /// An operator reports a card lost (`ReportLoss`, card-issuance).
    Loss,
    /// An employer pays towards its bill (`RecordPayment`, contribution).
    Payment,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Activate, Kind::Eligibility, Kind::Loss, Kind::Payment];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Activate => "activation",
            Kind::Eligibility => "eligibility",
            Kind::Loss => "loss report",
            Kind::Payment => "payment",
        }
    }
}

/// What an answered call acknowledged.
#[derive(Clone, Debug)]
pub enum Ack {
    /// Refused, or nothing to remember.
    Nothing,
    /// Card `card` (an index into the prepared cards) activated under
    /// `request_id` at `activated_at` (microseconds since the epoch).
    Activated {
        card: usize,
        request_id: String,
        activated_at: i64,
    },
    /// Card `card` is (`eligible`) or is not usable, for `reason`.
    Eligibility {
        card: usize,
        eligible: bool,
        reason: i32,
    },
    /// Card `card` reported lost.
    Lost { card: usize },
    /// `amount` fen paid by `payer` (an employer's index) under `request_id`.
    Paid {
        payer: usize,
        request_id: String,
        amount: i64,
    },
}

/// One call.
#[derive(Clone, Debug)]
pub struct Call {
    pub kind: Kind,
    /// When it was sent, from the start of the run.
    pub sent: Duration,
    pub took: Duration,
    pub code: Code,
    /// The `ErrorInfo` reason of a refusal (empty when none).
    pub reason: String,
    /// Sent again with a request id used before.
    pub retry: bool,
    pub ack: Ack,
}

impl Call {
    /// When the answer arrived, from the start of the run.
    pub fn answered(&self) -> Duration {
        self.sent + self.took
    }
}

/// The calls of a run, in the order they were answered.
pub struct Journal {
    start: Instant,
    calls: Mutex<Vec<Call>>,
}

impl Journal {
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            calls: Mutex::default(),
        }
    }

    /// Now, from the start of the run.
    pub fn now(&self) -> Duration {
        self.start.elapsed()
    }

    /// `at`, from the start of the run.
    pub fn since_start(&self, at: Instant) -> Duration {
        at.saturating_duration_since(self.start)
    }

    pub fn record(&self, call: Call) {
        self.calls.lock().expect("journal").push(call);
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().expect("journal").clone()
    }
}

/// `Unavailable` → `UNAVAILABLE`, as gRPC names its codes.
pub fn code_name(code: Code) -> String {
    let mut name = String::new();
    for (i, c) in format!("{code:?}").chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            name.push('_');
        }
        name.push(c.to_ascii_uppercase());
    }
    if code == Code::Ok { "OK".into() } else { name }
}

/// The calls under way at some point from `from` to `to` (answered after
/// `from`, sent before `to`).
pub fn under_way(calls: &[Call], from: Duration, to: Duration) -> impl Iterator<Item = &Call> {
    calls
        .iter()
        .filter(move |c| c.answered() >= from && c.sent < to)
}

/// How many calls of each kind ended with each code (and reason), among
/// those under way at some point from `from` to `to`.
pub fn by_code(
    calls: &[Call],
    from: Duration,
    to: Duration,
) -> BTreeMap<Kind, Vec<(String, usize)>> {
    let mut counts: BTreeMap<Kind, BTreeMap<String, usize>> = BTreeMap::new();
    for call in under_way(calls, from, to) {
        let mut label = code_name(call.code);
        if !call.reason.is_empty() {
            label = format!("{label} {}", call.reason);
        }
        *counts
            .entry(call.kind)
            .or_default()
            .entry(label)
            .or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(kind, codes)| {
            let mut codes: Vec<(String, usize)> = codes.into_iter().collect();
            codes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            (kind, codes)
        })
        .collect()
}

//! What must hold after every fault, checked against the journal, the
//! services and (read-only) their database schemas.
//!
//! Checks of the database state are cumulative (everything acknowledged
//! since the start); checks of answers look at the calls sent since the
//! previous check.

use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use devpki::channel::CallerChannel;
use socsec_bench::{prepare::Prepared, services::as_caller};
use socsec_proto::{
    activation::v1::EligibilityReason,
    common::v1::{Money, YearMonth},
    contribution::v1::{
        self as contribution, contribution_service_client::ContributionServiceClient,
    },
};
use sqlx::{Connection, PgConnection};
use tonic::Code;

use crate::journal::{Ack, Call, Kind};

/// How long after its loss was acknowledged a card may still answer ELIGIBLE.
pub const LOSS_BOUND: Duration = Duration::from_secs(2);
/// How long activation's projection may take to match card-issuance again.
const CONVERGENCE: Duration = Duration::from_secs(30);

/// One invariant after one fault.
pub struct Check {
    pub name: &'static str,
    /// What breaks it, counted.
    pub violations: usize,
    /// Counted over everything since the start (else since the last check).
    pub cumulative: bool,
    /// The figures behind the verdict.
    pub detail: String,
}

/// What the checks read.
pub struct Context<'a> {
    pub calls: &'a [Call],
    pub cards: &'a [Prepared],
    pub employers: &'a [String],
    pub period: YearMonth,
    /// Calls sent from here on are this check's.
    pub since: Duration,
    pub contribution: ContributionServiceClient<CallerChannel>,
    /// What the monthly run booked for each employer, before the load.
    pub booked: &'a HashMap<String, i64>,
}

impl Context<'_> {
    fn recent(&self) -> impl Iterator<Item = &Call> {
        self.calls.iter().filter(|c| c.sent >= self.since)
    }
}

/// A read-only session on the database, retried while it is coming back.
pub async fn connect(url: &str) -> PgConnection {
    for _ in 0..120 {
        if let Ok(mut conn) = PgConnection::connect(url).await
            && sqlx::query("SET default_transaction_read_only = on")
                .execute(&mut conn)
                .await
                .is_ok()
        {
            return conn;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("the database did not answer for a minute");
}

fn period_date(p: YearMonth) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(p.year, p.month as u32, 1).expect("a month")
}

/// What the ledger holds for each payer of `period`.
pub async fn booked(conn: &mut PgConnection, period: YearMonth) -> HashMap<String, i64> {
    sqlx::query_as(
        "SELECT payer, sum(amount_fen)::bigint FROM contribution.ledger_entries
         WHERE period = $1 GROUP BY payer",
    )
    .bind(period_date(period))
    .fetch_all(conn)
    .await
    .expect("ledger sums")
    .into_iter()
    .collect()
}

/// Every activation, loss report and payment answered OK is in the database
/// as acknowledged.
pub async fn durable(ctx: &Context<'_>, conn: &mut PgConnection) -> Check {
    let activations: HashMap<String, (String, chrono::DateTime<chrono::Utc>)> =
        sqlx::query_as::<_, (String, String, chrono::DateTime<chrono::Utc>)>(
            "SELECT card_number, request_id, activated_at FROM activation.activations",
        )
        .fetch_all(&mut *conn)
        .await
        .expect("activations")
        .into_iter()
        .map(|(card, request, at)| (card, (request, at)))
        .collect();
    let losses: HashSet<(String, String)> = sqlx::query_as(
        "SELECT card_number, request_id FROM card_issuance.card_status_history WHERE status = 'LOST'",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("losses")
    .into_iter()
    .collect();
    let payments: HashSet<(String, String, i64)> =
        sqlx::query_as("SELECT payer, request_id, amount_fen FROM contribution.payments")
            .fetch_all(&mut *conn)
            .await
            .expect("payments")
            .into_iter()
            .collect();
    let (mut acked, mut missing) = ([0usize; 3], [0usize; 3]);
    for call in ctx.calls {
        let (kind, found) = match &call.ack {
            Ack::Activated {
                card,
                request_id,
                activated_at,
            } => (
                0,
                activations
                    .get(&ctx.cards[*card].card_number)
                    .is_some_and(|(r, at)| {
                        // The answer's instant has nanoseconds; the row, microseconds.
                        r == request_id && (at.timestamp_micros() - *activated_at).abs() <= 1_000
                    }),
            ),
            Ack::Lost { card } => (
                1,
                losses.contains(&(ctx.cards[*card].card_number.clone(), format!("loss-{card}"))),
            ),
            Ack::Paid {
                payer,
                request_id,
                amount,
            } => (
                2,
                payments.contains(&(
                    format!("employer:{}", ctx.employers[*payer]),
                    request_id.clone(),
                    *amount,
                )),
            ),
            _ => continue,
        };
        acked[kind] += 1;
        missing[kind] += usize::from(!found);
    }
    Check {
        name: "answered OK ⇒ durable",
        violations: missing.iter().sum(),
        cumulative: true,
        detail: format!(
            "missing: {} of {} activations, {} of {} loss reports, {} of {} payments",
            missing[0], acked[0], missing[1], acked[1], missing[2], acked[2]
        ),
    }
}

async fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// No activation, loss, payment or ledger row twice; a request sent again
/// gets the first answer.
pub async fn duplicates(ctx: &Context<'_>, conn: &mut PgConnection) -> Check {
    let activations = count(
        conn,
        "SELECT count(*) FROM (SELECT card_number FROM activation.activations
         GROUP BY card_number HAVING count(*) > 1) d",
    )
    .await;
    let losses = count(
        conn,
        "SELECT count(*) FROM (SELECT card_number FROM card_issuance.card_status_history
         WHERE status = 'LOST' GROUP BY card_number HAVING count(*) > 1) d",
    )
    .await;
    let payments = count(
        conn,
        "SELECT count(*) FROM (SELECT payer, request_id FROM contribution.payments
         GROUP BY payer, request_id HAVING count(*) > 1) d",
    )
    .await;
    let ledger = count(
        conn,
        "SELECT count(*) FROM (SELECT 1 FROM contribution.ledger_entries WHERE kind = 'CONTRIBUTION'
         GROUP BY enrolment_id, period, part HAVING count(*) > 1) d",
    )
    .await;
    // Every answer to one activation request id must be the same.
    let mut answers: HashMap<&str, HashSet<i64>> = HashMap::new();
    for call in ctx.calls {
        if let Ack::Activated {
            request_id,
            activated_at,
            ..
        } = &call.ack
        {
            answers.entry(request_id).or_default().insert(*activated_at);
        }
    }
    let differing = answers.values().filter(|a| a.len() > 1).count();
    let replays = ctx
        .calls
        .iter()
        .filter(|c| c.kind == Kind::Activate && c.retry)
        .count();
    // Each card is activated under one request id: "already active" means a
    // retry was not answered from the first answer.
    let already = ctx
        .calls
        .iter()
        .filter(|c| c.kind == Kind::Activate && c.reason == "CARD_ALREADY_ACTIVE")
        .count();
    let rows = (activations + losses + payments + ledger) as usize;
    Check {
        name: "nothing duplicated",
        violations: rows + differing + already,
        cumulative: true,
        detail: format!(
            "twice: {activations} activations, {losses} losses, {payments} payments, {ledger} ledger rows; \
             {differing} request ids answered differently over {replays} resent activations; \
             {already} CARD_ALREADY_ACTIVE"
        ),
    }
}

/// What each payer of `period` has paid, by the payment rows.
async fn paid(conn: &mut PgConnection, period: YearMonth) -> HashMap<String, i64> {
    sqlx::query_as(
        "SELECT payer, sum(amount_fen)::bigint FROM contribution.payments WHERE period = $1 GROUP BY payer",
    )
    .bind(period_date(period))
    .fetch_all(conn)
    .await
    .expect("payment sums")
    .into_iter()
    .collect()
}

/// Each employer's bill is what the run booked, and what it has paid is
/// the sum of its payments.
pub async fn ledger(ctx: &Context<'_>, conn: &mut PgConnection) -> Check {
    let now = booked(conn, ctx.period).await;
    // Payments go on while this runs: each bill is read between two sums.
    let before = paid(conn, ctx.period).await;
    let mut acked: HashMap<usize, i64> = HashMap::new();
    for call in ctx.calls {
        if let Ack::Paid { payer, amount, .. } = &call.ack {
            *acked.entry(*payer).or_default() += amount;
        }
    }
    let mut bills = Vec::new();
    for employer in ctx.employers {
        let bill = ctx
            .contribution
            .clone()
            .get_bill(as_caller(
                "operator:BENCH",
                contribution::GetBillRequest {
                    payer: format!("employer:{employer}"),
                    period: Some(ctx.period),
                    as_of: None,
                },
            ))
            .await
            .map(tonic::Response::into_inner);
        bills.push(bill);
    }
    let after = paid(conn, ctx.period).await;
    let fen = |m: &Option<Money>| m.as_ref().map_or(0, |m| m.fen);
    let (mut wrong, mut notes) = (0, Vec::new());
    for (i, (employer, bill)) in ctx.employers.iter().zip(bills).enumerate() {
        let payer = format!("employer:{employer}");
        let get = |sums: &HashMap<String, i64>| sums.get(&payer).copied().unwrap_or(0);
        let (booked, ledger) = (get(ctx.booked), get(&now));
        let (rows_before, rows_after) = (get(&before), get(&after));
        let paid_acked = acked.get(&i).copied().unwrap_or(0);
        match bill {
            Ok(bill) => {
                let billed = fen(&bill.contributions) + fen(&bill.service_fees);
                let paid = fen(&bill.paid);
                let ok = billed == ledger
                    && ledger == booked
                    && (rows_before..=rows_after).contains(&paid)
                    && paid_acked <= rows_before;
                if !ok {
                    wrong += 1;
                    notes.push(format!(
                        "{payer}: run {booked}, ledger {ledger}, bill {billed}; paid per bill {paid}, \
                         payment rows {rows_before} before the bill and {rows_after} after, acknowledged {paid_acked}"
                    ));
                }
            }
            Err(status) => {
                wrong += 1;
                notes.push(format!("{payer}: GetBill {}", status.code()));
            }
        }
    }
    let total: i64 = ctx.booked.values().sum();
    let paid_total: i64 = after.values().sum();
    Check {
        name: "ledger = bills",
        violations: wrong,
        cumulative: false,
        detail: if notes.is_empty() {
            format!(
                "{} bills: ledger = run = bill ({total} fen in all); paid = payment rows ({paid_total} fen)",
                ctx.employers.len()
            )
        } else {
            notes.join("; ")
        },
    }
}

/// Status ranks: a card's status never goes back down.
const RANK: &str = "CASE status WHEN 'ISSUED' THEN 0 WHEN 'RECEIVED' THEN 1 ELSE 2 END";

/// No card's status went back: not in card-issuance's history, not in
/// activation's projection (once it has caught up), not in eligibility
/// answers (ELIGIBLE after CARD_LOST).
pub async fn regression(ctx: &Context<'_>, conn: &mut PgConnection) -> Check {
    let history = count(
        conn,
        &format!(
            "SELECT count(*) FROM (SELECT {RANK} AS now, lag({RANK}) OVER (PARTITION BY card_number ORDER BY id) AS before
             FROM card_issuance.card_status_history) h WHERE before > now"
        ),
    )
    .await;
    let started = std::time::Instant::now();
    let differ_sql =
        "SELECT count(*) FROM activation.cards a JOIN card_issuance.cards c USING (card_number)
                      WHERE a.status <> c.status";
    let mut differ = count(conn, differ_sql).await;
    while differ > 0 && started.elapsed() < CONVERGENCE {
        tokio::time::sleep(Duration::from_millis(200)).await;
        differ = count(conn, differ_sql).await;
    }
    let caught_up = started.elapsed();
    let lost = EligibilityReason::CardLost as i32;
    let mut seen_lost: HashMap<usize, Duration> = HashMap::new();
    for call in ctx.calls {
        if let Ack::Eligibility { card, reason, .. } = call.ack
            && reason == lost
        {
            let at = seen_lost.entry(card).or_insert(call.answered());
            *at = (*at).min(call.answered());
        }
    }
    let answered_back = ctx
        .recent()
        .filter(|c| {
            matches!(c.ack, Ack::Eligibility { card, eligible: true, .. }
                if seen_lost.get(&card).is_some_and(|at| c.sent > *at))
        })
        .count();
    Check {
        name: "no status regressed",
        violations: history as usize + differ as usize + answered_back,
        cumulative: false,
        detail: format!(
            "{history} backward steps in card-issuance's history; projection {}; {answered_back} ELIGIBLE answers after CARD_LOST",
            if differ == 0 {
                format!(
                    "matched card-issuance after {:.1} s",
                    caught_up.as_secs_f64()
                )
            } else {
                format!(
                    "still differs for {differ} cards after {:.0} s",
                    caught_up.as_secs_f64()
                )
            }
        ),
    }
}

/// No card whose loss was acknowledged more than [`LOSS_BOUND`] earlier was
/// answered ELIGIBLE; and how long each loss took to show.
pub fn lost_not_eligible(ctx: &Context<'_>) -> Check {
    let mut acked: HashMap<usize, Duration> = HashMap::new();
    for call in ctx.calls {
        if let Ack::Lost { card } = call.ack {
            acked.entry(card).or_insert(call.answered());
        }
    }
    let lost = EligibilityReason::CardLost as i32;
    let (mut checks, mut late, mut longest) = (0, 0, Duration::ZERO);
    let mut first_refusal: HashMap<usize, Duration> = HashMap::new();
    for call in ctx.calls {
        let Ack::Eligibility {
            card,
            eligible,
            reason,
        } = call.ack
        else {
            continue;
        };
        let Some(at) = acked.get(&card) else { continue };
        if call.sent < *at {
            continue;
        }
        let age = call.sent - *at;
        if reason == lost {
            first_refusal.entry(card).or_insert(age);
        }
        if call.sent >= ctx.since {
            checks += 1;
            if eligible {
                longest = longest.max(age);
                late += usize::from(age > LOSS_BOUND);
            }
        }
    }
    let mut lags: Vec<Duration> = acked
        .iter()
        .filter(|(_, at)| **at >= ctx.since)
        .filter_map(|(card, _)| first_refusal.get(card).copied())
        .collect();
    lags.sort();
    let pending = acked
        .iter()
        .filter(|(card, at)| **at >= ctx.since && !first_refusal.contains_key(card))
        .count();
    let lag = if lags.is_empty() {
        "no loss acknowledged and then refused here".to_owned()
    } else {
        format!(
            "ack → CARD_LOST median {:.2} s, max {:.2} s over {} losses",
            lags[lags.len() / 2].as_secs_f64(),
            lags[lags.len() - 1].as_secs_f64(),
            lags.len()
        )
    };
    Check {
        name: "lost ⇒ not ELIGIBLE after 2 s",
        violations: late,
        cumulative: false,
        detail: format!(
            "{late} of {checks} checks of lost cards ELIGIBLE > 2 s after the ack (longest ELIGIBLE {:.2} s after); {lag}{}",
            longest.as_secs_f64(),
            if pending > 0 {
                format!("; {pending} not yet seen refused")
            } else {
                String::new()
            }
        ),
    }
}

/// Every instance answered SERVING again without a hand.
pub fn serving(after_heal: Option<Duration>, patience: Duration) -> Check {
    Check {
        name: "back to SERVING",
        violations: usize::from(after_heal.is_none()),
        cumulative: false,
        detail: match after_heal {
            Some(d) => format!(
                "every instance SERVING {:.1} s after the heal",
                d.as_secs_f64()
            ),
            None => format!(
                "not every instance SERVING {:.0} s after the heal",
                patience.as_secs_f64()
            ),
        },
    }
}

/// Faults are told apart from bugs: nothing answered INTERNAL, UNKNOWN or
/// DATA_LOSS, and callers entitled to a call were not refused as if not.
pub fn honest(ctx: &Context<'_>) -> Check {
    let dishonest = [
        Code::Internal,
        Code::Unknown,
        Code::DataLoss,
        Code::PermissionDenied,
        Code::Unauthenticated,
    ];
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut calls = 0;
    // Only answers count: a call whose connection broke was answered by no one.
    for call in ctx
        .recent()
        .filter(|c| dishonest.contains(&c.code) && !c.reason.starts_with("[client"))
    {
        calls += 1;
        *seen
            .entry(format!(
                "{} {}",
                call.kind.name(),
                crate::journal::code_name(call.code)
            ))
            .or_default() += 1;
    }
    let mut seen: Vec<String> = seen.into_iter().map(|(k, n)| format!("{k} ×{n}")).collect();
    seen.sort();
    Check {
        name: "honest codes",
        violations: calls,
        cumulative: false,
        detail: if seen.is_empty() {
            "no service answered INTERNAL, UNKNOWN, DATA_LOSS, PERMISSION_DENIED or UNAUTHENTICATED"
                .into()
        } else {
            seen.join(", ")
        },
    }
}

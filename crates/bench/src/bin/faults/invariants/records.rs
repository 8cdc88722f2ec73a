//! What was acknowledged is in the database, once: activations, loss
//! reports, payments, and the ledger against the bills.

use std::collections::{HashMap, HashSet};

use socsec_bench::services::as_caller;
use socsec_proto::{
    common::v1::{Money, YearMonth},
    contribution::v1 as contribution,
};
use sqlx::PgConnection;

use super::{Check, Context, booked, count, period_date};
use crate::journal::{Ack, Kind};

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

//! Cards' statuses: never backwards, and a lost card refused within the
//! bound.

use std::{collections::HashMap, time::Duration};

use socsec_proto::activation::v1::EligibilityReason;
use sqlx::PgConnection;

use super::{Check, Context, count};
use crate::journal::Ack;

/// How long after its loss was acknowledged a card may still answer ELIGIBLE.
pub const LOSS_BOUND: Duration = Duration::from_secs(2);
/// How long activation's projection may take to match card-issuance again.
const CONVERGENCE: Duration = Duration::from_secs(30);

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

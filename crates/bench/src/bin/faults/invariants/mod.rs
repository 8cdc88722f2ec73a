//! What must hold after every fault, checked against the journal, the
//! services and (read-only) their database schemas.
//!
//! Checks of the database state are cumulative (everything acknowledged
//! since the start); checks of answers look at the calls sent since the
//! previous check.

mod cards;
mod records;

pub use cards::{LOSS_BOUND, lost_not_eligible, regression};
pub use records::{duplicates, durable, ledger};

use std::{collections::HashMap, time::Duration};

use devpki::channel::CallerChannel;
use socsec_bench::prepare::Prepared;
use socsec_proto::{
    common::v1::YearMonth, contribution::v1::contribution_service_client::ContributionServiceClient,
};
use sqlx::{Connection, PgConnection};
use tonic::Code;

use crate::journal::Call;

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

/// The one number `sql` answers.
async fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
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

/// On the cluster: every node running again, both standbys streaming from
/// the primary and one of them synchronous (`deploy/lib/cluster-state.py`),
/// within `patience` of the check.
pub fn whole(after: Result<Duration, String>, patience: Duration) -> Check {
    Check {
        name: "every node back",
        violations: usize::from(after.is_err()),
        cumulative: false,
        detail: match after {
            Ok(d) => format!(
                "three nodes running, both standbys streaming, one synchronous ({:.1} s after the check began)",
                d.as_secs_f64()
            ),
            Err(state) => format!(
                "not whole {:.0} s after the check began: {state}",
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

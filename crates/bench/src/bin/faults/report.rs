//! docs/RELIABILITY.md: for each fault, how long the system took to
//! recover, the calls by gRPC code while it lasted and each invariant's
//! result, as this run measured them. A hand-written analysis below the
//! figures is kept.

use std::{collections::BTreeMap, fmt::Write as _, path::Path, time::Duration};

use socsec_bench::{machine, with_analysis};

use crate::{
    inject::Timeline,
    invariants::{Check, LOSS_BOUND},
    journal::Kind,
    partner::CALL_TIMEOUT,
    workload::PACE,
};

/// What one fault showed.
pub struct Outcome {
    pub title: String,
    pub timeline: Timeline,
    /// From the heal until every instance answered SERVING.
    pub serving: Option<Duration>,
    /// From the heal until every kind of call was answered OK for good.
    pub load_ok: Option<Duration>,
    /// Calls under way from the injection until SERVING, by kind and code.
    pub during: BTreeMap<Kind, Vec<(String, usize)>>,
    /// The longest any of those calls took.
    pub slowest: Duration,
    /// Each invariant, and whether this fault broke it.
    pub checks: Vec<(Check, bool)>,
}

impl Outcome {
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|(_, failed)| *failed)
    }
}

/// How the run was set up, for the report's opening.
pub struct Setup {
    pub short: bool,
    /// Against the Patroni cluster, two instances of every service.
    pub cluster: bool,
    /// `release` or `debug`: how the services were built.
    pub build: String,
    pub cards: usize,
    pub activated_before: usize,
    /// Cards never sent for activation by the end.
    pub cards_left: usize,
    pub employees: usize,
    pub minutes: f64,
    /// Faults planned but not run (the system did not recover).
    pub not_run: Vec<String>,
}

fn secs(d: Option<Duration>) -> String {
    d.map_or_else(|| "never".into(), |d| format!("{:.1} s", d.as_secs_f64()))
}

/// The report, followed by the analysis of the one now at `out`.
pub fn render(setup: &Setup, outcomes: &[Outcome], out: &Path) -> String {
    let mut r = String::new();
    let _ = writeln!(
        r,
        "# {}\n",
        if setup.cluster {
            "Reliability of the cluster"
        } else {
            "Reliability"
        }
    );
    let _ = writeln!(
        r,
        "Measured by `deploy/{}{}` on {}, {}; {} faults in {:.1} minutes. \
         Everything below the title up to \"Analysis\" is written by that command: do not edit it by hand.\n",
        if setup.cluster {
            "failover.sh"
        } else {
            "faults.sh"
        },
        if setup.short { " --short" } else { "" },
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        machine::describe(),
        outcomes.len(),
        setup.minutes,
    );
    let pace: Vec<String> = PACE
        .iter()
        .map(|(kind, workers, rate)| {
            let s = if *workers == 1 { "" } else { "s" };
            format!("{} {rate:.0}/s ({workers} worker{s})", kind.name())
        })
        .collect();
    let on = if setup.cluster {
        "On one machine: the Patroni cluster of `deploy/cluster.sh --database-only` (three Postgres 15 nodes, \
         synchronous replication, reached through HAProxy), two instances of every service as separate processes \
         ({} builds, mutual TLS, default timeouts and keepalive; callers, the services included, balance over both \
         instances' health-checked addresses)"
    } else {
        "On one machine: a private Postgres (durable: fsync and synchronous commit on), the four services \
         as separate processes ({} builds, mutual TLS, default timeouts and keepalive), activation \
         reaching card-issuance through a TCP proxy in the driver"
    }
    .replace("{}", &setup.build);
    let _ = writeln!(
        r,
        "{on}, and a steady mixed load: {}. \
         {} persons hold received cards; {} cards were activated before the first fault; {} employees of \
         four employers were enrolled and this month run, so each employer has a bill to pay. A partner \
         waits {} s for an answer; a call refused for a passing reason (UNAVAILABLE, DEADLINE_EXCEEDED, …) \
         is sent again a second later with the same request id; every tenth activation answered OK is sent \
         again at once. After each fault the load runs on while every instance is checked for SERVING, \
         then the invariants are checked against the services and (read-only) their schemas.\n",
        pace.join(", "),
        setup.cards,
        setup.activated_before,
        setup.employees,
        CALL_TIMEOUT.as_secs(),
    );
    let run_it = if setup.cluster {
        "Run it: `deploy/failover.sh` (brings up the cluster on `.data/cluster`, or on what an earlier run \
         left there, runs every cluster fault and writes `target/RELIABILITY-cluster.md`; `--short` shortens \
         the holds, `--only KEY,…` runs chosen faults). Each fault is followed by every invariant of \
         `deploy/faults.sh` and by \"every node back\": three nodes running, both standbys streaming from the \
         primary, one synchronous. It exits non-zero when an invariant fails."
    } else {
        "Run it: `deploy/faults.sh` (the full suite; writes this file) or `deploy/faults.sh --short` \
         (the subset CI runs, a few seconds per fault; writes `target/RELIABILITY-short.md`); \
         `--only KEY,…` runs chosen faults. It exits non-zero when an invariant fails."
    };
    let _ = writeln!(r, "{run_it}\n");
    if setup.cards_left == 0 {
        let _ = writeln!(
            r,
            "**The fresh cards ran out** before the end: later faults saw no first activations.\n"
        );
    }
    if !setup.not_run.is_empty() {
        let _ = writeln!(
            r,
            "**Not run** (the system had not recovered from the fault before): {}.\n",
            setup.not_run.join(", ")
        );
    }
    summary(&mut r, outcomes);
    calls(&mut r, outcomes);
    let _ = writeln!(r, "## Invariants after each fault\n");
    let _ = writeln!(
        r,
        "Database checks count everything acknowledged since the start (a fault fails them only by adding \
         to the count); answer checks count the calls sent since the previous check. ELIGIBLE is allowed \
         for {} s after a loss is acknowledged.\n",
        LOSS_BOUND.as_secs()
    );
    for outcome in outcomes {
        let _ = writeln!(r, "### {}\n", outcome.title);
        if !outcome.timeline.note.is_empty() {
            let _ = writeln!(r, "{}.\n", outcome.timeline.note);
        }
        for (check, failed) in &outcome.checks {
            let mark = if *failed { "FAILS" } else { "holds" };
            let _ = writeln!(r, "- **{}** {mark}: {}", check.name, check.detail);
        }
        let _ = writeln!(r);
    }
    with_analysis(r, out)
}

fn summary(r: &mut String, outcomes: &[Outcome]) {
    let _ = writeln!(r, "## Faults\n");
    let _ = writeln!(
        r,
        "*Lasted*: from the injection to the heal (the process started again, SIGCONT, the session ended, \
         the proxy forwarding again, `pg_ctl restart` returned, a write committed again through HAProxy after the primary was killed). *Calls OK again*: from the heal until \
         every kind of call was answered OK from then on (*never*: still refused at the check). *Longest \
         call*: among the calls under way until both had happened.\n"
    );
    let _ = writeln!(
        r,
        "| fault | lasted | every instance SERVING after the heal | calls OK again after the heal | longest call meanwhile | invariants |"
    );
    let _ = writeln!(r, "|---|---:|---:|---:|---:|---|");
    for o in outcomes {
        let failed: Vec<&str> = o
            .checks
            .iter()
            .filter(|(_, failed)| *failed)
            .map(|(c, _)| c.name)
            .collect();
        let verdict = if failed.is_empty() {
            format!("all {} hold", o.checks.len())
        } else {
            format!("**fails**: {}", failed.join("; "))
        };
        let _ = writeln!(
            r,
            "| {} | {:.1} s | {} | {} | {:.2} s | {verdict} |",
            o.title,
            (o.timeline.healed - o.timeline.injected).as_secs_f64(),
            secs(o.serving),
            secs(o.load_ok),
            o.slowest.as_secs_f64(),
        );
    }
    let _ = writeln!(r);
}

fn calls(r: &mut String, outcomes: &[Outcome]) {
    let _ = writeln!(r, "## Calls during each fault\n");
    let _ = writeln!(
        r,
        "Calls under way at some point from the injection until every instance answered SERVING and calls \
         succeeded again (in flight when the fault began included), by gRPC code and ErrorInfo reason; `[client: …]` marks \
         calls no service answered (the connection broke, or no answer within the partner's wait).\n"
    );
    let header: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
    let _ = writeln!(r, "| fault | {} |", header.join(" | "));
    let _ = writeln!(r, "|---|{}", "---|".repeat(header.len()));
    for o in outcomes {
        let cells: Vec<String> = Kind::ALL
            .iter()
            .map(|kind| {
                o.during.get(kind).map_or_else(
                    || "none".into(),
                    |codes| {
                        codes
                            .iter()
                            .map(|(code, n)| format!("{code} {n}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                )
            })
            .collect();
        let _ = writeln!(r, "| {} | {} |", o.title, cells.join(" | "));
    }
    let _ = writeln!(r);
}

//! BENCHMARKS.md: the figures of this run side by side with their
//! baselines and targets, and where the CPU went; the hand-written analysis
//! below them is kept.

use std::{fmt::Write as _, path::Path};

use socsec_bench::{ANALYSIS, load::Measured, machine, ms, with_analysis};

use crate::{
    Args,
    baseline::{Pgbench, RpcSql},
    loads::{Activations, MonthlyRun},
    scale::Scale,
    scale_report,
};

/// What one run measured.
pub struct Figures {
    pub pgbench: Pgbench,
    pub activations: Activations,
    pub eligibility: Measured,
    pub eligibility_cpu: String,
    pub run: MonthlyRun,
    pub rpc_sql: RpcSql,
}

/// The report of `figures`, followed by the analysis of the report at
/// `args.out`, if it has one.
pub fn render(args: &Args, figures: &Figures) -> String {
    let Figures {
        pgbench,
        activations,
        eligibility,
        eligibility_cpu,
        run,
        rpc_sql,
    } = figures;
    let mut report = String::new();
    let _ = writeln!(report, "# Benchmarks\n");
    let _ = writeln!(
        report,
        "Measured by `deploy/bench.sh` on {}, {}.",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        machine::describe()
    );
    let _ = writeln!(
        report,
        "Everything on one machine: Postgres, the four services (release builds) and the load generator. {} concurrent clients for pgbench and for every gRPC load; timed loads run {} s.\n",
        args.clients, args.seconds
    );
    let _ = writeln!(
        report,
        "| what | RPC/s or rows/s | p50 ms | p99 ms | baseline | ratio | target |"
    );
    let _ = writeln!(report, "|---|---:|---:|---:|---|---:|---|");
    let row = |report: &mut String,
               what: &str,
               m: &Measured,
               base_name: &str,
               base: f64,
               target: &str| {
        let _ = writeln!(
            report,
            "| {what} | {:.0} | {} | {} | {base_name} {base:.0} | {:.2} | {target} |",
            m.per_second(),
            ms(m.p50),
            ms(m.p99),
            m.per_second() / base
        );
    };
    row(
        &mut report,
        &format!(
            "bank-outlet activation ({} fresh cards)",
            activations.full.calls
        ),
        &activations.full,
        "pgbench TPC-B tps",
        pgbench.tpcb,
        "≥ 0.75",
    );
    let _ = writeln!(
        report,
        "| activation at half load ({:.0}/s, open loop) | {:.0} | {} | {} | | | p99 ≤ 10 ms |",
        activations.full.per_second() / 2.0,
        activations.half.per_second(),
        ms(activations.half.p50),
        ms(activations.half.p99)
    );
    row(
        &mut report,
        "eligibility (HIS/POS)",
        eligibility,
        "pgbench select-only tps",
        pgbench.select_only,
        "≥ 0.4, p99 ≤ 5 ms",
    );
    row(
        &mut report,
        "replay of answered activations",
        &activations.replay,
        "first activation RPC/s",
        activations.full.per_second(),
        "≥ 1.0",
    );
    let _ = writeln!(
        report,
        "| monthly run, {} persons ({} ledger rows, {:.1} s) | {:.0} | | | COPY rows/s {:.0} | {:.2} | ≥ 0.5 |",
        args.run_persons,
        run.entries,
        run.seconds,
        run.rows_per_second,
        run.copy_rows_per_second,
        run.rows_per_second / run.copy_rows_per_second
    );
    let _ = writeln!(
        report,
        "\nErrors: activation {}, half load {}, replay {}, eligibility {}.",
        activations.full.errors,
        activations.half.errors,
        activations.replay.errors,
        eligibility.errors
    );
    rpc_sql_table(&mut report, activations, eligibility, rpc_sql);
    let _ = writeln!(
        report,
        "\n## Where the CPU goes\n\nCPU milliseconds per call, by process, read from /proc around each load \
         (2 cores: at most 2,000 CPU ms per second in all).\n"
    );
    let _ = writeln!(report, "- activation: {}", activations.cpu);
    let _ = writeln!(report, "- eligibility: {eligibility_cpu}");
    let _ = writeln!(report, "- monthly run (whole run, ms): {}", run.cpu);
    let _ = writeln!(
        report,
        "- activation's own SQL in pgbench: {}",
        rpc_sql.activation.cpu
    );
    let _ = writeln!(
        report,
        "- eligibility's own SQL in pgbench: {}",
        rpc_sql.eligibility.cpu
    );
    let _ = writeln!(
        report,
        "- replay's own SQL in pgbench: {}",
        rpc_sql.replay.cpu
    );
    // The scale mode's section and the hand-written analysis below the
    // figures survive a new run.
    report.push_str(&scale_section(&args.out));
    with_analysis(report, &args.out)
}

/// Where the scale mode's section of the report begins.
const SCALE: &str = "\n## Scale mode";

/// The scale mode's section (from [`SCALE`] to [`ANALYSIS`]) of the report
/// at `out`, if it has one.
fn scale_section(out: &Path) -> String {
    let Ok(previous) = std::fs::read_to_string(out) else {
        return String::new();
    };
    let Some(from) = previous.find(SCALE) else {
        return String::new();
    };
    let to = previous[from..]
        .find(ANALYSIS)
        .map_or(previous.len(), |at| from + at);
    previous[from..to].to_owned()
}

/// The report at `args.out` with its scale section replaced by `runs`'
/// (the default mode's figures above it and the analysis below kept).
pub fn scale(args: &Args, runs: &[Scale]) -> String {
    let previous = std::fs::read_to_string(&args.out).unwrap_or_default();
    let end_of_figures = [previous.find(SCALE), previous.find(ANALYSIS)]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(previous.len());
    let mut report = if previous.is_empty() {
        "# Benchmarks\n".to_owned()
    } else {
        previous[..end_of_figures].to_owned()
    };
    report.push_str(&scale_report::render(args, runs));
    with_analysis(report, &args.out)
}

/// Each RPC beside pgbench running its own SQL (`deploy/pgbench/<rpc>.sql`).
fn rpc_sql_table(
    report: &mut String,
    activations: &Activations,
    eligibility: &Measured,
    rpc_sql: &RpcSql,
) {
    let _ = writeln!(
        report,
        "\nEach RPC against pgbench running its own SQL (`deploy/pgbench/<rpc>.sql`: the same statements, transactions and commits), same clients:\n"
    );
    let _ = writeln!(
        report,
        "| RPC | RPC/s | its own SQL in pgbench, tps | ratio |"
    );
    let _ = writeln!(report, "|---|---:|---:|---:|");
    for (what, rpc, sql) in [
        (
            "bank-outlet activation",
            &activations.full,
            &rpc_sql.activation,
        ),
        ("eligibility (HIS/POS)", eligibility, &rpc_sql.eligibility),
        (
            "replay of answered activations",
            &activations.replay,
            &rpc_sql.replay,
        ),
    ] {
        let _ = writeln!(
            report,
            "| {what} | {:.0} | {:.0} | {:.2} |",
            rpc.per_second(),
            sql.tps,
            rpc.per_second() / sql.tps
        );
    }
}

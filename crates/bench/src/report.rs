//! BENCHMARKS.md: the figures of this run side by side with their
//! baselines and targets, and where the CPU went; the hand-written analysis
//! below them is kept.

use std::{fmt::Write as _, path::Path};

use socsec_bench::{ANALYSIS, load::Measured, machine, ms, with_analysis};

use crate::{
    Args,
    baseline::{Pgbench, RpcSql},
    capacity::{Flood, Overload},
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
    /// Eligibility at half the rate it reached (open loop).
    pub eligibility_half: Measured,
    /// CPU ms per second by process with no call made.
    pub idle: String,
    /// The health check: the RPC path with no database work.
    pub rpc_path: Measured,
    pub overload: Overload,
    pub flood: Flood,
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
        eligibility_half,
        idle,
        rpc_path,
        overload,
        flood,
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
        "≥ 0.4",
    );
    let _ = writeln!(
        report,
        "| activation at half load ({:.0}/s, open loop) | {:.0} | {} | {} | | | p99 ≤ 15 ms |",
        activations.full.per_second() / 2.0,
        activations.half.per_second(),
        ms(activations.half.p50),
        ms(activations.half.p99)
    );
    row(
        &mut report,
        "eligibility (HIS/POS)",
        eligibility,
        "pgbench audited read tps",
        pgbench.audited_read,
        "≥ 0.6",
    );
    row(
        &mut report,
        "eligibility (HIS/POS), against select-only",
        eligibility,
        "pgbench select-only tps",
        pgbench.select_only,
        "",
    );
    let _ = writeln!(
        report,
        "| eligibility at half load ({:.0}/s, open loop) | {:.0} | {} | {} | | | p99 ≤ 5 ms |",
        eligibility.per_second() / 2.0,
        eligibility_half.per_second(),
        ms(eligibility_half.p50),
        ms(eligibility_half.p99)
    );
    row(
        &mut report,
        "RPC path alone (health check at activation)",
        rpc_path,
        "eligibility RPC/s",
        eligibility.per_second(),
        "",
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
    let _ = writeln!(
        report,
        "\npgbench on the same server, same clients: TPC-B {:.0} tps, select-only {:.0} tps, audited read (one primary-key read and one audit insert in one statement, autocommitted) {:.0} tps.",
        pgbench.tpcb, pgbench.select_only, pgbench.audited_read
    );
    rpc_sql_table(&mut report, activations, eligibility, rpc_sql);
    postgres_table(
        &mut report,
        &[
            (
                "bank-outlet activation",
                &activations.cpu,
                &rpc_sql.activation.cpu,
            ),
            (
                "eligibility (HIS/POS)",
                eligibility_cpu,
                &rpc_sql.eligibility.cpu,
            ),
        ],
    );
    overload_section(&mut report, eligibility, overload);
    flood_section(&mut report, flood);
    let _ = writeln!(
        report,
        "\n## Where the CPU goes\n\nCPU milliseconds per call, by process, read from /proc around each load \
         (2 cores: at most 2,000 CPU ms per second in all).\n"
    );
    let _ = writeln!(
        report,
        "- idle, CPU ms per second (no call made; target under 10, 1 % of a core, in all): {idle}"
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

/// Postgres' CPU per call under the services beside the same statements
/// alone in pgbench.
fn postgres_table(report: &mut String, rows: &[(&str, &String, &String)]) {
    let _ = writeln!(
        report,
        "\nPostgres CPU per call under the services against the same statements alone in pgbench (target ≤ 1.5×):\n"
    );
    let _ = writeln!(
        report,
        "| RPC | under the services, ms | its SQL alone, ms | ratio |"
    );
    let _ = writeln!(report, "|---|---:|---:|---:|");
    for (what, services, alone) in rows {
        let (Some(services), Some(alone)) = (postgres_ms(services), postgres_ms(alone)) else {
            continue;
        };
        let _ = writeln!(
            report,
            "| {what} | {services:.3} | {alone:.3} | {:.2} |",
            services / alone
        );
    }
}

/// The postgres figure of a `cpu_per_call` line.
fn postgres_ms(cpu: &str) -> Option<f64> {
    cpu.split(", ")
        .find_map(|part| part.strip_prefix("postgres "))
        .and_then(|ms| ms.parse().ok())
}

fn overload_section(report: &mut String, capacity: &Measured, o: &Overload) {
    let _ = writeln!(
        report,
        "\n## Overload\n\nEligibility offered {:.0} RPC/s ({:.1}× the {:.0} RPC/s it reached) for {} s, open loop, each call with a 5 s deadline. Targets: goodput ≥ 80 % of capacity, p99 of admitted calls ≤ 10× the unloaded p99, recovery within 1 s.\n",
        o.offered_per_second,
        o.offered_per_second / capacity.per_second(),
        capacity.per_second(),
        o.seconds
    );
    let _ = writeln!(
        report,
        "| goodput, RPC/s | of capacity | p50 ms | p99 ms of answered | refused within 10 ms | recovery ms |"
    );
    let _ = writeln!(report, "|---:|---:|---:|---:|---:|---:|");
    let refused: usize = o.refused.values().sum();
    let _ = writeln!(
        report,
        "| {:.0} | {:.2} | {} | {} | {} of {refused} | {} |",
        o.goodput,
        o.goodput / capacity.per_second(),
        ms(o.answered.p50),
        ms(o.answered.p99),
        o.refused_at_once,
        ms(o.recovery)
    );
    let refusals = o
        .refused
        .iter()
        .map(|(what, n)| format!("{what} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(report, "\nNot answered OK, by code/reason: {refusals}.");
}

fn flood_section(report: &mut String, f: &Flood) {
    let _ = writeln!(
        report,
        "\n## Sign-in flood\n\n{:.0} wrong sign-ins per second for {} s through the portal's certificate, from 160 browser addresses, each of another ID number (every one judged), while a hospital checks eligibility, a bank outlet repeats its activations and a signed-in person lists their cards (each one client, closed loop). Targets: the partners' p99 ≤ 100 ms, no person's call fails.\n",
        f.sign_ins_per_second, f.seconds
    );
    let _ = writeln!(
        report,
        "| during the flood | calls/s | p50 ms | p99 ms | errors |"
    );
    let _ = writeln!(report, "|---|---:|---:|---:|---:|");
    for (who, m) in [
        ("hospital: CheckEligibility", &f.hospital),
        ("bank outlet: ActivateAtBankOutlet, repeated", &f.bank),
        ("person: ListPersonCards (session checked)", &f.person),
    ] {
        let _ = writeln!(
            report,
            "| {who} | {:.0} | {} | {} | {} |",
            m.per_second(),
            ms(m.p50),
            ms(m.p99),
            m.errors
        );
    }
    let outcomes = f
        .sign_ins
        .iter()
        .map(|(what, n)| format!("{what} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(report, "\nThe sign-ins' answers: {outcomes}.");
}

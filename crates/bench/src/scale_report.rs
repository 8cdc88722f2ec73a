//! The scale mode's section of BENCHMARKS.md: a line comparing the N's,
//! then a section per N (import against COPY, the timed loads, table and
//! index sizes, bytes per person).

use std::fmt::Write as _;

use socsec_bench::{load::Measured, machine, ms};

use crate::{Args, scale::Scale};

fn mb(bytes: i64) -> String {
    format!("{:.1}", bytes as f64 / 1e6)
}

/// `a / b` and whether it is within 20 % of 1.
fn ratio(a: f64, b: f64) -> String {
    let r = a / b;
    let verdict = if (0.8..=1.25).contains(&r) {
        "within 20 %"
    } else {
        "**not** within 20 %"
    };
    format!("{r:.2} ({verdict})")
}

pub fn render(args: &Args, runs: &[Scale]) -> String {
    let mut r = String::new();
    let _ = writeln!(r, "\n## Scale mode\n");
    let ns: Vec<String> = runs.iter().map(|s| s.persons.to_string()).collect();
    let _ = writeln!(
        r,
        "Measured by `deploy/bench.sh --persons {}` on {}, {}. For each N, in a fresh database \
         with the services running: a province of N persons (each with one card received \
         inside the activation window, every other one activated in the old system, an \
         old-age enrolment and two months of declared wages) generated to a file and loaded \
         through the import RPCs by the loader `socsec import` uses (batches of 500, 4 in \
         flight); the first month's run (history); then bank-outlet activation of imported \
         fresh cards, eligibility of imported active cards (both sampled across the whole \
         file) and the second month's run. {} clients, timed loads {} s. The database is \
         dropped after each N.\n",
        ns.join(","),
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        machine::describe(),
        args.clients,
        args.seconds
    );
    let _ = write!(r, "| | ");
    let _ = writeln!(
        r,
        "{} | largest / smallest |",
        ns.join(" persons | ") + " persons"
    );
    let _ = writeln!(r, "|---|{}---:|", "---:|".repeat(runs.len()));
    let line = |r: &mut String, what: &str, f: &dyn Fn(&Scale) -> f64, judge: bool| {
        let values: Vec<f64> = runs.iter().map(f).collect();
        let cells: Vec<String> = values.iter().map(|v| format!("{v:.0}")).collect();
        let (first, last) = (values[0], values[values.len() - 1]);
        let compare = if judge {
            ratio(last, first)
        } else {
            format!("{:.2}", last / first)
        };
        let _ = writeln!(r, "| {what} | {} | {compare} |", cells.join(" | "));
    };
    line(
        &mut r,
        "import, records/s",
        &|s| s.records as f64 / s.load_seconds,
        false,
    );
    line(
        &mut r,
        "eligibility, RPC/s",
        &|s| s.eligibility.per_second(),
        true,
    );
    line(
        &mut r,
        "bank-outlet activation, RPC/s",
        &|s| s.activations.full.per_second(),
        true,
    );
    line(
        &mut r,
        "monthly run, rows/s",
        &|s| s.run.rows_per_second,
        true,
    );
    line(
        &mut r,
        "table bytes per person",
        &|s| s.tables.iter().map(|t| t.total).sum::<i64>() as f64 / s.persons as f64,
        false,
    );
    for s in runs {
        section(&mut r, s);
    }
    r
}

fn section(r: &mut String, s: &Scale) {
    let p = &s.province;
    let _ = writeln!(r, "\n### {} persons\n", s.persons);
    let _ = writeln!(
        r,
        "Province file: {} records ({} persons, {} cards, {} enrolments, {} wages), {} MB.\n",
        p.records(),
        p.persons,
        p.cards,
        p.enrolments,
        p.wages,
        mb(s.file_bytes as i64)
    );
    let c = &s.copy;
    let _ = writeln!(
        r,
        "| what | rate | p50 ms | p99 ms | errors | baseline | ratio |"
    );
    let _ = writeln!(r, "|---|---:|---:|---:|---:|---|---:|");
    let _ = writeln!(
        r,
        "| import: {} records in {:.1} s ({} rejected) | {:.0} records/s = {:.0} table rows/s | | | | COPY of the same {} rows, {:.1} s: {:.0} rows/s | {:.2} |",
        s.records,
        s.load_seconds,
        s.rejected,
        s.records as f64 / s.load_seconds,
        c.rows as f64 / s.load_seconds,
        c.rows,
        c.seconds,
        c.rows as f64 / c.seconds,
        c.seconds / s.load_seconds
    );
    let timed = |r: &mut String, what: &str, m: &Measured| {
        let _ = writeln!(
            r,
            "| {what} | {:.0} RPC/s | {} | {} | {} | | |",
            m.per_second(),
            ms(m.p50),
            ms(m.p99),
            m.errors
        );
    };
    timed(
        r,
        &format!(
            "bank-outlet activation ({} imported fresh cards)",
            s.activations.full.calls
        ),
        &s.activations.full,
    );
    timed(
        r,
        "activation at half load (open loop)",
        &s.activations.half,
    );
    timed(r, "eligibility of imported active cards", &s.eligibility);
    for (what, run) in [
        ("first month (history)", &s.history),
        ("second month", &s.run),
    ] {
        let _ = writeln!(
            r,
            "| monthly run, {what}: {} ledger rows in {:.1} s | {:.0} rows/s | | | | COPY {:.0} rows/s | {:.2} |",
            run.entries,
            run.seconds,
            run.rows_per_second,
            run.copy_rows_per_second,
            run.rows_per_second / run.copy_rows_per_second
        );
    }
    let _ = writeln!(
        r,
        "\nCOPY went into copies of {} (`LIKE … INCLUDING ALL`, none of them partitioned); the \
         import also wrote outbox events, audit entries and stored answers, which are not \
         copied. CPU ms per call: activation {}; eligibility {}; second month's run (whole \
         run) {}.\n",
        c.tables.join(", "),
        s.activations.cpu,
        s.eligibility_cpu,
        s.run.cpu
    );
    let total: i64 = s.tables.iter().map(|t| t.total).sum();
    let _ = writeln!(r, "| table | rows | total MB | of which indexes MB |");
    let _ = writeln!(r, "|---|---:|---:|---:|");
    let (mut rest, mut rest_tables) = (0i64, 0);
    for t in &s.tables {
        if t.total * 100 < total {
            rest += t.total;
            rest_tables += 1;
            continue;
        }
        let _ = writeln!(
            r,
            "| {}{} | {} | {} | {} |",
            t.name,
            if t.partitioned {
                " (partitioned, summed)"
            } else {
                ""
            },
            t.rows,
            mb(t.total),
            mb(t.indexes)
        );
    }
    let _ = writeln!(r, "| {rest_tables} smaller tables | | {} | |", mb(rest));
    let per_person = total as f64 / s.persons as f64;
    let _ = writeln!(
        r,
        "\nTables {} MB (database {} MB, with the catalogue and empty tables): {:.0} bytes \
         of tables per person (two months of ledger). Linearly: {:.1} GB at 1,000,000 \
         persons, {:.1} GB at 10,000,000.",
        mb(total),
        mb(s.database_bytes),
        per_person,
        per_person * 1e6 / 1e9,
        per_person * 1e7 / 1e9
    );
}

//! `socsec import`: an operator loads a province's existing records
//! (see `socsec_fixtures::province` for the file format), or generates a
//! synthetic province file to try it with.

// Rates of records per second, never money.
#![allow(clippy::float_arithmetic)]

use std::path::PathBuf;

use clap::{Args, Subcommand};
use socsec_fixtures::province::{self, Load, Progress};

use crate::{
    connection::{Connection, Failure, Outcome},
    output::Printer,
};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ImportCommand {
    #[command(subcommand)]
    pub action: Option<ImportAction>,
    /// The province file (JSON Lines: one record a line, with its `kind`:
    /// person, card, old_medical_card, enrolment, wage). Persons are loaded
    /// first, then cards, old medical cards, enrolments and wages; the file
    /// is read once per kind, a batch at a time.
    pub file: Option<PathBuf>,
    /// Records per batch (at most 1000).
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
    /// Batches in flight at once.
    #[arg(long, default_value_t = 4)]
    pub in_flight: usize,
    /// Where acknowledged batches are recorded (default `<file>.checkpoint`);
    /// a run finding one resumes after the batches it lists.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Ignore (and replace) an existing checkpoint: send every batch again
    /// (records already imported are reported as such and change nothing).
    #[arg(long)]
    pub fresh: bool,
}

#[derive(Subcommand)]
pub enum ImportAction {
    /// Writes a synthetic province file, a line at a time: persons, cards in
    /// every state with past receipt dates, old medical cards, enrolments
    /// (employees of EMP-1 to EMP-4, every fifth person flexible), three
    /// months of declared wages, and (with --bad-lines) a few deliberately
    /// bad lines.
    Generate {
        #[arg(long)]
        persons: u64,
        /// Where the file goes.
        #[arg(long)]
        out: PathBuf,
        /// The first person's place among the fixtures' ID numbers.
        #[arg(long, default_value_t = 0)]
        first: u64,
        #[arg(long)]
        bad_lines: bool,
    },
}

pub async fn import(c: &Connection, command: ImportCommand, out: Printer) -> Outcome {
    if let Some(ImportAction::Generate {
        persons,
        out: path,
        first,
        bad_lines,
    }) = command.action
    {
        let spec = province::Spec {
            bad_lines,
            ..province::Spec::new(persons, first, chrono::Utc::now())
        };
        let p = std::fs::File::create(&path)
            .and_then(|file| province::write(file, &spec))
            .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
        out.line(&format!(
            "{} lines: {} persons, {} cards, {} old medical cards, {} enrolments, {} wages, {} bad",
            p.records() + p.bad.len(),
            p.persons,
            p.cards,
            p.old_medical_cards,
            p.enrolments,
            p.wages,
            p.bad.len()
        ));
        return Ok(());
    }
    let file = command
        .file
        .ok_or_else(|| Failure::Usage("give the province file to import".into()))?;
    let mut load = Load::new(&file);
    load.batch = command.batch;
    load.in_flight = command.in_flight;
    if let Some(checkpoint) = command.checkpoint {
        load.checkpoint = checkpoint;
    }
    if command.fresh {
        let _ = std::fs::remove_file(&load.checkpoint);
    }
    let clients = province::Clients {
        identity: c.identity().await?,
        cards: c.cards().await?,
        contribution: c.contribution().await?,
    };
    let mut last_report = std::time::Instant::now();
    let summary = province::load(clients, c, &load, |progress| match progress {
        Progress::Rejected(r) => {
            if out.json {
                println!("{}", serde_json::json!({"rejected": r}));
            } else {
                let kind = r.kind.map_or("line", |k| k.name());
                println!("line {}: {kind} rejected: {} {}", r.line, r.field, r.reason);
            }
        }
        Progress::Batch {
            kind,
            sent,
            per_second,
        } => {
            if last_report.elapsed().as_secs() >= 1 {
                last_report = std::time::Instant::now();
                eprintln!("{}: {sent} records, {per_second:.0} records/s", kind.name());
            }
        }
    })
    .await
    .map_err(|e| Failure::Usage(format!("import stopped: {e} (run again to resume)")))?;
    let cp = &summary.checkpoint;
    let rate = summary.sent as f64 / summary.seconds.max(1e-9);
    if out.json {
        println!(
            "{}",
            serde_json::json!({
                "imported": cp.imported, "already_imported": cp.already_imported,
                "rejected": cp.rejected, "sent": summary.sent,
                "seconds": summary.seconds, "records_per_second": rate,
            })
        );
    } else {
        for (k, kind) in province::Kind::ORDER.iter().enumerate() {
            println!(
                "{}: {} imported, {} already imported, {} rejected",
                kind.name(),
                cp.imported[k],
                cp.already_imported[k],
                cp.rejected[k]
            );
        }
        println!(
            "{} records sent in {:.1} s ({rate:.0} records/s)",
            summary.sent, summary.seconds
        );
    }
    Ok(())
}

//! The commands, each one RPC (or a short sequence for `demo`), grouped by
//! the part of the system they speak to.

mod activation;
mod audit;
mod cards;
mod certs;
mod contribution;
mod ecard;
mod identity;
mod import;
mod partners;
mod payments;
mod pins;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use socsec_proto::common::v1 as common;

pub use self::{
    activation::ActivateCommand, cards::CardCommand, contribution::ContributionCommand,
    ecard::EcardCommand, identity::PersonCommand, partners::PartnerCommand,
};
use crate::{
    connection::{Connection, Failure, Outcome},
    output::Printer,
};

#[derive(Subcommand)]
pub enum Command {
    /// Persons' basic information and online password.
    #[command(subcommand)]
    Person(PersonCommand),
    /// Partner registry.
    #[command(subcommand)]
    Partner(PartnerCommand),
    /// Cards: apply, issue, receive, lose, replace, cancel, look up; PINs.
    #[command(subcommand)]
    Card(CardCommand),
    /// Electronic cards: issue one for a received card, get a QR token.
    #[command(subcommand)]
    Ecard(EcardCommand),
    /// Activate a card through a channel (call `--as` the partner).
    #[command(subcommand)]
    Activate(ActivateCommand),
    /// Whether a card or an old medical insurance card is usable now.
    Eligibility {
        #[arg(long, conflicts_with_all = ["legacy", "ecard_token"])]
        card: Option<String>,
        #[arg(long)]
        code: Option<String>,
        #[arg(long, conflicts_with = "ecard_token")]
        legacy: Option<String>,
        /// An e-card QR token (from `ecard token`), in place of the card.
        #[arg(long)]
        ecard_token: Option<String>,
    },
    /// Received cards whose activation deadline is near.
    Deadlines {
        #[arg(long, default_value_t = 30)]
        within_days: i32,
    },
    /// Contributions: rates, enrolment, wages, the monthly run, bills, payments, statements.
    #[command(subcommand)]
    Contribution(ContributionCommand),
    /// The audit trail of a person's data, from all four services.
    Audit {
        #[arg(long)]
        person_id: String,
    },
    /// Makes development certificates in the `--certs` directory: the partner
    /// CA and the internal CA (their keys in `--ca-keys`), a revocation list
    /// for each, one certificate per service, one per demo partner and
    /// operator OP0001 (what is there is kept); `certs revoke` revokes one.
    Certs {
        #[command(subcommand)]
        action: Option<certs::CertsAction>,
        /// Also issue a certificate for this caller, KIND:CODE (e.g. a partner
        /// registered later), from the CA for its kind.
        #[arg(long)]
        issue: Option<String>,
        /// More host names or addresses the services' certificates are valid for.
        #[arg(long)]
        host: Vec<String>,
    },
    /// Imports a province's existing records from a file (operators), or
    /// generates a synthetic one (`import generate`).
    Import(import::ImportCommand),
    /// Registers the demo partners and this year's rates for region 110100 (idempotent).
    SeedDemo,
    /// Walks journeys 1, 3 and 7 of the seed against the running system.
    Demo,
}

pub async fn run(c: &Connection, command: Command, out: Printer) -> Outcome {
    match command {
        Command::Person(command) => identity::person(c, command, out).await,
        Command::Partner(command) => partners::partner(c, command, out).await,
        Command::Card(command) => cards::cards(c, command, out).await,
        Command::Ecard(command) => ecard::ecard(c, command, out).await,
        Command::Activate(command) => activation::activate(c, command, out).await,
        Command::Eligibility {
            card,
            code,
            legacy,
            ecard_token,
        } => {
            let shown = activation::Shown {
                card,
                code,
                legacy,
                ecard_token,
            };
            activation::eligibility(c, shown, out).await
        }
        Command::Deadlines { within_days } => activation::deadlines(c, within_days, out).await,
        Command::Contribution(command) => contribution::contributions(c, command, out).await,
        Command::Audit { person_id } => audit::trail(c, person_id, out).await,
        Command::Certs {
            action: Some(certs::CertsAction::Revoke { caller }),
            ..
        } => certs::revoke(c, &caller),
        Command::Certs {
            action: None,
            issue,
            host,
        } => certs::make(c, issue, &host),
        Command::Import(command) => import::import(c, command, out).await,
        Command::SeedDemo => crate::demo::seed(c, out).await,
        Command::Demo => crate::demo::journeys(c, out).await,
    }
}

// A plain comment, not a doc comment: clap would show a doc comment here as
// the description of every subcommand that flattens this in.
#[derive(Args, Clone)]
pub struct RequestIdArg {
    /// Your transaction serial; a retry with the same one returns the first answer.
    #[arg(long)]
    pub request_id: Option<String>,
}

impl RequestIdArg {
    /// The request id given, or a fresh one.
    pub fn get(&self) -> String {
        self.request_id
            .clone()
            .unwrap_or_else(|| format!("cli-{}", uuid::Uuid::now_v7()))
    }
}

// Where a password comes from: never the command line, which every user of
// the machine can read (`ps`). A plain comment, as for RequestIdArg.
#[derive(Args, Clone)]
pub struct PasswordArg {
    /// Read the password from this file (its first line); otherwise from
    /// SOCSEC_PASSWORD, otherwise asked for on the terminal without echo.
    #[arg(long)]
    pub password_file: Option<std::path::PathBuf>,
}

impl PasswordArg {
    /// The password, from the file, the environment or the terminal.
    pub fn read(&self) -> Result<String, Failure> {
        let password = if let Some(path) = &self.password_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Failure::Usage(format!("--password-file {}: {e}", path.display())))?;
            text.lines().next().unwrap_or_default().to_owned()
        } else if let Ok(password) = std::env::var("SOCSEC_PASSWORD") {
            password
        } else {
            rpassword::prompt_password("password: ").map_err(|e| {
                Failure::Usage(format!(
                    "no password: give --password-file or SOCSEC_PASSWORD, or run on a terminal ({e})"
                ))
            })?
        };
        Ok(password)
    }
}

/// A month, as `YYYY-MM`.
fn month(value: &str) -> Result<common::YearMonth, Failure> {
    value
        .split_once('-')
        .and_then(|(y, m)| {
            Some(common::YearMonth {
                year: y.parse().ok()?,
                month: m.parse().ok()?,
            })
        })
        .ok_or_else(|| Failure::Usage(format!("`{value}` is not a month (YYYY-MM)")))
}

/// A date, as `YYYY-MM-DD`.
fn date(value: &str) -> Result<common::Date, Failure> {
    use chrono::Datelike;
    let d = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| Failure::Usage(format!("`{value}` is not a date (YYYY-MM-DD)")))?;
    Ok(common::Date {
        year: d.year(),
        month: d.month() as i32,
        day: d.day() as i32,
    })
}

/// An amount in yuan, as `1234.56`, in fen.
fn fen(value: &str) -> Result<i64, Failure> {
    let bad = || Failure::Usage(format!("`{value}` is not an amount in yuan (like 1234.56)"));
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if fraction.len() > 2 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let fraction: i64 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
    whole
        .checked_mul(100)
        .and_then(|w| {
            if whole < 0 {
                w.checked_sub(fraction)
            } else {
                w.checked_add(fraction)
            }
        })
        .ok_or_else(bad)
}

/// A progress bar of `unit`s for a streamed answer (hidden with `--json`).
fn progress_bar(out: Printer, unit: &str) -> ProgressBar {
    if out.json {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) =
        ProgressStyle::with_template(&format!("{{bar:40}} {{pos}}/{{len}} {unit} {{elapsed}}"))
    {
        bar.set_style(style);
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_amounts_parse_exactly() {
        assert_eq!(fen("1234.56").ok(), Some(123_456));
        assert_eq!(fen("8000").ok(), Some(800_000));
        assert_eq!(fen("0.5").ok(), Some(50));
        assert!(fen("1.234").is_err());
        assert!(fen("abc").is_err());
    }

    #[test]
    fn months_parse() {
        assert_eq!(
            month("2026-01").ok(),
            Some(common::YearMonth {
                year: 2026,
                month: 1
            })
        );
        assert!(month("202601").is_err());
    }
}

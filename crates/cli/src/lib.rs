//! `socsec`: a command-line client of the four services, for bureau
//! operators and for partners testing their integration.
//!
//! Service addresses come from `--identity`, `--cards`, `--activation`,
//! `--contribution` (or `SOCSEC_*_URL`); the caller from `--as KIND:CODE`,
//! whose certificate is read from `--certs DIR` (mutual TLS), or `--token`
//! (a person signed in online).
//! Every mutating command takes `--request-id` (default: a fresh one).
//!
//! A library as well as a binary, so that its tests can walk the command
//! tree ([`Cli`]).

pub mod commands;
mod connection;
mod demo;
mod output;

use std::process::ExitCode;

use clap::Parser;

pub use connection::{Connection, Failure, Outcome};

#[derive(Parser)]
#[command(
    name = "socsec",
    version,
    about = "Command-line client of the socsec services"
)]
pub struct Cli {
    #[command(flatten)]
    pub connection: Connection,
    /// Print proto3 JSON instead of readable text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: commands::Command,
}

/// Runs the command, prints its answer or its failure, and gives the exit
/// code for it.
pub async fn run(cli: Cli) -> ExitCode {
    let printer = output::Printer { json: cli.json };
    match commands::run(&cli.connection, cli.command, printer).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Call(status)) => output::failure(&status, cli.json),
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

//! `socsec`: a command-line client of the four services, for bureau
//! operators and for partners testing their integration.
//!
//! Service addresses come from `--identity`, `--cards`, `--activation`,
//! `--contribution` (or `SOCSEC_*_URL`); the caller from `--as KIND:CODE`,
//! whose certificate is read from `--certs DIR` (mutual TLS), or `--token`
//! (a person signed in online).
//! Every mutating command takes `--request-id` (default: a fresh one).

mod commands;
mod demo;
mod output;

use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "socsec",
    version,
    about = "Command-line client of the socsec services"
)]
pub struct Cli {
    #[command(flatten)]
    pub connection: commands::Connection,
    /// Print proto3 JSON instead of readable text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: commands::Command,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let printer = output::Printer { json: cli.json };
    match commands::run(&cli.connection, cli.command, printer).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(commands::Failure::Call(status)) => output::failure(&status, cli.json),
        Err(commands::Failure::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

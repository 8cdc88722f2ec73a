//! The `socsec` binary: see the library (`socsec_cli`) for what it does.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    socsec_cli::run(socsec_cli::Cli::parse()).await
}

//! What the benchmark (`socsec-bench`) and the fault-injection suite
//! (`socsec-faults`) share: the services started as processes over mutual
//! TLS, persons with received cards, load generators, what machine this
//! is, and reports whose hand-written analysis survives a new run.

// Rates and durations are measurements, not money: floating point is right here.
#![allow(clippy::float_arithmetic)]

pub mod load;
pub mod machine;
pub mod prepare;
pub mod services;

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

/// Milliseconds with two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// Where the system runs: a Postgres server and the services' binaries.
#[derive(clap::Args)]
pub struct Target {
    /// A Postgres server whose user may create databases.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
    /// Where the release binaries of the services are.
    #[arg(long, default_value = "target/release")]
    pub bin_dir: PathBuf,
}

impl Target {
    /// A fresh database `<prefix>_<UTC time>` on the server; its URL.
    pub async fn fresh_database(&self, prefix: &str) -> String {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&self.database_url)
            .await
            .expect("connect to Postgres");
        let name = format!("{prefix}_{}", chrono::Utc::now().format("%Y%m%d%H%M%S"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        format!("{}/{name}", self.database_url.rsplit_once('/').unwrap().0)
    }
}

/// The heading below which a generated report holds hand-written analysis.
pub const ANALYSIS: &str = "\n## Analysis";

/// `generated`, followed by the hand-written analysis of the report now at
/// `out` (from its [`ANALYSIS`] heading on), if it has one.
pub fn with_analysis(mut generated: String, out: &Path) -> String {
    if let Ok(previous) = std::fs::read_to_string(out)
        && let Some(at) = previous.find(ANALYSIS)
    {
        generated.push_str(&previous[at..]);
    }
    generated
}

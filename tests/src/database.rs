//! A fresh database per test on the Postgres that `deploy/test.sh` started,
//! dropped when the test is over.

use std::time::Duration;

use sqlx::{Connection, PgConnection};

/// The server that `deploy/test.sh` started (or the one `DATABASE_URL` names).
pub fn admin_url() -> String {
    std::env::var("DATABASE_URL")
        .expect("DATABASE_URL is not set: run the tests with deploy/test.sh, which starts Postgres")
}

/// Creates an empty database for one test and returns its URL.
///
/// The database is dropped when the test's runtime shuts down, that is when
/// the test is over and every service it started has stopped with it (a
/// test may stop a service and start another on the same database; only the
/// end of the test ends the database).
pub async fn fresh_database() -> String {
    let admin = admin_url();
    let mut conn = PgConnection::connect(&admin)
        .await
        .expect("connect to the test Postgres");
    let name = format!("test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    // A task that never ends holds the database until the runtime drops it.
    let held = TestDatabase { name: name.clone() };
    tokio::spawn(async move {
        let _held = held;
        std::future::pending::<()>().await;
    });
    let base = admin
        .rsplit_once('/')
        .map(|(base, _)| base)
        .expect("DATABASE_URL ends in /DATABASE");
    format!("{base}/{name}")
}

/// Drops its database when dropped.
struct TestDatabase {
    name: String,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = std::mem::take(&mut self.name);
        // The test's runtime is shutting down: drop the database from a
        // thread and a runtime of its own. FORCE ends the connections the
        // services' pools still hold.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&admin_url())
                    .await
                    .map_err(|e| e.to_string())?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await
                .map_err(|e| format!("{name}: {e}"))?;
                Ok::<_, String>(())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop the test database {e}"),
            Err(_) => eprintln!("dropping a test database panicked"),
        }
    }
}

/// Whether the database of `url` exists on the test server.
pub async fn database_exists(url: &str) -> bool {
    let name = url.rsplit_once('/').map_or(url, |(_, name)| name);
    let mut conn = PgConnection::connect(&admin_url())
        .await
        .expect("connect to the test Postgres");
    sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(&mut conn)
        .await
        .expect("ask pg_database")
}

/// Cuts the database at `database_url` off from the services using it (existing sessions ended, new
/// ones refused) or lets it back in.
pub async fn cut_off(database_url: &str, cut: bool) {
    let name = database_url.rsplit('/').next().expect("database name");
    let mut admin = PgConnection::connect(&admin_url()).await.expect("admin");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE {name} ALLOW_CONNECTIONS {}",
        !cut
    )))
    .execute(&mut admin)
    .await
    .expect("alter database");
    if !cut {
        return;
    }
    // A session that was starting as the database closed is not named in
    // pg_stat_activity until its start-up ends (seen under load: the
    // service's pool then wrote through it), so sessions are ended until
    // none has appeared for a while.
    let mut quiet = 0;
    while quiet < 3 {
        let ended: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                                   WHERE datname = $1) AS ended",
        )
        .bind(name)
        .fetch_one(&mut admin)
        .await
        .expect("terminate sessions");
        quiet = if ended == 0 { quiet + 1 } else { 0 };
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_database_is_dropped_when_its_test_is_over() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let url = runtime.block_on(fresh_database());
        assert!(runtime.block_on(database_exists(&url)));
        drop(runtime);
        let after = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        assert!(!after.block_on(database_exists(&url)), "{url} is left");
    }
}

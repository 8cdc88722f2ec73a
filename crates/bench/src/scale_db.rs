//! What the scale mode asks Postgres directly: COPY of the rows the import
//! stored (the baseline its rate is set against), the tables' sizes, and
//! dropping the database afterwards.

use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use futures::StreamExt;
use sqlx::{Connection, PgConnection};

/// The tables the import writes its records to (none is partitioned, so a
/// plain `LIKE … INCLUDING ALL` copy has the same indexes and constraints).
/// Outbox events, audit entries and stored answers are not copied: they
/// are the import's overhead over COPY.
pub const IMPORTED: [&str; 7] = [
    "identity.persons",
    "identity.basic_info_versions",
    "card_issuance.cards",
    "card_issuance.card_status_history",
    "contribution.enrolments",
    "contribution.wage_declarations",
    "contribution.current_wages",
];

pub struct Copy {
    pub rows: u64,
    pub seconds: f64,
    /// The tables copied (those the import wrote rows to).
    pub tables: Vec<&'static str>,
}

/// One table (a partitioned one summed over its partitions).
pub struct TableSize {
    pub name: String,
    pub rows: i64,
    /// `pg_total_relation_size`: heap, TOAST and indexes.
    pub total: i64,
    pub indexes: i64,
    pub partitioned: bool,
}

/// COPY of the rows the import stored in [`IMPORTED`] into copies of the
/// same tables (`LIKE … INCLUDING ALL`): out to a file in `dir` first, then
/// timed in from it; the copies are dropped afterwards.
pub async fn copy_imported(url: &str, dir: &Path) -> Copy {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    let mut copy = Copy {
        rows: 0,
        seconds: 0.0,
        tables: Vec::new(),
    };
    for table in IMPORTED {
        let rows: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(&mut conn)
                .await
                .unwrap_or(0);
        if rows == 0 {
            continue;
        }
        let path: PathBuf = dir.join(format!("socsec-copy-{table}"));
        {
            let mut out = std::io::BufWriter::new(std::fs::File::create(&path).expect("copy file"));
            let mut stream = conn
                .copy_out_raw(&format!("COPY {table} TO STDOUT"))
                .await
                .expect("copy out");
            while let Some(chunk) = stream.next().await {
                std::io::Write::write_all(&mut out, &chunk.expect("copy out data"))
                    .expect("copy file written");
            }
        }
        let target = format!("{}_copy", table.replace('.', "_"));
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE TABLE public.{target} (LIKE {table} INCLUDING ALL)"
        )))
        .execute(&mut conn)
        .await
        .expect("a copy of the table");
        let started = Instant::now();
        let mut copy_in = conn
            .copy_in_raw(&format!("COPY public.{target} FROM STDIN"))
            .await
            .expect("copy in");
        let file = tokio::fs::File::open(&path).await.expect("copy file");
        copy_in.read_from(file).await.expect("copy data");
        copy.rows += copy_in.finish().await.expect("copy done");
        copy.seconds += started.elapsed().as_secs_f64();
        copy.tables.push(table);
        let _ = std::fs::remove_file(&path);
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE public.{target}")))
            .execute(&mut conn)
            .await
            .expect("drop the copy");
    }
    copy
}

/// Every table of the services' schemas, largest first (a partitioned
/// table summed over its partitions), and the database's size.
pub async fn sizes(url: &str) -> (Vec<TableSize>, i64) {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    sqlx::query("ANALYZE")
        .execute(&mut conn)
        .await
        .expect("analyze");
    let rows: Vec<(String, i64, i64, i64, bool)> = sqlx::query_as(
        "SELECT n.nspname || '.' || c.relname,
                CASE WHEN c.relkind = 'p' THEN
                  (SELECT coalesce(sum(greatest(k.reltuples, 0)), 0)
                     FROM pg_partition_tree(c.oid) t JOIN pg_class k ON k.oid = t.relid
                    WHERE t.isleaf)
                ELSE greatest(c.reltuples, 0) END::bigint,
                CASE WHEN c.relkind = 'p' THEN
                  (SELECT coalesce(sum(pg_total_relation_size(t.relid)), 0)
                     FROM pg_partition_tree(c.oid) t WHERE t.isleaf)
                ELSE pg_total_relation_size(c.oid) END::bigint,
                CASE WHEN c.relkind = 'p' THEN
                  (SELECT coalesce(sum(pg_indexes_size(t.relid)), 0)
                     FROM pg_partition_tree(c.oid) t WHERE t.isleaf)
                ELSE pg_indexes_size(c.oid) END::bigint,
                c.relkind = 'p'
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'public')
           AND n.nspname NOT LIKE 'pg_toast%'
         ORDER BY 3 DESC, 1",
    )
    .fetch_all(&mut conn)
    .await
    .expect("table sizes");
    let database: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
        .fetch_one(&mut conn)
        .await
        .expect("database size");
    let tables = rows
        .into_iter()
        .map(|(name, rows, total, indexes, partitioned)| TableSize {
            name,
            rows,
            total,
            indexes,
            partitioned,
        })
        .collect();
    (tables, database)
}

/// Drops the database at `url` once measured, so the next measurement has
/// its disk (a 10,000,000-person province is about 80 GB).
pub async fn drop_database(admin_url: &str, url: &str) {
    let name = url.rsplit_once('/').expect("a database name").1;
    let mut admin = PgConnection::connect(admin_url).await.expect("connect");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .expect("drop the database");
}

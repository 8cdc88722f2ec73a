//! Imported wage history and the regions an import names, a batch at a
//! time. (Imported enrolments are stored by `insert_enrolments`, the
//! statement `Enrol` uses.)

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::{Money, Period};

/// Which of `regions` have a rate table (are known), in one read.
pub async fn regions_known(
    executor: impl PgExecutor<'_>,
    regions: &[&str],
) -> Result<HashSet<String>, sqlx::Error> {
    if regions.is_empty() {
        return Ok(HashSet::new());
    }
    let known: Vec<String> = sqlx::query_scalar(
        "SELECT r FROM UNNEST($1::text[]) AS u(r)
         WHERE EXISTS (SELECT 1 FROM rate_tables WHERE region_code = r)",
    )
    .bind(regions)
    .fetch_all(executor)
    .await?;
    Ok(known.into_iter().collect())
}

/// One month of a person's declared wage to import.
pub struct WageRow {
    pub person_id: Uuid,
    pub period: Period,
    pub wage: Money,
}

/// Stores each row as the month's first declaration (version 1) and its
/// current wage, unless the month is declared already (`ON CONFLICT DO
/// NOTHING`: never overwritten); for each row, in order, whether it was
/// stored (of one month twice in the batch, the first).
pub async fn import_wages(
    conn: &mut PgConnection,
    rows: &[WageRow],
    by: &str,
    at: DateTime<Utc>,
    request_id: &str,
) -> Result<Vec<bool>, sqlx::Error> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let persons: Vec<Uuid> = rows.iter().map(|r| r.person_id).collect();
    let periods: Vec<NaiveDate> = rows.iter().map(|r| r.period.first_day()).collect();
    let wages: Vec<i64> = rows.iter().map(|r| r.wage.fen()).collect();
    let inserted: Vec<(Uuid, NaiveDate, i64)> = sqlx::query_as(
        "INSERT INTO wage_declarations (person_id, period, version, wage_fen, declared_by,
             declared_at, request_id)
         SELECT p, m, 1, w, $4, $5, $6
         FROM UNNEST($1::uuid[], $2::date[], $3::bigint[]) WITH ORDINALITY AS u(p, m, w, n)
         ORDER BY n
         ON CONFLICT DO NOTHING
         RETURNING person_id, period, wage_fen",
    )
    .bind(&persons)
    .bind(&periods)
    .bind(&wages)
    .bind(by)
    .bind(at)
    .bind(request_id)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO current_wages (person_id, period, wage_fen)
         SELECT * FROM UNNEST($1::uuid[], $2::date[], $3::bigint[])
         ON CONFLICT DO NOTHING",
    )
    .bind(inserted.iter().map(|r| r.0).collect::<Vec<_>>())
    .bind(inserted.iter().map(|r| r.1).collect::<Vec<_>>())
    .bind(inserted.iter().map(|r| r.2).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await?;
    // The wage each month was stored with: a repeat of a month in the
    // batch finds it taken by the first.
    let mut fresh: HashMap<(Uuid, NaiveDate), ()> =
        inserted.into_iter().map(|(p, m, _)| ((p, m), ())).collect();
    Ok(persons
        .iter()
        .zip(&periods)
        .map(|(p, m)| fresh.remove(&(*p, *m)).is_some())
        .collect())
}

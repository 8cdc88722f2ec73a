//! Imported persons, a batch at a time: one multi-row `INSERT … SELECT FROM
//! UNNEST` for the persons (a person already registered is left as it is:
//! `ON CONFLICT DO NOTHING`, so Postgres logs no ID number), one for their
//! first versions, one read for the ids of those already here.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use pii::IdNumber;
use platform::{
    audit::{self, Access},
    auth::Caller,
};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::{BasicInfoStatus, basic_info::gender_name};

pub struct ImportRow<'a> {
    pub person_id: Uuid,
    pub id_number: &'a IdNumber,
    pub info: &'a crate::domain::BasicInfo,
    pub confirmed: bool,
    pub registered_at: DateTime<Utc>,
}

/// For each row, in order: the person id its ID number has now, and whether
/// this batch registered it.
pub async fn import_persons(
    conn: &mut PgConnection,
    rows: &[ImportRow<'_>],
    by: &str,
    request_id: &str,
) -> Result<Vec<(Uuid, bool)>, sqlx::Error> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let status = |r: &ImportRow| {
        if r.confirmed {
            BasicInfoStatus::Confirmed
        } else {
            BasicInfoStatus::Unconfirmed
        }
        .as_str()
    };
    let inserted: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO persons (person_id, id_number, birth_date, region_code, version, name,
             gender, ethnicity, phone, address, status, registered_at, confirmed_at, confirmed_by)
         SELECT person_id, id_number, birth_date, region_code, 1, name, gender, ethnicity,
                phone, address, status, registered_at,
                CASE WHEN status = 'CONFIRMED' THEN registered_at END,
                CASE WHEN status = 'CONFIRMED' THEN $12 END
         FROM UNNEST($1::uuid[], $2::text[], $3::date[], $4::text[], $5::text[], $6::text[],
                     $7::text[], $8::text[], $9::text[], $10::text[], $11::timestamptz[])
              AS i(person_id, id_number, birth_date, region_code, name, gender, ethnicity,
                   phone, address, status, registered_at)
         ON CONFLICT DO NOTHING
         RETURNING person_id",
    )
    .bind(rows.iter().map(|r| r.person_id).collect::<Vec<_>>())
    .bind(
        rows.iter()
            .map(|r| r.id_number.expose())
            .collect::<Vec<_>>(),
    )
    .bind(
        rows.iter()
            .map(|r| r.id_number.birth_date())
            .collect::<Vec<_>>(),
    )
    .bind(
        rows.iter()
            .map(|r| r.id_number.region_code())
            .collect::<Vec<_>>(),
    )
    .bind(
        rows.iter()
            .map(|r| r.info.name.expose())
            .collect::<Vec<_>>(),
    )
    .bind(
        rows.iter()
            .map(|r| gender_name(r.info.gender))
            .collect::<Vec<_>>(),
    )
    .bind(
        rows.iter()
            .map(|r| r.info.ethnicity.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        rows.iter()
            .map(|r| r.info.phone.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        rows.iter()
            .map(|r| r.info.address.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(rows.iter().map(status).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.registered_at).collect::<Vec<_>>())
    .bind(by)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO basic_info_versions (person_id, version, name, gender, ethnicity, phone,
             address, changed_by, reason, evidence_ref, changed_at, request_id)
         SELECT person_id, 1, name, gender, ethnicity, phone, address, $2, 'import', '',
                registered_at, $3
         FROM persons WHERE person_id = ANY($1)",
    )
    .bind(&inserted)
    .bind(by)
    .bind(request_id)
    .execute(&mut *conn)
    .await?;
    let existing: HashMap<String, Uuid> = sqlx::query_as::<_, (String, Uuid)>(
        "SELECT id_number, person_id FROM persons WHERE id_number = ANY($1)",
    )
    .bind(
        rows.iter()
            .map(|r| r.id_number.expose())
            .collect::<Vec<_>>(),
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();
    let fresh: std::collections::HashSet<Uuid> = inserted.into_iter().collect();
    Ok(rows
        .iter()
        .map(|r| {
            let now = existing
                .get(r.id_number.expose())
                .copied()
                .unwrap_or(r.person_id);
            (now, fresh.contains(&r.person_id) && now == r.person_id)
        })
        .collect())
}

/// The registered persons among `id_numbers` (id, ID number, status), each
/// read recorded on that person's trail, in one transaction.
pub async fn lookup_persons(
    pool: &PgPool,
    id_numbers: &[IdNumber],
    caller: &Caller,
) -> Result<Vec<(Uuid, IdNumber, BasicInfoStatus)>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let found: Vec<(Uuid, IdNumber, BasicInfoStatus)> = sqlx::query_as(
        "SELECT person_id, id_number, status FROM persons WHERE id_number = ANY($1)",
    )
    .bind(id_numbers.iter().map(IdNumber::expose).collect::<Vec<_>>())
    .fetch_all(&mut *tx)
    .await?;
    let subjects: Vec<String> = found.iter().map(|(id, _, _)| id.to_string()).collect();
    audit::record_many(
        &mut tx,
        caller,
        "LookupPersons",
        Access::Read,
        &subjects,
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(found)
}

//! Persons and the versions of their basic information.

use chrono::{DateTime, NaiveDate, Utc};
use pii::{IdNumber, PersonName, RegionCode};
use platform::{
    audit::{self, Access},
    auth::Caller,
};
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

use super::columns::GenderColumn;
use crate::domain::{BasicInfo, BasicInfoStatus, Record};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PersonRow {
    pub person_id: Uuid,
    pub id_number: IdNumber,
    pub birth_date: NaiveDate,
    pub region_code: RegionCode,
    pub version: i32,
    pub name: PersonName,
    pub gender: GenderColumn,
    pub ethnicity: String,
    pub phone: String,
    pub address: String,
    pub status: BasicInfoStatus,
    pub registered_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
}

impl PersonRow {
    /// The record as confirmations and corrections see it.
    pub fn record(&self) -> Record<'_> {
        Record {
            version: self.version,
            status: self.status,
            id_number: &self.id_number,
        }
    }
}

const PERSON_COLUMNS: &str = "person_id, id_number, birth_date, region_code, version, name, \
     gender, ethnicity, phone, address, status, registered_at, confirmed_at";

pub struct NewPerson<'a> {
    pub person_id: Uuid,
    pub id_number: &'a IdNumber,
    pub info: &'a BasicInfo,
    pub at: DateTime<Utc>,
}

/// Who made a version of the basic information, and why.
pub struct Change<'a> {
    pub by: &'a str,
    pub reason: &'a str,
    pub evidence_ref: &'a str,
    pub at: DateTime<Utc>,
    pub request_id: &'a str,
}

/// Registers the person as version 1, unconfirmed; `None` if a person with
/// this ID number is already registered. The conflict is expected, so the
/// statement does not fail on it: a unique violation would make Postgres
/// log the key, the ID number, in its `DETAIL`.
pub async fn insert_person(
    conn: &mut PgConnection,
    person: &NewPerson<'_>,
    change: &Change<'_>,
) -> Result<Option<PersonRow>, sqlx::Error> {
    let info = person.info;
    let inserted = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO persons (person_id, id_number, birth_date, region_code, version, name,
             gender, ethnicity, phone, address, status, registered_at)
         VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT DO NOTHING
         RETURNING {PERSON_COLUMNS}"
    )))
    .bind(person.person_id)
    .bind(person.id_number)
    .bind(person.id_number.birth_date())
    .bind(person.id_number.region_code())
    .bind(&info.name)
    .bind(GenderColumn(info.gender))
    .bind(&info.ethnicity)
    .bind(&info.phone)
    .bind(&info.address)
    .bind(BasicInfoStatus::Unconfirmed)
    .bind(person.at)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = inserted else {
        return Ok(None);
    };
    insert_version(conn, person.person_id, 1, info, change).await?;
    Ok(Some(row))
}

async fn insert_version(
    conn: &mut PgConnection,
    person_id: Uuid,
    version: i32,
    info: &BasicInfo,
    change: &Change<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO basic_info_versions (person_id, version, name, gender, ethnicity, phone,
             address, changed_by, reason, evidence_ref, changed_at, request_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(person_id)
    .bind(version)
    .bind(&info.name)
    .bind(GenderColumn(info.gender))
    .bind(&info.ethnicity)
    .bind(&info.phone)
    .bind(&info.address)
    .bind(change.by)
    .bind(change.reason)
    .bind(change.evidence_ref)
    .bind(change.at)
    .bind(change.request_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// How a read finds its person.
#[derive(Clone, Copy, Debug)]
pub enum PersonKey<'a> {
    Id(Uuid),
    IdNumber(&'a IdNumber),
}

async fn person(
    executor: impl PgExecutor<'_>,
    key: PersonKey<'_>,
) -> Result<Option<PersonRow>, sqlx::Error> {
    let query = match key {
        PersonKey::Id(_) => format!("SELECT {PERSON_COLUMNS} FROM persons WHERE person_id = $1"),
        PersonKey::IdNumber(_) => {
            format!("SELECT {PERSON_COLUMNS} FROM persons WHERE id_number = $1")
        }
    };
    let query = sqlx::query_as(sqlx::AssertSqlSafe(query));
    let query = match key {
        PersonKey::Id(id) => query.bind(id),
        PersonKey::IdNumber(id_number) => query.bind(id_number),
    };
    query.fetch_optional(executor).await
}

/// The person with `id_number` (no audit entry: for a change that records
/// its own).
pub async fn person_by_id_number(
    conn: &mut PgConnection,
    id_number: &IdNumber,
) -> Result<Option<PersonRow>, sqlx::Error> {
    person(conn, PersonKey::IdNumber(id_number)).await
}

/// Reads the person and, when found, records `caller`'s read through `rpc`
/// in the audit trail, in one transaction: the answer exists only once the
/// read is on record.
pub async fn read_person(
    pool: &PgPool,
    key: PersonKey<'_>,
    caller: &Caller,
    rpc: &str,
) -> Result<Option<PersonRow>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let Some(row) = person(&mut *tx, key).await? else {
        return Ok(None);
    };
    audit_read(&mut tx, caller, rpc, row.person_id).await?;
    tx.commit().await?;
    Ok(Some(row))
}

/// An identity check of a registered person: the row, judged by `matches`,
/// and audited on the person's trail as a read when it matches and as a
/// failed attempt when it does not (someone tried a wrong ID number or name
/// for them). `None` when no person has `key`; whether it matched otherwise.
pub async fn verify_person(
    pool: &PgPool,
    key: PersonKey<'_>,
    caller: &Caller,
    rpc: &str,
    matches: impl FnOnce(&PersonRow) -> bool,
) -> Result<Option<(PersonRow, bool)>, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let Some(row) = person(&mut *conn, key).await? else {
        return Ok(None);
    };
    let matched = matches(&row);
    let access = if matched {
        Access::Read
    } else {
        Access::FailedAttempt
    };
    audit::record(
        &mut conn,
        caller,
        rpc,
        access,
        &row.person_id.to_string(),
        None,
    )
    .await?;
    Ok(Some((row, matched)))
}

async fn audit_read(
    conn: &mut PgConnection,
    caller: &Caller,
    rpc: &str,
    person_id: Uuid,
) -> Result<(), sqlx::Error> {
    audit::record(
        conn,
        caller,
        rpc,
        Access::Read,
        &person_id.to_string(),
        None,
    )
    .await?;
    Ok(())
}

/// The person's row, locked until the end of the transaction.
pub async fn lock_person(
    conn: &mut PgConnection,
    person_id: Uuid,
) -> Result<Option<PersonRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PERSON_COLUMNS} FROM persons WHERE person_id = $1 FOR UPDATE"
    )))
    .bind(person_id)
    .fetch_optional(conn)
    .await
}

pub async fn confirm(
    conn: &mut PgConnection,
    person_id: Uuid,
    at: DateTime<Utc>,
    by: &str,
) -> Result<PersonRow, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE persons SET status = $4, confirmed_at = $2, confirmed_by = $3
         WHERE person_id = $1 RETURNING {PERSON_COLUMNS}"
    )))
    .bind(person_id)
    .bind(at)
    .bind(by)
    .bind(BasicInfoStatus::Confirmed)
    .fetch_one(conn)
    .await
}

/// Makes `info` version `version`; the record is unconfirmed again.
pub async fn correct(
    conn: &mut PgConnection,
    person_id: Uuid,
    version: i32,
    info: &BasicInfo,
    change: &Change<'_>,
) -> Result<PersonRow, sqlx::Error> {
    let row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE persons SET version = $2, name = $3, gender = $4, ethnicity = $5, phone = $6,
             address = $7, status = $8, confirmed_at = NULL, confirmed_by = NULL
         WHERE person_id = $1 RETURNING {PERSON_COLUMNS}"
    )))
    .bind(person_id)
    .bind(version)
    .bind(&info.name)
    .bind(GenderColumn(info.gender))
    .bind(&info.ethnicity)
    .bind(&info.phone)
    .bind(&info.address)
    .bind(BasicInfoStatus::Unconfirmed)
    .fetch_one(&mut *conn)
    .await?;
    insert_version(conn, person_id, version, info, change).await?;
    Ok(row)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct VersionRow {
    pub version: i32,
    pub name: PersonName,
    pub gender: GenderColumn,
    pub ethnicity: String,
    pub phone: String,
    pub address: String,
    pub changed_by: String,
    pub reason: String,
    pub evidence_ref: String,
    pub changed_at: DateTime<Utc>,
}

/// Every version of the person's basic information, newest first, and an
/// audit entry of the read, in one transaction; `None` for no such person.
pub async fn read_versions(
    pool: &PgPool,
    person_id: Uuid,
    caller: &Caller,
    rpc: &str,
) -> Result<Option<Vec<VersionRow>>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let rows: Vec<VersionRow> = sqlx::query_as(
        "SELECT version, name, gender, ethnicity, phone, address, changed_by, reason,
             evidence_ref, changed_at
         FROM basic_info_versions WHERE person_id = $1 ORDER BY version DESC",
    )
    .bind(person_id)
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    audit_read(&mut tx, caller, rpc, person_id).await?;
    tx.commit().await?;
    Ok(Some(rows))
}

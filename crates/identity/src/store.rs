//! All of identity's SQL.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::{BasicInfo, NewPartner, basic_info::gender_to_db};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PersonRow {
    pub person_id: Uuid,
    pub id_number: String,
    pub birth_date: NaiveDate,
    pub region_code: String,
    pub version: i32,
    pub name: String,
    pub gender: String,
    pub ethnicity: String,
    pub phone: String,
    pub address: String,
    pub status: String,
    pub registered_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
}

const PERSON_COLUMNS: &str = "person_id, id_number, birth_date, region_code, version, name, \
     gender, ethnicity, phone, address, status, registered_at, confirmed_at";

pub struct NewPerson<'a> {
    pub person_id: Uuid,
    pub id_number: &'a str,
    pub birth_date: NaiveDate,
    pub region_code: &'a str,
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

pub async fn insert_person(
    conn: &mut PgConnection,
    person: &NewPerson<'_>,
    change: &Change<'_>,
) -> Result<(), sqlx::Error> {
    let info = person.info;
    sqlx::query(
        "INSERT INTO persons (person_id, id_number, birth_date, region_code, version, name,
             gender, ethnicity, phone, address, status, registered_at)
         VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $8, $9, 'UNCONFIRMED', $10)",
    )
    .bind(person.person_id)
    .bind(person.id_number)
    .bind(person.birth_date)
    .bind(person.region_code)
    .bind(info.name.expose())
    .bind(gender_to_db(info.gender))
    .bind(&info.ethnicity)
    .bind(&info.phone)
    .bind(&info.address)
    .bind(person.at)
    .execute(&mut *conn)
    .await?;
    insert_version(conn, person.person_id, 1, info, change).await
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
    .bind(info.name.expose())
    .bind(gender_to_db(info.gender))
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

pub async fn person_by_id(
    executor: impl PgExecutor<'_>,
    person_id: Uuid,
) -> Result<Option<PersonRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PERSON_COLUMNS} FROM persons WHERE person_id = $1"
    )))
    .bind(person_id)
    .fetch_optional(executor)
    .await
}

pub async fn person_by_id_number(
    executor: impl PgExecutor<'_>,
    id_number: &str,
) -> Result<Option<PersonRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PERSON_COLUMNS} FROM persons WHERE id_number = $1"
    )))
    .bind(id_number)
    .fetch_optional(executor)
    .await
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
        "UPDATE persons SET status = 'CONFIRMED', confirmed_at = $2, confirmed_by = $3
         WHERE person_id = $1 RETURNING {PERSON_COLUMNS}"
    )))
    .bind(person_id)
    .bind(at)
    .bind(by)
    .fetch_one(conn)
    .await
}

/// Makes `info` the next version; the record is unconfirmed again.
pub async fn correct(
    conn: &mut PgConnection,
    person_id: Uuid,
    version: i32,
    info: &BasicInfo,
    change: &Change<'_>,
) -> Result<PersonRow, sqlx::Error> {
    let row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE persons SET version = $2, name = $3, gender = $4, ethnicity = $5, phone = $6,
             address = $7, status = 'UNCONFIRMED', confirmed_at = NULL, confirmed_by = NULL
         WHERE person_id = $1 RETURNING {PERSON_COLUMNS}"
    )))
    .bind(person_id)
    .bind(version)
    .bind(info.name.expose())
    .bind(gender_to_db(info.gender))
    .bind(&info.ethnicity)
    .bind(&info.phone)
    .bind(&info.address)
    .fetch_one(&mut *conn)
    .await?;
    insert_version(conn, person_id, version, info, change).await?;
    Ok(row)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct VersionRow {
    pub version: i32,
    pub name: String,
    pub gender: String,
    pub ethnicity: String,
    pub phone: String,
    pub address: String,
    pub changed_by: String,
    pub reason: String,
    pub evidence_ref: String,
    pub changed_at: DateTime<Utc>,
}

pub async fn versions(
    executor: impl PgExecutor<'_>,
    person_id: Uuid,
) -> Result<Vec<VersionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT version, name, gender, ethnicity, phone, address, changed_by, reason,
             evidence_ref, changed_at
         FROM basic_info_versions WHERE person_id = $1 ORDER BY version DESC",
    )
    .bind(person_id)
    .fetch_all(executor)
    .await
}

// ---- online credentials ----

pub async fn set_password(
    conn: &mut PgConnection,
    person_id: Uuid,
    password_hash: &str,
    at: DateTime<Utc>,
    by: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO online_credentials (person_id, password_hash, set_at, set_by)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (person_id) DO UPDATE SET password_hash = $2, set_at = $3, set_by = $4,
             failed_attempts = 0, locked_until = NULL",
    )
    .bind(person_id)
    .bind(password_hash)
    .bind(at)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CredentialRow {
    pub person_id: Uuid,
    pub password_hash: String,
    pub failed_attempts: i32,
    pub locked_until: Option<DateTime<Utc>>,
}

/// The credential of the person with `id_number`, locked for the sign-in.
pub async fn lock_credential(
    conn: &mut PgConnection,
    id_number: &str,
) -> Result<Option<CredentialRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.person_id, c.password_hash, c.failed_attempts, c.locked_until
         FROM online_credentials c JOIN persons p USING (person_id)
         WHERE p.id_number = $1 FOR UPDATE OF c",
    )
    .bind(id_number)
    .fetch_optional(conn)
    .await
}

pub async fn record_sign_in(
    conn: &mut PgConnection,
    person_id: Uuid,
    failed_attempts: i32,
    locked_until: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE online_credentials SET failed_attempts = $2, locked_until = $3
         WHERE person_id = $1",
    )
    .bind(person_id)
    .bind(failed_attempts)
    .bind(locked_until)
    .execute(conn)
    .await?;
    Ok(())
}

// ---- partners ----

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PartnerRow {
    pub code: String,
    pub kind: String,
    pub name: String,
    pub region_code: String,
    pub parent_code: Option<String>,
    pub credit_code: Option<String>,
    pub designation_in_force: bool,
    pub updated_at: DateTime<Utc>,
}

const PARTNER_COLUMNS: &str =
    "code, kind, name, region_code, parent_code, credit_code, designation_in_force, updated_at";

pub async fn insert_partner(
    conn: &mut PgConnection,
    partner: &NewPartner,
    at: DateTime<Utc>,
) -> Result<PartnerRow, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO partners (code, kind, name, region_code, parent_code, credit_code,
             designation_in_force, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {PARTNER_COLUMNS}"
    )))
    .bind(partner.code.as_str())
    .bind(partner.kind.as_str())
    .bind(&partner.name)
    .bind(&partner.region_code)
    .bind(partner.parent_code.as_ref().map(|c| c.as_str()))
    .bind(partner.credit_code.as_ref().map(|c| c.as_str()))
    .bind(partner.designation_in_force)
    .bind(at)
    .fetch_one(conn)
    .await
}

pub async fn partner_by_code(
    executor: impl PgExecutor<'_>,
    code: &str,
) -> Result<Option<PartnerRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PARTNER_COLUMNS} FROM partners WHERE code = $1"
    )))
    .bind(code)
    .fetch_optional(executor)
    .await
}

pub async fn set_designation(
    conn: &mut PgConnection,
    code: &str,
    in_force: bool,
    at: DateTime<Utc>,
) -> Result<Option<PartnerRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE partners SET designation_in_force = $2, updated_at = $3 WHERE code = $1
         RETURNING {PARTNER_COLUMNS}"
    )))
    .bind(code)
    .bind(in_force)
    .bind(at)
    .fetch_optional(conn)
    .await
}

/// Partners ordered by code, after `after`, optionally of one kind.
pub async fn list_partners(
    executor: impl PgExecutor<'_>,
    kind: Option<&str>,
    after: &str,
    limit: i64,
) -> Result<Vec<PartnerRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PARTNER_COLUMNS} FROM partners
         WHERE code > $1 AND ($2::text IS NULL OR kind = $2)
         ORDER BY code LIMIT $3"
    )))
    .bind(after)
    .bind(kind)
    .bind(limit)
    .fetch_all(executor)
    .await
}

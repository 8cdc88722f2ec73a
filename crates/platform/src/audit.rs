//! The audit trail: every read and change of a person's data, by whom, when,
//! through which RPC and request id. Written through the same connection (and
//! for changes, the same transaction) as the access it records.

use chrono::{DateTime, Utc};
use socsec_proto::{
    audit::v1::{self as pb, audit_service_server::AuditService},
    common::v1 as common,
};
use sqlx::{PgConnection, PgExecutor, PgPool};
use tonic::{Request, Response, Status};

use crate::{
    auth::Caller,
    clock::timestamp,
    error::{FieldViolations, respond},
    paging::Page,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Change,
    /// A caller was refused for what it presented: a check of a person's
    /// identity that did not match (an ID number or name tried for them), a
    /// card without its own identification code. Recorded so that probing
    /// shows on the person's trail and an operator sees it; it is no access
    /// to anyone's data.
    FailedAttempt,
}

impl Access {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Read => "READ",
            Self::Change => "CHANGE",
            Self::FailedAttempt => "FAILED_ATTEMPT",
        }
    }
}

/// Records that `caller` read or changed `subject_id`'s data through
/// `action`; returns the entry's id.
pub async fn record(
    conn: &mut PgConnection,
    caller: &Caller,
    action: &str,
    access: Access,
    subject_id: &str,
    request_id: Option<&str>,
) -> Result<i64, sqlx::Error> {
    let origin = caller.on_behalf_of.as_deref();
    sqlx::query_scalar(
        "INSERT INTO audit_log
             (actor_kind, actor_code, action, access, subject_id, request_id, on_behalf_of)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(caller.kind.as_str())
    .bind(&caller.code)
    .bind(action)
    .bind(access.as_str())
    .bind(canonical(subject_id))
    .bind(request_id.or(origin.and_then(|o| o.request_id.as_deref())))
    .bind(origin.map(|o| o.caller.as_str()))
    .fetch_one(conn)
    .await
}

/// Person ids in one spelling (lower-case, hyphenated), however the caller
/// wrote them, so a person's trail is found whole.
pub(crate) fn canonical(subject_id: &str) -> String {
    uuid::Uuid::parse_str(subject_id)
        .map(|id| id.to_string())
        .unwrap_or_else(|_| subject_id.to_owned())
}

/// Records one access per subject, in one statement (for batch operations).
pub async fn record_many(
    conn: &mut PgConnection,
    caller: &Caller,
    action: &str,
    access: Access,
    subject_ids: &[String],
    request_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    let origin = caller.on_behalf_of.as_deref();
    sqlx::query(
        "INSERT INTO audit_log
             (actor_kind, actor_code, action, access, subject_id, request_id, on_behalf_of)
         SELECT $1, $2, $3, $4, s, $6, $7 FROM UNNEST($5::text[]) AS u(s)",
    )
    .bind(caller.kind.as_str())
    .bind(&caller.code)
    .bind(action)
    .bind(access.as_str())
    .bind(subject_ids.iter().map(|s| canonical(s)).collect::<Vec<_>>())
    .bind(request_id.or(origin.and_then(|o| o.request_id.as_deref())))
    .bind(origin.map(|o| o.caller.as_str()))
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_kind: String,
    pub actor_code: String,
    pub action: String,
    pub access: String,
    pub subject_id: String,
    pub request_id: Option<String>,
    pub on_behalf_of: Option<String>,
}

/// A subject's audit entries in the order they were written, after entry
/// `after_id` and up to entry `upto_id`.
pub async fn list(
    executor: impl PgExecutor<'_>,
    subject_id: &str,
    after_id: i64,
    upto_id: i64,
    limit: i64,
) -> Result<Vec<AuditEntry>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, at, actor_kind, actor_code, action, access, subject_id, request_id,
             on_behalf_of
         FROM audit_log WHERE subject_id = $1 AND id > $2 AND id <= $3 ORDER BY id LIMIT $4",
    )
    .bind(subject_id)
    .bind(after_id)
    .bind(upto_id)
    .bind(limit)
    .fetch_all(executor)
    .await
}

/// Where a page of a person's trail continues: after entry `after`, up to
/// entry `upto` (the listing's first page's own entry), so a listing ends
/// where it began.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TrailKey {
    after: i64,
    upto: i64,
}

impl std::fmt::Display for TrailKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.after, self.upto)
    }
}

impl std::str::FromStr for TrailKey {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        let (after, upto) = s.split_once(':').ok_or(())?;
        Ok(Self {
            after: after.parse().map_err(|_| ())?,
            upto: upto.parse().map_err(|_| ())?,
        })
    }
}

/// `socsec.audit.v1.AuditService` over this service's own trail.
pub struct AuditApi {
    pool: PgPool,
    service: &'static str,
}

impl AuditApi {
    /// The audit query of service `service` (e.g. `socsec.card.v1.CardService`).
    pub fn new(pool: PgPool, service: &'static str) -> Self {
        Self { pool, service }
    }

    async fn list_records(
        &self,
        caller: Caller,
        req: pb::ListAuditRecordsRequest,
    ) -> Result<pb::ListAuditRecordsResponse, Status> {
        crate::limits::AUDIT.check(&req)?;
        let mut v = FieldViolations::new();
        let person_id = crate::error::uuid(&mut v, "person_id", &req.person_id);
        let page_request = req.page.unwrap_or_default();
        let page = Page::<TrailKey>::parse(
            &mut v,
            "page",
            page_request.page_size,
            &page_request.page_token,
        );
        let (person_id, page) = v.finish(crate::all_some!(person_id, page))?;
        let person_id = person_id.to_string();
        let internal = |e: sqlx::Error| crate::error::database(&e);
        let mut conn = self.pool.acquire().await.map_err(internal)?;
        // Reading the trail is itself an access to the person's data: every
        // page is recorded; the listing shows entries up to the first page's.
        let this_page = record(
            &mut conn,
            &caller,
            "ListAuditRecords",
            Access::Read,
            &person_id,
            None,
        )
        .await
        .map_err(internal)?;
        let TrailKey { after, upto } = page.after.unwrap_or(TrailKey {
            after: 0,
            upto: this_page,
        });
        let entries = list(&mut *conn, &person_id, after, upto, page.size)
            .await
            .map_err(internal)?;
        let last = entries.last().map(|e| TrailKey { after: e.id, upto });
        Ok(pb::ListAuditRecordsResponse {
            page: Some(common::PageResponse {
                next_page_token: page.next_token(entries.len(), last.as_ref()),
            }),
            records: entries
                .into_iter()
                .map(|e| pb::AuditRecord {
                    at: Some(timestamp(e.at)),
                    actor: format!("{}:{}", e.actor_kind, e.actor_code),
                    action: e.action,
                    person_id: e.subject_id,
                    request_id: e.request_id.unwrap_or_default(),
                    access: e.access,
                    service: self.service.to_owned(),
                    on_behalf_of: e.on_behalf_of.unwrap_or_default(),
                })
                .collect(),
        })
    }
}

#[tonic::async_trait]
impl AuditService for AuditApi {
    async fn list_audit_records(
        &self,
        request: Request<pb::ListAuditRecordsRequest>,
    ) -> Result<Response<pb::ListAuditRecordsResponse>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.list_records(caller, request.into_inner()).await)
    }
}

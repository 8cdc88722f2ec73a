//! Idempotency by the caller's request id (a partner's transaction serial).
//!
//! Inside the transaction that makes the change, the service first
//! [`claim`]s `(caller, request_id)`. A fresh claim returns a [`Ticket`]; the
//! service does its work and [`Ticket::complete`]s with its answer before
//! committing. A retry of a committed request gets [`Claim::Replay`] with the
//! first answer. A concurrent duplicate waits on the key's row lock and then
//! sees the committed answer. The same request id with other content (or for
//! another RPC) is refused with `REQUEST_ID_REUSED`.
//!
//! A request's fingerprint (what a retry must match) is described in
//! `fingerprint`: secret fields are digested with a deployment key.

use prost::Message;
use sqlx::PgConnection;
use tonic::{Code, Status};

pub use crate::fingerprint::{FingerprintKeys, Secrets};
use crate::{
    auth::Caller,
    error::{self, FieldViolations},
    fingerprint::fingerprints,
};

/// A validated request id: 1 to 64 characters of `A-Z a-z 0-9 . _ : -`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RequestId(String);

impl RequestId {
    pub fn parse(violations: &mut FieldViolations, value: &str) -> Option<Self> {
        let valid = Self::is_well_formed(value);
        if value.is_empty() {
            violations.add("request_id", "REQUEST_ID_MISSING", "is required");
            None
        } else if !valid {
            violations.add(
                "request_id",
                "REQUEST_ID_INVALID",
                "must be 1 to 64 characters of A-Z a-z 0-9 . _ : -",
            );
            None
        } else if holds_id_number(value) {
            // Request ids are kept in the audit trail and the idempotency
            // table and may be logged: they must not carry personal data.
            violations.add(
                "request_id",
                "REQUEST_ID_HOLDS_PERSONAL_DATA",
                "must not contain an ID number",
            );
            None
        } else {
            Some(Self(value.to_owned()))
        }
    }

    /// 1 to 64 characters of `A-Z a-z 0-9 . _ : -`.
    pub fn is_well_formed(value: &str) -> bool {
        !value.is_empty()
            && value.len() <= 64
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `value` holds a valid ID number as a run of its own (18 digits,
/// or 17 and `X`, not part of a longer run of digits).
/// Such a value must not be kept as a key or logged.
pub fn holds_id_number(value: &str) -> bool {
    let today = chrono::Utc::now().date_naive();
    value
        .split(|c: char| !(c.is_ascii_digit() || c == 'X' || c == 'x'))
        .any(|run| run.len() == 18 && pii::IdNumber::parse(run, today).is_ok())
}

#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError {
    #[error("request id was already used for a different request")]
    Reused,
    #[error("stored answer is unreadable: {0}")]
    Corrupt(#[from] prost::DecodeError),
    #[error("no key to fingerprint secret fields with (no session token key configured)")]
    NoFingerprintKey,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl IdempotencyError {
    /// `FAILED_PRECONDITION` / `REQUEST_ID_REUSED` for a reuse; a database
    /// fault as [`error::database`] classifies it; a corrupt answer is internal.
    pub fn into_status(self) -> Status {
        match self {
            Self::Reused => error::status(
                Code::FailedPrecondition,
                "REQUEST_ID_REUSED",
                "this request id was already used for a different request",
            ),
            Self::Database(e) => error::database(&e),
            Self::Corrupt(e) => {
                tracing::error!(error = %e, "stored answer is unreadable");
                error::internal()
            }
            Self::NoFingerprintKey => {
                tracing::error!(
                    "a request with secret fields, but no session token key to fingerprint them with"
                );
                error::internal()
            }
        }
    }
}

pub(crate) enum Claim<R> {
    /// First time: do the work, then `complete` the ticket.
    Fresh(Ticket),
    /// Seen before: this was the answer.
    Replay(R),
}

#[must_use = "complete the ticket with the answer in the same transaction"]
pub(crate) struct Ticket {
    caller: String,
    request_id: String,
}

/// Claims `request_id` for `caller` in the current transaction.
pub(crate) async fn claim<Req: Message, Resp: Message + Default>(
    conn: &mut PgConnection,
    caller: &Caller,
    rpc: &str,
    request_id: &RequestId,
    request: &Req,
    secrets: Option<Secrets<'_>>,
) -> Result<Claim<Resp>, IdempotencyError> {
    let caller = caller.to_string();
    let hashes = fingerprints(request, secrets)?;
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (caller, request_id, rpc, request_hash)
         VALUES ($1, $2, $3, $4) ON CONFLICT (caller, request_id) DO NOTHING",
    )
    .bind(&caller)
    .bind(request_id.as_str())
    .bind(rpc)
    .bind(&hashes[0])
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(Claim::Fresh(Ticket {
            caller,
            request_id: request_id.as_str().to_owned(),
        }));
    }
    let stored = stored(&mut *conn, &caller, request_id)
        .await?
        .ok_or(IdempotencyError::Reused)?;
    let answer = stored.answer_for(rpc, &hashes)?;
    Ok(Claim::Replay(answer.ok_or(IdempotencyError::Reused)?))
}

/// What is kept of a request id: the RPC, the request's hash, the answer
/// (none while the first call is under way).
struct Stored {
    rpc: String,
    request_hash: Vec<u8>,
    response: Option<Vec<u8>>,
}

impl Stored {
    /// The stored answer if this is the same request (`rpc`, one of
    /// `hashes`); `Reused` otherwise.
    fn answer_for<Resp: Message + Default>(
        self,
        rpc: &str,
        hashes: &[Vec<u8>],
    ) -> Result<Option<Resp>, IdempotencyError> {
        if self.rpc != rpc || !hashes.contains(&self.request_hash) {
            return Err(IdempotencyError::Reused);
        }
        Ok(self
            .response
            .map(|r| Resp::decode(r.as_slice()))
            .transpose()?)
    }
}

async fn stored(
    executor: impl sqlx::PgExecutor<'_>,
    caller: &str,
    request_id: &RequestId,
) -> Result<Option<Stored>, sqlx::Error> {
    let row: Option<(String, Vec<u8>, Option<Vec<u8>>)> = sqlx::query_as(
        "SELECT rpc, request_hash, response FROM idempotency_keys
         WHERE caller = $1 AND request_id = $2",
    )
    .bind(caller)
    .bind(request_id.as_str())
    .fetch_optional(executor)
    .await?;
    Ok(row.map(|(rpc, request_hash, response)| Stored {
        rpc,
        request_hash,
        response,
    }))
}

/// The answer already given to `request_id` for `caller`, without claiming
/// anything: `None` if the request id is new (or its first call is still
/// under way), `Reused` if it was used for another request.
pub async fn stored_answer<Req: Message, Resp: Message + Default>(
    pool: &sqlx::PgPool,
    caller: &Caller,
    rpc: &str,
    request_id: &RequestId,
    request: &Req,
    secrets: Option<Secrets<'_>>,
) -> Result<Option<Resp>, IdempotencyError> {
    let hashes = fingerprints(request, secrets)?;
    match stored(pool, &caller.to_string(), request_id).await? {
        None => Ok(None),
        Some(stored) => stored.answer_for(rpc, &hashes),
    }
}

impl Ticket {
    /// Stores the answer, appends the events to the outbox (waking its
    /// watchers at commit) and writes one audit entry per subject, in one
    /// statement. The pipeline commits afterwards.
    pub(crate) async fn finish<Resp: Message>(
        self,
        conn: &mut PgConnection,
        mutation: crate::mutation::Mutation<'_>,
        response: &Resp,
        events: &crate::mutation::Events,
        audit: &crate::mutation::Audit,
    ) -> Result<(), sqlx::Error> {
        let (types, payloads) = events.columns();
        let caller = mutation.caller;
        // The call's trace, continued by the events' consumers.
        let (traceparent, tracestate) = crate::trace::current_traceparent();
        let text = |value: String| (!value.is_empty()).then_some(value);
        let statement = format!(
            "WITH answer AS (
                 UPDATE idempotency_keys SET response = $3 WHERE caller = $1 AND request_id = $2),
             {append},
             audit AS (
                 INSERT INTO audit_log
                     (actor_kind, actor_code, action, access, subject_id, request_id, on_behalf_of)
                 SELECT $6, $7, $8, 'CHANGE', s, $2, $9 FROM UNNEST($10::text[]) AS u(s))
             SELECT CASE WHEN cardinality($4::text[]) > 0
                 THEN pg_notify(current_schema() || '.outbox', '') END",
            append = crate::outbox::APPEND
                .replace("$E_TYPES", "$4")
                .replace("$E_PAYLOADS", "$5")
                .replace("$E_TRACEPARENT", "$11")
                .replace("$E_TRACESTATE", "$12"),
        );
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .bind(&self.caller)
            .bind(&self.request_id)
            .bind(response.encode_to_vec())
            .bind(&types)
            .bind(&payloads)
            .bind(caller.kind.as_str())
            .bind(&caller.code)
            .bind(mutation.rpc)
            .bind(caller.on_behalf_of.as_deref().map(|o| o.caller.as_str()))
            .bind(audit.subjects())
            .bind(text(traceparent))
            .bind(text(tracestate))
            .execute(conn)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_id_may_not_carry_an_id_number() {
        let mut v = FieldViolations::new();
        assert!(RequestId::parse(&mut v, "reg-11010519491231002X").is_none());
        assert!(RequestId::parse(&mut v, "reg-110105194912310021").is_some());
        assert!(RequestId::parse(&mut v, "bank-serial-000000000000000000001").is_some());
        // A longer run of digits is a serial, not an ID number.
        assert!(RequestId::parse(&mut v, "911010519491231002X7").is_some());
    }
}

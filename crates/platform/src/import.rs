//! Operators' imports of a province's existing records: what one record of
//! a batch came to. Each service parses every record with the very parser
//! its ordinary RPC uses (a record's `INVALID_ARGUMENT` becomes that
//! record's rejection, the others go in), stores the batch through the
//! mutation pipeline (a retried batch replays its answer) with
//! `INSERT … ON CONFLICT DO NOTHING` (a record already here is reported as
//! such and changes nothing).

use std::collections::HashMap;

use socsec_proto::{
    common::v1::{ImportOutcome, ImportResult},
    identity::v1::identity_service_client::IdentityServiceClient,
};
use tonic::Status;
use tonic_types::StatusExt;

/// The most records one import batch may carry.
pub const MAX_BATCH: usize = 1_000;

/// Why one record was not imported: its field and a machine-readable reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub field: String,
    pub reason: String,
}

impl Rejection {
    pub fn new(field: &str, reason: &str) -> Self {
        Self {
            field: field.to_owned(),
            reason: reason.to_owned(),
        }
    }

    /// The first bad field of a parser's `INVALID_ARGUMENT` (its `BadRequest`
    /// violation), else the status's `ErrorInfo` reason without a field.
    pub fn from_status(status: &Status) -> Self {
        let details = status.get_error_details();
        if let Some(v) = details
            .bad_request()
            .and_then(|b| b.field_violations.first())
        {
            return Self::new(&v.field, &v.reason);
        }
        let reason = details
            .error_info()
            .map(|i| i.reason.clone())
            .unwrap_or_else(|| "INVALID_ARGUMENT".to_owned());
        Self {
            field: String::new(),
            reason,
        }
    }
}

pub fn imported(line: i64, key: impl ToString) -> ImportOutcome {
    outcome(line, ImportResult::Imported, key.to_string())
}

pub fn already_imported(line: i64, key: impl ToString) -> ImportOutcome {
    outcome(line, ImportResult::AlreadyImported, key.to_string())
}

pub fn rejected(line: i64, rejection: &Rejection) -> ImportOutcome {
    ImportOutcome {
        line,
        result: ImportResult::Rejected as i32,
        field: rejection.field.clone(),
        reason: rejection.reason.clone(),
        key: String::new(),
    }
}

fn outcome(line: i64, result: ImportResult, key: String) -> ImportOutcome {
    ImportOutcome {
        line,
        result: result as i32,
        key,
        ..Default::default()
    }
}

// ---- the shape every import of records about persons shares ----

/// An import batch as parsed: its request id and each record (with its
/// line), valid or rejected.
pub struct Batch<T> {
    pub request_id: crate::idempotency::RequestId,
    pub records: Vec<(i64, Result<T, Rejection>)>,
}

/// A record's holder as identity's `LookupPersons` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holder {
    pub person_id: uuid::Uuid,
    /// Their basic information is confirmed.
    pub confirmed: bool,
}

/// The registered persons among `id_numbers` (ID number → holder), asked of
/// identity in one `LookupPersons` call for `origin`'s batch `request_id`.
/// Only ever called before a transaction opens.
pub async fn lookup_holders(
    mut identity: IdentityServiceClient<crate::client::ServiceChannel>,
    id_numbers: Vec<String>,
    origin: &crate::auth::Caller,
    request_id: &str,
) -> Result<HashMap<String, Holder>, Status> {
    use socsec_proto::identity::v1::{BasicInfoStatus, LookupPersonsRequest};
    let request = crate::client::on_behalf_of(
        LookupPersonsRequest { id_numbers },
        origin,
        Some(request_id),
    );
    let found = identity.lookup_persons(request).await?.into_inner();
    Ok(found
        .persons
        .into_iter()
        .filter_map(|p| {
            let person_id = uuid::Uuid::parse_str(&p.person_id).ok()?;
            let confirmed = p.status == BasicInfoStatus::Confirmed as i32;
            Some((
                p.id_number,
                Holder {
                    person_id,
                    confirmed,
                },
            ))
        })
        .collect())
}

/// Each record with its holder's person id, or its rejection.
pub type Resolved<'a, T> = Vec<(i64, Result<(&'a T, uuid::Uuid), Rejection>)>;

/// Names each valid record's holder with one `lookup` (`lookup_holders`)
/// for the batch, none when no record is valid: a holder not registered is
/// `holder_id_number` / `PERSON_NOT_FOUND`; with `confirmed_only`, one whose
/// information is not confirmed is `BASIC_INFO_NOT_CONFIRMED`.
pub async fn resolve_holders<'a, T, E>(
    batch: &'a Batch<T>,
    holder: impl Fn(&T) -> &pii::IdNumber,
    confirmed_only: bool,
    lookup: impl AsyncFnOnce(Vec<String>) -> Result<HashMap<String, Holder>, E>,
) -> Result<Resolved<'a, T>, E> {
    let mut wanted: Vec<String> = batch
        .records
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .map(|r| holder(r).expose().to_owned())
        .collect();
    wanted.sort();
    wanted.dedup();
    let found = if wanted.is_empty() {
        HashMap::new()
    } else {
        lookup(wanted).await?
    };
    Ok(batch
        .records
        .iter()
        .map(|(line, record)| {
            let resolved = match record {
                Err(rejection) => Err(rejection.clone()),
                Ok(r) => match found.get(holder(r).expose()) {
                    None => Err(Rejection::new("holder_id_number", "PERSON_NOT_FOUND")),
                    Some(h) if confirmed_only && !h.confirmed => Err(Rejection::new(
                        "holder_id_number",
                        "BASIC_INFO_NOT_CONFIRMED",
                    )),
                    Some(h) => Ok((r, h.person_id)),
                },
            };
            (*line, resolved)
        })
        .collect())
}

/// The records still valid, in order, with their holders.
pub fn valid<'a, T>(resolved: &Resolved<'a, T>) -> Vec<(&'a T, uuid::Uuid)> {
    resolved
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok().copied())
        .collect()
}

/// What storing made of one valid record: the key it has here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stored {
    Imported(String),
    AlreadyHere(String),
    /// A rule only the stored state can decide refused it.
    Rejected(Rejection),
}

/// One outcome per record, in order: rejected as parsed or resolved, else
/// the next of `stored` (one per valid record, in `valid`'s order).
pub fn outcomes<T>(
    resolved: &Resolved<'_, T>,
    stored: impl IntoIterator<Item = Stored>,
) -> Vec<ImportOutcome> {
    let mut stored = stored.into_iter();
    resolved
        .iter()
        .map(|(line, record)| match record {
            Err(rejection) => rejected(*line, rejection),
            Ok(_) => match stored.next() {
                Some(Stored::Imported(key)) => imported(*line, key),
                Some(Stored::AlreadyHere(key)) => already_imported(*line, key),
                Some(Stored::Rejected(rejection)) => rejected(*line, &rejection),
                None => rejected(*line, &Rejection::new("", "RECORD_NOT_STORED")),
            },
        })
        .collect()
}

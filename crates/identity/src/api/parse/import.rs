//! An import batch of persons: each record parsed by `register_person`
//! itself (the same limits, ID number and basic-information rules), its
//! `INVALID_ARGUMENT` turned into the record's rejection.

use chrono::{DateTime, NaiveDate, Utc};
use pii::IdNumber;
use platform::{error::FieldViolations, idempotency::RequestId, import::Rejection};
use socsec_proto::identity::v1 as pb;

use super::{Result, accept, bounded, limits, register_person};
use crate::{
    domain::commands::{ImportPerson, ImportPersons},
    error::IdentityError,
};

pub fn import_persons(
    req: &pb::ImportPersonsRequest,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<ImportPersons> {
    bounded(&limits::IMPORT_PERSONS, req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let request_id = accept(v, request_id)?;
    let records = req
        .persons
        .iter()
        .map(|p| (p.line, record(p, today, now)))
        .collect();
    Ok(ImportPersons {
        request_id,
        records,
    })
}

/// One record, as `RegisterPerson` would take it; its registration instant
/// from the old system (not in the future), or now.
fn record(
    p: &pb::ImportedPerson,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> std::result::Result<ImportPerson, Rejection> {
    let as_registration = pb::RegisterPersonRequest {
        request_id: "import".to_owned(),
        id_number: p.id_number.clone(),
        basic_info: p.basic_info.clone(),
    };
    let parsed = register_person(&as_registration, today).map_err(|e| match e {
        IdentityError::Invalid(status) => Rejection::from_status(&status),
        _ => Rejection::new("", "RECORD_INVALID"),
    })?;
    let registered_at = match p.registered_at {
        None => now,
        Some(t) => DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32)
            .filter(|at| *at <= now)
            .ok_or_else(|| Rejection::new("registered_at", "REGISTERED_AT_INVALID"))?,
    };
    Ok(ImportPerson {
        id_number: parsed.id_number,
        info: parsed.info,
        confirmed: p.confirmed,
        registered_at,
    })
}

/// Up to `MAX_BATCH` ID numbers, each as `LookupPerson` parses it; a bad
/// one is named by its place (`id_numbers[3]`).
pub fn lookup_persons(req: &pb::LookupPersonsRequest, today: NaiveDate) -> Result<Vec<IdNumber>> {
    bounded(&limits::LOOKUP_PERSONS, req)?;
    let mut v = FieldViolations::new();
    let parsed: Vec<Option<IdNumber>> = req
        .id_numbers
        .iter()
        .enumerate()
        .map(|(i, n)| v.check(&format!("id_numbers[{i}]"), IdNumber::parse(n, today)))
        .collect();
    accept(v, parsed.into_iter().collect::<Option<Vec<_>>>())
}

//! Import batches of enrolments and wages: each record parsed by `enrol` or
//! `declare_wage` itself (the same limits and rules), made into the request
//! that RPC would take; its `INVALID_ARGUMENT` becomes the record's
//! rejection, named by the record's own field, while the rest go on.

use chrono::NaiveDate;
use pii::IdNumber;
use platform::{
    error::FieldViolations,
    idempotency::RequestId,
    import::{Batch, Rejection},
};
use socsec_proto::contribution::v1 as pb;

use super::{Result, accept, bounded, declare_wage, enrol, limits, period};
use crate::{
    domain::{
        Term,
        commands::{ImportEnrolment, ImportWage},
    },
    error::ContributionError,
};

/// The person id a record is parsed with until identity names the holder
/// (`enrol` and `declare_wage` want one).
const HOLDER_PENDING: &str = "00000000-0000-0000-0000-000000000000";

fn batch<R, T>(
    request_id: &str,
    records: &[R],
    line: impl Fn(&R) -> i64,
    parse: impl Fn(&R) -> std::result::Result<T, Rejection>,
) -> Result<Batch<T>> {
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, request_id);
    let request_id = accept(v, request_id)?;
    Ok(Batch {
        request_id,
        records: records.iter().map(|r| (line(r), parse(r))).collect(),
    })
}

pub fn import_enrolments(
    req: &pb::ImportEnrolmentsRequest,
    today: NaiveDate,
) -> Result<Batch<ImportEnrolment>> {
    bounded(&limits::IMPORT_ENROLMENTS, req)?;
    batch(
        &req.request_id,
        &req.enrolments,
        |e| e.line,
        |e| enrolment(e, today),
    )
}

pub fn import_wages(req: &pb::ImportWagesRequest, today: NaiveDate) -> Result<Batch<ImportWage>> {
    bounded(&limits::IMPORT_WAGES, req)?;
    batch(&req.request_id, &req.wages, |w| w.line, |w| wage(w, today))
}

/// The first violation of a parser, under the record's own field names.
fn rejection(e: ContributionError, rename: &[(&str, &str)]) -> Rejection {
    let ContributionError::Invalid(status) = e else {
        return Rejection::new("", "RECORD_INVALID");
    };
    let mut r = Rejection::from_status(&status);
    if let Some((_, to)) = rename.iter().find(|(from, _)| r.field.starts_with(from)) {
        r.field = (*to).to_owned();
    }
    r
}

fn holder(id_number: &str, today: NaiveDate) -> std::result::Result<IdNumber, Rejection> {
    let mut v = FieldViolations::new();
    v.check("holder_id_number", IdNumber::parse(id_number, today))
        .ok_or_else(|| Rejection::from_status(&v.into_status()))
}

fn enrolment(
    e: &pb::ImportedEnrolment,
    today: NaiveDate,
) -> std::result::Result<ImportEnrolment, Rejection> {
    let holder = holder(&e.holder_id_number, today)?;
    if e.scheme == pb::Scheme::Agency as i32 {
        // An agency enrolment needs its contract, and contracts are not
        // imported (they need the person's consent here).
        return Err(Rejection::new("scheme", "AGENCY_ENROLMENT_NOT_IMPORTED"));
    }
    let as_enrolment = pb::EnrolRequest {
        request_id: "import".to_owned(),
        person_id: HOLDER_PENDING.to_owned(),
        region_code: e.region_code.clone(),
        insurance_types: vec![e.insurance_type],
        scheme: e.scheme,
        employer_code: e.employer_code.clone(),
        agency_contract_id: String::new(),
        start: e.start,
    };
    let (_, parsed) = enrol(&as_enrolment)
        .map_err(|err| rejection(err, &[("insurance_types", "insurance_type")]))?;
    let end = match &e.end {
        None => None,
        Some(end) => {
            let mut v = FieldViolations::new();
            let end = period(&mut v, "end", Some(end))
                .ok_or_else(|| Rejection::from_status(&v.into_status()))?;
            if end < parsed.start {
                return Err(Rejection::new("end", "END_BEFORE_START"));
            }
            Some(end)
        }
    };
    Ok(ImportEnrolment {
        holder,
        region_code: parsed.region_code,
        insurance_type: parsed.insurance_types[0],
        enrolling: parsed.enrolling,
        term: Term {
            start: parsed.start,
            end,
        },
    })
}

fn wage(w: &pb::ImportedWage, today: NaiveDate) -> std::result::Result<ImportWage, Rejection> {
    use pb::declare_wage_request::Period as Which;
    let holder = holder(&w.holder_id_number, today)?;
    let as_declaration = pb::DeclareWageRequest {
        request_id: "import".to_owned(),
        person_id: HOLDER_PENDING.to_owned(),
        period: Some(Which::Month(w.month.unwrap_or_default())),
        monthly_wage: w.monthly_wage,
    };
    let (_, parsed) = declare_wage(&as_declaration).map_err(|err| rejection(err, &[]))?;
    Ok(ImportWage {
        holder,
        month: parsed.periods[0],
        monthly_wage: parsed.monthly_wage,
    })
}

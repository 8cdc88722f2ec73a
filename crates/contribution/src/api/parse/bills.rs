//! Bills, payments, arrears and statements.

use chrono::NaiveDate;
use platform::{all_some, auth::Caller, auth::CallerKind, error::FieldViolations, paging::Page};
use socsec_proto::{common::v1 as common, contribution::v1 as pb};

use super::{Result, accept, bounded, day_or_today, limits, payer, period};
use crate::domain::{
    ArrearsKey, LineKey, access,
    commands::{ArrearsQuery, BillQuery, StatementQuery, StatementRange},
};

/// A bill asked for; a payer that names none asks for its own.
pub fn get_bill(caller: &Caller, req: &pb::GetBillRequest, today: NaiveDate) -> Result<BillQuery> {
    bounded(&limits::GET_BILL, req)?;
    let mut v = FieldViolations::new();
    let payer = if req.payer.is_empty() && !caller.is(CallerKind::Operator) {
        let own = access::own_bill_payer(caller);
        if own.is_none() {
            v.add(
                "payer",
                "PAYER_INVALID",
                "the caller pays no bills; name the payer",
            );
        }
        own
    } else {
        payer(&mut v, &req.payer)
    };
    let period = period(&mut v, "period", req.period.as_ref());
    let as_of = day_or_today(&mut v, "as_of", req.as_of.as_ref(), today);
    let (payer, period, as_of) = accept(v, all_some!(payer, period, as_of))?;
    Ok(BillQuery {
        payer,
        period,
        as_of,
    })
}

/// The page asked for and the key it continues after, if the token names
/// one this service wrote.
/// The page request with its typed key (`PAGE_TOKEN_INVALID` when it does
/// not parse).
fn page<K: std::str::FromStr + std::fmt::Display>(
    v: &mut FieldViolations,
    request: Option<&common::PageRequest>,
) -> Option<Page<K>> {
    let request = request.cloned().unwrap_or_default();
    Page::parse(v, "page", request.page_size, &request.page_token)
}

pub fn list_arrears(
    req: &pb::ListArrearsRequest,
    today: NaiveDate,
) -> Result<(Page<ArrearsKey>, ArrearsQuery)> {
    bounded(&limits::LIST_ARREARS, req)?;
    let mut v = FieldViolations::new();
    let region = platform::error::region_code(&mut v, "region_code", &req.region_code);
    let as_of = day_or_today(&mut v, "as_of", req.as_of.as_ref(), today);
    let page = page::<ArrearsKey>(&mut v, req.page.as_ref());
    let (region_code, as_of, page) = accept(v, all_some!(region, as_of, page))?;
    let query = ArrearsQuery {
        region_code,
        as_of,
        page_size: page.size,
        after: page.after.clone(),
    };
    Ok((page, query))
}

fn range(
    v: &mut FieldViolations,
    person: &str,
    from: Option<&common::YearMonth>,
    to: Option<&common::YearMonth>,
) -> Option<StatementRange> {
    let person_id = platform::error::uuid(v, "person_id", person);
    let from = period(v, "from", from);
    let to = period(v, "to", to);
    if let (Some(f), Some(t)) = (from, to)
        && t < f
    {
        v.add("to", "RANGE_INVALID", "must not be before `from`");
    }
    let (person_id, from, to) = all_some!(person_id, from, to)?;
    Some(StatementRange {
        person_id,
        from,
        to,
    })
}

pub fn statement(req: &pb::GetStatementRequest) -> Result<(Page<LineKey>, StatementQuery)> {
    bounded(&limits::GET_STATEMENT, req)?;
    let mut v = FieldViolations::new();
    let range = range(&mut v, &req.person_id, req.from.as_ref(), req.to.as_ref());
    let page = page::<LineKey>(&mut v, req.page.as_ref());
    let (range, page) = accept(v, all_some!(range, page))?;
    let query = StatementQuery {
        range,
        page_size: page.size,
        after: page.after.clone(),
    };
    Ok((page, query))
}

pub fn stream_statement(req: &pb::StreamStatementRequest) -> Result<StatementRange> {
    bounded(&limits::STREAM_STATEMENT, req)?;
    let mut v = FieldViolations::new();
    let range = range(&mut v, &req.person_id, req.from.as_ref(), req.to.as_ref());
    accept(v, range)
}

//! Agency contracts: registering one (with its term), the person's
//! consent, an early end, the listing.

use pii::PartnerCode;
use platform::{all_some, error::FieldViolations, idempotency::RequestId, paging::Page};
use socsec_proto::contribution::v1 as pb;
use uuid::Uuid;

use super::{Result, accept, bounded, limits, money, period};
use crate::domain::{
    commands::{ContractsQuery, EndContract, RegisterContract},
    contract::{MAX_CONTRACT_MONTHS, months_between},
};

/// A monthly service fee above this (100,000 yuan) is refused as absurd.
const MAX_SERVICE_FEE_FEN: i64 = 10_000_000;

pub fn register_contract(
    req: &pb::RegisterAgencyContractRequest,
) -> Result<(RequestId, RegisterContract)> {
    bounded(&limits::REGISTER_AGENCY_CONTRACT, req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let agency = v.check("agency_code", PartnerCode::parse(&req.agency_code));
    let person_id = platform::error::uuid(&mut v, "person_id", &req.person_id);
    let fee = money(
        &mut v,
        "monthly_service_fee",
        req.monthly_service_fee.as_ref(),
        MAX_SERVICE_FEE_FEN,
    );
    let start = period(&mut v, "start", req.start.as_ref());
    let end = if req.end.is_none() {
        v.add(
            "end",
            "FIELD_REQUIRED",
            format!("a contract ends: at most {MAX_CONTRACT_MONTHS} months from its start"),
        );
        None
    } else {
        period(&mut v, "end", req.end.as_ref())
    };
    if let (Some(start), Some(end)) = (start, end) {
        if end < start {
            v.add("end", "END_BEFORE_START", "must not be before the start");
        } else if months_between(start, end) > MAX_CONTRACT_MONTHS {
            v.add(
                "end",
                "CONTRACT_TOO_LONG",
                format!("must be at most {MAX_CONTRACT_MONTHS} months from the start"),
            );
        }
    }
    let (request_id, agency, person_id, monthly_service_fee, start, end) =
        accept(v, all_some!(request_id, agency, person_id, fee, start, end))?;
    let command = RegisterContract {
        agency,
        person_id,
        monthly_service_fee,
        start,
        end,
    };
    Ok((request_id, command))
}

pub fn confirm_contract(req: &pb::ConfirmAgencyContractRequest) -> Result<(RequestId, Uuid)> {
    bounded(&limits::CONFIRM_AGENCY_CONTRACT, req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let contract_id = platform::error::uuid(&mut v, "contract_id", &req.contract_id);
    accept(v, all_some!(request_id, contract_id))
}

pub fn end_contract(req: &pb::EndAgencyContractRequest) -> Result<(RequestId, EndContract)> {
    bounded(&limits::END_AGENCY_CONTRACT, req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let contract_id = platform::error::uuid(&mut v, "contract_id", &req.contract_id);
    let end = match &req.end {
        None => Some(None),
        Some(end) => period(&mut v, "end", Some(end)).map(Some),
    };
    let (request_id, contract_id, end) = accept(v, all_some!(request_id, contract_id, end))?;
    Ok((request_id, EndContract { contract_id, end }))
}

pub fn list_contracts(
    req: &pb::ListAgencyContractsRequest,
) -> Result<(Page<Uuid>, ContractsQuery)> {
    bounded(&limits::LIST_AGENCY_CONTRACTS, req)?;
    let mut v = FieldViolations::new();
    let person_id = platform::error::uuid(&mut v, "person_id", &req.person_id);
    let request = req.page.clone().unwrap_or_default();
    let page = Page::<Uuid>::parse(&mut v, "page", request.page_size, &request.page_token);
    let (person_id, page) = accept(v, all_some!(person_id, page))?;
    let query = ContractsQuery {
        person_id,
        page_size: page.size,
        after: page.after,
    };
    Ok((page, query))
}

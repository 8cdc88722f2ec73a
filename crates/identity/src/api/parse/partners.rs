//! Partner-registry requests into commands.

use pii::PartnerCode;
use platform::{
    error::{FieldViolations, required},
    idempotency::RequestId,
    paging::Page,
};
use socsec_proto::{common::v1 as common, identity::v1 as pb};

use super::{Result, accept, bounded, limits};
use crate::domain::{
    NewPartner, PartnerKind,
    commands::{ListPartners, RegisterPartner, SetPartnerDesignation},
    partner,
};

pub fn register_partner(req: &pb::RegisterPartnerRequest) -> Result<RegisterPartner> {
    bounded(&limits::REGISTER_PARTNER, req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let partner = new_partner(&mut v, req);
    let (request_id, partner) = accept(v, platform::all_some!(request_id, partner))?;
    Ok(RegisterPartner {
        request_id,
        partner,
    })
}

pub fn set_partner_designation(
    req: &pb::SetPartnerDesignationRequest,
) -> Result<SetPartnerDesignation> {
    bounded(&limits::SET_PARTNER_DESIGNATION, req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let code = v.check("code", PartnerCode::parse(&req.code));
    let reason = required(&mut v, "reason", &req.reason).map(str::to_owned);
    let (request_id, code, reason) = accept(v, platform::all_some!(request_id, code, reason))?;
    Ok(SetPartnerDesignation {
        request_id,
        code,
        in_force: req.designation_in_force,
        reason,
        collects_contributions: req.collects_contributions,
    })
}

pub fn get_partner(req: &pb::GetPartnerRequest) -> Result<PartnerCode> {
    bounded(&limits::GET_PARTNER, req)?;
    let mut v = FieldViolations::new();
    let code = v.check("code", PartnerCode::parse(&req.code));
    accept(v, code)
}

pub fn list_partners(req: &pb::ListPartnersRequest) -> Result<ListPartners> {
    bounded(&limits::LIST_PARTNERS, req)?;
    let mut v = FieldViolations::new();
    let page_request = req.page.clone().unwrap_or_default();
    let page = Page::parse(
        &mut v,
        "page",
        page_request.page_size,
        &page_request.page_token,
    );
    let kind = match req.kind {
        0 => None,
        kind => {
            let parsed = partner_kind(kind);
            if parsed.is_none() {
                v.add("kind", "PARTNER_KIND_INVALID", "is not a partner kind");
            }
            parsed
        }
    };
    let page = accept(v, page)?;
    Ok(ListPartners { kind, page })
}

fn partner_kind(kind: i32) -> Option<PartnerKind> {
    Some(match common::PartnerKind::try_from(kind).ok()? {
        common::PartnerKind::Bank => PartnerKind::Bank,
        common::PartnerKind::BankOutlet => PartnerKind::BankOutlet,
        common::PartnerKind::Hospital => PartnerKind::Hospital,
        common::PartnerKind::Pharmacy => PartnerKind::Pharmacy,
        common::PartnerKind::HrAgency => PartnerKind::HrAgency,
        common::PartnerKind::Employer => PartnerKind::Employer,
        common::PartnerKind::HotlineCenter => PartnerKind::HotlineCenter,
        common::PartnerKind::Unspecified => return None,
    })
}

fn new_partner(v: &mut FieldViolations, req: &pb::RegisterPartnerRequest) -> Option<NewPartner> {
    let code = v.check("code", PartnerCode::parse(&req.code));
    let kind = partner_kind(req.kind);
    if kind.is_none() {
        v.add("kind", "PARTNER_KIND_REQUIRED", "must be a partner kind");
    }
    let name = v.check("name", partner::name(&req.name));
    let region_code = v.check("region_code", pii::RegionCode::parse(&req.region_code));
    let parent_code = match (
        kind.map(PartnerKind::has_parent),
        req.parent_code.is_empty(),
    ) {
        (Some(true), true) => {
            v.add(
                "parent_code",
                "FIELD_REQUIRED",
                "a bank outlet names its bank",
            );
            None
        }
        (Some(true), false) => v.check("parent_code", PartnerCode::parse(&req.parent_code)),
        (_, false) => {
            v.add(
                "parent_code",
                "PARENT_NOT_ALLOWED",
                "only bank outlets have a parent",
            );
            None
        }
        (_, true) => None,
    };
    let credit_code = if req.credit_code.is_empty() {
        if kind.is_some_and(PartnerKind::needs_credit_code) {
            v.add(
                "credit_code",
                "FIELD_REQUIRED",
                "employers and HR agencies give their unified social credit code",
            );
        }
        None
    } else {
        v.check("credit_code", pii::CreditCode::parse(&req.credit_code))
    };
    if req.collects_contributions && kind.is_some_and(|k| k != PartnerKind::Bank) {
        v.add(
            "collects_contributions",
            "COLLECTION_ONLY_FOR_BANKS",
            "only a bank may collect contributions",
        );
    }
    Some(NewPartner {
        code: code?,
        kind: kind?,
        name: name?,
        region_code: region_code?,
        parent_code,
        credit_code,
        designation_in_force: req.designation_in_force,
        collects_contributions: req.collects_contributions,
    })
}

//! E-card requests as commands.

use pii::CardNumber;
use platform::{
    all_some,
    error::{self, FieldViolations, required},
    idempotency::RequestId,
};
use socsec_proto::card::v1 as pb;
use uuid::Uuid;

use super::{Parsed, limits};
use crate::service::{IssueEcard, RedeemEcardToken};

pub fn issue_ecard(req: &pb::IssueEcardRequest) -> Parsed<IssueEcard> {
    limits::ISSUE_ECARD.check(req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let card_number = v.check("card_number", CardNumber::parse(&req.card_number));
    let (request_id, card_number) = v.finish(all_some!(request_id, card_number))?;
    Ok(IssueEcard {
        request_id,
        card_number,
    })
}

pub fn issue_ecard_token(req: &pb::IssueEcardTokenRequest) -> Parsed<Uuid> {
    limits::ISSUE_ECARD_TOKEN.check(req)?;
    let mut v = FieldViolations::new();
    let ecard_id = error::uuid(&mut v, "ecard_id", &req.ecard_id);
    v.finish(ecard_id)
}

pub fn redeem_ecard_token(req: &pb::RedeemEcardTokenRequest) -> Parsed<RedeemEcardToken> {
    limits::REDEEM_ECARD_TOKEN.check(req)?;
    let mut v = FieldViolations::new();
    let token = required(&mut v, "token", &req.token).map(str::to_owned);
    let single_use = if req.single_use {
        RequestId::parse(&mut v, &req.request_id).map(Some)
    } else {
        Some(None)
    };
    let (token, single_use) = v.finish(all_some!(token, single_use))?;
    Ok(RedeemEcardToken { token, single_use })
}

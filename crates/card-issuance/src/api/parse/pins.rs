//! PIN requests as commands. A PIN's violation names the field and the
//! rule, never the value.

use pii::{CardIdentificationCode, CardNumber};
use platform::{
    all_some,
    error::{FieldViolations, Reason},
    idempotency::RequestId,
};
use socsec_proto::card::v1 as pb;

use super::{Parsed, card_number, limits};
use crate::{
    domain::{Pin, PinRefused},
    service::{ChangePin, ResetPin, SetPin, VerifyPin},
};

impl Reason for PinRefused {
    fn reason(&self) -> &'static str {
        PinRefused::reason(self)
    }
}

fn new_pin(v: &mut FieldViolations, field: &str, value: &str) -> Option<Pin> {
    v.check(field, Pin::parse_new(value))
}

fn presented_pin(v: &mut FieldViolations, field: &str, value: &str) -> Option<Pin> {
    v.check(field, Pin::parse_presented(value))
}

pub fn set_pin(req: &pb::SetPinRequest) -> Parsed<SetPin> {
    limits::SET_PIN.check(req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let card_number = card_number(&mut v, "card_number", &req.card_number);
    let pin = new_pin(&mut v, "pin", &req.pin);
    let (request_id, card_number, pin) = v.finish(all_some!(request_id, card_number, pin))?;
    Ok(SetPin {
        request_id,
        card_number,
        pin,
    })
}

pub fn change_pin(req: &pb::ChangePinRequest) -> Parsed<ChangePin> {
    limits::CHANGE_PIN.check(req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let card_number = card_number(&mut v, "card_number", &req.card_number);
    let current = presented_pin(&mut v, "current_pin", &req.current_pin);
    let new = new_pin(&mut v, "new_pin", &req.new_pin);
    let (request_id, card_number, current, new) =
        v.finish(all_some!(request_id, card_number, current, new))?;
    Ok(ChangePin {
        request_id,
        card_number,
        current,
        new,
    })
}

pub fn reset_pin(req: &pb::ResetPinRequest) -> Parsed<ResetPin> {
    limits::RESET_PIN.check(req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let card_number = card_number(&mut v, "card_number", &req.card_number);
    let new = new_pin(&mut v, "new_pin", &req.new_pin);
    let (request_id, card_number, new) = v.finish(all_some!(request_id, card_number, new))?;
    Ok(ResetPin {
        request_id,
        card_number,
        new,
    })
}

pub fn verify_pin(req: &pb::VerifyPinRequest) -> Parsed<VerifyPin> {
    limits::VERIFY_PIN.check(req)?;
    let mut v = FieldViolations::new();
    let card = req.card.clone().unwrap_or_default();
    let number = card_number(&mut v, "card.card_number", &card.card_number);
    let code = v.check(
        "card.card_identification_code",
        CardIdentificationCode::parse(&card.card_identification_code),
    );
    let pin = presented_pin(&mut v, "pin", &req.pin);
    let (card_number, code, pin) = v.finish(all_some!(number, code, pin))?;
    Ok(VerifyPin {
        card_number,
        code,
        pin,
    })
}

pub fn get_pin_status(req: &pb::GetPinStatusRequest) -> Parsed<CardNumber> {
    limits::GET_PIN_STATUS.check(req)?;
    let mut v = FieldViolations::new();
    let number = card_number(&mut v, "card_number", &req.card_number);
    v.finish(number)
}

//! Requests as the service's commands: the request's size checked against
//! its limits (`limits`) before anything else, then every field parsed into
//! a domain type, every bad field reported at once (`INVALID_ARGUMENT` with a
//! `BadRequest`).

mod ecard;
mod import;
pub mod limits;
pub mod pins;

pub use ecard::*;
pub use import::{import_cards, import_legacy_cards};

use pii::{
    BankBin, BankCardNumber, CardIdentificationCode, CardNumber, PartnerCode, RegionCode,
    SerialNumber,
};
use platform::{
    all_some,
    error::{self, FieldViolations, Reason, required},
    idempotency::RequestId,
};
use socsec_proto::card::v1 as pb;
use tonic::Status;
use uuid::Uuid;

use crate::{
    domain::{
        CardChange, Generation, LegacyCardNumber, NumberingSpec, issuing::MAX_BATCH,
        legacy::LegacyCardNumberError, lifecycle::ReasonRule,
    },
    service::{
        ApplyForCard, ChangeCard, IssueCard, IssueCards, RegisterLegacyCard, ReplaceCard,
        RetireLegacyCard,
    },
    store::CardKey,
};

type Parsed<T> = Result<T, Status>;

impl Reason for LegacyCardNumberError {
    fn reason(&self) -> &'static str {
        LegacyCardNumberError::reason(self)
    }
}

fn generation(v: &mut FieldViolations, value: i32) -> Option<Generation> {
    let generation = Generation::from_requested(value);
    if generation.is_none() {
        v.add("generation", "GENERATION_INVALID", "must be 1, 2 or 3");
    }
    generation
}

/// For one card: an explicit `bank_card_number`, else `bank_bin`.
fn numbering_single(
    v: &mut FieldViolations,
    bank_card_number: &str,
    bank_bin: &str,
) -> Option<NumberingSpec> {
    if !bank_card_number.is_empty() {
        return v
            .check("bank_card_number", BankCardNumber::parse(bank_card_number))
            .map(NumberingSpec::Given);
    }
    numbering_from_bin(v, bank_bin)
}

fn numbering_from_bin(v: &mut FieldViolations, bank_bin: &str) -> Option<NumberingSpec> {
    if bank_bin.is_empty() {
        v.add(
            "bank_bin",
            "FIELD_REQUIRED",
            "is required to number the bank card",
        );
        return None;
    }
    v.check("bank_bin", BankBin::parse(bank_bin))
        .map(NumberingSpec::FromBin)
}

/// The reason for `change`, as the domain asks for it.
fn change_reason(v: &mut FieldViolations, change: CardChange, given: &str) -> Option<String> {
    match change.reason_rule() {
        ReasonRule::Required => required(v, "reason", given).map(str::to_owned),
        ReasonRule::Optional(default) if given.is_empty() => Some(default.to_owned()),
        ReasonRule::Optional(_) => Some(given.to_owned()),
        ReasonRule::Fixed(reason) => Some(reason.to_owned()),
    }
}

fn card_number(v: &mut FieldViolations, field: &str, value: &str) -> Option<CardNumber> {
    v.check(field, CardNumber::parse(value))
}

fn legacy_number(v: &mut FieldViolations, value: &str) -> Option<LegacyCardNumber> {
    v.check("card_number", LegacyCardNumber::parse(value))
}

fn person_id(v: &mut FieldViolations, value: &str) -> Option<Uuid> {
    error::uuid(v, "person_id", value)
}

pub fn apply_for_card(req: &pb::ApplyForCardRequest) -> Parsed<ApplyForCard> {
    limits::APPLY_FOR_CARD.check(req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let person_id = person_id(&mut v, &req.person_id);
    let bank = v.check("bank_code", PartnerCode::parse(&req.bank_code));
    let region = if req.issuing_region_code.is_empty() {
        Some(None)
    } else {
        v.check(
            "issuing_region_code",
            RegionCode::parse(&req.issuing_region_code),
        )
        .map(Some)
    };
    let (request_id, person_id, bank, region) =
        v.finish(all_some!(request_id, person_id, bank, region))?;
    Ok(ApplyForCard {
        request_id,
        person_id,
        bank,
        region,
    })
}

pub fn issue_card(req: &pb::IssueCardRequest) -> Parsed<IssueCard> {
    limits::ISSUE_CARD.check(req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let application_id = error::uuid(&mut v, "application_id", &req.application_id);
    let generation = generation(&mut v, req.generation);
    let numbering = numbering_single(&mut v, &req.bank_card_number, &req.bank_bin);
    let (request_id, application_id, generation, numbering) =
        v.finish(all_some!(request_id, application_id, generation, numbering))?;
    Ok(IssueCard {
        request_id,
        application_id,
        generation,
        numbering,
    })
}

pub fn issue_cards(req: &pb::IssueCardsRequest) -> Parsed<IssueCards> {
    limits::ISSUE_CARDS.check(req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let bank = v.check("bank_code", PartnerCode::parse(&req.bank_code));
    let numbering = numbering_from_bin(&mut v, &req.bank_bin);
    let generation = generation(&mut v, req.generation);
    if !(1..=MAX_BATCH).contains(&req.max_cards) {
        v.add(
            "max_cards",
            "MAX_CARDS_INVALID",
            format!("must be 1 to {MAX_BATCH}"),
        );
    }
    let (request_id, bank, numbering, generation) =
        v.finish(all_some!(request_id, bank, numbering, generation))?;
    Ok(IssueCards {
        request_id,
        bank,
        numbering,
        generation,
        max_cards: i64::from(req.max_cards),
    })
}

fn change_card(
    rpc: &'static str,
    change: CardChange,
    request_id: &str,
    number: &str,
    reason: &str,
) -> Parsed<ChangeCard> {
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, request_id);
    let card_number = card_number(&mut v, "card_number", number);
    let reason = change_reason(&mut v, change, reason);
    let (request_id, card_number, reason) = v.finish(all_some!(request_id, card_number, reason))?;
    Ok(ChangeCard {
        rpc,
        request_id,
        card_number,
        change,
        reason,
    })
}

pub fn record_receipt(req: &pb::RecordReceiptRequest) -> Parsed<ChangeCard> {
    limits::RECORD_RECEIPT.check(req)?;
    let (id, number) = (&req.request_id, &req.card_number);
    change_card("RecordReceipt", CardChange::Receive, id, number, "")
}

pub fn report_loss(req: &pb::ReportLossRequest) -> Parsed<ChangeCard> {
    limits::REPORT_LOSS.check(req)?;
    let (id, number) = (&req.request_id, &req.card_number);
    change_card(
        "ReportLoss",
        CardChange::ReportLoss,
        id,
        number,
        &req.reason,
    )
}

pub fn cancel_card(req: &pb::CancelCardRequest) -> Parsed<ChangeCard> {
    limits::CANCEL_CARD.check(req)?;
    let (id, number) = (&req.request_id, &req.card_number);
    change_card("CancelCard", CardChange::Cancel, id, number, &req.reason)
}

pub fn replace_card(req: &pb::ReplaceCardRequest) -> Parsed<ReplaceCard> {
    limits::REPLACE_CARD.check(req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let card_number = card_number(&mut v, "card_number", &req.card_number);
    let reason = change_reason(&mut v, CardChange::Replace, &req.reason);
    let generation = generation(&mut v, req.generation);
    let numbering = numbering_single(&mut v, &req.bank_card_number, &req.bank_bin);
    let (request_id, card_number, reason, generation, numbering) = v.finish(all_some!(
        request_id,
        card_number,
        reason,
        generation,
        numbering
    ))?;
    Ok(ReplaceCard {
        request_id,
        card_number,
        reason,
        generation,
        numbering,
    })
}

pub fn get_card(req: &pb::GetCardRequest) -> Parsed<CardKey> {
    use pb::get_card_request::Key;
    limits::GET_CARD.check(req)?;
    let mut v = FieldViolations::new();
    let key = match &req.key {
        Some(Key::CardNumber(n)) => card_number(&mut v, "card_number", n).map(CardKey::Number),
        Some(Key::CardIdentificationCode(c)) => v
            .check("card_identification_code", CardIdentificationCode::parse(c))
            .map(CardKey::IdentificationCode),
        Some(Key::SerialNumber(s)) => v
            .check("serial_number", SerialNumber::parse(s))
            .map(CardKey::Serial),
        None => {
            v.add(
                "key",
                "FIELD_REQUIRED",
                "give a card number, identification code or serial number",
            );
            None
        }
    };
    v.finish(key)
}

pub fn list_person_cards(req: &pb::ListPersonCardsRequest) -> Parsed<Uuid> {
    limits::LIST_PERSON_CARDS.check(req)?;
    let mut v = FieldViolations::new();
    let person_id = person_id(&mut v, &req.person_id);
    v.finish(person_id)
}

pub fn register_legacy_card(
    req: &pb::RegisterLegacyMedicalCardRequest,
) -> Parsed<RegisterLegacyCard> {
    limits::REGISTER_LEGACY_MEDICAL_CARD.check(req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let card_number = legacy_number(&mut v, &req.card_number);
    let person_id = person_id(&mut v, &req.person_id);
    let region = v.check("region_code", RegionCode::parse(&req.region_code));
    let (request_id, card_number, person_id, region) =
        v.finish(all_some!(request_id, card_number, person_id, region))?;
    Ok(RegisterLegacyCard {
        request_id,
        card_number,
        person_id,
        region,
    })
}

pub fn retire_legacy_card(req: &pb::RetireLegacyMedicalCardRequest) -> Parsed<RetireLegacyCard> {
    limits::RETIRE_LEGACY_MEDICAL_CARD.check(req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let legacy = legacy_number(&mut v, &req.card_number);
    let replaced_by = card_number(
        &mut v,
        "replaced_by_card_number",
        &req.replaced_by_card_number,
    );
    let (request_id, card_number, replaced_by) =
        v.finish(all_some!(request_id, legacy, replaced_by))?;
    Ok(RetireLegacyCard {
        request_id,
        card_number,
        replaced_by,
    })
}

pub fn get_legacy_card(req: &pb::GetLegacyMedicalCardRequest) -> Parsed<LegacyCardNumber> {
    limits::GET_LEGACY_MEDICAL_CARD.check(req)?;
    let mut v = FieldViolations::new();
    let card_number = legacy_number(&mut v, &req.card_number);
    v.finish(card_number)
}

/// A `Watch…` request: only its size needs checking here (the cursor is
/// read by the event stream).
pub fn watch_card_events(req: &pb::WatchCardEventsRequest) -> Parsed<()> {
    limits::WATCH_CARD_EVENTS.check(req)
}

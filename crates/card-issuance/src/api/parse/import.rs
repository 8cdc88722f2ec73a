//! Import batches of cards and old medical cards: every field parsed by the
//! parsers the ordinary RPCs use (an old medical card by
//! `register_legacy_card` itself), a record's violation becoming its
//! rejection while the rest of the batch goes on.

use chrono::{DateTime, NaiveDate, Utc};
use pii::{
    BankCardNumber, CardIdentificationCode, IdNumber, PartnerCode, RegionCode, SerialNumber,
};
use platform::{all_some, error::FieldViolations, idempotency::RequestId, import::Rejection};
use socsec_proto::card::v1 as pb;

use super::{Parsed, card_number, generation, limits, register_legacy_card};
use crate::{
    domain::{
        CardStatus,
        import::{ImportedActivation, activation_channel, check_history},
    },
    service::{ImportBatch, ImportCard, ImportLegacyCard},
};

/// The person id a legacy record is parsed with until identity names the
/// holder (`register_legacy_card` wants one).
const HOLDER_PENDING: &str = "00000000-0000-0000-0000-000000000000";

fn batch<R, T>(
    request_id: &str,
    records: &[R],
    line: impl Fn(&R) -> i64,
    parse: impl Fn(&R) -> Result<T, Rejection>,
) -> Parsed<ImportBatch<T>> {
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, request_id);
    let request_id = v.finish(request_id)?;
    Ok(ImportBatch {
        request_id,
        records: records.iter().map(|r| (line(r), parse(r))).collect(),
    })
}

pub fn import_cards(
    req: &pb::ImportCardsRequest,
    now: DateTime<Utc>,
) -> Parsed<ImportBatch<ImportCard>> {
    limits::IMPORT_CARDS.check(req)?;
    batch(&req.request_id, &req.cards, |c| c.line, |c| card(c, now))
}

pub fn import_legacy_cards(
    req: &pb::ImportLegacyMedicalCardsRequest,
    today: NaiveDate,
) -> Parsed<ImportBatch<ImportLegacyCard>> {
    limits::IMPORT_LEGACY_MEDICAL_CARDS.check(req)?;
    batch(
        &req.request_id,
        &req.cards,
        |c| c.line,
        |c| legacy(c, today),
    )
}

fn first(v: FieldViolations) -> Rejection {
    Rejection::from_status(&v.into_status())
}

fn timestamp(t: Option<prost_types::Timestamp>) -> Option<Option<DateTime<Utc>>> {
    match t {
        None => Some(None),
        Some(t) => DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?).map(Some),
    }
}

fn card(c: &pb::ImportedCard, now: DateTime<Utc>) -> Result<ImportCard, Rejection> {
    let today = socsec_core::time::china_date(now);
    let mut v = FieldViolations::new();
    let holder = v.check(
        "holder_id_number",
        IdNumber::parse(&c.holder_id_number, today),
    );
    let number = card_number(&mut v, "card_number", &c.card_number);
    let code = v.check(
        "card_identification_code",
        CardIdentificationCode::parse(&c.card_identification_code),
    );
    let serial = v.check("serial_number", SerialNumber::parse(&c.serial_number));
    let generation = generation(&mut v, c.generation);
    let status = match pb::CardStatus::try_from(c.status) {
        Ok(pb::CardStatus::Issued) => Some(CardStatus::Issued),
        Ok(pb::CardStatus::Received) => Some(CardStatus::Received),
        Ok(pb::CardStatus::Lost) => Some(CardStatus::Lost),
        Ok(pb::CardStatus::Replaced) => Some(CardStatus::Replaced),
        Ok(pb::CardStatus::Cancelled) => Some(CardStatus::Cancelled),
        _ => {
            v.add("status", "CARD_STATUS_REQUIRED", "must be a card status");
            None
        }
    };
    let region = v.check(
        "issuing_region_code",
        RegionCode::parse(&c.issuing_region_code),
    );
    let issued_on = c
        .issued_on
        .as_ref()
        .and_then(|d| NaiveDate::from_ymd_opt(d.year, d.month as u32, d.day as u32));
    if issued_on.is_none() {
        v.add("issued_on", "DATE_INVALID", "must be a calendar date");
    }
    let received_at = timestamp(c.received_at);
    if received_at.is_none() {
        v.add("received_at", "TIMESTAMP_INVALID", "must be an instant");
    }
    let bank = v.check("bank_code", PartnerCode::parse(&c.bank_code));
    let bank_card = v.check(
        "bank_card_number",
        BankCardNumber::parse(&c.bank_card_number),
    );
    let activation = match &c.activation {
        None => Some(None),
        Some(a) => {
            let channel = activation_channel(&a.channel);
            if channel.is_none() {
                v.add(
                    "activation.channel",
                    "ACTIVATION_CHANNEL_INVALID",
                    "must be an activation channel",
                );
            }
            let at = timestamp(a.activated_at).flatten();
            if at.is_none() {
                v.add("activation.activated_at", "FIELD_REQUIRED", "is required");
            }
            all_some!(channel, at).map(|(channel, at)| Some(ImportedActivation { channel, at }))
        }
    };
    let parsed = all_some!(
        holder,
        number,
        code,
        serial,
        generation,
        status,
        region,
        issued_on,
        received_at,
        bank,
        bank_card,
        activation
    );
    let Some((
        holder,
        number,
        code,
        serial,
        generation,
        status,
        region,
        issued_on,
        received_at,
        bank,
        bank_card,
        activation,
    )) = parsed.filter(|_| v.is_empty())
    else {
        return Err(first(v));
    };
    check_history(status, issued_on, received_at, activation.as_ref(), now)
        .map_err(|(field, reason)| Rejection::new(field, reason))?;
    Ok(ImportCard {
        holder,
        card_number: number,
        identification_code: code,
        serial_number: serial,
        generation,
        status,
        region,
        issued_on,
        received_at,
        bank_code: bank,
        bank_card_number: bank_card,
        activation,
    })
}

fn legacy(c: &pb::ImportedLegacyCard, today: NaiveDate) -> Result<ImportLegacyCard, Rejection> {
    let mut v = FieldViolations::new();
    let holder = v.check(
        "holder_id_number",
        IdNumber::parse(&c.holder_id_number, today),
    );
    let as_registration = pb::RegisterLegacyMedicalCardRequest {
        request_id: "import".to_owned(),
        card_number: c.card_number.clone(),
        person_id: HOLDER_PENDING.to_owned(),
        region_code: c.region_code.clone(),
    };
    let registered = register_legacy_card(&as_registration);
    match (holder, registered) {
        (Some(holder), Ok(parsed)) if v.is_empty() => Ok(ImportLegacyCard {
            holder,
            card_number: parsed.card_number,
            region: parsed.region,
        }),
        (_, Err(status)) if v.is_empty() => Err(Rejection::from_status(&status)),
        _ => Err(first(v)),
    }
}

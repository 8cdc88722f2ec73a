//! Card-issuance's and identity's messages as activation's domain values:
//! for the projectors (events) and for the direct checks made when the
//! projection is behind (answers).

use chrono::{DateTime, Utc};
use pii::{BankCardNumber, CardIdentificationCode, CardNumber, SerialNumber};
use socsec_proto::{card::v1 as card, identity::v1 as identity};
use uuid::Uuid;

use crate::{
    domain::{CardState, LegacyStatus, Partner},
    store::ProjectedCard,
};

pub fn to_utc(t: Option<prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::from_timestamp(t.seconds, t.nanos as u32))
}

/// A card's status as published; one this service does not know is
/// treated as cancelled (never usable), as it always was.
pub fn card_state(status: i32) -> CardState {
    match card::CardStatus::try_from(status) {
        Ok(card::CardStatus::Issued) => CardState::Issued,
        Ok(card::CardStatus::Received) => CardState::Received,
        Ok(card::CardStatus::Lost) => CardState::Lost,
        Ok(card::CardStatus::Replaced) => CardState::Replaced,
        _ => CardState::Cancelled,
    }
}

/// An old card's status as published.
pub fn legacy_status(status: i32) -> LegacyStatus {
    if status == card::LegacyCardStatus::Retired as i32 {
        LegacyStatus::Retired
    } else {
        LegacyStatus::Active
    }
}

pub fn person(id: &str) -> Result<Uuid, sqlx::Error> {
    Uuid::parse_str(id).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// A published identifier that does not parse: the batch is not applied.
fn identifier<T>(field: &str, parsed: Result<T, pii::CardIdError>) -> Result<T, sqlx::Error> {
    parsed.map_err(|e| sqlx::Error::Decode(format!("published {field} is invalid: {e}").into()))
}

pub fn projected_card(c: &card::Card) -> Result<ProjectedCard, sqlx::Error> {
    Ok(ProjectedCard {
        card_number: identifier("card_number", CardNumber::parse(&c.card_number))?,
        card_identification_code: identifier(
            "card_identification_code",
            CardIdentificationCode::parse(&c.card_identification_code),
        )?,
        serial_number: identifier("serial_number", SerialNumber::parse(&c.serial_number))?,
        person_id: person(&c.person_id)?,
        bank_code: c.bank_code.clone(),
        bank_card_number: identifier(
            "bank_card_number",
            BankCardNumber::parse(&c.bank_card_number),
        )?,
        issuing_region_code: c.issuing_region_code.clone(),
        status: card_state(c.status),
        received_at: to_utc(c.received_at),
    })
}

/// The activation an imported card came with, as card-issuance checked it.
pub fn imported_activation(
    a: &card::ImportedActivation,
) -> Result<crate::domain::Activation, sqlx::Error> {
    let channel = a
        .channel
        .parse()
        .map_err(|e| sqlx::Error::Decode(format!("published activation channel: {e}").into()))?;
    let at = to_utc(a.activated_at)
        .ok_or_else(|| sqlx::Error::Decode("published activation without its instant".into()))?;
    Ok(crate::domain::Activation { channel, at })
}

/// The partner as identity published it; `None` (logged) for a kind this
/// service does not know.
pub fn partner(p: &identity::Partner) -> Option<Partner> {
    let Some(registration) = platform::registry::registration(p) else {
        tracing::warn!(partner = %p.code, kind = p.kind, "partner of an unknown kind ignored");
        return None;
    };
    Some(Partner {
        code: p.code.clone(),
        registration,
        parent_code: (!p.parent_code.is_empty()).then(|| p.parent_code.clone()),
    })
}

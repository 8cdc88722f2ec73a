//! Rows and domain values as the protos callers receive, shaped to what each
//! caller may see.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use pii::CardNumber;
use platform::{
    auth::Caller,
    clock::{date, timestamp},
};
use socsec_proto::card::v1 as pb;

use crate::{
    domain::{ApplicationStatus, CardStatus, LegacyCardStatus, access, pin::MAX_FAILURES},
    store::{ApplicationRow, CardRow, HistoryRow, LegacyCardRow, NewCard, PinCardRow},
};

pub fn card_status(status: CardStatus) -> pb::CardStatus {
    match status {
        CardStatus::Issued => pb::CardStatus::Issued,
        CardStatus::Received => pb::CardStatus::Received,
        CardStatus::Lost => pb::CardStatus::Lost,
        CardStatus::Replaced => pb::CardStatus::Replaced,
        CardStatus::Cancelled => pb::CardStatus::Cancelled,
    }
}

fn number_or_empty(number: Option<&CardNumber>) -> String {
    number.map(|n| n.as_str().to_owned()).unwrap_or_default()
}

/// A stored card in full, with its history.
pub fn card(row: &CardRow, history: Vec<pb::StatusChange>) -> pb::Card {
    pb::Card {
        card_number: row.card_number.as_str().to_owned(),
        card_identification_code: row.card_identification_code.as_str().to_owned(),
        serial_number: row.serial_number.as_str().to_owned(),
        person_id: row.person_id.to_string(),
        generation: i32::from(row.generation),
        status: card_status(row.status) as i32,
        issuing_region_code: row.issuing_region_code.as_str().to_owned(),
        issued_on: Some(date(row.issued_on)),
        received_at: row.received_at.map(timestamp),
        bank_code: row.bank_code.as_str().to_owned(),
        bank_card_number: row.bank_card_number.expose().to_owned(),
        masked_bank_card_number: row.bank_card_number.masked(),
        application_id: row
            .application_id
            .map(|a| a.to_string())
            .unwrap_or_default(),
        replaces_card_number: number_or_empty(row.replaces_card_number.as_ref()),
        replaced_by_card_number: number_or_empty(row.replaced_by_card_number.as_ref()),
        history,
        imported_activation: row
            .imported_activation_channel
            .as_ref()
            .zip(row.imported_activated_at)
            .map(|(channel, at)| pb::ImportedActivation {
                channel: channel.clone(),
                activated_at: Some(timestamp(at)),
            }),
    }
}

/// An imported card in full, as `CardIssued` publishes it: with its
/// receipt and the activation the old system recorded.
pub fn imported_card(card: &crate::service::ImportCard, person_id: uuid::Uuid) -> pb::Card {
    pb::Card {
        card_number: card.card_number.as_str().to_owned(),
        card_identification_code: card.identification_code.as_str().to_owned(),
        serial_number: card.serial_number.as_str().to_owned(),
        person_id: person_id.to_string(),
        generation: i32::from(card.generation.value()),
        status: card_status(card.status) as i32,
        issuing_region_code: card.region.as_str().to_owned(),
        issued_on: Some(date(card.issued_on)),
        received_at: card.received_at.map(timestamp),
        bank_code: card.bank_code.as_str().to_owned(),
        bank_card_number: card.bank_card_number.expose().to_owned(),
        masked_bank_card_number: card.bank_card_number.masked(),
        imported_activation: card.activation.as_ref().map(|a| pb::ImportedActivation {
            channel: a.channel.to_owned(),
            activated_at: Some(timestamp(a.at)),
        }),
        ..Default::default()
    }
}

/// A card just made, in full: issued on `issued_on`, not yet received.
pub fn issued_card(new: &NewCard, issued_on: NaiveDate) -> pb::Card {
    pb::Card {
        card_number: new.ids.card_number.as_str().to_owned(),
        card_identification_code: new.ids.identification_code.as_str().to_owned(),
        serial_number: new.ids.serial_number.as_str().to_owned(),
        person_id: new.order.person_id.to_string(),
        generation: i32::from(new.generation.value()),
        status: pb::CardStatus::Issued as i32,
        issuing_region_code: new.order.region.as_str().to_owned(),
        issued_on: Some(date(issued_on)),
        received_at: None,
        bank_code: new.order.bank_code.as_str().to_owned(),
        bank_card_number: new.ids.bank_card_number.expose().to_owned(),
        masked_bank_card_number: new.ids.bank_card_number.masked(),
        application_id: new
            .order
            .application_id
            .map(|a| a.to_string())
            .unwrap_or_default(),
        replaces_card_number: number_or_empty(new.order.replaces.as_ref()),
        replaced_by_card_number: String::new(),
        history: Vec::new(),
        imported_activation: None,
    }
}

/// `card` as `caller` may see it: the full bank card number only for those
/// the domain allows ([`access::sees_full_bank_card_number`]); everyone else
/// keeps only the masked one.
pub fn card_for(caller: &Caller, mut card: pb::Card) -> pb::Card {
    if !access::sees_full_bank_card_number(caller, &card.bank_code) {
        card.bank_card_number.clear();
    }
    card
}

/// Stored cards with their histories, as `caller` may see them.
pub fn cards_for(caller: &Caller, rows: &[CardRow], histories: Vec<HistoryRow>) -> Vec<pb::Card> {
    let mut by_card: HashMap<CardNumber, Vec<pb::StatusChange>> = HashMap::new();
    for h in histories {
        by_card
            .entry(h.card_number)
            .or_default()
            .push(pb::StatusChange {
                status: card_status(h.status) as i32,
                at: Some(timestamp(h.at)),
                changed_by: h.changed_by,
                reason: h.reason,
            });
    }
    rows.iter()
        .map(|row| {
            let history = by_card.remove(&row.card_number).unwrap_or_default();
            card_for(caller, card(row, history))
        })
        .collect()
}

/// A PIN just set, changed or reset.
pub fn pin_set(card_number: &CardNumber, at: DateTime<Utc>) -> pb::PinStatus {
    pb::PinStatus {
        card_number: card_number.as_str().to_owned(),
        state: pb::PinState::Set as i32,
        set_at: Some(timestamp(at)),
        attempts_left: MAX_FAILURES,
    }
}

/// Whether a card has a PIN and whether it is locked; never the PIN or its hash.
pub fn pin_status(card: &PinCardRow) -> pb::PinStatus {
    let pin = card.pin();
    let state = match &pin {
        None => pb::PinState::NotSet,
        Some(pin) if pin.locked() => pb::PinState::Locked,
        Some(_) => pb::PinState::Set,
    };
    pb::PinStatus {
        card_number: card.card_number.as_str().to_owned(),
        state: state as i32,
        set_at: card.set_at.map(timestamp),
        attempts_left: pin.map_or(0, |p| p.attempts_left()),
    }
}

pub fn application(row: &ApplicationRow) -> pb::CardApplication {
    pb::CardApplication {
        application_id: row.application_id.to_string(),
        person_id: row.person_id.to_string(),
        bank_code: row.bank_code.as_str().to_owned(),
        issuing_region_code: row.issuing_region_code.as_str().to_owned(),
        status: match row.status {
            ApplicationStatus::Pending => pb::ApplicationStatus::Pending,
            ApplicationStatus::Issued => pb::ApplicationStatus::Issued,
        } as i32,
        applied_at: Some(timestamp(row.applied_at)),
        card_number: number_or_empty(row.card_number.as_ref()),
    }
}

pub fn legacy_card(row: &LegacyCardRow) -> pb::LegacyMedicalCard {
    pb::LegacyMedicalCard {
        card_number: row.card_number.expose().to_owned(),
        person_id: row.person_id.to_string(),
        region_code: row.region_code.as_str().to_owned(),
        status: match row.status {
            LegacyCardStatus::Active => pb::LegacyCardStatus::Active,
            LegacyCardStatus::Retired => pb::LegacyCardStatus::Retired,
        } as i32,
        registered_at: Some(timestamp(row.registered_at)),
        retired_at: row.retired_at.map(timestamp),
    }
}

/// An e-card, in force while its card (in `card_status`) is received.
pub fn ecard(row: &crate::store::EcardRow, card_status: CardStatus) -> pb::Ecard {
    let status = if crate::domain::ecard::in_force(card_status) {
        pb::EcardStatus::InForce
    } else {
        pb::EcardStatus::Stopped
    };
    pb::Ecard {
        ecard_id: row.ecard_id.to_string(),
        card_number: row.card_number.as_str().to_owned(),
        person_id: row.person_id.to_string(),
        status: status.into(),
        issued_at: Some(timestamp(row.issued_at)),
        issued_by: row.issued_by.clone(),
    }
}

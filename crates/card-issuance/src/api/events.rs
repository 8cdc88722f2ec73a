//! The events card-issuance publishes on `WatchCardEvents`, encoded for the
//! outbox: the whole card when it is issued, then each change of status, and
//! the old medical insurance cards.

use chrono::{DateTime, Utc};
use platform::clock::timestamp;
use prost::Message;
use socsec_proto::card::v1::{self as pb, card_event::Event};

use super::present;
use crate::store::CardRow;

/// An event's type name and encoded payload, as the outbox stores them.
pub type Encoded = (&'static str, Vec<u8>);

fn encode(event: Event) -> Encoded {
    let event_type = match &event {
        Event::CardIssued(_) => "CardIssued",
        Event::CardStatusChanged(_) => "CardStatusChanged",
        Event::LegacyCardRegistered(_) => "LegacyCardRegistered",
        Event::LegacyCardRetired(_) => "LegacyCardRetired",
    };
    let payload = pb::CardEvent {
        event: Some(event),
        ..Default::default()
    }
    .encode_to_vec();
    (event_type, payload)
}

/// `CardIssued`: the whole card, full bank card number included (only
/// services watch the stream).
pub fn card_issued(card: pb::Card) -> Encoded {
    encode(Event::CardIssued(card))
}

/// `CardStatusChanged`: the card's status as `row` now holds it.
pub fn status_changed(row: &CardRow, at: DateTime<Utc>) -> Encoded {
    encode(Event::CardStatusChanged(pb::CardStatusChanged {
        card_number: row.card_number.as_str().to_owned(),
        person_id: row.person_id.to_string(),
        status: present::card_status(row.status) as i32,
        at: Some(timestamp(at)),
        received_at: row.received_at.map(timestamp),
        replaced_by_card_number: row
            .replaced_by_card_number
            .as_ref()
            .map(|n| n.as_str().to_owned())
            .unwrap_or_default(),
    }))
}

pub fn legacy_registered(card: pb::LegacyMedicalCard) -> Encoded {
    encode(Event::LegacyCardRegistered(card))
}

pub fn legacy_retired(card: pb::LegacyMedicalCard) -> Encoded {
    encode(Event::LegacyCardRetired(card))
}

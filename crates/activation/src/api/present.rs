//! Domain values and rows as the proto messages callers see.

use pii::CardNumber;
use platform::{clock::timestamp, paging::Page};
use prost::Message;
use socsec_proto::{activation::v1 as pb, common::v1 as common};
use uuid::Uuid;

use crate::{
    domain::{
        Activation, Basis, Channel, Consequence, Reason, RegionPolicy, Source, Verdict, Window,
        command::DeadlineKey,
    },
    store::{CardRow, DeadlineRow},
};

pub fn channel(channel: Channel) -> pb::Channel {
    match channel {
        Channel::BankOutlet => pb::Channel::BankOutlet,
        Channel::Hospital => pb::Channel::Hospital,
        Channel::Pharmacy => pb::Channel::Pharmacy,
        Channel::FinancialFunction => pb::Channel::FinancialFunction,
        Channel::Hotline => pb::Channel::Hotline,
    }
}

/// The card's activation as stored, if it has one.
pub fn stored_activation(row: &CardRow) -> Option<pb::Activation> {
    Some(pb::Activation {
        card_number: row.card_number.to_string(),
        channel: channel(row.channel?) as i32,
        partner_code: row.partner_code.clone().unwrap_or_default(),
        operator_id: row.operator_id.clone().unwrap_or_default(),
        activated_at: row.activated_at.map(timestamp),
        retired_legacy_card_number: row.retired_legacy_card_number.clone().unwrap_or_default(),
    })
}

/// The activation an imported card came with, as recorded
/// (`store::projection::record_imported_activation`).
pub fn imported_activation(card_number: &CardNumber, activation: Activation) -> pb::Activation {
    pb::Activation {
        card_number: card_number.to_string(),
        channel: channel(activation.channel) as i32,
        partner_code: crate::store::projection::IMPORTED_PARTNER.to_owned(),
        operator_id: String::new(),
        activated_at: Some(timestamp(activation.at)),
        retired_legacy_card_number: String::new(),
    }
}

/// `CardActivated`, as published on `WatchActivationEvents`.
pub fn card_activated(activation: &pb::Activation, person_id: Uuid) -> Vec<u8> {
    pb::ActivationEvent {
        event: Some(pb::activation_event::Event::CardActivated(
            pb::CardActivated {
                activation: Some(activation.clone()),
                person_id: person_id.to_string(),
            },
        )),
        ..Default::default()
    }
    .encode_to_vec()
}

pub fn reason(reason: Reason) -> pb::EligibilityReason {
    use pb::EligibilityReason as R;
    match reason {
        Reason::Eligible => R::Eligible,
        Reason::CardNotReceived => R::CardNotReceived,
        Reason::CardNotActivated => R::CardNotActivated,
        Reason::CardLost => R::CardLost,
        Reason::CardReplaced => R::CardReplaced,
        Reason::CardCancelled => R::CardCancelled,
        Reason::LegacyCardRestricted => R::LegacyCardRestricted,
        Reason::LegacyCardRetired => R::LegacyCardRetired,
        Reason::CardUnknown => R::CardUnknown,
    }
}

pub fn eligibility(verdict: Verdict, basis: Basis) -> pb::Eligibility {
    pb::Eligibility {
        eligible: verdict.eligible(),
        reason: reason(verdict.reason) as i32,
        activation_deadline: verdict.deadline.map(timestamp),
        deadline_passed: verdict.deadline_passed,
        data_as_of: Some(timestamp(basis.as_of)),
        source: match basis.source {
            Source::Projection => pb::CardStateSource::Projection,
            Source::CardIssuance => pb::CardStateSource::CardIssuance,
        } as i32,
    }
}

/// A card's state, deadline and activation, for operators and services.
pub fn card_activation(card: &CardRow, default_policy: RegionPolicy) -> pb::CardActivation {
    pb::CardActivation {
        card_number: card.card_number.to_string(),
        person_id: card.person_id.to_string(),
        card_status: card.status.as_str().to_owned(),
        received_at: card.received_at.map(timestamp),
        activation_deadline: card.facts(default_policy).deadline().map(timestamp),
        activation: stored_activation(card),
    }
}

/// The page key of a deadline row.
fn page_key(row: &DeadlineRow) -> DeadlineKey {
    DeadlineKey {
        deadline: row.deadline,
        card_number: row.card_number.to_string(),
    }
}

pub fn approaching_deadlines(
    rows: Vec<DeadlineRow>,
    page: &Page<DeadlineKey>,
) -> pb::ListApproachingDeadlinesResponse {
    let last = rows.last().map(page_key);
    pb::ListApproachingDeadlinesResponse {
        page: Some(common::PageResponse {
            next_page_token: page.next_token(rows.len(), last.as_ref()),
        }),
        cards: rows
            .into_iter()
            .map(|r| pb::ApproachingDeadline {
                card_number: r.card_number.to_string(),
                person_id: r.person_id.to_string(),
                received_at: Some(timestamp(r.received_at)),
                activation_deadline: Some(timestamp(r.deadline)),
            })
            .collect(),
    }
}

pub fn region_policy(region_code: &str, policy: &RegionPolicy) -> pb::RegionPolicy {
    let (window_months, window_days) = match policy.window {
        Window::Months(m) => (m as i32, 0),
        Window::Days(d) => (0, d as i32),
    };
    pb::RegionPolicy {
        region_code: region_code.to_owned(),
        window_months,
        window_days,
        consequence: match policy.consequence {
            Consequence::RestrictLegacyCard => pb::DeadlineConsequence::RestrictLegacyCard,
            Consequence::None => pb::DeadlineConsequence::None,
        } as i32,
    }
}

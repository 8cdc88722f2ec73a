//! The part of an activation every channel shares, in one transaction:
//! claim the request id, lock the card, re-check what the channel relied
//! on, ensure the card may be activated, record the activation (and for
//! the pharmacy, retire the old card), and publish and audit it.

use pii::{CardNumber, SerialNumber};
use platform::{
    clock::timestamp,
    mutation::{self, Audit, Effects, Events, Mutation},
};
use prost::Message;
use socsec_proto::activation::v1 as pb;

use super::{Activations, Result};
use crate::{
    api::present,
    domain::{CardState, Channel, Refusal, effective_state, ensure_activatable, legacy},
    error::ActivationError,
    store::{self, CardRow, NewActivation},
};

/// How the caller named the card.
pub(super) enum Presented<'a> {
    /// By its number; an unknown number is `CARD_NOT_FOUND`.
    Number(&'a CardNumber),
    /// By its serial number (the financial function); an unknown serial is
    /// one of the details that do not match.
    Serial(&'a SerialNumber),
}

/// One activation, as its channel asks for it.
pub(super) struct Attempt<'a> {
    pub presented: Presented<'a>,
    pub channel: Channel,
    pub partner_code: &'a str,
    pub operator_id: &'a str,
    /// The pharmacy channel: the old medical insurance card to retire.
    pub legacy_card_number: Option<&'a str>,
    /// A refusal the channel established before the transaction that its
    /// callers have always been told only after the card's state (the
    /// financial function's holder check): it is given after
    /// `ensure_activatable`, and a retry of a request that succeeded still
    /// reaches its stored answer.
    pub refused_after_state: Option<Refusal>,
    /// The card's state as card-issuance gave it before the transaction,
    /// when the projection was not known to be current
    /// (`Activations::verified_state`); checked instead of the projection's.
    pub verified_state: Option<CardState>,
}

impl Activations {
    /// Activates the card `attempt` presents. `recheck` runs on the locked
    /// card first: the channel's own checks, and whether the facts it
    /// relied on before the transaction (the holder identity confirmed, the
    /// card's bank) still hold; it refuses as a caller arriving now would.
    pub(super) async fn activate<R: Message>(
        &self,
        mutation: Mutation<'_>,
        request: &R,
        attempt: Attempt<'_>,
        recheck: impl FnOnce(&CardRow) -> Result<(), Refusal>,
    ) -> Result<pb::Activation> {
        let now = self.clock.now();
        let request_id = mutation.request_id.as_str();
        let answer = mutation::run(
            &self.pool,
            mutation,
            request,
            async |conn| -> Result<Effects<pb::Activation>> {
                let card = match attempt.presented {
                    Presented::Number(number) => store::lock_card_by_number(conn, number)
                        .await?
                        .ok_or(ActivationError::CardNotFound)?,
                    Presented::Serial(serial) => store::lock_card_by_serial(conn, serial)
                        .await?
                        .ok_or(ActivationError::FinancialDetailsMismatch)?,
                };
                recheck(&card)?;
                let old = match attempt.legacy_card_number {
                    None => None,
                    Some(number) => {
                        let old = store::lock_legacy_card(conn, number)
                            .await?
                            .ok_or(ActivationError::LegacyCardNotFound)?;
                        legacy::ensure_same_person(old.person_id, card.person_id)?;
                        Some(old)
                    }
                };
                let state = effective_state(card.status, attempt.verified_state);
                ensure_activatable(state, card.activation())?;
                if let Some(old) = &old {
                    legacy::ensure_retirable(old.status)?;
                }
                if let Some(refusal) = attempt.refused_after_state {
                    return Err(refusal.into());
                }
                let retired = old.map(|old| old.card_number);
                let inserted = store::insert_activation(
                    conn,
                    &NewActivation {
                        card_number: &card.card_number,
                        person_id: card.person_id,
                        channel: attempt.channel,
                        partner_code: attempt.partner_code,
                        operator_id: attempt.operator_id,
                        at: now,
                        request_id,
                        retired_legacy_card_number: retired.as_deref(),
                    },
                )
                .await?;
                if !inserted {
                    // Only possible if the card's lock was bypassed; re-read to answer.
                    let current = store::card_by_number(&mut *conn, &card.card_number)
                        .await?
                        .ok_or(ActivationError::CardNotFound)?;
                    ensure_activatable(current.status, current.activation())?;
                }
                if let Some(retired) = &retired {
                    store::retire_legacy_card(conn, retired, &card.card_number).await?;
                }
                let activation = pb::Activation {
                    card_number: card.card_number.to_string(),
                    channel: present::channel(attempt.channel) as i32,
                    partner_code: attempt.partner_code.to_owned(),
                    operator_id: attempt.operator_id.to_owned(),
                    activated_at: Some(timestamp(now)),
                    retired_legacy_card_number: retired.unwrap_or_default(),
                };
                tracing::info!(
                    card = %card.card_number,
                    channel = attempt.channel.as_str(),
                    partner = attempt.partner_code,
                    "card activated"
                );
                let event = present::card_activated(&activation, card.person_id);
                Ok(Effects::new(
                    activation,
                    Events::one("CardActivated", event),
                    Audit::change(card.person_id),
                ))
            },
        )
        .await?;
        if attempt.legacy_card_number.is_some() {
            self.background.retirements.notify_one();
        }
        Ok(answer)
    }
}

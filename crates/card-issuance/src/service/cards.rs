//! Receipt, loss, cancellation and replacement of a card.

use platform::{
    auth::Caller,
    mutation::{self, Audit, Effects, Events, Mutation},
};
use prost::Message;
use socsec_proto::card::v1 as pb;

use super::{Cards, ChangeCard, ReplaceCard, Result, issuing::Issuing};
use crate::{
    api::{events, present},
    domain::{CardChange, CardOrder, access},
    error::CardError,
    store::{self, StatusChange},
};

impl Cards {
    /// Receipt, loss, cancellation: one allowed transition of one card.
    pub async fn change_card(
        &self,
        caller: &Caller,
        command: ChangeCard,
        request: &impl Message,
    ) -> Result<pb::Card> {
        let ChangeCard {
            rpc,
            request_id,
            card_number,
            change,
            reason,
        } = command;
        let (at, by) = (self.clock.now(), caller.to_string());
        let answer = mutation::run(
            &self.pool,
            Mutation::new(caller, rpc, &request_id),
            request,
            async |conn| -> Result<Effects<_>> {
                let card = store::lock_card(conn, &card_number)
                    .await?
                    .ok_or(CardError::CardNotFound)?;
                access::may_act_for(caller, card.person_id)?;
                let status = card.status.apply(change)?;
                let update = StatusChange {
                    status,
                    at,
                    by: &by,
                    reason: &reason,
                    request_id: request_id.as_str(),
                };
                let row = store::change_status(conn, &card_number, &update).await?;
                Ok(Effects::new(
                    present::card_for(caller, present::card(&row, Vec::new())),
                    Events::many([events::status_changed(&row, at)]),
                    Audit::change(row.person_id),
                ))
            },
        )
        .await?;
        tracing::info!(card = %answer.card_number, change = change.as_str(), by = %by, "card status changed");
        Ok(answer)
    }

    /// A new card for an old one: the old card becomes REPLACED and points
    /// to the new one, which carries the same bank and region.
    pub async fn replace_card(
        &self,
        caller: &Caller,
        command: ReplaceCard,
        request: &pb::ReplaceCardRequest,
    ) -> Result<pb::Card> {
        let ReplaceCard {
            request_id,
            card_number,
            reason,
            generation,
            numbering,
        } = command;
        let by = caller.to_string();
        let issuing = Issuing {
            numbering: &numbering,
            generation,
            by: &by,
            request_id: request_id.as_str(),
            at: self.clock.now(),
            today: self.clock.today(),
        };
        let answer = mutation::run(
            &self.pool,
            Mutation::new(caller, "ReplaceCard", &request_id),
            request,
            async |conn| -> Result<Effects<_>> {
                let old = store::lock_card(conn, &card_number)
                    .await?
                    .ok_or(CardError::CardNotFound)?;
                let status = old.status.apply(CardChange::Replace)?;
                // The old card stops being usable before the new one exists,
                // so the one-usable-card-per-person rule holds throughout.
                let update = StatusChange {
                    status,
                    at: issuing.at,
                    by: &by,
                    reason: &reason,
                    request_id: request_id.as_str(),
                };
                store::change_status(conn, &card_number, &update).await?;
                let order = CardOrder {
                    person_id: old.person_id,
                    application_id: None,
                    region: old.issuing_region_code.clone(),
                    bank_code: old.bank_code.clone(),
                    replaces: Some(old.card_number.clone()),
                };
                let made = issuing.issue(conn, vec![order]).await?;
                let new = &made[0];
                let old = store::link_replacement(conn, &card_number, &new.ids.card_number).await?;
                let card = present::issued_card(new, issuing.today);
                let published = [
                    events::card_issued(card.clone()),
                    events::status_changed(&old, issuing.at),
                ];
                Ok(Effects::new(
                    present::card_for(caller, card),
                    Events::many(published),
                    Audit::change(old.person_id),
                ))
            },
        )
        .await?;
        tracing::info!(old = %card_number, new = %answer.card_number, "card replaced");
        Ok(answer)
    }
}

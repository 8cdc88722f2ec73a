//! Electronic cards: one bound to a received card (issued through the
//! person's session or at the counter), its short-lived QR tokens, and what
//! a token presents when a hospital or pharmacy shows it (asked by
//! activation). An e-card has no status of its own: it is in force while
//! its card is received, read at every token issued and every presentation,
//! so a card lost, replaced or cancelled stops its e-card in the same commit.

use platform::{
    auth::Caller,
    mutation::{self, Audit, Effects, Events, Mutation},
};
use socsec_proto::card::v1 as pb;
use uuid::Uuid;

use super::{Cards, IssueEcard, RedeemEcardToken, Result};
use crate::{
    api::present,
    domain::{
        access,
        ecard::{self, TokenError},
    },
    error::CardError,
    store::{self, ReadBy, Redeemed, TokenUse},
};

impl Cards {
    /// Binds an e-card to a received third-generation card, or answers the
    /// one already bound to it.
    pub async fn issue_ecard(
        &self,
        caller: &Caller,
        command: IssueEcard,
        request: &pb::IssueEcardRequest,
    ) -> Result<pb::Ecard> {
        let IssueEcard {
            request_id,
            card_number,
        } = command;
        let (at, by) = (self.clock.now(), caller.to_string());
        let answer = mutation::run(
            &self.pool,
            Mutation::new(caller, "IssueEcard", &request_id),
            request,
            async |conn| -> Result<Effects<_>> {
                let card = store::lock_card(conn, &card_number)
                    .await?
                    .ok_or(CardError::CardNotFound)?;
                access::may_act_for(caller, card.person_id)?;
                ecard::may_have_ecard(card.status, card.generation)?;
                let row = store::bind_ecard(conn, &card, at, &by).await?;
                Ok(Effects::new(
                    present::ecard(&row, card.status),
                    Events::none(),
                    Audit::change(row.person_id),
                ))
            },
        )
        .await?;
        tracing::info!(ecard = %answer.ecard_id, card = %answer.card_number, by = %by, "e-card issued");
        Ok(answer)
    }

    /// A new QR token for the caller's own e-card in force.
    pub async fn issue_ecard_token(
        &self,
        caller: &Caller,
        ecard_id: Uuid,
    ) -> Result<pb::EcardToken> {
        let (ecard, card) = store::ecard_with_card(&self.pool, ecard_id)
            .await?
            .ok_or(CardError::EcardNotFound)?;
        // Someone else's e-card is answered as one that does not exist.
        if access::may_act_for(caller, ecard.person_id).is_err() {
            return Err(CardError::EcardNotFound);
        }
        if !ecard::in_force(card.status) {
            return Err(CardError::EcardNotInForce);
        }
        let (token, claims) = self
            .ecard_keys
            .issue(ecard.ecard_id, self.clock.now())
            .ok_or(CardError::EcardTokensDisabled)?;
        let read = ReadBy {
            caller,
            rpc: "IssueEcardToken",
        };
        store::record_token_issued(&self.pool, ecard.person_id, read).await?;
        tracing::info!(ecard = %ecard.ecard_id, "e-card token issued");
        Ok(pb::EcardToken {
            token,
            expires_at: Some(platform::clock::timestamp(claims.expires_at)),
            key_id: self.ecard_keys.signing_key().unwrap_or_default().to_owned(),
        })
    }

    /// What `command.token` presents now: checked (signature and expiry
    /// with the key alone, then the e-card's card in force and, for single
    /// use, the first use) and audited on the holder's trail as a read by
    /// the partner activation acts for.
    pub async fn redeem_ecard_token(
        &self,
        caller: &Caller,
        command: RedeemEcardToken,
    ) -> Result<pb::EcardPresentation> {
        use pb::EcardTokenOutcome as Outcome;
        let now = self.clock.now();
        let refused = |outcome: Outcome| pb::EcardPresentation {
            outcome: outcome.into(),
            ..Default::default()
        };
        let claims = match self.ecard_keys.verify(&command.token, now) {
            Ok(claims) => claims,
            Err(TokenError::Invalid) => return Ok(refused(Outcome::Invalid)),
            Err(TokenError::Expired) => return Ok(refused(Outcome::Expired)),
        };
        // The partner that presents it, when a service asks for one.
        let presenter = caller
            .on_behalf_of
            .as_ref()
            .map_or_else(|| caller.to_string(), |o| o.caller.clone());
        let single_use = command.single_use.as_ref().map(|request_id| TokenUse {
            by: &presenter,
            request_id: request_id.as_str(),
            at: now,
        });
        let read = ReadBy {
            caller,
            rpc: "RedeemEcardToken",
        };
        let Some(Redeemed { card, first_use }) =
            store::redeem(&self.pool, &claims, single_use, read).await?
        else {
            return Ok(refused(Outcome::NotInForce));
        };
        if !ecard::in_force(card.status) {
            return Ok(refused(Outcome::NotInForce));
        }
        if !first_use {
            tracing::warn!(ecard = %claims.ecard_id, presenter = %presenter, "e-card token presented again");
            return Ok(refused(Outcome::Replayed));
        }
        Ok(pb::EcardPresentation {
            outcome: Outcome::Valid.into(),
            card_number: card.card_number.as_str().to_owned(),
            card_identification_code: card.card_identification_code.as_str().to_owned(),
            person_id: card.person_id.to_string(),
        })
    }
}

//! Imports of cards and old medical cards from the system a bureau
//! replaces. Per batch: the stored answer if the batch was sent before;
//! the holders asked of identity in one call (outside any transaction,
//! `platform::import::resolve_holders`); then one trip through the mutation
//! pipeline storing every valid record in one multi-row statement,
//! publishing `CardIssued` (whole, received and activated as imported) or
//! `LegacyCardRegistered` for each new one.

use platform::{
    auth::Caller,
    import::{self, Rejection, Resolved},
    mutation::{self, Audit, Effects, Events, Mutation},
};
use socsec_proto::card::v1 as pb;

use super::{Cards, ImportBatch, ImportCard, ImportLegacyCard, Result};
use crate::{
    api::{events, present},
    store::{self, Stored},
};

impl Cards {
    /// Names each record's holder; `confirmed_only`: a card needs the
    /// holder's information confirmed, as an application does.
    async fn resolve<'a, T>(
        &self,
        caller: &Caller,
        batch: &'a ImportBatch<T>,
        holder: impl Fn(&T) -> &pii::IdNumber,
        confirmed_only: bool,
    ) -> Result<Resolved<'a, T>> {
        let request_id = batch.request_id.as_str();
        import::resolve_holders(batch, holder, confirmed_only, async |wanted| {
            self.directory.holders(wanted, caller, request_id).await
        })
        .await
    }

    pub async fn import_cards(
        &self,
        caller: &Caller,
        batch: ImportBatch<ImportCard>,
        request: &pb::ImportCardsRequest,
    ) -> Result<pb::ImportCardsResponse> {
        let mutation = Mutation::new(caller, "ImportCards", &batch.request_id);
        if let Some(answer) = mutation::replay(&self.pool, mutation, request).await? {
            return Ok(answer);
        }
        let resolved = self.resolve(caller, &batch, |c| &c.holder, true).await?;
        let by = caller.to_string();
        let request_id = batch.request_id.as_str();
        mutation::run(
            &self.pool,
            mutation,
            request,
            async |conn| -> Result<Effects<pb::ImportCardsResponse>> {
                let valid = import::valid(&resolved);
                let stored = store::import_cards(conn, &valid, &by, request_id).await?;
                let mut published = Vec::new();
                let mut persons = Vec::new();
                for ((card, person_id), s) in valid.iter().zip(&stored) {
                    if *s == Stored::Inserted {
                        published.push(events::card_issued(present::imported_card(
                            card, *person_id,
                        )));
                        persons.push(person_id.to_string());
                    }
                }
                let key = |c: &ImportCard| c.card_number.as_str().to_owned();
                let outcomes = import::outcomes(&resolved, kept(&valid, &stored, key));
                Ok(Effects::new(
                    pb::ImportCardsResponse { outcomes },
                    Events::many(published),
                    Audit::changes(persons),
                ))
            },
        )
        .await
    }

    pub async fn import_legacy_cards(
        &self,
        caller: &Caller,
        batch: ImportBatch<ImportLegacyCard>,
        request: &pb::ImportLegacyMedicalCardsRequest,
    ) -> Result<pb::ImportCardsResponse> {
        let mutation = Mutation::new(caller, "ImportLegacyMedicalCards", &batch.request_id);
        if let Some(answer) = mutation::replay(&self.pool, mutation, request).await? {
            return Ok(answer);
        }
        let resolved = self.resolve(caller, &batch, |c| &c.holder, false).await?;
        let at = self.clock.now();
        mutation::run(
            &self.pool,
            mutation,
            request,
            async |conn| -> Result<Effects<pb::ImportCardsResponse>> {
                let valid = import::valid(&resolved);
                let stored = store::import_legacy_cards(conn, &valid, at).await?;
                let mut published = Vec::new();
                let mut persons = Vec::new();
                for ((card, person_id), s) in valid.iter().zip(&stored) {
                    if *s == Stored::Inserted {
                        published.push(events::legacy_registered(pb::LegacyMedicalCard {
                            card_number: card.card_number.expose().to_owned(),
                            person_id: person_id.to_string(),
                            region_code: card.region.as_str().to_owned(),
                            status: pb::LegacyCardStatus::Active as i32,
                            registered_at: Some(platform::clock::timestamp(at)),
                            retired_at: None,
                        }));
                        persons.push(person_id.to_string());
                    }
                }
                let key = |c: &ImportLegacyCard| c.card_number.expose().to_owned();
                let outcomes = import::outcomes(&resolved, kept(&valid, &stored, key));
                Ok(Effects::new(
                    pb::ImportCardsResponse { outcomes },
                    Events::many(published),
                    Audit::changes(persons),
                ))
            },
        )
        .await
    }
}

/// What the store made of each valid record, under its card number.
fn kept<T>(
    valid: &[(&T, uuid::Uuid)],
    stored: &[Stored],
    key: impl Fn(&T) -> String,
) -> Vec<import::Stored> {
    valid
        .iter()
        .zip(stored)
        .map(|((card, _), s)| match s {
            Stored::Inserted => import::Stored::Imported(key(card)),
            Stored::AlreadyHere => import::Stored::AlreadyHere(key(card)),
            Stored::Conflict => import::Stored::Rejected(Rejection::new(
                "card_number",
                "CARD_CONFLICTS_WITH_EXISTING",
            )),
        })
        .collect()
}

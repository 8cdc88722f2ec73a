//! Imports of cards and old medical cards from the system a bureau
//! replaces. Per batch: the stored answer if the batch was sent before;
//! the holders asked of identity in one call (outside any transaction);
//! then one trip through the mutation pipeline storing every valid record
//! in one multi-row statement, publishing `CardIssued` (whole, received and
//! activated as imported) or `LegacyCardRegistered` for each new one.

use platform::{
    auth::Caller,
    import::{self, Rejection},
    mutation::{self, Audit, Effects, Events, Mutation},
};
use socsec_proto::{card::v1 as pb, common::v1::ImportOutcome};
use uuid::Uuid;

use super::{Cards, ImportBatch, ImportCard, ImportLegacyCard, Result};
use crate::{
    api::{events, present},
    store::{self, Stored},
};

/// Each record with its holder's person id, or its rejection.
type Resolved<'a, T> = Vec<(i64, std::result::Result<(&'a T, Uuid), Rejection>)>;

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
        let wanted: Vec<String> = batch
            .records
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok())
            .map(|r| holder(r).expose().to_owned())
            .collect();
        let found = if wanted.is_empty() {
            Default::default()
        } else {
            self.directory
                .holders(wanted, caller, batch.request_id.as_str())
                .await?
        };
        Ok(batch
            .records
            .iter()
            .map(|(line, record)| {
                let resolved = match record {
                    Err(rejection) => Err(rejection.clone()),
                    Ok(r) => match found.get(holder(r).expose()) {
                        None => Err(Rejection::new("holder_id_number", "PERSON_NOT_FOUND")),
                        Some((_, false)) if confirmed_only => Err(Rejection::new(
                            "holder_id_number",
                            "BASIC_INFO_NOT_CONFIRMED",
                        )),
                        Some((person_id, _)) => Ok((r, *person_id)),
                    },
                };
                (*line, resolved)
            })
            .collect())
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
                let valid: Vec<(&ImportCard, Uuid)> = resolved
                    .iter()
                    .filter_map(|(_, r)| r.clone().ok())
                    .collect();
                let stored = store::import_cards(conn, &valid, &by, request_id).await?;
                let mut published = Vec::new();
                let mut persons = Vec::new();
                let key = |c: &ImportCard| c.card_number.as_str().to_owned();
                let outcomes = outcomes(&resolved, &stored, key, |(card, person_id)| {
                    published.push(events::card_issued(present::imported_card(
                        card, *person_id,
                    )));
                    persons.push(person_id.to_string());
                });
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
                let valid: Vec<(&ImportLegacyCard, Uuid)> = resolved
                    .iter()
                    .filter_map(|(_, r)| r.clone().ok())
                    .collect();
                let stored = store::import_legacy_cards(conn, &valid, at).await?;
                let mut published = Vec::new();
                let mut persons = Vec::new();
                let key = |c: &ImportLegacyCard| c.card_number.expose().to_owned();
                let outcomes = outcomes(&resolved, &stored, key, |(card, person_id)| {
                    published.push(events::legacy_registered(pb::LegacyMedicalCard {
                        card_number: card.card_number.expose().to_owned(),
                        person_id: person_id.to_string(),
                        region_code: card.region.as_str().to_owned(),
                        status: pb::LegacyCardStatus::Active as i32,
                        registered_at: Some(platform::clock::timestamp(at)),
                        retired_at: None,
                    }));
                    persons.push(person_id.to_string());
                });
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

/// One outcome per record: rejected as parsed or resolved, else what the
/// store made of it, under its `key`; `inserted` is told of each new record.
fn outcomes<T>(
    resolved: &Resolved<'_, T>,
    stored: &[Stored],
    key: impl Fn(&T) -> String,
    mut inserted: impl FnMut(&(&T, Uuid)),
) -> Vec<ImportOutcome> {
    let mut stored = stored.iter();
    resolved
        .iter()
        .map(|(line, record)| match record {
            Err(rejection) => import::rejected(*line, rejection),
            Ok(valid) => match stored.next() {
                Some(Stored::Inserted) => {
                    inserted(valid);
                    import::imported(*line, key(valid.0))
                }
                Some(Stored::AlreadyHere) => import::already_imported(*line, key(valid.0)),
                _ => import::rejected(
                    *line,
                    &Rejection::new("card_number", "CARD_CONFLICTS_WITH_EXISTING"),
                ),
            },
        })
        .collect()
}

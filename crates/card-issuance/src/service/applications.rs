//! Applying for a card and issuing the cards applied for, one at a time or
//! in batches.

use pii::RegionCode;
use platform::{
    auth::Caller,
    mutation::{self, Audit, Effects, Events, Mutation},
};
use socsec_proto::card::v1 as pb;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{Cards, IssueCard, IssueCards, Result, issuing::Issuing};
use crate::{
    api::{events, present},
    domain::{CardOrder, application},
    error::CardError,
    service::ApplyForCard,
    store::{self, ApplicationRow, NewApplication},
};

/// Cards are inserted this many at a time within one batch transaction;
/// progress is reported after each chunk.
const CHUNK: usize = 1_000;

/// The progress of a batch as the service reports it.
pub type Progress = mpsc::Sender<Result<pb::IssueCardsProgress>>;

fn order_of(application: &ApplicationRow) -> CardOrder {
    CardOrder {
        person_id: application.person_id,
        application_id: Some(application.application_id),
        region: application.issuing_region_code.clone(),
        bank_code: application.bank_code.clone(),
        replaces: None,
    }
}

impl Cards {
    pub async fn apply_for_card(
        &self,
        caller: &Caller,
        command: ApplyForCard,
        request: &pb::ApplyForCardRequest,
    ) -> Result<pb::CardApplication> {
        let ApplyForCard {
            request_id,
            person_id,
            bank,
            region,
        } = command;
        // A retry of an answered request is answered from the stored answer,
        // even while identity is down.
        let mutation = Mutation::new(caller, "ApplyForCard", &request_id);
        if let Some(answer) = mutation::replay(&self.pool, mutation, request).await? {
            return Ok(answer);
        }
        // Identity's facts first, outside the transaction.
        let applicant = self
            .directory
            .person(person_id, caller, request_id.as_str())
            .await?;
        applicant.ensure_confirmed()?;
        application::ensure_cooperating_bank(self.directory.bank(&bank).await?)?;

        let region = applicant.issuing_region(region.as_ref().map(RegionCode::as_str));
        let (at, by) = (self.clock.now(), caller.to_string());
        let answer = mutation::run(
            &self.pool,
            mutation,
            request,
            async |conn| -> Result<Effects<_>> {
                // Our own facts are checked here, under the transaction: no
                // usable card, and (by the unique index) no pending application.
                if store::has_usable_card(conn, person_id).await? {
                    return Err(CardError::PersonAlreadyHasCard);
                }
                let new = NewApplication {
                    application_id: Uuid::now_v7(),
                    person_id,
                    bank_code: &bank,
                    issuing_region_code: region,
                    at,
                    by: &by,
                };
                let row = store::insert_application(conn, &new)
                    .await?
                    .ok_or(CardError::ApplicationAlreadyPending)?;
                Ok(Effects::new(
                    present::application(&row),
                    Events::none(),
                    Audit::change(person_id),
                ))
            },
        )
        .await?;
        tracing::info!(application_id = %answer.application_id, person_id = %answer.person_id, bank = %answer.bank_code, "card applied for");
        Ok(answer)
    }

    pub async fn issue_card(
        &self,
        caller: &Caller,
        command: IssueCard,
        request: &pb::IssueCardRequest,
    ) -> Result<pb::Card> {
        let by = caller.to_string();
        let issuing = Issuing {
            numbering: &command.numbering,
            generation: command.generation,
            by: &by,
            request_id: command.request_id.as_str(),
            at: self.clock.now(),
            today: self.clock.today(),
        };
        let answer = mutation::run(
            &self.pool,
            Mutation::new(caller, "IssueCard", &command.request_id),
            request,
            async |conn| -> Result<Effects<_>> {
                let application = store::lock_application(conn, command.application_id)
                    .await?
                    .ok_or(CardError::ApplicationNotFound)?;
                application.status.ensure_issuable()?;
                let made = issuing.issue(conn, vec![order_of(&application)]).await?;
                let card = present::issued_card(&made[0], issuing.today);
                Ok(Effects::new(
                    present::card_for(caller, card.clone()),
                    Events::many([events::card_issued(card)]),
                    Audit::change(application.person_id),
                ))
            },
        )
        .await?;
        tracing::info!(card = %answer.card_number, person_id = %answer.person_id, "card issued");
        Ok(answer)
    }

    /// Issues cards for a bank's pending applications in the background,
    /// reporting progress on the returned channel after each chunk and the
    /// outcome last. All or nothing: one transaction.
    pub fn issue_cards(
        &self,
        caller: Caller,
        command: IssueCards,
        request: pb::IssueCardsRequest,
    ) -> mpsc::Receiver<Result<pb::IssueCardsProgress>> {
        let (sender, receiver) = mpsc::channel(8);
        let cards = self.clone();
        self.tasks.spawn(async move {
            match cards.run_batch(&caller, &command, &request, &sender).await {
                Ok(outcome) => {
                    let _ = sender.send(Ok(outcome)).await;
                }
                Err(CardError::CallerWentAway) => {
                    tracing::info!("caller went away; batch rolled back");
                }
                Err(e) => {
                    let _ = sender.send(Err(e)).await;
                }
            }
        });
        receiver
    }

    async fn run_batch(
        &self,
        caller: &Caller,
        command: &IssueCards,
        request: &pb::IssueCardsRequest,
        progress: &Progress,
    ) -> Result<pb::IssueCardsProgress> {
        let by = caller.to_string();
        let issuing = Issuing {
            numbering: &command.numbering,
            generation: command.generation,
            by: &by,
            request_id: command.request_id.as_str(),
            at: self.clock.now(),
            today: self.clock.today(),
        };
        let outcome = mutation::run(
            &self.pool,
            Mutation::new(caller, "IssueCards", &command.request_id),
            request,
            async |conn| -> Result<Effects<_>> {
                let applications =
                    store::lock_pending_for_bank(conn, &command.bank, command.max_cards).await?;
                let total = applications.len() as i32;
                let mut done = pb::IssueCardsProgress {
                    total,
                    ..Default::default()
                };
                let (mut published, mut persons) = (Vec::new(), Vec::new());
                for chunk in applications.chunks(CHUNK) {
                    let made = issuing
                        .issue(conn, chunk.iter().map(order_of).collect())
                        .await?;
                    let cards: Vec<pb::Card> = made
                        .iter()
                        .map(|c| present::issued_card(c, issuing.today))
                        .collect();
                    if done.first_card_number.is_empty() {
                        done.first_card_number = made[0].ids.card_number.to_string();
                    }
                    if let Some(last) = made.last() {
                        done.last_card_number = last.ids.card_number.to_string();
                    }
                    done.issued += cards.len() as i32;
                    persons.extend(cards.iter().map(|c| c.person_id.clone()));
                    published.extend(cards.into_iter().map(events::card_issued));
                    // Progress goes to the caller waiting on this stream; if
                    // they went away, the whole batch rolls back.
                    let update = pb::IssueCardsProgress {
                        issued: done.issued,
                        total,
                        ..Default::default()
                    };
                    if progress.send(Ok(update)).await.is_err() {
                        tracing::info!(issued = done.issued, total, "caller went away mid-batch");
                        return Err(CardError::CallerWentAway);
                    }
                }
                done.done = true;
                Ok(Effects::new(
                    done,
                    Events::many(published),
                    Audit::changes(persons),
                ))
            },
        )
        .await?;
        tracing::info!(bank = %command.bank, issued = outcome.issued, "batch issued");
        Ok(outcome)
    }
}

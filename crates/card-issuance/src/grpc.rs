//! The tonic implementation of `socsec.card.v1.CardService`.

use std::{collections::HashMap, sync::Arc};

use chrono::{DateTime, NaiveDate, Utc};
use pii::{CardIdentificationCode, CardNumber, PartnerCode, SerialNumber, mask_middle};
use platform::{
    all_some,
    audit::{self, Access},
    auth::{Caller, CallerKind},
    clock::{Clock, date, timestamp},
    error::{FieldViolations, required},
    idempotency::{self, Claim, RequestId},
    outbox,
};
use prost::Message;
use socsec_proto::card::v1 as pb;
use sqlx::{PgConnection, PgPool};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    directory::Directory,
    domain::{
        CardChange, CardStatus, Generation, NumberingSpec,
        issuing::{CardIdentifiers, NumberingError},
    },
    error::{CardError, violated_constraint},
    store::{self, ApplicationRow, CardKey, CardRow, LegacyCardRow, NewCard, StatusChange},
};

type Result<T, E = CardError> = std::result::Result<T, E>;

/// Cards are inserted this many at a time within one batch transaction;
/// progress is reported after each chunk.
const CHUNK: usize = 1_000;
const MAX_BATCH: i32 = 100_000;

#[derive(Clone)]
pub struct CardApi {
    pool: PgPool,
    schema: String,
    clock: Arc<dyn Clock>,
    directory: Directory,
}

impl CardApi {
    pub fn new(pool: PgPool, schema: String, clock: Arc<dyn Clock>, directory: Directory) -> Self {
        Self {
            pool,
            schema,
            clock,
            directory,
        }
    }
}

/// The parsed request, or `INVALID_ARGUMENT` with every bad field.
fn accept<T>(violations: FieldViolations, parsed: Option<T>) -> Result<T> {
    violations.finish(parsed).map_err(CardError::Invalid)
}

/// An old medical insurance card number: 6 to 20 characters of A-Z and 0-9.
fn parse_legacy_number(violations: &mut FieldViolations, value: &str) -> Option<String> {
    let value = value.trim().to_ascii_uppercase();
    if (6..=20).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Some(value)
    } else {
        violations.add(
            "card_number",
            "LEGACY_CARD_NUMBER_FORMAT",
            "must be 6 to 20 characters of A-Z and 0-9",
        );
        None
    }
}

fn status_from_db(value: &str) -> i32 {
    CardStatus::from_db(value).to_proto() as i32
}

fn card_to_proto(row: &CardRow, history: Vec<pb::StatusChange>) -> pb::Card {
    pb::Card {
        card_number: row.card_number.clone(),
        card_identification_code: row.card_identification_code.clone(),
        serial_number: row.serial_number.clone(),
        person_id: row.person_id.to_string(),
        generation: i32::from(row.generation),
        status: status_from_db(&row.status),
        issuing_region_code: row.issuing_region_code.clone(),
        issued_on: Some(date(row.issued_on)),
        received_at: row.received_at.map(timestamp),
        bank_code: row.bank_code.clone(),
        bank_card_number: row.bank_card_number.clone(),
        masked_bank_card_number: mask_middle(&row.bank_card_number, 6, 4),
        application_id: row
            .application_id
            .map(|a| a.to_string())
            .unwrap_or_default(),
        replaces_card_number: row.replaces_card_number.clone().unwrap_or_default(),
        replaced_by_card_number: row.replaced_by_card_number.clone().unwrap_or_default(),
        history,
    }
}

/// `card` as `caller` may see it: the full bank card number only for
/// operators, services and the card's own bank; everyone else (the holder
/// included) gets the masked one.
fn shown_to(mut card: pb::Card, caller: &Caller) -> pb::Card {
    let full = match caller.kind {
        CallerKind::Operator | CallerKind::Service => true,
        CallerKind::Bank => caller.code == card.bank_code,
        _ => false,
    };
    if !full {
        card.bank_card_number.clear();
    }
    card
}

fn application_to_proto(row: &ApplicationRow) -> pb::CardApplication {
    pb::CardApplication {
        application_id: row.application_id.to_string(),
        person_id: row.person_id.to_string(),
        bank_code: row.bank_code.clone(),
        issuing_region_code: row.issuing_region_code.clone(),
        status: if row.status == "ISSUED" {
            pb::ApplicationStatus::Issued
        } else {
            pb::ApplicationStatus::Pending
        } as i32,
        applied_at: Some(timestamp(row.applied_at)),
        card_number: row.card_number.clone().unwrap_or_default(),
    }
}

fn legacy_to_proto(row: &LegacyCardRow) -> pb::LegacyMedicalCard {
    pb::LegacyMedicalCard {
        card_number: row.card_number.clone(),
        person_id: row.person_id.to_string(),
        region_code: row.region_code.clone(),
        status: if row.status == "RETIRED" {
            pb::LegacyCardStatus::Retired
        } else {
            pb::LegacyCardStatus::Active
        } as i32,
        registered_at: Some(timestamp(row.registered_at)),
        retired_at: row.retired_at.map(timestamp),
    }
}

fn encode_event(event: pb::card_event::Event) -> (&'static str, Vec<u8>) {
    use pb::card_event::Event;
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

async fn publish(conn: &mut PgConnection, events: Vec<pb::card_event::Event>) -> Result<()> {
    let encoded: Vec<(&str, Vec<u8>)> = events.into_iter().map(encode_event).collect();
    outbox::append_many(conn, &encoded).await?;
    Ok(())
}

fn status_changed(row: &CardRow, at: DateTime<Utc>) -> pb::card_event::Event {
    pb::card_event::Event::CardStatusChanged(pb::CardStatusChanged {
        card_number: row.card_number.clone(),
        person_id: row.person_id.to_string(),
        status: status_from_db(&row.status),
        at: Some(timestamp(at)),
        received_at: row.received_at.map(timestamp),
        replaced_by_card_number: row.replaced_by_card_number.clone().unwrap_or_default(),
    })
}

/// One card to make: for whom, under which application, from which bank.
struct Target {
    person_id: Uuid,
    application_id: Option<Uuid>,
    region: String,
    bank_code: String,
    replaces: Option<String>,
}

impl From<&ApplicationRow> for Target {
    fn from(app: &ApplicationRow) -> Self {
        Self {
            person_id: app.person_id,
            application_id: Some(app.application_id),
            region: app.issuing_region_code.clone(),
            bank_code: app.bank_code.clone(),
            replaces: None,
        }
    }
}

/// One status change of one card, as a partner asked for it.
struct ChangeOrder<'a> {
    rpc: &'static str,
    request_id: &'a str,
    card_number: &'a str,
    change: CardChange,
    reason: &'a str,
}

/// How cards of one request are made.
struct Issuing<'a> {
    /// The RPC, as the audit trail names it.
    action: &'static str,
    numbering: &'a NumberingSpec,
    generation: Generation,
    caller: &'a Caller,
    request_id: &'a str,
    at: DateTime<Utc>,
    today: NaiveDate,
}

impl Issuing<'_> {
    /// Makes the cards for `targets` in a constant number of statements,
    /// publishes `CardIssued` for each and audits the change per person.
    async fn issue(&self, conn: &mut PgConnection, targets: &[Target]) -> Result<Vec<pb::Card>> {
        let allocated = store::allocate(conn, targets.len() as i64).await?;
        let cards = targets
            .iter()
            .zip(allocated)
            .map(|(target, allocated)| {
                let ids = CardIdentifiers::make(&target.region, self.numbering, allocated)
                    .map_err(|e| match e {
                        NumberingError::Exhausted => CardError::NumbersExhausted,
                        NumberingError::Invalid(e) => {
                            tracing::error!(error = %e, "generated an invalid card identifier");
                            CardError::NumbersExhausted
                        }
                    })?;
                Ok(NewCard {
                    card_number: ids.card_number.as_str().to_owned(),
                    card_identification_code: ids.identification_code.as_str().to_owned(),
                    serial_number: ids.serial_number.as_str().to_owned(),
                    person_id: target.person_id,
                    application_id: target.application_id,
                    generation: self.generation.value(),
                    issuing_region_code: target.region.clone(),
                    bank_code: target.bank_code.clone(),
                    bank_card_number: ids.bank_card_number.expose().to_owned(),
                    replaces_card_number: target.replaces.clone(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let by = self.caller.to_string();
        store::insert_cards(conn, &cards, self.at, self.today, &by, self.request_id)
            .await
            .map_err(|e| match violated_constraint(&e) {
                Some("cards_bank_card_number_key") => CardError::BankCardNumberInUse,
                Some("cards_one_usable_per_person") => CardError::PersonAlreadyHasCard,
                _ => CardError::Database(e),
            })?;
        let issued: Vec<pb::Card> = cards
            .iter()
            .map(|c| pb::Card {
                card_number: c.card_number.clone(),
                card_identification_code: c.card_identification_code.clone(),
                serial_number: c.serial_number.clone(),
                person_id: c.person_id.to_string(),
                generation: i32::from(c.generation),
                status: pb::CardStatus::Issued as i32,
                issuing_region_code: c.issuing_region_code.clone(),
                issued_on: Some(date(self.today)),
                received_at: None,
                bank_code: c.bank_code.clone(),
                bank_card_number: c.bank_card_number.clone(),
                masked_bank_card_number: mask_middle(&c.bank_card_number, 6, 4),
                application_id: c.application_id.map(|a| a.to_string()).unwrap_or_default(),
                replaces_card_number: c.replaces_card_number.clone().unwrap_or_default(),
                replaced_by_card_number: String::new(),
                history: Vec::new(),
            })
            .collect();
        publish(
            conn,
            issued
                .iter()
                .cloned()
                .map(pb::card_event::Event::CardIssued)
                .collect(),
        )
        .await?;
        let persons: Vec<String> = cards.iter().map(|c| c.person_id.to_string()).collect();
        audit::record_many(
            conn,
            self.caller,
            self.action,
            Access::Change,
            &persons,
            Some(self.request_id),
        )
        .await?;
        Ok(issued)
    }
}

impl CardApi {
    async fn apply_for_card(
        &self,
        caller: Caller,
        req: pb::ApplyForCardRequest,
    ) -> Result<pb::CardApplication> {
        let mut v = FieldViolations::new();
        let request_id = RequestId::parse(&mut v, &req.request_id);
        let person_id = platform::error::uuid(&mut v, "person_id", &req.person_id);
        let bank = v.check("bank_code", PartnerCode::parse(&req.bank_code));
        let region = if req.issuing_region_code.is_empty() {
            Some(None)
        } else {
            platform::error::region_code(&mut v, "issuing_region_code", &req.issuing_region_code)
                .map(Some)
        };
        let (request_id, person_id, bank, region) =
            accept(v, all_some!(request_id, person_id, bank, region))?;

        let mut tx = self.pool.begin().await?;
        let ticket =
            match idempotency::claim(&mut tx, &caller, "ApplyForCard", &request_id, &req).await? {
                Claim::Replay(answer) => return Ok(answer),
                Claim::Fresh(ticket) => ticket,
            };
        let person = self
            .directory
            .person(&req.person_id, &caller, request_id.as_str())
            .await?;
        if !person.confirmed {
            return Err(CardError::BasicInfoNotConfirmed);
        }
        self.directory
            .ensure_cooperating_bank(bank.as_str())
            .await?;
        if store::has_usable_card(&mut *tx, person_id).await? {
            return Err(CardError::PersonAlreadyHasCard);
        }
        let by = caller.to_string();
        let inserted = store::insert_application(
            &mut tx,
            &store::NewApplication {
                application_id: Uuid::now_v7(),
                person_id,
                bank_code: bank.as_str(),
                issuing_region_code: region.as_deref().unwrap_or(&person.region_code),
                at: self.clock.now(),
                by: &by,
            },
        )
        .await;
        let row = match inserted {
            Err(e) if violated_constraint(&e) == Some("applications_one_pending") => {
                return Err(CardError::ApplicationAlreadyPending);
            }
            other => other?,
        };
        audit::record(
            &mut tx,
            &caller,
            "ApplyForCard",
            Access::Change,
            &req.person_id,
            Some(request_id.as_str()),
        )
        .await?;
        let answer = application_to_proto(&row);
        ticket.complete(&mut tx, &answer).await?;
        tx.commit().await?;
        tracing::info!(application_id = %answer.application_id, person_id = %answer.person_id, bank = %answer.bank_code, "card applied for");
        Ok(answer)
    }

    async fn issue_card(&self, caller: Caller, req: pb::IssueCardRequest) -> Result<pb::Card> {
        let mut v = FieldViolations::new();
        let request_id = RequestId::parse(&mut v, &req.request_id);
        let application_id = platform::error::uuid(&mut v, "application_id", &req.application_id);
        let generation = Generation::parse(&mut v, req.generation);
        let numbering = NumberingSpec::parse_single(&mut v, &req.bank_card_number, &req.bank_bin);
        let (request_id, application_id, generation, numbering) = accept(
            v,
            all_some!(request_id, application_id, generation, numbering),
        )?;

        let mut tx = self.pool.begin().await?;
        let ticket =
            match idempotency::claim(&mut tx, &caller, "IssueCard", &request_id, &req).await? {
                Claim::Replay(answer) => return Ok(answer),
                Claim::Fresh(ticket) => ticket,
            };
        let application = store::lock_application(&mut tx, application_id)
            .await?
            .ok_or(CardError::ApplicationNotFound)?;
        if application.status != "PENDING" {
            return Err(CardError::ApplicationAlreadyIssued);
        }
        let issuing = Issuing {
            action: "IssueCard",
            numbering: &numbering,
            generation,
            caller: &caller,
            request_id: request_id.as_str(),
            at: self.clock.now(),
            today: self.clock.today(),
        };
        let answer = issuing
            .issue(&mut tx, &[Target::from(&application)])
            .await?
            .pop()
            .expect("one card per target");
        ticket.complete(&mut tx, &answer).await?;
        tx.commit().await?;
        tracing::info!(card = %answer.card_number, person_id = %answer.person_id, "card issued");
        Ok(answer)
    }

    async fn issue_cards(
        &self,
        caller: Caller,
        req: pb::IssueCardsRequest,
    ) -> Result<ReceiverStream<Result<pb::IssueCardsProgress, Status>>> {
        let mut v = FieldViolations::new();
        let request_id = RequestId::parse(&mut v, &req.request_id);
        let bank = v.check("bank_code", PartnerCode::parse(&req.bank_code));
        let numbering = NumberingSpec::parse_bin(&mut v, &req.bank_bin);
        let generation = Generation::parse(&mut v, req.generation);
        if !(1..=MAX_BATCH).contains(&req.max_cards) {
            v.add(
                "max_cards",
                "MAX_CARDS_INVALID",
                format!("must be 1 to {MAX_BATCH}"),
            );
        }
        let (request_id, bank, numbering, generation) =
            accept(v, all_some!(request_id, bank, numbering, generation))?;

        let (sender, receiver) = mpsc::channel(8);
        let api = self.clone();
        tokio::spawn(async move {
            let outcome = api
                .run_batch(
                    &caller,
                    &req,
                    &request_id,
                    bank.as_str(),
                    &numbering,
                    generation,
                    &sender,
                )
                .await;
            if let Err(e) = outcome {
                let _ = sender.send(Err(Status::from(e))).await;
            }
        });
        Ok(ReceiverStream::new(receiver))
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_batch(
        &self,
        caller: &Caller,
        req: &pb::IssueCardsRequest,
        request_id: &RequestId,
        bank: &str,
        numbering: &NumberingSpec,
        generation: Generation,
        progress: &mpsc::Sender<Result<pb::IssueCardsProgress, Status>>,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let ticket =
            match idempotency::claim(&mut tx, caller, "IssueCards", request_id, req).await? {
                Claim::Replay(answer) => {
                    let _ = progress.send(Ok(answer)).await;
                    return Ok(());
                }
                Claim::Fresh(ticket) => ticket,
            };
        let applications =
            store::lock_pending_for_bank(&mut tx, bank, i64::from(req.max_cards)).await?;
        let total = applications.len() as i32;
        let issuing = Issuing {
            action: "IssueCards",
            numbering,
            generation,
            caller,
            request_id: request_id.as_str(),
            at: self.clock.now(),
            today: self.clock.today(),
        };
        let mut done = pb::IssueCardsProgress {
            total,
            ..Default::default()
        };
        for chunk in applications.chunks(CHUNK) {
            let targets: Vec<Target> = chunk.iter().map(Target::from).collect();
            let cards = issuing.issue(&mut tx, &targets).await?;
            if done.first_card_number.is_empty() {
                done.first_card_number = cards
                    .first()
                    .map(|c| c.card_number.clone())
                    .unwrap_or_default();
            }
            done.last_card_number = cards
                .last()
                .map(|c| c.card_number.clone())
                .unwrap_or_default();
            done.issued += cards.len() as i32;
            let update = pb::IssueCardsProgress {
                issued: done.issued,
                total,
                ..Default::default()
            };
            if progress.send(Ok(update)).await.is_err() {
                tracing::info!(
                    issued = done.issued,
                    total,
                    "caller went away; batch rolled back"
                );
                return Ok(());
            }
        }
        done.done = true;
        ticket.complete(&mut tx, &done).await?;
        tx.commit().await?;
        tracing::info!(bank, issued = done.issued, "batch issued");
        let _ = progress.send(Ok(done)).await;
        Ok(())
    }

    /// Receipt, loss, cancellation: one allowed transition of one card.
    async fn change_card(
        &self,
        caller: Caller,
        fingerprint: &impl Message,
        order: ChangeOrder<'_>,
    ) -> Result<pb::Card> {
        let ChangeOrder {
            rpc,
            request_id,
            card_number,
            change,
            reason,
        } = order;
        let mut v = FieldViolations::new();
        let request_id = RequestId::parse(&mut v, request_id);
        let number = v.check("card_number", CardNumber::parse(card_number));
        // A cancellation is for good: it must say why.
        let reason = match change {
            CardChange::Cancel => required(&mut v, "reason", reason),
            _ => Some(reason),
        };
        let (request_id, number, reason) = accept(v, all_some!(request_id, number, reason))?;

        let mut tx = self.pool.begin().await?;
        let ticket =
            match idempotency::claim(&mut tx, &caller, rpc, &request_id, fingerprint).await? {
                Claim::Replay(answer) => return Ok(answer),
                Claim::Fresh(ticket) => ticket,
            };
        let card = store::lock_card(&mut tx, number.as_str())
            .await?
            .ok_or(CardError::CardNotFound)?;
        if caller.is(CallerKind::Person) && caller.code != card.person_id.to_string() {
            return Err(CardError::NotOwnRecord);
        }
        let status = card.status().apply(change)?;
        let now = self.clock.now();
        let by = caller.to_string();
        let row = store::change_status(
            &mut tx,
            number.as_str(),
            &StatusChange {
                status,
                at: now,
                by: &by,
                reason,
                request_id: request_id.as_str(),
            },
        )
        .await?;
        publish(&mut tx, vec![status_changed(&row, now)]).await?;
        audit::record(
            &mut tx,
            &caller,
            rpc,
            Access::Change,
            &row.person_id.to_string(),
            Some(request_id.as_str()),
        )
        .await?;
        let answer = shown_to(card_to_proto(&row, Vec::new()), &caller);
        ticket.complete(&mut tx, &answer).await?;
        tx.commit().await?;
        tracing::info!(card = %answer.card_number, status = status.as_str(), by = %by, "card status changed");
        Ok(answer)
    }

    async fn replace_card(&self, caller: Caller, req: pb::ReplaceCardRequest) -> Result<pb::Card> {
        let mut v = FieldViolations::new();
        let request_id = RequestId::parse(&mut v, &req.request_id);
        let number = v.check("card_number", CardNumber::parse(&req.card_number));
        let reason = required(&mut v, "reason", &req.reason);
        let generation = Generation::parse(&mut v, req.generation);
        let numbering = NumberingSpec::parse_single(&mut v, &req.bank_card_number, &req.bank_bin);
        let (request_id, number, reason, generation, numbering) = accept(
            v,
            all_some!(request_id, number, reason, generation, numbering),
        )?;

        let mut tx = self.pool.begin().await?;
        let ticket =
            match idempotency::claim(&mut tx, &caller, "ReplaceCard", &request_id, &req).await? {
                Claim::Replay(answer) => return Ok(answer),
                Claim::Fresh(ticket) => ticket,
            };
        let old = store::lock_card(&mut tx, number.as_str())
            .await?
            .ok_or(CardError::CardNotFound)?;
        let status = old.status().apply(CardChange::Replace)?;
        let now = self.clock.now();
        let by = caller.to_string();
        // The old card stops being usable before the new one exists, so the
        // one-usable-card-per-person rule holds throughout.
        store::change_status(
            &mut tx,
            number.as_str(),
            &StatusChange {
                status,
                at: now,
                by: &by,
                reason,
                request_id: request_id.as_str(),
            },
        )
        .await?;
        let issuing = Issuing {
            action: "ReplaceCard",
            numbering: &numbering,
            generation,
            caller: &caller,
            request_id: request_id.as_str(),
            at: now,
            today: self.clock.today(),
        };
        let target = Target {
            person_id: old.person_id,
            application_id: None,
            region: old.issuing_region_code.clone(),
            bank_code: old.bank_code.clone(),
            replaces: Some(old.card_number.clone()),
        };
        let new = issuing
            .issue(&mut tx, &[target])
            .await?
            .pop()
            .expect("one card per target");
        let old = store::link_replacement(&mut tx, number.as_str(), &new.card_number).await?;
        publish(&mut tx, vec![status_changed(&old, now)]).await?;
        ticket.complete(&mut tx, &new).await?;
        tx.commit().await?;
        tracing::info!(old = %old.card_number, new = %new.card_number, "card replaced");
        Ok(new)
    }

    async fn with_histories(
        &self,
        conn: &mut PgConnection,
        rows: &[CardRow],
    ) -> Result<Vec<pb::Card>> {
        let numbers: Vec<String> = rows.iter().map(|r| r.card_number.clone()).collect();
        let mut histories: HashMap<String, Vec<pb::StatusChange>> = HashMap::new();
        for h in store::histories(&mut *conn, &numbers).await? {
            histories
                .entry(h.card_number)
                .or_default()
                .push(pb::StatusChange {
                    status: status_from_db(&h.status),
                    at: Some(timestamp(h.at)),
                    changed_by: h.changed_by,
                    reason: h.reason,
                });
        }
        Ok(rows
            .iter()
            .map(|r| card_to_proto(r, histories.remove(&r.card_number).unwrap_or_default()))
            .collect())
    }

    async fn get_card(&self, caller: Caller, req: pb::GetCardRequest) -> Result<pb::Card> {
        use pb::get_card_request::Key;
        let mut v = FieldViolations::new();
        let key = match &req.key {
            Some(Key::CardNumber(n)) => v
                .check("card_number", CardNumber::parse(n))
                .map(|n| n.as_str().to_owned())
                .map(|n| (0, n)),
            Some(Key::CardIdentificationCode(c)) => v
                .check("card_identification_code", CardIdentificationCode::parse(c))
                .map(|c| (1, c.as_str().to_owned())),
            Some(Key::SerialNumber(s)) => v
                .check("serial_number", SerialNumber::parse(s))
                .map(|s| (2, s.as_str().to_owned())),
            None => {
                v.add(
                    "key",
                    "FIELD_REQUIRED",
                    "give a card number, identification code or serial number",
                );
                None
            }
        };
        let (kind, value) = accept(v, key)?;
        let key = match kind {
            0 => CardKey::Number(&value),
            1 => CardKey::IdentificationCode(&value),
            _ => CardKey::Serial(&value),
        };
        let mut tx = self.pool.begin().await?;
        let row = store::card(&mut *tx, key)
            .await?
            .ok_or(CardError::CardNotFound)?;
        if caller.is(CallerKind::Bank) && caller.code != row.bank_code {
            return Err(CardError::CardOfAnotherBank);
        }
        let card = self
            .with_histories(&mut tx, std::slice::from_ref(&row))
            .await?
            .pop()
            .expect("one row");
        audit::record(
            &mut tx,
            &caller,
            "GetCard",
            Access::Read,
            &card.person_id,
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(shown_to(card, &caller))
    }

    async fn list_person_cards(
        &self,
        caller: Caller,
        req: pb::ListPersonCardsRequest,
    ) -> Result<pb::ListPersonCardsResponse> {
        let mut v = FieldViolations::new();
        let person_id = platform::error::uuid(&mut v, "person_id", &req.person_id);
        let person_id = accept(v, person_id)?;
        if caller.is(CallerKind::Person) && caller.code != person_id.to_string() {
            return Err(CardError::NotOwnRecord);
        }
        let mut tx = self.pool.begin().await?;
        let rows = store::cards_of_person(&mut *tx, person_id).await?;
        let cards = self.with_histories(&mut tx, &rows).await?;
        audit::record(
            &mut tx,
            &caller,
            "ListPersonCards",
            Access::Read,
            &req.person_id,
            None,
        )
        .await?;
        tx.commit().await?;
        let cards = cards.into_iter().map(|c| shown_to(c, &caller)).collect();
        Ok(pb::ListPersonCardsResponse { cards })
    }

    async fn register_legacy_card(
        &self,
        caller: Caller,
        req: pb::RegisterLegacyMedicalCardRequest,
    ) -> Result<pb::LegacyMedicalCard> {
        let mut v = FieldViolations::new();
        let request_id = RequestId::parse(&mut v, &req.request_id);
        let number = parse_legacy_number(&mut v, &req.card_number);
        let person_id = platform::error::uuid(&mut v, "person_id", &req.person_id);
        let region = platform::error::region_code(&mut v, "region_code", &req.region_code);
        let (request_id, number, person_id, region) =
            accept(v, all_some!(request_id, number, person_id, region))?;

        let mut tx = self.pool.begin().await?;
        let ticket = match idempotency::claim(
            &mut tx,
            &caller,
            "RegisterLegacyMedicalCard",
            &request_id,
            &req,
        )
        .await?
        {
            Claim::Replay(answer) => return Ok(answer),
            Claim::Fresh(ticket) => ticket,
        };
        self.directory
            .person(&req.person_id, &caller, request_id.as_str())
            .await?;
        let row =
            match store::insert_legacy_card(&mut tx, &number, person_id, &region, self.clock.now())
                .await
            {
                Err(e) if violated_constraint(&e).is_some() => {
                    return Err(CardError::LegacyCardAlreadyRegistered);
                }
                other => other?,
            };
        let answer = legacy_to_proto(&row);
        publish(
            &mut tx,
            vec![pb::card_event::Event::LegacyCardRegistered(answer.clone())],
        )
        .await?;
        audit::record(
            &mut tx,
            &caller,
            "RegisterLegacyMedicalCard",
            Access::Change,
            &req.person_id,
            Some(request_id.as_str()),
        )
        .await?;
        ticket.complete(&mut tx, &answer).await?;
        tx.commit().await?;
        Ok(answer)
    }

    async fn retire_legacy_card(
        &self,
        caller: Caller,
        req: pb::RetireLegacyMedicalCardRequest,
    ) -> Result<pb::LegacyMedicalCard> {
        let mut v = FieldViolations::new();
        let request_id = RequestId::parse(&mut v, &req.request_id);
        let number = parse_legacy_number(&mut v, &req.card_number);
        let replaced_by = v.check(
            "replaced_by_card_number",
            CardNumber::parse(&req.replaced_by_card_number),
        );
        let (request_id, number, replaced_by) =
            accept(v, all_some!(request_id, number, replaced_by))?;

        let mut tx = self.pool.begin().await?;
        let ticket = match idempotency::claim(
            &mut tx,
            &caller,
            "RetireLegacyMedicalCard",
            &request_id,
            &req,
        )
        .await?
        {
            Claim::Replay(answer) => return Ok(answer),
            Claim::Fresh(ticket) => ticket,
        };
        let legacy = store::legacy_card(&mut *tx, &number, true)
            .await?
            .ok_or(CardError::LegacyCardNotFound)?;
        if legacy.status == "RETIRED" {
            return Err(CardError::LegacyCardRetired);
        }
        let card = store::card(&mut *tx, CardKey::Number(replaced_by.as_str()))
            .await?
            .ok_or(CardError::CardNotFound)?;
        if card.person_id != legacy.person_id {
            return Err(CardError::LegacyCardOfAnotherPerson);
        }
        let row =
            store::retire_legacy_card(&mut tx, &number, replaced_by.as_str(), self.clock.now())
                .await?;
        let answer = legacy_to_proto(&row);
        publish(
            &mut tx,
            vec![pb::card_event::Event::LegacyCardRetired(answer.clone())],
        )
        .await?;
        audit::record(
            &mut tx,
            &caller,
            "RetireLegacyMedicalCard",
            Access::Change,
            &answer.person_id,
            Some(request_id.as_str()),
        )
        .await?;
        ticket.complete(&mut tx, &answer).await?;
        tx.commit().await?;
        Ok(answer)
    }

    async fn get_legacy_card(
        &self,
        caller: Caller,
        req: pb::GetLegacyMedicalCardRequest,
    ) -> Result<pb::LegacyMedicalCard> {
        let mut v = FieldViolations::new();
        let number = parse_legacy_number(&mut v, &req.card_number);
        let number = accept(v, number)?;
        let mut tx = self.pool.begin().await?;
        let row = store::legacy_card(&mut *tx, &number, false)
            .await?
            .ok_or(CardError::LegacyCardNotFound)?;
        audit::record(
            &mut tx,
            &caller,
            "GetLegacyMedicalCard",
            Access::Read,
            &row.person_id.to_string(),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(legacy_to_proto(&row))
    }
}

type EventStream = futures::stream::BoxStream<'static, Result<pb::CardEvent, Status>>;
type ProgressStream = ReceiverStream<Result<pb::IssueCardsProgress, Status>>;

use platform::error::respond;

#[tonic::async_trait]
impl pb::card_service_server::CardService for CardApi {
    async fn apply_for_card(
        &self,
        request: Request<pb::ApplyForCardRequest>,
    ) -> Result<Response<pb::CardApplication>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.apply_for_card(caller, request.into_inner()).await)
    }

    async fn issue_card(
        &self,
        request: Request<pb::IssueCardRequest>,
    ) -> Result<Response<pb::Card>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.issue_card(caller, request.into_inner()).await)
    }

    type IssueCardsStream = ProgressStream;

    async fn issue_cards(
        &self,
        request: Request<pb::IssueCardsRequest>,
    ) -> Result<Response<Self::IssueCardsStream>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.issue_cards(caller, request.into_inner()).await)
    }

    async fn record_receipt(
        &self,
        request: Request<pb::RecordReceiptRequest>,
    ) -> Result<Response<pb::Card>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        respond(
            self.change_card(
                caller,
                &req,
                ChangeOrder {
                    rpc: "RecordReceipt",
                    request_id: &req.request_id,
                    card_number: &req.card_number,
                    change: CardChange::Receive,
                    reason: "received by the holder",
                },
            )
            .await,
        )
    }

    async fn report_loss(
        &self,
        request: Request<pb::ReportLossRequest>,
    ) -> Result<Response<pb::Card>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let reason = if req.reason.is_empty() {
            "reported lost"
        } else {
            req.reason.as_str()
        };
        respond(
            self.change_card(
                caller,
                &req,
                ChangeOrder {
                    rpc: "ReportLoss",
                    request_id: &req.request_id,
                    card_number: &req.card_number,
                    change: CardChange::ReportLoss,
                    reason,
                },
            )
            .await,
        )
    }

    async fn replace_card(
        &self,
        request: Request<pb::ReplaceCardRequest>,
    ) -> Result<Response<pb::Card>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.replace_card(caller, request.into_inner()).await)
    }

    async fn cancel_card(
        &self,
        request: Request<pb::CancelCardRequest>,
    ) -> Result<Response<pb::Card>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        respond(
            self.change_card(
                caller,
                &req,
                ChangeOrder {
                    rpc: "CancelCard",
                    request_id: &req.request_id,
                    card_number: &req.card_number,
                    change: CardChange::Cancel,
                    reason: &req.reason,
                },
            )
            .await,
        )
    }

    async fn get_card(
        &self,
        request: Request<pb::GetCardRequest>,
    ) -> Result<Response<pb::Card>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.get_card(caller, request.into_inner()).await)
    }

    async fn list_person_cards(
        &self,
        request: Request<pb::ListPersonCardsRequest>,
    ) -> Result<Response<pb::ListPersonCardsResponse>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.list_person_cards(caller, request.into_inner()).await)
    }

    async fn register_legacy_medical_card(
        &self,
        request: Request<pb::RegisterLegacyMedicalCardRequest>,
    ) -> Result<Response<pb::LegacyMedicalCard>, Status> {
        let caller = Caller::of(&request)?;
        respond(
            self.register_legacy_card(caller, request.into_inner())
                .await,
        )
    }

    async fn retire_legacy_medical_card(
        &self,
        request: Request<pb::RetireLegacyMedicalCardRequest>,
    ) -> Result<Response<pb::LegacyMedicalCard>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.retire_legacy_card(caller, request.into_inner()).await)
    }

    async fn get_legacy_medical_card(
        &self,
        request: Request<pb::GetLegacyMedicalCardRequest>,
    ) -> Result<Response<pb::LegacyMedicalCard>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.get_legacy_card(caller, request.into_inner()).await)
    }

    type WatchCardEventsStream = EventStream;

    async fn watch_card_events(
        &self,
        request: Request<pb::WatchCardEventsRequest>,
    ) -> Result<Response<Self::WatchCardEventsStream>, Status> {
        let after = request.into_inner().after.unwrap_or_default().cursor;
        let stream = outbox::event_stream(
            self.pool.clone(),
            &self.schema,
            &after,
            |event: &mut pb::CardEvent, cursor, at| {
                event.cursor = cursor;
                event.occurred_at = Some(at);
            },
        )
        .await?;
        Ok(Response::new(stream))
    }
}

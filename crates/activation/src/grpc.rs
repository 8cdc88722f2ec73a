//! The tonic implementation of `socsec.activation.v1.ActivationService`.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use pii::{BankCardNumber, CardIdentificationCode, CardNumber, IdNumber, PersonName, SerialNumber};
use platform::{
    all_some,
    audit::{self, Access, AuditNote},
    auth::{Caller, CallerKind},
    clock::{Clock, timestamp},
    error::{FieldViolations, required},
    idempotency::{self, Claim, RequestId, Ticket},
    outbox,
    paging::Page,
};
use prost::Message;
use socsec_proto::{activation::v1 as pb, common::v1 as common};
use sqlx::{PgConnection, PgPool};
use tokio::sync::Notify;
use tonic::{Request, Response, Status};

use crate::{
    directory::Directory,
    domain::{Channel, Consequence, RegionPolicy, Verdict, Window, card_verdict, legacy_verdict},
    error::ActivationError,
    partners::Partners,
    store::{self, CardRow},
};

type Result<T, E = ActivationError> = std::result::Result<T, E>;

#[derive(Clone)]
pub struct ActivationApi {
    pool: PgPool,
    schema: String,
    clock: Arc<dyn Clock>,
    directory: Directory,
    partners: Partners,
    default_policy: RegionPolicy,
    retirements: Arc<Notify>,
}

/// The parsed request, or `INVALID_ARGUMENT` with every bad field.
fn accept<T>(violations: FieldViolations, parsed: Option<T>) -> Result<T> {
    violations.finish(parsed).map_err(ActivationError::Invalid)
}

fn activation_to_proto(row: &CardRow) -> Option<pb::Activation> {
    Some(pb::Activation {
        card_number: row.card_number.clone(),
        channel: Channel::to_proto_str(row.channel.as_deref()?) as i32,
        partner_code: row.partner_code.clone().unwrap_or_default(),
        operator_id: row.operator_id.clone().unwrap_or_default(),
        activated_at: row.activated_at.map(timestamp),
        retired_legacy_card_number: row.retired_legacy_card_number.clone().unwrap_or_default(),
    })
}

fn eligibility(verdict: Verdict) -> pb::Eligibility {
    pb::Eligibility {
        eligible: verdict.eligible(),
        reason: verdict.reason as i32,
        activation_deadline: verdict.deadline.map(timestamp),
        deadline_passed: verdict.deadline_passed,
    }
}

fn unknown_card() -> pb::Eligibility {
    pb::Eligibility {
        eligible: false,
        reason: pb::EligibilityReason::CardUnknown as i32,
        ..Default::default()
    }
}

/// One attempt to activate a card, as the channel checked it.
struct Attempt<'a> {
    caller: &'a Caller,
    rpc: &'static str,
    request_id: &'a RequestId,
    channel: Channel,
    partner_code: String,
    operator_id: String,
    retire_legacy: Option<String>,
}

/// Refuses a card that cannot be activated (any more).
fn ensure_activatable(card: &CardRow) -> Result<()> {
    use crate::domain::CardState::*;
    let reason = match card.state() {
        Lost => "CARD_LOST",
        Replaced => "CARD_REPLACED",
        Cancelled => "CARD_CANCELLED",
        Issued | Received => {
            return match (&card.channel, card.activated_at) {
                (Some(channel), Some(at)) => Err(ActivationError::AlreadyActive {
                    channel: channel.clone(),
                    at,
                }),
                _ => Ok(()),
            };
        }
    };
    Err(ActivationError::CardUnusable { reason })
}

impl ActivationApi {
    pub fn new(
        pool: PgPool,
        schema: String,
        clock: Arc<dyn Clock>,
        directory: Directory,
        partners: Partners,
        default_policy: RegionPolicy,
        retirements: Arc<Notify>,
    ) -> Self {
        Self {
            pool,
            schema,
            clock,
            directory,
            partners,
            default_policy,
            retirements,
        }
    }

    /// Claims the request id; `Err(answer)` when this is a retry.
    async fn claim(
        &self,
        conn: &mut PgConnection,
        caller: &Caller,
        rpc: &str,
        request_id: &RequestId,
        fingerprint: &impl Message,
    ) -> Result<std::result::Result<Ticket, pb::Activation>> {
        Ok(
            match idempotency::claim(conn, caller, rpc, request_id, fingerprint).await? {
                Claim::Fresh(ticket) => Ok(ticket),
                Claim::Replay(answer) => Err(answer),
            },
        )
    }

    /// Records the activation of the locked `card`, its event and audit
    /// entry, and answers the partner; the caller commits.
    async fn activate(
        &self,
        conn: &mut PgConnection,
        ticket: Ticket,
        card: &CardRow,
        attempt: Attempt<'_>,
    ) -> Result<pb::Activation> {
        let now = self.clock.now();
        let inserted = store::insert_activation(
            conn,
            &store::NewActivation {
                card_number: &card.card_number,
                person_id: card.person_id,
                channel: attempt.channel.as_str(),
                partner_code: &attempt.partner_code,
                operator_id: &attempt.operator_id,
                at: now,
                request_id: attempt.request_id.as_str(),
                retired_legacy_card_number: attempt.retire_legacy.as_deref(),
            },
        )
        .await?;
        if !inserted {
            // Only possible if the card's lock was bypassed; re-read to answer.
            let current = store::card_by_number(&mut *conn, &card.card_number)
                .await?
                .ok_or(ActivationError::CardNotFound)?;
            ensure_activatable(&current)?;
        }
        if let Some(legacy) = &attempt.retire_legacy {
            store::retire_legacy_card(conn, legacy, &card.card_number).await?;
        }
        let activation = pb::Activation {
            card_number: card.card_number.clone(),
            channel: Channel::to_proto_str(attempt.channel.as_str()) as i32,
            partner_code: attempt.partner_code,
            operator_id: attempt.operator_id,
            activated_at: Some(timestamp(now)),
            retired_legacy_card_number: attempt.retire_legacy.unwrap_or_default(),
        };
        let event = pb::ActivationEvent {
            event: Some(pb::activation_event::Event::CardActivated(
                pb::CardActivated {
                    activation: Some(activation.clone()),
                    person_id: card.person_id.to_string(),
                },
            )),
            ..Default::default()
        };
        let person = card.person_id.to_string();
        ticket
            .complete_with(
                conn,
                &activation,
                Some(("CardActivated", &event.encode_to_vec())),
                Some(AuditNote {
                    caller: attempt.caller,
                    action: attempt.rpc,
                    access: Access::Change,
                    subject_id: &person,
                }),
            )
            .await?;
        tracing::info!(card = %card.card_number, channel = attempt.channel.as_str(), partner = %activation.partner_code, "card activated");
        Ok(activation)
    }

    async fn at_bank_outlet(
        &self,
        caller: Caller,
        req: pb::ActivateAtBankOutletRequest,
    ) -> Result<pb::Activation> {
        let mut v = FieldViolations::new();
        let request_id = RequestId::parse(&mut v, &req.request_id);
        let operator = required(&mut v, "operator_id", &req.operator_id);
        let number = v.check("card_number", CardNumber::parse(&req.card_number));
        let id_number = v.check(
            "id_number",
            IdNumber::parse(&req.id_number, self.clock.today()),
        );
        let (request_id, operator, number, id_number) =
            accept(v, all_some!(request_id, operator, number, id_number))?;
        let outlet = self.partners.in_force(&caller, &self.directory).await?;

        let mut tx = self.pool.begin().await?;
        let ticket = match self
            .claim(&mut tx, &caller, "ActivateAtBankOutlet", &request_id, &req)
            .await?
        {
            Ok(ticket) => ticket,
            Err(answer) => return Ok(answer),
        };
        let card = store::lock_card_by_number(&mut tx, number.as_str())
            .await?
            .ok_or(ActivationError::CardNotFound)?;
        if outlet.parent_code.as_deref() != Some(card.bank_code.as_str()) {
            return Err(ActivationError::CardOfAnotherBank);
        }
        // The holder first: a card's state is no business of someone who
        // does not hold the holder's ID number.
        if !self
            .directory
            .is_holder(
                &card.person_id.to_string(),
                id_number.expose(),
                &caller,
                request_id.as_str(),
            )
            .await?
        {
            return Err(ActivationError::HolderMismatch);
        }
        ensure_activatable(&card)?;
        let attempt = Attempt {
            caller: &caller,
            rpc: "ActivateAtBankOutlet",
            request_id: &request_id,
            channel: Channel::BankOutlet,
            partner_code: caller.code.clone(),
            operator_id: operator.to_owned(),
            retire_legacy: None,
        };
        let answer = self.activate(&mut tx, ticket, &card, attempt).await?;
        tx.commit().await?;
        Ok(answer)
    }

    async fn at_hospital(
        &self,
        caller: Caller,
        req: pb::ActivateAtHospitalRequest,
    ) -> Result<pb::Activation> {
        let mut v = FieldViolations::new();
        let request_id = RequestId::parse(&mut v, &req.request_id);
        let operator = required(&mut v, "operator_id", &req.operator_id);
        let number = v.check("card_number", CardNumber::parse(&req.card_number));
        let code = v.check(
            "card_identification_code",
            CardIdentificationCode::parse(&req.card_identification_code),
        );
        let visit = match pb::VisitType::try_from(req.visit_type) {
            Ok(pb::VisitType::Outpatient | pb::VisitType::Inpatient) => Some(()),
            _ => {
                v.add(
                    "visit_type",
                    "VISIT_TYPE_REQUIRED",
                    "must be OUTPATIENT or INPATIENT",
                );
                None
            }
        };
        let (request_id, operator, number, code, _) =
            accept(v, all_some!(request_id, operator, number, code, visit))?;
        self.partners.in_force(&caller, &self.directory).await?;

        let mut tx = self.pool.begin().await?;
        let ticket = match self
            .claim(&mut tx, &caller, "ActivateAtHospital", &request_id, &req)
            .await?
        {
            Ok(ticket) => ticket,
            Err(answer) => return Ok(answer),
        };
        let card = store::lock_card_by_number(&mut tx, number.as_str())
            .await?
            .ok_or(ActivationError::CardNotFound)?;
        if card.card_identification_code != code.as_str() {
            return Err(ActivationError::IdentificationMismatch);
        }
        ensure_activatable(&card)?;
        let attempt = Attempt {
            caller: &caller,
            rpc: "ActivateAtHospital",
            request_id: &request_id,
            channel: Channel::Hospital,
            partner_code: caller.code.clone(),
            operator_id: operator.to_owned(),
            retire_legacy: None,
        };
        let answer = self.activate(&mut tx, ticket, &card, attempt).await?;
        tx.commit().await?;
        Ok(answer)
    }

    async fn at_pharmacy(
        &self,
        caller: Caller,
        req: pb::ActivateAtPharmacyRequest,
    ) -> Result<pb::Activation> {
        let mut v = FieldViolations::new();
        let request_id = RequestId::parse(&mut v, &req.request_id);
        let operator = required(&mut v, "operator_id", &req.operator_id);
        let legacy = required(&mut v, "legacy_card_number", &req.legacy_card_number)
            .map(str::to_ascii_uppercase);
        let number = v.check("card_number", CardNumber::parse(&req.card_number));
        let (request_id, operator, legacy, number) =
            accept(v, all_some!(request_id, operator, legacy, number))?;
        self.partners.in_force(&caller, &self.directory).await?;

        let mut tx = self.pool.begin().await?;
        let ticket = match self
            .claim(&mut tx, &caller, "ActivateAtPharmacy", &request_id, &req)
            .await?
        {
            Ok(ticket) => ticket,
            Err(answer) => return Ok(answer),
        };
        let card = store::lock_card_by_number(&mut tx, number.as_str())
            .await?
            .ok_or(ActivationError::CardNotFound)?;
        let old = store::lock_legacy_card(&mut tx, &legacy)
            .await?
            .ok_or(ActivationError::LegacyCardNotFound)?;
        if old.person_id != card.person_id {
            return Err(ActivationError::LegacyCardOfAnotherPerson);
        }
        ensure_activatable(&card)?;
        if old.status == "RETIRED" {
            return Err(ActivationError::LegacyCardRetired);
        }
        let attempt = Attempt {
            caller: &caller,
            rpc: "ActivateAtPharmacy",
            request_id: &request_id,
            channel: Channel::Pharmacy,
            partner_code: caller.code.clone(),
            operator_id: operator.to_owned(),
            retire_legacy: Some(old.card_number),
        };
        let answer = self.activate(&mut tx, ticket, &card, attempt).await?;
        tx.commit().await?;
        self.retirements.notify_one();
        Ok(answer)
    }

    async fn with_financial_function(
        &self,
        caller: Caller,
        req: pb::ActivateWithFinancialFunctionRequest,
    ) -> Result<pb::Activation> {
        let mut v = FieldViolations::new();
        let request_id = RequestId::parse(&mut v, &req.request_id);
        let serial = v.check("serial_number", SerialNumber::parse(&req.serial_number));
        let id_number = v.check(
            "id_number",
            IdNumber::parse(&req.id_number, self.clock.today()),
        );
        let bank_card = v.check(
            "bank_card_number",
            BankCardNumber::parse(&req.bank_card_number),
        );
        let (request_id, serial, id_number, bank_card) =
            accept(v, all_some!(request_id, serial, id_number, bank_card))?;
        self.partners.in_force(&caller, &self.directory).await?;

        let mut tx = self.pool.begin().await?;
        let ticket = match self
            .claim(
                &mut tx,
                &caller,
                "ActivateWithFinancialFunction",
                &request_id,
                &req,
            )
            .await?
        {
            Ok(ticket) => ticket,
            Err(answer) => return Ok(answer),
        };
        let card = store::lock_card_by_serial(&mut tx, serial.as_str())
            .await?
            .ok_or(ActivationError::FinancialDetailsMismatch)?;
        if card.bank_code != caller.code {
            return Err(ActivationError::CardOfAnotherBank);
        }
        if card.bank_card_number != bank_card.expose() {
            return Err(ActivationError::FinancialDetailsMismatch);
        }
        ensure_activatable(&card)?;
        if !self
            .directory
            .is_holder(
                &card.person_id.to_string(),
                id_number.expose(),
                &caller,
                request_id.as_str(),
            )
            .await?
        {
            return Err(ActivationError::FinancialDetailsMismatch);
        }
        let attempt = Attempt {
            caller: &caller,
            rpc: "ActivateWithFinancialFunction",
            request_id: &request_id,
            channel: Channel::FinancialFunction,
            partner_code: caller.code.clone(),
            operator_id: String::new(),
            retire_legacy: None,
        };
        let answer = self.activate(&mut tx, ticket, &card, attempt).await?;
        tx.commit().await?;
        Ok(answer)
    }

    async fn by_hotline(
        &self,
        caller: Caller,
        req: pb::ActivateByHotlineRequest,
    ) -> Result<pb::Activation> {
        let mut v = FieldViolations::new();
        let request_id = RequestId::parse(&mut v, &req.request_id);
        let agent = required(&mut v, "agent_id", &req.agent_id);
        let id_number = v.check(
            "id_number",
            IdNumber::parse(&req.id_number, self.clock.today()),
        );
        let name = v.check("name", PersonName::parse(&req.name));
        let number = v.check("card_number", CardNumber::parse(&req.card_number));
        let (request_id, agent, id_number, name, number) =
            accept(v, all_some!(request_id, agent, id_number, name, number))?;
        self.partners.in_force(&caller, &self.directory).await?;

        let mut tx = self.pool.begin().await?;
        let ticket = match self
            .claim(&mut tx, &caller, "ActivateByHotline", &request_id, &req)
            .await?
        {
            Ok(ticket) => ticket,
            Err(answer) => return Ok(answer),
        };
        let card = store::lock_card_by_number(&mut tx, number.as_str())
            .await?
            .ok_or(ActivationError::CardNotFound)?;
        // ID number and name first: a caller who cannot give them learns
        // nothing of the card's state.
        let person = self
            .directory
            .verified_person(
                id_number.expose(),
                name.expose(),
                &caller,
                request_id.as_str(),
            )
            .await?;
        if person.as_deref() != Some(card.person_id.to_string().as_str()) {
            return Err(ActivationError::HolderMismatch);
        }
        ensure_activatable(&card)?;
        let attempt = Attempt {
            caller: &caller,
            rpc: "ActivateByHotline",
            request_id: &request_id,
            channel: Channel::Hotline,
            partner_code: caller.code.clone(),
            operator_id: agent.to_owned(),
            retire_legacy: None,
        };
        let answer = self.activate(&mut tx, ticket, &card, attempt).await?;
        tx.commit().await?;
        Ok(answer)
    }

    async fn check_eligibility(
        &self,
        caller: Caller,
        req: pb::CheckEligibilityRequest,
    ) -> Result<pb::Eligibility> {
        use pb::check_eligibility_request::Card;
        self.partners
            .ensure_designated(&caller, &self.directory)
            .await?;
        let now = self.clock.now();
        let mut v = FieldViolations::new();
        match req.card {
            Some(Card::SocialSecurityCard(presented)) => {
                let number = v.check(
                    "social_security_card.card_number",
                    CardNumber::parse(&presented.card_number),
                );
                let code = if presented.card_identification_code.is_empty() {
                    if caller.is(CallerKind::Hospital) {
                        v.add(
                            "social_security_card.card_identification_code",
                            "FIELD_REQUIRED",
                            "hospitals send the card identification code",
                        );
                        None
                    } else {
                        Some(None)
                    }
                } else {
                    v.check(
                        "social_security_card.card_identification_code",
                        CardIdentificationCode::parse(&presented.card_identification_code),
                    )
                    .map(Some)
                };
                let (number, code) = accept(v, all_some!(number, code))?;
                let mut conn = self.pool.acquire().await?;
                let Some(card) = store::card_by_number(&mut *conn, number.as_str()).await? else {
                    return Ok(unknown_card());
                };
                // A check at a hospital or pharmacy is a visit: audited
                // before the answer is given.
                audit::record(
                    &mut conn,
                    &caller,
                    "CheckEligibility",
                    Access::Read,
                    &card.person_id.to_string(),
                    None,
                )
                .await?;
                if code.is_some_and(|c| c.as_str() != card.card_identification_code) {
                    return Ok(pb::Eligibility {
                        eligible: false,
                        reason: pb::EligibilityReason::CardIdentificationMismatch as i32,
                        ..Default::default()
                    });
                }
                Ok(eligibility(card_verdict(
                    &card.facts(self.default_policy),
                    now,
                )))
            }
            Some(Card::LegacyCardNumber(legacy)) => {
                let legacy =
                    required(&mut v, "legacy_card_number", &legacy).map(str::to_ascii_uppercase);
                let legacy = accept(v, legacy)?;
                let mut conn = self.pool.acquire().await?;
                let Some(old) = store::legacy_card(&mut *conn, &legacy).await? else {
                    return Ok(unknown_card());
                };
                audit::record(
                    &mut conn,
                    &caller,
                    "CheckEligibility",
                    Access::Read,
                    &old.person_id.to_string(),
                    None,
                )
                .await?;
                let current = store::current_card_of_person(&mut *conn, old.person_id).await?;
                let facts = current.map(|c| c.facts(self.default_policy));
                Ok(eligibility(legacy_verdict(
                    old.status == "RETIRED",
                    facts.as_ref(),
                    now,
                )))
            }
            None => {
                v.add(
                    "card",
                    "FIELD_REQUIRED",
                    "present a social security card or an old medical insurance card",
                );
                Err(ActivationError::Invalid(v.into_status()))
            }
        }
    }

    async fn get_card_activation(
        &self,
        caller: Caller,
        req: pb::GetCardActivationRequest,
    ) -> Result<pb::CardActivation> {
        let mut v = FieldViolations::new();
        let number = v.check("card_number", CardNumber::parse(&req.card_number));
        let number = accept(v, number)?;
        let mut tx = self.pool.begin().await?;
        let card = store::card_by_number(&mut *tx, number.as_str())
            .await?
            .ok_or(ActivationError::CardNotFound)?;
        audit::record(
            &mut tx,
            &caller,
            "GetCardActivation",
            Access::Read,
            &card.person_id.to_string(),
            None,
        )
        .await?;
        tx.commit().await?;
        let facts = card.facts(self.default_policy);
        Ok(pb::CardActivation {
            card_number: card.card_number.clone(),
            person_id: card.person_id.to_string(),
            card_status: card.status.clone(),
            received_at: card.received_at.map(timestamp),
            activation_deadline: facts.deadline().map(timestamp),
            activation: activation_to_proto(&card),
        })
    }

    async fn approaching_deadlines(
        &self,
        caller: Caller,
        req: pb::ListApproachingDeadlinesRequest,
    ) -> Result<pb::ListApproachingDeadlinesResponse> {
        let mut v = FieldViolations::new();
        if !(1..=366).contains(&req.within_days) {
            v.add("within_days", "WITHIN_DAYS_INVALID", "must be 1 to 366");
        }
        let region = if req.region_code.is_empty() {
            Some(None)
        } else {
            platform::error::region_code(&mut v, "region_code", &req.region_code).map(Some)
        };
        let page_request = req.page.unwrap_or_default();
        let page = Page::parse(
            &mut v,
            "page",
            page_request.page_size,
            &page_request.page_token,
        );
        let after = match page.as_ref().and_then(|p| p.after.as_deref()) {
            None => Some(None),
            Some(token) => {
                let parsed = token.split_once('|').and_then(|(at, card)| {
                    Some((
                        DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc),
                        card.to_owned(),
                    ))
                });
                if parsed.is_none() {
                    v.add(
                        "page.page_token",
                        "PAGE_TOKEN_INVALID",
                        "is not a token this service issued",
                    );
                }
                parsed.map(Some)
            }
        };
        let (region, page, after) = accept(v, all_some!(region, page, after))?;
        let now = self.clock.now();
        let rows = store::approaching_deadlines(
            &self.pool,
            now,
            now + Duration::days(i64::from(req.within_days)),
            region.as_deref(),
            self.default_policy,
            after,
            page.size,
        )
        .await?;
        let persons: Vec<String> = rows.iter().map(|r| r.person_id.to_string()).collect();
        let mut conn = self.pool.acquire().await?;
        audit::record_many(
            &mut conn,
            &caller,
            "ListApproachingDeadlines",
            Access::Read,
            &persons,
            None,
        )
        .await?;
        let last = rows
            .last()
            .map(|r| format!("{}|{}", r.deadline.to_rfc3339(), r.card_number));
        Ok(pb::ListApproachingDeadlinesResponse {
            page: Some(common::PageResponse {
                next_page_token: page.next_token(rows.len(), last.as_deref()),
            }),
            cards: rows
                .into_iter()
                .map(|r| pb::ApproachingDeadline {
                    card_number: r.card_number,
                    person_id: r.person_id.to_string(),
                    received_at: Some(timestamp(r.received_at)),
                    activation_deadline: Some(timestamp(r.deadline)),
                })
                .collect(),
        })
    }

    async fn set_region_policy(
        &self,
        caller: Caller,
        req: pb::SetRegionPolicyRequest,
    ) -> Result<pb::RegionPolicy> {
        let mut v = FieldViolations::new();
        let request_id = RequestId::parse(&mut v, &req.request_id);
        let given = req.policy.clone().unwrap_or_default();
        let region = platform::error::region_code(&mut v, "policy.region_code", &given.region_code);
        let window = match (given.window_months, given.window_days) {
            (m, 0) if (1..=60).contains(&m) => Some(Window::Months(m as u32)),
            (0, d) if (1..=1830).contains(&d) => Some(Window::Days(d as u32)),
            _ => {
                v.add(
                    "policy.window_months",
                    "WINDOW_INVALID",
                    "give either 1-60 months or 1-1830 days",
                );
                None
            }
        };
        let consequence = match pb::DeadlineConsequence::try_from(given.consequence) {
            Ok(pb::DeadlineConsequence::RestrictLegacyCard) => {
                Some(Consequence::RestrictLegacyCard)
            }
            Ok(pb::DeadlineConsequence::None) => Some(Consequence::None),
            _ => {
                v.add(
                    "policy.consequence",
                    "CONSEQUENCE_REQUIRED",
                    "must be RESTRICT_LEGACY_CARD or NONE",
                );
                None
            }
        };
        let (request_id, _, window, consequence) =
            accept(v, all_some!(request_id, region, window, consequence))?;
        let mut tx = self.pool.begin().await?;
        let ticket =
            match idempotency::claim(&mut tx, &caller, "SetRegionPolicy", &request_id, &req).await?
            {
                Claim::Replay(answer) => return Ok(answer),
                Claim::Fresh(ticket) => ticket,
            };
        store::set_region_policy(
            &mut tx,
            &given.region_code,
            &RegionPolicy {
                window,
                consequence,
            },
        )
        .await?;
        ticket.complete(&mut tx, &given).await?;
        tx.commit().await?;
        tracing::info!(region = %given.region_code, by = %caller, "region policy set");
        Ok(given)
    }

    async fn get_region_policy(&self, req: pb::GetRegionPolicyRequest) -> Result<pb::RegionPolicy> {
        let policy = store::region_policy(&self.pool, &req.region_code)
            .await?
            .unwrap_or(self.default_policy);
        let (window_months, window_days) = match policy.window {
            Window::Months(m) => (m as i32, 0),
            Window::Days(d) => (0, d as i32),
        };
        Ok(pb::RegionPolicy {
            region_code: req.region_code,
            window_months,
            window_days,
            consequence: match policy.consequence {
                Consequence::RestrictLegacyCard => pb::DeadlineConsequence::RestrictLegacyCard,
                Consequence::None => pb::DeadlineConsequence::None,
            } as i32,
        })
    }
}

use platform::error::respond;

type EventStream = futures::stream::BoxStream<'static, Result<pb::ActivationEvent, Status>>;

#[tonic::async_trait]
impl pb::activation_service_server::ActivationService for ActivationApi {
    async fn activate_at_bank_outlet(
        &self,
        request: Request<pb::ActivateAtBankOutletRequest>,
    ) -> Result<Response<pb::Activation>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.at_bank_outlet(caller, request.into_inner()).await)
    }

    async fn activate_at_hospital(
        &self,
        request: Request<pb::ActivateAtHospitalRequest>,
    ) -> Result<Response<pb::Activation>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.at_hospital(caller, request.into_inner()).await)
    }

    async fn activate_at_pharmacy(
        &self,
        request: Request<pb::ActivateAtPharmacyRequest>,
    ) -> Result<Response<pb::Activation>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.at_pharmacy(caller, request.into_inner()).await)
    }

    async fn activate_with_financial_function(
        &self,
        request: Request<pb::ActivateWithFinancialFunctionRequest>,
    ) -> Result<Response<pb::Activation>, Status> {
        let caller = Caller::of(&request)?;
        respond(
            self.with_financial_function(caller, request.into_inner())
                .await,
        )
    }

    async fn activate_by_hotline(
        &self,
        request: Request<pb::ActivateByHotlineRequest>,
    ) -> Result<Response<pb::Activation>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.by_hotline(caller, request.into_inner()).await)
    }

    async fn check_eligibility(
        &self,
        request: Request<pb::CheckEligibilityRequest>,
    ) -> Result<Response<pb::Eligibility>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.check_eligibility(caller, request.into_inner()).await)
    }

    async fn get_card_activation(
        &self,
        request: Request<pb::GetCardActivationRequest>,
    ) -> Result<Response<pb::CardActivation>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.get_card_activation(caller, request.into_inner()).await)
    }

    async fn list_approaching_deadlines(
        &self,
        request: Request<pb::ListApproachingDeadlinesRequest>,
    ) -> Result<Response<pb::ListApproachingDeadlinesResponse>, Status> {
        let caller = Caller::of(&request)?;
        respond(
            self.approaching_deadlines(caller, request.into_inner())
                .await,
        )
    }

    async fn set_region_policy(
        &self,
        request: Request<pb::SetRegionPolicyRequest>,
    ) -> Result<Response<pb::RegionPolicy>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.set_region_policy(caller, request.into_inner()).await)
    }

    async fn get_region_policy(
        &self,
        request: Request<pb::GetRegionPolicyRequest>,
    ) -> Result<Response<pb::RegionPolicy>, Status> {
        respond(self.get_region_policy(request.into_inner()).await)
    }

    type WatchActivationEventsStream = EventStream;

    async fn watch_activation_events(
        &self,
        request: Request<pb::WatchActivationEventsRequest>,
    ) -> Result<Response<Self::WatchActivationEventsStream>, Status> {
        let after = request.into_inner().after.unwrap_or_default().cursor;
        let stream = outbox::event_stream(
            self.pool.clone(),
            &self.schema,
            &after,
            |event: &mut pb::ActivationEvent, cursor, at| {
                event.cursor = cursor;
                event.occurred_at = Some(at);
            },
        )
        .await?;
        Ok(Response::new(stream))
    }
}

//! The tonic implementation of `socsec.identity.v1.IdentityService`: parse the
//! request into domain types, do the work in one transaction, map the result.

use std::sync::Arc;

use chrono::Duration;
use pii::{IdNumber, PartnerCode, PersonName, Secret, mask_middle};
use platform::{
    audit::{self, Access},
    auth::{Caller, CallerKind},
    clock::{Clock, date, timestamp},
    error::{FieldViolations, required},
    idempotency::{self, Claim, RequestId},
    outbox,
    paging::Page,
};
use prost::Message;
use socsec_proto::{common::v1 as common, identity::v1 as pb};
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    domain::{
        BasicInfo, BasicInfoStatus, NewPartner, OnlinePassword, PartnerKind,
        basic_info::{gender_from_db, gender_to_proto},
        password,
    },
    error::{IdentityError, is_unique_violation},
    store::{self, Change, NewPerson, PartnerRow, PersonRow},
};

/// Sign-in and lockout settings.
#[derive(Clone, Debug)]
pub struct SignInSettings {
    pub max_failures: i32,
    pub lockout: Duration,
    pub token_ttl: Duration,
}

pub struct IdentityApi {
    pool: PgPool,
    schema: String,
    clock: Arc<dyn Clock>,
    sessions: platform::session::SessionKeys,
    sign_in: SignInSettings,
}

type Result<T, E = IdentityError> = std::result::Result<T, E>;

impl IdentityApi {
    pub fn new(
        pool: PgPool,
        schema: String,
        clock: Arc<dyn Clock>,
        sessions: platform::session::SessionKeys,
        sign_in: SignInSettings,
    ) -> Self {
        Self {
            pool,
            schema,
            clock,
            sessions,
            sign_in,
        }
    }
}

/// The parsed request, or `INVALID_ARGUMENT` with every bad field.
fn accept<T>(violations: FieldViolations, parsed: Option<T>) -> Result<T> {
    violations.finish(parsed).map_err(IdentityError::Invalid)
}

fn parse_person_id(violations: &mut FieldViolations, value: &str) -> Option<Uuid> {
    let parsed = Uuid::parse_str(value).ok();
    if parsed.is_none() {
        violations.add(
            "person_id",
            "PERSON_ID_INVALID",
            "must be a person id (UUID)",
        );
    }
    parsed
}

fn parse_version(violations: &mut FieldViolations, version: i32) -> Option<i32> {
    if version < 1 {
        violations.add(
            "version",
            "VERSION_REQUIRED",
            "must be the version being acted on (1 or more)",
        );
        return None;
    }
    Some(version)
}

/// A person may only act on their own record.
fn ensure_own(caller: &Caller, person_id: Uuid) -> Result<()> {
    if caller.is(CallerKind::Person) && caller.code != person_id.to_string() {
        return Err(IdentityError::NotOwnRecord);
    }
    Ok(())
}

fn person_to_proto(row: &PersonRow) -> pb::Person {
    pb::Person {
        person_id: row.person_id.to_string(),
        id_number: row.id_number.clone(),
        masked_id_number: Some(common::MaskedIdNumber {
            masked: mask_middle(&row.id_number, 6, 4),
        }),
        basic_info: Some(pb::BasicInfo {
            name: row.name.clone(),
            gender: gender_to_proto(gender_from_db(&row.gender)) as i32,
            ethnicity: row.ethnicity.clone(),
            phone: row.phone.clone(),
            address: row.address.clone(),
        }),
        birth_date: Some(date(row.birth_date)),
        region_code: row.region_code.clone(),
        status: match BasicInfoStatus::from_db(&row.status) {
            BasicInfoStatus::Unconfirmed => pb::BasicInfoStatus::Unconfirmed,
            BasicInfoStatus::Confirmed => pb::BasicInfoStatus::Confirmed,
        } as i32,
        version: row.version,
        registered_at: Some(timestamp(row.registered_at)),
        confirmed_at: row.confirmed_at.map(timestamp),
    }
}

fn partner_to_proto(row: &PartnerRow) -> pb::Partner {
    pb::Partner {
        code: row.code.clone(),
        kind: PartnerKind::from_db(&row.kind)
            .map_or(common::PartnerKind::Unspecified, PartnerKind::to_proto) as i32,
        name: row.name.clone(),
        region_code: row.region_code.clone(),
        parent_code: row.parent_code.clone().unwrap_or_default(),
        credit_code: row.credit_code.clone().unwrap_or_default(),
        designation_in_force: row.designation_in_force,
        updated_at: Some(timestamp(row.updated_at)),
    }
}

fn event(event: pb::identity_event::Event) -> (&'static str, Vec<u8>) {
    use pb::identity_event::Event;
    let event_type = match &event {
        Event::PersonRegistered(_) => "PersonRegistered",
        Event::BasicInfoConfirmed(_) => "BasicInfoConfirmed",
        Event::BasicInfoCorrected(_) => "BasicInfoCorrected",
        Event::PartnerChanged(_) => "PartnerChanged",
    };
    let payload = pb::IdentityEvent {
        event: Some(event),
        ..Default::default()
    }
    .encode_to_vec();
    (event_type, payload)
}

async fn publish(conn: &mut sqlx::PgConnection, e: pb::identity_event::Event) -> Result<()> {
    let (event_type, payload) = event(e);
    outbox::append(conn, event_type, &payload).await?;
    Ok(())
}

impl IdentityApi {
    async fn register_person(
        &self,
        caller: Caller,
        req: pb::RegisterPersonRequest,
    ) -> Result<pb::Person> {
        let mut v = FieldViolations::new();
        let request_id = RequestId::parse(&mut v, &req.request_id);
        let id_number = v.check(
            "id_number",
            IdNumber::parse(&req.id_number, self.clock.today()),
        );
        let info = BasicInfo::parse(&mut v, req.basic_info.as_ref(), id_number.as_ref());
        let (request_id, id_number, info) =
            accept(v, platform::all_some!(request_id, id_number, info))?;

        let mut tx = self.pool.begin().await?;
        let ticket = match idempotency::claim(&mut tx, &caller, "RegisterPerson", &request_id, &req)
            .await?
        {
            Claim::Replay(answer) => return Ok(answer),
            Claim::Fresh(ticket) => ticket,
        };
        let now = self.clock.now();
        let person_id = Uuid::now_v7();
        let by = caller.to_string();
        let inserted = store::insert_person(
            &mut tx,
            &NewPerson {
                person_id,
                id_number: id_number.expose(),
                birth_date: id_number.birth_date(),
                region_code: id_number.region_code(),
                info: &info,
                at: now,
            },
            &Change {
                by: &by,
                reason: "registration",
                evidence_ref: "",
                at: now,
                request_id: request_id.as_str(),
            },
        )
        .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => {
                return Err(IdentityError::PersonAlreadyRegistered);
            }
            other => other?,
        }
        let person_key = person_id.to_string();
        audit::record(
            &mut tx,
            &caller,
            "RegisterPerson",
            Access::Change,
            &person_key,
            Some(request_id.as_str()),
        )
        .await?;
        publish(
            &mut tx,
            pb::identity_event::Event::PersonRegistered(pb::PersonRegistered {
                person_id: person_key.clone(),
                version: 1,
            }),
        )
        .await?;
        let row = store::person_by_id(&mut *tx, person_id)
            .await?
            .ok_or(IdentityError::PersonNotFound)?;
        let answer = person_to_proto(&row);
        ticket.complete(&mut tx, &answer).await?;
        tx.commit().await?;
        tracing::info!(person_id = %person_key, id_number = %id_number, by = %by, "person registered");
        Ok(answer)
    }

    async fn get_person(&self, caller: Caller, req: pb::GetPersonRequest) -> Result<pb::Person> {
        let mut v = FieldViolations::new();
        let person_id = parse_person_id(&mut v, &req.person_id);
        let person_id = accept(v, person_id)?;
        ensure_own(&caller, person_id)?;
        let mut tx = self.pool.begin().await?;
        let row = store::person_by_id(&mut *tx, person_id)
            .await?
            .ok_or(IdentityError::PersonNotFound)?;
        audit::record(
            &mut tx,
            &caller,
            "GetPerson",
            Access::Read,
            &req.person_id,
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(person_to_proto(&row))
    }

    async fn lookup_person(
        &self,
        caller: Caller,
        req: pb::LookupPersonRequest,
    ) -> Result<pb::Person> {
        let mut v = FieldViolations::new();
        let id_number = v.check(
            "id_number",
            IdNumber::parse(&req.id_number, self.clock.today()),
        );
        let id_number = accept(v, id_number)?;
        let mut tx = self.pool.begin().await?;
        let row = store::person_by_id_number(&mut *tx, id_number.expose())
            .await?
            .ok_or(IdentityError::PersonNotFound)?;
        audit::record(
            &mut tx,
            &caller,
            "LookupPerson",
            Access::Read,
            &row.person_id.to_string(),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(person_to_proto(&row))
    }

    async fn verify_identity(
        &self,
        caller: Caller,
        req: pb::VerifyIdentityRequest,
    ) -> Result<pb::VerifyIdentityResponse> {
        let mut v = FieldViolations::new();
        let id_number = v.check(
            "id_number",
            IdNumber::parse(&req.id_number, self.clock.today()),
        );
        let name = v.check("name", PersonName::parse(&req.name));
        let (id_number, name) = accept(v, platform::all_some!(id_number, name))?;
        let mut tx = self.pool.begin().await?;
        let Some(row) = store::person_by_id_number(&mut *tx, id_number.expose()).await? else {
            return Ok(pb::VerifyIdentityResponse::default());
        };
        audit::record(
            &mut tx,
            &caller,
            "VerifyIdentity",
            Access::Read,
            &row.person_id.to_string(),
            None,
        )
        .await?;
        tx.commit().await?;
        let matched = row.name == name.expose();
        // Partners learn whether the pair matches, nothing more.
        let internal = matches!(caller.kind, CallerKind::Operator | CallerKind::Service);
        Ok(pb::VerifyIdentityResponse {
            r#match: matched,
            person_id: if matched && internal {
                row.person_id.to_string()
            } else {
                String::new()
            },
        })
    }

    async fn verify_holder(
        &self,
        caller: Caller,
        req: pb::VerifyHolderRequest,
    ) -> Result<pb::VerifyHolderResponse> {
        let mut v = FieldViolations::new();
        let person_id = parse_person_id(&mut v, &req.person_id);
        let id_number = v.check(
            "id_number",
            IdNumber::parse(&req.id_number, self.clock.today()),
        );
        let (person_id, id_number) = accept(v, platform::all_some!(person_id, id_number))?;
        // A read and its audit entry, without a transaction of their own: the
        // answer is only given once the audit entry is written.
        let mut conn = self.pool.acquire().await?;
        let Some(row) = store::person_by_id(&mut *conn, person_id).await? else {
            return Ok(pb::VerifyHolderResponse::default());
        };
        audit::record(
            &mut conn,
            &caller,
            "VerifyHolder",
            Access::Read,
            &req.person_id,
            None,
        )
        .await?;
        Ok(pb::VerifyHolderResponse {
            r#match: row.id_number == id_number.expose(),
        })
    }

    async fn confirm_basic_info(
        &self,
        caller: Caller,
        req: pb::ConfirmBasicInfoRequest,
    ) -> Result<pb::Person> {
        let mut v = FieldViolations::new();
        let request_id = RequestId::parse(&mut v, &req.request_id);
        let person_id = parse_person_id(&mut v, &req.person_id);
        let version = parse_version(&mut v, req.version);
        let (request_id, person_id, version) =
            accept(v, platform::all_some!(request_id, person_id, version))?;
        ensure_own(&caller, person_id)?;

        let mut tx = self.pool.begin().await?;
        let ticket =
            match idempotency::claim(&mut tx, &caller, "ConfirmBasicInfo", &request_id, &req)
                .await?
            {
                Claim::Replay(answer) => return Ok(answer),
                Claim::Fresh(ticket) => ticket,
            };
        let current = store::lock_person(&mut tx, person_id)
            .await?
            .ok_or(IdentityError::PersonNotFound)?;
        if current.version != version {
            return Err(IdentityError::VersionMismatch {
                current: current.version,
            });
        }
        if BasicInfoStatus::from_db(&current.status) == BasicInfoStatus::Confirmed {
            return Err(IdentityError::AlreadyConfirmed);
        }
        let row = store::confirm(&mut tx, person_id, self.clock.now(), &caller.to_string()).await?;
        audit::record(
            &mut tx,
            &caller,
            "ConfirmBasicInfo",
            Access::Change,
            &req.person_id,
            Some(request_id.as_str()),
        )
        .await?;
        publish(
            &mut tx,
            pb::identity_event::Event::BasicInfoConfirmed(pb::BasicInfoConfirmed {
                person_id: req.person_id.clone(),
                version,
            }),
        )
        .await?;
        let answer = person_to_proto(&row);
        ticket.complete(&mut tx, &answer).await?;
        tx.commit().await?;
        tracing::info!(person_id = %req.person_id, version, by = %caller, "basic information confirmed");
        Ok(answer)
    }

    async fn correct_basic_info(
        &self,
        caller: Caller,
        req: pb::CorrectBasicInfoRequest,
    ) -> Result<pb::Person> {
        let mut v = FieldViolations::new();
        let request_id = RequestId::parse(&mut v, &req.request_id);
        let person_id = parse_person_id(&mut v, &req.person_id);
        let info = BasicInfo::parse(&mut v, req.basic_info.as_ref(), None);
        let reason = required(&mut v, "reason", &req.reason).map(str::to_owned);
        let evidence_ref = required(&mut v, "evidence_ref", &req.evidence_ref).map(str::to_owned);
        let version = parse_version(&mut v, req.version);
        let (request_id, person_id, info, reason, evidence_ref, version) = accept(
            v,
            platform::all_some!(request_id, person_id, info, reason, evidence_ref, version),
        )?;

        let mut tx = self.pool.begin().await?;
        let ticket =
            match idempotency::claim(&mut tx, &caller, "CorrectBasicInfo", &request_id, &req)
                .await?
            {
                Claim::Replay(answer) => return Ok(answer),
                Claim::Fresh(ticket) => ticket,
            };
        let current = store::lock_person(&mut tx, person_id)
            .await?
            .ok_or(IdentityError::PersonNotFound)?;
        if current.version != version {
            return Err(IdentityError::VersionMismatch {
                current: current.version,
            });
        }
        let id_number = IdNumber::parse(&current.id_number, self.clock.today()).map_err(|_| {
            IdentityError::Database(sqlx::Error::Protocol("stored ID number is invalid".into()))
        })?;
        if info.gender != id_number.gender() {
            let mut v = FieldViolations::new();
            v.add(
                "basic_info.gender",
                "GENDER_MISMATCH",
                "does not agree with the ID number's sequence digit (odd: male, even: female)",
            );
            return Err(IdentityError::Invalid(v.into_status()));
        }
        let by = caller.to_string();
        let row = store::correct(
            &mut tx,
            person_id,
            version + 1,
            &info,
            &Change {
                by: &by,
                reason: &reason,
                evidence_ref: &evidence_ref,
                at: self.clock.now(),
                request_id: request_id.as_str(),
            },
        )
        .await?;
        audit::record(
            &mut tx,
            &caller,
            "CorrectBasicInfo",
            Access::Change,
            &req.person_id,
            Some(request_id.as_str()),
        )
        .await?;
        publish(
            &mut tx,
            pb::identity_event::Event::BasicInfoCorrected(pb::BasicInfoCorrected {
                person_id: req.person_id.clone(),
                version: version + 1,
            }),
        )
        .await?;
        let answer = person_to_proto(&row);
        ticket.complete(&mut tx, &answer).await?;
        tx.commit().await?;
        tracing::info!(person_id = %req.person_id, version = version + 1, by = %by, "basic information corrected");
        Ok(answer)
    }

    async fn list_basic_info_versions(
        &self,
        caller: Caller,
        req: pb::ListBasicInfoVersionsRequest,
    ) -> Result<pb::ListBasicInfoVersionsResponse> {
        let mut v = FieldViolations::new();
        let person_id = parse_person_id(&mut v, &req.person_id);
        let person_id = accept(v, person_id)?;
        ensure_own(&caller, person_id)?;
        let mut tx = self.pool.begin().await?;
        let rows = store::versions(&mut *tx, person_id).await?;
        if rows.is_empty() {
            return Err(IdentityError::PersonNotFound);
        }
        audit::record(
            &mut tx,
            &caller,
            "ListBasicInfoVersions",
            Access::Read,
            &req.person_id,
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(pb::ListBasicInfoVersionsResponse {
            versions: rows
                .into_iter()
                .map(|r| pb::BasicInfoVersion {
                    version: r.version,
                    basic_info: Some(pb::BasicInfo {
                        name: r.name,
                        gender: gender_to_proto(gender_from_db(&r.gender)) as i32,
                        ethnicity: r.ethnicity,
                        phone: r.phone,
                        address: r.address,
                    }),
                    changed_by: r.changed_by,
                    reason: r.reason,
                    evidence_ref: r.evidence_ref,
                    changed_at: Some(timestamp(r.changed_at)),
                })
                .collect(),
        })
    }

    async fn set_online_password(
        &self,
        caller: Caller,
        req: pb::SetOnlinePasswordRequest,
    ) -> Result<pb::SetOnlinePasswordResponse> {
        let mut v = FieldViolations::new();
        let request_id = RequestId::parse(&mut v, &req.request_id);
        let id_number = v.check(
            "id_number",
            IdNumber::parse(&req.id_number, self.clock.today()),
        );
        let password = OnlinePassword::parse(&mut v, &req.password);
        let (request_id, id_number, password) =
            accept(v, platform::all_some!(request_id, id_number, password))?;
        // The password is not part of the fingerprint kept for retries: no
        // unsalted digest of a password is ever stored.
        let fingerprint = pb::SetOnlinePasswordRequest {
            password: String::new(),
            ..req.clone()
        };
        let mut tx = self.pool.begin().await?;
        let ticket = match idempotency::claim(
            &mut tx,
            &caller,
            "SetOnlinePassword",
            &request_id,
            &fingerprint,
        )
        .await?
        {
            Claim::Replay(answer) => return Ok(answer),
            Claim::Fresh(ticket) => ticket,
        };
        let person = store::person_by_id_number(&mut *tx, id_number.expose())
            .await?
            .ok_or(IdentityError::PersonNotFound)?;
        let hash = tokio::task::spawn_blocking(move || password.hash())
            .await
            .map_err(|e| {
                IdentityError::Database(sqlx::Error::Protocol(format!("hashing task failed: {e}")))
            })?;
        store::set_password(
            &mut tx,
            person.person_id,
            &hash,
            self.clock.now(),
            &caller.to_string(),
        )
        .await?;
        let person_key = person.person_id.to_string();
        audit::record(
            &mut tx,
            &caller,
            "SetOnlinePassword",
            Access::Change,
            &person_key,
            Some(request_id.as_str()),
        )
        .await?;
        let answer = pb::SetOnlinePasswordResponse {
            person_id: person_key,
        };
        ticket.complete(&mut tx, &answer).await?;
        tx.commit().await?;
        tracing::info!(person_id = %answer.person_id, by = %caller, "online password set");
        Ok(answer)
    }

    async fn sign_in(&self, req: pb::SignInRequest) -> Result<pb::SignInResponse> {
        let mut v = FieldViolations::new();
        let id_number = v.check(
            "id_number",
            IdNumber::parse(&req.id_number, self.clock.today()),
        );
        if req.password.is_empty() {
            v.add("password", "FIELD_REQUIRED", "is required");
        }
        let id_number = accept(v, id_number)?;
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        let Some(credential) = store::lock_credential(&mut tx, id_number.expose()).await? else {
            return Err(IdentityError::SignInFailed);
        };
        if let Some(until) = credential.locked_until.filter(|until| *until > now) {
            return Err(IdentityError::AccountLocked { until });
        }
        let password = Secret::new(req.password);
        let hash = credential.password_hash.clone();
        let matches = tokio::task::spawn_blocking(move || password::verify(&password, &hash))
            .await
            .unwrap_or(false);
        let person_key = credential.person_id.to_string();
        if !matches {
            let failures = credential.failed_attempts + 1;
            let locked_until =
                (failures >= self.sign_in.max_failures).then(|| now + self.sign_in.lockout);
            let failures = if locked_until.is_some() { 0 } else { failures };
            store::record_sign_in(&mut tx, credential.person_id, failures, locked_until).await?;
            tx.commit().await?;
            tracing::info!(person_id = %person_key, locked = locked_until.is_some(), "sign-in failed");
            return Err(match locked_until {
                Some(until) => IdentityError::AccountLocked { until },
                None => IdentityError::SignInFailed,
            });
        }
        store::record_sign_in(&mut tx, credential.person_id, 0, None).await?;
        let person = Caller::new(CallerKind::Person, person_key.clone());
        audit::record(&mut tx, &person, "SignIn", Access::Read, &person_key, None).await?;
        tx.commit().await?;
        let expires_at = now + self.sign_in.token_ttl;
        Ok(pb::SignInResponse {
            token: self.sessions.issue(&person_key, expires_at),
            person_id: person_key,
            expires_at: Some(timestamp(expires_at)),
        })
    }

    async fn register_partner(
        &self,
        caller: Caller,
        req: pb::RegisterPartnerRequest,
    ) -> Result<pb::Partner> {
        let mut v = FieldViolations::new();
        let request_id = RequestId::parse(&mut v, &req.request_id);
        let partner = NewPartner::parse(
            &mut v,
            &req.code,
            req.kind,
            &req.name,
            &req.region_code,
            &req.parent_code,
            &req.credit_code,
            req.designation_in_force,
        );
        let (request_id, partner) = accept(v, platform::all_some!(request_id, partner))?;
        let mut tx = self.pool.begin().await?;
        let ticket =
            match idempotency::claim(&mut tx, &caller, "RegisterPartner", &request_id, &req).await?
            {
                Claim::Replay(answer) => return Ok(answer),
                Claim::Fresh(ticket) => ticket,
            };
        if let Some(parent) = &partner.parent_code {
            let parent = store::partner_by_code(&mut *tx, parent.as_str()).await?;
            if parent.is_none_or(|p| PartnerKind::from_db(&p.kind) != Some(PartnerKind::Bank)) {
                return Err(IdentityError::ParentNotABank);
            }
        }
        let row = match store::insert_partner(&mut tx, &partner, self.clock.now()).await {
            Err(e) if is_unique_violation(&e) => {
                return Err(IdentityError::PartnerAlreadyRegistered);
            }
            other => other?,
        };
        let answer = partner_to_proto(&row);
        publish(
            &mut tx,
            pb::identity_event::Event::PartnerChanged(pb::PartnerChanged {
                partner: Some(answer.clone()),
            }),
        )
        .await?;
        ticket.complete(&mut tx, &answer).await?;
        tx.commit().await?;
        tracing::info!(code = %answer.code, kind = partner.kind.as_str(), by = %caller, "partner registered");
        Ok(answer)
    }

    async fn set_partner_designation(
        &self,
        caller: Caller,
        req: pb::SetPartnerDesignationRequest,
    ) -> Result<pb::Partner> {
        let mut v = FieldViolations::new();
        let request_id = RequestId::parse(&mut v, &req.request_id);
        let code = v.check("code", PartnerCode::parse(&req.code));
        let reason = required(&mut v, "reason", &req.reason);
        let (request_id, code, _) = accept(v, platform::all_some!(request_id, code, reason))?;
        let mut tx = self.pool.begin().await?;
        let ticket =
            match idempotency::claim(&mut tx, &caller, "SetPartnerDesignation", &request_id, &req)
                .await?
            {
                Claim::Replay(answer) => return Ok(answer),
                Claim::Fresh(ticket) => ticket,
            };
        let row = store::set_designation(
            &mut tx,
            code.as_str(),
            req.designation_in_force,
            self.clock.now(),
        )
        .await?
        .ok_or(IdentityError::PartnerNotFound)?;
        let answer = partner_to_proto(&row);
        publish(
            &mut tx,
            pb::identity_event::Event::PartnerChanged(pb::PartnerChanged {
                partner: Some(answer.clone()),
            }),
        )
        .await?;
        ticket.complete(&mut tx, &answer).await?;
        tx.commit().await?;
        tracing::info!(code = %answer.code, in_force = answer.designation_in_force, by = %caller, reason = %req.reason, "partner designation changed");
        Ok(answer)
    }

    async fn get_partner(&self, req: pb::GetPartnerRequest) -> Result<pb::Partner> {
        let mut v = FieldViolations::new();
        let code = v.check("code", PartnerCode::parse(&req.code));
        let code = accept(v, code)?;
        let row = store::partner_by_code(&self.pool, code.as_str())
            .await?
            .ok_or(IdentityError::PartnerNotFound)?;
        Ok(partner_to_proto(&row))
    }

    async fn list_partners(
        &self,
        req: pb::ListPartnersRequest,
    ) -> Result<pb::ListPartnersResponse> {
        let mut v = FieldViolations::new();
        let page_request = req.page.unwrap_or_default();
        let page = Page::parse(
            &mut v,
            "page",
            page_request.page_size,
            &page_request.page_token,
        );
        let kind = match req.kind {
            0 => None,
            kind => {
                let parsed = PartnerKind::from_proto(kind);
                if parsed.is_none() {
                    v.add("kind", "PARTNER_KIND_INVALID", "is not a partner kind");
                }
                parsed
            }
        };
        let page = accept(v, page)?;
        let rows = store::list_partners(
            &self.pool,
            kind.map(PartnerKind::as_str),
            page.after.as_deref().unwrap_or(""),
            page.size,
        )
        .await?;
        let next_page_token = page.next_token(rows.len(), rows.last().map(|r| r.code.as_str()));
        Ok(pb::ListPartnersResponse {
            partners: rows.iter().map(partner_to_proto).collect(),
            page: Some(common::PageResponse { next_page_token }),
        })
    }
}

type EventStream = futures::stream::BoxStream<'static, Result<pb::IdentityEvent, Status>>;

use platform::error::respond;

#[tonic::async_trait]
impl pb::identity_service_server::IdentityService for IdentityApi {
    async fn register_person(
        &self,
        request: Request<pb::RegisterPersonRequest>,
    ) -> Result<Response<pb::Person>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.register_person(caller, request.into_inner()).await)
    }

    async fn get_person(
        &self,
        request: Request<pb::GetPersonRequest>,
    ) -> Result<Response<pb::Person>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.get_person(caller, request.into_inner()).await)
    }

    async fn lookup_person(
        &self,
        request: Request<pb::LookupPersonRequest>,
    ) -> Result<Response<pb::Person>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.lookup_person(caller, request.into_inner()).await)
    }

    async fn verify_identity(
        &self,
        request: Request<pb::VerifyIdentityRequest>,
    ) -> Result<Response<pb::VerifyIdentityResponse>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.verify_identity(caller, request.into_inner()).await)
    }

    async fn verify_holder(
        &self,
        request: Request<pb::VerifyHolderRequest>,
    ) -> Result<Response<pb::VerifyHolderResponse>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.verify_holder(caller, request.into_inner()).await)
    }

    async fn confirm_basic_info(
        &self,
        request: Request<pb::ConfirmBasicInfoRequest>,
    ) -> Result<Response<pb::Person>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.confirm_basic_info(caller, request.into_inner()).await)
    }

    async fn correct_basic_info(
        &self,
        request: Request<pb::CorrectBasicInfoRequest>,
    ) -> Result<Response<pb::Person>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.correct_basic_info(caller, request.into_inner()).await)
    }

    async fn list_basic_info_versions(
        &self,
        request: Request<pb::ListBasicInfoVersionsRequest>,
    ) -> Result<Response<pb::ListBasicInfoVersionsResponse>, Status> {
        let caller = Caller::of(&request)?;
        respond(
            self.list_basic_info_versions(caller, request.into_inner())
                .await,
        )
    }

    async fn set_online_password(
        &self,
        request: Request<pb::SetOnlinePasswordRequest>,
    ) -> Result<Response<pb::SetOnlinePasswordResponse>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.set_online_password(caller, request.into_inner()).await)
    }

    async fn sign_in(
        &self,
        request: Request<pb::SignInRequest>,
    ) -> Result<Response<pb::SignInResponse>, Status> {
        respond(self.sign_in(request.into_inner()).await)
    }

    async fn register_partner(
        &self,
        request: Request<pb::RegisterPartnerRequest>,
    ) -> Result<Response<pb::Partner>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.register_partner(caller, request.into_inner()).await)
    }

    async fn set_partner_designation(
        &self,
        request: Request<pb::SetPartnerDesignationRequest>,
    ) -> Result<Response<pb::Partner>, Status> {
        let caller = Caller::of(&request)?;
        respond(
            self.set_partner_designation(caller, request.into_inner())
                .await,
        )
    }

    async fn get_partner(
        &self,
        request: Request<pb::GetPartnerRequest>,
    ) -> Result<Response<pb::Partner>, Status> {
        respond(self.get_partner(request.into_inner()).await)
    }

    async fn list_partners(
        &self,
        request: Request<pb::ListPartnersRequest>,
    ) -> Result<Response<pb::ListPartnersResponse>, Status> {
        respond(self.list_partners(request.into_inner()).await)
    }

    type WatchIdentityEventsStream = EventStream;

    async fn watch_identity_events(
        &self,
        request: Request<pb::WatchIdentityEventsRequest>,
    ) -> Result<Response<Self::WatchIdentityEventsStream>, Status> {
        let after = request.into_inner().after.unwrap_or_default().cursor;
        let stream = outbox::event_stream(
            self.pool.clone(),
            &self.schema,
            &after,
            |event: &mut pb::IdentityEvent, cursor, at| {
                event.cursor = cursor;
                event.occurred_at = Some(at);
            },
        )
        .await?;
        Ok(Response::new(stream))
    }
}

//! Persons: registration, reads, identity checks, confirmation, correction.

use platform::{
    auth::Caller,
    mutation::{self, Audit, Effects, Mutation},
};
use socsec_proto::identity::v1 as pb;
use uuid::Uuid;

use super::{Identity, Result, Work};
use crate::{
    api::present::{self, events},
    domain::{access::ensure_own, commands::*},
    error::IdentityError,
    store::{self, Change, NewPerson, PersonKey, PersonRow, VersionRow},
};

impl Identity {
    pub async fn register_person(
        &self,
        caller: &Caller,
        command: RegisterPerson,
        request: &pb::RegisterPersonRequest,
    ) -> Result<pb::Person> {
        let RegisterPerson {
            request_id,
            id_number,
            info,
        } = command;
        let now = self.clock.now();
        let person_id = Uuid::now_v7();
        let by = caller.to_string();
        let mutation = Mutation::new(caller, "RegisterPerson", &request_id);
        let answer = mutation::run(
            &self.pool,
            mutation,
            request,
            async |conn| -> Work<pb::Person> {
                let person = NewPerson {
                    person_id,
                    id_number: &id_number,
                    info: &info,
                    at: now,
                };
                let change = Change {
                    by: &by,
                    reason: "registration",
                    evidence_ref: "",
                    at: now,
                    request_id: request_id.as_str(),
                };
                let row = store::insert_person(conn, &person, &change)
                    .await?
                    .ok_or(IdentityError::PersonAlreadyRegistered)?;
                Ok(Effects::new(
                    present::person(&row),
                    events::person_registered(person_id),
                    Audit::change(person_id),
                ))
            },
        )
        .await?;
        tracing::info!(person_id = %answer.person_id, id_number = %id_number, by = %by, "person registered");
        Ok(answer)
    }

    pub async fn get_person(&self, caller: &Caller, person_id: Uuid) -> Result<PersonRow> {
        ensure_own(caller, person_id)?;
        store::read_person(&self.pool, PersonKey::Id(person_id), caller, "GetPerson")
            .await?
            .ok_or(IdentityError::PersonNotFound)
    }

    pub async fn lookup_person(
        &self,
        caller: &Caller,
        id_number: pii::IdNumber,
    ) -> Result<PersonRow> {
        store::read_person(
            &self.pool,
            PersonKey::IdNumber(&id_number),
            caller,
            "LookupPerson",
        )
        .await?
        .ok_or(IdentityError::PersonNotFound)
    }

    /// The person whose ID number and name these are, if the pair matches.
    /// Limited per caller (the partner a service acts for); a registered
    /// person's check is audited, a mismatch as a failed attempt.
    pub async fn verify_identity(
        &self,
        caller: &Caller,
        command: VerifyIdentity,
    ) -> Result<Option<Uuid>> {
        self.limits.verify_identity(caller)?;
        let key = PersonKey::IdNumber(&command.id_number);
        let checked = store::verify_person(&self.pool, key, caller, "VerifyIdentity", |row| {
            row.name == command.name
        })
        .await?;
        Ok(checked
            .filter(|(_, matched)| *matched)
            .map(|(row, _)| row.person_id))
    }

    /// Whether the person's ID number is this one; a registered person's
    /// check is audited, a mismatch as a failed attempt.
    pub async fn verify_holder(&self, caller: &Caller, command: VerifyHolder) -> Result<bool> {
        let key = PersonKey::Id(command.person_id);
        let checked = store::verify_person(&self.pool, key, caller, "VerifyHolder", |row| {
            row.id_number == command.id_number
        })
        .await?;
        Ok(checked.is_some_and(|(_, matched)| matched))
    }

    pub async fn confirm_basic_info(
        &self,
        caller: &Caller,
        command: ConfirmBasicInfo,
        request: &pb::ConfirmBasicInfoRequest,
    ) -> Result<pb::Person> {
        let ConfirmBasicInfo {
            request_id,
            person_id,
            version,
        } = command;
        ensure_own(caller, person_id)?;
        let now = self.clock.now();
        let by = caller.to_string();
        let mutation = Mutation::new(caller, "ConfirmBasicInfo", &request_id);
        let answer = mutation::run(
            &self.pool,
            mutation,
            request,
            async |conn| -> Work<pb::Person> {
                let current = store::lock_person(conn, person_id)
                    .await?
                    .ok_or(IdentityError::PersonNotFound)?;
                current.record().confirm(version)?;
                let row = store::confirm(conn, person_id, now, &by).await?;
                Ok(Effects::new(
                    present::person(&row),
                    events::basic_info_confirmed(person_id, version),
                    Audit::change(person_id),
                ))
            },
        )
        .await?;
        tracing::info!(person_id = %person_id, version, by = %by, "basic information confirmed");
        Ok(answer)
    }

    pub async fn correct_basic_info(
        &self,
        caller: &Caller,
        command: CorrectBasicInfo,
        request: &pb::CorrectBasicInfoRequest,
    ) -> Result<pb::Person> {
        let CorrectBasicInfo {
            request_id,
            person_id,
            info,
            reason,
            evidence_ref,
            version,
        } = command;
        let now = self.clock.now();
        let by = caller.to_string();
        let mutation = Mutation::new(caller, "CorrectBasicInfo", &request_id);
        let answer = mutation::run(
            &self.pool,
            mutation,
            request,
            async |conn| -> Work<pb::Person> {
                let current = store::lock_person(conn, person_id)
                    .await?
                    .ok_or(IdentityError::PersonNotFound)?;
                let next = current.record().correct(version, &info)?;
                let change = Change {
                    by: &by,
                    reason: &reason,
                    evidence_ref: &evidence_ref,
                    at: now,
                    request_id: request_id.as_str(),
                };
                let row = store::correct(conn, person_id, next, &info, &change).await?;
                Ok(Effects::new(
                    present::person(&row),
                    events::basic_info_corrected(person_id, next),
                    Audit::change(person_id),
                ))
            },
        )
        .await?;
        tracing::info!(person_id = %person_id, version = answer.version, by = %by, "basic information corrected");
        Ok(answer)
    }

    pub async fn list_basic_info_versions(
        &self,
        caller: &Caller,
        person_id: Uuid,
    ) -> Result<Vec<VersionRow>> {
        ensure_own(caller, person_id)?;
        store::read_versions(&self.pool, person_id, caller, "ListBasicInfoVersions")
            .await?
            .ok_or(IdentityError::PersonNotFound)
    }
}

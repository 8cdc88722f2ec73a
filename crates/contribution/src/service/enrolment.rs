//! Enrolment and agency contracts: identity is asked first (is the person
//! registered, is the employer or agency in force), then the enrolment is
//! checked against the local ledger and written in one transaction.

use platform::{
    auth::{Caller, CallerKind},
    idempotency::RequestId,
    mutation::{self, Audit, Effects, Events, Mutation},
};
use prost::Message;
use socsec_proto::contribution::v1 as pb;
use uuid::Uuid;

use super::{ContributionService, Result};
use crate::{
    api::present,
    domain::{
        AgencyContract, Enrolling, Enrolment, Payer, access,
        commands::{Enrol, RegisterContract},
    },
    error::ContributionError,
    store,
};

impl ContributionService {
    pub async fn enrol(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        cmd: Enrol,
        fingerprint: &impl Message,
    ) -> Result<pb::EnrolResponse> {
        let scheme = cmd.enrolling.scheme();
        let channel = access::enrolment_channel(caller, scheme, cmd.person_id)
            .ok_or(ContributionError::NotOwnRecord)?;
        let mutation = Mutation::new(caller, "Enrol", request_id);
        if let Some(answer) = mutation::replay(&self.pool, mutation, fingerprint).await? {
            return Ok(answer);
        }
        // Remote reads first, outside any transaction. A region never stops
        // being known (rate tables are never deleted), so it is read here too,
        // in the order the refusals have always come in.
        self.directory
            .ensure_registered(cmd.person_id, caller, request_id.as_str())
            .await?;
        if !store::region_known(&self.pool, &cmd.region_code).await? {
            return Err(ContributionError::RegionUnknown);
        }
        if let Enrolling::Employee { employer } = &cmd.enrolling {
            self.directory
                .ensure_partner(employer, CallerKind::Employer)
                .await?;
        }

        let answer = mutation::run(&self.pool, mutation, fingerprint, async |conn| {
            let (payer, employer, contract_id) = match &cmd.enrolling {
                Enrolling::Employee { employer } => (
                    Payer::Employer(employer.clone()),
                    Some(employer.clone()),
                    None,
                ),
                Enrolling::Flexible => (Payer::Person(cmd.person_id), None, None),
                Enrolling::Agency { contract_id } => {
                    let contract = store::contract(&mut *conn, *contract_id)
                        .await?
                        .ok_or(ContributionError::ContractNotFound)?;
                    if !contract.covers(caller, cmd.person_id, cmd.start) {
                        return Err(ContributionError::ContractMismatch);
                    }
                    (Payer::HrAgency(contract.agency), None, Some(*contract_id))
                }
            };
            store::lock_person(conn, cmd.person_id).await?;
            let taken = store::overlapping_types(
                &mut *conn,
                cmd.person_id,
                &cmd.insurance_types,
                cmd.start,
            )
            .await?;
            if let Some(&insurance_type) = taken.last() {
                return Err(ContributionError::EnrolmentOverlaps { insurance_type });
            }
            let enrolments: Vec<Enrolment> = cmd
                .insurance_types
                .iter()
                .map(|&insurance_type| Enrolment {
                    enrolment_id: Uuid::now_v7(),
                    person_id: cmd.person_id,
                    region_code: cmd.region_code.clone(),
                    insurance_type,
                    scheme,
                    employer: employer.clone(),
                    contract_id,
                    payer: payer.clone(),
                    start: cmd.start,
                    channel,
                })
                .collect();
            store::insert_enrolments(conn, &enrolments, self.clock.now()).await?;
            Ok(Effects::new(
                present::enrolments(&enrolments),
                Events::none(),
                Audit::change(cmd.person_id),
            ))
        })
        .await?;
        tracing::info!(person_id = %cmd.person_id, %scheme, types = cmd.insurance_types.len(), %channel, "enrolled");
        Ok(answer)
    }

    pub async fn register_contract(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        cmd: RegisterContract,
        fingerprint: &impl Message,
    ) -> Result<pb::AgencyContract> {
        if !access::may_register_contract(caller, &cmd.agency) {
            return Err(ContributionError::NotOwnRecord);
        }
        let mutation = Mutation::new(caller, "RegisterAgencyContract", request_id);
        if let Some(answer) = mutation::replay(&self.pool, mutation, fingerprint).await? {
            return Ok(answer);
        }
        // Remote reads first, outside any transaction.
        self.directory
            .ensure_registered(cmd.person_id, caller, request_id.as_str())
            .await?;
        self.directory
            .ensure_partner(&cmd.agency, CallerKind::HrAgency)
            .await?;

        mutation::run(&self.pool, mutation, fingerprint, async |conn| {
            let contract = AgencyContract {
                contract_id: Uuid::now_v7(),
                agency: cmd.agency,
                person_id: cmd.person_id,
                monthly_service_fee: cmd.monthly_service_fee,
                start: cmd.start,
                end: cmd.end,
            };
            store::insert_contract(conn, &contract, self.clock.now()).await?;
            Ok(Effects::new(
                present::contract(&contract),
                Events::none(),
                Audit::change(contract.person_id),
            ))
        })
        .await
    }
}

//! Enrolment and agency contracts: identity is asked first (is the person
//! registered, is the employer or agency in force), then the enrolment is
//! checked against the local ledger and written in one transaction. The
//! person's own enrolment takes over from an agency's (`enrolment::takes_over`).

use platform::{
    auth::{Caller, CallerKind},
    idempotency::RequestId,
    mutation::{self, Audit, Effects, Events, Mutation},
};
use prost::Message;
use socsec_proto::contribution::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{ContributionService, Result};
use crate::{
    api::present,
    domain::{
        AgencyContract, Enrolling, Enrolment, Payer, Period, Term, access,
        commands::{Enrol, RegisterContract},
        enrolment,
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
            // First, so that the contract read below is not ended meanwhile.
            store::lock_person(conn, cmd.person_id).await?;
            let (payer, employer, contract_id, end) = match &cmd.enrolling {
                Enrolling::Employee { employer } => (
                    Payer::Employer(employer.clone()),
                    Some(employer.clone()),
                    None,
                    None,
                ),
                Enrolling::Flexible => (Payer::Person(cmd.person_id), None, None, None),
                Enrolling::Agency { contract_id } => {
                    let contract = store::contract(&mut *conn, *contract_id)
                        .await?
                        .ok_or(ContributionError::ContractNotFound)?;
                    contract.admits_enrolment(caller, cmd.person_id, cmd.start)?;
                    let payer = Payer::HrAgency(contract.agency);
                    (payer, None, Some(*contract_id), Some(contract.end))
                }
            };
            let enrolled =
                store::enrolled(&mut *conn, &[cmd.person_id], &cmd.insurance_types).await?;
            let term = Term {
                start: cmd.start,
                end,
            };
            let overlaps =
                enrolment::overlaps(&enrolled, cmd.person_id, &cmd.insurance_types, term);
            let taken_over =
                enrolment::takes_over(scheme, &overlaps).map_err(|insurance_type| {
                    ContributionError::EnrolmentOverlaps { insurance_type }
                })?;
            let superseded = take_over(conn, &taken_over, cmd.start).await?;
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
                    end,
                    channel,
                })
                .collect();
            store::insert_enrolments(conn, &enrolments, self.clock.now()).await?;
            Ok::<_, ContributionError>(Effects::new(
                present::enrolments(&enrolments, &superseded),
                Events::none(),
                Audit::change(cmd.person_id),
            ))
        })
        .await?;
        tracing::info!(person_id = %cmd.person_id, %scheme, types = cmd.insurance_types.len(), superseded = answer.superseded.len(), %channel, "enrolled");
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

        let answer = mutation::run(&self.pool, mutation, fingerprint, async |conn| {
            let now = self.clock.now();
            let contract = AgencyContract {
                contract_id: Uuid::now_v7(),
                agency: cmd.agency,
                person_id: cmd.person_id,
                monthly_service_fee: cmd.monthly_service_fee,
                start: cmd.start,
                end: cmd.end,
                // At the counter the person is present and signs; an
                // agency's contract waits for the person's own consent.
                confirmed_at: caller.is(CallerKind::Operator).then_some(now),
                ended_at: None,
            };
            if !store::insert_contract(conn, &contract, caller, now).await? {
                return Err(ContributionError::ContractPending);
            }
            Ok(Effects::new(
                present::contract(&contract),
                Events::none(),
                Audit::change(contract.person_id),
            ))
        })
        .await?;
        tracing::info!(person_id = %cmd.person_id, agency = %answer.agency_code, status = answer.status, "agency contract registered");
        Ok(answer)
    }
}

/// Ends the agency enrolments `agency` the month before `start`, when
/// the person's own enrolment takes over from them; refused if a month
/// from `start` on is already billed to the agency. Waits for the runs
/// of their regions, so none is booking them meanwhile.
async fn take_over(
    conn: &mut PgConnection,
    agency: &[Uuid],
    start: Period,
) -> Result<Vec<Enrolment>> {
    if agency.is_empty() {
        return Ok(Vec::new());
    }
    let regions = store::regions_of(&mut *conn, agency).await?;
    store::hold_runs(conn, &regions).await?;
    if let Some((insurance_type, billed)) = store::billed_from(&mut *conn, agency, start).await? {
        return Err(ContributionError::MonthsBilled {
            insurance_type: Some(insurance_type),
            earliest: billed.next(),
        });
    }
    Ok(store::end_before(conn, agency, start).await?)
}

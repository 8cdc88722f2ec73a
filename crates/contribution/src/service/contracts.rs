//! The person's side of an agency contract: consenting to it, ending it,
//! and seeing every contract registered for them. Nothing here needs
//! another service: each change is one transaction on the locked contract.

use platform::{
    auth::Caller,
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
        AgencyContract, access,
        commands::{ContractsQuery, EndContract},
        contract,
    },
    error::ContributionError,
    store,
};

impl ContributionService {
    /// The person's (or the counter's) consent; a confirmed contract is
    /// answered as it is.
    pub async fn confirm_contract(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        contract_id: Uuid,
        fingerprint: &impl Message,
    ) -> Result<pb::AgencyContract> {
        let mutation = Mutation::new(caller, "ConfirmAgencyContract", request_id);
        let answer = mutation::run(&self.pool, mutation, fingerprint, async |conn| {
            let mut contract = own_contract(
                store::lock_contract(conn, contract_id).await?,
                caller,
                contract::may_confirm,
            )?;
            if contract.needs_confirmation()? {
                let now = self.clock.now();
                store::confirm_contract(conn, contract_id, caller, now).await?;
                contract.confirmed_at = Some(now);
            }
            Ok::<_, ContributionError>(Effects::new(
                present::contract(&contract),
                Events::none(),
                Audit::change(contract.person_id),
            ))
        })
        .await?;
        tracing::info!(contract_id = %answer.contract_id, by = %caller.kind.as_str(), "agency contract confirmed");
        Ok(answer)
    }

    /// Ends a contract early, and the agency's enrolments under it; never
    /// before a month already billed under it. Waits for the monthly runs
    /// of its enrolments' regions, so none is booking them meanwhile.
    pub async fn end_contract(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        cmd: EndContract,
        fingerprint: &impl Message,
    ) -> Result<pb::AgencyContract> {
        let mutation = Mutation::new(caller, "EndAgencyContract", request_id);
        let answer = mutation::run(&self.pool, mutation, fingerprint, async |conn| {
            let mut contract = own_contract(
                store::lock_contract(conn, cmd.contract_id).await?,
                caller,
                contract::may_end,
            )?;
            store::lock_person(conn, contract.person_id).await?;
            let regions = store::contract_regions(&mut *conn, cmd.contract_id).await?;
            store::hold_runs(conn, &regions).await?;
            let last_billed =
                store::last_billed_under_contract(&mut *conn, cmd.contract_id).await?;
            let end = contract.early_end(cmd.end, last_billed)?;
            let now = self.clock.now();
            store::end_contract(conn, cmd.contract_id, end, caller, now).await?;
            contract.end = end;
            contract.ended_at = Some(now);
            Ok::<_, ContributionError>(Effects::new(
                present::contract(&contract),
                Events::none(),
                Audit::change(contract.person_id),
            ))
        })
        .await?;
        tracing::info!(contract_id = %answer.contract_id, by = %caller.kind.as_str(), "agency contract ended");
        Ok(answer)
    }

    /// A page of the person's contracts the caller may see, recorded as a
    /// read of the person's data.
    pub async fn contracts(
        &self,
        caller: &Caller,
        query: ContractsQuery,
    ) -> Result<Vec<AgencyContract>> {
        let visible = access::visible_contracts(caller, query.person_id)
            .ok_or(ContributionError::NotOwnRecord)?;
        Ok(store::read_contracts(&self.pool, caller, visible.agency(), &query).await?)
    }
}

/// The contract, if it exists and `caller` may act on it (`may`).
fn own_contract(
    contract: Option<AgencyContract>,
    caller: &Caller,
    may: fn(&Caller, &AgencyContract) -> bool,
) -> Result<AgencyContract> {
    let contract = contract.ok_or(ContributionError::ContractNotFound)?;
    if !may(caller, &contract) {
        return Err(ContributionError::NotOwnRecord);
    }
    Ok(contract)
}

//! Rate tables and wage declarations.

use platform::{
    auth::Caller,
    idempotency::RequestId,
    mutation::{self, Audit, Effects, Events, Mutation},
};
use prost::Message;
use socsec_proto::contribution::v1 as pb;

use super::{ContributionService, Result};
use crate::{
    api::present,
    domain::{
        InsuranceType, RateTable,
        access::{self, WageDeclarer},
        commands::DeclareWage,
        enrolment,
    },
    error::ContributionError,
    store,
};

impl ContributionService {
    /// Adds the next version of a region's table; it touches no person's data.
    pub async fn set_rate_table(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        table: RateTable,
        fingerprint: &impl Message,
    ) -> Result<pb::RateTable> {
        let answer = mutation::run(
            &self.pool,
            Mutation::new(caller, "SetRateTable", request_id),
            fingerprint,
            async |conn| {
                let stored = store::insert_rate_table(conn, &table, self.clock.now()).await?;
                Ok::<_, ContributionError>(Effects::new(
                    present::rate_table(&stored),
                    Events::none(),
                    Audit::none(),
                ))
            },
        )
        .await?;
        tracing::info!(region = %answer.region_code, insurance_type = %table.insurance_type, year = answer.year, version = answer.version, by = %caller, "rate table set");
        Ok(answer)
    }

    pub async fn rate_table(
        &self,
        region: &str,
        insurance_type: InsuranceType,
        year: i32,
    ) -> Result<RateTable> {
        store::latest_rate_table(&self.pool, region, insurance_type, year)
            .await?
            .ok_or(ContributionError::RegionUnknown)
    }

    pub async fn declare_wage(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        cmd: DeclareWage,
        fingerprint: &impl Message,
    ) -> Result<pb::DeclareWageResponse> {
        let record = access::record_access(caller, cmd.person_id, self.this_month());
        let declarer = access::wage_declarer(caller);
        mutation::run(
            &self.pool,
            Mutation::new(caller, "DeclareWage", request_id),
            fingerprint,
            async |conn| {
                if !store::grants(conn, &record, cmd.person_id).await? {
                    return Err(ContributionError::NotOwnRecord);
                }
                let first = store::first_enrolment_start(&mut *conn, cmd.person_id).await?;
                if !enrolment::wage_declarable(first, cmd.periods[0]) {
                    return Err(ContributionError::PeriodBeforeEnrolment);
                }
                let pays_for_every_month = match &declarer {
                    WageDeclarer::Bureau => true,
                    WageDeclarer::PayerOfEveryMonth(payer) => {
                        store::payer_covers(&mut *conn, payer, cmd.person_id, &cmd.periods).await?
                    }
                    WageDeclarer::NotAPayer => false,
                };
                if !pays_for_every_month {
                    return Err(ContributionError::NotPayerForPeriod);
                }
                let corrected = store::declare_wages(
                    conn,
                    cmd.person_id,
                    &cmd.periods,
                    cmd.monthly_wage,
                    &caller.to_string(),
                    self.clock.now(),
                    request_id.as_str(),
                )
                .await?;
                let answer = pb::DeclareWageResponse {
                    months: cmd.periods.len() as i32,
                    corrected,
                };
                Ok(Effects::new(
                    answer,
                    Events::none(),
                    Audit::change(cmd.person_id),
                ))
            },
        )
        .await
    }
}

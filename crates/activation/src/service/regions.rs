//! Region policies: the activation window and its consequence, per region.

use platform::{
    auth::Caller,
    mutation::{self, Audit, Effects, Events, Mutation},
};
use socsec_proto::activation::v1 as pb;

use super::{Activations, Result};
use crate::{
    api::present,
    domain::{RegionPolicy, command::SetRegionPolicy},
    store,
};

impl Activations {
    /// Sets a region's policy. It touches no person's data and publishes
    /// nothing: cards read their region's policy when asked.
    pub async fn set_region_policy(
        &self,
        caller: &Caller,
        cmd: SetRegionPolicy,
        request: &pb::SetRegionPolicyRequest,
    ) -> Result<pb::RegionPolicy> {
        let answer = present::region_policy(&cmd.region_code, &cmd.policy);
        mutation::run(
            &self.pool,
            Mutation::new(caller, "SetRegionPolicy", &cmd.request_id),
            request,
            async |conn| -> Result<Effects<pb::RegionPolicy>> {
                store::set_region_policy(conn, &cmd.region_code, &cmd.policy).await?;
                tracing::info!(region = %cmd.region_code, by = %caller, "region policy set");
                Ok(Effects::new(answer, Events::none(), Audit::none()))
            },
        )
        .await
    }

    /// The region's policy, or the default where it has none.
    pub async fn region_policy(&self, region_code: &str) -> Result<RegionPolicy> {
        Ok(store::region_policy(&self.pool, region_code)
            .await?
            .unwrap_or(self.settings.default_policy))
    }
}

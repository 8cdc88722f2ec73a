//! The tonic implementation of `socsec.activation.v1.ActivationService`:
//! for each RPC, the caller, the parsed command (`parse`), the service's
//! work (`crate::service`) and the answer (`present`). An
//! `ActivationError` becomes its status through `?`.

pub mod envelope;
pub mod parse;
pub mod present;

use platform::auth::Caller;
use socsec_proto::activation::v1::{self as pb, activation_service_server::ActivationService};
use tonic::{Request, Response, Status};

use crate::service::{Activations, EventStream};

#[derive(Clone)]
pub struct ActivationApi {
    service: Activations,
}

impl ActivationApi {
    pub fn new(service: Activations) -> Self {
        Self { service }
    }
}

type Answer<T> = Result<Response<T>, Status>;

/// The caller (named by the auth layer) and the request's message.
fn open<T>(request: Request<T>) -> Result<(Caller, T), Status> {
    Ok((Caller::of(&request)?, request.into_inner()))
}

#[tonic::async_trait]
impl ActivationService for ActivationApi {
    async fn activate_at_bank_outlet(
        &self,
        request: Request<pb::ActivateAtBankOutletRequest>,
    ) -> Answer<pb::Activation> {
        let (caller, req) = open(request)?;
        let cmd = parse::at_bank_outlet(&req, self.service.today())?;
        Ok(Response::new(
            self.service.at_bank_outlet(&caller, cmd, &req).await?,
        ))
    }

    async fn activate_at_hospital(
        &self,
        request: Request<pb::ActivateAtHospitalRequest>,
    ) -> Answer<pb::Activation> {
        let (caller, req) = open(request)?;
        let cmd = parse::at_hospital(&req)?;
        Ok(Response::new(
            self.service.at_hospital(&caller, cmd, &req).await?,
        ))
    }

    async fn activate_at_pharmacy(
        &self,
        request: Request<pb::ActivateAtPharmacyRequest>,
    ) -> Answer<pb::Activation> {
        let (caller, req) = open(request)?;
        let cmd = parse::at_pharmacy(&req)?;
        Ok(Response::new(
            self.service.at_pharmacy(&caller, cmd, &req).await?,
        ))
    }

    async fn activate_with_financial_function(
        &self,
        request: Request<pb::ActivateWithFinancialFunctionRequest>,
    ) -> Answer<pb::Activation> {
        let (caller, req) = open(request)?;
        let cmd = parse::with_financial_function(&req, self.service.today())?;
        Ok(Response::new(
            self.service
                .with_financial_function(&caller, cmd, &req)
                .await?,
        ))
    }

    async fn activate_by_hotline(
        &self,
        request: Request<pb::ActivateByHotlineRequest>,
    ) -> Answer<pb::Activation> {
        let (caller, req) = open(request)?;
        let cmd = parse::by_hotline(&req, self.service.today())?;
        Ok(Response::new(
            self.service.by_hotline(&caller, cmd, &req).await?,
        ))
    }

    async fn check_eligibility(
        &self,
        request: Request<pb::CheckEligibilityRequest>,
    ) -> Answer<pb::Eligibility> {
        let (caller, req) = open(request)?;
        // An undesignated partner learns nothing, not even what was wrong
        // with its request.
        self.service.ensure_designated(&caller).await?;
        let query = parse::eligibility(&req)?;
        let (verdict, basis) = self.service.check_eligibility(&caller, query).await?;
        Ok(Response::new(present::eligibility(verdict, basis)))
    }

    async fn get_card_activation(
        &self,
        request: Request<pb::GetCardActivationRequest>,
    ) -> Answer<pb::CardActivation> {
        let (caller, req) = open(request)?;
        let number = parse::card_number(&req)?;
        let card = self.service.card_activation(&caller, number).await?;
        let policy = self.service.default_policy();
        Ok(Response::new(present::card_activation(&card, policy)))
    }

    async fn list_approaching_deadlines(
        &self,
        request: Request<pb::ListApproachingDeadlinesRequest>,
    ) -> Answer<pb::ListApproachingDeadlinesResponse> {
        let (caller, req) = open(request)?;
        let query = parse::approaching_deadlines(&req)?;
        let rows = self.service.approaching_deadlines(&caller, &query).await?;
        Ok(Response::new(present::approaching_deadlines(
            rows,
            &query.page,
        )))
    }

    async fn set_region_policy(
        &self,
        request: Request<pb::SetRegionPolicyRequest>,
    ) -> Answer<pb::RegionPolicy> {
        let (caller, req) = open(request)?;
        let cmd = parse::set_region_policy(&req)?;
        Ok(Response::new(
            self.service.set_region_policy(&caller, cmd, &req).await?,
        ))
    }

    async fn get_region_policy(
        &self,
        request: Request<pb::GetRegionPolicyRequest>,
    ) -> Answer<pb::RegionPolicy> {
        let region_code = parse::get_region_policy(request.get_ref())?;
        let policy = self.service.region_policy(region_code).await?;
        Ok(Response::new(present::region_policy(region_code, &policy)))
    }

    type WatchActivationEventsStream = EventStream;

    async fn watch_activation_events(
        &self,
        request: Request<pb::WatchActivationEventsRequest>,
    ) -> Answer<Self::WatchActivationEventsStream> {
        let request = request.into_inner();
        parse::watch_activation_events(&request)?;
        let after = request.after.unwrap_or_default().cursor;
        Ok(Response::new(
            self.service.events(&after, request.heartbeats).await?,
        ))
    }
}

//! The tonic implementation of `socsec.contribution.v1.ContributionService`:
//! for each RPC, who calls, the request parsed (`parse`), the service
//! asked (`crate::service`), the answer shaped (`present`).

pub mod parse;
pub mod present;

use platform::auth::Caller;
use socsec_proto::contribution::v1::{
    self as pb, contribution_service_server::ContributionService as Rpc,
};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::service::{ContributionService, EventStream};

type Answer<T> = Result<Response<T>, Status>;

pub struct ContributionApi {
    service: ContributionService,
}

impl ContributionApi {
    pub fn new(service: ContributionService) -> Self {
        Self { service }
    }
}

/// The caller (named by the auth layer) and the message of a request.
fn open<T>(request: Request<T>) -> Result<(Caller, T), Status> {
    Ok((Caller::of(&request)?, request.into_inner()))
}

#[tonic::async_trait]
impl Rpc for ContributionApi {
    async fn enrol(&self, request: Request<pb::EnrolRequest>) -> Answer<pb::EnrolResponse> {
        let (caller, req) = open(request)?;
        let (id, cmd) = parse::enrol(&req)?;
        Ok(Response::new(
            self.service.enrol(&caller, &id, cmd, &req).await?,
        ))
    }

    async fn register_agency_contract(
        &self,
        request: Request<pb::RegisterAgencyContractRequest>,
    ) -> Answer<pb::AgencyContract> {
        let (caller, req) = open(request)?;
        let (id, cmd) = parse::register_contract(&req)?;
        Ok(Response::new(
            self.service
                .register_contract(&caller, &id, cmd, &req)
                .await?,
        ))
    }

    async fn confirm_agency_contract(
        &self,
        request: Request<pb::ConfirmAgencyContractRequest>,
    ) -> Answer<pb::AgencyContract> {
        let (caller, req) = open(request)?;
        let (id, contract_id) = parse::confirm_contract(&req)?;
        Ok(Response::new(
            self.service
                .confirm_contract(&caller, &id, contract_id, &req)
                .await?,
        ))
    }

    async fn end_agency_contract(
        &self,
        request: Request<pb::EndAgencyContractRequest>,
    ) -> Answer<pb::AgencyContract> {
        let (caller, req) = open(request)?;
        let (id, cmd) = parse::end_contract(&req)?;
        Ok(Response::new(
            self.service.end_contract(&caller, &id, cmd, &req).await?,
        ))
    }

    async fn list_agency_contracts(
        &self,
        request: Request<pb::ListAgencyContractsRequest>,
    ) -> Answer<pb::ListAgencyContractsResponse> {
        let (caller, req) = open(request)?;
        let (page, query) = parse::list_contracts(&req)?;
        let contracts = self.service.contracts(&caller, query).await?;
        Ok(Response::new(present::contracts(&page, &contracts)))
    }

    async fn set_rate_table(
        &self,
        request: Request<pb::SetRateTableRequest>,
    ) -> Answer<pb::RateTable> {
        let (caller, req) = open(request)?;
        let (id, table) = parse::set_rate_table(&req)?;
        Ok(Response::new(
            self.service
                .set_rate_table(&caller, &id, table, &req)
                .await?,
        ))
    }

    async fn get_rate_table(
        &self,
        request: Request<pb::GetRateTableRequest>,
    ) -> Answer<pb::RateTable> {
        let (region, insurance_type, year) = parse::get_rate_table(request.get_ref())?;
        let table = self
            .service
            .rate_table(&region, insurance_type, year)
            .await?;
        Ok(Response::new(present::rate_table(&table)))
    }

    async fn declare_wage(
        &self,
        request: Request<pb::DeclareWageRequest>,
    ) -> Answer<pb::DeclareWageResponse> {
        let (caller, req) = open(request)?;
        let (id, cmd) = parse::declare_wage(&req)?;
        Ok(Response::new(
            self.service.declare_wage(&caller, &id, cmd, &req).await?,
        ))
    }

    type RunMonthStream = ReceiverStream<Result<pb::RunMonthProgress, Status>>;

    async fn run_month(
        &self,
        request: Request<pb::RunMonthRequest>,
    ) -> Answer<Self::RunMonthStream> {
        let (caller, req) = open(request)?;
        let (id, cmd) = parse::run_month(&req)?;
        Ok(Response::new(self.service.run_month(caller, id, cmd, req)))
    }

    async fn get_bill(&self, request: Request<pb::GetBillRequest>) -> Answer<pb::Bill> {
        let (caller, req) = open(request)?;
        let query = parse::get_bill(&caller, &req, self.service.today())?;
        Ok(Response::new(present::bill(
            &self.service.bill(&caller, query).await?,
        )))
    }

    async fn record_payment(
        &self,
        request: Request<pb::RecordPaymentRequest>,
    ) -> Answer<pb::Payment> {
        let (caller, req) = open(request)?;
        let (id, cmd) = parse::record_payment(&caller, &req, self.service.now())?;
        Ok(Response::new(
            self.service.record_payment(&caller, &id, cmd, &req).await?,
        ))
    }

    async fn list_arrears(
        &self,
        request: Request<pb::ListArrearsRequest>,
    ) -> Answer<pb::ListArrearsResponse> {
        let (caller, req) = open(request)?;
        let (page, query) = parse::list_arrears(&req, self.service.today())?;
        let arrears = self.service.arrears(&caller, query).await?;
        Ok(Response::new(present::arrears(&page, &arrears)))
    }

    async fn get_statement(
        &self,
        request: Request<pb::GetStatementRequest>,
    ) -> Answer<pb::Statement> {
        let (caller, req) = open(request)?;
        let (page, query) = parse::statement(&req)?;
        let statement = self.service.statement(&caller, query).await?;
        Ok(Response::new(present::statement(&page, &statement)))
    }

    type StreamStatementStream = ReceiverStream<Result<pb::StatementLine, Status>>;

    async fn stream_statement(
        &self,
        request: Request<pb::StreamStatementRequest>,
    ) -> Answer<Self::StreamStatementStream> {
        let (caller, req) = open(request)?;
        let range = parse::stream_statement(&req)?;
        Ok(Response::new(
            self.service.stream_statement(&caller, range).await?,
        ))
    }

    async fn create_payment_order(
        &self,
        request: Request<pb::CreatePaymentOrderRequest>,
    ) -> Answer<pb::PaymentOrder> {
        let (caller, req) = open(request)?;
        let (id, cmd) = parse::create_order(&caller, &req)?;
        Ok(Response::new(
            self.service.create_order(&caller, &id, cmd, &req).await?,
        ))
    }

    async fn reverse_payment(
        &self,
        request: Request<pb::ReversePaymentRequest>,
    ) -> Answer<pb::Payment> {
        let (caller, req) = open(request)?;
        let (id, cmd) = parse::reverse_payment(&caller, &req)?;
        Ok(Response::new(
            self.service
                .reverse_payment(&caller, &id, cmd, &req)
                .await?,
        ))
    }

    type WatchContributionEventsStream = EventStream;

    async fn watch_contribution_events(
        &self,
        request: Request<pb::WatchContributionEventsRequest>,
    ) -> Answer<Self::WatchContributionEventsStream> {
        let req = request.into_inner();
        parse::watch_events(&req)?;
        let after = req.after.unwrap_or_default().cursor;
        Ok(Response::new(
            self.service.watch_events(&after, req.heartbeats).await?,
        ))
    }

    async fn import_enrolments(
        &self,
        request: Request<pb::ImportEnrolmentsRequest>,
    ) -> Answer<pb::ImportEnrolmentsResponse> {
        let (caller, req) = open(request)?;
        let batch = parse::import_enrolments(&req, self.service.today())?;
        Ok(Response::new(
            self.service.import_enrolments(&caller, batch, &req).await?,
        ))
    }

    async fn import_wages(
        &self,
        request: Request<pb::ImportWagesRequest>,
    ) -> Answer<pb::ImportWagesResponse> {
        let (caller, req) = open(request)?;
        let batch = parse::import_wages(&req, self.service.today())?;
        Ok(Response::new(
            self.service.import_wages(&caller, batch, &req).await?,
        ))
    }
}

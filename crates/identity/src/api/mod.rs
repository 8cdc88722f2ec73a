//! `socsec.identity.v1.IdentityService` over gRPC: for each RPC, name the
//! caller, parse the request (`parse`), call the service, shape the answer
//! (`present`). The rules are in `domain`, the order of work in `service`.

pub mod parse;
pub mod present;

use platform::{
    auth::{CLIENT_ADDRESS_HEADER, Caller},
    error::respond,
    outbox::EventStreams,
    session::SessionId,
};
use socsec_proto::identity::v1::{self as pb, identity_service_server::IdentityService};
use tonic::{Request, Response, Status};

use crate::service::Identity;

pub struct IdentityApi {
    identity: Identity,
    events: EventStreams,
}

impl IdentityApi {
    /// The API over `identity`, whose events `events` streams.
    pub fn new(identity: Identity, events: EventStreams) -> Self {
        Self { identity, events }
    }
}

/// The authenticated caller and the request's message.
fn open<T>(request: Request<T>) -> Result<(Caller, T), Status> {
    let caller = Caller::of(&request)?;
    Ok((caller, request.into_inner()))
}

type Answer<T> = Result<Response<T>, Status>;
type EventStream = futures::stream::BoxStream<'static, Result<pb::IdentityEvent, Status>>;

#[tonic::async_trait]
impl IdentityService for IdentityApi {
    async fn register_person(
        &self,
        request: Request<pb::RegisterPersonRequest>,
    ) -> Answer<pb::Person> {
        let (caller, req) = open(request)?;
        let command = parse::register_person(&req, self.identity.today())?;
        respond(self.identity.register_person(&caller, command, &req).await)
    }

    async fn import_persons(
        &self,
        request: Request<pb::ImportPersonsRequest>,
    ) -> Answer<pb::ImportPersonsResponse> {
        let (caller, req) = open(request)?;
        let command = parse::import_persons(&req, self.identity.today(), self.identity.now())?;
        respond(self.identity.import_persons(&caller, command, &req).await)
    }

    async fn lookup_persons(
        &self,
        request: Request<pb::LookupPersonsRequest>,
    ) -> Answer<pb::LookupPersonsResponse> {
        let (caller, req) = open(request)?;
        let id_numbers = parse::lookup_persons(&req, self.identity.today())?;
        respond(self.identity.lookup_persons(&caller, id_numbers).await)
    }

    async fn get_person(&self, request: Request<pb::GetPersonRequest>) -> Answer<pb::Person> {
        let (caller, req) = open(request)?;
        let person_id = parse::get_person(&req)?;
        respond(
            self.identity
                .get_person(&caller, person_id)
                .await
                .map(|row| present::person(&row)),
        )
    }

    async fn lookup_person(&self, request: Request<pb::LookupPersonRequest>) -> Answer<pb::Person> {
        let (caller, req) = open(request)?;
        let id_number = parse::lookup_person(&req, self.identity.today())?;
        respond(
            self.identity
                .lookup_person(&caller, id_number)
                .await
                .map(|row| present::person(&row)),
        )
    }

    async fn verify_identity(
        &self,
        request: Request<pb::VerifyIdentityRequest>,
    ) -> Answer<pb::VerifyIdentityResponse> {
        let (caller, req) = open(request)?;
        let command = parse::verify_identity(&req, self.identity.today())?;
        respond(
            self.identity
                .verify_identity(&caller, command)
                .await
                .map(|m| present::verify_identity(&caller, m)),
        )
    }

    async fn verify_holder(
        &self,
        request: Request<pb::VerifyHolderRequest>,
    ) -> Answer<pb::VerifyHolderResponse> {
        let (caller, req) = open(request)?;
        let command = parse::verify_holder(&req, self.identity.today())?;
        respond(
            self.identity
                .verify_holder(&caller, command)
                .await
                .map(present::verify_holder),
        )
    }

    async fn confirm_basic_info(
        &self,
        request: Request<pb::ConfirmBasicInfoRequest>,
    ) -> Answer<pb::Person> {
        let (caller, req) = open(request)?;
        let command = parse::confirm_basic_info(&req)?;
        respond(
            self.identity
                .confirm_basic_info(&caller, command, &req)
                .await,
        )
    }

    async fn correct_basic_info(
        &self,
        request: Request<pb::CorrectBasicInfoRequest>,
    ) -> Answer<pb::Person> {
        let (caller, req) = open(request)?;
        let command = parse::correct_basic_info(&req)?;
        respond(
            self.identity
                .correct_basic_info(&caller, command, &req)
                .await,
        )
    }

    async fn list_basic_info_versions(
        &self,
        request: Request<pb::ListBasicInfoVersionsRequest>,
    ) -> Answer<pb::ListBasicInfoVersionsResponse> {
        let (caller, req) = open(request)?;
        let person_id = parse::list_basic_info_versions(&req)?;
        respond(
            self.identity
                .list_basic_info_versions(&caller, person_id)
                .await
                .map(present::versions),
        )
    }

    async fn set_online_password(
        &self,
        request: Request<pb::SetOnlinePasswordRequest>,
    ) -> Answer<pb::SetOnlinePasswordResponse> {
        let (caller, req) = open(request)?;
        let command = parse::set_online_password(&req, self.identity.today())?;
        respond(
            self.identity
                .set_online_password(&caller, command, &req)
                .await,
        )
    }

    /// Open to anyone: the password is the credential. Limited per client
    /// address (the TCP peer, or the browser's as the portal names it) and
    /// per ID number.
    async fn sign_in(&self, request: Request<pb::SignInRequest>) -> Answer<pb::SignInResponse> {
        let client = parse::client_address(
            request.extensions().get::<Caller>(),
            (request.metadata().get(CLIENT_ADDRESS_HEADER)).map(|v| v.to_str().unwrap_or("?")),
            request.remote_addr(),
        )?;
        let command = parse::sign_in(request.into_inner(), self.identity.today())?;
        respond(
            self.identity
                .sign_in(command, client)
                .await
                .map(present::sign_in),
        )
    }

    async fn sign_out(&self, request: Request<pb::SignOutRequest>) -> Answer<pb::SignOutResponse> {
        let session = request.extensions().get::<SessionId>().cloned();
        let (caller, req) = open(request)?;
        let request_id = parse::sign_out(&req)?;
        respond(
            self.identity
                .sign_out(&caller, session, request_id, &req)
                .await,
        )
    }

    async fn revoke_sessions(
        &self,
        request: Request<pb::RevokeSessionsRequest>,
    ) -> Answer<pb::RevokeSessionsResponse> {
        let (caller, req) = open(request)?;
        let command = parse::revoke_sessions(&req)?;
        respond(self.identity.revoke_sessions(&caller, command, &req).await)
    }

    async fn check_session(
        &self,
        request: Request<pb::CheckSessionRequest>,
    ) -> Answer<pb::CheckSessionResponse> {
        let command = parse::check_session(request.get_ref())?;
        respond(
            self.identity
                .check_session(command)
                .await
                .map(|live| pb::CheckSessionResponse { live }),
        )
    }

    async fn register_partner(
        &self,
        request: Request<pb::RegisterPartnerRequest>,
    ) -> Answer<pb::Partner> {
        let (caller, req) = open(request)?;
        let command = parse::register_partner(&req)?;
        respond(self.identity.register_partner(&caller, command, &req).await)
    }

    async fn set_partner_designation(
        &self,
        request: Request<pb::SetPartnerDesignationRequest>,
    ) -> Answer<pb::Partner> {
        let (caller, req) = open(request)?;
        let command = parse::set_partner_designation(&req)?;
        respond(
            self.identity
                .set_partner_designation(&caller, command, &req)
                .await,
        )
    }

    async fn get_partner(&self, request: Request<pb::GetPartnerRequest>) -> Answer<pb::Partner> {
        let code = parse::get_partner(request.get_ref())?;
        respond(
            self.identity
                .get_partner(&code)
                .await
                .map(|row| present::partner(&row)),
        )
    }

    async fn list_partners(
        &self,
        request: Request<pb::ListPartnersRequest>,
    ) -> Answer<pb::ListPartnersResponse> {
        let query = parse::list_partners(&request.into_inner())?;
        respond(
            self.identity
                .list_partners(query)
                .await
                .map(|(rows, next)| present::partners(&rows, next)),
        )
    }

    type WatchIdentityEventsStream = EventStream;

    async fn watch_identity_events(
        &self,
        request: Request<pb::WatchIdentityEventsRequest>,
    ) -> Answer<Self::WatchIdentityEventsStream> {
        let request = request.into_inner();
        parse::watch_identity_events(&request)?;
        let after = request.after.unwrap_or_default().cursor;
        let stream = self
            .events
            .stream::<pb::IdentityEvent>(&after, request.heartbeats)
            .await?;
        Ok(Response::new(stream))
    }
}

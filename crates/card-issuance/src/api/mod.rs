//! The gRPC surface of `socsec.card.v1.CardService`: each RPC names its
//! caller, parses the request (`parse`), asks the service, and answers with
//! what the service presents (`present`). The rules live in `domain`, the
//! orchestration in `service`, the SQL in `store`.

pub mod events;
pub mod parse;
pub mod present;

use futures::{StreamExt, stream::BoxStream};
use platform::{auth::Caller, error::respond};
use socsec_proto::card::v1::{self as pb, card_service_server::CardService};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::service::{Cards, EventStream};

#[derive(Clone)]
pub struct CardApi {
    cards: Cards,
}

impl CardApi {
    pub fn new(cards: Cards) -> Self {
        Self { cards }
    }
}

/// The caller the auth layer named, and the request.
fn split<T>(request: Request<T>) -> Result<(Caller, T), Status> {
    let caller = Caller::of(&request)?;
    Ok((caller, request.into_inner()))
}

type Answer<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl CardService for CardApi {
    async fn apply_for_card(
        &self,
        request: Request<pb::ApplyForCardRequest>,
    ) -> Answer<pb::CardApplication> {
        let (caller, req) = split(request)?;
        respond(
            self.cards
                .apply_for_card(&caller, parse::apply_for_card(&req)?, &req)
                .await,
        )
    }

    async fn issue_card(&self, request: Request<pb::IssueCardRequest>) -> Answer<pb::Card> {
        let (caller, req) = split(request)?;
        respond(
            self.cards
                .issue_card(&caller, parse::issue_card(&req)?, &req)
                .await,
        )
    }

    type IssueCardsStream = BoxStream<'static, Result<pb::IssueCardsProgress, Status>>;

    async fn issue_cards(
        &self,
        request: Request<pb::IssueCardsRequest>,
    ) -> Answer<Self::IssueCardsStream> {
        let (caller, req) = split(request)?;
        let progress = self
            .cards
            .issue_cards(caller, parse::issue_cards(&req)?, req);
        Ok(Response::new(
            ReceiverStream::new(progress)
                .map(|p| p.map_err(Status::from))
                .boxed(),
        ))
    }

    async fn record_receipt(&self, request: Request<pb::RecordReceiptRequest>) -> Answer<pb::Card> {
        let (caller, req) = split(request)?;
        respond(
            self.cards
                .change_card(&caller, parse::record_receipt(&req)?, &req)
                .await,
        )
    }

    async fn report_loss(&self, request: Request<pb::ReportLossRequest>) -> Answer<pb::Card> {
        let (caller, req) = split(request)?;
        respond(
            self.cards
                .change_card(&caller, parse::report_loss(&req)?, &req)
                .await,
        )
    }

    async fn replace_card(&self, request: Request<pb::ReplaceCardRequest>) -> Answer<pb::Card> {
        let (caller, req) = split(request)?;
        respond(
            self.cards
                .replace_card(&caller, parse::replace_card(&req)?, &req)
                .await,
        )
    }

    async fn cancel_card(&self, request: Request<pb::CancelCardRequest>) -> Answer<pb::Card> {
        let (caller, req) = split(request)?;
        respond(
            self.cards
                .change_card(&caller, parse::cancel_card(&req)?, &req)
                .await,
        )
    }

    async fn get_card(&self, request: Request<pb::GetCardRequest>) -> Answer<pb::Card> {
        let (caller, req) = split(request)?;
        respond(self.cards.get_card(&caller, parse::get_card(&req)?).await)
    }

    async fn list_person_cards(
        &self,
        request: Request<pb::ListPersonCardsRequest>,
    ) -> Answer<pb::ListPersonCardsResponse> {
        let (caller, req) = split(request)?;
        respond(
            self.cards
                .list_person_cards(&caller, parse::list_person_cards(&req)?)
                .await,
        )
    }

    async fn register_legacy_medical_card(
        &self,
        request: Request<pb::RegisterLegacyMedicalCardRequest>,
    ) -> Answer<pb::LegacyMedicalCard> {
        let (caller, req) = split(request)?;
        respond(
            self.cards
                .register_legacy_card(&caller, parse::register_legacy_card(&req)?, &req)
                .await,
        )
    }

    async fn retire_legacy_medical_card(
        &self,
        request: Request<pb::RetireLegacyMedicalCardRequest>,
    ) -> Answer<pb::LegacyMedicalCard> {
        let (caller, req) = split(request)?;
        respond(
            self.cards
                .retire_legacy_card(&caller, parse::retire_legacy_card(&req)?, &req)
                .await,
        )
    }

    async fn get_legacy_medical_card(
        &self,
        request: Request<pb::GetLegacyMedicalCardRequest>,
    ) -> Answer<pb::LegacyMedicalCard> {
        let (caller, req) = split(request)?;
        respond(
            self.cards
                .get_legacy_card(&caller, parse::get_legacy_card(&req)?)
                .await,
        )
    }

    async fn import_cards(
        &self,
        request: Request<pb::ImportCardsRequest>,
    ) -> Answer<pb::ImportCardsResponse> {
        let (caller, req) = split(request)?;
        let batch = parse::import_cards(&req, self.cards.now())?;
        respond(self.cards.import_cards(&caller, batch, &req).await)
    }

    async fn import_legacy_medical_cards(
        &self,
        request: Request<pb::ImportLegacyMedicalCardsRequest>,
    ) -> Answer<pb::ImportCardsResponse> {
        let (caller, req) = split(request)?;
        let today = socsec_core::time::china_date(self.cards.now());
        let batch = parse::import_legacy_cards(&req, today)?;
        respond(self.cards.import_legacy_cards(&caller, batch, &req).await)
    }

    async fn set_pin(&self, request: Request<pb::SetPinRequest>) -> Answer<pb::PinStatus> {
        let (caller, req) = split(request)?;
        respond(
            self.cards
                .set_pin(&caller, parse::pins::set_pin(&req)?, &req)
                .await,
        )
    }

    async fn change_pin(&self, request: Request<pb::ChangePinRequest>) -> Answer<pb::PinStatus> {
        let (caller, req) = split(request)?;
        respond(
            self.cards
                .change_pin(&caller, parse::pins::change_pin(&req)?, &req)
                .await,
        )
    }

    async fn reset_pin(&self, request: Request<pb::ResetPinRequest>) -> Answer<pb::PinStatus> {
        let (caller, req) = split(request)?;
        respond(
            self.cards
                .reset_pin(&caller, parse::pins::reset_pin(&req)?, &req)
                .await,
        )
    }

    async fn verify_pin(
        &self,
        request: Request<pb::VerifyPinRequest>,
    ) -> Answer<pb::VerifyPinResponse> {
        let (caller, req) = split(request)?;
        respond(
            self.cards
                .verify_pin(&caller, parse::pins::verify_pin(&req)?)
                .await,
        )
    }

    async fn get_pin_status(
        &self,
        request: Request<pb::GetPinStatusRequest>,
    ) -> Answer<pb::PinStatus> {
        let (caller, req) = split(request)?;
        respond(
            self.cards
                .get_pin_status(&caller, parse::pins::get_pin_status(&req)?)
                .await,
        )
    }

    type WatchCardEventsStream = EventStream;

    async fn watch_card_events(
        &self,
        request: Request<pb::WatchCardEventsRequest>,
    ) -> Answer<Self::WatchCardEventsStream> {
        let request = request.into_inner();
        parse::watch_card_events(&request)?;
        let after = request.after.unwrap_or_default().cursor;
        Ok(Response::new(
            self.cards
                .watch_card_events(&after, request.heartbeats)
                .await?,
        ))
    }

    async fn issue_ecard(&self, request: Request<pb::IssueEcardRequest>) -> Answer<pb::Ecard> {
        let (caller, req) = split(request)?;
        respond(
            self.cards
                .issue_ecard(&caller, parse::issue_ecard(&req)?, &req)
                .await,
        )
    }

    async fn issue_ecard_token(
        &self,
        request: Request<pb::IssueEcardTokenRequest>,
    ) -> Answer<pb::EcardToken> {
        let (caller, req) = split(request)?;
        respond(
            self.cards
                .issue_ecard_token(&caller, parse::issue_ecard_token(&req)?)
                .await,
        )
    }

    async fn redeem_ecard_token(
        &self,
        request: Request<pb::RedeemEcardTokenRequest>,
    ) -> Answer<pb::EcardPresentation> {
        let (caller, req) = split(request)?;
        respond(
            self.cards
                .redeem_ecard_token(&caller, parse::redeem_ecard_token(&req)?)
                .await,
        )
    }
}

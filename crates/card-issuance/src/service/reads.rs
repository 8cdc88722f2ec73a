//! Reads: a card, a person's cards, an old medical insurance card, each
//! audited before it is answered; and the event stream.

use platform::auth::Caller;
use socsec_proto::card::v1 as pb;
use tonic::Status;
use uuid::Uuid;

use super::{Cards, Result};
use crate::{
    api::present,
    domain::{LegacyCardNumber, access},
    error::CardError,
    store::{self, CardKey, ReadBy},
};

pub type EventStream = futures::stream::BoxStream<'static, Result<pb::CardEvent, Status>>;

impl Cards {
    pub async fn get_card(&self, caller: &Caller, key: CardKey) -> Result<pb::Card> {
        let row = store::card(&self.pool, &key)
            .await?
            .ok_or(CardError::CardNotFound)?;
        access::may_see_card(caller, row.bank_code.as_str())?;
        let read = ReadBy {
            caller,
            rpc: "GetCard",
        };
        let rows = [row];
        let histories = store::read_histories(&self.pool, &rows, rows[0].person_id, read).await?;
        Ok(present::cards_for(caller, &rows, histories).remove(0))
    }

    pub async fn list_person_cards(
        &self,
        caller: &Caller,
        person_id: Uuid,
    ) -> Result<pb::ListPersonCardsResponse> {
        access::may_act_for(caller, person_id)?;
        let read = ReadBy {
            caller,
            rpc: "ListPersonCards",
        };
        let (rows, histories) = store::read_person_cards(&self.pool, person_id, read).await?;
        Ok(pb::ListPersonCardsResponse {
            cards: present::cards_for(caller, &rows, histories),
        })
    }

    pub async fn get_legacy_card(
        &self,
        caller: &Caller,
        card_number: LegacyCardNumber,
    ) -> Result<pb::LegacyMedicalCard> {
        let read = ReadBy {
            caller,
            rpc: "GetLegacyMedicalCard",
        };
        let row = store::read_legacy_card(&self.pool, &card_number, read)
            .await?
            .ok_or(CardError::LegacyCardNotFound)?;
        Ok(present::legacy_card(&row))
    }

    /// Card events after cursor `after` (from the start when empty), then
    /// each new one as it commits.
    pub async fn watch_card_events(
        &self,
        after: &str,
        heartbeats: bool,
    ) -> Result<EventStream, Status> {
        self.events.stream::<pb::CardEvent>(after, heartbeats).await
    }
}

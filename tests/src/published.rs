//! What a service has published so far, read as a consuming service reads
//! it: its event stream from the start, until the first heartbeat says the
//! stream has caught up.

use futures::StreamExt;
use socsec_proto::{activation::v1 as pb, card::v1 as card};

use crate::{
    as_caller,
    journeys::{Activation, Cards},
};

/// Every event card-issuance has published up to now.
pub async fn card_events(cards: &mut Cards) -> Vec<card::CardEvent> {
    let mut stream = cards
        .watch_card_events(as_caller(
            "service:test",
            card::WatchCardEventsRequest {
                after: None,
                heartbeats: true,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let mut events = Vec::new();
    while let Some(message) = stream.next().await {
        let message = message.unwrap();
        if message.caught_up_at.is_some() {
            return events;
        }
        events.push(message);
    }
    panic!("the stream ended before it caught up");
}

/// Every `CardActivated` activation has published up to now.
pub async fn card_activations(activation: &mut Activation) -> Vec<pb::CardActivated> {
    let mut stream = activation
        .watch_activation_events(as_caller(
            "service:test",
            pb::WatchActivationEventsRequest {
                after: None,
                heartbeats: true,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let mut published = Vec::new();
    while let Some(message) = stream.next().await {
        let message = message.unwrap();
        if message.caught_up_at.is_some() {
            return published;
        }
        if let Some(pb::activation_event::Event::CardActivated(a)) = message.event {
            published.push(a);
        }
    }
    panic!("the stream ended before it caught up");
}

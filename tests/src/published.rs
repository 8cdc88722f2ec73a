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
    let stream = cards
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
    until_caught_up(stream, |m| m.caught_up_at.is_some()).await
}

/// Every `CardActivated` activation has published up to now.
pub async fn card_activations(activation: &mut Activation) -> Vec<pb::CardActivated> {
    let stream = activation
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
    until_caught_up(stream, |m| m.caught_up_at.is_some())
        .await
        .into_iter()
        .filter_map(|message| match message.event {
            Some(pb::activation_event::Event::CardActivated(a)) => Some(a),
            _ => None,
        })
        .collect()
}

/// The messages of `stream` before the first that is `caught_up` (a
/// heartbeat saying the stream has caught up).
async fn until_caught_up<M>(
    mut stream: tonic::Streaming<M>,
    caught_up: impl Fn(&M) -> bool,
) -> Vec<M> {
    let mut messages = Vec::new();
    while let Some(message) = stream.next().await {
        let message = message.unwrap();
        if caught_up(&message) {
            return messages;
        }
        messages.push(message);
    }
    panic!("the stream ended before it caught up");
}

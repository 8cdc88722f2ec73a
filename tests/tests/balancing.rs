//! A service's address listing several instances (comma-separated URLs,
//! `socsec_core::balance`): calls go to the instances answering SERVING,
//! and keep succeeding through the one left when another stops — for a
//! partner's client and for a service calling another (card-issuance
//! asking identity with `identity_url` naming two instances). Real
//! services on one database, generated clients.

use std::sync::Arc;

use socsec_proto::{
    card::v1::card_service_client::CardServiceClient,
    common::v1::{Gender, PartnerKind},
    identity::v1::identity_service_client::IdentityServiceClient,
};
use system_tests::{
    balanced_caller_channel, card_config, cut_off, fresh_database, identity_config, journeys,
    spawn_cards_with, spawn_identity_with, test_clock,
};

#[tokio::test]
async fn a_partners_calls_reach_the_instance_left_when_the_other_stops() {
    let database_url = fresh_database().await;
    let clock = Arc::new(test_clock());
    let first = spawn_identity_with(identity_config(&database_url), clock.clone()).await;
    let second = spawn_identity_with(identity_config(&database_url), clock.clone()).await;
    let mut identity =
        IdentityServiceClient::new(balanced_caller_channel(&[first.addr, second.addr]));
    for _ in 0..5 {
        journeys::confirmed_person(&mut identity, "孙立").await;
    }

    first.stop().await.expect("the first instance stops");

    // Every call after the stop succeeds (`confirmed_person` expects each).
    for _ in 0..10 {
        journeys::confirmed_person(&mut identity, "孙立").await;
    }
}

#[tokio::test]
async fn a_service_given_two_identity_instances_keeps_asking_the_one_left() {
    let database_url = fresh_database().await;
    let clock = Arc::new(test_clock());
    let first = spawn_identity_with(identity_config(&database_url), clock.clone()).await;
    let second = spawn_identity_with(identity_config(&database_url), clock.clone()).await;
    let mut config = card_config(&database_url, first.addr);
    config.identity_url = format!("{},{}", first.url(), second.url());
    let card_issuance = spawn_cards_with(config, clock.clone()).await;
    let mut identity = IdentityServiceClient::new(second.channel().await);
    journeys::register_partner(&mut identity, "ICBC", PartnerKind::Bank, "").await;
    let mut cards = CardServiceClient::new(card_issuance.channel().await);
    let before = journeys::confirmed_person(&mut identity, "孙立").await;
    journeys::apply(&mut cards, &before, "ICBC").await;

    first
        .stop()
        .await
        .expect("the first identity instance stops");

    // Applying asks identity for the person and the bank: only the second
    // instance can answer now.
    for _ in 0..5 {
        let person = journeys::confirmed_person(&mut identity, "孙立").await;
        journeys::apply(&mut cards, &person, "ICBC").await;
    }
}

/// A client made for one call (the command line) knows nothing of the
/// instances' health yet: an instance that is gone, or one that answers
/// UNAVAILABLE, is passed over for the next before the caller sees it.
#[tokio::test]
async fn a_one_shot_call_goes_on_to_the_next_instance_when_one_is_gone_or_unavailable() {
    let clock = Arc::new(test_clock());
    let gone = spawn_identity_with(identity_config(&fresh_database().await), clock.clone()).await;
    let gone_addr = gone.addr;
    gone.stop().await.expect("the instance stops");
    let cut = fresh_database().await;
    let mut config = identity_config(&cut);
    config.platform.database_acquire_timeout_ms = 500;
    let unavailable = spawn_identity_with(config, clock.clone()).await;
    let live = spawn_identity_with(identity_config(&fresh_database().await), clock.clone()).await;
    cut_off(&cut, true).await;
    let alone = socsec_fixtures::journey::register(
        &mut IdentityServiceClient::new(balanced_caller_channel(&[unavailable.addr])),
        &system_tests::Operator,
        system_tests::ids::id_number(true),
        journeys::basic_info("孙立", Gender::Male),
    )
    .await
    .expect_err("its database is cut off");
    assert_eq!(alone.code(), tonic::Code::Unavailable, "{alone:?}");

    for n in 0..10 {
        // Listed first, so each new client tries them first.
        let mut identity = IdentityServiceClient::new(balanced_caller_channel(&[
            gone_addr,
            unavailable.addr,
            live.addr,
        ]));
        let person = journeys::confirmed_person(&mut identity, "孙立").await;
        assert!(!person.person_id.is_empty(), "call {n}");
    }
}

//! The main page: basic information (as identity masks it for the person),
//! confirming it, and the card's progress with its activation deadline.

use axum::{
    Form,
    extract::State as Shared,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use socsec_proto::{activation::v1 as act, card::v1 as card, identity::v1 as pb};
use tonic::Code;

use super::{Failure, Person, State};
use crate::{client::as_person, pages};

pub async fn show(Shared(state): Shared<State>, person: Person) -> Result<Response, Failure> {
    let failed = Failure::call(person.lang);
    let record = state
        .services
        .identity()
        .get_person(as_person(
            &person.token,
            pb::GetPersonRequest {
                person_id: person.person_id.clone(),
            },
        ))
        .await
        .map_err(&failed)?
        .into_inner();
    let cards = person_cards(&state, &person).await?;
    let activation = match cards.first() {
        Some(card) => card_activation(&state, &person, &card.card_number).await?,
        None => None,
    };
    Ok(pages::home::page(&person, &record, cards.first(), activation.as_ref()).into_response())
}

/// The person's cards, newest first (`ListPersonCards`, audited).
pub async fn person_cards(state: &State, person: &Person) -> Result<Vec<card::Card>, Failure> {
    Ok(state
        .services
        .cards()
        .list_person_cards(as_person(
            &person.token,
            card::ListPersonCardsRequest {
                person_id: person.person_id.clone(),
            },
        ))
        .await
        .map_err(Failure::call(person.lang))?
        .into_inner()
        .cards)
}

/// The card's activation window as activation knows it (none before the
/// card is received).
async fn card_activation(
    state: &State,
    person: &Person,
    card_number: &str,
) -> Result<Option<act::CardActivation>, Failure> {
    let answer = state
        .services
        .activation()
        .get_card_activation(as_person(
            &person.token,
            act::GetCardActivationRequest {
                card_number: card_number.to_owned(),
            },
        ))
        .await;
    match answer {
        Ok(answer) => Ok(Some(answer.into_inner())),
        Err(status) if status.code() == Code::NotFound => Ok(None),
        Err(status) => Err(Failure::Call(person.lang, status)),
    }
}

#[derive(Deserialize)]
pub struct Confirm {
    csrf: String,
    version: i32,
}

pub async fn confirm(
    Shared(state): Shared<State>,
    person: Person,
    Form(form): Form<Confirm>,
) -> Result<Response, Failure> {
    person.check(&state, &form.csrf)?;
    state
        .services
        .identity()
        .confirm_basic_info(as_person(
            &person.token,
            pb::ConfirmBasicInfoRequest {
                request_id: crate::client::request_id("confirm"),
                person_id: person.person_id.clone(),
                version: form.version,
            },
        ))
        .await
        .map_err(Failure::call(person.lang))?;
    Ok(Redirect::to("/").into_response())
}

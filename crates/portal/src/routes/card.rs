//! The card: report it lost, the medical-settlement PIN, the e-card's QR
//! code. Each acts on the person's current card, found through the
//! services (no card number travels in a URL or a form).

use axum::{
    Form,
    extract::State as Shared,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use socsec_proto::card::v1 as pb;

use super::{Failure, Person, State, auth::Csrf, home::person_cards};
use crate::{
    client::{as_person, request_id},
    pages,
};

/// The person's card in use (issued or received), if any.
async fn current_card(state: &State, person: &Person) -> Result<Option<pb::Card>, Failure> {
    Ok(person_cards(state, person).await?.into_iter().find(|c| {
        matches!(
            pb::CardStatus::try_from(c.status),
            Ok(pb::CardStatus::Issued | pb::CardStatus::Received)
        )
    }))
}

pub async fn report_loss(
    Shared(state): Shared<State>,
    person: Person,
    Form(form): Form<Csrf>,
) -> Result<Response, Failure> {
    person.check(&state, &form.csrf)?;
    if let Some(card) = current_card(&state, &person).await? {
        state
            .services
            .cards()
            .report_loss(as_person(
                &person.token,
                pb::ReportLossRequest {
                    request_id: request_id("loss"),
                    card_number: card.card_number,
                    reason: "reported lost by the holder online".into(),
                },
            ))
            .await
            .map_err(Failure::call(person.lang))?;
    }
    Ok(Redirect::to("/").into_response())
}

pub async fn pin_form(Shared(state): Shared<State>, person: Person) -> Result<Response, Failure> {
    let status = pin_status(&state, &person).await?;
    Ok(pages::pin::page(&person, status.as_ref(), None).into_response())
}

async fn pin_status(state: &State, person: &Person) -> Result<Option<pb::PinStatus>, Failure> {
    let Some(card) = current_card(state, person).await? else {
        return Ok(None);
    };
    Ok(Some(
        state
            .services
            .cards()
            .get_pin_status(as_person(
                &person.token,
                pb::GetPinStatusRequest {
                    card_number: card.card_number,
                },
            ))
            .await
            .map_err(Failure::call(person.lang))?
            .into_inner(),
    ))
}

#[derive(Deserialize)]
pub struct SetPin {
    csrf: String,
    #[serde(default)]
    current_pin: String,
    new_pin: String,
}

pub async fn set_pin(
    Shared(state): Shared<State>,
    person: Person,
    Form(form): Form<SetPin>,
) -> Result<Response, Failure> {
    person.check(&state, &form.csrf)?;
    let Some(status) = pin_status(&state, &person).await? else {
        return Ok(Redirect::to("/pin").into_response());
    };
    let mut cards = state.services.cards();
    let answer = if status.state == pb::PinState::NotSet as i32 {
        cards
            .set_pin(as_person(
                &person.token,
                pb::SetPinRequest {
                    request_id: request_id("pin"),
                    card_number: status.card_number.clone(),
                    pin: form.new_pin,
                },
            ))
            .await
    } else {
        cards
            .change_pin(as_person(
                &person.token,
                pb::ChangePinRequest {
                    request_id: request_id("pin"),
                    card_number: status.card_number.clone(),
                    current_pin: form.current_pin,
                    new_pin: form.new_pin,
                },
            ))
            .await
    };
    match answer {
        Ok(status) => {
            let lang = person.lang;
            let done = lang.t("密码已设置。", "Your PIN is set.");
            Ok(pages::pin::page(&person, Some(&status.into_inner()), Some(done)).into_response())
        }
        Err(refused) if refused.code() != tonic::Code::Unauthenticated => {
            let message = pages::layout::explain(person.lang, &super::reason(&refused));
            let page = pages::pin::page(&person, Some(&status), Some(message));
            Ok((axum::http::StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(refused) => Err(Failure::Call(person.lang, refused)),
    }
}

pub async fn ecard_page(person: Person) -> Response {
    pages::ecard::page(&person, None).into_response()
}

/// The e-card of the current card (issuing it answers the same one again)
/// and a fresh QR token for it.
pub async fn ecard_show(
    Shared(state): Shared<State>,
    person: Person,
    Form(form): Form<Csrf>,
) -> Result<Response, Failure> {
    person.check(&state, &form.csrf)?;
    let Some(card) = current_card(&state, &person).await? else {
        return Ok(Redirect::to("/ecard").into_response());
    };
    let failed = Failure::call(person.lang);
    let mut cards = state.services.cards();
    let ecard = cards
        .issue_ecard(as_person(
            &person.token,
            pb::IssueEcardRequest {
                request_id: request_id("ecard"),
                card_number: card.card_number,
            },
        ))
        .await
        .map_err(&failed)?
        .into_inner();
    let token = cards
        .issue_ecard_token(as_person(
            &person.token,
            pb::IssueEcardTokenRequest {
                ecard_id: ecard.ecard_id,
            },
        ))
        .await
        .map_err(&failed)?
        .into_inner();
    Ok(pages::ecard::page(&person, Some(&token)).into_response())
}

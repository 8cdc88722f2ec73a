//! Signing in (identity's `SignIn`, with its limits, counted per browser
//! address) and out (`SignOut`, which revokes the session in every service).

use axum::{
    Form,
    extract::{ConnectInfo, State as Shared},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use socsec_proto::identity::v1 as pb;
use tonic::Code;

use super::{Failure, Person, State};
use crate::{client, i18n::Lang, pages, session, tls::Browser};

/// The sign-in form, bound to a fresh pre-session cookie.
pub async fn form(Shared(state): Shared<State>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let pre = session::cookie(&headers, session::PRE_SESSION).unwrap_or_else(session::random_value);
    let csrf = state.csrf.token(&pre);
    let mut response = pages::signin::page(lang, &csrf, None).into_response();
    set_cookie(
        &mut response,
        &session::secret_cookie(session::PRE_SESSION, &pre, 3600),
    );
    response
}

#[derive(Deserialize)]
pub struct SignIn {
    id_number: String,
    password: String,
    csrf: String,
}

pub async fn sign_in(
    Shared(state): Shared<State>,
    ConnectInfo(browser): ConnectInfo<Browser>,
    headers: HeaderMap,
    Form(form): Form<SignIn>,
) -> Response {
    let lang = Lang::of(&headers);
    let pre = session::cookie(&headers, session::PRE_SESSION);
    if !pre
        .as_deref()
        .is_some_and(|pre| state.csrf.check(pre, &form.csrf))
    {
        return Failure::Csrf(lang).into_response();
    }
    let csrf = form.csrf.clone();
    let answer = state
        .services
        .sign_in()
        .sign_in(client::for_browser(
            state.trusted_proxies.browser(browser.0.ip(), &headers),
            pb::SignInRequest {
                id_number: form.id_number.trim().to_owned(),
                password: form.password,
            },
        ))
        .await;
    match answer {
        Ok(answer) => {
            let answer = answer.into_inner();
            let lifetime = answer
                .expires_at
                .map(|at| at.seconds - chrono::Utc::now().timestamp())
                .unwrap_or(3600)
                .max(60);
            let mut response = Redirect::to("/").into_response();
            set_cookie(
                &mut response,
                &session::secret_cookie(session::SESSION, &answer.token, lifetime),
            );
            set_cookie(&mut response, &session::cleared(session::PRE_SESSION));
            response
        }
        Err(status) => {
            let (code, message) = match status.code() {
                Code::ResourceExhausted => (
                    StatusCode::TOO_MANY_REQUESTS,
                    lang.t(
                        "尝试次数过多，请稍后再试。",
                        "Too many attempts; try again later.",
                    ),
                ),
                Code::Unauthenticated if super::reason(&status) == "SIGN_IN_DELAYED" => (
                    StatusCode::TOO_MANY_REQUESTS,
                    lang.t(
                        "密码错误次数过多，请稍后再试。",
                        "Too many wrong passwords; wait a little and try again.",
                    ),
                ),
                Code::Unauthenticated | Code::InvalidArgument | Code::NotFound => (
                    StatusCode::UNAUTHORIZED,
                    lang.t(
                        "身份证号或密码不正确。",
                        "The ID number or password is not right.",
                    ),
                ),
                _ => return Failure::Call(lang, status).into_response(),
            };
            (code, pages::signin::page(lang, &csrf, Some(message))).into_response()
        }
    }
}

#[derive(Deserialize)]
pub struct Csrf {
    pub csrf: String,
}

pub async fn sign_out(
    Shared(state): Shared<State>,
    person: Person,
    Form(form): Form<Csrf>,
) -> Result<Response, Failure> {
    person.check(&state, &form.csrf)?;
    let signed_out = state
        .services
        .identity()
        .sign_out(client::as_person(
            &person.token,
            pb::SignOutRequest {
                request_id: client::request_id("signout"),
            },
        ))
        .await;
    match signed_out {
        Ok(_) => {}
        Err(status) if status.code() == Code::Unauthenticated => {}
        Err(status) => return Err(Failure::Call(person.lang, status)),
    }
    let mut response = Redirect::to("/signin").into_response();
    set_cookie(&mut response, &session::cleared(session::SESSION));
    Ok(response)
}

pub fn set_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

//! The portal's routes: who is asking (the session cookie), the security
//! headers on every answer, and one module per area.

mod auth;
mod card;
pub mod contribution;
mod home;

use std::sync::Arc;

use axum::{
    Router,
    extract::{FromRef, FromRequestParts, Request},
    http::{HeaderValue, StatusCode, header, request::Parts},
    middleware::{self, Next},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use tonic::Code;

use crate::{browser::TrustedProxies, client::Services, i18n::Lang, pages, session};

#[derive(Clone)]
pub struct State {
    pub services: Services,
    pub csrf: Arc<session::CsrfKey>,
    pub trusted_proxies: Arc<TrustedProxies>,
}

pub fn router(state: State) -> Router {
    Router::new()
        .route("/", get(home::show))
        .route("/signin", get(auth::form).post(auth::sign_in))
        .route("/signout", post(auth::sign_out))
        .route("/confirm", post(home::confirm))
        .route("/card/loss", post(card::report_loss))
        .route("/pin", get(card::pin_form).post(card::set_pin))
        .route("/ecard", get(card::ecard_page).post(card::ecard_show))
        .route("/contributions", get(contribution::show))
        .route("/contributions/statement.csv", get(contribution::csv))
        .route("/contributions/pay", post(contribution::pay))
        .route("/static/portal.css", get(stylesheet))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../static/portal.css"),
    )
        .into_response()
}

/// What every answer carries: no script at all, styles only from the
/// portal's own stylesheet, forms only to the portal, no framing, no
/// referrer, nothing cached. `?lang=` switches the language (a cookie) and
/// comes back to the page without it, on this site only.
async fn security_headers(request: Request, next: Next) -> Response {
    let lang = request
        .uri()
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("lang=")))
        .and_then(Lang::from_code);
    let mut response = match lang {
        Some(lang) => {
            let code = if lang == Lang::En { "en" } else { "zh" };
            // Back to the same page of this site: a path that begins
            // `//` or `/\` would be read by the browser as another site.
            let path = format!("/{}", request.uri().path().trim_start_matches(['/', '\\']));
            let mut r = Redirect::to(&path).into_response();
            let cookie = format!(
                "{}={code}; Path=/; Secure; SameSite=Strict; Max-Age=31536000",
                session::LANG
            );
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            r
        }
        None => next.run(request).await,
    };
    let headers = response.headers_mut();
    for (name, value) in [
        (
            "content-security-policy",
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
        ("cache-control", "no-store"),
        ("strict-transport-security", "max-age=31536000"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// A signed-in person's request: their session token (from the cookie),
/// who they are, their language and the CSRF token of their forms.
pub struct Person {
    pub token: String,
    pub person_id: String,
    pub lang: Lang,
    pub csrf: String,
}

impl<S> FromRequestParts<S> for Person
where
    State: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Failure> {
        let state = State::from_ref(state);
        let lang = Lang::of(&parts.headers);
        let token = session::cookie(&parts.headers, session::SESSION).ok_or(Failure::SignedOut)?;
        let person_id = crate::client::person_of(&token).ok_or(Failure::SignedOut)?;
        let csrf = state.csrf.token(&token);
        Ok(Self {
            token,
            person_id,
            lang,
            csrf,
        })
    }
}

impl Person {
    /// Refuses a form whose CSRF token was not made for this session.
    pub fn check(&self, state: &State, presented: &str) -> Result<(), Failure> {
        if state.csrf.check(&self.token, presented) {
            Ok(())
        } else {
            Err(Failure::Csrf(self.lang))
        }
    }
}

/// Why a page could not be shown.
pub enum Failure {
    /// No session, or the services no longer accept it: sign in again.
    SignedOut,
    /// A form without the token made for this session.
    Csrf(Lang),
    /// A service refused or failed the call.
    Call(Lang, tonic::Status),
}

impl Failure {
    pub fn call(lang: Lang) -> impl Fn(tonic::Status) -> Self {
        move |status| Self::Call(lang, status)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Self::SignedOut => signed_out(),
            Self::Csrf(lang) => (
                StatusCode::FORBIDDEN,
                pages::layout::problem(
                    lang,
                    lang.t(
                        "表单已过期，请返回重试。",
                        "This form has expired; go back and try again.",
                    ),
                    "CSRF_TOKEN_INVALID",
                ),
            )
                .into_response(),
            Self::Call(_, status) if status.code() == Code::Unauthenticated => signed_out(),
            Self::Call(lang, status) => {
                let reason = reason(&status);
                let code = match status.code() {
                    Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
                        StatusCode::BAD_REQUEST
                    }
                    Code::NotFound => StatusCode::NOT_FOUND,
                    Code::PermissionDenied => StatusCode::FORBIDDEN,
                    Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
                    Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
                    _ => StatusCode::BAD_GATEWAY,
                };
                let message = pages::layout::explain(lang, &reason);
                (code, pages::layout::problem(lang, message, &reason)).into_response()
            }
        }
    }
}

fn signed_out() -> Response {
    let mut response = Redirect::to("/signin").into_response();
    if let Ok(v) = HeaderValue::from_str(&session::cleared(session::SESSION)) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// The machine-readable reason of a refusal (its ErrorInfo), else its code.
pub fn reason(status: &tonic::Status) -> String {
    tonic_types::StatusExt::get_error_details(status)
        .error_info()
        .map(|info| info.reason.clone())
        .unwrap_or_else(|| format!("{:?}", status.code()))
}

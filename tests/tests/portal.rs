//! The person's web portal (issue 17): the real portal over HTTPS in front
//! of the four real services, driven with reqwest and a cookie store as a
//! browser would. The security rules (cookie flags, CSRF, CSP, sign-out
//! revoking the session, no personal data in URLs, every page audited as
//! the person) and the pages (card and deadline, chart, CSV, PIN, loss,
//! payment order).

use reqwest::StatusCode;
use socsec_proto::{card::v1 as card, identity::v1 as identity};
use system_tests::{
    audit_trail, ids, operator,
    portal_world::{PASSWORD, World, browser_at, browser_behind, csrf_of, world, world_with},
    with_token,
};
use tonic::Code;

fn session_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("__Host-socsec-session="))
        .expect("a session cookie")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_sets_a_strict_http_only_secure_cookie_holding_the_session_token() {
    let w = world().await;
    let answer = w.sign_in().await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(answer.headers()["location"], "/");
    let cookie = session_cookie(&answer);
    for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    let token = cookie["__Host-socsec-session=".len()..]
        .split(';')
        .next()
        .unwrap();
    // The cookie holds the service session token itself: identity takes it.
    let mut identity = w.system.identity_client().await;
    let me = identity
        .get_person(with_token(
            token,
            identity::GetPersonRequest {
                person_id: w.person.person_id.clone(),
            },
        ))
        .await;
    assert!(me.is_ok(), "{me:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_browser_out_of_sign_in_attempts_does_not_keep_another_person_out() {
    let w = world().await;
    // A browser at one address tries unknown ID numbers until identity's
    // limit per client address (30 at once, then 2 a second) stops it.
    sign_in_until_limited(&w, &browser_at(Some([127, 0, 0, 2].into()))).await;
    // The person, at another address behind the same portal, signs in: the
    // portal names each browser's address to identity, so the allowance is
    // that browser's, not one for everyone behind the portal.
    let person = browser_at(Some([127, 0, 0, 3].into()));
    let answer = w.sign_in_from(&person, &w.person.id_number, PASSWORD).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    session_cookie(&answer);
}

/// Wrong sign-ins of unknown ID numbers from `browser` until the portal
/// answers 429; every answer before it was 401.
async fn sign_in_until_limited(w: &World, browser: &reqwest::Client) {
    let mut answers = Vec::new();
    while answers.len() < 100 {
        let answer = w
            .sign_in_from(browser, &ids::id_number(true), "Whatever2026")
            .await;
        answers.push(answer.status());
        if answer.status() == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
    }
    assert_eq!(answers.last(), Some(&StatusCode::TOO_MANY_REQUESTS));
    assert!(
        answers[..answers.len() - 1]
            .iter()
            .all(|status| *status == StatusCode::UNAUTHORIZED),
        "{answers:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_the_browser_is_the_one_it_names_and_no_one_else_is_believed() {
    let w = world_with(|config| config.trusted_proxies = vec!["127.0.0.4".into()]).await;
    // Through the proxy (127.0.0.4): one browser runs out of attempts, the
    // person at another address behind the same proxy signs in.
    let proxy = Some([127, 0, 0, 4].into());
    sign_in_until_limited(&w, &browser_behind(proxy, Some("203.0.113.5"))).await;
    let person = browser_behind(proxy, Some("203.0.113.6"));
    let answer = w.sign_in_from(&person, &w.person.id_number, PASSWORD).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    // A browser that is not the proxy names a new address on every
    // attempt: not believed, it is counted by its own and stopped.
    let spoofing = Some([127, 0, 0, 5].into());
    let mut n = 0;
    loop {
        n += 1;
        assert!(
            n <= 100,
            "a browser naming other addresses was never limited"
        );
        let browser = browser_behind(spoofing, Some(&format!("198.51.100.{}", n % 250)));
        let answer = w
            .sign_in_from(&browser, &ids::id_number(true), "Whatever2026")
            .await;
        if answer.status() == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_main_page_shows_the_card_its_deadline_and_where_to_activate() {
    let w = world().await;
    w.sign_in().await;
    let home = w.page("/").await;
    assert!(home.contains(&w.card.card_number), "the card number");
    assert!(home.contains("激活截止日期"), "the activation deadline");
    assert!(
        home.contains("旧医保卡将被限制使用"),
        "what happens after it"
    );
    assert!(home.contains("12333"), "where to activate");
    assert!(
        !home.contains(&w.person.id_number),
        "the ID number is masked"
    );
    let english = w.get("/?lang=en").await;
    assert_eq!(english.status(), StatusCode::SEE_OTHER);
    // The switch comes back to a page of this site, never another one.
    for path in [
        "//evil.example/?lang=en",
        "/\\evil.example/?lang=en",
        "///evil.example?lang=en",
    ] {
        let switched = w.get(path).await;
        let location = switched.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            location.starts_with('/') && !location.starts_with("//") && !location.contains('\\'),
            "{path} sent the browser to {location}"
        );
    }
    let home = w.page("/").await;
    assert!(home.contains("Activate by"), "the English switch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contributions_show_a_chart_the_arrears_and_download_as_csv() {
    let w = world().await;
    w.sign_in().await;
    let page = w.page("/contributions").await;
    assert!(page.contains("<svg"), "the chart");
    assert!(page.contains("2026-01"), "January");
    assert!(page.contains("滞纳金"), "late fees");
    let csv = w.get("/contributions/statement.csv").await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        csv.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let body = csv.text().await.unwrap();
    assert!(body.starts_with("period,insurance_type,"), "{body}");
    assert!(body.contains("2026-01,INSURANCE_TYPE_OLD_AGE"), "{body}");

    let order = w
        .post(
            "/contributions/pay",
            &[("csrf", &csrf_of(&page)), ("period", "2026-01")],
        )
        .await;
    assert_eq!(order.status(), StatusCode::OK);
    assert!(
        order.text().await.unwrap().contains("缴费单号"),
        "a payment order"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_sets_and_changes_the_pin_and_reports_the_card_lost() {
    let w = world().await;
    w.sign_in().await;
    let form = w.page("/pin").await;
    let csrf = csrf_of(&form);
    let set = w
        .post("/pin", &[("csrf", &csrf), ("new_pin", "482916")])
        .await;
    assert_eq!(set.status(), StatusCode::OK);
    let wrong = w
        .post(
            "/pin",
            &[
                ("csrf", &csrf),
                ("current_pin", "111111"),
                ("new_pin", "395172"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let changed = w
        .post(
            "/pin",
            &[
                ("csrf", &csrf),
                ("current_pin", "482916"),
                ("new_pin", "395172"),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);

    let lost = w.post("/card/loss", &[("csrf", &csrf)]).await;
    assert_eq!(lost.status(), StatusCode::SEE_OTHER);
    let mut cards = w.system.card_client().await;
    let card = cards
        .get_card(operator(card::GetCardRequest {
            key: Some(card::get_card_request::Key::CardNumber(
                w.card.card_number.clone(),
            )),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(card.status, card::CardStatus::Lost as i32);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_without_the_token_made_for_the_session_is_refused() {
    let w = world().await;
    // Sign-in itself needs the token of its form (no login CSRF).
    let refused = w
        .post(
            "/signin",
            &[
                ("id_number", w.person.id_number.as_str()),
                ("password", PASSWORD),
                ("csrf", "x"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    w.sign_in().await;
    for form in [vec![], vec![("csrf", "forged")]] {
        let refused = w.post("/card/loss", &form).await;
        assert!(
            matches!(
                refused.status(),
                StatusCode::FORBIDDEN | StatusCode::UNPROCESSABLE_ENTITY
            ),
            "{form:?}: {}",
            refused.status()
        );
    }
    let mut cards = w.system.card_client().await;
    let card = cards
        .get_card(operator(card::GetCardRequest {
            key: Some(card::get_card_request::Key::CardNumber(
                w.card.card_number.clone(),
            )),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        card.status,
        card::CardStatus::Received as i32,
        "not reported lost"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_has_a_csp_without_inline_script_or_style() {
    let w = world().await;
    let signin = w.get("/signin").await;
    let csp = signin.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    w.sign_in().await;
    for path in ["/signin", "/", "/contributions", "/pin", "/ecard"] {
        let response = w.get(path).await;
        let headers = response.headers().clone();
        assert_eq!(headers["content-security-policy"], csp.as_str(), "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        let html = response.text().await.unwrap();
        assert!(!html.contains("<script"), "{path}");
        assert!(!html.contains("style="), "{path}");
        assert!(!html.contains("<style"), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_personal_data_travels_in_a_url() {
    let w = world().await;
    let answer = w.sign_in().await;
    let mut urls = vec![answer.headers()["location"].to_str().unwrap().to_owned()];
    for path in ["/", "/contributions", "/pin", "/ecard"] {
        let html = w.page(path).await;
        for attribute in ["href=\"", "action=\""] {
            for piece in html.split(attribute).skip(1) {
                urls.push(piece[..piece.find('"').unwrap()].to_owned());
            }
        }
    }
    let name = w.person.basic_info.clone().unwrap().name;
    for url in &urls {
        for secret in [
            &w.person.id_number,
            &w.person.person_id,
            &w.card.card_number,
            &name,
        ] {
            assert!(!url.contains(secret.as_str()), "{url}");
        }
    }
    assert!(urls.len() > 10, "{urls:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_revokes_the_session_in_the_services() {
    let w = world().await;
    let answer = w.sign_in().await;
    let cookie = session_cookie(&answer);
    let token = cookie["__Host-socsec-session=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let home = w.page("/").await;
    let out = w.post("/signout", &[("csrf", &csrf_of(&home))]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(
        session_cookie(&out).contains("Max-Age=0"),
        "the cookie is cleared"
    );
    let after = w.get("/").await;
    assert_eq!(after.headers()["location"], "/signin");
    let mut identity = w.system.identity_client().await;
    let person_id = w.person.person_id.clone();
    let refused = socsec_fixtures::eventually(
        "the session revoked",
        std::time::Duration::from_secs(30),
        async || {
            let status = identity
                .get_person(with_token(
                    &token,
                    identity::GetPersonRequest {
                        person_id: person_id.clone(),
                    },
                ))
                .await
                .err()?;
            (status.code() == Code::Unauthenticated).then_some(status)
        },
    )
    .await;
    assert_eq!(refused.code(), Code::Unauthenticated);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_view_is_audited_by_the_services_as_the_person() {
    let w = world().await;
    w.sign_in().await;
    w.page("/").await;
    w.page("/contributions").await;
    let me = format!("person:{}", w.person.person_id);
    let by_person = |records: Vec<socsec_proto::audit::v1::AuditRecord>, action: &str| {
        records.iter().any(|r| r.actor == me && r.action == action)
    };
    assert!(by_person(
        audit_trail(&w.system.identity, &w.person.person_id).await,
        "GetPerson"
    ));
    assert!(by_person(
        audit_trail(&w.system.cards, &w.person.person_id).await,
        "ListPersonCards"
    ));
    assert!(by_person(
        audit_trail(&w.system.activation, &w.person.person_id).await,
        "GetCardActivation"
    ));
    assert!(by_person(
        audit_trail(&w.system.contribution, &w.person.person_id).await,
        "GetStatement"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_reads_their_own_cards_activation_and_no_one_elses() {
    use socsec_proto::activation::v1::GetCardActivationRequest;
    let w = world().await;
    w.system.sign_in(&w.person).await;
    let (stranger, _) = w.system.signed_in_person().await;
    let mut activation = w.system.activation_client().await;
    let ask = |who: &str| {
        system_tests::as_caller(
            &format!("person:{who}"),
            GetCardActivationRequest {
                card_number: w.card.card_number.clone(),
            },
        )
    };
    let own = activation
        .get_card_activation(ask(&w.person.person_id))
        .await
        .expect("the holder reads their card's activation")
        .into_inner();
    assert!(own.activation_deadline.is_some());
    let refused = activation
        .get_card_activation(ask(&stranger.person_id))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::NotFound);
    assert_eq!(system_tests::reason(&refused), "CARD_NOT_FOUND");
    let trail = audit_trail(&w.system.activation, &w.person.person_id).await;
    let stranger = format!("person:{}", stranger.person_id);
    assert!(
        !trail.iter().any(|r| r.actor == stranger),
        "no read recorded"
    );
}

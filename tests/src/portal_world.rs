//! The portal in front of the four services, for the portal tests: a
//! person with a received card (projected into activation), enrolled as a
//! flexible worker with an unpaid January 2026 bill, with an online
//! password; the services' clock set to now (the portal's own clock).

use chrono::Utc;
use devpki::Ca;
use reqwest::{StatusCode, redirect::Policy};
use socsec_proto::{
    card::v1 as card,
    common::v1::{Money, PartnerKind, YearMonth},
    contribution::v1::{self as pb, InsuranceType, Scheme},
    identity::v1 as identity,
};

use crate::{System, journeys, operator};

pub const PASSWORD: &str = "Portal0nlinePw";

pub struct World {
    pub system: System,
    pub person: identity::Person,
    pub card: card::Card,
    /// The portal's address, `https://localhost:<port>`.
    pub base: String,
    /// A reqwest client with a cookie store, trusting the development CA.
    pub browser: reqwest::Client,
    _portal: portal::Running,
}

/// A person with a received card, enrolled as a flexible worker with an
/// unpaid January bill, and an online password; the portal in front.
pub async fn world() -> World {
    world_with(|_| {}).await
}

/// [`world`], the portal's configuration adjusted by `adjust`.
pub async fn world_with(adjust: impl FnOnce(&mut portal::PortalConfig)) -> World {
    let system = System::start().await;
    system.clock.set(Utc::now());
    let mut identity = system.identity_client().await;
    journeys::register_partner(&mut identity, "ICBC", PartnerKind::Bank, "").await;
    let mut cards = system.card_client().await;
    let (person, card) =
        journeys::person_with_received_card(&mut identity, &mut cards, "孙网办", "ICBC").await;
    let mut activation = system.activation_client().await;
    journeys::projected(&mut activation, &card.card_number, "RECEIVED").await;
    identity
        .set_online_password(operator(identity::SetOnlinePasswordRequest {
            request_id: "pw".into(),
            id_number: person.id_number.clone(),
            password: PASSWORD.into(),
        }))
        .await
        .unwrap();
    flexible_january(&system, &person).await;
    let portal = start_portal(&system, adjust).await;
    let base = format!("https://localhost:{}", portal.addr.port());
    let browser = browser_at(None);
    World {
        system,
        person,
        card,
        base,
        browser,
        _portal: portal,
    }
}

/// A browser (a reqwest client with a cookie store, trusting the
/// development CA) connecting from `address` (a loopback address other
/// than 127.0.0.1 is another machine, as the portal sees it).
pub fn browser_at(address: Option<std::net::IpAddr>) -> reqwest::Client {
    browser_behind(address, None)
}

/// A browser whose requests reach the portal from `address`, each with
/// `X-Forwarded-For: forwarded_for` (as a proxy in front would send them).
pub fn browser_behind(
    address: Option<std::net::IpAddr>,
    forwarded_for: Option<&str>,
) -> reqwest::Client {
    let ca = std::fs::read(crate::pki().ca_file(Ca::Internal)).unwrap();
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(forwarded_for) = forwarded_for {
        headers.insert("x-forwarded-for", forwarded_for.parse().unwrap());
    }
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .cookie_store(true)
        .redirect(Policy::none())
        .local_address(address)
        .default_headers(headers)
        .build()
        .unwrap()
}

async fn flexible_january(system: &System, person: &identity::Person) {
    let mut contribution = system.contribution_client().await;
    let january = YearMonth {
        year: 2026,
        month: 1,
    };
    contribution
        .set_rate_table(operator(pb::SetRateTableRequest {
            request_id: "rates".into(),
            table: Some(socsec_fixtures::rates::typical(
                "110100",
                InsuranceType::OldAge,
                2026,
            )),
        }))
        .await
        .unwrap();
    contribution
        .enrol(operator(pb::EnrolRequest {
            request_id: "enrol".into(),
            person_id: person.person_id.clone(),
            region_code: "110100".into(),
            insurance_types: vec![InsuranceType::OldAge as i32],
            scheme: Scheme::Flexible as i32,
            employer_code: String::new(),
            agency_contract_id: String::new(),
            start: Some(january),
        }))
        .await
        .unwrap();
    contribution
        .declare_wage(operator(pb::DeclareWageRequest {
            request_id: "wage".into(),
            person_id: person.person_id.clone(),
            period: Some(pb::declare_wage_request::Period::Month(january)),
            monthly_wage: Some(Money { fen: 800_000 }),
        }))
        .await
        .unwrap();
    let mut run = contribution
        .run_month(operator(pb::RunMonthRequest {
            request_id: "run".into(),
            period: Some(january),
            region_code: "110100".into(),
            payer_code: String::new(),
        }))
        .await
        .unwrap()
        .into_inner();
    while let Some(progress) = run.message().await.unwrap() {
        drop(progress);
    }
}

async fn start_portal(
    system: &System,
    adjust: impl FnOnce(&mut portal::PortalConfig),
) -> portal::Running {
    let pki = crate::pki();
    let stem = format!("portal-{}", uuid::Uuid::new_v4());
    pki.authority(Ca::Internal)
        .web_server(&[])
        .unwrap()
        .write(&pki.dir, &stem)
        .unwrap();
    let portal_caller = pki.caller("portal:web");
    portal_caller
        .write(&pki.dir, &format!("{stem}-client"))
        .unwrap();
    let url = |addr: std::net::SocketAddr| format!("https://127.0.0.1:{}", addr.port());
    let mut config = portal::PortalConfig {
        listen_addr: "127.0.0.1:0".into(),
        identity_url: url(system.identity.addr),
        cards_url: url(system.cards.addr),
        activation_url: url(system.activation.addr),
        contribution_url: url(system.contribution.addr),
        services_ca_file: pki.ca_file(Ca::Internal),
        tls_cert_file: pki.dir.join(format!("{stem}.pem")),
        tls_key_file: pki.dir.join(format!("{stem}-key.pem")),
        client_cert_file: pki.dir.join(format!("{stem}-client.pem")),
        client_key_file: pki.dir.join(format!("{stem}-client-key.pem")),
        trusted_proxies: Vec::new(),
    };
    adjust(&mut config);
    portal::start(config).await.expect("the portal starts")
}

/// The CSRF token of the (first) form on a page.
pub fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token");
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

impl World {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.browser
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    pub async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.text().await.unwrap()
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.browser
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Signs in through the form; returns the sign-in answer.
    pub async fn sign_in(&self) -> reqwest::Response {
        self.sign_in_from(&self.browser, &self.person.id_number, PASSWORD)
            .await
    }

    /// Fills in and sends the sign-in form from `browser`.
    pub async fn sign_in_from(
        &self,
        browser: &reqwest::Client,
        id_number: &str,
        password: &str,
    ) -> reqwest::Response {
        let form = browser
            .get(format!("{}/signin", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), StatusCode::OK);
        let csrf = csrf_of(&form.text().await.unwrap());
        browser
            .post(format!("{}/signin", self.base))
            .form(&[
                ("id_number", id_number),
                ("password", password),
                ("csrf", csrf.as_str()),
            ])
            .send()
            .await
            .unwrap()
    }
}

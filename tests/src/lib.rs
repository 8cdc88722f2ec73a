//! Helpers for the system tests: a fresh database per test on the Postgres
//! that `deploy/test.sh` started, services spawned on port 0, generated gRPC
//! clients, and a capture of every log line the services write.
//!
//! What the tests share with the `socsec demo` and the benchmark (ID
//! numbers, a person with a received card, waiting for a projection, the
//! reason of a refusal, polling with a deadline) comes from the fixtures
//! crate, `socsec-fixtures`.

mod database;
pub mod journeys;
pub mod logs;
pub mod pki;
pub mod portal_world;
pub mod published;
mod spawn;
pub mod webdriver;
pub mod world;

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use platform::clock::{Clock, ManualClock};
use socsec_proto::{
    activation::v1::activation_service_client::ActivationServiceClient,
    card::v1::card_service_client::CardServiceClient,
    contribution::v1::contribution_service_client::ContributionServiceClient,
    identity::v1::identity_service_client::IdentityServiceClient,
};
use tonic::{Request, metadata::MetadataValue};

pub use database::{admin_url, cut_off, database_exists, fresh_database};
pub use pki::{AsCaller, CallerChannel, balanced_caller_channel, caller_channel, pki};
pub use socsec_fixtures::{bad_fields, eventually, ids, reason, try_eventually};
pub use spawn::{
    Running, activation_config, card_config, contribution_config, identity_client, identity_config,
    platform_config, spawn_activation_with, spawn_cards_with, spawn_contribution_with,
    spawn_identity, spawn_identity_with, spawn_service,
};
pub use world::{Contribution, Partner, World};

/// The session token key the tests configure.
pub const SESSION_SECRET: &str = "test-session-secret-of-at-least-32-bytes";

/// The e-card token key card-issuance runs with in the tests.
pub const ECARD_SECRET: &str = "test-ecard-token-secret-of-at-least-32-bytes";

/// A clock fixed at a known instant, moved by the test.
pub fn test_clock() -> ManualClock {
    ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 25, 2, 0, 0).unwrap())
}

/// All four services on one fresh database (each in its own
/// schema), sharing `clock`.
pub struct System {
    pub database_url: String,
    pub clock: ManualClock,
    pub identity: Running,
    pub cards: Running,
    pub activation: Running,
    pub contribution: Running,
}

impl System {
    pub async fn start() -> Self {
        Self::start_on(fresh_database().await, |_| {}).await
    }

    /// The system on `database_url`, activation's configuration adjusted
    /// by `activation` first.
    pub async fn start_on(
        database_url: String,
        activation: impl FnOnce(&mut activation::Config),
    ) -> Self {
        Self::start_adjusted(database_url, |_| {}, activation).await
    }

    /// [`System::start_on`], card-issuance's configuration adjusted by
    /// `cards` too.
    pub async fn start_adjusted(
        database_url: String,
        cards: impl FnOnce(&mut card_issuance::Config),
        activation: impl FnOnce(&mut activation::Config),
    ) -> Self {
        let clock = test_clock();
        let identity =
            spawn_identity_with(identity_config(&database_url), Arc::new(clock.clone())).await;
        let mut config = card_config(&database_url, identity.addr);
        cards(&mut config);
        let cards = spawn_cards_with(config, Arc::new(clock.clone())).await;
        let mut config = activation_config(&database_url, identity.addr, cards.addr);
        activation(&mut config);
        let activation = spawn_activation_with(config, Arc::new(clock.clone())).await;
        let contribution = spawn_contribution_with(
            contribution_config(&database_url, identity.addr),
            Arc::new(clock.clone()),
        )
        .await;
        Self {
            database_url,
            clock,
            identity,
            cards,
            activation,
            contribution,
        }
    }

    /// A person registered, given an online password at the counter and
    /// signed in: the person and their live session token.
    pub async fn signed_in_person(&self) -> (socsec_proto::identity::v1::Person, String) {
        let mut identity = self.identity_client().await;
        let person = journeys::register(&mut identity, "孙立").await;
        let token = self.sign_in(&person).await;
        (person, token)
    }

    /// `person` given an online password at the counter and signed in: a
    /// live session token.
    pub async fn sign_in(&self, person: &socsec_proto::identity::v1::Person) -> String {
        use socsec_proto::identity::v1 as pb;
        let mut identity = self.identity_client().await;
        let password = "Signed1nOnline";
        identity
            .set_online_password(operator(pb::SetOnlinePasswordRequest {
                request_id: format!("pw-{}", person.person_id),
                id_number: person.id_number.clone(),
                password: password.into(),
            }))
            .await
            .expect("operators set online passwords");
        let token = identity
            .sign_in(pb::SignInRequest {
                id_number: person.id_number.clone(),
                password: password.into(),
            })
            .await
            .expect("the person signs in")
            .into_inner()
            .token;
        remember_session(&person.person_id, &token);
        token
    }

    pub async fn identity_client(&self) -> IdentityServiceClient<CallerChannel> {
        IdentityServiceClient::new(self.identity.channel().await)
    }

    pub async fn card_client(&self) -> CardServiceClient<CallerChannel> {
        CardServiceClient::new(self.cards.channel().await)
    }

    pub async fn contribution_client(&self) -> ContributionServiceClient<CallerChannel> {
        ContributionServiceClient::new(self.contribution.channel().await)
    }

    pub async fn activation_client(&self) -> ActivationServiceClient<CallerChannel> {
        ActivationServiceClient::new(self.activation.channel().await)
    }

    /// The region's typical 2026 rate tables for `types`, set by an
    /// operator (enrolments in a region need its table).
    pub async fn set_typical_rates(
        &self,
        region: &str,
        types: &[socsec_proto::contribution::v1::InsuranceType],
    ) {
        let mut contribution = self.contribution_client().await;
        for &t in types {
            contribution
                .set_rate_table(operator(
                    socsec_proto::contribution::v1::SetRateTableRequest {
                        request_id: format!("rates-{region}-{t:?}"),
                        table: Some(socsec_fixtures::rates::typical(region, t, 2026)),
                    },
                ))
                .await
                .expect("rate table");
        }
    }
}

/// Live session tokens of persons signed in by the tests, by person id:
/// `as_caller("person:<id>", …)` sends the person's own.
static SESSIONS: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<String, String>>> =
    std::sync::LazyLock::new(Default::default);

/// Makes `token` the one `as_caller` sends for `person_id`.
pub fn remember_session(person_id: &str, token: &str) {
    SESSIONS
        .lock()
        .unwrap()
        .insert(person_id.to_owned(), token.to_owned());
}

/// `message` sent as `caller` (`KIND:CODE`): over a TLS connection with a
/// client certificate naming that caller.
/// A person (`person:<id>`) has no certificate: the request carries their
/// session token instead — the live one if the tests signed them in
/// (`System::sign_in`, `remember_session`), else one signed with the tests'
/// key for a session identity does not know.
pub fn as_caller<T>(caller: &str, message: T) -> Request<T> {
    if let Some(person_id) = caller.strip_prefix("person:") {
        if let Some(token) = SESSIONS.lock().unwrap().get(person_id) {
            return with_token(token, message);
        }
        let until = Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).unwrap();
        // A session identity does not know: refused `SESSION_REVOKED` by
        // services that check sessions (use `System::signed_in_person`).
        let session = uuid::Uuid::nil().to_string();
        let token =
            platform::session::SessionKeys::new(SESSION_SECRET).issue(person_id, &session, until);
        return with_token(&token, message);
    }
    let mut request = Request::new(message);
    request.extensions_mut().insert(AsCaller(caller.to_owned()));
    request
}

pub fn operator<T>(message: T) -> Request<T> {
    as_caller("operator:OP0001", message)
}

/// A person's audit trail in the service `running`, every page, as
/// operator `OP0001` (the query itself is recorded first).
pub async fn audit_trail(
    running: &Running,
    person_id: &str,
) -> Vec<socsec_proto::audit::v1::AuditRecord> {
    use socsec_proto::{
        audit::v1::{ListAuditRecordsRequest, audit_service_client::AuditServiceClient},
        common::v1::PageRequest,
    };
    let mut audit = AuditServiceClient::new(running.channel().await);
    let mut records = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = audit
            .list_audit_records(operator(ListAuditRecordsRequest {
                person_id: person_id.to_owned(),
                page: Some(PageRequest {
                    page_size: 100,
                    page_token,
                }),
            }))
            .await
            .expect("operators may read the audit trail")
            .into_inner();
        records.extend(page.records);
        page_token = page.page.unwrap_or_default().next_page_token;
        if page_token.is_empty() {
            return records;
        }
    }
}

/// `message` sent with a person's session token.
pub fn with_token<T>(token: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        MetadataValue::try_from(format!("Bearer {token}")).unwrap(),
    );
    request
}

/// Any caller (`KIND:CODE`, or `person:<id>` with a token), as the
/// fixtures call.
pub struct As(pub String);

impl socsec_fixtures::Credentials for As {
    fn request<T>(&self, message: T) -> Request<T> {
        as_caller(&self.0, message)
    }
}

/// The bureau operator `OP0001`, as the fixtures call.
pub struct Operator;

impl socsec_fixtures::Credentials for Operator {
    fn request<T>(&self, message: T) -> Request<T> {
        operator(message)
    }
}

/// Pays `payer`'s bill of `period` the only way there is: `payer_caller`
/// asks for a payment order (`amount` fen, or everything outstanding) and
/// the collecting bank `bank` (`bank:CODE`) records it under `reference`,
/// both at 10:00 China time on `day` (the clock is put back afterwards).
/// Returns the order and the bank's answer.
pub async fn pay_through_bank(
    contribution: &mut ContributionServiceClient<CallerChannel>,
    clock: &ManualClock,
    day: chrono::NaiveDate,
    (payer_caller, bank): (&str, &str),
    (payer, period): (&str, socsec_proto::common::v1::YearMonth),
    amount: Option<i64>,
    reference: &str,
) -> (
    socsec_proto::contribution::v1::PaymentOrder,
    socsec_proto::contribution::v1::Payment,
) {
    let before = clock.now();
    clock.set(day.and_hms_opt(2, 0, 0).unwrap().and_utc());
    let paid = socsec_fixtures::payment::pay_through_bank(
        contribution,
        &As(payer_caller.to_owned()),
        &As(bank.to_owned()),
        payer,
        period,
        amount,
        reference,
    )
    .await;
    clock.set(before);
    paid.unwrap_or_else(|status| panic!("paying through {bank}: {status:?}"))
}

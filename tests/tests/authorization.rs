//! Every RPC of every service, called with every caller kind and with no
//! credential, over mutual TLS, against the services' authorization tables:
//! allowed calls get past authorization, every other call is refused with a
//! reason. Partners' certificates name registered partners; a person calls
//! with a session token. A certificate from another CA, an expired one, one
//! naming no caller, and one naming an unregistered partner get nothing.

use std::time::Duration;

use devpki::{Authority, Validity};
use http::uri::PathAndQuery;
use platform::auth::{Access, CallerKind, Policy};
use socsec_proto::common::v1::PartnerKind;
use system_tests::{
    AsCaller, CallerChannel, System, journeys, pki, pki::tls_channel, reason, with_token,
};
use tonic::{Code, Request, client::Grpc};
use tonic_prost::ProstCodec;

/// Who calls: no one, a certificate naming `KIND:CODE`, or a person's token.
#[derive(Clone)]
enum Credential {
    None,
    Certificate(String),
    Token(String),
}

/// Calls `path` with an empty message with `credential`.
async fn call<C>(channel: C, path: &'static str, credential: Credential) -> tonic::Status
where
    C: tonic::client::GrpcService<tonic::body::Body>,
    C::Error: Into<tonic::codegen::StdError>,
    C::ResponseBody: tonic::codegen::Body<Data = tonic::codegen::Bytes> + Send + 'static,
    <C::ResponseBody as tonic::codegen::Body>::Error: Into<tonic::codegen::StdError> + Send,
{
    let mut grpc = Grpc::new(channel);
    let mut request = match credential {
        Credential::None => Request::new(()),
        Credential::Certificate(caller) => {
            let mut request = Request::new(());
            request.extensions_mut().insert(AsCaller(caller));
            request
        }
        Credential::Token(token) => with_token(&token, ()),
    };
    request.set_timeout(Duration::from_millis(1500));
    if let Err(e) = grpc.ready().await {
        return tonic::Status::unavailable(e.into().to_string());
    }
    let answer = grpc.unary::<(), (), _>(
        request,
        PathAndQuery::from_static(path),
        ProstCodec::default(),
    );
    // A watch stream that got past authorization stays open: that is an answer too.
    match tokio::time::timeout(Duration::from_secs(2), answer).await {
        Ok(Ok(_)) | Err(_) => tonic::Status::ok(""),
        Ok(Err(status)) => status,
    }
}

/// Refused by authorization rather than by the handler.
fn refused_by_policy(status: &tonic::Status) -> bool {
    matches!(
        reason(status).as_str(),
        "CALLER_KIND_NOT_ALLOWED"
            | "CREDENTIAL_MISSING"
            | "CREDENTIAL_INVALID"
            | "METHOD_NOT_ALLOWED"
    )
}

/// The code of the registered partner of `kind` these tests call as.
fn code_of(kind: CallerKind) -> String {
    format!("{}-1", kind.as_str().replace('_', "-").to_uppercase())
}

/// How a caller of `kind` proves who it is.
fn credential(kind: CallerKind, person_token: &str) -> Credential {
    match kind {
        CallerKind::Person => Credential::Token(person_token.to_owned()),
        kind => Credential::Certificate(format!("{}:{}", kind.as_str(), code_of(kind))),
    }
}

/// Registers one partner of every kind, named as [`code_of`] says.
async fn register_partners(system: &System) {
    let mut identity = system.identity_client().await;
    for (kind, partner_kind) in [
        (CallerKind::Bank, PartnerKind::Bank),
        (CallerKind::BankOutlet, PartnerKind::BankOutlet),
        (CallerKind::Hospital, PartnerKind::Hospital),
        (CallerKind::Pharmacy, PartnerKind::Pharmacy),
        (CallerKind::HrAgency, PartnerKind::HrAgency),
        (CallerKind::Employer, PartnerKind::Employer),
        (CallerKind::HotlineCenter, PartnerKind::HotlineCenter),
    ] {
        let parent = if kind == CallerKind::BankOutlet {
            code_of(CallerKind::Bank)
        } else {
            String::new()
        };
        journeys::register_partner(&mut identity, &code_of(kind), partner_kind, &parent).await;
    }
}

/// A live session token of a person who signed in (allowed calls then
/// reach the handler, past the session check).
async fn person_token(system: &System) -> String {
    system.signed_in_person().await.1
}

async fn check(channel: CallerChannel, policy: &'static Policy, token: &str) -> usize {
    let mut checked = 0;
    let every_service_serves = platform::auth::PLATFORM_RULES.iter();
    for (path, access) in policy.rules.iter().chain(every_service_serves) {
        let missing = call(channel.clone(), path, Credential::None).await;
        match access {
            Access::Anyone => assert!(
                !refused_by_policy(&missing),
                "{path} without credential: {missing:?}"
            ),
            Access::Only(_) => {
                assert_eq!(
                    missing.code(),
                    Code::Unauthenticated,
                    "{path} without credential"
                );
                assert_eq!(reason(&missing), "CREDENTIAL_MISSING", "{path}");
            }
        }
        for kind in CallerKind::ALL {
            let status = call(channel.clone(), path, credential(kind, token)).await;
            let allowed = match access {
                Access::Anyone => true,
                Access::Only(kinds) => kinds.contains(&kind),
            };
            if allowed {
                assert!(
                    !refused_by_policy(&status),
                    "{path} as {}: {status:?}",
                    kind.as_str()
                );
            } else {
                assert_eq!(
                    status.code(),
                    Code::PermissionDenied,
                    "{path} as {}: {status:?}",
                    kind.as_str()
                );
                assert_eq!(
                    reason(&status),
                    "CALLER_KIND_NOT_ALLOWED",
                    "{path} as {}",
                    kind.as_str()
                );
            }
            checked += 1;
        }
    }
    checked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_of_every_service_with_every_caller_kind() {
    let system = System::start().await;
    register_partners(&system).await;
    let token = person_token(&system).await;
    let mut checked = 0;
    checked += check(
        system.identity.channel().await,
        &identity::policy::POLICY,
        &token,
    )
    .await;
    checked += check(
        system.cards.channel().await,
        &card_issuance::policy::POLICY,
        &token,
    )
    .await;
    checked += check(
        system.activation.channel().await,
        &activation::policy::POLICY,
        &token,
    )
    .await;
    checked += check(
        system.contribution.channel().await,
        &contribution::policy::POLICY,
        &token,
    )
    .await;
    // Every method the services' descriptors declare, ten caller kinds
    // each: a method without a rule is never called, so the count falls short.
    assert_eq!(checked, rpcs_served() * CallerKind::ALL.len());
}

/// The services whose tables `check` walks.
const SERVICES: [&str; 4] = [
    "socsec.identity.v1.IdentityService",
    "socsec.card.v1.CardService",
    "socsec.activation.v1.ActivationService",
    "socsec.contribution.v1.ContributionService",
];

/// How many methods `service` declares in the compiled descriptors.
fn methods_declared(service: &str) -> usize {
    let set = <prost_types::FileDescriptorSet as prost::Message>::decode(
        socsec_proto::FILE_DESCRIPTOR_SET,
    )
    .expect("compiled descriptors decode");
    let (package, name) = service.rsplit_once('.').expect("a qualified service name");
    set.file
        .iter()
        .filter(|f| f.package() == package)
        .flat_map(|f| &f.service)
        .filter(|s| s.name() == name)
        .map(|s| s.method.len())
        .sum()
}

/// Every RPC the four services serve, counted from the descriptors: each
/// service's own and those of the services every one serves (the audit
/// query), whose names come from `PLATFORM_RULES`.
fn rpcs_served() -> usize {
    let mut platform_services: Vec<&str> = platform::auth::PLATFORM_RULES
        .iter()
        .filter_map(|(path, _)| path.trim_start_matches('/').split_once('/'))
        .map(|(service, _)| service)
        .collect();
    platform_services.sort_unstable();
    platform_services.dedup();
    let every_service_serves: usize = platform_services.iter().map(|s| methods_declared(s)).sum();
    assert!(every_service_serves > 0, "the audit query is declared");
    SERVICES
        .iter()
        .map(|service| {
            let own = methods_declared(service);
            assert!(own > 0, "{service} is in the descriptors");
            own + every_service_serves
        })
        .sum()
}

#[tokio::test]
async fn a_method_missing_from_the_table_is_refused() {
    let system = System::start().await;
    let status = call(
        system.identity.channel().await,
        "/socsec.identity.v1.IdentityService/NoSuchMethod",
        Credential::Certificate("operator:OP0001".into()),
    )
    .await;
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(reason(&status), "METHOD_NOT_ALLOWED");
}

const GET_PERSON: &str = "/socsec.identity.v1.IdentityService/GetPerson";
const GET_CARD: &str = "/socsec.card.v1.CardService/GetCard";

/// Every service, for checks that hold on each.
fn every_service(system: &System) -> [(&'static str, std::net::SocketAddr); 4] {
    [
        (GET_PERSON, system.identity.addr),
        (GET_CARD, system.cards.addr),
        (
            "/socsec.activation.v1.ActivationService/GetCardActivation",
            system.activation.addr,
        ),
        (
            "/socsec.contribution.v1.ContributionService/GetStatement",
            system.contribution.addr,
        ),
    ]
}

#[tokio::test]
async fn certificates_from_another_ca_or_expired_get_no_connection() {
    let system = System::start().await;
    let stranger = Authority::new("someone else's CA")
        .unwrap()
        .client_for_uri("spiffe://socsec/operator/OP0001", Validity::DEVELOPMENT)
        .unwrap();
    let expired = pki().issue("operator:OP0001", Validity::EXPIRED);
    let policies: [(&Policy, std::net::SocketAddr); 4] = [
        (&identity::policy::POLICY, system.identity.addr),
        (&card_issuance::policy::POLICY, system.cards.addr),
        (&activation::policy::POLICY, system.activation.addr),
        (&contribution::policy::POLICY, system.contribution.addr),
    ];
    let mut checked = 0;
    for (policy, addr) in policies {
        let every_service_serves = platform::auth::PLATFORM_RULES.iter();
        for (path, _) in policy.rules.iter().chain(every_service_serves) {
            for (what, certificate, alert) in [
                ("another CA", &stranger, "UnknownCA"),
                ("expired", &expired, "CertificateExpired"),
            ] {
                let status =
                    call(tls_channel(addr, Some(certificate)), path, Credential::None).await;
                // The handshake fails with the server's alert, so no call
                // reaches the service at all.
                assert!(
                    matches!(status.code(), Code::Unavailable | Code::Unknown)
                        && format!("{status:?}").contains(alert),
                    "{path} with a certificate ({what}): {status:?}"
                );
                assert!(reason(&status).is_empty(), "{what}: {status:?}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, rpcs_served() * 2);
    for (path, addr) in every_service(&system) {
        // The same call with a good operator certificate gets past
        // authentication (to a handler answer).
        let status = call(
            system_tests::caller_channel(addr),
            path,
            Credential::Certificate("operator:OP0001".into()),
        )
        .await;
        assert!(
            !matches!(
                status.code(),
                Code::Unauthenticated | Code::PermissionDenied | Code::Unavailable
            ),
            "{path}: {status:?}"
        );
    }
}

#[tokio::test]
async fn a_certificate_must_name_a_caller_and_a_partner_must_be_registered() {
    let system = System::start().await;
    for (path, addr) in every_service(&system) {
        let channel = system_tests::caller_channel(addr);
        let status = call(
            channel.clone(),
            path,
            Credential::Certificate("nobody:X".into()),
        )
        .await;
        assert_eq!(status.code(), Code::Unauthenticated, "{path}: {status:?}");
        assert_eq!(reason(&status), "CERTIFICATE_IDENTITY_INVALID", "{path}");

        // A valid certificate for a bank nobody registered.
        let status = call(
            channel.clone(),
            GET_CARD,
            Credential::Certificate("bank:UNKNOWN-BANK".into()),
        )
        .await;
        if addr == system.cards.addr {
            assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
            assert_eq!(reason(&status), "PARTNER_NOT_REGISTERED");
        }
    }
    // No certificate speaks for a person, and one call has one caller.
    let status = call(
        system.identity.channel().await,
        GET_PERSON,
        Credential::Certificate(format!("person:{}", uuid::Uuid::new_v4())),
    )
    .await;
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert_eq!(reason(&status), "CERTIFICATE_IDENTITY_INVALID");
    let mut both = with_token(&person_token(&system).await, ());
    both.extensions_mut()
        .insert(AsCaller("operator:OP0001".into()));
    let mut grpc = Grpc::new(system.identity.channel().await);
    grpc.ready().await.unwrap();
    let status = grpc
        .unary::<(), (), _>(
            both,
            PathAndQuery::from_static(GET_PERSON),
            ProstCodec::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert_eq!(reason(&status), "CREDENTIALS_AMBIGUOUS");

    // Registered as a hospital, calling with a bank's certificate.
    let mut identity = system.identity_client().await;
    journeys::register_partner(&mut identity, "H-009", PartnerKind::Hospital, "").await;
    let status = call(
        system.cards.channel().await,
        GET_CARD,
        Credential::Certificate("bank:H-009".into()),
    )
    .await;
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert_eq!(reason(&status), "PARTNER_NOT_REGISTERED");
}

#[tokio::test]
async fn the_development_credential_is_refused_unless_enabled() {
    let system = System::start().await;
    let mut request = Request::new(());
    request.metadata_mut().insert(
        platform::auth::DEV_CALLER_HEADER,
        "operator:OP0001".parse().unwrap(),
    );
    let mut grpc = Grpc::new(system.identity.channel().await);
    grpc.ready().await.unwrap();
    let status = grpc
        .unary::<(), (), _>(
            request,
            PathAndQuery::from_static(GET_PERSON),
            ProstCodec::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(reason(&status), "DEV_CREDENTIALS_DISABLED");
}

/// The authorization matrix as documented in `docs/AUTHORIZATION.md`,
/// rendered from the tables the services enforce.
fn matrix() -> String {
    let mut doc = String::from(
        "# Who may call what\n\n\
         Generated from the services' authorization tables\n\
         (`crates/<service>/src/policy.rs`, `platform::auth::PLATFORM_RULES`) by\n\
         `tests/tests/authorization.rs`, which fails when this file and the tables\n\
         differ (`SOCSEC_WRITE_DOCS=1 deploy/test.sh --test authorization` rewrites it).\n\
         The same test calls every RPC below with every caller kind over mutual TLS.\n\n\
         A caller is named by its certificate (`spiffe://socsec/<kind>/<code>`), a\n\
         person by a session token. Partners must also be registered in identity\n\
         under their kind. `grpc.health.v1` (and reflection, when enabled) is open to\n\
         anyone. The web portal (`portal`, a certificate of the internal CA) may call\n\
         only what anyone may: it sends `SignIn` with the browser's address in\n\
         `x-socsec-client-address`, which identity believes from it alone.\n",
    );
    let services: [(&str, &Policy); 4] = [
        (
            "socsec.identity.v1.IdentityService",
            &identity::policy::POLICY,
        ),
        ("socsec.card.v1.CardService", &card_issuance::policy::POLICY),
        (
            "socsec.activation.v1.ActivationService",
            &activation::policy::POLICY,
        ),
        (
            "socsec.contribution.v1.ContributionService",
            &contribution::policy::POLICY,
        ),
    ];
    let header = |doc: &mut String| {
        doc.push_str("\n| RPC |");
        for kind in CallerKind::ALL {
            doc.push_str(&format!(" {} |", kind.as_str()));
        }
        doc.push_str("\n|---|");
        doc.push_str(&"---|".repeat(CallerKind::ALL.len()));
        doc.push('\n');
    };
    let row = |doc: &mut String, path: &str, access: &Access| {
        let name = path.rsplit('/').next().unwrap_or(path);
        doc.push_str(&format!("| {name} |"));
        for kind in CallerKind::ALL {
            let allowed = match access {
                Access::Anyone => true,
                Access::Only(kinds) => kinds.contains(&kind),
            };
            doc.push_str(if allowed { " ✓ |" } else { " |" });
        }
        doc.push('\n');
    };
    for (service, policy) in services {
        doc.push_str(&format!("\n## {service}\n"));
        header(&mut doc);
        for (path, access) in policy.rules {
            row(&mut doc, path, access);
        }
    }
    doc.push_str("\n## Every service\n");
    header(&mut doc);
    for (path, access) in platform::auth::PLATFORM_RULES {
        row(&mut doc, path, access);
    }
    doc
}

#[test]
fn the_documented_matrix_is_the_enforced_one() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/AUTHORIZATION.md");
    let rendered = matrix();
    if std::env::var_os("SOCSEC_WRITE_DOCS").is_some() {
        std::fs::write(path, &rendered).unwrap();
    }
    let documented = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        documented == rendered,
        "docs/AUTHORIZATION.md differs from the enforced tables; \
         run SOCSEC_WRITE_DOCS=1 deploy/test.sh --test authorization"
    );
}

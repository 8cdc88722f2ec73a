//! The JSON interface (`platform::json`): every RPC over HTTP/1.1 and JSON on
//! the service's own port, through a real HTTP client (reqwest, HTTP/1.1
//! only, client certificates from the tests' CAs) — with the same caller
//! identity, authorization, idempotency and limits as gRPC — and the
//! checked-in OpenAPI document and README examples.

use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use socsec_proto::{
    activation::v1::{EligibilityReason, check_eligibility_request::Card},
    card::v1 as card,
    common::v1::PartnerKind,
};
use system_tests::{
    System, as_caller,
    journeys::{self, Activation},
    pki::{http1_client as http, pki},
};

const ELIGIBILITY: &str = "/socsec.activation.v1.ActivationService/CheckEligibility";
const PHARMACY: &str = "/socsec.activation.v1.ActivationService/ActivateAtPharmacy";

/// POSTs `body` as JSON to `path` on the service at `url`: the status and
/// the JSON answer.
async fn post(client: &Client, url: &str, path: &str, body: &Value) -> (StatusCode, Value) {
    post_raw(client, url, path, body.to_string(), None).await
}

async fn post_raw(
    client: &Client,
    url: &str,
    path: &str,
    body: String,
    bearer: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = client
        .post(format!("{url}{path}"))
        .header("content-type", "application/json")
        .body(body);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let answer = request.send().await.expect("the service answers");
    assert_eq!(answer.version(), reqwest::Version::HTTP_11);
    let status = answer.status();
    let text = answer.text().await.expect("a body");
    let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, json)
}

/// The system with a designated hospital and pharmacy, a bank, and a
/// person holding a received card (projected into activation) and an old
/// medical insurance card.
async fn world() -> (System, card::Card, &'static str) {
    let system = System::start().await;
    let mut identity = system.identity_client().await;
    for (code, kind) in [
        ("ICBC", PartnerKind::Bank),
        ("H-DEMO", PartnerKind::Hospital),
        ("P-DEMO", PartnerKind::Pharmacy),
    ] {
        journeys::register_partner(&mut identity, code, kind, "").await;
    }
    let mut cards = system.card_client().await;
    let (person, card) =
        journeys::person_with_received_card(&mut identity, &mut cards, "钱多", "ICBC").await;
    let mut activation: Activation = system.activation_client().await;
    journeys::projected(&mut activation, &card.card_number, "RECEIVED").await;
    let legacy = "YB0000101";
    journeys::register_legacy_card(&mut cards, &person, legacy).await;
    system_tests::eventually(
        "the old card in activation's projection",
        Duration::from_secs(10),
        async || {
            let answer = activation
                .check_eligibility(as_caller(
                    "pharmacy:P-DEMO",
                    socsec_proto::activation::v1::CheckEligibilityRequest {
                        card: Some(Card::LegacyCardNumber(legacy.into())),
                    },
                ))
                .await
                .ok()?
                .into_inner();
            (answer.reason != EligibilityReason::CardUnknown as i32).then_some(())
        },
    )
    .await;
    (system, card, legacy)
}

fn presented(card: &card::Card) -> Value {
    json!({ "socialSecurityCard": {
        "cardNumber": card.card_number,
        "cardIdentificationCode": card.card_identification_code,
    }})
}

#[tokio::test]
async fn a_hospital_checks_eligibility_and_a_pharmacy_activates_first_use_in_json() {
    let (system, card, legacy) = world().await;
    let url = system.activation.url();

    let hospital = http(Some("hospital:H-DEMO"));
    let (status, eligibility) = post(&hospital, &url, ELIGIBILITY, &presented(&card)).await;
    assert_eq!(status, StatusCode::OK, "{eligibility}");
    // Every field, enums by name, timestamps in RFC 3339.
    assert_eq!(eligibility["eligible"], json!(false));
    assert_eq!(
        eligibility["reason"],
        json!("ELIGIBILITY_REASON_CARD_NOT_ACTIVATED")
    );
    assert_eq!(eligibility["deadlinePassed"], json!(false));
    let as_of = eligibility["dataAsOf"].as_str().expect("a timestamp");
    chrono::DateTime::parse_from_rfc3339(as_of).expect("RFC 3339");

    let pharmacy = http(Some("pharmacy:P-DEMO"));
    // Proto field names are accepted as well as lowerCamelCase.
    let request = json!({
        "request_id": "pos-7781",
        "operatorId": "POS-2",
        "legacyCardNumber": legacy,
        "cardNumber": card.card_number,
        "cardIdentificationCode": card.card_identification_code,
    });
    let (status, activation) = post(&pharmacy, &url, PHARMACY, &request).await;
    assert_eq!(status, StatusCode::OK, "{activation}");
    assert_eq!(activation["channel"], json!("CHANNEL_PHARMACY"));
    assert_eq!(activation["retiredLegacyCardNumber"], json!(legacy));

    let (status, eligibility) = post(&hospital, &url, ELIGIBILITY, &presented(&card)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(eligibility["eligible"], json!(true), "{eligibility}");
}

#[tokio::test]
async fn a_retried_mutation_is_answered_with_the_first_answer() {
    let (system, card, legacy) = world().await;
    let url = system.activation.url();
    let pharmacy = http(Some("pharmacy:P-DEMO"));
    let request = json!({
        "requestId": "pos-retry-1",
        "operatorId": "POS-2",
        "legacyCardNumber": legacy,
        "cardNumber": card.card_number,
        "cardIdentificationCode": card.card_identification_code,
    });
    let (first_status, first) = post(&pharmacy, &url, PHARMACY, &request).await;
    let (again_status, again) = post(&pharmacy, &url, PHARMACY, &request).await;
    assert_eq!(first_status, StatusCode::OK, "{first}");
    assert_eq!(again_status, StatusCode::OK, "{again}");
    assert_eq!(first, again);

    // The same request id with other content is refused, as over gRPC.
    let mut other = request.clone();
    other["operatorId"] = json!("POS-9");
    let (status, refusal) = post(&pharmacy, &url, PHARMACY, &other).await;
    assert_eq!(refusal["reason"], json!("REQUEST_ID_REUSED"), "{refusal}");
    assert!(status.is_client_error());
}

#[tokio::test]
async fn bad_input_is_400_with_every_field_violation() {
    let system = System::start().await;
    let mut identity = system.identity_client().await;
    journeys::register_partner(&mut identity, "P-DEMO", PartnerKind::Pharmacy, "").await;
    let url = system.activation.url();
    let pharmacy = http(Some("pharmacy:P-DEMO"));
    let (status, refusal) = post(
        &pharmacy,
        &url,
        PHARMACY,
        &json!({ "requestId": "", "cardNumber": "not a card" }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refusal}");
    assert_eq!(refusal["code"], json!("INVALID_ARGUMENT"));
    let fields: Vec<&str> = refusal["fieldViolations"]
        .as_array()
        .expect("field violations")
        .iter()
        .map(|v| v["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"request_id"), "{refusal}");
    assert!(fields.contains(&"card_number"), "{refusal}");

    // JSON that is not the request message: named, with no value echoed.
    let (status, refusal) = post_raw(
        &pharmacy,
        &url,
        PHARMACY,
        r#"{"requestId": 5, "cardNumber": "110101199003077777"}"#.into(),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refusal["reason"], json!("JSON_INVALID"));
    // The offending field is named, as the RPC's own violations are.
    assert_eq!(
        refusal["fieldViolations"][0]["field"],
        json!("request_id"),
        "{refusal}"
    );
    assert!(!refusal.to_string().contains("110101199003077777"));
    let (_, refusal) = post_raw(
        &pharmacy,
        &url,
        ELIGIBILITY,
        r#"{"socialSecurityCard": {"cardNumber": 5}}"#.into(),
        None,
    )
    .await;
    assert_eq!(
        refusal["fieldViolations"][0]["field"],
        json!("social_security_card.card_number"),
        "{refusal}"
    );
    let (_, refusal) = post_raw(
        &pharmacy,
        &url,
        PHARMACY,
        r#"{"unknownField": "110101199003077777"}"#.into(),
        None,
    )
    .await;
    assert_eq!(refusal["reason"], json!("JSON_INVALID"));
    assert!(!refusal.to_string().contains("110101199003077777"));

    // Neither JSON nor gRPC: a JSON refusal, not a gRPC answer.
    let answer = pharmacy
        .post(format!("{url}{PHARMACY}"))
        .body("requestId=1")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let refusal: Value = serde_json::from_str(&answer.text().await.unwrap()).unwrap();
    assert_eq!(refusal["reason"], json!("CONTENT_TYPE_UNSUPPORTED"));
}

#[tokio::test]
async fn the_caller_is_the_connections_certificate_as_over_grpc() {
    let system = System::start().await;
    let url = system.activation.url();
    let request = json!({ "legacyCardNumber": "YB0000999" });

    let (status, refusal) = post(&http(Some("bank:ICBC")), &url, ELIGIBILITY, &request).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refusal}");
    assert_eq!(refusal["code"], json!("PERMISSION_DENIED"));

    let (status, refusal) = post(&http(None), &url, ELIGIBILITY, &request).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{refusal}");
    assert_eq!(refusal["code"], json!("UNAUTHENTICATED"));
}

#[tokio::test]
async fn an_oversized_body_is_refused_like_grpc() {
    let system = System::start().await;
    let url = system.activation.url();
    let max = 4 * 1024 * 1024;
    let body = format!(r#"{{"legacyCardNumber": "{}"}}"#, "9".repeat(max + 1));
    let (status, refusal) = post_raw(
        &http(Some("hospital:H-DEMO")),
        &url,
        ELIGIBILITY,
        body,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{refusal}");
    assert_eq!(refusal["code"], json!("RESOURCE_EXHAUSTED"));
    assert_eq!(refusal["reason"], json!("MESSAGE_TOO_LARGE"));
    assert_eq!(
        refusal["metadata"]["max_message_bytes"],
        json!(max.to_string())
    );
}

#[tokio::test]
async fn a_server_streaming_rpc_answers_newline_delimited_json() {
    let (system, card, _) = world().await;
    let answer = http(Some("service:activation"))
        .post(format!(
            "{}/socsec.card.v1.CardService/WatchCardEvents",
            system.cards.url()
        ))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("the service answers");
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(
        answer.headers()["content-type"],
        "application/x-ndjson",
        "one JSON message a line"
    );
    // The stream stays open after the history: read lines until the card's
    // issue has passed.
    let mut answer = answer;
    let mut pending = String::new();
    let mut lines = Vec::new();
    while !lines
        .iter()
        .any(|l: &Value| l.to_string().contains(&card.card_number))
    {
        let chunk = answer.chunk().await.expect("a chunk").expect("more lines");
        pending.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some((line, rest)) = pending.split_once('\n') {
            lines.push(serde_json::from_str(line).expect("each line is JSON"));
            pending = rest.to_owned();
        }
    }
    assert!(lines.iter().all(|l| l["cursor"].is_string()), "{lines:?}");
}

#[tokio::test]
async fn a_person_calls_with_their_session_token() {
    let system = System::start().await;
    let (person, token) = system.signed_in_person().await;
    let url = system.cards.url();
    let path = "/socsec.card.v1.CardService/ListPersonCards";
    let request = json!({ "personId": person.person_id }).to_string();
    let (status, answer) = post_raw(&http(None), &url, path, request.clone(), Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["cards"], json!([]));

    let (status, refusal) = post_raw(&http(None), &url, path, request, Some("not-a-token")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{refusal}");
}

#[tokio::test]
async fn the_openapi_document_is_the_one_the_descriptors_produce() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json");
    let generated = platform::json::openapi::document();
    if std::env::var_os("SOCSEC_WRITE_DOCS").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let documented = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        documented == generated,
        "docs/openapi.json differs from the descriptors; \
         run SOCSEC_WRITE_DOCS=1 deploy/test.sh --test json"
    );
    let document: Value = serde_json::from_str(&documented).unwrap();
    assert!(document["paths"][ELIGIBILITY]["post"].is_object());
}

/// The `curl` commands of the README's "JSON over HTTP", each run as
/// written, against the running activation service.
fn readme_curl_commands() -> Vec<String> {
    let readme = include_str!("../../README.md");
    let section = readme
        .split("### JSON over HTTP")
        .nth(1)
        .expect("the README has a JSON over HTTP section");
    let section = section.split("\n### ").next().unwrap();
    section
        .split("```sh\n")
        .skip(1)
        .map(|block| block.split("```").next().unwrap().to_owned())
        .filter(|block| block.starts_with("curl "))
        .collect()
}

#[tokio::test]
async fn the_readmes_curl_examples_work() {
    if std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("curl is not installed; skipping the README's examples");
        return;
    }
    let (system, card, legacy) = world().await;
    pki().write_callers(&["hospital:H-DEMO", "pharmacy:P-DEMO"]);
    let commands = readme_curl_commands();
    assert_eq!(commands.len(), 2, "the eligibility check and the first use");
    let mut answers = Vec::new();
    for command in commands {
        let command = command
            .replace(".data/pki", &pki().dir.display().to_string())
            .replace("https://127.0.0.1:50053", &system.activation.url());
        let script = format!("curl --silent --show-error {}", &command["curl ".len()..]);
        let (number, code) = (
            card.card_number.clone(),
            card.card_identification_code.clone(),
        );
        // A blocking pool thread: the services run on this test's runtime.
        let output = tokio::task::spawn_blocking(move || {
            std::process::Command::new("bash")
                .args(["-c", &script])
                .env("CARD_NUMBER", number)
                .env("CARD_CODE", code)
                .env("OLD_CARD", legacy)
                .output()
                .expect("bash runs")
        })
        .await
        .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let answer: Value =
            serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("not JSON: {stdout}"));
        answers.push(answer);
    }
    assert_eq!(
        answers[0]["reason"],
        json!("ELIGIBILITY_REASON_CARD_NOT_ACTIVATED"),
        "{}",
        answers[0]
    );
    assert_eq!(
        answers[1]["channel"],
        json!("CHANNEL_PHARMACY"),
        "{}",
        answers[1]
    );
}

/// grpcurl before 1.9 and other common tools speak only reflection
/// v1alpha; generic clients decode error details only if reflection
/// describes `google.rpc`.
#[tokio::test]
async fn reflection_speaks_v1alpha_and_describes_the_error_details() {
    use tonic_reflection::pb::v1alpha::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let mut config = system_tests::identity_config(&system_tests::fresh_database().await);
    config.platform.reflection = true;
    let service =
        system_tests::spawn_identity_with(config, std::sync::Arc::new(system_tests::test_clock()))
            .await;
    let mut reflection = ServerReflectionClient::new(service.channel().await);
    let ask = |request| ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    };
    let mut answers = reflection
        .server_reflection_info(tokio_stream::iter([
            ask(MessageRequest::ListServices(String::new())),
            ask(MessageRequest::FileContainingSymbol(
                "google.rpc.BadRequest".into(),
            )),
        ]))
        .await
        .expect("v1alpha is served")
        .into_inner();
    use futures::StreamExt;
    let Some(MessageResponse::ListServicesResponse(list)) =
        answers.next().await.unwrap().unwrap().message_response
    else {
        panic!("expected a list of services");
    };
    assert!(
        list.service
            .iter()
            .any(|s| s.name == "socsec.identity.v1.IdentityService")
    );
    let Some(MessageResponse::FileDescriptorResponse(files)) =
        answers.next().await.unwrap().unwrap().message_response
    else {
        panic!("expected the file describing google.rpc.BadRequest");
    };
    assert!(!files.file_descriptor_proto.is_empty());
}

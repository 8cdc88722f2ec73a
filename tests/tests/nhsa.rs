//! The medical-insurance platform's envelope (NHSA style, issue 16 item 3):
//! `POST /fsi/api/rsfComIfsService/callService` on activation, through a
//! real HTTP/1.1 client presenting the institution's certificate — 1101
//! with the three certificate types, 2201 and the pharmacy's 2101 as
//! first-use activations, `msgid` as the request id, `fixmedins_code`
//! checked against the certificate, and refusals in the body under HTTP
//! 200. Set `SOCSEC_PRINT_ENVELOPES=1` (with `--nocapture`) to print each
//! exchange (the README's worked examples come from such a run).

use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use socsec_proto::{
    activation::v1::{CheckEligibilityRequest, EligibilityReason, check_eligibility_request::Card},
    card::v1 as card,
    common::v1::PartnerKind,
    identity::v1 as identity,
};
use system_tests::{
    System, as_caller,
    journeys::{self, Activation, Cards},
    pki::{http1_client as http, pki},
};

const ENDPOINT: &str = "/fsi/api/rsfComIfsService/callService";
const HOSPITAL: &str = "H41010500123";
const PHARMACY: &str = "P41010500456";
const LEGACY: &str = "YB0000202";

struct World {
    system: System,
    cards: Cards,
    activation: Activation,
    person: identity::Person,
    card: card::Card,
    hospital: Client,
    pharmacy: Client,
}

/// A designated hospital and pharmacy (NHSA-style institution codes), and a
/// signed-in person holding a received card (projected into activation)
/// and an old medical insurance card.
async fn world() -> World {
    let system = System::start().await;
    let mut identity = system.identity_client().await;
    for (code, kind) in [
        ("ICBC", PartnerKind::Bank),
        (HOSPITAL, PartnerKind::Hospital),
        (PHARMACY, PartnerKind::Pharmacy),
    ] {
        journeys::register_partner(&mut identity, code, kind, "").await;
    }
    let mut cards = system.card_client().await;
    let (person, card) =
        journeys::person_with_received_card(&mut identity, &mut cards, "包大夫", "ICBC").await;
    let mut activation: Activation = system.activation_client().await;
    journeys::projected(&mut activation, &card.card_number, "RECEIVED").await;
    journeys::register_legacy_card(&mut cards, &person, LEGACY).await;
    system_tests::eventually(
        "the old card in activation's projection",
        Duration::from_secs(10),
        async || {
            let answer = activation
                .check_eligibility(as_caller(
                    &format!("pharmacy:{PHARMACY}"),
                    CheckEligibilityRequest {
                        card: Some(Card::LegacyCardNumber(LEGACY.into())),
                    },
                ))
                .await
                .ok()?
                .into_inner();
            (answer.reason != EligibilityReason::CardUnknown as i32).then_some(())
        },
    )
    .await;
    system.sign_in(&person).await;
    World {
        system,
        cards,
        activation,
        person,
        card,
        hospital: http(Some(&format!("hospital:{HOSPITAL}"))),
        pharmacy: http(Some(&format!("pharmacy:{PHARMACY}"))),
    }
}

/// An envelope as a HIS sends it.
fn envelope(infno: &str, msgid: &str, institution: &str, data: Value) -> Value {
    json!({
        "infno": infno,
        "msgid": msgid,
        "mdtrtarea_admvs": "410105",
        "insuplc_admdvs": "410105",
        "recer_sys_code": "HIS",
        "infver": "V1.0",
        "opter_type": "1",
        "opter": "REG-07",
        "opter_name": "挂号员",
        "inf_time": "2026-12-01 09:30:00",
        "fixmedins_code": institution,
        "fixmedins_name": "示范医院",
        "sign_no": "",
        "input": { "data": data },
    })
}

impl World {
    fn url(&self) -> String {
        format!("{}{ENDPOINT}", self.system.activation.url())
    }

    /// POSTs `body`; every answer, refusals included, is HTTP 200.
    async fn post(&self, client: &Client, body: &Value) -> Value {
        self.post_raw(client, body.to_string()).await
    }

    async fn post_raw(&self, client: &Client, body: String) -> Value {
        let answer = client
            .post(self.url())
            .header("content-type", "application/json;charset=utf-8")
            .body(body.clone())
            .send()
            .await
            .expect("the service answers");
        assert_eq!(answer.version(), reqwest::Version::HTTP_11);
        assert_eq!(answer.status(), StatusCode::OK);
        let text = answer.text().await.expect("a body");
        if std::env::var_os("SOCSEC_PRINT_ENVELOPES").is_some() {
            println!("--> {body}\n<-- {text}\n");
        }
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    }

    fn card_presented(&self) -> Value {
        json!({
            "mdtrt_cert_type": "03",
            "mdtrt_cert_no": self.card.card_number,
            "card_sn": self.card.card_identification_code,
            "begntime": "2026-12-01 09:30:00",
        })
    }

    /// A QR token from the holder's app (an e-card issued on first use).
    async fn ecard_token(&mut self) -> String {
        let person = format!("person:{}", self.person.person_id);
        let ecard = match self
            .cards
            .issue_ecard(as_caller(
                &person,
                card::IssueEcardRequest {
                    request_id: "ecard-1".into(),
                    card_number: self.card.card_number.clone(),
                },
            ))
            .await
        {
            Ok(ecard) => ecard.into_inner(),
            Err(status) => panic!("an e-card: {status:?}"),
        };
        self.cards
            .issue_ecard_token(as_caller(
                &person,
                card::IssueEcardTokenRequest {
                    ecard_id: ecard.ecard_id,
                },
            ))
            .await
            .expect("a token")
            .into_inner()
            .token
    }
}

fn ok(answer: &Value) -> &Value {
    assert_eq!(answer["infcode"], json!(0), "{answer}");
    assert_eq!(answer["err_msg"], Value::Null);
    assert!(
        answer["inf_refmsgid"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert!(answer["respond_time"].is_string());
    &answer["output"]
}

fn refused(answer: &Value, reason: &str) -> String {
    assert_eq!(answer["infcode"], json!(-1), "{answer}");
    assert_eq!(answer["err_reason"], json!(reason), "{answer}");
    assert_eq!(answer["output"], Value::Null);
    answer["err_msg"].as_str().expect("an err_msg").to_owned()
}

#[tokio::test]
async fn person_information_1101_answers_for_a_card_with_card_sn_and_for_an_ecard_token_until_the_card_is_lost()
 {
    let mut w = world().await;
    let by_card = envelope(
        "1101",
        "H41010500123202612010930000001",
        HOSPITAL,
        w.card_presented(),
    );
    let answer = w.post(&w.hospital, &by_card).await;
    let output = ok(&answer);
    assert_eq!(output["baseinfo"]["mdtrt_cert_type"], json!("03"));
    let masked = output["baseinfo"]["card_no"].as_str().unwrap();
    assert_ne!(masked, w.card.card_number, "the card number is masked");
    assert_eq!(output["eligibility"]["eligible"], json!(false));
    assert_eq!(
        output["eligibility"]["reason"],
        json!("ELIGIBILITY_REASON_CARD_NOT_ACTIVATED")
    );
    assert!(output["eligibility"]["data_as_of"].is_string(), "{output}");

    // The e-card's QR token stands for the card (01).
    let token = w.ecard_token().await;
    let by_token = envelope(
        "1101",
        "H41010500123202612010930000002",
        HOSPITAL,
        json!({ "mdtrt_cert_type": "01", "mdtrt_cert_no": token }),
    );
    let answer = w.post(&w.hospital, &by_token).await;
    let output = ok(&answer);
    assert_eq!(output["baseinfo"], json!({ "mdtrt_cert_type": "01" }));
    assert_eq!(
        output["eligibility"]["reason"],
        json!("ELIGIBILITY_REASON_CARD_NOT_ACTIVATED")
    );

    // The card reported lost: its e-card token is refused at once.
    w.cards
        .report_loss(as_caller(
            &format!("person:{}", w.person.person_id),
            card::ReportLossRequest {
                request_id: "loss-1".into(),
                card_number: w.card.card_number.clone(),
                reason: "lost on the bus".into(),
            },
        ))
        .await
        .expect("the holder reports the card lost");
    let mut again = by_token.clone();
    again["msgid"] = json!("H41010500123202612010930000003");
    let answer = w.post(&w.hospital, &again).await;
    refused(&answer, "ECARD_NOT_IN_FORCE");
}

#[tokio::test]
async fn person_information_1101_by_id_number_is_refused_and_a_wrong_card_sn_is_a_card_unknown() {
    let w = world().await;
    // 02: an ID number is no proof the holder is present — refused
    // without looking anything up.
    let by_id_number = envelope(
        "1101",
        "H41010500123202612010931000001",
        HOSPITAL,
        json!({
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": "11010519491231002X",
            "psn_cert_type": "01",
            "certno": "11010519491231002X",
            "psn_name": "包大夫",
        }),
    );
    let answer = w.post(&w.hospital, &by_id_number).await;
    let why = refused(&answer, "CERT_TYPE_NOT_ACCEPTED");
    assert!(why.contains("03") && why.contains("01"), "{why}");
    assert!(!why.contains("11010519491231002X"));

    // 03 without card_sn: the field is named.
    let mut data = w.card_presented();
    data.as_object_mut().unwrap().remove("card_sn");
    let answer = w
        .post(
            &w.hospital,
            &envelope("1101", "H41010500123202612010931000002", HOSPITAL, data),
        )
        .await;
    assert!(refused(&answer, "ENVELOPE_INVALID").contains("input.data.card_sn"));

    // Another card's code: answered like a number that does not exist.
    let mut data = w.card_presented();
    data["card_sn"] = json!("410105D156000005AAAAAAAAAAAAAAAA");
    let answer = w
        .post(
            &w.hospital,
            &envelope("1101", "H41010500123202612010931000003", HOSPITAL, data),
        )
        .await;
    assert_eq!(
        ok(&answer)["eligibility"]["reason"],
        json!("ELIGIBILITY_REASON_CARD_UNKNOWN")
    );
}

#[tokio::test]
async fn outpatient_registration_2201_activates_on_first_use_and_later_registrations_succeed() {
    let mut w = world().await;
    let first = envelope(
        "2201",
        "H41010500123202612010932000001",
        HOSPITAL,
        w.card_presented(),
    );
    let answer = w.post(&w.hospital, &first).await;
    let output = ok(&answer);
    assert_eq!(output["first_use_activation"], json!(true));
    assert_eq!(output["activation"]["channel"], json!("CHANNEL_HOSPITAL"));
    assert_eq!(output["activation"]["partner_code"], json!(HOSPITAL));
    assert_eq!(output["activation"]["operator_id"], json!("REG-07"));

    // The next visit's registration: the card is active already.
    let next = envelope(
        "2201",
        "H41010500123202612010932000002",
        HOSPITAL,
        w.card_presented(),
    );
    let answer = w.post(&w.hospital, &next).await;
    let output = ok(&answer);
    assert_eq!(output["first_use_activation"], json!(false));
    assert!(output["activation"]["activated_at"].is_string(), "{output}");
    assert_eq!(output["activation"]["channel"], json!("CHANNEL_HOSPITAL"));

    let eligibility = w
        .activation
        .check_eligibility(as_caller(
            &format!("hospital:{HOSPITAL}"),
            CheckEligibilityRequest {
                card: Some(Card::SocialSecurityCard(
                    socsec_proto::activation::v1::CardPresented {
                        card_number: w.card.card_number.clone(),
                        card_identification_code: w.card.card_identification_code.clone(),
                    },
                )),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(eligibility.eligible);

    // A pharmacy cannot register an outpatient visit: the policy refuses.
    let as_pharmacy = envelope(
        "2201",
        "P41010500456202612010932000001",
        PHARMACY,
        w.card_presented(),
    );
    let answer = w.post(&w.pharmacy, &as_pharmacy).await;
    assert_eq!(answer["infcode"], json!(-1), "{answer}");
}

#[tokio::test]
async fn pharmacy_first_use_2101_activates_the_card_and_retires_the_old_one() {
    let w = world().await;
    let mut data = w.card_presented();
    data["legacy_card_no"] = json!(LEGACY);
    let answer = w
        .post(
            &w.pharmacy,
            &envelope("2101", "P41010500456202612010933000001", PHARMACY, data),
        )
        .await;
    let output = ok(&answer);
    assert_eq!(output["first_use_activation"], json!(true));
    assert_eq!(output["activation"]["channel"], json!("CHANNEL_PHARMACY"));
    assert_eq!(
        output["activation"]["retired_legacy_card_number"],
        json!(LEGACY)
    );

    // Without the old card: the field is named as the envelope names it.
    let answer = w
        .post(
            &w.pharmacy,
            &envelope(
                "2101",
                "P41010500456202612010933000002",
                PHARMACY,
                w.card_presented(),
            ),
        )
        .await;
    assert_eq!(answer["infcode"], json!(-1), "{answer}");
    let why = answer["err_msg"].as_str().unwrap();
    assert!(why.contains("input.data.legacy_card_no"), "{why}");
}

#[tokio::test]
async fn a_retried_msgid_gets_the_first_answer_and_one_reused_for_other_content_is_refused() {
    let w = world().await;
    let request = envelope(
        "2201",
        "H41010500123202612010934000001",
        HOSPITAL,
        w.card_presented(),
    );
    let first = w.post(&w.hospital, &request).await;
    let again = w.post(&w.hospital, &request).await;
    assert_eq!(ok(&first), ok(&again));
    assert_eq!(ok(&again)["first_use_activation"], json!(true));

    let mut other = request.clone();
    other["opter"] = json!("REG-99");
    let answer = w.post(&w.hospital, &other).await;
    refused(&answer, "REQUEST_ID_REUSED");
}

#[tokio::test]
async fn an_ecard_token_activates_once_and_is_refused_when_presented_again() {
    let mut w = world().await;
    let token = w.ecard_token().await;
    let data = json!({ "mdtrt_cert_type": "01", "mdtrt_cert_no": token });
    let answer = w
        .post(
            &w.hospital,
            &envelope(
                "2201",
                "H41010500123202612010935000001",
                HOSPITAL,
                data.clone(),
            ),
        )
        .await;
    assert_eq!(ok(&answer)["first_use_activation"], json!(true));
    let answer = w
        .post(
            &w.hospital,
            &envelope("2201", "H41010500123202612010935000002", HOSPITAL, data),
        )
        .await;
    refused(&answer, "ECARD_TOKEN_REPLAYED");
}

#[tokio::test]
async fn the_institution_is_the_certificates_and_bad_envelopes_are_refused_naming_the_field() {
    let w = world().await;
    // fixmedins_code naming another institution than the certificate.
    let other = envelope(
        "1101",
        "P41010500456202612010936000001",
        PHARMACY,
        w.card_presented(),
    );
    let answer = w.post(&w.hospital, &other).await;
    refused(&answer, "FIXMEDINS_CODE_MISMATCH");
    // No certificate at all.
    let answer = w
        .post(
            &http(None),
            &envelope(
                "1101",
                "H41010500123202612010936000002",
                HOSPITAL,
                w.card_presented(),
            ),
        )
        .await;
    refused(&answer, "CERTIFICATE_REQUIRED");

    // A transaction not served here.
    let answer = w
        .post(
            &w.hospital,
            &envelope(
                "2207",
                "H41010500123202612010936000003",
                HOSPITAL,
                json!({}),
            ),
        )
        .await;
    assert!(refused(&answer, "INFNO_NOT_SERVED").contains("2207"));
    let unknown_type = json!({ "mdtrt_cert_type": "09", "mdtrt_cert_no": "X" });
    let answer = w
        .post(
            &w.hospital,
            &envelope(
                "1101",
                "H41010500123202612010936000004",
                HOSPITAL,
                unknown_type,
            ),
        )
        .await;
    assert!(refused(&answer, "ENVELOPE_INVALID").contains("input.data.mdtrt_cert_type"));

    // Malformed envelopes: every bad field named.
    let mut bad = envelope("11O1", "", HOSPITAL, json!({}));
    bad["inf_time"] = json!("2026/12/01");
    bad.as_object_mut().unwrap().remove("input");
    let why = refused(&w.post(&w.hospital, &bad).await, "ENVELOPE_INVALID");
    for field in ["infno", "msgid", "inf_time", "input.data"] {
        assert!(why.contains(field), "{field} in {why}");
    }
    let why = refused(
        &w.post_raw(&w.hospital, "not json".into()).await,
        "ENVELOPE_INVALID",
    );
    assert!(why.contains("JSON object"), "{why}");
    let answer = w.hospital.get(w.url()).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::METHOD_NOT_ALLOWED);
}

/// The README's `curl` example of the envelope, run as written (paths and
/// address replaced) with the demo hospital's certificate.
#[tokio::test]
async fn the_readmes_curl_envelope_works() {
    if std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("curl is not installed; skipping the README's example");
        return;
    }
    let w = world().await;
    let mut identity = w.system.identity_client().await;
    journeys::register_partner(&mut identity, "H-DEMO", PartnerKind::Hospital, "").await;
    pki().write_callers(&["hospital:H-DEMO"]);
    let readme = include_str!("../../README.md");
    let section = readme
        .split("### Hospital and pharmacy software: the NHSA envelope")
        .nth(1)
        .expect("the README has the envelope section");
    let section = section.split("\n### ").next().unwrap();
    let commands: Vec<&str> = section
        .split("```sh\n")
        .skip(1)
        .map(|block| block.split("```").next().unwrap())
        .filter(|block| block.starts_with("curl "))
        .collect();
    assert_eq!(commands.len(), 1, "one curl example");
    let command = commands[0]
        .replace(".data/pki", &pki().dir.display().to_string())
        .replace("https://127.0.0.1:50053", &w.system.activation.url());
    let script = format!("curl --silent --show-error {}", &command["curl ".len()..]);
    let (number, code) = (
        w.card.card_number.clone(),
        w.card.card_identification_code.clone(),
    );
    // A blocking pool thread: the services run on this test's runtime.
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("bash")
            .args(["-c", &script])
            .env("CARD_NUMBER", number)
            .env("CARD_CODE", code)
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
    assert_eq!(
        ok(&answer)["eligibility"]["reason"],
        json!("ELIGIBILITY_REASON_CARD_NOT_ACTIVATED")
    );
}

/// A page on another site can make a hospital workstation's browser (which
/// holds the hospital's client certificate) post a form or plain text, not
/// JSON: such bodies are refused before they are read, and nothing happens.
#[tokio::test]
async fn an_envelope_a_web_page_could_post_cross_site_is_refused_unread() {
    let w = world().await;
    let first = envelope(
        "2201",
        "H41010500123202612010932000009",
        HOSPITAL,
        w.card_presented(),
    );
    for content_type in [
        Some("text/plain;charset=UTF-8"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let mut post = w.hospital.post(w.url()).body(first.to_string());
        if let Some(content_type) = content_type {
            post = post.header("content-type", content_type);
        }
        let answer = post.send().await.expect("the service answers");
        assert_eq!(
            answer.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        let text = answer.text().await.unwrap();
        assert!(text.contains("CONTENT_TYPE_UNSUPPORTED"), "{text}");
    }
    // None of them registered the visit: the card is still to be activated
    // on first use, which the same envelope as JSON does now.
    let answer = w.post(&w.hospital, &first).await;
    assert_eq!(ok(&answer)["first_use_activation"], json!(true), "{answer}");
}

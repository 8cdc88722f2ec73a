//! The medical-insurance platform's transactions activation answers
//! through the envelope (`platform::json::envelope`): each `infno` mapped
//! onto one of our RPCs, whose answer becomes `output`. Only what we own is
//! mapped (README, "Hospital and pharmacy software: the NHSA envelope").
//!
//! | infno | transaction | RPC |
//! |---|---|---|
//! | 1101 | person information | `CheckEligibility` |
//! | 2201 | outpatient registration | `ActivateAtHospital` (outpatient) |
//! | 2401 | inpatient admission | `ActivateAtHospital` (inpatient) |
//! | 2101 | pharmacy pre-settlement | `ActivateAtPharmacy` |
//!
//! `mdtrt_cert_type` 01 is the electronic card's QR token, 03 the social
//! security card (number + `card_sn`, its identification code); 02 (an ID
//! number) is refused: it does not show that the holder or their card is
//! present, and answering to it would let anyone who knows an ID number
//! probe a person's medical insurance (issue 14's rule: a card number with
//! its own identification code, or a live e-card token).

use platform::json::envelope::{Envelope, Refusal, Route, Transactions};
use serde_json::{Value, json};

const ELIGIBILITY: &str = "/socsec.activation.v1.ActivationService/CheckEligibility";
const HOSPITAL: &str = "/socsec.activation.v1.ActivationService/ActivateAtHospital";
const PHARMACY: &str = "/socsec.activation.v1.ActivationService/ActivateAtPharmacy";

/// The infnos served, for the refusal of any other.
const SERVED: &str = "1101, 2101, 2201, 2401";

/// How the RPCs' fields are named in the envelope.
const FIELDS: &[(&str, &str)] = &[
    ("request_id", "msgid"),
    ("operator_id", "opter"),
    ("card_number", "input.data.mdtrt_cert_no"),
    ("card_identification_code", "input.data.card_sn"),
    ("ecard_token", "input.data.mdtrt_cert_no"),
    ("legacy_card_number", "input.data.legacy_card_no"),
    (
        "social_security_card.card_number",
        "input.data.mdtrt_cert_no",
    ),
    (
        "social_security_card.card_identification_code",
        "input.data.card_sn",
    ),
];

/// Activation's envelope transactions.
pub struct Nhsa;

impl Transactions for Nhsa {
    fn route(&self, envelope: &Envelope) -> Result<Route, Refusal> {
        match envelope.infno.as_str() {
            "1101" => person_information(envelope),
            "2201" => hospital(envelope, "VISIT_TYPE_OUTPATIENT"),
            "2401" => hospital(envelope, "VISIT_TYPE_INPATIENT"),
            "2101" => pharmacy(envelope),
            other => Err(Refusal::new(
                "INFNO_NOT_SERVED",
                format!("infno {other} is not served here (served: {SERVED})"),
            )),
        }
    }
}

/// What the person presented (`mdtrt_cert_type`, `mdtrt_cert_no`,
/// `card_sn`).
enum Presented<'a> {
    Ecard(&'a str),
    Card { number: &'a str, code: &'a str },
}

fn presented(envelope: &Envelope) -> Result<Presented<'_>, Refusal> {
    match envelope.required("mdtrt_cert_type")? {
        "01" => Ok(Presented::Ecard(envelope.required("mdtrt_cert_no")?)),
        "03" => {
            let number = envelope.text("mdtrt_cert_no")?;
            let code = envelope.text("card_sn")?;
            match (number, code) {
                (Some(number), Some(code)) => Ok(Presented::Card { number, code }),
                (None, Some(_)) => Err(Refusal::field("input.data.mdtrt_cert_no", "is required")),
                (Some(_), None) => Err(Refusal::field(
                    "input.data.card_sn",
                    "is required with mdtrt_cert_type 03 (the card's 32-character identification code)",
                )),
                (None, None) => Err(Refusal::new(
                    "ENVELOPE_INVALID",
                    "input.data.mdtrt_cert_no: is required; input.data.card_sn: is required",
                )),
            }
        }
        "02" => Err(Refusal::new(
            "CERT_TYPE_NOT_ACCEPTED",
            "mdtrt_cert_type 02 (ID number) is not accepted: an ID number does not show that \
             the holder is present; present the social security card (03, with card_sn) or \
             the electronic card's QR code (01)",
        )),
        _ => Err(Refusal::field(
            "input.data.mdtrt_cert_type",
            "must be 01 (electronic card), 02 (ID number) or 03 (social security card)",
        )),
    }
}

/// 1101: eligibility, with what was presented echoed (the card number
/// masked) as `baseinfo`. Personal information (name, ID number, birth
/// date) is identity's and not answered to a hospital here.
fn person_information(envelope: &Envelope) -> Result<Route, Refusal> {
    let presented = presented(envelope)?;
    let (request, baseinfo) = match presented {
        Presented::Ecard(token) => (
            json!({ "ecardToken": token }),
            json!({ "mdtrt_cert_type": "01" }),
        ),
        Presented::Card { number, code } => (
            json!({ "socialSecurityCard": {
                "cardNumber": number,
                "cardIdentificationCode": code,
            }}),
            json!({
                "mdtrt_cert_type": "03",
                "card_no": pii::mask_middle(number, 2, 2),
            }),
        ),
    };
    Ok(Route {
        rpc: ELIGIBILITY,
        request,
        fields: FIELDS,
        output: Box::new(move |answer| Ok(json!({ "baseinfo": baseinfo, "eligibility": answer? }))),
    })
}

/// 2201 / 2401: the registration's first use of a card activates it; a
/// card already active is the ordinary registration (`first_use_activation`
/// false).
fn hospital(envelope: &Envelope, visit_type: &str) -> Result<Route, Refusal> {
    let mut request = json!({
        "requestId": envelope.msgid,
        "operatorId": envelope.opter,
        "visitType": visit_type,
    });
    with_card(&mut request, presented(envelope)?);
    Ok(Route {
        rpc: HOSPITAL,
        request,
        fields: FIELDS,
        output: Box::new(first_use),
    })
}

/// 2101: a pharmacy's pre-settlement, the first transaction of a sale
/// that presents the card; its first use activates the card, the old
/// medical insurance card (`legacy_card_no`) retired.
fn pharmacy(envelope: &Envelope) -> Result<Route, Refusal> {
    let mut request = json!({
        "requestId": envelope.msgid,
        "operatorId": envelope.opter,
        "legacyCardNumber": envelope.text("legacy_card_no")?.unwrap_or_default(),
    });
    with_card(&mut request, presented(envelope)?);
    Ok(Route {
        rpc: PHARMACY,
        request,
        fields: FIELDS,
        output: Box::new(first_use),
    })
}

fn with_card(request: &mut Value, presented: Presented<'_>) {
    match presented {
        Presented::Ecard(token) => request["ecardToken"] = json!(token),
        Presented::Card { number, code } => {
            request["cardNumber"] = json!(number);
            request["cardIdentificationCode"] = json!(code);
        }
    }
}

/// An activation's `output`: the activation, or for a card already active
/// its channel and time (as CARD_ALREADY_ACTIVE's metadata says).
fn first_use(answer: Result<Value, Refusal>) -> Result<Value, Refusal> {
    match answer {
        Ok(activation) => Ok(json!({ "first_use_activation": true, "activation": activation })),
        Err(refusal) if refusal.reason == "CARD_ALREADY_ACTIVE" => Ok(json!({
            "first_use_activation": false,
            "activation": {
                "channel": refusal.metadata.get("channel")
                    .and_then(Value::as_str)
                    .map(|channel| format!("CHANNEL_{channel}")),
                "activated_at": refusal.metadata.get("activated_at"),
            },
        })),
        Err(refusal) => Err(refusal),
    }
}

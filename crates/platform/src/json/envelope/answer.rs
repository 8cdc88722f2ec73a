//! The envelope's answer: the RPC's JSON answer or refusal read back, and
//! wrapped into the envelope (`infcode`, `output` or `err_msg`) under
//! HTTP 200.

use http_body_util::BodyExt;
use serde_json::{Value, json};
use tonic::body::Body;

use super::Refusal;

/// The RPC's JSON answer (keys as proto field names), or its refusal with
/// field violations named as in the envelope.
pub(super) async fn read_answer(
    answer: http::Response<Body>,
    fields: &[(&str, &str)],
) -> Result<Value, Refusal> {
    let ok = answer.status() == http::StatusCode::OK;
    let body = match answer.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Err(Refusal::new("ANSWER_CUT_OFF", "the answer was cut off")),
    };
    let json: Value = serde_json::from_slice(&body)
        .map_err(|_| Refusal::new("ANSWER_INVALID", "the answer was not JSON"))?;
    if ok {
        return Ok(snake_case(json));
    }
    let text = |key: &str| json.get(key).and_then(Value::as_str).unwrap_or_default();
    let mut message = text("message").to_owned();
    if let Some(violations) = json.get("fieldViolations").and_then(Value::as_array) {
        let named: Vec<String> = violations
            .iter()
            .map(|v| {
                let field = v.get("field").and_then(Value::as_str).unwrap_or_default();
                let field = fields
                    .iter()
                    .find(|(rpc, _)| *rpc == field)
                    .map_or(field, |(_, envelope)| envelope);
                let description = v
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                format!("{field}: {description}")
            })
            .collect();
        if !named.is_empty() {
            message = named.join("; ");
        }
    }
    Err(Refusal {
        reason: match text("reason") {
            "" => text("code").to_owned(),
            reason => reason.to_owned(),
        },
        message,
        metadata: json
            .get("metadata")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
        retry_delay: json
            .get("retryDelay")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// Proto3 JSON names (`cardNumber`) as proto field names (`card_number`),
/// the envelope's spelling.
fn snake_case(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| (crate::json::snake_case(&key), snake_case(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(snake_case).collect()),
        other => other,
    }
}

/// `yyyy-MM-dd HH:mm:ss`, China time, as the envelope writes times.
pub(super) fn now() -> String {
    chrono::Utc::now()
        .with_timezone(&socsec_core::time::china())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// The envelope answer, HTTP 200 either way.
pub(super) fn answer(received: &str, result: Result<Value, Refusal>) -> http::Response<Body> {
    let mut body = json!({
        "infcode": 0,
        "err_msg": null,
        "err_reason": null,
        "warn_msg": null,
        "output": null,
        "inf_refmsgid": uuid::Uuid::new_v4().simple().to_string(),
        "refmsg_time": received,
        "respond_time": now(),
    });
    match result {
        Ok(output) => body["output"] = output,
        Err(refusal) => {
            body["infcode"] = json!(-1);
            body["err_msg"] = json!(refusal.message);
            body["err_reason"] = json!(refusal.reason);
            if let Some(delay) = refusal.retry_delay {
                body["retry_delay"] = json!(delay);
            }
        }
    }
    crate::json::error::with_body(
        http::StatusCode::OK,
        "application/json",
        body.to_string().into_bytes(),
    )
}

//! What the CLI prints: a message as indented `field: value` lines, or as
//! canonical protobuf JSON with `--json`; errors with their gRPC code,
//! reason and bad fields, and an exit code per kind of failure.

use std::process::ExitCode;

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, SerializeOptions};
use serde_json::Value;
use tonic::{Code, Status};
use tonic_types::StatusExt;

use socsec_proto::contribution::v1 as contribution;

fn pool() -> DescriptorPool {
    DescriptorPool::decode(socsec_proto::FILE_DESCRIPTOR_SET).expect("compiled descriptors decode")
}

/// `message` (of protobuf type `full_name`) as proto3 JSON.
pub fn to_json(full_name: &str, message: &impl Message) -> Value {
    let descriptor = pool()
        .get_message_by_name(full_name)
        .unwrap_or_else(|| panic!("{full_name} is in the descriptor set"));
    let dynamic =
        DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice()).expect("re-decodes");
    let options = SerializeOptions::new().skip_default_fields(true);
    dynamic
        .serialize_with_options(serde_json::value::Serializer, &options)
        .expect("serialises")
}

/// How to print.
#[derive(Clone, Copy)]
pub struct Printer {
    pub json: bool,
}

impl Printer {
    pub fn message(&self, full_name: &str, message: &impl Message) {
        let value = to_json(full_name, message);
        if self.json {
            println!("{value}");
        } else {
            print_human(&value, 0);
        }
    }

    pub fn line(&self, text: &str) {
        if !self.json {
            println!("{text}");
        }
    }
}

fn print_human(value: &Value, indent: usize) {
    let pad = "  ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match value {
                    Value::Object(_) | Value::Array(_) => {
                        println!("{pad}{key}:");
                        print_human(value, indent + 1);
                    }
                    scalar => println!("{pad}{key}: {}", scalar_text(scalar)),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Object(_) | Value::Array(_) => {
                        println!("{pad}-");
                        print_human(item, indent + 1);
                    }
                    scalar => println!("{pad}- {}", scalar_text(scalar)),
                }
            }
        }
        scalar => println!("{pad}{}", scalar_text(scalar)),
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `fen` as yuan with two decimals: 160009 → "1600.09".
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", fen.abs() / 100, fen.abs() % 100)
}

/// A contribution statement as a table, with the totals of both accounts.
pub fn print_statement(statement: &contribution::Statement) {
    println!(
        "{:<8} {:<13} {:<20} {:<19} {:>11} {:>6} {:>10}  {:<4} payer",
        "month", "insurance", "part", "account", "base", "rate%", "amount", "paid"
    );
    for line in &statement.lines {
        let period = line
            .period
            .as_ref()
            .map(|p| format!("{}-{:02}", p.year, p.month))
            .unwrap_or_default();
        let insurance = contribution::InsuranceType::try_from(line.insurance_type)
            .map(|t| {
                t.as_str_name()
                    .trim_start_matches("INSURANCE_TYPE_")
                    .to_owned()
            })
            .unwrap_or_default();
        let account = contribution::Account::try_from(line.account)
            .map(|a| a.as_str_name().trim_start_matches("ACCOUNT_").to_owned())
            .unwrap_or_default();
        println!(
            "{period:<8} {insurance:<13} {:<20} {account:<19} {:>11} {:>6} {:>10}  {:<4} {}",
            line.part,
            yuan(line.base.map_or(0, |m| m.fen)),
            format!("{}.{:02}", line.rate_bp / 100, line.rate_bp % 100),
            yuan(line.amount.map_or(0, |m| m.fen)),
            if line.paid { "yes" } else { "no" },
            line.payer
        );
    }
    println!(
        "individual account total: {}   pooling fund total: {}",
        yuan(statement.individual_account_total.map_or(0, |m| m.fen)),
        yuan(statement.pooling_fund_total.map_or(0, |m| m.fen))
    );
}

/// A failed call as the operator is told of it.
#[derive(Debug, PartialEq, Eq)]
struct Shown {
    code: Code,
    reason: String,
    message: String,
    /// What to do about it, when there is something to say.
    hint: Option<&'static str>,
}

/// The reason given to a call cut off before any answer.
const CONNECTION_LOST: &str = "CONNECTION_LOST";

const RETRY_HINT: &str = "no answer came: the call may or may not have taken effect. \
     Send it again (another instance, or this one restarted, will answer); for a change, \
     send it with the same --request-id, which is answered without doing it twice";

/// Whether no service answered `status`: the connection broke under the
/// call (an instance killed or restarted mid-call). tonic reports that as
/// UNKNOWN "transport error", as an "h2 protocol error" (UNKNOWN or
/// INTERNAL), or as CANCELLED "operation was canceled" (this command never
/// cancels its calls); and without ErrorInfo, which every refusal of the
/// services carries.
fn cut_off(status: &Status) -> bool {
    if status.get_details_error_info().is_some() {
        return false;
    }
    let message = status.message();
    match status.code() {
        Code::Unknown => {
            message.starts_with("transport error") || message.starts_with("h2 protocol error")
        }
        Code::Internal => message.starts_with("h2 protocol error"),
        Code::Cancelled => message.starts_with("operation was canceled"),
        _ => false,
    }
}

/// What the operator is told of `status`: a call cut off becomes what it
/// is, UNAVAILABLE with a retry hint; anything else as the service said it.
fn shown(status: &Status) -> Shown {
    if cut_off(status) {
        return Shown {
            code: Code::Unavailable,
            reason: CONNECTION_LOST.to_owned(),
            message: format!(
                "the connection broke before an answer ({})",
                status.message()
            ),
            hint: Some(RETRY_HINT),
        };
    }
    Shown {
        code: status.code(),
        reason: status
            .get_details_error_info()
            .map(|i| i.reason)
            .unwrap_or_default(),
        message: status.message().to_owned(),
        hint: None,
    }
}

/// Prints a refused call and returns the exit code for its kind.
pub fn failure(status: &Status, json: bool) -> ExitCode {
    let Shown {
        code,
        reason,
        message,
        hint,
    } = shown(status);
    let fields: Vec<(String, String, String)> = status
        .get_details_bad_request()
        .map(|b| {
            b.field_violations
                .into_iter()
                .map(|v| (v.field, v.reason, v.description))
                .collect()
        })
        .unwrap_or_default();
    if json {
        let mut value = serde_json::json!({
            "code": format!("{code:?}"),
            "reason": reason,
            "message": message,
            "fields": fields.iter().map(|(f, r, d)| serde_json::json!({"field": f, "reason": r, "description": d})).collect::<Vec<_>>(),
        });
        if let Some(hint) = hint {
            value["hint"] = hint.into();
        }
        eprintln!("{value}");
    } else {
        eprintln!("error: {code:?} {reason}: {message}");
        for (field, reason, description) in &fields {
            eprintln!("  {field}: {description} ({reason})");
        }
        if let Some(hint) = hint {
            eprintln!("  {hint}");
        }
    }
    ExitCode::from(match code {
        Code::InvalidArgument => 3,
        Code::NotFound => 4,
        Code::Unauthenticated | Code::PermissionDenied => 5,
        Code::FailedPrecondition | Code::AlreadyExists | Code::Aborted => 6,
        Code::Unavailable | Code::DeadlineExceeded => 7,
        _ => 1,
    })
}

#[cfg(test)]
mod tests {
    use socsec_proto::common::v1::Money;

    use super::*;

    #[test]
    fn yuan_has_two_decimals() {
        assert_eq!(yuan(160_009), "1600.09");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(-1_250), "-12.50");
    }

    #[test]
    fn a_call_cut_off_by_a_killed_instance_is_shown_as_unavailable_with_a_retry_hint() {
        // As tonic reports a connection broken under a call (the figures in
        // docs/RELIABILITY.md name them).
        for cut in [
            Status::unknown("transport error"),
            Status::unknown("h2 protocol error: error reading a body from connection"),
            Status::internal(
                "h2 protocol error: stream error received: unexpected internal error encountered",
            ),
            Status::cancelled("operation was canceled: connection closed"),
        ] {
            let shown = shown(&cut);
            assert_eq!(shown.code, Code::Unavailable, "{cut:?}");
            assert_eq!(shown.reason, CONNECTION_LOST);
            assert!(shown.message.contains(cut.message()), "{shown:?}");
            assert_eq!(shown.hint, Some(RETRY_HINT));
        }
    }

    #[test]
    fn what_a_service_answered_is_shown_as_it_said_it() {
        let answered = Status::with_error_details(
            Code::Unknown,
            "transport error",
            tonic_types::ErrorDetails::with_error_info("UPSTREAM_FAILED", "socsec", []),
        );
        for status in [
            answered,
            Status::unavailable("tcp connect error"),
            Status::internal("internal error"),
            Status::cancelled("Timeout expired"),
        ] {
            let shown = shown(&status);
            assert_eq!(shown.code, status.code(), "{status:?}");
            assert_eq!(shown.message, status.message());
            assert_eq!(shown.hint, None);
        }
    }

    #[test]
    fn messages_become_proto_json() {
        let value = to_json("socsec.common.v1.Money", &Money { fen: 42 });
        assert_eq!(value, serde_json::json!({"fen": "42"}));
    }
}

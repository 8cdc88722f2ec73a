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

/// Prints a refused call and returns the exit code for its kind.
pub fn failure(status: &Status, json: bool) -> ExitCode {
    let reason = status
        .get_details_error_info()
        .map(|i| i.reason)
        .unwrap_or_default();
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
        let value = serde_json::json!({
            "code": format!("{:?}", status.code()),
            "reason": reason,
            "message": status.message(),
            "fields": fields.iter().map(|(f, r, d)| serde_json::json!({"field": f, "reason": r, "description": d})).collect::<Vec<_>>(),
        });
        eprintln!("{value}");
    } else {
        eprintln!("error: {:?} {reason}: {}", status.code(), status.message());
        for (field, reason, description) in &fields {
            eprintln!("  {field}: {description} ({reason})");
        }
    }
    ExitCode::from(match status.code() {
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
    fn messages_become_proto_json() {
        let value = to_json("socsec.common.v1.Money", &Money { fen: 42 });
        assert_eq!(value, serde_json::json!({"fen": "42"}));
    }
}

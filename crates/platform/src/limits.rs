//! How much a request may carry. Every string and every repeated field of
//! every request has a maximum, written down once per RPC (each service's
//! `api/parse/limits.rs`, [`AUDIT`] here), checked before any other work on
//! the request and rendered into the README's table.
//!
//! A request over a bound is refused `INVALID_ARGUMENT` with one
//! `BadRequest` field violation per field over — `FIELD_TOO_LONG` for a
//! string (counted in characters), `TOO_MANY_ITEMS` for a repeated field —
//! whose description states the limit. Nothing else of the request is looked
//! at, so a million entries cost one violation, not a million.
//! `INVALID_ARGUMENT` rather than `RESOURCE_EXHAUSTED`: the request itself is
//! wrong and a retry cannot succeed, and the field is reported the way every
//! other bad field is. (A whole message over `max_message_bytes` is
//! `RESOURCE_EXHAUSTED` / `MESSAGE_TOO_LARGE`: see [`crate::host`].)
//!
//! The bounds are sizes, not formats. A field with a format of its own (an
//! ID number is 18 characters) is bounded well above it, so a mistyped value
//! still gets the format's own reason; a field with no format (a reason, an
//! evidence reference) has its bound as its only length rule.

use std::{collections::HashMap, fmt};

use prost_types::{DescriptorProto, FileDescriptorSet, field_descriptor_proto};
use socsec_proto::audit::v1 as audit;
use tonic::Status;

use crate::error::FieldViolations;

/// Identifiers and codes with a format of their own: request ids, person
/// and other ids (UUIDs), ID numbers, card and bank card numbers, partner,
/// region and credit codes, phone numbers, partners' operator ids.
pub const CODE: usize = 64;
/// Names of persons and organisations.
pub const NAME: usize = 200;
/// Passwords (a password that can be set is 8 to 64 characters).
pub const PASSWORD: usize = 128;
/// Free text: reasons, references to evidence.
pub const TEXT: usize = 500;
/// Page tokens and event cursors, as this system issues them.
pub const TOKEN: usize = 256;

/// The maximum of one field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Max {
    /// A string of at most this many characters (not bytes).
    Chars(usize),
    /// A repeated field of at most this many entries.
    Items(usize),
}

impl fmt::Display for Max {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Chars(n) => write!(f, "{n} characters"),
            Self::Items(n) => write!(f, "{n} entries"),
        }
    }
}

enum Measure<M> {
    Chars(fn(&M) -> &str),
    Items(fn(&M) -> usize),
    /// A string inside each entry of a repeated field, checked by the
    /// entry's own parser so that one record over it is refused alone
    /// (imports); listed here for the documentation and the coverage check.
    EachEntry,
}

/// One field of request `M`: its proto path (`basic_info.name`), its
/// maximum, and how to read its size.
pub struct Bound<M> {
    field: &'static str,
    max: usize,
    measure: Measure<M>,
}

impl<M> Bound<M> {
    /// A string field of at most `max` characters.
    pub const fn chars(field: &'static str, max: usize, read: fn(&M) -> &str) -> Self {
        Self {
            field,
            max,
            measure: Measure::Chars(read),
        }
    }

    /// A repeated field of at most `max` entries.
    pub const fn items(field: &'static str, max: usize, count: fn(&M) -> usize) -> Self {
        Self {
            field,
            max,
            measure: Measure::Items(count),
        }
    }

    /// A string of at most `max` characters in each entry of a repeated
    /// field (`persons[].id_number`), checked per entry by the entry's
    /// parser, not here: an import refuses the one record, not the batch.
    pub const fn each_entry(field: &'static str, max: usize) -> Self {
        Self {
            field,
            max,
            measure: Measure::EachEntry,
        }
    }

    fn max(&self) -> Max {
        match self.measure {
            Measure::Chars(_) | Measure::EachEntry => Max::Chars(self.max),
            Measure::Items(_) => Max::Items(self.max),
        }
    }

    /// Records a violation if `request` is over this bound.
    fn check(&self, request: &M, violations: &mut FieldViolations) {
        match self.measure {
            Measure::Chars(read) => {
                if more_chars_than(read(request), self.max) {
                    violations.add(
                        self.field,
                        "FIELD_TOO_LONG",
                        format!("must be at most {} characters", self.max),
                    );
                }
            }
            Measure::Items(count) => {
                if count(request) > self.max {
                    violations.add(
                        self.field,
                        "TOO_MANY_ITEMS",
                        format!("must have at most {} entries", self.max),
                    );
                }
            }
            Measure::EachEntry => {}
        }
    }
}

/// Whether `value` has more than `max` characters, reading at most `max + 1`
/// of them (a string of `max` bytes or fewer is never read).
fn more_chars_than(value: &str, max: usize) -> bool {
    value.len() > max && value.chars().nth(max).is_some()
}

/// The bounds of one RPC's request.
pub struct Limits<M: 'static> {
    /// The RPC's name, as in the proto (`RegisterPerson`).
    pub rpc: &'static str,
    pub bounds: &'static [Bound<M>],
}

impl<M> Limits<M> {
    /// `Ok` if every bounded field of `request` is within its maximum;
    /// otherwise `INVALID_ARGUMENT` naming each field over, once, with its
    /// limit. Reads only the sizes of the bounded fields.
    pub fn check(&self, request: &M) -> Result<(), Status> {
        let mut violations = FieldViolations::new();
        for bound in self.bounds {
            bound.check(request, &mut violations);
        }
        if violations.is_empty() {
            Ok(())
        } else {
            Err(violations.into_status())
        }
    }
}

/// One RPC's limits as the documentation and the coverage check see them,
/// whatever its request type.
pub trait Documented: Sync {
    fn rpc(&self) -> &'static str;
    /// Each bounded field's path and maximum, in the table's order.
    fn fields(&self) -> Vec<(&'static str, Max)>;
}

impl<M> Documented for Limits<M> {
    fn rpc(&self) -> &'static str {
        self.rpc
    }

    fn fields(&self) -> Vec<(&'static str, Max)> {
        self.bounds.iter().map(|b| (b.field, b.max())).collect()
    }
}

/// `socsec.audit.v1.AuditService/ListAuditRecords`, served by every service.
pub static AUDIT: Limits<audit::ListAuditRecordsRequest> = Limits {
    rpc: "ListAuditRecords",
    bounds: &[
        Bound::chars("person_id", CODE, |r| &r.person_id),
        Bound::chars("page.page_token", TOKEN, |r| {
            r.page.as_ref().map_or("", |p| &p.page_token)
        }),
    ],
};

/// The platform's own RPCs, for the documentation.
pub static PLATFORM: &[&dyn Documented] = &[&AUDIT];

/// What `service` (`socsec.identity.v1.IdentityService`) in the compiled
/// descriptors and `tables` disagree on: an RPC without a table, a string or
/// repeated field of a request (or of a message inside it) without a bound,
/// a bound of the wrong kind, a bound naming no such field, a table naming
/// no such RPC. Empty when they match; each service tests this.
pub fn coverage_gaps(service: &str, tables: &[&dyn Documented]) -> Vec<String> {
    let set = <FileDescriptorSet as prost::Message>::decode(socsec_proto::FILE_DESCRIPTOR_SET)
        .expect("compiled descriptors decode");
    let mut messages = HashMap::new();
    for file in &set.file {
        for message in &file.message_type {
            index(&mut messages, &format!(".{}", file.package()), message);
        }
    }
    let (package, name) = service.rsplit_once('.').unwrap_or(("", service));
    let methods: Vec<_> = set
        .file
        .iter()
        .filter(|f| f.package() == package)
        .flat_map(|f| &f.service)
        .filter(|s| s.name() == name)
        .flat_map(|s| &s.method)
        .collect();
    let mut gaps = Vec::new();
    for method in &methods {
        let Some(table) = tables.iter().find(|t| t.rpc() == method.name()) else {
            gaps.push(format!("no limits for {}", method.name()));
            continue;
        };
        let mut wanted = Vec::new();
        if let Some(input) = messages.get(method.input_type()) {
            bounded_fields(&messages, input, "", 0, &mut wanted);
        }
        let given = table.fields();
        for (path, kind) in &wanted {
            match given.iter().find(|(field, _)| field == path) {
                None => gaps.push(format!("{}: no bound for {path}", method.name())),
                Some((_, max)) if std::mem::discriminant(max) != std::mem::discriminant(kind) => {
                    gaps.push(format!("{}: {path} is bounded as {max}", method.name()))
                }
                Some(_) => {}
            }
        }
        for (field, _) in &given {
            if !wanted.iter().any(|(path, _)| path == field) {
                gaps.push(format!(
                    "{}: bound for unknown field {field}",
                    method.name()
                ));
            }
        }
    }
    for table in tables {
        if !methods.iter().any(|m| m.name() == table.rpc()) {
            gaps.push(format!("limits for unknown RPC {}", table.rpc()));
        }
    }
    gaps
}

/// Every message by full name (`.socsec.common.v1.PageRequest`), nested ones too.
fn index<'a>(
    messages: &mut HashMap<String, &'a DescriptorProto>,
    scope: &str,
    message: &'a DescriptorProto,
) {
    let name = format!("{scope}.{}", message.name());
    for nested in &message.nested_type {
        index(messages, &name, nested);
    }
    messages.insert(name, message);
}

/// The paths of `message`'s string and repeated fields (and of the messages
/// it holds), each with the kind of bound it needs.
fn bounded_fields(
    messages: &HashMap<String, &DescriptorProto>,
    message: &DescriptorProto,
    prefix: &str,
    depth: usize,
    out: &mut Vec<(String, Max)>,
) {
    use field_descriptor_proto::{Label, Type};
    assert!(depth < 8, "request messages nest too deeply at {prefix}");
    for field in &message.field {
        let path = format!("{prefix}{}", field.name());
        if field.label() == Label::Repeated {
            out.push((path.clone(), Max::Items(0)));
            // A repeated message's strings are bounded per entry
            // (`persons[].id_number`, `Bound::each_entry`); a repeated
            // string's entries would need bounds of their own.
            assert!(
                !matches!(field.r#type(), Type::Bytes),
                "{path}: bounds for each entry of repeated bytes are not supported"
            );
            if field.r#type() == Type::String {
                out.push((format!("{path}[]"), Max::Chars(0)));
            } else if field.r#type() == Type::Message
                && let Some(inner) = messages.get(field.type_name())
            {
                bounded_fields(messages, inner, &format!("{path}[]."), depth + 1, out);
            }
        } else if matches!(field.r#type(), Type::String | Type::Bytes) {
            out.push((path, Max::Chars(0)));
        } else if field.r#type() == Type::Message
            && let Some(inner) = messages.get(field.type_name())
        {
            bounded_fields(messages, inner, &format!("{path}."), depth + 1, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use tonic::Code;
    use tonic_types::StatusExt;

    use super::*;

    struct Request {
        name: String,
        tags: Vec<i32>,
    }

    static LIMITS: Limits<Request> = Limits {
        rpc: "Test",
        bounds: &[
            Bound::chars("name", 4, |r| &r.name),
            Bound::items("tags", 2, |r| r.tags.len()),
        ],
    };

    fn violations(request: &Request) -> Vec<(String, String, String)> {
        let Err(status) = LIMITS.check(request) else {
            return Vec::new();
        };
        assert_eq!(status.code(), Code::InvalidArgument);
        status
            .get_details_bad_request()
            .unwrap()
            .field_violations
            .into_iter()
            .map(|v| (v.field, v.reason, v.description))
            .collect()
    }

    #[test]
    fn characters_are_counted_not_bytes() {
        let request = |name: &str| Request {
            name: name.into(),
            tags: vec![],
        };
        assert!(violations(&request("街街街街")).is_empty());
        assert!(violations(&request("abcd")).is_empty());
        assert_eq!(
            violations(&request("街街街街街")),
            [(
                "name".into(),
                "FIELD_TOO_LONG".into(),
                "must be at most 4 characters".into()
            )]
        );
    }

    #[test]
    fn each_field_over_is_reported_once_with_its_limit() {
        let request = Request {
            name: "x".repeat(100_000),
            tags: vec![0; 1_000_000],
        };
        assert_eq!(
            violations(&request),
            [
                (
                    "name".into(),
                    "FIELD_TOO_LONG".into(),
                    "must be at most 4 characters".into()
                ),
                (
                    "tags".into(),
                    "TOO_MANY_ITEMS".into(),
                    "must have at most 2 entries".into()
                ),
            ]
        );
    }

    #[test]
    fn the_audit_table_covers_its_request() {
        assert_eq!(
            coverage_gaps("socsec.audit.v1.AuditService", PLATFORM),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_missing_bound_is_a_gap() {
        static PARTIAL: Limits<audit::ListAuditRecordsRequest> = Limits {
            rpc: "ListAuditRecords",
            bounds: &[Bound::items("person_id", 1, |_| 0)],
        };
        assert_eq!(
            coverage_gaps("socsec.audit.v1.AuditService", &[&PARTIAL]),
            [
                "ListAuditRecords: person_id is bounded as 1 entries",
                "ListAuditRecords: no bound for page.page_token",
            ]
        );
    }
}

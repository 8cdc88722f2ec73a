//! The OpenAPI 3.1 document of the JSON interface, generated from the same
//! descriptors the transcoder uses: every RPC a `POST` path, every message a
//! schema in its proto3 JSON form (64-bit integers as decimal strings, enums
//! by name, `Timestamp` as RFC 3339, `Duration` as `"1.5s"`), errors as
//! [`super::error`] writes them. Checked in as `docs/openapi.json`;
//! `tests/tests/json.rs` fails when the two differ.

use std::collections::BTreeMap;

use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor, MethodDescriptor};
use serde_json::{Map, Value, json};

use super::{descriptors, error::CODE_NAMES};

/// The document, pretty-printed, ending in a newline.
pub fn document() -> String {
    let mut paths = Map::new();
    let mut schemas = BTreeMap::new();
    let mut services: Vec<_> = descriptors()
        .services()
        .filter(|s| s.full_name().starts_with("socsec."))
        .collect();
    services.sort_by(|a, b| a.full_name().cmp(b.full_name()));
    for service in &services {
        for method in service.methods() {
            if method.is_client_streaming() {
                continue;
            }
            collect(&method.input(), &mut schemas);
            collect(&method.output(), &mut schemas);
            paths.insert(
                format!("/{}/{}", service.full_name(), method.name()),
                json!({ "post": operation(&method) }),
            );
        }
    }
    let mut components = Map::new();
    for (name, schema) in schemas {
        components.insert(name, schema);
    }
    components.insert("Error".into(), error_schema());
    let document = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "socsec JSON interface",
            "version": "v1",
            "description": "Every RPC of the socsec services, called with POST and a proto3 JSON body \
                on the service's own port (HTTP/1.1 or HTTP/2, mutual TLS). A partner or operator \
                presents its client certificate; a person sends `authorization: Bearer <session token>`. \
                Server-streaming RPCs answer newline-delimited JSON (`application/x-ndjson`), \
                one message a line, an error as a last line `{\"error\": {…}}`. \
                Generated from the protobuf descriptors; see the README's integration guide."
        },
        "servers": [{ "url": "https://localhost:50051", "description": "a service's own port (identity 50051, card-issuance 50052, activation 50053, contribution 50054 under deploy/run.sh); each serves only its own service and AuditService" }],
        "security": [{ "mutualTLS": [] }, { "session": [] }],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "mutualTLS": { "type": "mutualTLS", "description": "a client certificate from the partner CA (partners) or the internal CA (operators, services)" },
                "session": { "type": "http", "scheme": "bearer", "description": "a person's session token (IdentityService/SignIn)" }
            }
        }
    });
    let mut text = serde_json::to_string_pretty(&document).expect("a JSON value serialises");
    text.push('\n');
    text
}

fn reference(message: &MessageDescriptor) -> Value {
    json!({ "$ref": format!("#/components/schemas/{}", message.full_name()) })
}

fn operation(method: &MethodDescriptor) -> Value {
    let service = method.parent_service();
    let (content_type, description) = if method.is_server_streaming() {
        (
            "application/x-ndjson",
            "a stream: one JSON message a line (this schema), an error as a last line {\"error\": Error}",
        )
    } else {
        ("application/json", "the answer")
    };
    json!({
        "operationId": format!("{}.{}", service.name(), method.name()),
        "tags": [service.full_name()],
        "requestBody": {
            "required": true,
            "content": { "application/json": { "schema": reference(&method.input()) } }
        },
        "responses": {
            "200": {
                "description": description,
                "content": { content_type: { "schema": reference(&method.output()) } }
            },
            "default": {
                "description": "a refusal: the gRPC code by name, with its HTTP status",
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
            }
        }
    })
}

/// `message`'s schema and those of every message it holds, by full name.
fn collect(message: &MessageDescriptor, schemas: &mut BTreeMap<String, Value>) {
    if well_known(message).is_some() || schemas.contains_key(message.full_name()) {
        return;
    }
    schemas.insert(message.full_name().to_owned(), Value::Null);
    let mut properties = Map::new();
    for field in message.fields() {
        properties.insert(field.json_name().to_owned(), field_schema(&field));
        let held = if field.is_map() {
            field
                .kind()
                .as_message()
                .map(|entry| entry.map_entry_value_field().kind())
        } else {
            Some(field.kind())
        };
        if let Some(Kind::Message(held)) = held {
            collect(&held, schemas);
        }
    }
    schemas.insert(
        message.full_name().to_owned(),
        json!({ "type": "object", "properties": properties, "additionalProperties": false }),
    );
}

fn field_schema(field: &FieldDescriptor) -> Value {
    if field.is_map() {
        let entry = field.kind();
        let entry = entry.as_message().expect("a map's kind is its entry");
        return json!({
            "type": "object",
            "additionalProperties": kind_schema(&entry.map_entry_value_field().kind())
        });
    }
    let schema = kind_schema(&field.kind());
    if field.is_list() {
        json!({ "type": "array", "items": schema })
    } else {
        schema
    }
}

fn kind_schema(kind: &Kind) -> Value {
    match kind {
        Kind::Double | Kind::Float => json!({ "type": "number" }),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            json!({ "type": "integer", "format": "int32" })
        }
        Kind::Uint32 | Kind::Fixed32 => {
            json!({ "type": "integer", "format": "int32", "minimum": 0, "maximum": 4294967295u64 })
        }
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
            json!({ "type": "string", "format": "int64", "pattern": "^-?[0-9]{1,19}$" })
        }
        Kind::Uint64 | Kind::Fixed64 => {
            json!({ "type": "string", "format": "uint64", "pattern": "^[0-9]{1,20}$" })
        }
        Kind::Bool => json!({ "type": "boolean" }),
        Kind::String => json!({ "type": "string" }),
        Kind::Bytes => json!({ "type": "string", "contentEncoding": "base64" }),
        Kind::Enum(e) => {
            let names: Vec<String> = e.values().map(|v| v.name().to_owned()).collect();
            json!({ "type": "string", "enum": names })
        }
        Kind::Message(m) => well_known(m).unwrap_or_else(|| reference(m)),
    }
}

/// The proto3 JSON form of the well-known types we use.
fn well_known(message: &MessageDescriptor) -> Option<Value> {
    Some(match message.full_name() {
        "google.protobuf.Timestamp" => json!({ "type": "string", "format": "date-time" }),
        "google.protobuf.Duration" => {
            json!({ "type": "string", "pattern": "^-?[0-9]{1,12}(\\.[0-9]{1,9})?s$" })
        }
        "google.protobuf.Empty" => json!({ "type": "object", "additionalProperties": false }),
        "google.protobuf.StringValue" => json!({ "type": "string" }),
        "google.protobuf.BoolValue" => json!({ "type": "boolean" }),
        "google.protobuf.Int32Value" | "google.protobuf.UInt32Value" => {
            json!({ "type": "integer" })
        }
        "google.protobuf.Int64Value" | "google.protobuf.UInt64Value" => {
            json!({ "type": "string", "pattern": "^-?[0-9]{1,20}$" })
        }
        name if name.starts_with("google.protobuf.") => json!({}),
        _ => return None,
    })
}

fn error_schema() -> Value {
    json!({
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": { "type": "string", "enum": CODE_NAMES },
            "message": { "type": "string" },
            "reason": { "type": "string", "description": "machine-readable, UPPER_SNAKE (google.rpc.ErrorInfo)" },
            "metadata": { "type": "object", "additionalProperties": { "type": "string" } },
            "fieldViolations": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "description"],
                    "properties": { "field": { "type": "string" }, "description": { "type": "string" } }
                }
            },
            "retryDelay": { "type": "string", "description": "when to retry (google.rpc.RetryInfo), e.g. \"1.500s\"; also in Retry-After" }
        }
    })
}

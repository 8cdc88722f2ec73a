//! Compiles `proto/` with protox (pure Rust, no system `protoc`) and generates
//! tonic clients and servers, plus the descriptor set used for reflection.

use std::path::PathBuf;

use protox::prost::Message;

const FILES: &[&str] = &[
    "socsec/common/v1/common.proto",
    "socsec/audit/v1/audit.proto",
    "socsec/identity/v1/identity.proto",
    "socsec/card/v1/card.proto",
    "socsec/activation/v1/activation.proto",
    "socsec/contribution/v1/contribution.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    println!("cargo:rerun-if-changed={}", root.display());

    let descriptors = protox::compile(FILES, [&root])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("socsec_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;

    // Messages that carry personal data (directly or through a message they
    // hold) get a Debug of their own that prints no field values.
    let personal = personal_messages(&descriptors);
    let mut impls = String::new();
    for full_name in &personal {
        let rust_path = rust_path(full_name);
        let short = full_name.rsplit('.').next().unwrap_or(full_name);
        impls.push_str(&format!(
            "impl ::core::fmt::Debug for crate::{rust_path} {{\n    \
             fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {{\n        \
             f.write_str(\"{short} {{ <personal data masked> }}\")\n    }}\n}}\n"
        ));
    }
    std::fs::write(out.join("masked_debug.rs"), impls)?;

    tonic_prost_build::configure()
        .skip_debug(personal.iter().map(String::as_str))
        .compile_fds(descriptors)?;
    Ok(())
}

/// Field names whose values are personal data or secrets.
const PERSONAL_FIELDS: &[&str] = &[
    "id_number",
    "name",
    "bank_card_number",
    "password",
    "token",
    "phone",
    "address",
    "birth_date",
    "legacy_card_number",
    "retired_legacy_card_number",
    // Card PINs (medical settlement).
    "pin",
    "current_pin",
    "new_pin",
];

/// Full names (`.socsec.identity.v1.Person`) of the messages that hold a
/// personal field, or a message that does, at any depth.
fn personal_messages(set: &prost_types::FileDescriptorSet) -> Vec<String> {
    use std::collections::BTreeMap;
    fn collect(
        prefix: &str,
        messages: &[prost_types::DescriptorProto],
        into: &mut BTreeMap<String, Vec<(String, String)>>,
    ) {
        for message in messages {
            let full = format!("{prefix}.{}", message.name());
            let fields = message
                .field
                .iter()
                .map(|f| (f.name().to_owned(), f.type_name().to_owned()))
                .collect();
            into.insert(full.clone(), fields);
            collect(&full, &message.nested_type, into);
        }
    }
    let mut messages = BTreeMap::new();
    for file in &set.file {
        collect(
            &format!(".{}", file.package()),
            &file.message_type,
            &mut messages,
        );
    }
    let mut personal: Vec<String> = Vec::new();
    loop {
        let before = personal.len();
        for (name, fields) in &messages {
            if personal.contains(name) {
                continue;
            }
            // An old medical insurance card's number is often the holder's
            // ID number.
            let legacy = name.contains("Legacy");
            if fields.iter().any(|(field, type_name)| {
                PERSONAL_FIELDS.contains(&field.as_str())
                    || (legacy && field == "card_number")
                    || personal.contains(type_name)
            }) {
                personal.push(name.clone());
            }
        }
        if personal.len() == before {
            personal.sort();
            return personal;
        }
    }
}

/// `.socsec.card.v1.CheckRequest.Inner` → `card::v1::check_request::Inner`.
fn rust_path(full_name: &str) -> String {
    let parts: Vec<&str> = full_name
        .trim_start_matches(".socsec.")
        .split('.')
        .collect();
    // package parts are lower case; the first capitalised part is the message.
    let first_message = parts
        .iter()
        .position(|p| p.starts_with(|c: char| c.is_ascii_uppercase()))
        .expect("a message name");
    let mut path: Vec<String> = parts[..first_message]
        .iter()
        .map(|p| p.to_string())
        .collect();
    for (i, part) in parts[first_message..].iter().enumerate() {
        if i + first_message + 1 < parts.len() {
            path.push(snake(part));
        } else {
            path.push(part.to_string());
        }
    }
    path.join("::")
}

fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

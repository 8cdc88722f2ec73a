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

    tonic_prost_build::configure().compile_fds(descriptors)?;
    Ok(())
}

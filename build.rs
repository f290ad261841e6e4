//! Compiles `proto/` into Rust with `protox` (pure Rust, no system `protoc`) and writes the
//! encoded descriptor set that server reflection serves. The set also holds
//! `google/rpc/{status,error_details}.proto` (see `proto/google/rpc/README.md`) so reflection
//! clients can decode error details; no Rust is generated for them (tonic-types has it).
use std::{env, fs, path::PathBuf};

const PROTO_ROOT: &str = "proto";
const PROTOS: &[&str] = &[
    "proto/dossier/v1/common.proto",
    "proto/dossier/v1/corpus.proto",
    "proto/dossier/v1/search.proto",
    "proto/dossier/v1/entity.proto",
    "proto/dossier/v1/claim.proto",
    "proto/google/rpc/status.proto",
    "proto/google/rpc/error_details.proto",
];

/// The package of the files that are in the descriptor set for reflection only.
const REFLECTION_ONLY_PACKAGE: &str = "google.rpc";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Neither tonic-prost-build nor prost-build emits rerun-if-changed.
    println!("cargo:rerun-if-changed={PROTO_ROOT}");

    let mut compiler = protox::Compiler::new([PROTO_ROOT])?;
    // Source info carries the comments to rustdoc and to `grpcurl describe`.
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(PROTOS)?;

    // compile_fds never writes a descriptor file itself, so reflection's copy is written here.
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(
        out_dir.join("dossier_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;

    let mut generated = compiler.file_descriptor_set();
    generated
        .file
        .retain(|f| f.package() != REFLECTION_ONLY_PACKAGE);
    tonic_prost_build::configure().compile_fds(generated)?;
    Ok(())
}

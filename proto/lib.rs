//! The Dossier API crate: the generated `dossier.v1` messages, clients and servers, and the
//! encoded descriptor set that server reflection serves. Nothing else lives here, so the
//! server, the client and the tests share one compiled copy of the contract.

pub mod v1 {
    //! Generated `dossier.v1` messages, clients and servers (see `proto/dossier/v1/`).
    #![allow(missing_docs, clippy::all, clippy::pedantic)]
    tonic::include_proto!("dossier.v1");
}

/// Encoded `FileDescriptorSet` of every `dossier.v1` file (with imports and comments), and
/// of `google/rpc/status.proto` and `google/rpc/error_details.proto` (the error details the
/// server sends), for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("dossier_descriptor");

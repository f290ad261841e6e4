//! Dossier's server: a gRPC service that turns a corpus of news articles into search,
//! entities and claims.
//!
//! Layout:
//! - [`analysis`]: pure text analysis (tokens, sentences, entities, claims) over `&str`.
//!
//! The engine modules know nothing of tonic or prost; the `rpc` layer converts messages and
//! maps errors.

pub mod analysis;
pub mod eval;
pub mod offsets;

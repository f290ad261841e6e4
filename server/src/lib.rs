//! Dossier's server: a gRPC service that turns a corpus of news articles into search,
//! entities and claims.
//!
//! Layout:
//! - [`analysis`]: pure text analysis (tokens, sentences, entities, claims) over `&str`.
//! - [`index`]: the full-text index: ranking, query syntaxes, filters, facets, highlights,
//!   snapshots for paging and streaming.
//! - [`eval`]: the evaluation commands behind `dossier-eval`.
//!
//! The engine modules know nothing of tonic or prost; the `rpc` layer converts messages and
//! maps errors.

pub mod analysis;
pub mod eval;
pub mod index;
pub mod offsets;

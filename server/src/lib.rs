//! Dossier's server: a gRPC service that turns a corpus of news articles into search,
//! entities and claims.
//!
//! Layout (engine modules first; none of them knows tonic or prost):
//! - [`corpus`]: documents, loading from files, cleaning of page furniture.
//! - [`analysis`]: pure text analysis (tokens, sentences, entities, claims) over `&str`.
//! - [`entities`]: the corpus's entity registry (cross-document resolution).
//! - [`index`]: the full-text index: ranking, query syntaxes, filters, facets, highlights,
//!   snapshots for paging and streaming.
//! - [`store`]: the corpus held in memory as an immutable snapshot swapped on every write
//!   (documents, index snapshot, entity registry and claim set under one generation), its
//!   query API ([`store::query`]: what the adapters ask), and optional persistence under
//!   `--data-dir`.
//! - [`offsets`]: byte offsets to UTF-16 / code point offsets.
//! - [`recent`]: the analyses of the last few raw texts, shared by AnalyzeEntities and
//!   ExtractClaims.
//! - [`eval`]: training and evaluation commands on the development data (`dossier-eval`).
//! - [`rpc`]: the gRPC adapters (one per service), the one error mapping, and [`rpc::serve`].
//! - [`config`], [`telemetry`], [`shutdown`]: what the binary needs to start and stop.
//! - [`metrics`]: Prometheus counters, histograms and corpus gauges on `--metrics-addr`.

pub mod analysis;
pub mod config;
pub mod corpus;
pub mod entities;
pub mod eval;
pub mod index;
pub mod metrics;
pub mod offsets;
pub mod recent;
pub mod rpc;
pub mod shutdown;
pub mod store;
pub mod telemetry;
mod varint;

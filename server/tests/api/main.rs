//! End-to-end tests: the real server (`dossier_server::rpc::serve`) on 127.0.0.1:0, called
//! through the generated clients, health and reflection, and stopped with a oneshot.

mod claims;
mod common;
mod corpus;
mod entities;
mod operations;
mod pg;
mod replication;
mod robustness;
mod search;
mod security;

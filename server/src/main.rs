//! `dossier-server`: parses the configuration, loads the corpus and serves gRPC.

fn main() {}

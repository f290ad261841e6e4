//! The server's configuration: one clap struct, every flag also read from a `DOSSIER_*`
//! environment variable.

use clap::{Parser, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// `dossier-server`'s flags.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "dossier-server",
    version,
    about = "Dossier: search, entities and claims over a news corpus, served over gRPC."
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "DOSSIER_ADDR", default_value = "127.0.0.1:50051")]
    pub addr: SocketAddr,

    /// Corpus files or folders to load at start-up (repeatable; `.txt`, `.md`, `.jsonl`,
    /// `.json`). Defaults to the project's `seeds/`.
    #[arg(long = "corpus", env = "DOSSIER_CORPUS", value_delimiter = ',')]
    pub corpus: Vec<PathBuf>,

    /// Keep ingested documents and deletions on disk here, so a restart loses nothing.
    #[arg(long, env = "DOSSIER_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// Log line format.
    #[arg(long, env = "DOSSIER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Largest request or response message, in bytes.
    #[arg(long, env = "DOSSIER_MAX_MESSAGE_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_message_bytes: usize,
}

impl Config {
    /// The corpus paths to load: the given ones, or `seeds/` (from the working directory, or
    /// from the source tree when the working directory has none).
    pub fn corpus_paths(&self) -> Vec<PathBuf> {
        if !self.corpus.is_empty() {
            return self.corpus.clone();
        }
        let local = PathBuf::from("seeds");
        if local.is_dir() {
            return vec![local];
        }
        vec![PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../seeds"
        ))]
    }
}

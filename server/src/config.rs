//! The server's configuration: one clap struct, every flag also read from a `DOSSIER_*`
//! environment variable, and its translation into [`ServeOptions`].

use crate::metrics::Metrics;
use crate::rpc::{self, auth::Tokens, ServeOptions, TlsOptions};
use clap::{Parser, ValueEnum};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

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

    /// Keep ingested documents and deletions on disk here, so a restart loses nothing
    /// (ignored with `--store`: the database is then the record).
    #[arg(long, env = "DOSSIER_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// PostgreSQL as the system of record (`postgres://user@host:port/db`): every replica
    /// loads the corpus from it, writes through it and follows its changes.
    #[arg(long, env = "DOSSIER_STORE")]
    pub store: Option<String>,

    /// The PostgreSQL password, read from this file (else the URL's own, if any).
    #[arg(long, env = "DOSSIER_STORE_PASSWORD_FILE", requires = "store")]
    pub store_password_file: Option<PathBuf>,

    /// Log line format.
    #[arg(long, env = "DOSSIER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Largest request or response message, in bytes (larger: RESOURCE_EXHAUSTED).
    #[arg(long, env = "DOSSIER_MAX_MESSAGE_BYTES", default_value_t = rpc::DEFAULT_MAX_MESSAGE_BYTES)]
    pub max_message_bytes: usize,

    /// Raw texts whose analyses are kept, so that AnalyzeEntities and ExtractClaims on the
    /// same text analyse it once (0: none kept).
    #[arg(long, env = "DOSSIER_ANALYSIS_CACHE_ENTRIES", default_value_t = crate::recent::DEFAULT_ENTRIES)]
    pub analysis_cache_entries: usize,

    /// Serve TLS with this certificate chain (PEM, leaf first); needs `--tls-key`.
    #[arg(long, env = "DOSSIER_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The private key of `--tls-cert` (PEM).
    #[arg(long, env = "DOSSIER_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Require client certificates issued by this CA (PEM): mutual TLS.
    #[arg(long, env = "DOSSIER_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,

    /// Require `authorization: Bearer <token>` on every dossier.v1 call, with one of the
    /// tokens in this file (one per line; `#` comments). Health and reflection stay open.
    #[arg(long, env = "DOSSIER_AUTH_TOKEN_FILE")]
    pub auth_token_file: Option<PathBuf>,

    /// The most calls one connection may have in progress (0: no limit).
    #[arg(
        long,
        env = "DOSSIER_MAX_CONCURRENT_REQUESTS_PER_CONNECTION",
        default_value_t = rpc::DEFAULT_MAX_CONCURRENT_REQUESTS_PER_CONNECTION
    )]
    pub max_concurrent_requests_per_connection: u32,

    /// Server-side deadline, in seconds, for a call's response (all of a unary call; a
    /// stream's messages are bounded by the client instead). 0: none.
    #[arg(long, env = "DOSSIER_REQUEST_TIMEOUT_SECS", default_value_t = rpc::DEFAULT_REQUEST_TIMEOUT_SECS)]
    pub request_timeout_secs: u64,

    /// Ping idle HTTP/2 connections this often, in seconds (0: never).
    #[arg(
        long,
        env = "DOSSIER_HTTP2_KEEPALIVE_INTERVAL_SECS",
        default_value_t = rpc::DEFAULT_HTTP2_KEEPALIVE_INTERVAL_SECS
    )]
    pub http2_keepalive_interval_secs: u64,

    /// Close a connection whose keepalive ping is unanswered this many seconds.
    #[arg(
        long,
        env = "DOSSIER_HTTP2_KEEPALIVE_TIMEOUT_SECS",
        default_value_t = rpc::DEFAULT_HTTP2_KEEPALIVE_TIMEOUT_SECS
    )]
    pub http2_keepalive_timeout_secs: u64,

    /// TCP keepalive on accepted connections, in seconds (0: the system's setting).
    #[arg(long, env = "DOSSIER_TCP_KEEPALIVE_SECS", default_value_t = rpc::DEFAULT_TCP_KEEPALIVE_SECS)]
    pub tcp_keepalive_secs: u64,

    /// Serve Prometheus metrics at http://HOST:PORT/metrics (off when unset).
    #[arg(long, env = "DOSSIER_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file named by a flag cannot be read.
    #[error("cannot read {flag} {path}: {source}")]
    Read {
        /// The flag naming the file.
        flag: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The token file holds no token (which would otherwise silently mean "no auth").
    #[error("--auth-token-file {0} holds no token")]
    NoToken(PathBuf),
}

fn read(flag: &'static str, path: &Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|source| ConfigError::Read {
        flag,
        path: path.to_path_buf(),
        source,
    })
}

/// Seconds to a duration, 0 meaning "none".
fn secs(s: u64) -> Option<Duration> {
    (s > 0).then(|| Duration::from_secs(s))
}

impl Config {
    /// The transport settings, with the TLS files and token file read; `metrics` is the
    /// registry the RPC layer records into (when `--metrics-addr` is set).
    pub fn serve_options(&self, metrics: Option<Metrics>) -> Result<ServeOptions, ConfigError> {
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(TlsOptions {
                cert_pem: read("--tls-cert", cert)?,
                key_pem: read("--tls-key", key)?,
                client_ca_pem: self
                    .tls_client_ca
                    .as_deref()
                    .map(|ca| read("--tls-client-ca", ca))
                    .transpose()?,
            }),
            _ => None,
        };
        let auth = match &self.auth_token_file {
            Some(path) => {
                let text = read("--auth-token-file", path)?;
                let tokens = Tokens::parse(&String::from_utf8_lossy(&text))
                    .ok_or_else(|| ConfigError::NoToken(path.clone()))?;
                Some(tokens)
            }
            None => None,
        };
        Ok(ServeOptions {
            max_message_bytes: self.max_message_bytes,
            tls,
            auth,
            max_concurrent_requests_per_connection: Some(
                self.max_concurrent_requests_per_connection,
            )
            .filter(|&n| n > 0),
            request_timeout: secs(self.request_timeout_secs),
            http2_keepalive_interval: secs(self.http2_keepalive_interval_secs),
            http2_keepalive_timeout: secs(self.http2_keepalive_timeout_secs),
            tcp_keepalive: secs(self.tcp_keepalive_secs),
            metrics,
            analysis_cache_entries: self.analysis_cache_entries,
        })
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        Config::try_parse_from(std::iter::once("dossier-server").chain(args.iter().copied()))
    }

    /// A file under the system's temporary folder, unique to this process and `name`.
    fn temp_file(name: &str, content: &str) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("dossier-config-{}-{name}", std::process::id()));
        std::fs::write(&path, content).unwrap();
        path
    }

    #[test]
    fn defaults_match_serve_options_default() {
        let options = parse(&[]).unwrap().serve_options(None).unwrap();
        let default = ServeOptions::default();
        assert_eq!(options.max_message_bytes, default.max_message_bytes);
        assert_eq!(options.request_timeout, default.request_timeout);
        assert_eq!(
            options.max_concurrent_requests_per_connection,
            default.max_concurrent_requests_per_connection
        );
        assert_eq!(
            options.http2_keepalive_interval,
            default.http2_keepalive_interval
        );
        assert_eq!(options.tcp_keepalive, default.tcp_keepalive);
        assert!(options.tls.is_none() && options.auth.is_none());
    }

    #[test]
    fn a_password_file_needs_a_store() {
        assert!(parse(&["--store-password-file", "p"]).is_err());
        let config = parse(&["--store", "postgres://u@localhost:5433/d"]).unwrap();
        assert_eq!(
            config.store.as_deref(),
            Some("postgres://u@localhost:5433/d")
        );
    }

    #[test]
    fn zero_turns_a_limit_off() {
        let config = parse(&[
            "--request-timeout-secs",
            "0",
            "--max-concurrent-requests-per-connection",
            "0",
        ])
        .unwrap();
        let options = config.serve_options(None).unwrap();
        assert_eq!(options.request_timeout, None);
        assert_eq!(options.max_concurrent_requests_per_connection, None);
    }

    #[test]
    fn tls_files_come_in_pairs_and_a_client_ca_needs_them() {
        assert!(parse(&["--tls-cert", "c.pem"]).is_err());
        assert!(parse(&["--tls-key", "k.pem"]).is_err());
        assert!(parse(&["--tls-client-ca", "ca.pem"]).is_err());
        assert!(parse(&["--tls-cert", "c.pem", "--tls-key", "k.pem"]).is_ok());
    }

    #[test]
    fn a_token_file_without_tokens_is_refused_not_ignored() {
        let empty = temp_file("empty-tokens", "# no token yet\n\n");
        let config = parse(&["--auth-token-file", empty.to_str().unwrap()]).unwrap();
        assert!(matches!(
            config.serve_options(None),
            Err(ConfigError::NoToken(_))
        ));
        let missing = parse(&["--auth-token-file", "/nonexistent/tokens"]).unwrap();
        assert!(matches!(
            missing.serve_options(None),
            Err(ConfigError::Read { .. })
        ));
        std::fs::remove_file(empty).unwrap();
    }
}

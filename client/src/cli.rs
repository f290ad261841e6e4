//! The command line: one clap derive tree, one subcommand per RPC (or RPC family).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// `dossier`: call every Dossier RPC from the shell.
#[derive(Debug, Parser)]
#[command(
    name = "dossier",
    version,
    about = "Command-line client for the Dossier gRPC service."
)]
pub(crate) struct Cli {
    /// Server address (host:port or http://host:port).
    #[arg(
        long,
        global = true,
        env = "DOSSIER_ADDR",
        default_value = "127.0.0.1:50051"
    )]
    pub addr: String,
    /// Print responses as JSON (the proto3 JSON mapping, as grpcurl prints it).
    #[arg(long, global = true)]
    pub json: bool,
    /// Seconds to wait for each call.
    #[arg(long, global = true, default_value_t = 30)]
    pub timeout: u64,
    /// Verify the server's TLS certificate against this CA (PEM); implies TLS. Without it,
    /// an https:// address is verified against the system's roots.
    #[arg(long, global = true, env = "DOSSIER_TLS_CA")]
    pub tls_ca: Option<PathBuf>,
    /// Client certificate (PEM) for servers that require mutual TLS; needs `--tls-key`.
    #[arg(long, global = true, env = "DOSSIER_CLIENT_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of `--tls-cert` (PEM).
    #[arg(long, global = true, env = "DOSSIER_CLIENT_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The name to expect in the server's certificate, when it differs from the address's
    /// host (e.g. connecting to 127.0.0.1 with a certificate for "dossier").
    #[arg(long, global = true, env = "DOSSIER_TLS_DOMAIN")]
    pub tls_domain: Option<String>,
    /// Bearer token sent on every call (prefer the environment variable: arguments show in
    /// the process list).
    #[arg(long, global = true, env = "DOSSIER_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Offset units.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Encoding {
    /// UTF-8 bytes.
    Utf8,
    /// UTF-16 code units.
    Utf16,
    /// Code points.
    Utf32,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Checks grpc.health.v1 (exit 0 only when SERVING).
    Health {
        /// Service name to check; empty for the whole server.
        #[arg(long, default_value = "")]
        service: String,
        /// Keep retrying for this many seconds until SERVING.
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
    /// Corpus-wide counts.
    Stats,
    /// Documents: list, get, delete.
    #[command(subcommand)]
    Docs(DocsCommand),
    /// Ingests files (.txt/.md: first line title, rest text; .jsonl/.json records).
    Ingest {
        /// Files to ingest.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Source to set on documents that have none.
        #[arg(long, default_value = "")]
        source: String,
    },
    /// Ranked search.
    Search(SearchArgs),
    /// Documents like a given one.
    MoreLikeThis {
        /// The document id.
        id: String,
        /// Hits to return.
        #[arg(long, default_value_t = 10)]
        page_size: i32,
    },
    /// Entities: analyse text, list the registry, get one, mentions, related.
    #[command(subcommand)]
    Entities(EntitiesCommand),
    /// Claims: extract from text, list, get.
    #[command(subcommand)]
    Claims(ClaimsCommand),
    /// Load generator: QPS and latency percentiles of one RPC or a mix (`--vs` for a ratio).
    Bench(crate::bench::BenchArgs),
    /// Disputes between sources.
    Disputes {
        /// Only disputes about this entity id.
        #[arg(long, default_value = "")]
        about: String,
        /// Disputes per page.
        #[arg(long, default_value_t = 0)]
        page_size: i32,
    },
}

/// `docs` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum DocsCommand {
    /// Lists documents a page at a time (`--all` follows every page).
    List {
        /// Documents per page.
        #[arg(long, default_value_t = 0)]
        page_size: i32,
        /// Token of the page to fetch.
        #[arg(long, default_value = "")]
        page_token: String,
        /// Only this source.
        #[arg(long, default_value = "")]
        source: String,
        /// Follow next_page_token to the end.
        #[arg(long)]
        all: bool,
    },
    /// Shows one document with its text.
    Get {
        /// The document id.
        id: String,
    },
    /// Deletes one document.
    Delete {
        /// The document id.
        id: String,
    },
}

/// `search` arguments.
#[derive(Debug, Args)]
pub(crate) struct SearchArgs {
    /// The query.
    pub query: String,
    /// Read the query as plain text (never a syntax error).
    #[arg(long)]
    pub plain: bool,
    /// Hits per page.
    #[arg(long, default_value_t = 0)]
    pub page_size: i32,
    /// Token of the page to fetch.
    #[arg(long, default_value = "")]
    pub page_token: String,
    /// newest, oldest or relevance.
    #[arg(long, default_value = "relevance")]
    pub order: String,
    /// Facets to count (source, month, entity, entity_type).
    #[arg(long)]
    pub facet: Vec<String>,
    /// Only these sources.
    #[arg(long)]
    pub source: Vec<String>,
    /// Only documents mentioning these entity ids.
    #[arg(long)]
    pub entity: Vec<String>,
    /// Offset unit.
    #[arg(long, value_enum, default_value = "utf8")]
    pub encoding: Encoding,
    /// Stream every hit (StreamSearch) instead of one page.
    #[arg(long)]
    pub stream: bool,
    /// Count every match exactly (by default `total_hits` is exact up to 1,000 matches and
    /// may be a lower bound beyond, shown as "1000+").
    #[arg(long)]
    pub exact_total_hits: bool,
}

/// `entities` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum EntitiesCommand {
    /// Entities of a text or stored document.
    Analyze(SourceArgs),
    /// The corpus's entities.
    List {
        /// PERSON, ORGANIZATION, LOCATION…
        #[arg(long, default_value = "")]
        r#type: String,
        /// Name or alias prefix.
        #[arg(long, default_value = "")]
        query: String,
        /// Only entities in this document.
        #[arg(long, default_value = "")]
        doc: String,
        /// Only entities in at least this many documents.
        #[arg(long, default_value_t = 0)]
        min_documents: i32,
        /// Entities per page.
        #[arg(long, default_value_t = 0)]
        page_size: i32,
        /// Token of the page to fetch.
        #[arg(long, default_value = "")]
        page_token: String,
        /// Stream every match (StreamEntities).
        #[arg(long)]
        stream: bool,
    },
    /// One entity with its mentions.
    Get {
        /// The entity id.
        id: String,
    },
    /// Every mention of an entity with its sentence.
    Mentions {
        /// The entity id.
        id: String,
        /// Only in this document.
        #[arg(long, default_value = "")]
        doc: String,
    },
    /// Entities co-occurring with one.
    Related {
        /// The entity id.
        id: String,
        /// sentence or document.
        #[arg(long, default_value = "sentence")]
        window: String,
        /// How many.
        #[arg(long, default_value_t = 0)]
        page_size: i32,
    },
}

/// `claims` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum ClaimsCommand {
    /// Claims of a text or stored document.
    Extract(SourceArgs),
    /// The corpus's claims.
    List {
        /// Only in this document.
        #[arg(long, default_value = "")]
        doc: String,
        /// Only by this speaker entity id.
        #[arg(long, default_value = "")]
        speaker: String,
        /// Only mentioning this entity id.
        #[arg(long, default_value = "")]
        about: String,
        /// DIRECT_QUOTE, INDIRECT_QUOTE or ASSERTION.
        #[arg(long, default_value = "")]
        kind: String,
        /// Words the claim must contain.
        #[arg(long, default_value = "")]
        query: String,
        /// Claims per page.
        #[arg(long, default_value_t = 0)]
        page_size: i32,
        /// Token of the page to fetch.
        #[arg(long, default_value = "")]
        page_token: String,
        /// Stream every match (StreamClaims).
        #[arg(long)]
        stream: bool,
    },
    /// One claim.
    Get {
        /// The claim id.
        id: String,
    },
}

/// Where to take text from.
#[derive(Debug, Args)]
pub(crate) struct SourceArgs {
    /// Raw text to analyse.
    #[arg(long, conflicts_with = "doc")]
    pub text: Option<String>,
    /// A stored document's id.
    #[arg(long)]
    pub doc: Option<String>,
    /// Offset unit.
    #[arg(long, value_enum, default_value = "utf8")]
    pub encoding: Encoding,
}

//! Evaluation and training commands behind `dossier-eval`: the logic lives here so it is
//! testable and the binary stays a thin dispatcher. Each task (NER, quotes and check-worthiness;
//! IR later) gets its own submodule over the development data in
//! `../shared/data`.

pub mod bench;
pub mod claims;
pub mod ir;
pub mod ner;
pub mod ner_cv;
pub mod search_bench;

use crate::analysis::ner::NerError;
use std::path::PathBuf;

use crate::corpus::Document;
use crate::index::IndexDoc;

/// What the search index takes of a loaded document (the evaluations index without analysis).
fn index_doc(d: &Document) -> IndexDoc {
    IndexDoc {
        id: d.id.clone(),
        title: d.title.clone(),
        text: d.text.clone(),
        source: d.source.clone(),
        published_at: d.published_at.map(|t| t.timestamp()),
        sentences: Vec::new(),
    }
}

/// Errors of the evaluation commands.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A data or output file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A JSON line did not parse.
    #[error("bad JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A model or cluster file did not read.
    #[error(transparent)]
    Model(#[from] NerError),
    /// A corpus did not load.
    #[error(transparent)]
    Corpus(#[from] crate::corpus::CorpusError),
    /// The search index failed.
    #[error(transparent)]
    Index(#[from] crate::index::IndexError),
}

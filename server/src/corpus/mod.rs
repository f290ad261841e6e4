//! The corpus: documents, how they are loaded from files and cleaned of page furniture, and
//! the rules every document must satisfy before the store accepts it.

pub mod byline;
pub mod clean;
pub mod dates;
pub mod load;

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// The most bytes a document id may have.
pub const MAX_ID_BYTES: usize = 256;

/// A document of the corpus, as the engine keeps it.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Document {
    /// Stable id: file stem, record id, or generated from the text.
    pub id: String,
    /// Headline.
    pub title: String,
    /// Cleaned body text; every offset the API returns points into it.
    pub text: String,
    /// Publication or site; used by filters and facets.
    pub source: String,
    /// Where the page came from.
    pub url: String,
    /// Publication time, when known.
    pub published_at: Option<DateTime<Utc>>,
    /// Bylines.
    pub authors: Vec<String>,
    /// Caller-defined labels.
    pub labels: BTreeMap<String, String>,
    /// Characters of page furniture the loader removed (0 for ingested documents).
    pub removed_chars: usize,
}

/// Why a document or a corpus path was rejected.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// A document field breaks a rule; `field` names it the way the API does ("document.text").
    #[error("{field}: {reason}")]
    InvalidField {
        /// The offending field path.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A corpus file or folder could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A JSON corpus file is malformed.
    #[error("{path}:{line}: {message}")]
    Json {
        /// The file.
        path: String,
        /// 1-based line (or record) number.
        line: usize,
        /// The parser's message.
        message: String,
    },
}

/// True when `id` is a valid document id: 1..=256 bytes of letters, digits and `._:-`.
///
/// # Examples
///
/// ```
/// use dossier_server::corpus::is_valid_id;
/// assert!(is_valid_id("002_92e74acb2171691d"));
/// assert!(!is_valid_id("a b"));
/// assert!(!is_valid_id(""));
/// ```
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_BYTES
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// Turns any string (a file stem, a numeric record id) into a valid id, replacing other
/// characters with `_` and truncating at a character boundary.
pub fn sanitize_id(raw: &str) -> String {
    let mut out: String = raw
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    out.truncate(MAX_ID_BYTES);
    out
}

/// A stable id derived from the text (FNV-1a, 64 bits), for documents ingested without one.
pub fn id_from_text(text: &str) -> String {
    let mut h = fnv::FnvHasher::default();
    std::hash::Hasher::write(&mut h, text.as_bytes());
    format!("doc-{:016x}", std::hash::Hasher::finish(&h))
}

impl Document {
    /// Checks the rules every stored document satisfies; on success fills a missing id from
    /// the text.
    pub fn validate(&mut self) -> Result<(), CorpusError> {
        if self.text.trim().is_empty() {
            return Err(CorpusError::InvalidField {
                field: "document.text",
                reason: "must not be empty".into(),
            });
        }
        if self.id.is_empty() {
            self.id = id_from_text(&self.text);
        }
        if !is_valid_id(&self.id) {
            return Err(CorpusError::InvalidField {
                field: "document.id",
                reason: format!(
                    "{:?} must be 1 to {MAX_ID_BYTES} bytes of letters, digits and ._:-",
                    self.id
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_text_are_fnv_1a_64() {
        // Proves derived ids are FNV-1a 64 of the text's bytes (the published test vectors),
        // so ids of documents ingested before keep their values.
        assert_eq!(id_from_text(""), "doc-cbf29ce484222325");
        assert_eq!(id_from_text("a"), "doc-af63dc4c8601ec8c");
        assert_eq!(id_from_text("foobar"), "doc-85944171f73967e8");
    }

    #[test]
    fn empty_text_is_rejected_naming_the_field() {
        let mut doc = Document {
            id: "a".into(),
            text: "  \n".into(),
            ..Default::default()
        };
        let err = doc.validate().unwrap_err();
        assert!(matches!(
            err,
            CorpusError::InvalidField {
                field: "document.text",
                ..
            }
        ));
    }

    #[test]
    fn missing_id_is_generated_stably_from_text() {
        let mut a = Document {
            text: "Some text.".into(),
            ..Default::default()
        };
        let mut b = a.clone();
        a.validate().unwrap();
        b.validate().unwrap();
        assert_eq!(a.id, b.id);
        assert!(is_valid_id(&a.id));
    }

    #[test]
    fn sanitized_ids_are_valid() {
        assert_eq!(sanitize_id("news/a b"), "news_a_b");
        assert!(is_valid_id(&sanitize_id(&"é".repeat(300))));
    }
}

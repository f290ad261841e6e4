//! The index schema: which document parts are searchable, filterable, sortable and stored.

use chrono::{DateTime, Datelike};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, FAST, STORED,
    STRING,
};
use tantivy::TantivyDocument;

use super::analyzer::ANALYZER_NAME;
use super::rank::TextFields;
use super::IndexDoc;

/// Field names, shared with fast-field lookups by name.
pub(crate) const ID: &str = "id";
pub(crate) const SOURCE: &str = "source";
pub(crate) const PUBLISHED_AT: &str = "published_at";
pub(crate) const MONTH: &str = "month";

/// Handles of every field.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    /// The document id: exact-match term, stored, fast (for id lists and filters).
    pub id: Field,
    /// The title, analysed, with positions for phrases and proximity.
    pub title: Field,
    /// The body text, analysed, with positions.
    pub text: Field,
    /// The source (publisher, feed): exact, fast, for filters and the "source" facet.
    pub source: Field,
    /// Publication time in seconds since the epoch: fast for sorting and ranges.
    pub published_at: Field,
    /// Publication month "YYYY-MM" (UTC): fast, for the "month" facet.
    pub month: Field,
}

impl Fields {
    /// Builds the schema and returns it with the field handles.
    pub fn schema() -> (Schema, Self) {
        let mut builder = Schema::builder();
        let analysed = TextOptions::default()
            .set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(ANALYZER_NAME)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            )
            .set_stored();
        let fields = Self {
            id: builder.add_text_field(ID, STRING | STORED | FAST),
            title: builder.add_text_field("title", analysed.clone()),
            text: builder.add_text_field("text", analysed),
            source: builder.add_text_field(SOURCE, STRING | STORED | FAST),
            published_at: builder.add_i64_field(
                PUBLISHED_AT,
                NumericOptions::default()
                    .set_indexed()
                    .set_fast()
                    .set_stored(),
            ),
            month: builder.add_text_field(MONTH, STRING | FAST),
        };
        (builder.build(), fields)
    }

    /// Finds the handles in an existing schema (an index opened from disk).
    pub fn from_schema(schema: &Schema) -> tantivy::Result<Self> {
        let get = |name: &str| schema.get_field(name);
        Ok(Self {
            id: get(ID)?,
            title: get("title")?,
            text: get("text")?,
            source: get(SOURCE)?,
            published_at: get(PUBLISHED_AT)?,
            month: get(MONTH)?,
        })
    }

    /// The two ranked fields.
    pub fn text_fields(&self) -> TextFields {
        TextFields {
            title: self.title,
            text: self.text,
        }
    }

    /// The tantivy document for `doc`.
    pub fn document(&self, doc: &IndexDoc) -> TantivyDocument {
        let mut out = TantivyDocument::default();
        out.add_text(self.id, &doc.id);
        out.add_text(self.title, &doc.title);
        out.add_text(self.text, &doc.text);
        out.add_text(self.source, &doc.source);
        if let Some(t) = doc.published_at {
            out.add_i64(self.published_at, t);
            if let Some(month) = month_of(t) {
                out.add_text(self.month, month);
            }
        }
        out
    }
}

/// The UTC month "YYYY-MM" of a timestamp in seconds, if it is representable.
///
/// # Examples
///
/// ```
/// use dossier_server::index::month_of;
/// assert_eq!(month_of(1_739_836_800).as_deref(), Some("2025-02"));
/// ```
pub fn month_of(seconds: i64) -> Option<String> {
    let t = DateTime::from_timestamp(seconds, 0)?;
    Some(format!("{:04}-{:02}", t.year(), t.month()))
}

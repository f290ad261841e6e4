//! The index schema: which document parts are searchable, filterable, sortable and stored.

use std::ops::Range;

use chrono::{DateTime, Datelike};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, FAST, STORED,
    STRING,
};
use tantivy::TantivyDocument;

use super::analyzer::ANALYZER_NAME;
use super::rank::TextFields;
use super::IndexDoc;
use crate::analysis::sentences::split_sentences;
use crate::analysis::tokenize::tokenize;

/// Field names, shared with fast-field lookups by name.
pub(crate) const ID: &str = "id";
pub(crate) const SOURCE: &str = "source";
pub(crate) const PUBLISHED_AT: &str = "published_at";
pub(crate) const MONTH: &str = "month";
pub(crate) const SENTENCES: &str = "sentences";

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
    /// The text's sentence ranges, stored (varint-encoded) so highlighting needs no
    /// sentence splitting at query time.
    pub sentences: Field,
    /// Whether title, text and sentences are stored (else they come from a
    /// [`DocTexts`](super::DocTexts) source).
    pub store_text: bool,
}

impl Fields {
    /// Builds the schema and returns it with the field handles; `store_text` keeps titles,
    /// texts and sentences in the index's document store.
    pub(super) fn schema(store_text: bool) -> (Schema, Self) {
        let mut builder = Schema::builder();
        let mut analysed = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER_NAME)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        if store_text {
            analysed = analysed.set_stored();
        }
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
            sentences: builder.add_bytes_field(
                SENTENCES,
                if store_text {
                    STORED.into()
                } else {
                    tantivy::schema::BytesOptions::default()
                },
            ),
            store_text,
        };
        (builder.build(), fields)
    }

    /// The two ranked fields.
    pub(super) fn text_fields(&self) -> TextFields {
        TextFields {
            title: self.title,
            text: self.text,
        }
    }

    /// The tantivy document for `doc`.
    pub(super) fn document(&self, doc: &IndexDoc) -> TantivyDocument {
        let mut out = TantivyDocument::default();
        out.add_text(self.id, &doc.id);
        out.add_text(self.title, &doc.title);
        out.add_text(self.text, &doc.text);
        out.add_text(self.source, &doc.source);
        if self.store_text {
            self.add_sentences(&mut out, doc);
        }
        if let Some(t) = doc.published_at {
            out.add_i64(self.published_at, t);
            if let Some(month) = month_of(t) {
                out.add_text(self.month, month);
            }
        }
        out
    }

    /// Stores the sentence ranges of `doc` (split here when the caller has none).
    fn add_sentences(&self, out: &mut TantivyDocument, doc: &IndexDoc) {
        let computed;
        let sentences = if doc.sentences.is_empty() {
            computed = split_sentences(&doc.text, &tokenize(&doc.text));
            &computed
        } else {
            &doc.sentences
        };
        out.add_bytes(self.sentences, &encode_ranges(sentences));
    }
}

/// Encodes ascending, non-overlapping ranges as varints: gap from the previous end, length.
pub(crate) fn encode_ranges(ranges: &[Range<usize>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ranges.len() * 3);
    let mut previous = 0usize;
    for r in ranges {
        crate::varint::push(&mut out, r.start.saturating_sub(previous) as u64);
        crate::varint::push(&mut out, r.end.saturating_sub(r.start) as u64);
        previous = r.end;
    }
    out
}

/// Decodes [`encode_ranges`]; stops at a truncated tail.
pub(crate) fn decode_ranges(bytes: &[u8]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut previous = 0usize;
    while let (Some(gap), Some(len)) = (
        crate::varint::read(bytes, &mut at),
        crate::varint::read(bytes, &mut at),
    ) {
        let start = previous + gap as usize;
        out.push(start..start + len as usize);
        previous = start + len as usize;
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_round_trip_through_varints() {
        // Proves stored sentence ranges decode to exactly what was encoded.
        let ranges = vec![0..5, 6..300, 300..301, 100_000..100_200];
        let bytes = encode_ranges(&ranges);
        assert_eq!(decode_ranges(&bytes), ranges);
        assert!(decode_ranges(&[]).is_empty());
    }
}

//! Conversions between engine types and `dossier.v1` messages.

use crate::corpus::Document;
use crate::offsets::{Encoding, OffsetMap};
use crate::store::StoredDoc;
use chrono::{DateTime, TimeZone, Utc};
use dossier_api::v1;
use std::ops::Range;

/// The engine encoding for a request's `EncodingType` (unknown values read as UTF-8).
pub fn encoding(value: i32) -> Encoding {
    match v1::EncodingType::try_from(value) {
        Ok(v1::EncodingType::Utf16) => Encoding::Utf16,
        Ok(v1::EncodingType::Utf32) => Encoding::Utf32,
        _ => Encoding::Utf8,
    }
}

/// Whether a request's `AnalysisView` asks for everything (FULL) rather than the default
/// BASIC (no sentence contexts); an unknown value is `INVALID_ARGUMENT` on `view`.
pub fn full_view(value: i32) -> Result<bool, tonic::Status> {
    match v1::AnalysisView::try_from(value) {
        Ok(v1::AnalysisView::Unspecified | v1::AnalysisView::Basic) => Ok(false),
        Ok(v1::AnalysisView::Full) => Ok(true),
        Err(_) => Err(super::status::invalid_argument(
            "view",
            "unknown view (BASIC or FULL)",
        )),
    }
}

/// Bytes of context kept on each side of a mention or claim in its `sentence` span.
/// Sentences are usually far shorter; but text without sentence punctuation is one
/// "sentence" however long it is, and copying it into every mention made a response grow
/// with mentions × text length (a 100 KB request asked for a 212 MB response).
pub const CONTEXT_BYTES: usize = 400;

/// The part of `sentence` to send as the context of `inner` (a mention or a claim inside
/// it): all of it, or at most [`CONTEXT_BYTES`] on each side of `inner`, on character
/// boundaries of `text`.
///
/// # Examples
///
/// ```
/// use dossier_server::rpc::convert::{context, CONTEXT_BYTES};
/// let text = "A short sentence.";
/// assert_eq!(context(text, 0..17, 2..7), 0..17);
/// let long = "word ".repeat(1000);
/// let c = context(&long, 0..long.len(), 2500..2504);
/// assert_eq!(c, 2500 - CONTEXT_BYTES..2504 + CONTEXT_BYTES);
/// ```
pub fn context(text: &str, sentence: Range<usize>, inner: Range<usize>) -> Range<usize> {
    let mut start = sentence
        .start
        .max(inner.start.saturating_sub(CONTEXT_BYTES))
        .min(inner.start)
        .min(text.len());
    let mut end = sentence
        .end
        .min(inner.end.saturating_add(CONTEXT_BYTES))
        .max(inner.end)
        .min(text.len());
    while !text.is_char_boundary(start) {
        start += 1;
    }
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    start..end.max(start)
}

/// A `TextSpan` for a byte range of `map`'s text.
pub fn span(text: &str, map: &OffsetMap<'_>, range: Range<usize>) -> v1::TextSpan {
    let (begin, end) = map.range(range.clone());
    v1::TextSpan {
        begin: begin as i64,
        end: end as i64,
        text: text.get(range).unwrap_or_default().to_string(),
    }
}

/// A protobuf timestamp for a time.
pub fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    }
}

/// A time for a protobuf timestamp; `None` when out of range.
pub fn from_timestamp(t: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    Utc.timestamp_opt(t.seconds, u32::try_from(t.nanos).ok()?)
        .single()
}

/// The message for a stored document; `text` only when `include_text`.
pub fn document(stored: &StoredDoc, include_text: bool) -> v1::Document {
    let Document {
        id,
        title,
        text,
        source,
        url,
        published_at,
        authors,
        labels,
        removed_chars,
    } = &stored.doc;
    let a = stored.packed();
    v1::Document {
        id: id.clone(),
        title: title.clone(),
        text: if include_text {
            text.clone()
        } else {
            String::new()
        },
        source: source.clone(),
        url: url.clone(),
        published_at: published_at.map(timestamp),
        authors: authors.clone(),
        labels: labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        stats: Some(v1::DocumentStats {
            words: a.words() as i64,
            sentences: a.sentence_count() as i64,
            entity_mentions: a.mention_count() as i64,
            claims: a.claim_count() as i64,
            removed_chars: *removed_chars as i64,
        }),
    }
}

/// The engine document for an ingested message (server-computed `stats` are ignored).
pub fn document_from(message: v1::Document) -> Document {
    let v1::Document {
        id,
        title,
        text,
        source,
        url,
        published_at,
        authors,
        labels,
        stats: _,
    } = message;
    Document {
        id,
        title,
        text,
        source,
        url,
        published_at: published_at.as_ref().and_then(from_timestamp),
        authors,
        labels: labels.into_iter().collect(),
        removed_chars: 0,
    }
}

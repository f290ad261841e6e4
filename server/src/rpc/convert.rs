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

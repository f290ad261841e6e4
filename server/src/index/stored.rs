//! Loading a hit's document: its address by id, its stored fields read straight from the
//! doc store, and its title, text and sentences from the store when the index keeps none.

use tantivy::schema::document::{
    DeserializeError, DocumentDeserialize, DocumentDeserializer, ValueDeserialize,
    ValueDeserializer, ValueVisitor,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocSet, Term, TERMINATED};

use super::schema::decode_ranges;
use super::{IndexDoc, IndexError, Snapshot};

impl Snapshot {
    /// The stored document with this id, if it is in this snapshot.
    pub fn get(&self, id: &str) -> Result<Option<IndexDoc>, IndexError> {
        match self.address_of(id)? {
            Some(address) => Ok(Some(self.stored(address)?)),
            None => Ok(None),
        }
    }

    /// The address of the live document with this id.
    pub(super) fn address_of(&self, id: &str) -> Result<Option<DocAddress>, IndexError> {
        let term = Term::from_field_text(self.shared.fields.id, id);
        for (ord, segment) in self.searcher.segment_readers().iter().enumerate() {
            let inverted = segment.inverted_index(self.shared.fields.id)?;
            let Some(mut postings) = inverted.read_postings(&term, IndexRecordOption::Basic)?
            else {
                continue;
            };
            let mut doc = postings.doc();
            while doc != TERMINATED {
                if !segment.is_deleted(doc) {
                    return Ok(Some(DocAddress::new(ord as u32, doc)));
                }
                doc = postings.advance();
            }
        }
        Ok(None)
    }

    pub(super) fn stored(&self, address: DocAddress) -> Result<IndexDoc, IndexError> {
        let StoredFields(values) = self.searcher.doc(address)?;
        let f = &self.shared.fields;
        let mut doc = IndexDoc::default();
        // The first value of each field, as `get_first` would take it.
        let mut seen = [false; 6];
        for (field, value) in values {
            let (slot, first) = match field {
                x if x == f.id => (0, &mut doc.id),
                x if x == f.title => (1, &mut doc.title),
                x if x == f.text => (2, &mut doc.text),
                x if x == f.source => (3, &mut doc.source),
                x if x == f.published_at => {
                    if let (false, StoredValue::I64(t)) = (seen[4], value) {
                        doc.published_at = Some(t);
                        seen[4] = true;
                    }
                    continue;
                }
                x if x == f.sentences => {
                    if let (false, StoredValue::Bytes(b)) = (seen[5], value) {
                        doc.sentences = decode_ranges(&b);
                        seen[5] = true;
                    }
                    continue;
                }
                _ => continue,
            };
            if let (false, StoredValue::Str(text)) = (seen[slot], value) {
                *first = text;
                seen[slot] = true;
            }
        }
        // An index that does not store the texts reads them from the store.
        if let Some(external) = self.texts.as_ref().and_then(|t| t.doc_text(&doc.id)) {
            doc.title = external.title;
            doc.text = external.text;
            doc.sentences = external.sentences;
        }
        Ok(doc)
    }
}

/// A stored document as (field, value) pairs, read straight from the doc store: each value
/// is copied once into its own `String`/`Vec`, with no intermediate `TantivyDocument`
/// (loading the hits of a page is a good part of a search's cost).
pub(super) struct StoredFields(Vec<(Field, StoredValue)>);

/// A stored value of the kinds the schema stores (text, i64, bytes); others are skipped.
enum StoredValue {
    Str(String),
    I64(i64),
    Bytes(Vec<u8>),
    Other,
}

impl DocumentDeserialize for StoredFields {
    fn deserialize<'de, D>(mut deserializer: D) -> Result<Self, DeserializeError>
    where
        D: DocumentDeserializer<'de>,
    {
        let mut values = Vec::with_capacity(deserializer.size_hint());
        while let Some(pair) = deserializer.next_field::<StoredValue>()? {
            values.push(pair);
        }
        Ok(Self(values))
    }
}

impl ValueDeserialize for StoredValue {
    fn deserialize<'de, D>(deserializer: D) -> Result<Self, DeserializeError>
    where
        D: ValueDeserializer<'de>,
    {
        deserializer.deserialize_any(StoredValueVisitor)
    }
}

struct StoredValueVisitor;

impl ValueVisitor for StoredValueVisitor {
    type Value = StoredValue;

    fn visit_null(&self) -> Result<StoredValue, DeserializeError> {
        Ok(StoredValue::Other)
    }

    fn visit_string(&self, value: String) -> Result<StoredValue, DeserializeError> {
        Ok(StoredValue::Str(value))
    }

    fn visit_u64(&self, _: u64) -> Result<StoredValue, DeserializeError> {
        Ok(StoredValue::Other)
    }

    fn visit_i64(&self, value: i64) -> Result<StoredValue, DeserializeError> {
        Ok(StoredValue::I64(value))
    }

    fn visit_f64(&self, _: f64) -> Result<StoredValue, DeserializeError> {
        Ok(StoredValue::Other)
    }

    fn visit_bool(&self, _: bool) -> Result<StoredValue, DeserializeError> {
        Ok(StoredValue::Other)
    }

    fn visit_bytes(&self, value: Vec<u8>) -> Result<StoredValue, DeserializeError> {
        Ok(StoredValue::Bytes(value))
    }
}

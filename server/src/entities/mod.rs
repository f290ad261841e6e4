//! The corpus's entity registry: mentions from every document resolved into entities with
//! stable ids, canonical names, aliases, counts, salience and co-occurrence.
//!
//! Resolution, in order:
//! 1. every name mention gets a *key*: its folded tokens without possessive, leading "the"
//!    or person titles ("President Trump’s" → `trump`); a key's type is the majority type of
//!    its mentions (so one stray ORG tag does not split a person);
//! 2. keys of one type whose tokens are pairwise spelling variants merge
//!    ("Zelensky"/"Zelenskyy", "Vladmir Putin"/"Vladimir Putin");
//! 3. a one-word person key joins the full name it is the surname of, when one full name
//!    clearly dominates ("Trump" → "Donald Trump"); a one-word organisation in capitals joins
//!    the name it abbreviates ("NATO");
//! 4. the canonical name is the fullest form seen (most words, then most frequent); every
//!    other form, and "Title Name" forms seen in the text, are aliases;
//! 5. the id hashes the type and canonical key, so the same corpus gives the same ids.
//!
//! Value mentions (dates, amounts) resolve by their normalised value.

pub mod names;
mod resolve;

use crate::analysis::{EntityMention, EntityType};
use names::{is_title_word, key_tokens};
use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

/// The analysed text of one document, as the registry reads it. Sentences and mentions are
/// borrowed from an [`Analysis`](crate::analysis::Analysis) or decoded from the store's
/// packed form for the time of the read.
#[derive(Debug, Clone)]
pub struct DocInput<'a> {
    /// The document id.
    pub id: &'a str,
    /// The document text the mentions point into.
    pub text: &'a str,
    /// Sentence byte ranges.
    pub sentences: Cow<'a, [Range<usize>]>,
    /// Entity mentions.
    pub mentions: Cow<'a, [EntityMention]>,
}

impl<'a> DocInput<'a> {
    /// The input for an analysis of `text` held by the caller.
    pub fn of(id: &'a str, text: &'a str, a: &'a crate::analysis::Analysis) -> Self {
        Self {
            id,
            text,
            sentences: Cow::Borrowed(&a.sentences),
            mentions: Cow::Borrowed(&a.mentions),
        }
    }
}

/// Where a mention is: document index (into [`Registry::doc_ids`]) and mention index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MentionRef {
    /// Index into [`Registry::doc_ids`].
    pub doc: u32,
    /// Index into that document's mentions.
    pub mention: u32,
}

/// A resolved entity. Its lists are boxed slices of exactly their length: a corpus has
/// tens of thousands of entities, most mentioned once or twice.
#[derive(Debug, Clone)]
pub struct Entity {
    /// Stable id.
    pub id: String,
    /// Canonical name.
    pub name: String,
    /// Type.
    pub entity_type: EntityType,
    /// Every mention, in document then text order.
    pub mentions: Box<[MentionRef]>,
    /// Indices of documents with a mention, ascending.
    pub docs: Box<[u32]>,
    /// Mean per-document salience.
    pub salience: f32,
    /// Number of sentences holding a mention (for co-occurrence statistics).
    pub sentence_count: u32,
    /// Other surface forms, sorted (sharing their allocation with the normalised value
    /// that [`Entity::metadata`] reads).
    pub aliases: Aliases,
}

/// An entity's aliases, packed in one string, each followed by a newline (a display form
/// holds no whitespace but single spaces). The entity's normalised value (see
/// [`Entity::metadata`]) follows them in the same allocation: most entities have neither,
/// a third of a news corpus's entities are values, and one string per entity instead of
/// one per alias and per key and value is what a registry of tens of thousands keeps.
#[derive(Debug, Clone, Default)]
pub struct Aliases(Box<str>);

impl Aliases {
    fn new(aliases: &[String], packed_metadata: &str) -> Self {
        debug_assert!(aliases.iter().all(|a| !a.contains('\n')));
        debug_assert!(!packed_metadata.contains('\n'));
        let mut packed = String::new();
        for a in aliases {
            packed.push_str(a);
            packed.push('\n');
        }
        packed.push_str(packed_metadata);
        Self(packed.into_boxed_str())
    }

    /// (aliases, each newline-terminated; the packed metadata after them).
    fn parts(&self) -> (&str, &str) {
        match self.0.rfind('\n') {
            Some(i) => self.0.split_at(i + 1),
            None => ("", &self.0),
        }
    }

    /// The aliases, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.parts().0.split_terminator('\n')
    }

    /// The number of aliases.
    pub fn len(&self) -> usize {
        self.parts().0.matches('\n').count()
    }

    /// True when the entity has no other surface form.
    pub fn is_empty(&self) -> bool {
        !self.0.contains('\n')
    }
}

/// Co-occurrence windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The same sentence.
    Sentence,
    /// The same document.
    Document,
}

/// An entity related to another by co-occurrence.
#[derive(Debug, Clone)]
pub struct Related {
    /// Index of the related entity.
    pub entity: usize,
    /// Windows holding both.
    pub count: u32,
    /// Normalised PMI of the pair, -1..1.
    pub npmi: f32,
    /// Some windows holding both: (document index, byte range of the sentence).
    pub evidence: Vec<(u32, Range<usize>)>,
}

/// The resolved entities of a corpus (or of one text).
///
/// Memory: kept for the life of a snapshot once asked for, so it holds no maps. Lookups by
/// entity id and document id are binary searches (entities are in id order, documents
/// usually too), and the per-document tables are flat arrays indexed by offsets
/// (`*_start[d]..*_start[d + 1]`).
#[derive(Debug, Default)]
pub struct Registry {
    /// Entities, in id order.
    pub entities: Vec<Entity>,
    /// Document ids by index.
    pub doc_ids: Vec<Arc<str>>,
    /// Document indices in id order, when `doc_ids` is not already strictly ascending
    /// (empty when it is: a snapshot's documents come in id order).
    doc_order: Box<[u32]>,
    /// Per document, the range of its mentions in `mention_entity`.
    mention_start: Box<[usize]>,
    /// Per mention of every document: the entity index (or `u32::MAX` for none).
    mention_entity: Box<[u32]>,
    /// Per document, the range of its entities in `doc_entities`.
    entity_start: Box<[usize]>,
    /// Per document: (entity index, salience in that document), ascending by entity.
    doc_entities: Box<[(u32, f32)]>,
    total_sentences: u64,
}

const NONE: u32 = u32::MAX;

/// A name variant: one key's accumulated evidence (transient while building).
#[derive(Default)]
struct KeyInfo {
    /// Mentions per type, ascending by type.
    type_votes: Vec<(EntityType, u32)>,
    /// Surface forms (display form) with their counts.
    displays: Vec<(Box<str>, u32)>,
    /// "Title Name" forms seen before person mentions, distinct.
    titled: Vec<Box<str>>,
    count: u32,
    metadata: Box<str>,
}

impl KeyInfo {
    fn entity_type(&self) -> EntityType {
        // Majority type; ties go to the lower enum value (PERSON first).
        let mut best = (EntityType::Misc, 0);
        for &(t, n) in &self.type_votes {
            if n > best.1 {
                best = (t, n);
            }
        }
        best.0
    }

    fn vote(&mut self, t: EntityType) {
        match self.type_votes.binary_search_by(|(x, _)| x.cmp(&t)) {
            Ok(i) => self.type_votes[i].1 += 1,
            Err(i) => self.type_votes.insert(i, (t, 1)),
        }
    }

    fn add_display(&mut self, display: String) {
        match self.displays.iter_mut().find(|(d, _)| **d == *display) {
            Some((_, n)) => *n += 1,
            None => self.displays.push((display.into_boxed_str(), 1)),
        }
    }
}

fn find(parent: &mut [u32], mut i: usize) -> usize {
    while parent[i] as usize != i {
        parent[i] = parent[parent[i] as usize];
        i = parent[i] as usize;
    }
    i
}

fn union(parent: &mut [u32], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        parent[ra.max(rb)] = ra.min(rb) as u32;
    }
}

/// FNV-1a 64 of the bytes of `s` (entity ids are derived from it: it must never change).
fn id_hash(s: &str) -> u64 {
    let mut h = fnv::FnvHasher::default();
    std::hash::Hasher::write(&mut h, s.as_bytes());
    std::hash::Hasher::finish(&h)
}

fn type_prefix(t: EntityType) -> &'static str {
    match t {
        EntityType::Person => "per",
        EntityType::Organization => "org",
        EntityType::Location => "loc",
        EntityType::Norp => "norp",
        EntityType::Event => "evt",
        EntityType::Work => "work",
        EntityType::Misc => "misc",
        EntityType::Date => "date",
        EntityType::Time => "time",
        EntityType::Money => "money",
        EntityType::Percent => "pct",
        EntityType::Quantity => "qty",
        EntityType::Cardinal => "card",
        EntityType::Ordinal => "ord",
    }
}

/// The title words written right before a person mention ("President" in "President
/// Trump"), if any.
fn title_before(text: &str, start: usize) -> Option<String> {
    let before = text.get(..start)?;
    let mut words: Vec<&str> = Vec::new();
    for w in before.rsplit(' ').skip(1).take(3) {
        if w.is_empty() || !w.chars().next().is_some_and(char::is_uppercase) || !is_title_word(w) {
            break;
        }
        words.push(w);
    }
    if words.is_empty() || !before.ends_with(' ') {
        return None;
    }
    words.reverse();
    Some(words.join(" "))
}

/// The matching key of a name mention (`None` for mentions that name no entity): whether
/// it is a value, and its tokens joined by spaces (name tokens hold no spaces).
fn mention_key_of(m: &EntityMention, display: &str) -> Option<(bool, String)> {
    let is_value = m.entity_type.is_value();
    let key = if is_value {
        let mut key = format!("{:?}", m.entity_type);
        if m.metadata.is_empty() {
            key.push(' ');
            key.push_str(&display.to_lowercase());
        } else {
            for (k, v) in &m.metadata {
                key.push(' ');
                key.push_str(k);
                key.push('=');
                key.push_str(v);
            }
        }
        key
    } else {
        let tokens = key_tokens(display, m.entity_type);
        if tokens.is_empty() {
            return None;
        }
        tokens.join(" ")
    };
    Some((is_value, key))
}

/// Ends a metadata key.
const KEY_END: char = '\u{1f}';
/// Ends a metadata value.
const VALUE_END: char = '\u{1e}';

/// Key/value pairs in one string: each key followed by [`KEY_END`], each value by
/// [`VALUE_END`] (normalised values and units hold no control characters).
fn pack_metadata(pairs: &[(String, String)]) -> Box<str> {
    let mut packed = String::new();
    for (k, v) in pairs {
        debug_assert!(!k.contains([KEY_END, VALUE_END]) && !v.contains([KEY_END, VALUE_END]));
        packed.push_str(k);
        packed.push(KEY_END);
        packed.push_str(v);
        packed.push(VALUE_END);
    }
    packed.into_boxed_str()
}

impl Entity {
    /// The normalised value of a value entity: (key, value) pairs in the order found.
    pub fn metadata(&self) -> impl Iterator<Item = (&str, &str)> {
        self.aliases
            .parts()
            .1
            .split_terminator(VALUE_END)
            .filter_map(|pair| pair.split_once(KEY_END))
    }
}

/// A boxed slice from a vector, without spare capacity.
fn exact<T>(v: Vec<T>) -> Box<[T]> {
    v.into_boxed_slice()
}

impl Registry {
    /// Resolves the mentions of `docs` into entities.
    pub fn build<'a>(docs: impl IntoIterator<Item = DocInput<'a>>) -> Self {
        let docs: Vec<DocInput<'a>> = docs.into_iter().collect();
        Self::build_from(docs.len(), |i| docs[i].clone())
    }

    /// Resolves the mentions of `n` documents into entities (the steps, one function each,
    /// are in `entities/resolve.rs`); `doc(i)` gives document `i`
    /// (called twice per document, so a caller can decode documents as they are read
    /// instead of holding every one decoded at once).
    ///
    /// Memory: the transients are one entry per distinct name key and one `u32` per
    /// mention; the result is built in exactly sized arrays (the resident set of a server
    /// that has been asked for entities is what stays, and the peak is what is built).
    pub fn build_from<'a>(n: usize, doc: impl Fn(usize) -> DocInput<'a>) -> Self {
        resolve::build_from(n, doc)
    }

    /// The entity with this id.
    pub fn get(&self, id: &str) -> Option<&Entity> {
        self.index_of(id).map(|i| &self.entities[i])
    }

    /// The index of the entity with this id (entities are in id order; of equal ids, which
    /// a 48-bit hash makes all but impossible, the last).
    pub fn index_of(&self, id: &str) -> Option<usize> {
        let end = self.entities.partition_point(|e| *e.id <= *id);
        end.checked_sub(1).filter(|&i| self.entities[i].id == id)
    }

    /// The entities with a mention inside `range` of a document (name types only: values
    /// are not subjects), ascending.
    pub fn named_entities_within(
        &self,
        doc: u32,
        mentions: &[EntityMention],
        range: Range<usize>,
    ) -> Vec<usize> {
        let mut out: Vec<usize> = mentions
            .iter()
            .enumerate()
            .filter(|(_, m)| {
                m.start >= range.start && m.end <= range.end && !m.entity_type.is_value()
            })
            .filter_map(|(i, _)| self.entity_of_mention(doc, i as u32))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The index of a document id.
    pub fn doc_index(&self, doc_id: &str) -> Option<u32> {
        if self.doc_order.is_empty() {
            let i = self.doc_ids.binary_search_by(|d| (**d).cmp(doc_id)).ok()?;
            return Some(i as u32);
        }
        // Of equal ids, the last.
        let end = self
            .doc_order
            .partition_point(|&d| *self.doc_ids[d as usize] <= *doc_id);
        let d = self.doc_order[end.checked_sub(1)?];
        (*self.doc_ids[d as usize] == *doc_id).then_some(d)
    }

    /// The entity a mention of a document resolved to.
    pub fn entity_of_mention(&self, doc: u32, mention: u32) -> Option<usize> {
        let e = *self.doc_mentions(doc).get(mention as usize)?;
        (e != NONE).then_some(e as usize)
    }

    /// Per mention of a document, its entity (`NONE` for none).
    fn doc_mentions(&self, doc: u32) -> &[u32] {
        let d = doc as usize;
        match (self.mention_start.get(d), self.mention_start.get(d + 1)) {
            (Some(&a), Some(&b)) => &self.mention_entity[a..b],
            _ => &[],
        }
    }

    /// (entity, salience) of the entities mentioned in a document, ascending by entity.
    fn doc_entity_table(&self, doc: u32) -> &[(u32, f32)] {
        let d = doc as usize;
        match (self.entity_start.get(d), self.entity_start.get(d + 1)) {
            (Some(&a), Some(&b)) => &self.doc_entities[a..b],
            _ => &[],
        }
    }

    /// The entities mentioned in a document (indices, ascending).
    pub fn entities_in_doc(&self, doc: u32) -> Vec<usize> {
        self.doc_entity_table(doc)
            .iter()
            .map(|&(e, _)| e as usize)
            .collect()
    }

    /// An entity's salience within one document.
    pub fn salience_in(&self, entity: usize, doc: u32) -> Option<f32> {
        let table = self.doc_entity_table(doc);
        let i = table
            .binary_search_by(|&(e, _)| (e as usize).cmp(&entity))
            .ok()?;
        Some(table[i].1)
    }

    /// Entities co-occurring with `entity`, most co-occurrences first (ties by NPMI),
    /// with up to `evidence` windows each. `doc(d)` gives document `d` (its sentences and
    /// mentions).
    pub fn related<'s>(
        &self,
        entity: usize,
        window: Window,
        evidence: usize,
        doc: impl Fn(u32) -> Option<DocInput<'s>>,
    ) -> Vec<Related> {
        let Some(target) = self.entities.get(entity) else {
            return Vec::new();
        };
        /// Per co-occurring entity: count and evidence (document, sentence range).
        type Pairs = HashMap<usize, (u32, Vec<(u32, Range<usize>)>)>;
        let mut pairs: Pairs = HashMap::new();
        for &d in target.docs.iter() {
            let me = self.doc_mentions(d);
            let input = doc(d);
            let sents: &[Range<usize>] = input.as_ref().map_or(&[], |x| &x.sentences);
            // The sentence of each mention.
            let ms: Vec<u32> = match &input {
                Some(x) => x
                    .mentions
                    .iter()
                    .map(|m| x.sentences.partition_point(|s| s.end <= m.start) as u32)
                    .collect(),
                None => vec![0; me.len()],
            };
            match window {
                Window::Document => {
                    let first_shared = |other: usize| -> Range<usize> {
                        // The first sentence holding both, else the first holding the other.
                        let with = |e: usize| {
                            ms.iter()
                                .zip(me)
                                .filter(|(_, &x)| x as usize == e)
                                .map(|(&s, _)| s)
                                .collect::<std::collections::BTreeSet<u32>>()
                        };
                        let (a, b) = (with(entity), with(other));
                        let s = a
                            .intersection(&b)
                            .next()
                            .or_else(|| b.iter().next())
                            .copied()
                            .unwrap_or(0);
                        sents.get(s as usize).cloned().unwrap_or(0..0)
                    };
                    for other in self.entities_in_doc(d) {
                        if other == entity {
                            continue;
                        }
                        let slot = pairs.entry(other).or_default();
                        slot.0 += 1;
                        if slot.1.len() < evidence {
                            slot.1.push((d, first_shared(other)));
                        }
                    }
                }
                Window::Sentence => {
                    let target_sentences: std::collections::BTreeSet<u32> = ms
                        .iter()
                        .zip(me)
                        .filter(|(_, &e)| e as usize == entity)
                        .map(|(&s, _)| s)
                        .collect();
                    let mut seen: std::collections::HashSet<(usize, u32)> =
                        std::collections::HashSet::new();
                    for (&s, &e) in ms.iter().zip(me) {
                        if e == NONE
                            || e as usize == entity
                            || !target_sentences.contains(&s)
                            || !seen.insert((e as usize, s))
                        {
                            continue;
                        }
                        let slot = pairs.entry(e as usize).or_default();
                        slot.0 += 1;
                        if slot.1.len() < evidence {
                            slot.1
                                .push((d, sents.get(s as usize).cloned().unwrap_or(0..0)));
                        }
                    }
                }
            }
        }
        let n = match window {
            Window::Sentence => self.total_sentences.max(1) as f64,
            Window::Document => self.doc_ids.len().max(1) as f64,
        };
        let windows_of = |e: &Entity| match window {
            Window::Sentence => f64::from(e.sentence_count),
            Window::Document => e.docs.len() as f64,
        };
        let c_target = windows_of(target).max(1.0);
        let mut related: Vec<Related> = pairs
            .into_iter()
            .map(|(other, (count, evidence))| {
                let c_other = windows_of(&self.entities[other]).max(1.0);
                let p_xy = f64::from(count) / n;
                let npmi = if p_xy >= 1.0 {
                    1.0
                } else {
                    ((p_xy / ((c_target / n) * (c_other / n))).ln() / -p_xy.ln()).clamp(-1.0, 1.0)
                };
                Related {
                    entity: other,
                    count,
                    npmi: npmi as f32,
                    evidence,
                }
            })
            .collect();
        related.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then(b.npmi.total_cmp(&a.npmi))
                .then(a.entity.cmp(&b.entity))
        });
        related
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::MentionKind;

    fn m(text: &str, needle: &str, nth: usize, t: EntityType) -> EntityMention {
        let start = text.match_indices(needle).nth(nth).expect("needle").0;
        EntityMention {
            start,
            end: start + needle.len(),
            entity_type: t,
            kind: MentionKind::Proper,
            confidence: None,
            metadata: vec![],
        }
    }

    #[test]
    fn variants_titles_and_surnames_resolve_to_one_person_across_documents() {
        use EntityType::*;
        let t1 =
            "President Trump met Vladmir Putin. Zelensky was absent. Donald Trump’s envoy left.";
        let t2 = "Donald Trump said Vladimir Putin and Zelenskyy should meet. Putin agreed. The Kremlin said so. Vladimir Putin left.";
        let m1 = vec![
            m(t1, "Trump", 0, Person),
            m(t1, "Vladmir Putin", 0, Person),
            m(t1, "Zelensky", 0, Person),
            m(t1, "Donald Trump’s", 0, Person),
        ];
        let m2 = vec![
            m(t2, "Donald Trump", 0, Person),
            m(t2, "Vladimir Putin", 0, Person),
            m(t2, "Zelenskyy", 0, Person),
            m(t2, "Putin", 1, Person),
            m(t2, "Kremlin", 0, Organization),
            m(t2, "Vladimir Putin", 1, Person),
        ];
        let s1: Vec<Range<usize>> = std::iter::once(0..t1.len()).collect();
        let s2: Vec<Range<usize>> = std::iter::once(0..t2.len()).collect();
        let reg = Registry::build([
            DocInput {
                id: "d1",
                text: t1,
                sentences: Cow::Borrowed(&s1),
                mentions: Cow::Borrowed(&m1),
            },
            DocInput {
                id: "d2",
                text: t2,
                sentences: Cow::Borrowed(&s2),
                mentions: Cow::Borrowed(&m2),
            },
        ]);
        let persons: Vec<&Entity> = reg
            .entities
            .iter()
            .filter(|e| e.entity_type == Person)
            .collect();
        assert_eq!(
            persons.len(),
            3,
            "{:?}",
            persons.iter().map(|e| &e.name).collect::<Vec<_>>()
        );
        let trump = persons
            .iter()
            .find(|e| e.name == "Donald Trump")
            .expect("Donald Trump is canonical");
        assert!(
            trump.aliases.iter().any(|a| a == "Trump")
                && trump.aliases.iter().any(|a| a == "President Trump"),
            "{:?}",
            trump.aliases.iter().collect::<Vec<_>>()
        );
        assert_eq!((trump.mentions.len(), trump.docs.len()), (3, 2));
        let putin = persons
            .iter()
            .find(|e| e.name == "Vladimir Putin")
            .expect("the frequent spelling wins");
        assert!(putin.aliases.iter().any(|a| a == "Vladmir Putin"));
        assert_eq!(putin.mentions.len(), 4);
        assert!(persons
            .iter()
            .any(|e| e.name.starts_with("Zelensk") && e.mentions.len() == 2));
    }

    #[test]
    fn ids_are_stable_for_the_same_corpus() {
        let t = "Steve Witkoff met Putin.";
        let ms = vec![
            m(t, "Steve Witkoff", 0, EntityType::Person),
            m(t, "Putin", 0, EntityType::Person),
        ];
        let s: Vec<Range<usize>> = std::iter::once(0..t.len()).collect();
        let a = Registry::build([DocInput {
            id: "d",
            text: t,
            sentences: Cow::Borrowed(&s),
            mentions: Cow::Borrowed(&ms),
        }]);
        let b = Registry::build([DocInput {
            id: "d",
            text: t,
            sentences: Cow::Borrowed(&s),
            mentions: Cow::Borrowed(&ms),
        }]);
        assert_eq!(
            a.entities.iter().map(|e| &e.id).collect::<Vec<_>>(),
            b.entities.iter().map(|e| &e.id).collect::<Vec<_>>()
        );
    }

    #[test]
    fn value_entities_keep_their_normalised_value_in_order() {
        let t = "It cost 300 million dollars.";
        let mut money = m(t, "300 million dollars", 0, EntityType::Money);
        money.metadata = vec![
            ("value".into(), "300000000".into()),
            ("unit".into(), "USD".into()),
        ];
        let s: Vec<Range<usize>> = std::iter::once(0..t.len()).collect();
        let ms = vec![money];
        let reg = Registry::build([DocInput {
            id: "d",
            text: t,
            sentences: Cow::Borrowed(&s),
            mentions: Cow::Borrowed(&ms),
        }]);
        let pairs: Vec<(&str, &str)> = reg.entities[0].metadata().collect();
        assert_eq!(pairs, [("value", "300000000"), ("unit", "USD")]);
    }

    #[test]
    fn packed_aliases_keep_empty_forms_and_end_before_the_value() {
        let packed = Aliases::new(
            &["".into(), "Mr X".into()],
            &pack_metadata(&[("value".into(), "3".into())]),
        );
        assert_eq!(packed.iter().collect::<Vec<_>>(), ["", "Mr X"]);
        assert_eq!((packed.len(), packed.is_empty()), (2, false));
        assert_eq!(
            packed.parts().1,
            &*pack_metadata(&[("value".into(), "3".into())])
        );
        let none = Aliases::new(&[], &pack_metadata(&[("value".into(), "3".into())]));
        assert!(none.is_empty() && none.iter().next().is_none());
    }

    #[test]
    fn an_ambiguous_surname_stays_apart() {
        use EntityType::Person;
        let t = "Bill Clinton spoke. Hillary Clinton spoke. Clinton left.";
        let ms = vec![
            m(t, "Bill Clinton", 0, Person),
            m(t, "Hillary Clinton", 0, Person),
            m(t, "Clinton", 2, Person),
        ];
        let s: Vec<Range<usize>> = std::iter::once(0..t.len()).collect();
        let reg = Registry::build([DocInput {
            id: "d",
            text: t,
            sentences: Cow::Borrowed(&s),
            mentions: Cow::Borrowed(&ms),
        }]);
        assert_eq!(reg.entities.len(), 3);
    }

    #[test]
    fn related_entities_count_shared_sentences() {
        use EntityType::Person;
        let t = "Witkoff met Putin. Witkoff called Trump. Witkoff met Putin again. Biden slept.";
        let ms = vec![
            m(t, "Witkoff", 0, Person),
            m(t, "Putin", 0, Person),
            m(t, "Witkoff", 1, Person),
            m(t, "Trump", 0, Person),
            m(t, "Witkoff", 2, Person),
            m(t, "Putin", 1, Person),
            m(t, "Biden", 0, Person),
        ];
        let tokens = crate::analysis::tokenize::tokenize(t);
        let sents = crate::analysis::sentences::split_sentences(t, &tokens);
        let reg = Registry::build([DocInput {
            id: "d",
            text: t,
            sentences: Cow::Borrowed(&sents),
            mentions: Cow::Borrowed(&ms),
        }]);
        let w = reg
            .entities
            .iter()
            .position(|e| e.name == "Witkoff")
            .unwrap();
        let related = reg.related(w, Window::Sentence, 2, |_| {
            Some(DocInput {
                id: "d",
                text: t,
                sentences: Cow::Borrowed(&sents),
                mentions: Cow::Borrowed(&ms),
            })
        });
        let names: Vec<(&str, u32)> = related
            .iter()
            .map(|r| (reg.entities[r.entity].name.as_str(), r.count))
            .collect();
        assert_eq!(names, [("Putin", 2), ("Trump", 1)]);
        assert_eq!(&t[related[0].evidence[0].1.clone()], "Witkoff met Putin.");
    }
}

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

use crate::analysis::{EntityMention, EntityType, MentionKind};
use names::{display_form, is_title_word, key_tokens, tokens_match};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
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

/// A resolved entity.
#[derive(Debug, Clone)]
pub struct Entity {
    /// Stable id.
    pub id: String,
    /// Canonical name.
    pub name: String,
    /// Type.
    pub entity_type: EntityType,
    /// Other surface forms, sorted.
    pub aliases: Vec<String>,
    /// Every mention, in document then text order.
    pub mentions: Vec<MentionRef>,
    /// Indices of documents with a mention, ascending.
    pub docs: Vec<u32>,
    /// Mean per-document salience.
    pub salience: f32,
    /// Normalised value for value types.
    pub metadata: Vec<(String, String)>,
    /// Number of sentences holding a mention (for co-occurrence statistics).
    pub sentence_count: u32,
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
#[derive(Debug, Default)]
pub struct Registry {
    /// Entities, in id order.
    pub entities: Vec<Entity>,
    /// Document ids by index.
    pub doc_ids: Vec<Arc<str>>,
    by_id: HashMap<String, usize>,
    by_doc_id: HashMap<Arc<str>, u32>,
    /// Lower-cased canonical names and aliases → entities bearing them.
    by_name: HashMap<String, Vec<u32>>,
    /// Per document, per mention: the entity index (or `u32::MAX` for none).
    mention_entity: Vec<Vec<u32>>,
    /// Per document: the sentence index of each mention.
    mention_sentence: Vec<Vec<u32>>,
    /// Per document: per-entity salience in that document.
    doc_salience: Vec<HashMap<u32, f32>>,
    total_sentences: u64,
}

const NONE: u32 = u32::MAX;

/// A name variant: one key's accumulated evidence.
#[derive(Default)]
struct KeyInfo {
    tokens: Vec<String>,
    type_votes: BTreeMap<EntityType, u32>,
    displays: BTreeMap<String, u32>,
    count: u32,
    metadata: Vec<(String, String)>,
}

impl KeyInfo {
    fn entity_type(&self) -> EntityType {
        // Majority type; ties go to the lower enum value (PERSON first).
        let mut best = (EntityType::Misc, 0);
        for (&t, &n) in &self.type_votes {
            if n > best.1 {
                best = (t, n);
            }
        }
        best.0
    }
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        parent[ra.max(rb)] = ra.min(rb);
    }
}

fn id_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
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

impl Registry {
    /// Resolves the mentions of `docs` into entities.
    pub fn build<'a>(docs: impl IntoIterator<Item = DocInput<'a>>) -> Self {
        let docs: Vec<DocInput<'a>> = docs.into_iter().collect();
        Self::build_from(docs.len(), |i| docs[i].clone())
    }

    /// Resolves the mentions of `n` documents into entities; `doc(i)` gives document `i`
    /// (called twice per document, so a caller can decode documents as they are read
    /// instead of holding every one decoded at once).
    pub fn build_from<'a>(n: usize, doc: impl Fn(usize) -> DocInput<'a>) -> Self {
        let mut doc_ids: Vec<Arc<str>> = Vec::with_capacity(n);
        let mut keys: Vec<KeyInfo> = Vec::new();
        let mut key_index: HashMap<(bool, String), usize> = HashMap::new();
        // Per document, per mention: key index.
        let mut mention_key: Vec<Vec<u32>> = Vec::with_capacity(n);
        let mut title_aliases: Vec<(usize, String)> = Vec::new();
        for i in 0..n {
            let d = doc(i);
            doc_ids.push(Arc::from(d.id));
            let mut mk = Vec::with_capacity(d.mentions.len());
            for m in d.mentions.iter() {
                let Some(surface) = d.text.get(m.start..m.end) else {
                    mk.push(NONE);
                    continue;
                };
                if m.kind != MentionKind::Proper {
                    mk.push(NONE);
                    continue;
                }
                let display = if m.entity_type == EntityType::Person {
                    names::without_titles(&display_form(surface))
                } else {
                    display_form(surface)
                };
                let is_value = m.entity_type.is_value();
                let tokens = if is_value {
                    let norm: Vec<String> =
                        m.metadata.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    if norm.is_empty() {
                        vec![format!("{:?}", m.entity_type), display.to_lowercase()]
                    } else {
                        std::iter::once(format!("{:?}", m.entity_type))
                            .chain(norm)
                            .collect()
                    }
                } else {
                    key_tokens(&display, m.entity_type)
                };
                if tokens.is_empty() {
                    mk.push(NONE);
                    continue;
                }
                let lookup = (is_value, tokens.join(" "));
                let k = *key_index.entry(lookup).or_insert_with(|| {
                    keys.push(KeyInfo {
                        tokens: tokens.clone(),
                        metadata: m.metadata.clone(),
                        ..Default::default()
                    });
                    keys.len() - 1
                });
                let info = &mut keys[k];
                info.count += 1;
                *info.type_votes.entry(m.entity_type).or_default() += 1;
                *info.displays.entry(display).or_default() += 1;
                if m.entity_type == EntityType::Person {
                    if let Some(title) = title_before(d.text, m.start) {
                        title_aliases.push((
                            k,
                            format!(
                                "{title} {display}",
                                display = names::without_titles(&display_form(surface))
                            ),
                        ));
                    }
                }
                mk.push(k as u32);
            }
            mention_key.push(mk);
        }

        // Cluster keys of the same type.
        let types: Vec<EntityType> = keys.iter().map(KeyInfo::entity_type).collect();
        let mut parent: Vec<usize> = (0..keys.len()).collect();
        let mut by_shape: HashMap<(EntityType, usize, char), Vec<usize>> = HashMap::new();
        for (k, info) in keys.iter().enumerate() {
            if types[k].is_value() {
                continue;
            }
            let first = info
                .tokens
                .last()
                .and_then(|t| t.chars().next())
                .unwrap_or(' ');
            by_shape
                .entry((types[k], info.tokens.len(), first))
                .or_default()
                .push(k);
        }
        for group in by_shape.values() {
            for (i, &a) in group.iter().enumerate() {
                for &b in &group[i + 1..] {
                    let (ta, tb) = (&keys[a].tokens, &keys[b].tokens);
                    let variants = ta.iter().zip(tb).all(|(x, y)| tokens_match(x, y));
                    let some_exact = ta.len() == 1 || ta.iter().zip(tb).any(|(x, y)| x == y);
                    if variants
                        && some_exact
                        && matches!(
                            types[a],
                            EntityType::Person
                                | EntityType::Organization
                                | EntityType::Location
                                | EntityType::Norp
                        )
                    {
                        union(&mut parent, a, b);
                    }
                }
            }
        }
        // Mention totals per cluster so far, to pick dominant full names.
        let mut cluster_count: HashMap<usize, u32> = HashMap::new();
        for (k, info) in keys.iter().enumerate() {
            *cluster_count.entry(find(&mut parent, k)).or_default() += info.count;
        }
        // Surnames join full names; acronyms join what they abbreviate.
        let mut surname_index: HashMap<(EntityType, &str), Vec<usize>> = HashMap::new();
        let mut initials_index: HashMap<String, Vec<usize>> = HashMap::new();
        for (k, info) in keys.iter().enumerate() {
            if info.tokens.len() >= 2 && types[k] == EntityType::Person {
                surname_index
                    .entry((
                        types[k],
                        info.tokens.last().map(String::as_str).unwrap_or(""),
                    ))
                    .or_default()
                    .push(k);
            }
            if info.tokens.len() >= 2
                && matches!(types[k], EntityType::Organization | EntityType::Location)
            {
                let initials: String = info
                    .tokens
                    .iter()
                    .filter(|t| !matches!(t.as_str(), "of" | "the" | "and" | "for" | "&"))
                    .filter_map(|t| t.chars().next())
                    .collect();
                if initials.len() >= 2 {
                    initials_index.entry(initials).or_default().push(k);
                }
            }
        }
        let mut joins = Vec::new();
        for (k, info) in keys.iter().enumerate() {
            if info.tokens.len() != 1 {
                continue;
            }
            let token = info.tokens[0].as_str();
            let candidates: Vec<usize> = match types[k] {
                EntityType::Person => {
                    let mut c: Vec<usize> = surname_index
                        .iter()
                        .filter(|((_, s), _)| tokens_match(s, token))
                        .flat_map(|(_, v)| v.iter().copied())
                        .collect();
                    c.sort_unstable();
                    c
                }
                // "NATO", "U.S." abbreviate a multi-word name of the same type.
                EntityType::Organization | EntityType::Location => {
                    let letters: String = token.chars().filter(|c| *c != '.').collect();
                    initials_index
                        .get(&letters)
                        .map(|v| {
                            v.iter()
                                .copied()
                                .filter(|&c| types[c] == types[k])
                                .collect()
                        })
                        .unwrap_or_default()
                }
                _ => Vec::new(),
            };
            let mut clusters: Vec<(u32, usize)> = candidates
                .iter()
                .map(|&c| find(&mut parent, c))
                .map(|r| (cluster_count.get(&r).copied().unwrap_or(0), r))
                .collect();
            clusters.sort_unstable_by(|a, b| b.cmp(a));
            clusters.dedup_by_key(|c| c.1);
            match clusters.as_slice() {
                [] => {}
                [(_, best)] => joins.push((k, *best)),
                [(n1, best), (n2, _), ..] if *n1 >= 3 * *n2 => joins.push((k, *best)),
                _ => {}
            }
        }
        for (k, target) in joins {
            union(&mut parent, k, target);
        }

        // Build entities from clusters.
        let mut cluster_of_root: HashMap<usize, usize> = HashMap::new();
        let mut clusters: Vec<Vec<usize>> = Vec::new();
        for k in 0..keys.len() {
            let r = find(&mut parent, k);
            let c = *cluster_of_root.entry(r).or_insert_with(|| {
                clusters.push(Vec::new());
                clusters.len() - 1
            });
            clusters[c].push(k);
        }
        let mut entities: Vec<Entity> = clusters
            .iter()
            .map(|members| {
                let root = members[0];
                let ty = types[root];
                // Canonical: most words, then most frequent display, then alphabetical.
                let mut displays: BTreeMap<&str, u32> = BTreeMap::new();
                for &k in members {
                    for (d, n) in &keys[k].displays {
                        *displays.entry(d.as_str()).or_default() += n;
                    }
                }
                let canonical_key = members
                    .iter()
                    .copied()
                    .max_by_key(|&k| (keys[k].tokens.len(), keys[k].count, std::cmp::Reverse(k)))
                    .unwrap_or(root);
                let name = keys[canonical_key]
                    .displays
                    .iter()
                    .max_by_key(|(d, n)| {
                        (key_tokens(d, ty).len(), **n, std::cmp::Reverse(d.as_str()))
                    })
                    .map(|(d, _)| d.clone())
                    .unwrap_or_default();
                let mut aliases: Vec<String> = displays
                    .keys()
                    .filter(|d| **d != name)
                    .map(|d| (*d).to_string())
                    .collect();
                for (k, alias) in &title_aliases {
                    if members.contains(k) && *alias != name {
                        aliases.push(alias.clone());
                    }
                }
                aliases.sort();
                aliases.dedup();
                let id_key = format!(
                    "{}|{}",
                    type_prefix(ty),
                    keys[canonical_key].tokens.join(" ")
                );
                Entity {
                    id: format!(
                        "{}-{:012x}",
                        type_prefix(ty),
                        id_hash(&id_key) & 0xffff_ffff_ffff
                    ),
                    name,
                    entity_type: ty,
                    aliases,
                    mentions: Vec::new(),
                    docs: Vec::new(),
                    salience: 0.0,
                    metadata: keys[canonical_key].metadata.clone(),
                    sentence_count: 0,
                }
            })
            .collect();
        // Stable order: by id.
        let mut order: Vec<usize> = (0..entities.len()).collect();
        order.sort_by(|&a, &b| entities[a].id.cmp(&entities[b].id));
        let mut new_index = vec![0u32; entities.len()];
        for (new, &old) in order.iter().enumerate() {
            new_index[old] = new as u32;
        }
        let mut sorted: Vec<Entity> = Vec::with_capacity(entities.len());
        for &old in &order {
            sorted.push(std::mem::replace(
                &mut entities[old],
                Entity {
                    id: String::new(),
                    name: String::new(),
                    entity_type: EntityType::Misc,
                    aliases: vec![],
                    mentions: vec![],
                    docs: vec![],
                    salience: 0.0,
                    metadata: vec![],
                    sentence_count: 0,
                },
            ));
        }
        let mut entities = sorted;
        let key_entity: Vec<u32> = (0..keys.len())
            .map(|k| new_index[cluster_of_root[&find(&mut parent, k)]])
            .collect();

        // Mentions, documents, sentences, salience.
        let mut registry = Registry {
            doc_ids,
            ..Default::default()
        };
        let mut salience_sum = vec![0f32; entities.len()];
        for (di, keys_of_doc) in mention_key.iter().enumerate() {
            let d = doc(di);
            let mut me = Vec::with_capacity(d.mentions.len());
            let mut ms = Vec::with_capacity(d.mentions.len());
            let mut weights: HashMap<u32, f32> = HashMap::new();
            let mut sentence_seen: std::collections::HashSet<(u32, u32)> =
                std::collections::HashSet::new();
            for (mi, m) in d.mentions.iter().enumerate() {
                let k = keys_of_doc[mi];
                let sentence = d.sentences.partition_point(|s| s.end <= m.start) as u32;
                ms.push(sentence);
                if k == NONE {
                    me.push(NONE);
                    continue;
                }
                let e = key_entity[k as usize];
                me.push(e);
                let ent = &mut entities[e as usize];
                ent.mentions.push(MentionRef {
                    doc: di as u32,
                    mention: mi as u32,
                });
                if ent.docs.last() != Some(&(di as u32)) {
                    ent.docs.push(di as u32);
                }
                if sentence_seen.insert((e, sentence)) {
                    ent.sentence_count += 1;
                }
                // Earlier mentions weigh more: the lede says what the story is about.
                let position = 1.0 + 1.0 / (1.0 + sentence as f32 / 3.0);
                let value_discount = if ent.entity_type.is_value() { 0.3 } else { 1.0 };
                *weights.entry(e).or_default() += position * value_discount;
            }
            let total: f32 = weights.values().sum();
            let saliences: HashMap<u32, f32> = weights
                .into_iter()
                .map(|(e, w)| (e, if total > 0.0 { w / total } else { 0.0 }))
                .collect();
            for (&e, &s) in &saliences {
                salience_sum[e as usize] += s;
            }
            registry.total_sentences += d.sentences.len().max(1) as u64;
            registry.mention_entity.push(me);
            registry.mention_sentence.push(ms);
            registry.doc_salience.push(saliences);
        }
        for (e, ent) in entities.iter_mut().enumerate() {
            ent.salience = if ent.docs.is_empty() {
                0.0
            } else {
                salience_sum[e] / ent.docs.len() as f32
            };
        }
        entities.retain(|e| !e.mentions.is_empty());
        // Re-index after dropping entities without mentions (none normally).
        registry.by_id = entities
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id.clone(), i))
            .collect();
        registry.by_doc_id = registry
            .doc_ids
            .iter()
            .enumerate()
            .map(|(i, d)| (d.clone(), i as u32))
            .collect();
        registry.entities = entities;
        registry
    }

    /// The entity with this id.
    pub fn get(&self, id: &str) -> Option<&Entity> {
        self.by_id.get(id).map(|&i| &self.entities[i])
    }

    /// The index of the entity with this id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// The most-mentioned entity of one of `types` whose canonical name or an alias is
    /// `name` (case-insensitive).
    pub fn find_by_name(&self, name: &str, types: &[EntityType]) -> Option<usize> {
        self.by_name
            .get(&name.to_lowercase())?
            .iter()
            .map(|&i| i as usize)
            .filter(|&i| types.contains(&self.entities[i].entity_type))
            .max_by_key(|&i| (self.entities[i].mentions.len(), std::cmp::Reverse(i)))
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
        self.by_doc_id.get(doc_id).copied()
    }

    /// The entity a mention of a document resolved to.
    pub fn entity_of_mention(&self, doc: u32, mention: u32) -> Option<usize> {
        let e = *self
            .mention_entity
            .get(doc as usize)?
            .get(mention as usize)?;
        (e != NONE).then_some(e as usize)
    }

    /// The entities mentioned in a document (indices, ascending).
    pub fn entities_in_doc(&self, doc: u32) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .mention_entity
            .get(doc as usize)
            .map(|m| {
                m.iter()
                    .filter(|&&e| e != NONE)
                    .map(|&e| e as usize)
                    .collect()
            })
            .unwrap_or_default();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// An entity's salience within one document.
    pub fn salience_in(&self, entity: usize, doc: u32) -> Option<f32> {
        self.doc_salience
            .get(doc as usize)?
            .get(&(entity as u32))
            .copied()
    }

    /// Entities co-occurring with `entity`, most co-occurrences first (ties by NPMI),
    /// with up to `evidence` windows each. `sentences(doc)` gives a document's sentences.
    pub fn related<'s>(
        &self,
        entity: usize,
        window: Window,
        evidence: usize,
        sentences: impl Fn(u32) -> Cow<'s, [Range<usize>]>,
    ) -> Vec<Related> {
        let Some(target) = self.entities.get(entity) else {
            return Vec::new();
        };
        /// Per co-occurring entity: count and evidence (document, sentence range).
        type Pairs = HashMap<usize, (u32, Vec<(u32, Range<usize>)>)>;
        let mut pairs: Pairs = HashMap::new();
        for &doc in &target.docs {
            let me = &self.mention_entity[doc as usize];
            let ms = &self.mention_sentence[doc as usize];
            let sents = sentences(doc);
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
                    for other in self.entities_in_doc(doc) {
                        if other == entity {
                            continue;
                        }
                        let slot = pairs.entry(other).or_default();
                        slot.0 += 1;
                        if slot.1.len() < evidence {
                            slot.1.push((doc, first_shared(other)));
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
                                .push((doc, sents.get(s as usize).cloned().unwrap_or(0..0)));
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
            trump.aliases.contains(&"Trump".to_string())
                && trump.aliases.contains(&"President Trump".to_string()),
            "{:?}",
            trump.aliases
        );
        assert_eq!((trump.mentions.len(), trump.docs.len()), (3, 2));
        let putin = persons
            .iter()
            .find(|e| e.name == "Vladimir Putin")
            .expect("the frequent spelling wins");
        assert!(putin.aliases.contains(&"Vladmir Putin".to_string()));
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
        let related = reg.related(w, Window::Sentence, 2, |_| Cow::Borrowed(&sents));
        let names: Vec<(&str, u32)> = related
            .iter()
            .map(|r| (reg.entities[r.entity].name.as_str(), r.count))
            .collect();
        assert_eq!(names, [("Putin", 2), ("Trump", 1)]);
        assert_eq!(&t[related[0].evidence[0].1.clone()], "Witkoff met Putin.");
    }
}

//! The registry's resolution steps (numbered in the parent module's docs), one function
//! each: keys for the mentions, spelling variants merged, surnames and acronyms joined,
//! clusters numbered into entities with canonical names, aliases and ids, and the entities'
//! mention and document lists, sentence counts and salience.
//!
//! Memory: the transients are one entry per distinct name key and one `u32` per mention;
//! each step drops what the next does not need, and the result is built in exactly sized
//! arrays (the resident set of a server that has been asked for entities is what stays, and
//! the peak is what is built).

use super::names::{self, display_form, key_tokens, tokens_match};
use super::{
    exact, find, id_hash, mention_key_of, pack_metadata, title_before, type_prefix, union, Aliases,
    DocInput, Entity, KeyInfo, MentionRef, Registry, NONE,
};
use crate::analysis::{EntityMention, EntityType, MentionKind};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Resolves the mentions of `n` documents into entities; `doc(i)` gives document `i` (called
/// twice per document: once for the keys, once for the mention lists).
pub(super) fn build_from<'a>(n: usize, doc: impl Fn(usize) -> DocInput<'a>) -> Registry {
    let keyed = collect_keys(n, &doc);
    let Keyed {
        doc_ids,
        keys,
        mention_start,
        mention_key,
    } = keyed;
    let types: Vec<EntityType> = keys.info.iter().map(KeyInfo::entity_type).collect();
    let mut parent: Vec<u32> = (0..keys.info.len() as u32).collect();
    merge_spelling_variants(&keys, &types, &mut parent);
    join_short_names(&keys, &types, &mut parent);
    let key_cluster = number_clusters(parent);
    let mut entities = make_entities(&keys, &types, &key_cluster);
    drop((keys, types));
    let mention_entity = sort_by_id(&mut entities, mention_key, key_cluster);
    let lists = fill_lists(n, &doc, &mut entities, &mention_start, &mention_entity);
    finish(entities, lists, doc_ids, mention_start, mention_entity)
}

/// The distinct name keys with their tokens.
struct Keys {
    /// Per key: counts, type votes, displays, titled forms.
    info: Vec<KeyInfo>,
    /// Per key: its tokens joined by spaces.
    text: Vec<Box<str>>,
}

impl Keys {
    fn tokens(&self, k: usize) -> std::str::Split<'_, char> {
        self.text[k].split(' ')
    }

    fn token_count(&self, k: usize) -> usize {
        self.text[k].split(' ').count()
    }

    fn last_token(&self, k: usize) -> &str {
        self.text[k].rsplit(' ').next().unwrap_or("")
    }
}

/// Step 1's result: the documents' ids, the keys and, per mention, its key.
struct Keyed {
    doc_ids: Vec<Arc<str>>,
    keys: Keys,
    /// Per document the start of its mentions in `mention_key` (one more at the end).
    mention_start: Vec<usize>,
    /// Per mention of every document: key index (later: entity index), or [`NONE`].
    mention_key: Vec<u32>,
}

/// Step 1: every name mention gets a key; the keys collect counts, type votes, display forms
/// and "Title Name" forms.
fn collect_keys<'a>(n: usize, doc: &impl Fn(usize) -> DocInput<'a>) -> Keyed {
    let mut doc_ids: Vec<Arc<str>> = Vec::with_capacity(n);
    let mut keys: Vec<KeyInfo> = Vec::new();
    let mut key_index: HashMap<(bool, Box<str>), u32> = HashMap::new();
    let mut mention_start: Vec<usize> = Vec::with_capacity(n + 1);
    let mut mention_key: Vec<u32> = Vec::new();
    for i in 0..n {
        let d = doc(i);
        doc_ids.push(Arc::from(d.id));
        mention_start.push(mention_key.len());
        for m in d.mentions.iter() {
            let k = match name_key(d.text, m) {
                Some((display, lookup)) => {
                    let k = match key_index.get(&lookup) {
                        Some(&k) => k as usize,
                        None => {
                            keys.push(KeyInfo {
                                metadata: pack_metadata(&m.metadata),
                                ..Default::default()
                            });
                            key_index.insert(lookup, (keys.len() - 1) as u32);
                            keys.len() - 1
                        }
                    };
                    count_mention(&mut keys[k], d.text, m, display);
                    k as u32
                }
                None => NONE,
            };
            mention_key.push(k);
        }
    }
    mention_start.push(mention_key.len());
    // The keys' token strings by key index (the map is not needed any more).
    let mut text: Vec<Box<str>> = vec![Box::from(""); keys.len()];
    for ((_, t), k) in key_index {
        text[k as usize] = t;
    }
    Keyed {
        doc_ids,
        keys: Keys { info: keys, text },
        mention_start,
        mention_key,
    }
}

/// The display form of a proper mention and its lookup key (whether a value, its tokens),
/// or `None` for a mention that names no entity.
fn name_key(text: &str, m: &EntityMention) -> Option<(String, (bool, Box<str>))> {
    let surface = text.get(m.start..m.end)?;
    if m.kind != MentionKind::Proper {
        return None;
    }
    let display = if m.entity_type == EntityType::Person {
        names::without_titles(&display_form(surface))
    } else {
        display_form(surface)
    };
    let (is_value, key) = mention_key_of(m, &display)?;
    Some((display, (is_value, key.into_boxed_str())))
}

/// Counts mention `m` (shown as `display`) for its key.
fn count_mention(info: &mut KeyInfo, text: &str, m: &EntityMention, display: String) {
    info.count += 1;
    info.vote(m.entity_type);
    if m.entity_type == EntityType::Person {
        if let Some(title) = title_before(text, m.start) {
            let alias = format!("{title} {display}");
            if !info.titled.iter().any(|t| **t == *alias) {
                info.titled.push(alias.into_boxed_str());
            }
        }
    }
    info.add_display(display);
}

/// Step 2: keys of one type whose tokens are pairwise spelling variants merge (compared
/// within groups of the same type, token count and initial of the last token).
fn merge_spelling_variants(keys: &Keys, types: &[EntityType], parent: &mut [u32]) {
    let mut by_shape: HashMap<(EntityType, usize, char), Vec<u32>> = HashMap::new();
    for (k, &ty) in types.iter().enumerate() {
        if ty.is_value() {
            continue;
        }
        let first = keys.last_token(k).chars().next().unwrap_or(' ');
        by_shape
            .entry((ty, keys.token_count(k), first))
            .or_default()
            .push(k as u32);
    }
    for group in by_shape.values() {
        for (i, &a) in group.iter().enumerate() {
            let a = a as usize;
            for &b in &group[i + 1..] {
                let b = b as usize;
                let variants = keys
                    .tokens(a)
                    .zip(keys.tokens(b))
                    .all(|(x, y)| tokens_match(x, y));
                let some_exact = keys.token_count(a) == 1
                    || keys.tokens(a).zip(keys.tokens(b)).any(|(x, y)| x == y);
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
                    union(parent, a, b);
                }
            }
        }
    }
}

/// Step 3: a one-word person key joins the full name it is the surname of, a one-word
/// organisation or place the name it abbreviates, when one such cluster clearly dominates.
fn join_short_names(keys: &Keys, types: &[EntityType], parent: &mut [u32]) {
    // Mention totals per cluster so far (by root), to pick dominant full names.
    let mut cluster_count: Vec<u32> = vec![0; keys.info.len()];
    for (k, info) in keys.info.iter().enumerate() {
        cluster_count[find(parent, k)] += info.count;
    }
    let index = FullNames::of(keys, types);
    let mut joins = Vec::new();
    for k in 0..keys.info.len() {
        if keys.token_count(k) != 1 {
            continue;
        }
        let mut clusters: Vec<(u32, usize)> = index
            .candidates(keys, types, k)
            .iter()
            .map(|&c| find(parent, c))
            .map(|r| (cluster_count[r], r))
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
    drop((index, cluster_count));
    for (k, target) in joins {
        union(parent, k, target);
    }
}

/// The multi-word keys a one-word key may stand for: persons by surname, organisations and
/// places by initials.
struct FullNames<'k> {
    by_surname: HashMap<(EntityType, &'k str), Vec<usize>>,
    by_initials: HashMap<String, Vec<usize>>,
}

impl<'k> FullNames<'k> {
    fn of(keys: &'k Keys, types: &[EntityType]) -> Self {
        let mut by_surname: HashMap<(EntityType, &str), Vec<usize>> = HashMap::new();
        let mut by_initials: HashMap<String, Vec<usize>> = HashMap::new();
        for (k, &ty) in types.iter().enumerate() {
            let count = keys.token_count(k);
            if count >= 2 && ty == EntityType::Person {
                by_surname
                    .entry((ty, keys.last_token(k)))
                    .or_default()
                    .push(k);
            }
            if count >= 2 && matches!(ty, EntityType::Organization | EntityType::Location) {
                let initials: String = keys
                    .tokens(k)
                    .filter(|t| !matches!(*t, "of" | "the" | "and" | "for" | "&"))
                    .filter_map(|t| t.chars().next())
                    .collect();
                if initials.len() >= 2 {
                    by_initials.entry(initials).or_default().push(k);
                }
            }
        }
        FullNames {
            by_surname,
            by_initials,
        }
    }

    /// The keys one-word key `k` may join.
    fn candidates(&self, keys: &Keys, types: &[EntityType], k: usize) -> Vec<usize> {
        let token = &*keys.text[k];
        match types[k] {
            EntityType::Person => {
                let mut c: Vec<usize> = self
                    .by_surname
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
                self.by_initials
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
        }
    }
}

/// Clusters, numbered in order of their first key: the cluster of every key.
fn number_clusters(mut parent: Vec<u32>) -> Vec<u32> {
    let mut cluster_of_root: Vec<u32> = vec![NONE; parent.len()];
    let mut key_cluster: Vec<u32> = Vec::with_capacity(parent.len());
    let mut cluster_count = 0u32;
    for k in 0..parent.len() {
        let r = find(&mut parent, k);
        if cluster_of_root[r] == NONE {
            cluster_of_root[r] = cluster_count;
            cluster_count += 1;
        }
        key_cluster.push(cluster_of_root[r]);
    }
    key_cluster
}

/// Steps 4 and 5: one entity per cluster, in cluster order, with its canonical name,
/// aliases and id (mention lists still empty).
fn make_entities(keys: &Keys, types: &[EntityType], key_cluster: &[u32]) -> Vec<Entity> {
    let cluster_count = key_cluster.iter().max().map_or(0, |&c| c as usize + 1);
    // Members ascending (the first is the root: a union keeps the lower index as root).
    let mut members_flat: Vec<u32> = (0..keys.info.len() as u32).collect();
    members_flat.sort_by_key(|&k| key_cluster[k as usize]);
    let mut entities: Vec<Entity> = Vec::with_capacity(cluster_count);
    for members in
        members_flat.chunk_by(|&a, &b| key_cluster[a as usize] == key_cluster[b as usize])
    {
        entities.push(make_entity(keys, types[members[0] as usize], members));
    }
    entities
}

/// The entity of one cluster of keys (`members`, root first) of type `ty`.
fn make_entity(keys: &Keys, ty: EntityType, members: &[u32]) -> Entity {
    let root = members[0] as usize;
    // Canonical: most words, then most frequent display, then alphabetical.
    let mut displays: BTreeMap<&str, u32> = BTreeMap::new();
    for &k in members {
        for (d, n) in &keys.info[k as usize].displays {
            *displays.entry(d).or_default() += n;
        }
    }
    let canonical_key = members
        .iter()
        .map(|&k| k as usize)
        .max_by_key(|&k| {
            (
                keys.token_count(k),
                keys.info[k].count,
                std::cmp::Reverse(k),
            )
        })
        .unwrap_or(root);
    let name = keys.info[canonical_key]
        .displays
        .iter()
        .max_by_key(|(d, n)| (key_tokens(d, ty).len(), *n, std::cmp::Reverse(&**d)))
        .map(|(d, _)| d.to_string())
        .unwrap_or_default();
    let mut aliases: Vec<String> = displays
        .keys()
        .filter(|d| **d != name)
        .map(|d| (*d).to_string())
        .collect();
    for &k in members {
        for alias in &keys.info[k as usize].titled {
            if **alias != *name {
                aliases.push(alias.to_string());
            }
        }
    }
    aliases.sort();
    aliases.dedup();
    let id_key = format!("{}|{}", type_prefix(ty), keys.text[canonical_key]);
    let mut id = format!(
        "{}-{:012x}",
        type_prefix(ty),
        id_hash(&id_key) & 0xffff_ffff_ffff
    );
    id.shrink_to_fit();
    Entity {
        id,
        name,
        entity_type: ty,
        mentions: Box::default(),
        docs: Box::default(),
        salience: 0.0,
        aliases: Aliases::new(&aliases, &keys.info[canonical_key].metadata),
        sentence_count: 0,
    }
}

/// Sorts `entities` by id (stable order) and turns the mention keys into entity indices.
fn sort_by_id(
    entities: &mut [Entity],
    mut mention_key: Vec<u32>,
    key_cluster: Vec<u32>,
) -> Vec<u32> {
    // A stable sort: the same permutation as sorting indices.
    let mut order: Vec<u32> = (0..entities.len() as u32).collect();
    order.sort_by(|&a, &b| entities[a as usize].id.cmp(&entities[b as usize].id));
    let mut new_index = vec![0u32; entities.len()];
    for (new, &old) in order.iter().enumerate() {
        new_index[old as usize] = new as u32;
    }
    drop(order);
    entities.sort_by(|a, b| a.id.cmp(&b.id));
    for k in &mut mention_key {
        if *k != NONE {
            *k = new_index[key_cluster[*k as usize] as usize];
        }
    }
    mention_key
}

/// Per entity its mentions and documents; per document its entities with salience weights.
struct Lists {
    mentions: Vec<Vec<MentionRef>>,
    docs: Vec<Vec<u32>>,
    /// Per document the start of its entities in `doc_entities` (one more at the end).
    entity_start: Vec<usize>,
    doc_entities: Vec<(u32, f32)>,
    /// Per entity the sum of its per-document salience.
    salience_sum: Vec<f32>,
    total_sentences: u64,
}

/// Exactly sized, empty mention and document lists per entity (counted first).
fn empty_lists(
    n: usize,
    entities: usize,
    mention_start: &[usize],
    mention_entity: &[u32],
) -> (Vec<Vec<MentionRef>>, Vec<Vec<u32>>) {
    let mut mention_count = vec![0u32; entities];
    let mut doc_count = vec![0u32; entities];
    let mut last_doc = vec![NONE; entities];
    for di in 0..n {
        for &e in &mention_entity[mention_start[di]..mention_start[di + 1]] {
            if e == NONE {
                continue;
            }
            mention_count[e as usize] += 1;
            if last_doc[e as usize] != di as u32 {
                last_doc[e as usize] = di as u32;
                doc_count[e as usize] += 1;
            }
        }
    }
    drop(last_doc);
    let mentions = mention_count
        .iter()
        .map(|&c| Vec::with_capacity(c as usize))
        .collect();
    let docs = doc_count
        .iter()
        .map(|&c| Vec::with_capacity(c as usize))
        .collect();
    (mentions, docs)
}

/// The second pass over the documents: mentions, documents, sentence counts and salience.
fn fill_lists<'a>(
    n: usize,
    doc: &impl Fn(usize) -> DocInput<'a>,
    entities: &mut [Entity],
    mention_start: &[usize],
    mention_entity: &[u32],
) -> Lists {
    let (mentions, docs) = empty_lists(n, entities.len(), mention_start, mention_entity);
    let mut lists = Lists {
        mentions,
        docs,
        entity_start: Vec::with_capacity(n + 1),
        doc_entities: Vec::new(),
        salience_sum: vec![0f32; entities.len()],
        total_sentences: 0,
    };
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    for di in 0..n {
        let d = doc(di);
        let me = &mention_entity[mention_start[di]..mention_start[di + 1]];
        lists.add_doc(di, &d, me, entities, &mut pairs);
    }
    lists.entity_start.push(lists.doc_entities.len());
    lists
}

impl Lists {
    /// Adds document `di`, whose mentions are of entities `me` (or [`NONE`]); `pairs` is
    /// scratch space.
    fn add_doc(
        &mut self,
        di: usize,
        d: &DocInput<'_>,
        me: &[u32],
        entities: &mut [Entity],
        pairs: &mut Vec<(u32, u32)>,
    ) {
        let first = self.doc_entities.len();
        self.entity_start.push(first);
        pairs.clear();
        for (mi, (m, &e)) in d.mentions.iter().zip(me).enumerate() {
            if e == NONE {
                continue;
            }
            let sentence = d.sentences.partition_point(|s| s.end <= m.start) as u32;
            self.mentions[e as usize].push(MentionRef {
                doc: di as u32,
                mention: mi as u32,
            });
            if self.docs[e as usize].last() != Some(&(di as u32)) {
                self.docs[e as usize].push(di as u32);
            }
            pairs.push((e, sentence));
            // Earlier mentions weigh more: the lede says what the story is about.
            let position = 1.0 + 1.0 / (1.0 + sentence as f32 / 3.0);
            let value_discount = if entities[e as usize].entity_type.is_value() {
                0.3
            } else {
                1.0
            };
            let w = position * value_discount;
            match self.doc_entities[first..].binary_search_by(|(x, _)| x.cmp(&e)) {
                Ok(i) => self.doc_entities[first + i].1 += w,
                Err(i) => self.doc_entities.insert(first + i, (e, w)),
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        for &(e, _) in pairs.iter() {
            entities[e as usize].sentence_count += 1;
        }
        let total: f32 = self.doc_entities[first..].iter().map(|(_, w)| w).sum();
        for (e, w) in &mut self.doc_entities[first..] {
            *w = if total > 0.0 { *w / total } else { 0.0 };
            self.salience_sum[*e as usize] += *w;
        }
        self.total_sentences += d.sentences.len().max(1) as u64;
    }
}

/// The registry: entities get their lists and salience, strings are repacked, documents
/// get their id order.
fn finish(
    mut entities: Vec<Entity>,
    lists: Lists,
    doc_ids: Vec<Arc<str>>,
    mention_start: Vec<usize>,
    mention_entity: Vec<u32>,
) -> Registry {
    let Lists {
        mentions,
        docs,
        entity_start,
        doc_entities,
        salience_sum,
        total_sentences,
    } = lists;
    for (e, ((ent, m), d)) in entities.iter_mut().zip(mentions).zip(docs).enumerate() {
        ent.salience = if d.is_empty() {
            0.0
        } else {
            salience_sum[e] / d.len() as f32
        };
        ent.mentions = exact(m);
        ent.docs = exact(d);
    }
    debug_assert!(entities.iter().all(|e| !e.mentions.is_empty()));
    // The strings made during resolution sit among the freed transients of the keys; copies
    // made now pack together (the allocator fills the lowest free slots), and the pages the
    // transients held can go back.
    for e in &mut entities {
        e.id = e.id.as_str().to_owned();
        e.name = e.name.as_str().to_owned();
        e.aliases = Aliases(Box::from(&*e.aliases.0));
    }
    let doc_ids: Vec<Arc<str>> = doc_ids.iter().map(|d| Arc::from(&**d)).collect();
    let doc_order: Box<[u32]> = if doc_ids.windows(2).all(|w| w[0] < w[1]) {
        Box::default()
    } else {
        let mut order: Vec<u32> = (0..doc_ids.len() as u32).collect();
        order.sort_by(|&a, &b| doc_ids[a as usize].cmp(&doc_ids[b as usize]));
        exact(order)
    };
    Registry {
        entities,
        doc_ids,
        doc_order,
        mention_start: exact(mention_start),
        mention_entity: exact(mention_entity),
        entity_start: exact(entity_start),
        doc_entities: exact(doc_entities),
        total_sentences,
    }
}

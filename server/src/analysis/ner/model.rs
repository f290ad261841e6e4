//! The tagger's model: feature weights per BILOU label, label transitions, the word clusters,
//! Viterbi decoding, and the compact binary format the weights ship in.
//!
//! Labels are `O` plus B/I/L/U for each CoNLL type (PER, ORG, LOC, MISC): 17 in all. Decoding
//! is first-order Viterbi under the BILOU grammar (an `I` or `L` only after a `B` or `I` of
//! the same type), so every output is a well-formed set of spans.
//!
//! Binary format (little-endian): `b"DNER"`, version `u32`, the clusters
//! (a count of sets, each as `WordClusters::write` writes it), the gazetteer (a count, then
//! `(phrase hash u64, list mask u8)` pairs), a count of stages `u32`, then per stage: `NL` start weights and
//! `NL×NL` transition weights as `f32`, and the features: a count, a scale `f32`, and per
//! feature its key `u64`, a count of non-zero weights `u8` and that many `(label u8, weight
//! i16)` pairs (weight × scale = the value).

use super::clusters::WordClusters;
use super::features::{
    analyze_tokens, describe_key, doc_features, neighbour_features, own_features, pair_features,
    set_doc_labels, IdMap, Near, Scratch, TokInfo,
};
use super::gazetteer::Gazetteer;
use super::table::{Reader, Writer};
use super::NerError;
use crate::analysis::tokenize::Token;
use std::ops::Range;

/// Number of labels: O + 4 types × BILOU.
pub const NL: usize = 17;
/// Number of entity types the model tags.
pub const NTYPES: usize = 4;

const MAGIC: &[u8; 4] = b"DNER";
const VERSION: u32 = 4;

/// The part of a span a label marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Outside any span.
    O,
    /// First token of a multi-token span.
    B,
    /// Inside a multi-token span.
    I,
    /// Last token of a multi-token span.
    L,
    /// A one-token span.
    U,
}

/// The label index for `part` of type `ty` (0..NTYPES); `O` ignores `ty`.
pub fn label(part: Part, ty: usize) -> u8 {
    let p = match part {
        Part::O => return 0,
        Part::B => 0,
        Part::I => 1,
        Part::L => 2,
        Part::U => 3,
    };
    (1 + 4 * ty + p) as u8
}

/// The part and type of a label.
pub fn split_label(l: u8) -> (Part, usize) {
    if l == 0 || l as usize >= NL {
        return (Part::O, 0);
    }
    let k = l as usize - 1;
    let part = match k % 4 {
        0 => Part::B,
        1 => Part::I,
        2 => Part::L,
        _ => Part::U,
    };
    (part, k / 4)
}

/// True when label `cur` may follow label `prev` (`None` = sentence start).
pub fn allowed(prev: Option<u8>, cur: u8) -> bool {
    let (cp, ct) = split_label(cur);
    match prev.map(split_label) {
        Some((Part::B | Part::I, pt)) => matches!(cp, Part::I | Part::L) && ct == pt,
        _ => matches!(cp, Part::O | Part::B | Part::U),
    }
}

/// True when a sentence may end on label `l`.
pub fn may_end(l: u8) -> bool {
    matches!(split_label(l).0, Part::O | Part::L | Part::U)
}

/// One slot of a stage's feature index: the high half of the feature hash (0 = empty) and
/// the feature's row. Slots are 8 bytes, so a probe touches one cache line.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    fp: u32,
    row: u32,
}

/// The word of [`KeyIndex::filter`] for feature hash `key`.
#[inline]
fn filter_word(key: u64, mask: usize) -> usize {
    (key >> 40) as usize & mask
}

/// The three bits of [`KeyIndex::filter`] for feature hash `key`.
#[inline]
fn filter_bits(key: u64) -> u64 {
    1 << ((key >> 1) & 63) | 1 << ((key >> 7) & 63) | 1 << ((key >> 13) & 63)
}

#[inline]
fn fingerprint(key: u64) -> u32 {
    ((key >> 32) as u32) | 1
}

/// Feature hash → row: an open-addressing index of 8-byte slots (position from the low bits
/// of the hash, fingerprint from the high bits) behind a Bloom filter.
#[derive(Debug, Clone, Default)]
struct KeyIndex {
    slots: Vec<Slot>,
    mask: usize,
    /// A Bloom filter over the feature hashes (one 64-bit word per key, three bits set), small
    /// enough to stay in cache: a quarter of the features looked up are not in the model,
    /// and this answers most of those without touching the index.
    filter: Vec<u64>,
}

impl KeyIndex {
    /// Indexes `keys` (non-zero) as rows 0, 1, …; returns the index and, per key, whether it
    /// got its own row (false for a repeated key, or a 2^-64 fingerprint clash: the first
    /// wins). Rows are numbered over the kept keys only.
    fn new(keys: &[u64]) -> (KeyIndex, Vec<bool>) {
        let size = (keys.len().max(4) * 2).next_power_of_two();
        let mut slots = vec![Slot::default(); size];
        let mask = size - 1;
        let mut kept = Vec::with_capacity(keys.len());
        let mut rows = 0u32;
        for &k in keys {
            let fp = fingerprint(k);
            let mut i = k as usize & mask;
            let mut duplicate = false;
            while slots[i].fp != 0 {
                if slots[i].fp == fp {
                    duplicate = true;
                    break;
                }
                i = (i + 1) & mask;
            }
            kept.push(!duplicate);
            if !duplicate {
                slots[i] = Slot { fp, row: rows };
                rows += 1;
            }
        }
        let words = (rows as usize / 8).max(1).next_power_of_two();
        let mut filter = vec![0u64; words];
        for (&k, _) in keys.iter().zip(&kept).filter(|(_, &kept)| kept) {
            filter[filter_word(k, words - 1)] |= filter_bits(k);
        }
        (
            KeyIndex {
                slots,
                mask,
                filter,
            },
            kept,
        )
    }

    /// The row of feature hash `key` when it is not in its home slot `home` (which holds
    /// another key): the linear probe from the next slot on.
    fn row_after(&self, key: u64, home: usize) -> Option<usize> {
        let fp = fingerprint(key);
        let mut i = (home + 1) & self.mask;
        loop {
            let slot = self.slots.get(i)?;
            if slot.fp == fp {
                return Some(slot.row as usize);
            }
            if slot.fp == 0 || i == home {
                return None;
            }
            i = (i + 1) & self.mask;
        }
    }

    /// The row of feature hash `key`, if indexed.
    #[inline]
    fn row(&self, key: u64) -> Option<usize> {
        let fmask = self.filter.len().checked_sub(1)?;
        let bits = filter_bits(key);
        if self.filter[filter_word(key, fmask)] & bits != bits {
            return None;
        }
        let fp = fingerprint(key);
        let mut i = key as usize & self.mask;
        loop {
            let slot = self.slots.get(i)?;
            if slot.fp == fp {
                return Some(slot.row as usize);
            }
            if slot.fp == 0 {
                return None;
            }
            i = (i + 1) & self.mask;
        }
    }
}

/// Lanes of the joint sums: the first stage's labels, then the second's.
const NJ: usize = 2 * NL;

/// The weights of the first two stages under one index: a second stage re-weights the very
/// features of the first (plus the few [`doc_features`]), so one probe per feature fetches
/// both stages' weights, and the second stage costs no lookups of its own but for the
/// document features. Rows hold `NJ` weights (zero where a stage lacks the feature).
#[derive(Debug, Clone, Default)]
struct Joint {
    /// Tells these weights from any other's in the per-thread [`SumCache`] (a clone shares
    /// them, and the id).
    id: u64,
    index: KeyIndex,
    weights: Vec<i16>,
}

impl Joint {
    /// Merges the rows of `stages` (the first two).
    fn new(stages: &[Stage]) -> Joint {
        let mut row_of: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
        let mut keys = Vec::new();
        let mut weights: Vec<i16> = Vec::new();
        for (k, stage) in stages.iter().take(2).enumerate() {
            for (r, &key) in stage.keys.iter().enumerate() {
                let row = *row_of.entry(key).or_insert_with(|| {
                    keys.push(key);
                    weights.resize(weights.len() + NJ, 0);
                    keys.len() - 1
                });
                weights[row * NJ + k * NL..row * NJ + k * NL + NL]
                    .copy_from_slice(&stage.weights[r * NL..r * NL + NL]);
            }
        }
        // Stage keys are unique and non-zero, so every key keeps its row.
        let (index, _) = KeyIndex::new(&keys);
        Joint {
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            index,
            weights,
        }
    }

    /// The sums of the weights of `feats` for both stages.
    ///
    /// The index and the weights are far larger than the caches, so nearly every lookup
    /// misses twice (its slot, then its row). The lookups of a batch of features run in
    /// three passes (load every slot, then resolve the rows, then load and add every row)
    /// so that the misses of one pass are independent loads the processor overlaps, instead
    /// of each waiting behind the previous feature's branches.
    #[inline]
    fn sum(&self, feats: &[u64]) -> [i32; NJ] {
        const BATCH: usize = 16;
        let mut acc = [0i32; NJ];
        let index = &self.index;
        let Some(fmask) = index.filter.len().checked_sub(1) else {
            return acc;
        };
        for chunk in feats.chunks(BATCH) {
            let mut found = [(0u64, 0usize, Slot::default()); BATCH];
            let mut n = 0;
            for &f in chunk {
                let bits = filter_bits(f);
                if index.filter[filter_word(f, fmask)] & bits != bits {
                    continue;
                }
                let i = f as usize & index.mask;
                if let Some(&slot) = index.slots.get(i) {
                    found[n] = (f, i, slot);
                    n += 1;
                }
            }
            let mut rows = [0usize; BATCH];
            let mut m = 0;
            for &(f, i, slot) in &found[..n] {
                let row = if slot.fp == fingerprint(f) {
                    Some(slot.row as usize)
                } else if slot.fp == 0 {
                    None
                } else {
                    index.row_after(f, i)
                };
                if let Some(r) = row {
                    rows[m] = r;
                    m += 1;
                }
            }
            for &r in &rows[..m] {
                if let Some(w) = self.weights.get(r * NJ..r * NJ + NJ) {
                    for (a, &x) in acc.iter_mut().zip(w) {
                        *a += i32::from(x);
                    }
                }
            }
        }
        acc
    }

    /// Sums every token's features but the document features, for both stages at once, into
    /// `ws.acc`, given the token descriptions in `ws.infos`.
    ///
    /// A token's score sums the weights of some fifty features, most of which depend on one
    /// token description alone (its own, or a neighbour's); a document repeats descriptions
    /// ("the", ",", a name), so those sums are computed once per distinct description
    /// ([`TypeSums`]) and only the features that combine two tokens are looked up per token.
    fn sum_tokens(&self, sents: &[Range<usize>], ws: &mut Workspace) {
        ws.types.build(&ws.infos);
        ws.sums.clear();
        for (&first, &key) in ws.types.first.iter().zip(&ws.types.keys) {
            let t = &ws.infos[first as usize];
            if let Some(sums) = ws.cache.get(self.id, key, t) {
                ws.sums.push(*sums);
                continue;
            }
            let mut sums = [[0i32; NJ]; 5];
            ws.feats.clear();
            own_features(t, &mut ws.feats);
            sums[0] = self.sum(&ws.feats);
            for (k, near) in Near::ALL.into_iter().enumerate() {
                ws.feats.clear();
                neighbour_features(near, Some(t), &mut ws.feats);
                sums[k + 1] = self.sum(&ws.feats);
            }
            ws.cache.put(self.id, key, t, &sums);
            ws.sums.push(sums);
        }
        let mut edge = [[0i32; NJ]; 4];
        for (k, near) in Near::ALL.into_iter().enumerate() {
            ws.feats.clear();
            neighbour_features(near, None, &mut ws.feats);
            edge[k] = self.sum(&ws.feats);
        }
        ws.acc.clear();
        ws.acc.resize(ws.infos.len(), [0; NJ]);
        for s in sents {
            for i in s.clone() {
                let at = |d: isize| {
                    let j = i as isize + d;
                    (j >= s.start as isize && j < s.end as isize).then_some(j as usize)
                };
                let type_of = |j: usize| ws.types.of[j] as usize;
                let mut acc = ws.sums[type_of(i)][0];
                for (k, near) in Near::ALL.into_iter().enumerate() {
                    let add = match at(near.offset()) {
                        Some(j) => &ws.sums[type_of(j)][k + 1],
                        None => &edge[k],
                    };
                    for (a, &x) in acc.iter_mut().zip(add) {
                        *a += x;
                    }
                }
                ws.feats.clear();
                let info = |j: Option<usize>| j.and_then(|j| ws.infos.get(j));
                pair_features(&ws.infos[i], info(at(-1)), info(at(1)), &mut ws.feats);
                for (a, x) in acc.iter_mut().zip(self.sum(&ws.feats)) {
                    *a += x;
                }
                ws.acc[i] = acc;
            }
        }
    }
}

/// Ids of [`Joint`] weights (0: none).
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// One tagging pass: feature weights per label and label transitions.
///
/// Built for lookups: an index of 8-byte slots (`KeyIndex`) and `i16` weights summed in
/// `i32`, so the ~45 lookups per token stay in cache as much as possible. A [`Model`] tags
/// through the `Joint` index of its stages; a stage's own index serves the document
/// features and the tests.
#[derive(Debug, Clone)]
pub struct Stage {
    index: KeyIndex,
    /// Full feature hash per row (for writing the model).
    keys: Vec<u64>,
    /// `NL` quantised weights per row.
    weights: Vec<i16>,
    /// Weight × scale = score.
    scale: f32,
    /// Score of each label at a sentence start.
    pub(crate) start: [f32; NL],
    /// `trans[prev * NL + cur]`.
    pub(crate) trans: Vec<f32>,
}

impl Default for Stage {
    fn default() -> Self {
        Stage::new(std::iter::empty(), 1.0, [0.0; NL], vec![0.0; NL * NL])
    }
}

impl Stage {
    /// Builds a stage from `(feature hash, quantised weights)` rows; all-zero rows are
    /// dropped.
    pub(crate) fn new(
        rows: impl IntoIterator<Item = (u64, [i16; NL])>,
        scale: f32,
        start: [f32; NL],
        trans: Vec<f32>,
    ) -> Stage {
        let mut keys = Vec::new();
        let mut weights = Vec::new();
        for (k, w) in rows {
            if k == 0 || w.iter().all(|&x| x == 0) {
                continue;
            }
            keys.push(k);
            weights.extend_from_slice(&w);
        }
        let (index, kept) = KeyIndex::new(&keys);
        let mut kept_keys = Vec::with_capacity(keys.len());
        let mut kept_weights = Vec::with_capacity(weights.len());
        for (r, (&k, _)) in keys.iter().zip(&kept).enumerate().filter(|(_, (_, &k))| k) {
            kept_keys.push(k);
            kept_weights.extend_from_slice(&weights[r * NL..r * NL + NL]);
        }
        Stage {
            index,
            keys: kept_keys,
            weights: kept_weights,
            scale,
            start,
            trans: if trans.len() == NL * NL {
                trans
            } else {
                vec![0.0; NL * NL]
            },
        }
    }

    /// Quantises `f32` rows to `i16` with one scale for the whole stage.
    pub(crate) fn quantize(
        rows: Vec<(u64, [f32; NL])>,
        start: [f32; NL],
        trans: Vec<f32>,
    ) -> Stage {
        let max = rows
            .iter()
            .flat_map(|(_, w)| w)
            .fold(0f32, |m, x| m.max(x.abs()));
        let scale = if max > 0.0 { max / 32767.0 } else { 1.0 };
        let q = rows.into_iter().map(|(k, w)| {
            let mut out = [0i16; NL];
            for (o, x) in out.iter_mut().zip(w) {
                *o = (x / scale).round() as i16;
            }
            (k, out)
        });
        Stage::new(q, scale, start, trans)
    }

    /// The average of several stages (an ensemble of perceptrons trained on different
    /// shuffles): weights, starts and transitions averaged feature by feature.
    pub fn average(stages: &[Stage]) -> Stage {
        let n = stages.len().max(1) as f32;
        let mut sum: std::collections::HashMap<u64, [f32; NL]> = std::collections::HashMap::new();
        let mut start = [0f32; NL];
        let mut trans = vec![0f32; NL * NL];
        for s in stages {
            for (r, &k) in s.keys.iter().enumerate() {
                let e = sum.entry(k).or_insert([0.0; NL]);
                for (l, x) in e.iter_mut().enumerate() {
                    *x += f32::from(s.weights[r * NL + l]) * s.scale / n;
                }
            }
            for (a, b) in start.iter_mut().zip(s.start) {
                *a += b / n;
            }
            for (a, b) in trans.iter_mut().zip(&s.trans) {
                *a += b / n;
            }
        }
        let mut rows: Vec<(u64, [f32; NL])> = sum.into_iter().collect();
        rows.sort_unstable_by_key(|r| r.0);
        Stage::quantize(rows, start, trans)
    }

    /// Number of features with a weight.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when the stage has no feature.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The sum of the weights of `feats`, per label.
    #[inline]
    fn sum(&self, feats: &[u64]) -> [i32; NL] {
        let mut acc = [0i32; NL];
        for &f in feats {
            let Some(row) = self.index.row(f) else {
                continue;
            };
            if let Some(w) = self.weights.get(row * NL..row * NL + NL) {
                for (a, &x) in acc.iter_mut().zip(w) {
                    *a += i32::from(x);
                }
            }
        }
        acc
    }

    /// Sums the weights of `feats` into `out` (the scores of one token, feature by feature:
    /// what the tests compare the tagger's grouped sums with).
    #[cfg(test)]
    pub(crate) fn emissions(&self, feats: &[u64], out: &mut [f32; NL]) {
        self.scores(&self.sum(feats), out);
    }

    /// Scales summed weights to scores.
    #[inline]
    fn scores(&self, acc: &[i32; NL], out: &mut [f32; NL]) {
        for (o, &a) in out.iter_mut().zip(acc) {
            *o = a as f32 * self.scale;
        }
    }

    /// Decodes every sentence with this stage's start and transition scores, given its
    /// emission scores in `out.scores`: labels by Viterbi, then (in sentences with a span)
    /// the scores replaced by max-marginals.
    fn decode(&self, sents: &[Range<usize>], ws: &mut Workspace, out: &mut Tagging) {
        for s in sents {
            viterbi(
                &self.start,
                &self.trans,
                &out.scores[s.clone()],
                &mut ws.forward,
                &mut out.labels[s.clone()],
            );
            // Confidences are only read for spans: a sentence without one needs no marginals.
            if out.labels[s.clone()].iter().any(|&l| l != 0) {
                max_marginals(
                    &self.start,
                    &self.trans,
                    &mut out.scores[s.clone()],
                    &ws.forward,
                    &mut ws.back_scores,
                );
            }
        }
    }

    /// Writes the stage: sparse rows of `(label, i16)` pairs.
    fn write(&self, w: &mut Writer) {
        for x in self.start {
            w.f32(x);
        }
        for &x in &self.trans {
            w.f32(x);
        }
        let mut order: Vec<usize> = (0..self.keys.len()).collect();
        order.sort_unstable_by_key(|&r| self.keys[r]);
        w.u32(order.len() as u32);
        w.f32(self.scale);
        for r in order {
            let row = &self.weights[r * NL..r * NL + NL];
            w.u64(self.keys[r]);
            w.u8(row.iter().filter(|&&x| x != 0).count() as u8);
            for (l, &x) in row.iter().enumerate() {
                if x != 0 {
                    w.u8(l as u8);
                    w.i16(x);
                }
            }
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, NerError> {
        let mut start = [0.0; NL];
        for x in &mut start {
            *x = r.f32()?;
        }
        let mut trans = vec![0.0; NL * NL];
        for x in &mut trans {
            *x = r.f32()?;
        }
        let n = r.count(9)?;
        let scale = r.f32()?;
        let mut rows = Vec::with_capacity(n);
        for _ in 0..n {
            let key = r.u64()?;
            if key == 0 {
                return Err(NerError::Format("zero feature key".into()));
            }
            let mut row = [0i16; NL];
            for _ in 0..r.u8()? {
                let l = r.u8()? as usize;
                let x = r.i16()?;
                let Some(slot) = row.get_mut(l) else {
                    return Err(NerError::Format(format!("label {l}")));
                };
                *slot = x;
            }
            rows.push((key, row));
        }
        Ok(Stage::new(rows, scale, start, trans))
    }
}

/// The trained tagger: word clusters and one or two stages. The second stage sees, as extra
/// features, how the first stage labelled the same word elsewhere in the document.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// Word clusters used by the features.
    pub(crate) clusters: Vec<WordClusters>,
    /// Place and first-name lists used by the features.
    pub(crate) gazetteer: Gazetteer,
    /// The passes, in order (at most two).
    stages: Vec<Stage>,
    /// The stages' weights under one index, as tagging reads them.
    joint: Joint,
}

/// Reusable buffers for tagging documents.
#[derive(Default)]
pub(crate) struct Workspace {
    pub scratch: Scratch,
    pub infos: Vec<TokInfo>,
    pub feats: Vec<u64>,
    /// The document's distinct token descriptions.
    pub types: TypeSums,
    /// Per distinct description: the weight sums of its own features and of the features it
    /// gives its neighbours (in [`Near::ALL`] order).
    pub sums: Vec<[[i32; NJ]; 5]>,
    /// Per token, the sums of all its features but the document features, for both stages.
    pub acc: Vec<[i32; NJ]>,
    /// Sums of descriptions met in earlier documents.
    pub cache: SumCache,
    pub back_scores: Vec<[f32; NL]>,
    /// Forward (Viterbi) scores of the sentence being tagged.
    pub forward: Vec<[f32; NL]>,
}

/// The distinct token descriptions of a document.
#[derive(Default)]
pub(crate) struct TypeSums {
    /// Description key → index into `first`.
    ids: IdMap<u32>,
    /// Per distinct description, its first token.
    pub first: Vec<u32>,
    /// Per distinct description, its key ([`describe_key`]).
    pub keys: Vec<u64>,
    /// Per token, the index of its description in `first`.
    pub of: Vec<u32>,
}

impl TypeSums {
    /// Groups equal descriptions of `infos`.
    fn build(&mut self, infos: &[TokInfo]) {
        self.ids.clear();
        self.first.clear();
        self.keys.clear();
        self.of.clear();
        for (i, t) in infos.iter().enumerate() {
            let next = self.first.len() as u32;
            let key = describe_key(t);
            let id = *self.ids.entry(key).or_insert(next);
            let id =
                if infos[self.first.get(id as usize).copied().unwrap_or(i as u32) as usize] == *t {
                    id
                } else {
                    next // a different description with the same key: its own group
                };
            if id == next {
                self.first.push(i as u32);
                self.keys.push(key);
            }
            self.of.push(id);
        }
    }
}

/// Entries of a [`SumCache`].
const CACHE_SIZE: usize = 4096;

/// The weight sums of token descriptions met in earlier documents, per thread: a news corpus
/// has a few tens of thousands of distinct descriptions ("the" after a capital, "said",
/// ","), which come back document after document, so most descriptions' sums are found here
/// instead of summed again from some forty features. Two-way set-associative on the
/// description key; an entry is used only for the very same description under the very same
/// weights.
#[derive(Default)]
pub(crate) struct SumCache {
    entries: Vec<CacheEntry>,
}

#[derive(Clone, Copy)]
struct CacheEntry {
    /// [`Joint::id`] (0: empty).
    stage: u64,
    info: TokInfo,
    sums: [[i32; NJ]; 5],
}

impl SumCache {
    /// The first of the two entries description key `key` may live in (bit 0 of a key is
    /// always set, so it is skipped).
    fn set(key: u64) -> usize {
        (key >> 1) as usize % (CACHE_SIZE / 2) * 2
    }

    /// The sums of description `t` (whose key is `key`) under stage `stage`, if cached.
    fn get(&self, stage: u64, key: u64, t: &TokInfo) -> Option<&[[i32; NJ]; 5]> {
        let set = Self::set(key);
        self.entries
            .get(set..set + 2)?
            .iter()
            .find(|e| e.stage == stage && e.info == *t)
            .map(|e| &e.sums)
    }

    /// Caches the sums of description `t` under stage `stage`, in the first entry of its set
    /// (the entry there moves to the second, whose entry is dropped).
    fn put(&mut self, stage: u64, key: u64, t: &TokInfo, sums: &[[i32; NJ]; 5]) {
        if self.entries.is_empty() {
            let empty = CacheEntry {
                stage: 0,
                info: TokInfo::default(),
                sums: [[0; NJ]; 5],
            };
            self.entries = vec![empty; CACHE_SIZE];
        }
        let set = Self::set(key);
        self.entries[set + 1] = self.entries[set];
        self.entries[set] = CacheEntry {
            stage,
            info: *t,
            sums: *sums,
        };
    }
}

/// The tagging of one document.
#[derive(Debug, Default)]
pub(crate) struct Tagging {
    /// One label per token.
    pub labels: Vec<u8>,
    /// Per token and label, the score of the best whole-sentence labelling that gives the
    /// token that label (max-marginals): the Viterbi label has the top score, and the gap to
    /// the others measures how sure the tagger is.
    pub scores: Vec<[f32; NL]>,
}

impl Model {
    /// A model of `stages` (one or two; any further stage is ignored) over these resources.
    pub(crate) fn new(
        clusters: Vec<WordClusters>,
        gazetteer: Gazetteer,
        stages: Vec<Stage>,
    ) -> Self {
        let mut stages = stages;
        stages.truncate(2);
        Model {
            joint: Joint::new(&stages),
            clusters,
            gazetteer,
            stages,
        }
    }

    /// Number of feature rows over all stages.
    pub fn num_features(&self) -> usize {
        self.stages.iter().map(Stage::len).sum()
    }

    /// Tags a document whose sentences are the token index ranges `sents`.
    pub(crate) fn tag(
        &self,
        text: &str,
        tokens: &[Token],
        sents: &[Range<usize>],
        ws: &mut Workspace,
    ) -> Tagging {
        analyze_tokens(
            text,
            tokens,
            sents,
            &self.clusters,
            &self.gazetteer,
            &mut ws.scratch,
            &mut ws.infos,
        );
        let mut out = Tagging {
            labels: vec![0; tokens.len()],
            scores: vec![[0.0; NL]; tokens.len()],
        };
        let Some(first) = self.stages.first() else {
            return out;
        };
        self.joint.sum_tokens(sents, ws);
        for (acc, o) in ws.acc.iter().zip(out.scores.iter_mut()) {
            first.scores(acc[..NL].try_into().unwrap_or(&[0; NL]), o);
        }
        first.decode(sents, ws, &mut out);
        if let Some(second) = self.stages.get(1) {
            set_doc_labels(&mut ws.infos, &out.labels, &mut ws.scratch);
            for ((acc, info), o) in ws.acc.iter().zip(&ws.infos).zip(out.scores.iter_mut()) {
                let mut sum: [i32; NL] = acc[NL..].try_into().unwrap_or([0; NL]);
                ws.feats.clear();
                doc_features(info, &mut ws.feats);
                if !ws.feats.is_empty() {
                    for (a, x) in sum.iter_mut().zip(second.sum(&ws.feats)) {
                        *a += x;
                    }
                }
                second.scores(&sum, o);
            }
            second.decode(sents, ws, &mut out);
        }
        out
    }

    /// Serialises the model.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.buf.extend_from_slice(MAGIC);
        w.u32(VERSION);
        w.u32(self.clusters.len() as u32);
        for c in &self.clusters {
            c.write(&mut w);
        }
        self.gazetteer.write(&mut w);
        w.u32(self.stages.len() as u32);
        for s in &self.stages {
            s.write(&mut w);
        }
        w.buf
    }

    /// Reads a model written by [`Model::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, NerError> {
        let mut r = Reader::new(bytes);
        if r.bytes(4)? != MAGIC {
            return Err(NerError::Format("not a dossier NER model".into()));
        }
        let version = r.u32()?;
        if version != VERSION {
            return Err(NerError::Format(format!("model version {version}")));
        }
        let sets = r.count(8)?;
        let clusters = (0..sets)
            .map(|_| WordClusters::read(&mut r))
            .collect::<Result<_, _>>()?;
        let gazetteer = Gazetteer::read(&mut r)?;
        let n = r.count(4 * (NL + NL * NL) + 8)?;
        if n > 2 {
            return Err(NerError::Format(format!("{n} stages (at most two)")));
        }
        let stages = (0..n)
            .map(|_| Stage::read(&mut r))
            .collect::<Result<_, _>>()?;
        Ok(Model::new(clusters, gazetteer, stages))
    }
}

/// Labels that may open a sentence or follow a closed label: `O`, and `B`, `U` of every type,
/// in label order.
const OPENERS: [usize; 9] = [0, 1, 4, 5, 8, 9, 12, 13, 16];
/// Labels after which a span is closed (and a sentence may end): `O`, and `L`, `U` of every
/// type, in label order. Exactly the labels that may precede an opener.
const CLOSED: [usize; 9] = [0, 3, 4, 7, 8, 11, 12, 15, 16];

/// The `B` label of type `t`; `I` is one more and `L` two more. An `I` or `L` of type `t` may
/// follow only its `B` or `I`.
#[inline]
fn b_of(t: usize) -> usize {
    1 + 4 * t
}

/// Lanes of the rearranged transition scores: the nine openers (or closed labels), padded to
/// whole vectors.
const W: usize = 12;

/// The larger of `a` and `b`, `b` on a tie (a plain comparison: the scores are never NaN).
#[inline]
fn larger(a: f32, b: f32) -> f32 {
    if a > b {
        a
    } else {
        b
    }
}

/// A stage's start and transition scores, rearranged so that the recursions over the 81
/// closed → opener transitions run over fixed-size arrays, which the compiler turns into
/// vector code.
struct Grammar<'a> {
    start: &'a [f32; NL],
    trans: &'a [f32; NL * NL],
    /// `into_open[k][j]`: the score of `CLOSED[k]` → `OPENERS[j]` (padding: -∞).
    into_open: [[f32; W]; 9],
    /// `from_closed[j][k]`: the same scores, opener first.
    from_closed: [[f32; W]; 9],
}

impl<'a> Grammar<'a> {
    /// `None` when `trans` is not `NL × NL` scores.
    fn new(start: &'a [f32; NL], trans: &'a [f32]) -> Option<Self> {
        let trans = <&[f32; NL * NL]>::try_from(trans.get(..NL * NL)?).ok()?;
        let mut into_open = [[f32::NEG_INFINITY; W]; 9];
        let mut from_closed = [[f32::NEG_INFINITY; W]; 9];
        for (k, &p) in CLOSED.iter().enumerate() {
            for (j, &c) in OPENERS.iter().enumerate() {
                into_open[k][j] = trans[p * NL + c];
                from_closed[j][k] = trans[p * NL + c];
            }
        }
        Some(Grammar {
            start,
            trans,
            into_open,
            from_closed,
        })
    }

    /// The forward scores of the first token.
    fn first(&self, e: &[f32; NL]) -> [f32; NL] {
        let mut delta = [f32::NEG_INFINITY; NL];
        for c in OPENERS {
            delta[c] = self.start[c] + e[c];
        }
        delta
    }

    /// The forward scores of a token with emissions `e` after a token with forward scores
    /// `delta`: per label, the best predecessor's score plus the transition, plus `e`.
    fn step(&self, delta: &[f32; NL], e: &[f32; NL]) -> [f32; NL] {
        let mut best = [f32::NEG_INFINITY; W];
        for (&p, row) in CLOSED.iter().zip(&self.into_open) {
            let d = delta[p];
            for (b, &t) in best.iter_mut().zip(row) {
                *b = larger(d + t, *b);
            }
        }
        let mut next = [f32::NEG_INFINITY; NL];
        for (&c, &b) in OPENERS.iter().zip(&best) {
            next[c] = b + e[c];
        }
        for t in 0..NTYPES {
            let i = b_of(t) + 1;
            for c in [i, i + 1] {
                let from_b = delta[i - 1] + self.trans[(i - 1) * NL + c];
                let from_i = delta[i] + self.trans[i * NL + c];
                next[c] = larger(from_i, larger(from_b, f32::NEG_INFINITY)) + e[c];
            }
        }
        next
    }

    /// The predecessor of label `c` on the best path, given the previous token's forward
    /// scores: the first (in label order) of the best-scoring allowed labels.
    fn best_prev(&self, delta: &[f32; NL], c: usize) -> u8 {
        let mut best = f32::NEG_INFINITY;
        let mut arg = 0u8;
        let mut consider = |p: usize| {
            let s = delta[p] + self.trans[p * NL + c];
            if s > best {
                best = s;
                arg = p as u8;
            }
        };
        if OPENERS.contains(&c) {
            CLOSED.into_iter().for_each(&mut consider);
        } else {
            let b = b_of((c - 1) / 4);
            consider(b);
            consider(b + 1);
        }
        arg
    }

    /// The backward scores of a token followed by a token with emissions `e` and backward
    /// scores `b1`: per label, the best (transition + `e` + `b1`) over the labels that may
    /// follow it.
    fn back(&self, e: &[f32; NL], b1: &[f32; NL]) -> [f32; NL] {
        let mut best = [f32::NEG_INFINITY; W];
        for (&c, col) in OPENERS.iter().zip(&self.from_closed) {
            let (ec, bc) = (e[c], b1[c]);
            for (b, &t) in best.iter_mut().zip(col) {
                *b = larger(t + ec + bc, *b);
            }
        }
        let mut out = [f32::NEG_INFINITY; NL];
        for (&p, &b) in CLOSED.iter().zip(&best) {
            out[p] = b;
        }
        for t in 0..NTYPES {
            let i = b_of(t) + 1;
            for p in [i - 1, i] {
                let to_i = self.trans[p * NL + i] + e[i] + b1[i];
                let to_l = self.trans[p * NL + i + 1] + e[i + 1] + b1[i + 1];
                out[p] = larger(to_l, larger(to_i, f32::NEG_INFINITY));
            }
        }
        out
    }
}

/// Best label sequence under the BILOU grammar for one sentence's emission scores `em`, with
/// start scores `start` and transition scores `trans[prev * NL + cur]`; written to `out`.
/// `forward` is scratch space: it ends holding the forward scores ([`max_marginals`] needs
/// them).
///
/// The recursion keeps only the best scores; the best path's predecessors are recovered from
/// them afterwards, breaking ties as a scan of all labels in order would (the first best
/// predecessor wins).
pub(crate) fn viterbi(
    start: &[f32; NL],
    trans: &[f32],
    em: &[[f32; NL]],
    forward: &mut Vec<[f32; NL]>,
    out: &mut [u8],
) {
    let n = em.len().min(out.len());
    let Some(g) = Grammar::new(start, trans) else {
        return;
    };
    if n == 0 {
        return;
    }
    forward.clear();
    forward.reserve(n);
    let mut delta = g.first(&em[0]);
    forward.push(delta);
    for e in &em[1..n] {
        delta = g.step(&delta, e);
        forward.push(delta);
    }
    let mut best = f32::NEG_INFINITY;
    let mut arg = 0u8;
    for c in CLOSED {
        if delta[c] > best {
            best = delta[c];
            arg = c as u8;
        }
    }
    out[n - 1] = arg;
    for i in (1..n).rev() {
        out[i - 1] = g.best_prev(&forward[i - 1], usize::from(out[i]));
    }
}

/// Replaces one sentence's emission scores `em` by max-marginals: for each token and label,
/// the best score of a well-formed labelling of the whole sentence through that label
/// (forward max + backward max). `forward` holds the forward scores of the same emissions
/// (from [`viterbi`]); `beta` is scratch space.
pub(crate) fn max_marginals(
    start: &[f32; NL],
    trans: &[f32],
    em: &mut [[f32; NL]],
    forward: &[[f32; NL]],
    beta: &mut Vec<[f32; NL]>,
) {
    let n = em.len();
    let Some(g) = Grammar::new(start, trans) else {
        return;
    };
    if n == 0 || forward.len() < n {
        return;
    }
    beta.clear();
    beta.resize(n, [f32::NEG_INFINITY; NL]);
    for c in CLOSED {
        beta[n - 1][c] = 0.0;
    }
    for i in (0..n - 1).rev() {
        beta[i] = g.back(&em[i + 1], &beta[i + 1]);
    }
    for ((e, f), b) in em.iter_mut().zip(forward).zip(beta.iter()) {
        for c in 0..NL {
            e[c] = f[c] + b[c];
        }
    }
}

/// `ALLOWED[prev][cur]`, precomputed (the tests check the label sets above against it).
#[cfg(test)]
static ALLOWED: [[bool; NL]; NL] = {
    let mut t = [[false; NL]; NL];
    let mut p = 0;
    while p < NL {
        let mut c = 0;
        while c < NL {
            // Same rules as `allowed`, in const form.
            let pk = if p == 0 { 4 } else { (p - 1) % 4 }; // 0 B, 1 I, 2 L, 3 U, 4 O
            let ck = if c == 0 { 4 } else { (c - 1) % 4 };
            let same = p != 0 && c != 0 && (p - 1) / 4 == (c - 1) / 4;
            t[p][c] = if pk == 0 || pk == 1 {
                (ck == 1 || ck == 2) && same
            } else {
                ck == 4 || ck == 0 || ck == 3
            };
            c += 1;
        }
        p += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn const_transition_table_matches_the_rules() {
        for p in 0..NL as u8 {
            for c in 0..NL as u8 {
                assert_eq!(ALLOWED[p as usize][c as usize], allowed(Some(p), c));
            }
        }
    }

    #[test]
    #[allow(clippy::needless_range_loop)]
    fn label_sets_match_the_rules() {
        for c in 0..NL {
            assert_eq!(OPENERS.contains(&c), allowed(None, c as u8), "{c}");
            assert_eq!(CLOSED.contains(&c), may_end(c as u8), "{c}");
            for p in 0..NL {
                let by_sets = if CLOSED.contains(&p) {
                    OPENERS.contains(&c)
                } else {
                    let t = (p - 1) / 4;
                    c == b_of(t) + 1 || c == b_of(t) + 2
                };
                assert_eq!(by_sets, ALLOWED[p][c], "{p} -> {c}");
            }
        }
    }

    /// Viterbi as first written: every label pair checked against `ALLOWED`.
    #[allow(clippy::needless_range_loop)]
    fn reference_viterbi(start: &[f32; NL], trans: &[f32], em: &[[f32; NL]]) -> Vec<u8> {
        let n = em.len();
        let mut back = vec![[0u8; NL]; n];
        let mut delta = [f32::NEG_INFINITY; NL];
        for c in 0..NL {
            if allowed(None, c as u8) {
                delta[c] = start[c] + em[0][c];
            }
        }
        for i in 1..n {
            let mut next = [f32::NEG_INFINITY; NL];
            for c in 0..NL {
                let (mut best, mut arg) = (f32::NEG_INFINITY, 0u8);
                for p in (0..NL).filter(|&p| ALLOWED[p][c]) {
                    let s = delta[p] + trans[p * NL + c];
                    if s > best {
                        (best, arg) = (s, p as u8);
                    }
                }
                next[c] = best + em[i][c];
                back[i][c] = arg;
            }
            delta = next;
        }
        let mut out = vec![0u8; n];
        let (mut best, mut arg) = (f32::NEG_INFINITY, 0u8);
        for (c, &d) in delta.iter().enumerate() {
            if may_end(c as u8) && d > best {
                (best, arg) = (d, c as u8);
            }
        }
        out[n - 1] = arg;
        for i in (1..n).rev() {
            out[i - 1] = back[i][out[i] as usize];
        }
        out
    }

    /// Max-marginals as first written: a forward and a backward pass over all label pairs.
    #[allow(clippy::needless_range_loop)]
    fn reference_max_marginals(
        start: &[f32; NL],
        trans: &[f32],
        em: &[[f32; NL]],
    ) -> Vec<[f32; NL]> {
        let n = em.len();
        let mut beta = vec![[f32::NEG_INFINITY; NL]; n];
        for c in 0..NL {
            if may_end(c as u8) {
                beta[n - 1][c] = 0.0;
            }
        }
        for i in (0..n - 1).rev() {
            for p in 0..NL {
                let mut best = f32::NEG_INFINITY;
                for c in (0..NL).filter(|&c| ALLOWED[p][c]) {
                    best = best.max(trans[p * NL + c] + em[i + 1][c] + beta[i + 1][c]);
                }
                beta[i][p] = best;
            }
        }
        let mut out = vec![[0.0; NL]; n];
        let mut alpha = [f32::NEG_INFINITY; NL];
        for c in 0..NL {
            if allowed(None, c as u8) {
                alpha[c] = start[c] + em[0][c];
            }
        }
        for i in 0..n {
            if i > 0 {
                let mut next = [f32::NEG_INFINITY; NL];
                for c in 0..NL {
                    let mut best = f32::NEG_INFINITY;
                    for p in (0..NL).filter(|&p| ALLOWED[p][c]) {
                        best = best.max(alpha[p] + trans[p * NL + c]);
                    }
                    next[c] = best + em[i][c];
                }
                alpha = next;
            }
            for c in 0..NL {
                out[i][c] = alpha[c] + beta[i][c];
            }
        }
        out
    }

    /// A deterministic stream of scores in -8..8.
    fn scores(seed: &mut u64) -> f32 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*seed >> 40) as f32 / (1u64 << 24) as f32) * 16.0 - 8.0
    }

    #[test]
    fn viterbi_and_max_marginals_match_the_full_scan_bit_for_bit() {
        let mut seed = 7;
        let mut forward = Vec::new();
        let mut beta = Vec::new();
        for n in (1..40).chain([1, 2, 3, 120]) {
            let start: [f32; NL] = std::array::from_fn(|_| scores(&mut seed));
            let trans: Vec<f32> = (0..NL * NL).map(|_| scores(&mut seed)).collect();
            let em: Vec<[f32; NL]> = (0..n)
                .map(|_| std::array::from_fn(|_| scores(&mut seed)))
                .collect();
            let mut labels = vec![0u8; n];
            viterbi(&start, &trans, &em, &mut forward, &mut labels);
            assert_eq!(labels, reference_viterbi(&start, &trans, &em), "n = {n}");
            let mut mm = em.clone();
            max_marginals(&start, &trans, &mut mm, &forward, &mut beta);
            let want = reference_max_marginals(&start, &trans, &em);
            let bits =
                |v: &[[f32; NL]]| -> Vec<u32> { v.iter().flatten().map(|x| x.to_bits()).collect() };
            assert_eq!(bits(&mm), bits(&want), "n = {n}");
        }
    }

    #[test]
    fn tagging_by_feature_groups_scores_as_feature_by_feature() {
        use crate::analysis::ner::{token_sentences, Ner};
        use crate::analysis::{sentences::split_sentences, tokenize::tokenize};
        let text = "Steve Witkoff met Vladimir Putin in Moscow on Friday, the Kremlin said.\n\
                    PUTIN MEETS WITKOFF\nWitkoff left; Putin stayed. “It went well,” Trump said.";
        let tokens = tokenize(text);
        let sents = token_sentences(&tokens, &split_sentences(text, &tokens));
        let shipped = Ner::global().model();
        assert_eq!(shipped.stages.len(), 2);
        let first_only = Model::new(
            shipped.clusters.clone(),
            shipped.gazetteer.clone(),
            shipped.stages[..1].to_vec(),
        );
        // The first stage alone, then both: the last stage token by token, from its features
        // (the second sees the document labels the first gave) and their weights, Viterbi,
        // max-marginals.
        for model in [&first_only, shipped] {
            let Some(stage) = model.stages.last() else {
                panic!("no stage");
            };
            let mut ws = Workspace::default();
            let got = model.tag(text, &tokens, &sents, &mut ws);
            assert_eq!(
                ws.infos.iter().any(|t| t.doc_label != 0),
                model.stages.len() == 2
            );
            for s in &sents {
                let em: Vec<[f32; NL]> = s
                    .clone()
                    .map(|i| {
                        let mut feats = Vec::new();
                        super::super::features::token_features(&ws.infos, s, i, &mut feats);
                        let mut e = [0.0; NL];
                        stage.emissions(&feats, &mut e);
                        e
                    })
                    .collect();
                let labels = reference_viterbi(&stage.start, &stage.trans, &em);
                assert_eq!(got.labels[s.clone()], labels[..]);
                if labels.iter().any(|&l| l != 0) {
                    let mm = reference_max_marginals(&stage.start, &stage.trans, &em);
                    assert_eq!(got.scores[s.clone()], mm[..]);
                }
            }
            assert!(got.labels.iter().filter(|&&l| l != 0).count() >= 6);
        }
    }

    #[test]
    fn cached_sums_tag_exactly_as_fresh_ones() {
        use crate::analysis::ner::{token_sentences, Ner};
        use crate::analysis::{sentences::split_sentences, tokenize::tokenize};
        let model = Ner::global().model();
        let texts = [
            "Steve Witkoff met Vladimir Putin in Moscow on Friday, the Kremlin said.",
            "PUTIN MEETS WITKOFF\nWitkoff left; Putin stayed in Moscow.",
            "The talks in Geneva lasted five hours, said Marco Rubio. Rubio left Geneva.",
        ];
        let tag = |ws: &mut Workspace, text: &str| {
            let tokens = tokenize(text);
            let sents = token_sentences(&tokens, &split_sentences(text, &tokens));
            let t = model.tag(text, &tokens, &sents, ws);
            let bits: Vec<u32> = t.scores.iter().flatten().map(|x| x.to_bits()).collect();
            (t.labels, bits)
        };
        // One workspace carries its caches from text to text and round to round; the
        // other starts afresh for every text.
        let mut warm = Workspace::default();
        for round in 0..3 {
            for text in texts {
                let fresh = tag(&mut Workspace::default(), text);
                assert_eq!(tag(&mut warm, text), fresh, "round {round}: {text}");
            }
        }
        assert!(warm.cache.entries.iter().filter(|e| e.stage != 0).count() > 20);
        // Other weights never read these weights' sums.
        // (The cache holds descriptions as the first stage sees them: no document labels.)
        let other = Joint::new(&[Stage::default()]);
        let t = &TokInfo {
            doc_label: 0,
            ..warm.infos[0]
        };
        let key = describe_key(t);
        assert!(warm.cache.get(model.joint.id, key, t).is_some());
        assert!(warm.cache.get(other.id, key, t).is_none());
    }

    #[test]
    fn the_filter_keeps_every_feature_of_the_shipped_model() {
        let model = crate::analysis::ner::Ner::global().model();
        for (n, stage) in model.stages.iter().enumerate() {
            let mask = stage.index.filter.len() - 1;
            for (r, &k) in stage.keys.iter().enumerate() {
                let bits = filter_bits(k);
                assert_eq!(stage.index.filter[filter_word(k, mask)] & bits, bits);
                let mut e = [0.0; NL];
                stage.emissions(&[k], &mut e);
                assert!(e.iter().any(|&x| x != 0.0), "{k:x}");
                // The joint index holds the same weights for this stage.
                let joint = model.joint.sum(&[k]);
                let own: Vec<i32> = stage.weights[r * NL..r * NL + NL]
                    .iter()
                    .map(|&x| i32::from(x))
                    .collect();
                assert_eq!(joint[n * NL..n * NL + NL], own[..], "{k:x}");
            }
        }
    }

    #[test]
    fn the_shipped_model_reads_and_writes_back_byte_for_byte() {
        // Every feature of the file is indexed (none lost to a fingerprint clash) and its
        // weights come back exactly.
        let bytes = super::super::MODEL_BYTES;
        let model = Model::from_bytes(bytes).expect("shipped model");
        assert!(model.to_bytes() == bytes);
    }

    #[test]
    fn labels_round_trip() {
        for ty in 0..NTYPES {
            for part in [Part::B, Part::I, Part::L, Part::U] {
                assert_eq!(split_label(label(part, ty)), (part, ty));
            }
        }
    }

    #[test]
    fn viterbi_output_is_well_formed_even_when_emissions_say_otherwise() {
        let m = Stage::default();
        let mut em = vec![[0.0; NL]; 3];
        em[0][label(Part::I, 1) as usize] = 10.0; // I without B: not allowed at the start
        em[1][label(Part::B, 0) as usize] = 10.0; // B that must be closed
        let mut out = vec![0; 3];
        viterbi(&m.start, &m.trans, &em, &mut Vec::new(), &mut out);
        let mut prev = None;
        for &l in &out {
            assert!(allowed(prev, l));
            prev = Some(l);
        }
        assert!(may_end(out[2]));
    }

    #[test]
    fn binary_format_round_trips_and_rejects_garbage() {
        let mut row = [0.0; NL];
        row[3] = 1.5;
        let mut trans = vec![0.0; NL * NL];
        trans[5] = -2.0;
        let s = Stage::quantize(vec![(12345u64, row)], [0.0; NL], trans);
        let m = Model::new(vec![WordClusters::default()], Gazetteer::default(), vec![s]);
        let back = Model::from_bytes(&m.to_bytes()).expect("round trip");
        assert_eq!(back.num_features(), 1);
        let mut em = [0.0; NL];
        back.stages[0].emissions(&[12345, 999], &mut em);
        assert!((em[3] - 1.5).abs() < 1e-3 && em[0] == 0.0);
        assert_eq!(back.stages[0].trans[5], -2.0);
        assert!(Model::from_bytes(b"nonsense").is_err());
        let bytes = m.to_bytes();
        assert!(Model::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    }
}

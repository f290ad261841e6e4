//! The tagger's model: feature weights per BILOU label, label transitions, the word clusters,
//! Viterbi decoding, and the compact binary format the weights ship in.
//!
//! Labels are `O` plus B/I/L/U for each CoNLL type (PER, ORG, LOC, MISC): 17 in all. Decoding
//! is first-order Viterbi under the BILOU grammar (an `I` or `L` only after a `B` or `I` of
//! the same type), so every output is a well-formed set of spans.
//!
//! Binary format (little-endian): `b"DNER"`, version `u32`, the clusters
//! (a count of sets, each as [`WordClusters::write`] writes it), the gazetteer (a count, then
//! `(phrase hash u64, list mask u8)` pairs), a count of stages `u32`, then per stage: `NL` start weights and
//! `NL×NL` transition weights as `f32`, and the features: a count, a scale `f32`, and per
//! feature its key `u64`, a count of non-zero weights `u8` and that many `(label u8, weight
//! i16)` pairs (weight × scale = the value).

use super::clusters::WordClusters;
use super::features::{analyze_tokens, set_doc_labels, token_features, Scratch, TokInfo};
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

#[inline]
fn fingerprint(key: u64) -> u32 {
    ((key >> 32) as u32) | 1
}

/// One tagging pass: feature weights per label and label transitions.
///
/// Built for lookups: an open-addressing index of 8-byte slots (position from the low bits of
/// the feature hash, fingerprint from the high bits) and `i16` weights summed in `i32`, so
/// the ~45 lookups per token stay in cache as much as possible.
#[derive(Debug, Clone)]
pub struct Stage {
    slots: Vec<Slot>,
    mask: usize,
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
        let size = (keys.len().max(4) * 2).next_power_of_two();
        let mut slots = vec![Slot::default(); size];
        let mask = size - 1;
        let mut kept_keys = Vec::with_capacity(keys.len());
        let mut kept_weights = Vec::with_capacity(weights.len());
        for (r, &k) in keys.iter().enumerate() {
            let fp = fingerprint(k);
            let mut i = k as usize & mask;
            let mut duplicate = false;
            while slots[i].fp != 0 {
                if slots[i].fp == fp {
                    duplicate = true; // same key twice, or a 2^-64 collision: keep the first
                    break;
                }
                i = (i + 1) & mask;
            }
            if duplicate {
                continue;
            }
            slots[i] = Slot {
                fp,
                row: kept_keys.len() as u32,
            };
            kept_keys.push(k);
            kept_weights.extend_from_slice(&weights[r * NL..r * NL + NL]);
        }
        Stage {
            slots,
            mask,
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

    /// Sums the weights of `feats` into `out`.
    #[inline]
    pub(crate) fn emissions(&self, feats: &[u64], out: &mut [f32; NL]) {
        let mut acc = [0i32; NL];
        for &f in feats {
            let fp = fingerprint(f);
            let mut i = f as usize & self.mask;
            loop {
                let slot = self.slots[i];
                if slot.fp == fp {
                    let base = slot.row as usize * NL;
                    if let Some(w) = self.weights.get(base..base + NL) {
                        for (a, &x) in acc.iter_mut().zip(w) {
                            *a += i32::from(x);
                        }
                    }
                    break;
                }
                if slot.fp == 0 {
                    break;
                }
                i = (i + 1) & self.mask;
            }
        }
        for (o, a) in out.iter_mut().zip(acc) {
            *o = a as f32 * self.scale;
        }
    }

    /// Best label sequence for one sentence's emission scores.
    pub(crate) fn viterbi(&self, em: &[[f32; NL]], back: &mut Vec<[u8; NL]>, out: &mut [u8]) {
        viterbi(&self.start, &self.trans, em, back, out);
    }

    /// Tags every sentence with this stage, given the token descriptions in `ws.infos`.
    fn tag(&self, sents: &[Range<usize>], ws: &mut Workspace, out: &mut Tagging) {
        for s in sents {
            for i in s.clone() {
                ws.feats.clear();
                token_features(&ws.infos, s, i, &mut ws.feats);
                self.emissions(&ws.feats, &mut out.scores[i]);
            }
            self.viterbi(
                &out.scores[s.clone()],
                &mut ws.back,
                &mut out.labels[s.clone()],
            );
            // Confidences are only read for spans: a sentence without one needs no marginals.
            if out.labels[s.clone()].iter().any(|&l| l != 0) {
                max_marginals(
                    &self.start,
                    &self.trans,
                    &mut out.scores[s.clone()],
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
    /// The passes, in order.
    pub(crate) stages: Vec<Stage>,
}

/// Reusable buffers for tagging documents.
#[derive(Default)]
pub(crate) struct Workspace {
    pub scratch: Scratch,
    pub infos: Vec<TokInfo>,
    pub feats: Vec<u64>,
    pub back: Vec<[u8; NL]>,
    pub back_scores: Vec<[f32; NL]>,
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
        for (k, stage) in self.stages.iter().enumerate() {
            if k > 0 {
                set_doc_labels(&mut ws.infos, &out.labels, &mut ws.scratch);
            }
            stage.tag(sents, ws, &mut out);
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
        let stages = (0..n)
            .map(|_| Stage::read(&mut r))
            .collect::<Result<_, _>>()?;
        Ok(Model {
            clusters,
            gazetteer,
            stages,
        })
    }
}

/// Best label sequence under the BILOU grammar for one sentence's emission scores `em`, with
/// start scores `start` and transition scores `trans[prev * NL + cur]`; written to `out`.
pub(crate) fn viterbi(
    start: &[f32; NL],
    trans: &[f32],
    em: &[[f32; NL]],
    back: &mut Vec<[u8; NL]>,
    out: &mut [u8],
) {
    let n = em.len().min(out.len());
    if n == 0 || trans.len() < NL * NL {
        return;
    }
    back.clear();
    back.resize(n, [0; NL]);
    let mut delta = [f32::NEG_INFINITY; NL];
    for c in 0..NL {
        if allowed(None, c as u8) {
            delta[c] = start[c] + em[0][c];
        }
    }
    for i in 1..n {
        let mut next = [f32::NEG_INFINITY; NL];
        for c in 0..NL {
            let mut best = f32::NEG_INFINITY;
            let mut arg = 0u8;
            for &p in PREVS[c].iter() {
                let p = p as usize;
                if p >= NL {
                    break;
                }
                let s = delta[p] + trans[p * NL + c];
                if s > best {
                    best = s;
                    arg = p as u8;
                }
            }
            next[c] = best + em[i][c];
            back[i][c] = arg;
        }
        delta = next;
    }
    let mut best = f32::NEG_INFINITY;
    let mut arg = 0u8;
    for (c, &d) in delta.iter().enumerate() {
        if may_end(c as u8) && d > best {
            best = d;
            arg = c as u8;
        }
    }
    out[n - 1] = arg;
    for i in (1..n).rev() {
        out[i - 1] = back[i][out[i] as usize];
    }
}

/// Replaces one sentence's emission scores `em` by max-marginals: for each token and label,
/// the best score of a well-formed labelling of the whole sentence through that label
/// (forward max + backward max). `beta` is scratch space.
pub(crate) fn max_marginals(
    start: &[f32; NL],
    trans: &[f32],
    em: &mut [[f32; NL]],
    beta: &mut Vec<[f32; NL]>,
) {
    let n = em.len();
    if n == 0 || trans.len() < NL * NL {
        return;
    }
    beta.clear();
    beta.resize(n, [f32::NEG_INFINITY; NL]);
    for (c, b) in beta[n - 1].iter_mut().enumerate() {
        if may_end(c as u8) {
            *b = 0.0;
        }
    }
    for i in (0..n - 1).rev() {
        for p in 0..NL {
            let mut best = f32::NEG_INFINITY;
            for c in 0..NL {
                if ALLOWED[p][c] {
                    best = best.max(trans[p * NL + c] + em[i + 1][c] + beta[i + 1][c]);
                }
            }
            beta[i][p] = best;
        }
    }
    // Forward, overwriting the emissions with alpha + beta as we go.
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
                for &p in PREVS[c].iter() {
                    let p = p as usize;
                    if p >= NL {
                        break;
                    }
                    best = best.max(alpha[p] + trans[p * NL + c]);
                }
                next[c] = best + em[i][c];
            }
            alpha = next;
        }
        for c in 0..NL {
            em[i][c] = alpha[c] + beta[i][c];
        }
    }
}

/// For each label, the labels that may precede it, padded with `NL`.
static PREVS: [[u8; 9]; NL] = {
    let mut t = [[NL as u8; 9]; NL];
    let mut c = 0;
    while c < NL {
        let mut k = 0;
        let mut p = 0;
        while p < NL {
            if ALLOWED[p][c] {
                t[c][k] = p as u8;
                k += 1;
            }
            p += 1;
        }
        c += 1;
    }
    t
};

/// `ALLOWED[prev][cur]`, precomputed.
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
        m.viterbi(&em, &mut Vec::new(), &mut out);
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
        let m = Model {
            clusters: vec![WordClusters::default()],
            gazetteer: Gazetteer::default(),
            stages: vec![s],
        };
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

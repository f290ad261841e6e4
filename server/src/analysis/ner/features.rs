//! Feature extraction for the tagger: every token becomes a short list of `u64` feature
//! hashes (template id mixed with the hashed value), with no per-token allocation.
//!
//! Features are computed per document in two steps: [`analyze_tokens`] describes each token
//! once (hashes of its form, lowercase form, shape and affixes; its word clusters; case and
//! position flags; document-level flags such as "seen capitalised mid-sentence elsewhere in
//! this document"), then [`sentence_features`] combines a token with its neighbours (±2) into
//! the feature hashes that the model looks up. Training and inference share this code, so a
//! trained model sees exactly the features it was trained on.

use super::clusters::{WordClusters, LEVELS};
use super::gazetteer::Gazetteer;

/// At most this many cluster sets (views of the unlabeled text) feed the features.
pub(crate) const MAX_SETS: usize = 2;
use super::model::{split_label, Part, NTYPES};
use crate::analysis::tokenize::Token;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;

const K: u64 = 0x517c_c1b7_2722_0a95;

/// Mixes `x` into the running hash `h` (FxHash's step).
#[inline]
pub(crate) fn mix(h: u64, x: u64) -> u64 {
    (h.rotate_left(5) ^ x).wrapping_mul(K)
}

/// A strong 64-bit finaliser (MurmurHash3's `fmix64`), so table slots spread well.
#[inline]
pub(crate) fn finish(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    h | 1 // never 0: 0 marks an empty slot in the tables
}

/// Hashes a byte string, eight bytes at a time.
pub(crate) fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        h = mix(h, u64::from_le_bytes(b));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        // The tail as a little-endian u64 padded with zeros (no memcpy call for a few bytes).
        let tail = rest
            .iter()
            .rev()
            .fold(0u64, |v, &b| (v << 8) | u64::from(b));
        h = mix(h, tail);
    }
    finish(h)
}

/// Hashes a string.
pub(crate) fn hash_str(s: &str) -> u64 {
    hash_bytes(s.as_bytes())
}

/// A `Hasher` for maps keyed by already-hashed `u64`s.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = mix(self.0, u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A `HashMap` keyed by pre-hashed `u64`s.
pub(crate) type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// Token flags.
pub(crate) mod flag {
    /// First letter upper case.
    pub(crate) const INIT_CAP: u32 = 1;
    /// Two or more letters, all upper case.
    pub(crate) const ALL_CAPS: u32 = 1 << 1;
    /// Contains a digit.
    pub(crate) const HAS_DIGIT: u32 = 1 << 2;
    /// Holds no letter or digit.
    pub(crate) const PUNCT: u32 = 1 << 3;
    /// First token of its sentence.
    pub(crate) const SENT_START: u32 = 1 << 4;
    /// The sentence is written in capitals (a headline).
    pub(crate) const CAPS_SENT: u32 = 1 << 5;
    /// Elsewhere in the document this word is capitalised in mid-sentence, mixed-case text.
    pub(crate) const DOC_CAP_MID: u32 = 1 << 6;
    /// Elsewhere in the document this word is written in lower case.
    pub(crate) const DOC_LOWER: u32 = 1 << 7;
    /// Elsewhere in the document this word opens a run of capitalised words.
    pub(crate) const DOC_SEQ_FIRST: u32 = 1 << 8;
    /// Elsewhere in the document this word closes a run of capitalised words.
    pub(crate) const DOC_SEQ_LAST: u32 = 1 << 9;
    /// The word starts with a letter.
    pub(crate) const ALPHA_START: u32 = 1 << 10;
    /// The sentence has a single token with letters.
    pub(crate) const SHORT_SENT: u32 = 1 << 11;
    /// Flags about the document, combined into one feature.
    pub(crate) const DOC_MASK: u32 = DOC_CAP_MID | DOC_LOWER | DOC_SEQ_FIRST | DOC_SEQ_LAST;
}

/// What the tagger knows about one token, before looking at its neighbours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct TokInfo {
    /// Hash of the exact form.
    pub w: u64,
    /// Hash of the lower-cased form.
    pub lw: u64,
    /// Hash of the collapsed shape ("Xx", "X.X.", "d-d").
    pub shape: u64,
    /// Hashes of the lower-cased prefixes and suffixes of 1..=4 characters (0 = too short).
    pub pre: [u64; 4],
    /// See `pre`.
    pub suf: [u64; 4],
    /// Word clusters per set and granularity (`set * LEVELS + level`), 0 when unknown.
    pub clusters: [u16; LEVELS * MAX_SETS],
    /// How often the word is capitalised in running text (bucket 0..=4, 0 = unknown).
    pub cap_prior: u8,
    /// [`flag`] bits.
    pub flags: u32,
    /// What the first stage said about the same word elsewhere in the document (0 = nothing
    /// yet): see [`set_doc_labels`].
    pub doc_label: u16,
    /// Gazetteer matches: bit `list * 4 + position` (see [`super::gazetteer`]).
    pub gaz: u32,
}

/// Scratch buffers reused across documents.
#[derive(Default)]
pub(crate) struct Scratch {
    lower: String,
    shape: String,
    /// Per document: lower-case hash → flags seen elsewhere.
    doc: IdMap<u32>,
    /// Per document: lower-case hash → first-stage votes per type.
    votes: IdMap<[u16; NTYPES]>,
    /// Per document: lower-case hash → (length, type, first token) of the longest
    /// multi-token span holding the word.
    longest: IdMap<(usize, usize, usize)>,
    /// Descriptions of words met before.
    words: Vec<WordEntry>,
}

/// Entries of the word cache.
const WORD_CACHE: usize = 4096;
/// Longest word (in bytes) the word cache keeps.
const CACHED_WORD: usize = 23;

/// A word and its [`describe`] output. Words come back all the time ("the", ",", "said",
/// names), and describing one costs a dozen string hashes, so the descriptions of recent
/// words are kept per thread (direct-mapped on the word's hash; the word itself is compared).
#[derive(Clone, Copy)]
struct WordEntry {
    /// Length of the word (0: empty entry).
    len: u8,
    bytes: [u8; CACHED_WORD],
    info: TokInfo,
}

/// Records, for each word, how the first stage labelled the same word elsewhere in the
/// document: the majority type of its other tagged occurrences, whether they agree, and the
/// type of the longest multi-token span holding it elsewhere ("Putin" in "Vladimir Putin").
pub(crate) fn set_doc_labels(infos: &mut [TokInfo], labels: &[u8], scratch: &mut Scratch) {
    let votes = &mut scratch.votes;
    let longest = &mut scratch.longest;
    votes.clear();
    longest.clear();
    let mut span_start = 0;
    for (i, (info, &l)) in infos.iter().zip(labels).enumerate() {
        let (part, ty) = split_label(l);
        if part == Part::O {
            continue;
        }
        votes.entry(info.lw).or_insert([0; NTYPES])[ty] += 1;
        match part {
            Part::B => span_start = i,
            Part::L => {
                let len = i + 1 - span_start;
                for info in &infos[span_start..=i] {
                    let e = longest.entry(info.lw).or_insert((0, 0, 0));
                    if len > e.0 {
                        *e = (len, ty, span_start);
                    }
                }
            }
            _ => {}
        }
    }
    for (i, info) in infos.iter_mut().enumerate() {
        info.doc_label = 0;
        if info.flags & flag::ALPHA_START == 0 {
            continue;
        }
        let mut code = 0u16;
        if let Some(v) = votes.get(&info.lw) {
            let mut v = *v;
            let (part, ty) = split_label(labels.get(i).copied().unwrap_or(0));
            if part != Part::O {
                v[ty] = v[ty].saturating_sub(1);
            }
            let total: u16 = v.iter().sum();
            if let Some((best, &n)) = v.iter().enumerate().max_by_key(|(_, n)| **n) {
                if n > 0 {
                    code |= best as u16 + 1;
                    if n == total {
                        code |= 1 << 3;
                    }
                }
            }
        }
        if let Some(&(len, ty, first)) = longest.get(&info.lw) {
            if !(first..first + len).contains(&i) {
                code |= (ty as u16 + 1) << 4;
            }
        }
        // 1 << 8 marks "stage two ran", so even "no evidence" is a feature there.
        info.doc_label = code | 1 << 8;
    }
}

/// Fills `out` with one [`TokInfo`] per token. `sents` are token index ranges covering all
/// tokens in order.
pub(crate) fn analyze_tokens(
    text: &str,
    tokens: &[Token],
    sents: &[Range<usize>],
    clusters: &[WordClusters],
    gazetteer: &Gazetteer,
    scratch: &mut Scratch,
    out: &mut Vec<TokInfo>,
) {
    out.clear();
    out.resize(tokens.len(), TokInfo::default());
    for (t, info) in tokens.iter().zip(out.iter_mut()) {
        let word = text.get(t.start..t.end).unwrap_or("");
        describe_cached(word, scratch, info);
    }
    // Sentence flags.
    for s in sents {
        let mut letters = 0usize;
        let mut caps = 0usize;
        for info in &out[s.clone()] {
            if info.flags & flag::ALPHA_START != 0 {
                letters += 1;
                if info.flags & flag::ALL_CAPS != 0
                    || (info.flags & flag::INIT_CAP != 0 && info.suf[0] == 0)
                {
                    caps += 1;
                }
            }
        }
        let caps_sent = letters > 0 && caps * 10 >= letters * 8;
        let short = letters <= 1;
        let mut first = true;
        for info in &mut out[s.clone()] {
            if first && info.flags & flag::PUNCT == 0 {
                info.flags |= flag::SENT_START;
                first = false;
            }
            if caps_sent {
                info.flags |= flag::CAPS_SENT;
            }
            if short {
                info.flags |= flag::SHORT_SENT;
            }
        }
    }
    for s in sents {
        if let Some(infos) = out.get_mut(s.clone()) {
            gazetteer.annotate(infos);
        }
    }
    // Clusters: the exact form in ordinary text, the dominant casing in headlines.
    for info in out.iter_mut() {
        let caps_ctx = info.flags & (flag::CAPS_SENT | flag::ALL_CAPS) != 0;
        for (set, clusters) in clusters.iter().take(MAX_SETS).enumerate() {
            // The lower-case entry is looked up at most once (it also holds the prior).
            let mut by_lower = None;
            let entry = if caps_ctx {
                let l = *by_lower.insert(clusters.by_lower(info.lw));
                l.or_else(|| clusters.by_form(info.w))
            } else {
                clusters
                    .by_form(info.w)
                    .or_else(|| *by_lower.insert(clusters.by_lower(info.lw)))
            };
            if let Some(e) = entry {
                info.clusters[set * LEVELS..(set + 1) * LEVELS].copy_from_slice(&e.clusters);
            }
            if set == 0 {
                let l = by_lower.unwrap_or_else(|| clusters.by_lower(info.lw));
                info.cap_prior = l.map_or(0, |e| e.cap_prior);
            }
        }
    }
    // Document flags: how the same word appears elsewhere.
    let doc = &mut scratch.doc;
    doc.clear();
    let n = out.len();
    for i in 0..n {
        let f = out[i].flags;
        if f & flag::ALPHA_START == 0 {
            continue;
        }
        let mut seen = 0;
        let mixed_ctx = f & (flag::CAPS_SENT | flag::SENT_START) == 0;
        if f & flag::INIT_CAP != 0 {
            if mixed_ctx {
                seen |= flag::DOC_CAP_MID;
                let cap = |j: usize| {
                    out[j].flags & flag::INIT_CAP != 0 && out[j].flags & flag::CAPS_SENT == 0
                };
                let prev = i > 0 && cap(i - 1) && out[i].flags & flag::SENT_START == 0;
                let next = i + 1 < n && cap(i + 1) && out[i + 1].flags & flag::SENT_START == 0;
                if next && !prev {
                    seen |= flag::DOC_SEQ_FIRST;
                }
                if prev && !next {
                    seen |= flag::DOC_SEQ_LAST;
                }
            }
        } else {
            seen |= flag::DOC_LOWER;
        }
        if seen != 0 {
            *doc.entry(out[i].lw).or_insert(0) |= seen;
        }
    }
    for info in out.iter_mut() {
        if info.flags & flag::ALPHA_START != 0 {
            info.flags |= doc.get(&info.lw).copied().unwrap_or(0);
        }
    }
}

/// [`describe`] through the word cache.
fn describe_cached(word: &str, scratch: &mut Scratch, info: &mut TokInfo) {
    if word.is_empty() || word.len() > CACHED_WORD {
        describe(word, scratch, info);
        return;
    }
    let w = hash_str(word);
    let slot = (w >> 1) as usize % WORD_CACHE;
    if let Some(e) = scratch.words.get(slot) {
        if usize::from(e.len) == word.len() && e.bytes[..word.len()] == *word.as_bytes() {
            *info = e.info;
            return;
        }
    }
    describe(word, scratch, info);
    if scratch.words.is_empty() {
        let empty = WordEntry {
            len: 0,
            bytes: [0; CACHED_WORD],
            info: TokInfo::default(),
        };
        scratch.words = vec![empty; WORD_CACHE];
    }
    let mut bytes = [0; CACHED_WORD];
    bytes[..word.len()].copy_from_slice(word.as_bytes());
    scratch.words[slot] = WordEntry {
        len: word.len() as u8,
        bytes,
        info: *info,
    };
}

/// Describes one token on its own.
fn describe(word: &str, scratch: &mut Scratch, info: &mut TokInfo) {
    let lower = &mut scratch.lower;
    let shape = &mut scratch.shape;
    lower.clear();
    shape.clear();
    let mut flags = 0u32;
    let mut upper = 0usize;
    let mut letters = 0usize;
    let mut alnum = false;
    let mut last_class = '\0';
    for (k, c) in word.chars().enumerate() {
        let class = if c.is_uppercase() {
            upper += 1;
            letters += 1;
            if k == 0 {
                flags |= flag::INIT_CAP;
            }
            'X'
        } else if c.is_lowercase() {
            letters += 1;
            'x'
        } else if c.is_numeric() {
            flags |= flag::HAS_DIGIT;
            'd'
        } else if c.is_alphabetic() {
            letters += 1;
            'x'
        } else {
            c
        };
        if k == 0 && class != c {
            alnum = true;
            if class != 'd' {
                flags |= flag::ALPHA_START;
            }
        }
        if class != c {
            alnum = true;
        }
        if class != last_class && shape.len() < 16 {
            shape.push(class);
        }
        last_class = class;
        if c.is_ascii() {
            lower.push(c.to_ascii_lowercase());
        } else {
            lower.extend(c.to_lowercase());
        }
    }
    if !alnum {
        flags |= flag::PUNCT;
    }
    if letters >= 2 && upper == letters {
        flags |= flag::ALL_CAPS;
    }
    // Long words and short ones differ in shape: mark 1, 2-3, 4+ characters.
    let len_class = match word.chars().take(4).count() {
        0 | 1 => "1",
        2 | 3 => "2",
        _ => "4",
    };
    shape.push_str(len_class);
    info.w = hash_str(word);
    info.lw = hash_str(lower);
    info.shape = hash_str(shape);
    info.flags = flags;
    info.pre = [0; 4];
    info.suf = [0; 4];
    if flags & flag::PUNCT == 0 {
        let mut ends = lower.char_indices().map(|(i, _)| i).skip(1);
        for k in 0..4 {
            let Some(e) = ends.next() else { break };
            info.pre[k] = hash_str(&lower[..e]);
        }
        let mut starts = lower.char_indices().rev().map(|(i, _)| i);
        for k in 0..4 {
            let Some(s) = starts.next() else { break };
            if s == 0 {
                break;
            }
            info.suf[k] = hash_str(&lower[s..]);
        }
    }
}

/// Feature templates. Each feature hash is `mix(template, value)`.
#[allow(missing_docs)]
mod tpl {
    pub(super) const BIAS: u64 = 1;
    pub(super) const W: u64 = 2;
    pub(super) const LW: u64 = 3;
    pub(super) const SHAPE: u64 = 4;
    pub(super) const PRE: u64 = 10;
    pub(super) const SUF: u64 = 20;
    pub(super) const LW_M1: u64 = 30;
    pub(super) const LW_P1: u64 = 31;
    pub(super) const LW_M2: u64 = 32;
    pub(super) const LW_P2: u64 = 33;
    pub(super) const SH_M1: u64 = 40;
    pub(super) const SH_P1: u64 = 41;
    pub(super) const SH_M2: u64 = 42;
    pub(super) const SH_P2: u64 = 43;
    pub(super) const SH_M1_0: u64 = 44;
    pub(super) const SH_0_P1: u64 = 45;
    pub(super) const SH_M1_0_P1: u64 = 46;
    pub(super) const LW_M1_0: u64 = 50;
    pub(super) const LW_0_P1: u64 = 51;
    pub(super) const LW_M1_SH0: u64 = 52;
    pub(super) const SH0_LW_P1: u64 = 53;
    pub(super) const CL: u64 = 60;
    pub(super) const CL_M1: u64 = 70;
    pub(super) const CL_P1: u64 = 80;
    pub(super) const CL_M2: u64 = 90;
    pub(super) const CL_P2: u64 = 100;
    pub(super) const FLAGS: u64 = 110;
    pub(super) const FLAGS_SH: u64 = 111;
    pub(super) const CTX_LW: u64 = 112;
    pub(super) const CAP_PRIOR: u64 = 113;
    pub(super) const DOC_SH: u64 = 114;
    pub(super) const CL_M1_0: u64 = 115;
    pub(super) const CL_0_P1: u64 = 116;
    pub(super) const GAZ: u64 = 120;
    pub(super) const GAZ_ALL: u64 = 121;
    pub(super) const GAZ_M1: u64 = 122;
    pub(super) const GAZ_P1: u64 = 123;
    pub(super) const GAZ_SH: u64 = 124;
    pub(super) const DOCLBL: u64 = 117;
    pub(super) const DOCLBL_SH: u64 = 118;
    pub(super) const DOCLBL_CTX: u64 = 119;
    pub(super) const NO_NEIGHBOUR: u64 = 0x5eed;
}

/// Neighbour value used beyond the sentence edges.
const EDGE: u64 = 0xed6e;

/// Appends the features of token `i` (an index into `infos`, within sentence `sent`) to `out`.
pub(crate) fn token_features(infos: &[TokInfo], sent: &Range<usize>, i: usize, out: &mut Vec<u64>) {
    let t = &infos[i];
    let at = |d: isize| -> Option<&TokInfo> {
        let j = i as isize + d;
        if j < sent.start as isize || j >= sent.end as isize {
            None
        } else {
            infos.get(j as usize)
        }
    };
    let lw_at = |d| at(d).map_or(EDGE, |x| x.lw);
    let sh_at = |d| at(d).map_or(EDGE, |x| x.shape);
    let cl_at = |d, lvl: usize| at(d).map_or(u64::from(u16::MAX), |x| u64::from(x.clusters[lvl]));
    let mut push = |tmpl: u64, v: u64| out.push(finish(mix(mix(tpl::NO_NEIGHBOUR, tmpl), v)));

    push(tpl::BIAS, 0);
    push(tpl::W, t.w);
    push(tpl::LW, t.lw);
    push(tpl::SHAPE, t.shape);
    for k in 0..4 {
        if t.pre[k] != 0 {
            push(tpl::PRE + k as u64, t.pre[k]);
        }
        if t.suf[k] != 0 {
            push(tpl::SUF + k as u64, t.suf[k]);
        }
    }
    let (m1, p1, m2, p2) = (lw_at(-1), lw_at(1), lw_at(-2), lw_at(2));
    push(tpl::LW_M1, m1);
    push(tpl::LW_P1, p1);
    push(tpl::LW_M2, m2);
    push(tpl::LW_P2, p2);
    let (sm1, sp1) = (sh_at(-1), sh_at(1));
    push(tpl::SH_M1, sm1);
    push(tpl::SH_P1, sp1);
    push(tpl::SH_M2, sh_at(-2));
    push(tpl::SH_P2, sh_at(2));
    push(tpl::SH_M1_0, mix(sm1, t.shape));
    push(tpl::SH_0_P1, mix(t.shape, sp1));
    push(tpl::SH_M1_0_P1, mix(mix(sm1, t.shape), sp1));
    push(tpl::LW_M1_0, mix(m1, t.lw));
    push(tpl::LW_0_P1, mix(t.lw, p1));
    push(tpl::LW_M1_SH0, mix(m1, t.shape));
    push(tpl::SH0_LW_P1, mix(t.shape, p1));
    for lvl in 0..LEVELS {
        let c = u64::from(t.clusters[lvl]);
        push(tpl::CL + lvl as u64, c);
        push(tpl::CL_M1 + lvl as u64, cl_at(-1, lvl));
        push(tpl::CL_P1 + lvl as u64, cl_at(1, lvl));
    }
    // The second view, if any: the word and its neighbours at the finer levels.
    if t.clusters[LEVELS..].iter().any(|&c| c != 0) {
        for lvl in LEVELS + 1..2 * LEVELS {
            let c = u64::from(t.clusters[lvl]);
            push(tpl::CL + lvl as u64, c);
            push(tpl::CL_M1 + lvl as u64, cl_at(-1, lvl));
            push(tpl::CL_P1 + lvl as u64, cl_at(1, lvl));
        }
    }
    // Coarser context clusters two away, and cluster bigrams at a middle granularity.
    push(tpl::CL_M2, cl_at(-2, 1));
    push(tpl::CL_P2, cl_at(2, 1));
    push(tpl::CL_M1_0, mix(cl_at(-1, 1), u64::from(t.clusters[2])));
    push(tpl::CL_0_P1, mix(u64::from(t.clusters[2]), cl_at(1, 1)));
    let ctx = t.flags & (flag::SENT_START | flag::CAPS_SENT | flag::SHORT_SENT);
    push(tpl::FLAGS, u64::from(t.flags));
    push(tpl::FLAGS_SH, mix(u64::from(t.flags), t.shape));
    push(tpl::CTX_LW, mix(u64::from(ctx), t.lw));
    push(tpl::CAP_PRIOR, mix(u64::from(ctx), u64::from(t.cap_prior)));
    push(
        tpl::DOC_SH,
        mix(
            u64::from(t.flags & flag::DOC_MASK),
            mix(u64::from(ctx), t.shape),
        ),
    );
    if t.gaz != 0 {
        let g = u64::from(t.gaz);
        for bit in 0..32 {
            if t.gaz & (1 << bit) != 0 {
                push(tpl::GAZ, bit);
            }
        }
        push(tpl::GAZ_ALL, g);
        push(tpl::GAZ_SH, mix(g, t.shape));
    }
    let gaz_at = |d| at(d).map_or(0, |x| x.gaz);
    let (gm1, gp1) = (gaz_at(-1), gaz_at(1));
    if gm1 != 0 {
        push(tpl::GAZ_M1, u64::from(gm1));
    }
    if gp1 != 0 {
        push(tpl::GAZ_P1, u64::from(gp1));
    }
    doc_features(t, out);
}

/// A hash of everything in `t` that its features depend on (for grouping equal descriptions;
/// equality is checked on the whole description).
#[inline]
pub(crate) fn describe_key(t: &TokInfo) -> u64 {
    let small = u64::from(t.flags) | u64::from(t.doc_label) << 48;
    finish(mix(mix(mix(t.w, t.lw), small), u64::from(t.gaz)))
}

/// The hash of feature `tmpl` with value `v`, as [`token_features`] computes it.
#[inline]
fn feature(tmpl: u64, v: u64) -> u64 {
    finish(mix(mix(tpl::NO_NEIGHBOUR, tmpl), v))
}

/// Which neighbour of a token a group of features looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Near {
    /// The token before.
    Prev,
    /// The token after.
    Next,
    /// Two tokens before.
    Prev2,
    /// Two tokens after.
    Next2,
}

impl Near {
    /// All four, in the order of the sums kept per word type.
    pub(super) const ALL: [Near; 4] = [Near::Prev, Near::Next, Near::Prev2, Near::Next2];

    /// The token offset.
    pub(super) fn offset(self) -> isize {
        match self {
            Near::Prev => -1,
            Near::Next => 1,
            Near::Prev2 => -2,
            Near::Next2 => 2,
        }
    }
}

/// [`token_features`] split into four groups, so a tagger can sum the weights of a group once
/// per distinct token description and reuse the sum (integer sums do not depend on the order):
/// the features of the token alone ([`own_features`]), those of one neighbour alone
/// ([`neighbour_features`]), those combining the token with a neighbour
/// ([`pair_features`]) and the document features ([`doc_features`]). Together they are
/// exactly the features of [`token_features`].
pub(crate) fn own_features(t: &TokInfo, out: &mut Vec<u64>) {
    let mut push = |tmpl: u64, v: u64| out.push(feature(tmpl, v));
    push(tpl::BIAS, 0);
    push(tpl::W, t.w);
    push(tpl::LW, t.lw);
    push(tpl::SHAPE, t.shape);
    for k in 0..4 {
        if t.pre[k] != 0 {
            push(tpl::PRE + k as u64, t.pre[k]);
        }
        if t.suf[k] != 0 {
            push(tpl::SUF + k as u64, t.suf[k]);
        }
    }
    for lvl in 0..LEVELS {
        push(tpl::CL + lvl as u64, u64::from(t.clusters[lvl]));
    }
    if t.clusters[LEVELS..].iter().any(|&c| c != 0) {
        for lvl in LEVELS + 1..2 * LEVELS {
            push(tpl::CL + lvl as u64, u64::from(t.clusters[lvl]));
        }
    }
    let ctx = t.flags & (flag::SENT_START | flag::CAPS_SENT | flag::SHORT_SENT);
    push(tpl::FLAGS, u64::from(t.flags));
    push(tpl::FLAGS_SH, mix(u64::from(t.flags), t.shape));
    push(tpl::CTX_LW, mix(u64::from(ctx), t.lw));
    push(tpl::CAP_PRIOR, mix(u64::from(ctx), u64::from(t.cap_prior)));
    push(
        tpl::DOC_SH,
        mix(
            u64::from(t.flags & flag::DOC_MASK),
            mix(u64::from(ctx), t.shape),
        ),
    );
    if t.gaz != 0 {
        let g = u64::from(t.gaz);
        for bit in 0..32 {
            if t.gaz & (1 << bit) != 0 {
                push(tpl::GAZ, bit);
            }
        }
        push(tpl::GAZ_ALL, g);
        push(tpl::GAZ_SH, mix(g, t.shape));
    }
}

/// The document features of token `t`: what the first stage said about the same word
/// elsewhere in the document ([`set_doc_labels`]), alone and with the token's shape and
/// sentence context; none before the first stage has run. See [`own_features`]: these are
/// the only features a second stage adds, so a tagger can sum the others for both stages
/// at once.
pub(crate) fn doc_features(t: &TokInfo, out: &mut Vec<u64>) {
    if t.doc_label == 0 {
        return;
    }
    let ctx = t.flags & (flag::SENT_START | flag::CAPS_SENT | flag::SHORT_SENT);
    let d = u64::from(t.doc_label);
    out.push(feature(tpl::DOCLBL, d));
    out.push(feature(tpl::DOCLBL_SH, mix(d, t.shape)));
    out.push(feature(tpl::DOCLBL_CTX, mix(d, u64::from(ctx))));
}

/// The features a token gets from the neighbour `u` at `near` alone (`None`: beyond the
/// sentence edge). See [`own_features`].
pub(crate) fn neighbour_features(near: Near, u: Option<&TokInfo>, out: &mut Vec<u64>) {
    let mut push = |tmpl: u64, v: u64| out.push(feature(tmpl, v));
    let lw = u.map_or(EDGE, |x| x.lw);
    let sh = u.map_or(EDGE, |x| x.shape);
    let cl = |lvl: usize| u.map_or(u64::from(u16::MAX), |x| u64::from(x.clusters[lvl]));
    let gaz = u.map_or(0, |x| x.gaz);
    match near {
        Near::Prev | Near::Next => {
            let prev = near == Near::Prev;
            push(if prev { tpl::LW_M1 } else { tpl::LW_P1 }, lw);
            push(if prev { tpl::SH_M1 } else { tpl::SH_P1 }, sh);
            for lvl in 0..LEVELS {
                let tmpl = if prev { tpl::CL_M1 } else { tpl::CL_P1 };
                push(tmpl + lvl as u64, cl(lvl));
            }
            if gaz != 0 {
                push(if prev { tpl::GAZ_M1 } else { tpl::GAZ_P1 }, u64::from(gaz));
            }
        }
        Near::Prev2 | Near::Next2 => {
            let prev = near == Near::Prev2;
            push(if prev { tpl::LW_M2 } else { tpl::LW_P2 }, lw);
            push(if prev { tpl::SH_M2 } else { tpl::SH_P2 }, sh);
            push(if prev { tpl::CL_M2 } else { tpl::CL_P2 }, cl(1));
        }
    }
}

/// The features that combine token `t` with its neighbours `m1` (before) and `p1` (after);
/// `None` beyond the sentence edges. See [`own_features`].
pub(crate) fn pair_features(
    t: &TokInfo,
    m1: Option<&TokInfo>,
    p1: Option<&TokInfo>,
    out: &mut Vec<u64>,
) {
    let mut push = |tmpl: u64, v: u64| out.push(feature(tmpl, v));
    let (lm1, lp1) = (m1.map_or(EDGE, |x| x.lw), p1.map_or(EDGE, |x| x.lw));
    let (sm1, sp1) = (m1.map_or(EDGE, |x| x.shape), p1.map_or(EDGE, |x| x.shape));
    let cl = |u: Option<&TokInfo>, lvl: usize| {
        u.map_or(u64::from(u16::MAX), |x| u64::from(x.clusters[lvl]))
    };
    push(tpl::SH_M1_0, mix(sm1, t.shape));
    push(tpl::SH_0_P1, mix(t.shape, sp1));
    push(tpl::SH_M1_0_P1, mix(mix(sm1, t.shape), sp1));
    push(tpl::LW_M1_0, mix(lm1, t.lw));
    push(tpl::LW_0_P1, mix(t.lw, lp1));
    push(tpl::LW_M1_SH0, mix(lm1, t.shape));
    push(tpl::SH0_LW_P1, mix(t.shape, lp1));
    if t.clusters[LEVELS..].iter().any(|&c| c != 0) {
        for lvl in LEVELS + 1..2 * LEVELS {
            push(tpl::CL_M1 + lvl as u64, cl(m1, lvl));
            push(tpl::CL_P1 + lvl as u64, cl(p1, lvl));
        }
    }
    push(tpl::CL_M1_0, mix(cl(m1, 1), u64::from(t.clusters[2])));
    push(tpl::CL_0_P1, mix(u64::from(t.clusters[2]), cl(p1, 1)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::ner::Ner;
    use crate::analysis::{sentences::split_sentences, tokenize::tokenize};

    /// The descriptions of `text`'s tokens under the shipped model's clusters and gazetteer,
    /// with its sentences as token ranges.
    fn describe_text(text: &str) -> (Vec<TokInfo>, Vec<Range<usize>>) {
        let tokens = tokenize(text);
        let model = Ner::global().model();
        let sents = crate::analysis::ner::token_sentences(&tokens, &split_sentences(text, &tokens));
        let mut infos = Vec::new();
        analyze_tokens(
            text,
            &tokens,
            &sents,
            &model.clusters,
            &model.gazetteer,
            &mut Scratch::default(),
            &mut infos,
        );
        (infos, sents)
    }

    /// Own, neighbour, pair and document features of token `i`, in one list.
    fn grouped(infos: &[TokInfo], sent: &Range<usize>, i: usize) -> Vec<u64> {
        let at = |d: isize| {
            let j = i as isize + d;
            (j >= sent.start as isize && j < sent.end as isize).then(|| &infos[j as usize])
        };
        let mut out = Vec::new();
        own_features(&infos[i], &mut out);
        for near in Near::ALL {
            neighbour_features(near, at(near.offset()), &mut out);
        }
        pair_features(&infos[i], at(-1), at(1), &mut out);
        doc_features(&infos[i], &mut out);
        out
    }

    #[test]
    fn feature_groups_add_up_to_exactly_the_token_features() {
        let text = "PUTIN MEETS TRUMP IN HELSINKI\nSteve Witkoff met Vladimir Putin in Moscow on \
                    Friday, the Kremlin said. He left.\n\"Yes.\" Talks in New York and Jordan \
                    went on for 5 hours; x X xylophone 3rd — “Zelenskyy’s” aide in Kyiv.";
        let (mut infos, sents) = describe_text(text);
        // A second stage's view (what the first said elsewhere), and a second cluster set.
        let labels: Vec<u8> = (0..infos.len()).map(|i| (i % 17) as u8).collect();
        let mut scratch = Scratch::default();
        let mut checked = 0;
        for round in 0..3 {
            if round == 1 {
                set_doc_labels(&mut infos, &labels, &mut scratch);
            }
            if round == 2 {
                for (k, t) in infos.iter_mut().enumerate() {
                    t.clusters[LEVELS + 1] = k as u16 % 3;
                }
            }
            for s in &sents {
                for i in s.clone() {
                    let mut want = Vec::new();
                    token_features(&infos, s, i, &mut want);
                    let mut got = grouped(&infos, s, i);
                    want.sort_unstable();
                    got.sort_unstable();
                    assert_eq!(got, want, "token {i} in round {round}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 150, "{checked}");
        assert!(infos.iter().any(|t| t.gaz != 0) && infos.iter().any(|t| t.doc_label != 0));
    }

    #[test]
    fn cached_word_descriptions_equal_fresh_ones() {
        let words = [
            "the",
            "The",
            "THE",
            "Zelenskyy’s",
            "Witkoff",
            "x",
            "X",
            "3rd",
            "1,400",
            "—",
            "“",
            "a-very-long-hyphenated-word-indeed",
            "Київ",
            "",
            "'s",
            "U.S.",
            "co-operate",
        ];
        let mut scratch = Scratch::default();
        // Twice over, so the second round reads the cache; and a word between every two, so
        // entries get replaced.
        for round in 0..2 {
            for (k, w) in words.iter().enumerate() {
                let mut fresh = TokInfo::default();
                describe(w, &mut Scratch::default(), &mut fresh);
                let mut cached = TokInfo::default();
                describe_cached(w, &mut scratch, &mut cached);
                assert_eq!(cached, fresh, "round {round}: {w:?}");
                describe_cached(&format!("w{k}"), &mut scratch, &mut TokInfo::default());
            }
        }
        assert!(scratch.words.iter().any(|e| e.len > 0));
    }

    #[test]
    fn tail_bytes_hash_as_zero_padded_words() {
        // The reference: the tail copied into a zeroed 8-byte word, as the model was trained.
        fn reference(bytes: &[u8]) -> u64 {
            let mut h = bytes.len() as u64;
            for c in bytes.chunks(8) {
                let mut b = [0u8; 8];
                b[..c.len()].copy_from_slice(c);
                h = mix(h, u64::from_le_bytes(b));
            }
            finish(h)
        }
        for s in [
            "",
            "a",
            "ab",
            "abc",
            "abcdefg",
            "abcdefgh",
            "abcdefghi",
            "Zelenskyy’s",
            "—",
        ] {
            assert_eq!(hash_str(s), reference(s.as_bytes()), "{s:?}");
        }
    }
}

//! A document's analysis as the store keeps it: one compact byte string per document,
//! decoded on demand.
//!
//! The [`Analysis`] that [`analyze`](crate::analysis::analyze) returns is made for working
//! with: `usize` ranges, a `String` per claim text and speaker, a `Vec` per claim, per
//! mention's metadata and per quantity. Kept for every document of a corpus, those small
//! allocations cost several times the text itself (`dossier-eval bench-analysis --memory`:
//! 4.8× the text on BBC, 7.5× on Reuters-21578) and fragment the heap. Here the same
//! information is varint-encoded into one allocation, ranges as gaps from the previous
//! one, about a tenth of the size; readers decode the part they need ([`PackedAnalysis::
//! sentences`], [`PackedAnalysis::mentions`], [`PackedAnalysis::claims`]), which takes
//! microseconds per document.
//!
//! The encoding is exact: decoding gives back an `Analysis` equal to the one packed (tests
//! below and `dossier-eval bench-analysis --memory` check it). A claim's `text` is not kept
//! when it is what the claim extractor builds from the text (the trimmed segments joined
//! by a space); decoding rebuilds it the same way, and any other text is kept as it is.

use crate::analysis::claims::{Claim, ClaimKind, Speaker, SpeakerKind};
use crate::analysis::quantities::Quantity;
use crate::analysis::{Analysis, EntityMention, EntityType, MentionKind};
use std::ops::Range;
use std::sync::RwLock;

/// The compact form of one document's [`Analysis`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackedAnalysis {
    /// Word tokens (`Analysis::words`).
    words: u32,
    /// Number of sentences, mentions and claims, so counts need no decoding.
    sentences: u32,
    mentions: u32,
    claims: u32,
    /// Where the mention and claim sections start in `bytes` (sentences start at 0).
    mentions_at: u32,
    claims_at: u32,
    bytes: Box<[u8]>,
}

impl PackedAnalysis {
    /// Encodes `a`, the analysis of `text`.
    pub fn pack(text: &str, a: &Analysis) -> Self {
        let mut w = Writer::default();
        let mut previous = 0usize;
        for s in &a.sentences {
            w.range_from(previous, s);
            previous = s.end;
        }
        let mentions_at = w.0.len();
        previous = 0;
        for m in &a.mentions {
            w.mention(previous, m);
            previous = m.end;
        }
        let claims_at = w.0.len();
        let mut previous = 0usize;
        for c in &a.claims {
            w.claim(text, previous, c);
            previous = c.content.start;
        }
        Self {
            words: a.words as u32,
            sentences: a.sentences.len() as u32,
            mentions: a.mentions.len() as u32,
            claims: a.claims.len() as u32,
            mentions_at: mentions_at as u32,
            claims_at: claims_at as u32,
            bytes: w.0.into_boxed_slice(),
        }
    }

    /// Decodes the whole analysis of `text` (the text it was packed with).
    pub fn unpack(&self, text: &str) -> Analysis {
        Analysis {
            sentences: self.sentences(),
            words: self.words(),
            mentions: self.mentions(),
            claims: self.claims(text),
        }
    }

    /// Word tokens.
    pub fn words(&self) -> usize {
        self.words as usize
    }

    /// Number of sentences.
    pub fn sentence_count(&self) -> usize {
        self.sentences as usize
    }

    /// Number of entity mentions.
    pub fn mention_count(&self) -> usize {
        self.mentions as usize
    }

    /// Number of claims.
    pub fn claim_count(&self) -> usize {
        self.claims as usize
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.len()
    }

    /// Sentence byte ranges.
    pub fn sentences(&self) -> Vec<Range<usize>> {
        let mut r = Reader::new(&self.bytes[..self.mentions_at as usize]);
        let mut out = Vec::with_capacity(self.sentences as usize);
        let mut previous = 0usize;
        for _ in 0..self.sentences {
            let s = r.range_from(previous);
            previous = s.end;
            out.push(s);
        }
        out
    }

    /// Entity mentions, in text order.
    pub fn mentions(&self) -> Vec<EntityMention> {
        let mut r = Reader::new(&self.bytes[self.mentions_at as usize..self.claims_at as usize]);
        let mut out = Vec::with_capacity(self.mentions as usize);
        let mut previous = 0usize;
        for _ in 0..self.mentions {
            let m = r.mention(previous);
            previous = m.end;
            out.push(m);
        }
        out
    }

    /// Claims, in text order (`text` is the document's text, for the claims' own texts).
    pub fn claims(&self, text: &str) -> Vec<Claim> {
        let mut out = Vec::with_capacity(self.claims as usize);
        self.each_claim(text, |c| {
            out.push(c);
            true
        });
        out
    }

    /// Claim `index`, if there is one.
    pub fn claim(&self, text: &str, index: usize) -> Option<Claim> {
        let mut seen = 0;
        let mut found = None;
        self.each_claim(text, |c| {
            if seen == index {
                found = Some(c);
                return false;
            }
            seen += 1;
            true
        });
        found
    }

    /// Decodes claims in order, handing each to `f` until it returns false.
    fn each_claim(&self, text: &str, mut f: impl FnMut(Claim) -> bool) {
        let mut r = Reader::new(&self.bytes[self.claims_at as usize..]);
        let mut previous = 0usize;
        for _ in 0..self.claims {
            let c = r.claim(text, previous);
            previous = c.content.start;
            if !f(c) {
                break;
            }
        }
    }
}

/// The text the claim extractor gives a claim with these segments (trimmed parts joined by a
/// space); a claim whose text is exactly this is stored without it.
fn derived_text(text: &str, segments: &[Range<usize>]) -> Option<String> {
    let mut out = String::new();
    for (i, s) in segments.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(text.get(s.clone())?.trim_matches(char::is_whitespace));
    }
    Some(out)
}

/// Canonical quantity units seen so far: a quantity's `&'static str` unit is stored as its
/// index here, and decoding hands back the very same `&'static str`.
static UNITS: RwLock<Vec<&'static str>> = RwLock::new(Vec::new());

fn unit_index(unit: &'static str) -> usize {
    let known = UNITS
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .position(|u| *u == unit);
    if let Some(i) = known {
        return i;
    }
    let mut units = UNITS
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(i) = units.iter().position(|u| *u == unit) {
        return i;
    }
    units.push(unit);
    units.len() - 1
}

fn unit_at(index: usize) -> &'static str {
    UNITS
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(index)
        .copied()
        .unwrap_or("")
}

/// Strings that recur in mention metadata (keys, units, flags): stored as one byte each.
/// Any other string is stored as it is, so the list only needs the common ones.
const WORDS: [&str; 24] = [
    "value",
    "unit",
    "lower",
    "upper",
    "date",
    "relative",
    "time",
    "true",
    "count",
    "USD",
    "EUR",
    "GBP",
    "percent",
    "percentage point",
    "second",
    "minute",
    "hour",
    "day",
    "week",
    "month",
    "year",
    "mile",
    "km",
    "",
];

const ENTITY_TYPES: [EntityType; 14] = [
    EntityType::Person,
    EntityType::Organization,
    EntityType::Location,
    EntityType::Norp,
    EntityType::Event,
    EntityType::Work,
    EntityType::Misc,
    EntityType::Date,
    EntityType::Time,
    EntityType::Money,
    EntityType::Percent,
    EntityType::Quantity,
    EntityType::Cardinal,
    EntityType::Ordinal,
];
const MENTION_KINDS: [MentionKind; 3] = [
    MentionKind::Proper,
    MentionKind::Nominal,
    MentionKind::Pronoun,
];
const CLAIM_KINDS: [ClaimKind; 3] = [ClaimKind::Direct, ClaimKind::Indirect, ClaimKind::Assertion];
const SPEAKER_KINDS: [SpeakerKind; 4] = [
    SpeakerKind::Named,
    SpeakerKind::Anonymous,
    SpeakerKind::Author,
    SpeakerKind::Unknown,
];

fn position<T: PartialEq>(all: &[T], x: &T) -> u8 {
    all.iter().position(|y| y == x).unwrap_or(0) as u8
}

// Flag bits of a mention.
const M_CONFIDENCE: u64 = 1;
const M_METADATA: u64 = 2;
// Flag bits of a claim.
const C_CUE: u64 = 1;
const C_SPEAKER_SPAN: u64 = 1 << 1;
const C_SPEAKER_MENTION: u64 = 1 << 2;
const C_CHECK_WORTHINESS: u64 = 1 << 3;
const C_SEGMENTS: u64 = 1 << 4;
const C_TEXT: u64 = 1 << 5;
const C_QUANTITIES: u64 = 1 << 6;
const C_NAME: u64 = 1 << 7;
const C_DESCRIPTION: u64 = 1 << 8;
// Flag bits of a quantity: bounds absent, equal to the value, or given.
const Q_LOWER: u64 = 1;
const Q_LOWER_IS_VALUE: u64 = 1 << 1;
const Q_UPPER: u64 = 1 << 2;
const Q_UPPER_IS_VALUE: u64 = 1 << 3;
const Q_LOWER_INCLUSIVE: u64 = 1 << 4;
const Q_UPPER_INCLUSIVE: u64 = 1 << 5;
const Q_APPROXIMATE: u64 = 1 << 6;

#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn u(&mut self, n: u64) {
        crate::varint::push(&mut self.0, n);
    }

    /// A signed difference, zigzag-encoded.
    fn i(&mut self, from: usize, to: usize) {
        let d = (to as i64).wrapping_sub(from as i64);
        self.u(((d << 1) ^ (d >> 63)) as u64);
    }

    fn range_from(&mut self, base: usize, r: &Range<usize>) {
        self.i(base, r.start);
        self.i(r.start, r.end);
    }

    fn str(&mut self, s: &str) {
        self.u(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }

    /// A string that is often one of [`WORDS`]: its index, or its bytes.
    fn word(&mut self, s: &str) {
        match WORDS.iter().position(|w| *w == s) {
            Some(i) => self.u((i as u64) << 1 | 1),
            None => {
                self.u((s.len() as u64) << 1);
                self.0.extend_from_slice(s.as_bytes());
            }
        }
    }

    fn f32(&mut self, x: f32) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }

    fn f64(&mut self, x: f64) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }

    fn mention(&mut self, previous: usize, m: &EntityMention) {
        let mut flags = 0;
        if m.confidence.is_some() {
            flags |= M_CONFIDENCE;
        }
        if !m.metadata.is_empty() {
            flags |= M_METADATA;
        }
        let kinds = u64::from(position(&ENTITY_TYPES, &m.entity_type))
            | u64::from(position(&MENTION_KINDS, &m.kind)) << 4;
        self.u(kinds | flags << 6);
        self.range_from(previous, &(m.start..m.end));
        if let Some(c) = m.confidence {
            self.f32(c);
        }
        if !m.metadata.is_empty() {
            self.u(m.metadata.len() as u64);
            for (k, v) in &m.metadata {
                self.word(k);
                self.word(v);
            }
        }
    }

    fn claim(&mut self, text: &str, previous: usize, c: &Claim) {
        let base = c.content.start;
        let sp = &c.speaker;
        let keep_text = derived_text(text, &c.segments).as_deref() != Some(c.text.as_str());
        let single = c.segments.len() == 1 && c.segments[0] == c.content;
        let mut flags = 0;
        for (on, bit) in [
            (c.cue.is_some(), C_CUE),
            (sp.span.is_some(), C_SPEAKER_SPAN),
            (sp.mention.is_some(), C_SPEAKER_MENTION),
            (c.check_worthiness.is_some(), C_CHECK_WORTHINESS),
            (!single, C_SEGMENTS),
            (keep_text, C_TEXT),
            (!c.quantities.is_empty(), C_QUANTITIES),
            (!sp.name.is_empty(), C_NAME),
            (!sp.description.is_empty(), C_DESCRIPTION),
        ] {
            if on {
                flags |= bit;
            }
        }
        let kinds = u64::from(position(&CLAIM_KINDS, &c.kind))
            | u64::from(position(&SPEAKER_KINDS, &sp.kind)) << 2;
        self.u(kinds | flags << 4);
        self.range_from(previous, &c.content);
        self.range_from(base, &c.sentence);
        if let Some(cue) = &c.cue {
            self.range_from(base, cue);
        }
        if let Some(span) = &sp.span {
            self.range_from(base, span);
        }
        if let Some(m) = sp.mention {
            self.u(m as u64);
        }
        if let Some(x) = c.check_worthiness {
            self.f32(x);
        }
        if !single {
            self.u(c.segments.len() as u64);
            let mut at = base;
            for s in &c.segments {
                self.range_from(at, s);
                at = s.end;
            }
        }
        if keep_text {
            self.str(&c.text);
        }
        if !c.quantities.is_empty() {
            self.u(c.quantities.len() as u64);
            for q in &c.quantities {
                self.quantity(base, q);
            }
        }
        if !sp.name.is_empty() {
            self.str(&sp.name);
        }
        if !sp.description.is_empty() {
            self.str(&sp.description);
        }
    }

    fn quantity(&mut self, base: usize, q: &Quantity) {
        let mut flags = 0;
        match q.lower {
            Some(l) if l.to_bits() == q.value.to_bits() => flags |= Q_LOWER_IS_VALUE,
            Some(_) => flags |= Q_LOWER,
            None => {}
        }
        match q.upper {
            Some(u) if u.to_bits() == q.value.to_bits() => flags |= Q_UPPER_IS_VALUE,
            Some(_) => flags |= Q_UPPER,
            None => {}
        }
        for (on, bit) in [
            (q.lower_inclusive, Q_LOWER_INCLUSIVE),
            (q.upper_inclusive, Q_UPPER_INCLUSIVE),
            (q.approximate, Q_APPROXIMATE),
        ] {
            if on {
                flags |= bit;
            }
        }
        self.u(flags);
        self.f64(q.value);
        if flags & Q_LOWER != 0 {
            self.f64(q.lower.unwrap_or_default());
        }
        if flags & Q_UPPER != 0 {
            self.f64(q.upper.unwrap_or_default());
        }
        self.u(unit_index(q.unit) as u64);
        self.str(&q.head);
        self.range_from(base, &q.span);
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    /// The next number (0 past the end: the bytes are the store's own, never cut off).
    fn u(&mut self) -> u64 {
        crate::varint::read(self.bytes, &mut self.at).unwrap_or(0)
    }

    fn i(&mut self, from: usize) -> usize {
        let z = self.u();
        let d = ((z >> 1) as i64) ^ -((z & 1) as i64);
        (from as i64).wrapping_add(d) as usize
    }

    fn range_from(&mut self, base: usize) -> Range<usize> {
        let start = self.i(base);
        start..self.i(start)
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let end = (self.at + n).min(self.bytes.len());
        let out = &self.bytes[self.at..end];
        self.at = end;
        out
    }

    fn str(&mut self) -> String {
        let n = self.u() as usize;
        String::from_utf8_lossy(self.take(n)).into_owned()
    }

    fn word(&mut self) -> String {
        let n = self.u();
        if n & 1 == 1 {
            return WORDS
                .get((n >> 1) as usize)
                .copied()
                .unwrap_or("")
                .to_string();
        }
        String::from_utf8_lossy(self.take((n >> 1) as usize)).into_owned()
    }

    fn f32(&mut self) -> f32 {
        let mut b = [0u8; 4];
        for (d, s) in b.iter_mut().zip(self.take(4)) {
            *d = *s;
        }
        f32::from_le_bytes(b)
    }

    fn f64(&mut self) -> f64 {
        let mut b = [0u8; 8];
        for (d, s) in b.iter_mut().zip(self.take(8)) {
            *d = *s;
        }
        f64::from_le_bytes(b)
    }

    fn mention(&mut self, previous: usize) -> EntityMention {
        let head = self.u();
        let flags = head >> 6;
        let r = self.range_from(previous);
        let confidence = (flags & M_CONFIDENCE != 0).then(|| self.f32());
        let metadata = if flags & M_METADATA != 0 {
            let n = self.u() as usize;
            (0..n).map(|_| (self.word(), self.word())).collect()
        } else {
            Vec::new()
        };
        EntityMention {
            start: r.start,
            end: r.end,
            entity_type: ENTITY_TYPES[(head & 0xf) as usize % ENTITY_TYPES.len()],
            kind: MENTION_KINDS[((head >> 4) & 0x3) as usize % MENTION_KINDS.len()],
            confidence,
            metadata,
        }
    }

    fn claim(&mut self, text: &str, previous: usize) -> Claim {
        let head = self.u();
        let flags = head >> 4;
        let on = |bit: u64| flags & bit != 0;
        let content = self.range_from(previous);
        let base = content.start;
        let sentence = self.range_from(base);
        let cue = on(C_CUE).then(|| self.range_from(base));
        let span = on(C_SPEAKER_SPAN).then(|| self.range_from(base));
        let mention = on(C_SPEAKER_MENTION).then(|| self.u() as usize);
        let check_worthiness = on(C_CHECK_WORTHINESS).then(|| self.f32());
        let segments = if on(C_SEGMENTS) {
            let n = self.u() as usize;
            let mut at = base;
            (0..n)
                .map(|_| {
                    let s = self.range_from(at);
                    at = s.end;
                    s
                })
                .collect()
        } else {
            vec![content.clone()]
        };
        let claim_text = if on(C_TEXT) {
            self.str()
        } else {
            derived_text(text, &segments).unwrap_or_default()
        };
        let quantities = if on(C_QUANTITIES) {
            let n = self.u() as usize;
            (0..n).map(|_| self.quantity(base)).collect()
        } else {
            Vec::new()
        };
        let name = if on(C_NAME) {
            self.str()
        } else {
            String::new()
        };
        let description = if on(C_DESCRIPTION) {
            self.str()
        } else {
            String::new()
        };
        Claim {
            kind: CLAIM_KINDS[(head & 0x3) as usize % CLAIM_KINDS.len()],
            content,
            segments,
            text: claim_text,
            speaker: Speaker {
                span,
                kind: SPEAKER_KINDS[((head >> 2) & 0x3) as usize],
                name,
                description,
                mention,
            },
            cue,
            quantities,
            check_worthiness,
            sentence,
        }
    }

    fn quantity(&mut self, base: usize) -> Quantity {
        let flags = self.u();
        let value = self.f64();
        let lower = if flags & Q_LOWER != 0 {
            Some(self.f64())
        } else {
            (flags & Q_LOWER_IS_VALUE != 0).then_some(value)
        };
        let upper = if flags & Q_UPPER != 0 {
            Some(self.f64())
        } else {
            (flags & Q_UPPER_IS_VALUE != 0).then_some(value)
        };
        let unit = unit_at(self.u() as usize);
        let head = self.str();
        let span = self.range_from(base);
        Quantity {
            value,
            lower,
            upper,
            lower_inclusive: flags & Q_LOWER_INCLUSIVE != 0,
            upper_inclusive: flags & Q_UPPER_INCLUSIVE != 0,
            unit,
            head,
            approximate: flags & Q_APPROXIMATE != 0,
            span,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analyze;

    fn round_trip(text: &str) -> (Analysis, Analysis, PackedAnalysis) {
        let a = analyze(text, None);
        let packed = PackedAnalysis::pack(text, &a);
        let b = packed.unpack(text);
        (a, b, packed)
    }

    #[test]
    fn every_seed_article_decodes_to_its_analysis() {
        // Proves the encoding is exact on real, messy text: quotes with speakers, quantities
        // with bounds, dates with metadata, interrupted quotes with several segments.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../seeds");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let (a, b, packed) = round_trip(&text);
            assert_eq!(format!("{a:?}"), format!("{b:?}"));
            assert_eq!(packed.claim_count(), a.claims.len());
            assert!(packed.heap_bytes() < text.len(), "smaller than the text");
            n += 1;
        }
        assert!(n >= 5);
    }

    #[test]
    fn single_claims_and_odd_ranges_decode_exactly() {
        // Proves claim lookup by index and that texts that are not the joined segments, and
        // ranges running backwards, survive.
        let text =
            "“It went well,” Trump said. “We talked,” he added. Talks lasted over four hours.";
        let (a, b, packed) = round_trip(text);
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        for (i, c) in a.claims.iter().enumerate() {
            assert_eq!(packed.claim(text, i).as_ref(), Some(c));
        }
        assert_eq!(packed.claim(text, a.claims.len()), None);
        let mut odd = a.clone();
        odd.claims[0].text = "not derived".into();
        odd.claims[0].sentence = std::ops::Range { start: 10, end: 3 };
        odd.mentions[0].confidence = None;
        let p = PackedAnalysis::pack(text, &odd);
        assert_eq!(format!("{odd:?}"), format!("{:?}", p.unpack(text)));
    }
}

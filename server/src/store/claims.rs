//! The corpus's claims tied to its entities: each claim's speaker and the entities it is
//! about resolved against the [`Registry`], and the disputes between documents.
//!
//! Built lazily per store snapshot, like the registry it reads.

use crate::analysis::disputes::{find_disputes, ClaimRef, DisputeKind};
use crate::analysis::EntityType;
use crate::entities::Registry;
use crate::store::StoredDoc;
use std::sync::Arc;

/// One claim of the corpus with its resolved entities (a view into [`ClaimSet`]).
#[derive(Debug, Clone, Copy)]
pub struct ClaimRecord<'a> {
    /// The document (index into the registry's `doc_ids`).
    pub doc: u32,
    /// Index of the claim in its document's analysis.
    pub index: u32,
    /// The speaker's entity, when resolved.
    pub speaker: Option<usize>,
    /// Entities mentioned in the content (registry indices, ascending).
    pub entities: &'a [u32],
}

/// One side of a corpus dispute.
#[derive(Debug, Clone)]
pub struct DisputeSide {
    /// Index into [`ClaimSet::claim`].
    pub claim: usize,
    /// Index into that claim's quantities.
    pub quantity: usize,
}

/// Claims from different documents that cannot all be true.
#[derive(Debug, Clone)]
pub struct Dispute {
    /// Stable id.
    pub id: String,
    /// What is disputed, readably.
    pub topic: String,
    /// Why.
    pub kind: DisputeKind,
    /// The sides.
    pub sides: Vec<DisputeSide>,
    /// Entities every side is about.
    pub entities: Vec<usize>,
}

/// The corpus's claims and disputes.
///
/// Memory: kept for the life of a snapshot once asked for, so a claim is 8 bytes (its
/// speaker and where its entities start) plus 4 per entity; its document and position are
/// implied by the per-document ranges.
#[derive(Debug, Default)]
pub struct ClaimSet {
    /// Per claim, in document then text order: the speaker's entity (`u32::MAX`: none).
    speakers: Box<[u32]>,
    /// Per claim, the start of its entities in `entities` (one more entry: the end).
    entity_start: Box<[u32]>,
    /// The entities of every claim, concatenated.
    entities: Box<[u32]>,
    /// Per document, the index of its first claim (one more entry: the number of claims).
    doc_start: Box<[u32]>,
    /// Disputes, in a stable order.
    pub disputes: Vec<Dispute>,
}

const NONE: u32 = u32::MAX;

/// The id of a claim: its document id and its position there.
pub fn claim_id(doc_id: &str, index: u32) -> String {
    format!("{doc_id}:c{index}")
}

/// The document id and position a claim id names.
pub fn parse_claim_id(id: &str) -> Option<(&str, u32)> {
    let (doc, n) = id.rsplit_once(":c")?;
    Some((doc, n.parse().ok()?))
}

impl ClaimSet {
    /// Resolves the claims of `docs` (the snapshot's documents, in the registry's order).
    pub fn build(registry: &Registry, docs: &[Arc<StoredDoc>]) -> Self {
        let total: usize = docs.iter().map(|d| d.packed().claim_count()).sum();
        let mut speakers: Vec<u32> = Vec::with_capacity(total);
        let mut entity_start: Vec<u32> = Vec::with_capacity(total + 1);
        let mut claim_entities: Vec<u32> = Vec::new();
        let mut doc_start: Vec<u32> = Vec::with_capacity(docs.len() + 1);
        // Claims with a comparable quantity (for disputes): the claim index, its subjects, a
        // copy of the claim keeping only measuring quantities, and their original indices.
        let mut subjects: Vec<(usize, u32, Vec<String>)> = Vec::new();
        let mut measuring: Vec<(crate::analysis::claims::Claim, Vec<usize>)> = Vec::new();
        for (di, d) in docs.iter().enumerate() {
            let di = di as u32;
            let a = d.analysis();
            doc_start.push(speakers.len() as u32);
            for c in &a.claims {
                let speaker = c
                    .speaker
                    .mention
                    .and_then(|m| registry.entity_of_mention(di, m as u32));
                let entities = registry.named_entities_within(di, &a.mentions, c.content.clone());
                let kept: Vec<usize> = (0..c.quantities.len())
                    .filter(|&q| is_measurement(&d.doc.text, &c.quantities[q]))
                    .collect();
                if !kept.is_empty() {
                    // Who took part: the people and organisations of the sentence, or of the
                    // previous sentence when it names none ("It lasted five hours." after
                    // "Witkoff met Putin.").
                    let participants = |range: std::ops::Range<usize>| -> Vec<usize> {
                        registry
                            .named_entities_within(di, &a.mentions, range)
                            .into_iter()
                            .filter(|&e| {
                                matches!(
                                    registry.entities[e].entity_type,
                                    EntityType::Person | EntityType::Organization
                                )
                            })
                            .collect()
                    };
                    let mut about = participants(c.sentence.clone());
                    if about.is_empty() {
                        let k = a.sentences.partition_point(|s| s.end <= c.sentence.start);
                        if let Some(prev) = k.checked_sub(1).and_then(|k| a.sentences.get(k)) {
                            about = participants(prev.clone());
                        }
                    }
                    let mut copy = c.clone();
                    copy.quantities = kept.iter().map(|&q| c.quantities[q].clone()).collect();
                    measuring.push((copy, kept));
                    subjects.push((
                        speakers.len(),
                        di,
                        about
                            .iter()
                            .map(|&e| registry.entities[e].id.clone())
                            .collect(),
                    ));
                }
                speakers.push(speaker.map_or(NONE, |e| e as u32));
                entity_start.push(claim_entities.len() as u32);
                claim_entities.extend(entities.iter().map(|&e| e as u32));
            }
        }
        doc_start.push(speakers.len() as u32);
        entity_start.push(claim_entities.len() as u32);
        let mut set = ClaimSet {
            speakers: speakers.into_boxed_slice(),
            entity_start: entity_start.into_boxed_slice(),
            entities: claim_entities.into_boxed_slice(),
            doc_start: doc_start.into_boxed_slice(),
            disputes: Vec::new(),
        };
        let refs: Vec<ClaimRef<'_>> = subjects
            .iter()
            .zip(&measuring)
            .map(|((_, doc, about), (claim, _))| ClaimRef {
                document: &registry.doc_ids[*doc as usize],
                claim,
                subjects: about,
            })
            .collect();
        let found = find_disputes(&refs);
        set.disputes = found
            .into_iter()
            .map(|d| corpus_dispute(registry, &subjects, &measuring, d))
            .collect();
        set
    }

    /// The number of claims.
    pub fn len(&self) -> usize {
        self.speakers.len()
    }

    /// True when the corpus has no claims.
    pub fn is_empty(&self) -> bool {
        self.speakers.is_empty()
    }

    /// Claim `k` (`k < len()`), in document then text order.
    pub fn claim(&self, k: usize) -> ClaimRecord<'_> {
        // The document: the last whose first claim is at or before `k`.
        let doc = self.doc_start.partition_point(|&s| s as usize <= k) - 1;
        let speaker = self.speakers[k];
        ClaimRecord {
            doc: doc as u32,
            index: (k - self.doc_start[doc] as usize) as u32,
            speaker: (speaker != NONE).then_some(speaker as usize),
            entities: &self.entities
                [self.entity_start[k] as usize..self.entity_start[k + 1] as usize],
        }
    }

    /// The claims of a document (indices for [`ClaimSet::claim`]).
    pub fn of_doc(&self, doc: u32) -> std::ops::Range<usize> {
        let d = doc as usize;
        match (self.doc_start.get(d), self.doc_start.get(d + 1)) {
            (Some(&a), Some(&b)) => a as usize..b as usize,
            _ => 0..0,
        }
    }
}

/// Claims with a comparable quantity, as disputes are found among them: the claim's index,
/// its document and its subjects' entity ids.
type Subjects = [(usize, u32, Vec<String>)];
/// Per such claim: a copy keeping only its measuring quantities, and their original indices.
type Measuring = [(crate::analysis::claims::Claim, Vec<usize>)];

/// A dispute found among the measuring claims, tied to the corpus: sides as claim-set
/// indices, the entities every side is about, a readable topic and a stable id.
fn corpus_dispute(
    registry: &Registry,
    subjects: &Subjects,
    measuring: &Measuring,
    d: crate::analysis::disputes::Dispute,
) -> Dispute {
    let sides: Vec<DisputeSide> = d
        .sides
        .iter()
        .map(|s| DisputeSide {
            claim: subjects[s.claim].0,
            quantity: measuring[s.claim].1[s.quantity],
        })
        .collect();
    // Entities shared by every side.
    let mut shared: Option<Vec<usize>> = None;
    for s in &d.sides {
        let ids: Vec<usize> = subjects[s.claim]
            .2
            .iter()
            .filter_map(|id| registry.index_of(id))
            .collect();
        shared = Some(match shared {
            None => ids,
            Some(prev) => prev.into_iter().filter(|e| ids.contains(e)).collect(),
        });
    }
    let mut entities = shared.unwrap_or_default();
    entities.sort_unstable();
    // "meeting (duration): Steve Witkoff, Vladimir Putin".
    let what = d
        .topic
        .rsplit_once(": ")
        .map_or(d.topic.as_str(), |(_, w)| w);
    let names: Vec<&str> = if entities.is_empty() {
        registry
            .get(&d.subject)
            .map(|e| e.name.as_str())
            .into_iter()
            .collect()
    } else {
        entities
            .iter()
            .map(|&e| registry.entities[e].name.as_str())
            .collect()
    };
    let topic = format!("{what}: {}", names.join(", "));
    let mut key: Vec<String> = sides
        .iter()
        .map(|s| format!("{}:{}", s.claim, s.quantity))
        .collect();
    key.sort();
    let id = format!(
        "dsp-{:012x}",
        fnv(&(topic.clone() + &key.join(","))) & 0xffff_ffff_ffff
    );
    Dispute {
        id,
        topic,
        kind: d.kind,
        sides,
        entities,
    }
}

/// True when a quantity measures something (a length, a count) rather than placing an event
/// in time ("11 days ago", "48 hours later", "in the past two weeks"), ranking it ("third
/// year") or imagining it ("the meeting would last five minutes").
fn is_measurement(text: &str, q: &crate::analysis::quantities::Quantity) -> bool {
    let written = text.get(q.span.clone()).unwrap_or("");
    let ordinal = written
        .split(|c: char| !c.is_alphanumeric())
        .any(crate::analysis::is_ordinal_word);
    let after: Vec<String> = text
        .get(q.span.end..)
        .unwrap_or("")
        .split_whitespace()
        .take(1)
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .collect();
    let before: Vec<String> = text
        .get(..q.span.start)
        .unwrap_or("")
        .split_whitespace()
        .rev()
        .take(6)
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .collect();
    let placed_in_time = after.first().is_some_and(|w| {
        matches!(
            w.as_str(),
            "ago" | "later" | "earlier" | "before" | "after" | "old" | "from"
        )
    }) || before.first().is_some_and(|w| {
        matches!(
            w.as_str(),
            "past" | "last" | "next" | "previous" | "within" | "coming"
        )
    });
    let hypothetical = before.iter().any(|w| {
        matches!(
            w.as_str(),
            "would" | "could" | "might" | "if" | "will" | "may"
        )
    });
    // Bare counts ("13 people", "10 million people") name different sets far more often
    // than they disagree about one; without event coreference they are left out.
    let bare_count = crate::analysis::quantities::dimension(q.unit).0 == "count";
    !ordinal && !placed_in_time && !hypothetical && !bare_count
}

/// FNV-1a (64-bit) of `s`: dispute ids are stable across runs and builds.
fn fnv(s: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = fnv::FnvHasher::default();
    h.write(s.as_bytes());
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispute_ids_hash_with_fnv_1a_64() {
        // The published FNV-1a 64 test vectors: dispute ids stay what they were.
        assert_eq!(fnv(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv("foobar"), 0x8594_4171_f739_67e8);
    }
}

//! The query API over one store [`Snapshot`]: what the gRPC adapters (and anything else)
//! ask of the corpus, in domain types, failing with a typed [`QueryError`].
//!
//! Every query reads one snapshot, so its answer is consistent: the documents, the search
//! index, the entity registry and the claim set it sees are those of one generation. Entities
//! and claims come back as references into the snapshot (or as lists sharing it), never as
//! raw registry indices the caller would have to resolve.

use super::claims::{claim_id, parse_claim_id, ClaimSet, Dispute};
use super::{Snapshot, StoredDoc};
use crate::analysis::claims::{Claim, ClaimKind};
use crate::analysis::EntityType;
use crate::entities::{DocInput, Entity, MentionRef, Registry, Window};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::{Bound, Range};
use std::sync::Arc;

/// Why a query has no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The item the query names does not exist.
    #[error("{}{kind} {id:?} not found", field.map(|f| format!("{f}: ")).unwrap_or_default())]
    NotFound {
        /// What was looked for ("entity", "claim", "document").
        kind: &'static str,
        /// Its id.
        id: String,
        /// The request field that named it, when the item only narrows a list.
        field: Option<&'static str>,
    },
    /// A filter names an entity the corpus does not know: the filter, not a resource, is
    /// wrong.
    #[error("{field}: unknown entity {id:?}")]
    UnknownFilterEntity {
        /// The filter field.
        field: &'static str,
        /// The entity id it gave.
        id: String,
    },
}

impl QueryError {
    fn not_found(kind: &'static str, id: &str, field: Option<&'static str>) -> Self {
        Self::NotFound {
            kind,
            id: id.to_string(),
            field,
        }
    }
}

/// The order of an entity listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EntityOrder {
    /// Most mentions first.
    #[default]
    Mentions,
    /// Most documents first (then most mentions).
    Documents,
    /// By name, case-insensitively.
    Name,
    /// Most salient first.
    Salience,
}

/// Which entities to list, and in what order. The default lists every entity, most
/// mentioned first.
#[derive(Debug, Clone, Default)]
pub struct EntityQuery {
    /// Only entities of this type.
    pub entity_type: Option<EntityType>,
    /// Only entities whose name or an alias has a word starting with this (any case;
    /// surrounding whitespace ignored).
    pub name_prefix: String,
    /// Only entities mentioned in this document (which must exist).
    pub document_id: Option<String>,
    /// Only entities mentioned in at least this many documents.
    pub min_documents: i64,
    /// The order.
    pub order: EntityOrder,
}

/// Entities a query picked, in its order, sharing the snapshot's registry (cheap to move
/// into a stream).
#[derive(Debug, Clone)]
pub struct EntityList {
    registry: Arc<Registry>,
    picked: Vec<usize>,
}

impl EntityList {
    /// How many entities the query picked.
    pub fn len(&self) -> usize {
        self.picked.len()
    }

    /// True when the query picked none.
    pub fn is_empty(&self) -> bool {
        self.picked.is_empty()
    }

    /// The `k`-th entity in the query's order.
    pub fn get(&self, k: usize) -> Option<&Entity> {
        self.registry.entities.get(*self.picked.get(k)?)
    }

    /// The entities at positions `range` (clamped to the list).
    pub fn slice(&self, range: Range<usize>) -> impl Iterator<Item = &Entity> {
        let end = range.end.min(self.len());
        let start = range.start.min(end);
        self.picked[start..end]
            .iter()
            .map(|&i| &self.registry.entities[i])
    }
}

/// An entity of one document, with its salience there.
#[derive(Debug, Clone, Copy)]
pub struct DocumentEntity<'a> {
    /// The corpus entity.
    pub entity: &'a Entity,
    /// Its salience in the document.
    pub salience: Option<f32>,
}

/// The corpus entities of one document.
#[derive(Debug, Clone, Default)]
pub struct DocumentEntities<'a> {
    /// The document's position in the registry (for its mentions); `None` when it has no
    /// analysed mentions, and then `entities` is empty.
    pub doc: Option<u32>,
    /// Its entities, in registry order.
    pub entities: Vec<DocumentEntity<'a>>,
}

/// An entity related to another by co-occurrence, resolved.
#[derive(Debug, Clone)]
pub struct RelatedEntity<'a> {
    /// The related entity.
    pub entity: &'a Entity,
    /// Windows holding both.
    pub count: u32,
    /// Normalised PMI of the pair, -1..1.
    pub npmi: f32,
    /// Some windows holding both: the document and the sentence's byte range in its text.
    pub evidence: Vec<(&'a StoredDoc, Range<usize>)>,
}

/// Which claims to list. The default lists every claim of the corpus.
#[derive(Debug, Clone, Default)]
pub struct ClaimQuery {
    /// Only claims of this document (which must exist).
    pub document_id: Option<String>,
    /// Only claims whose speaker is this entity (which must exist).
    pub speaker_entity_id: Option<String>,
    /// Only claims about this entity, or spoken by it (which must exist).
    pub about_entity_id: Option<String>,
    /// Only claims of this kind.
    pub kind: Option<ClaimKind>,
    /// Only claims whose text holds every whitespace-separated word of this (any case).
    pub text: String,
}

/// Identifies one claim of a snapshot's claim set (its position there), as queries return
/// them; resolve with [`Snapshot::corpus_claim`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClaimKey(usize);

/// A claim of the corpus with what it resolved to.
#[derive(Debug, Clone)]
pub struct CorpusClaim<'a> {
    /// Its stable id (`doc:cN`).
    pub id: String,
    /// The document it is in.
    pub document: &'a StoredDoc,
    /// The claim.
    pub claim: Claim,
    /// Its speaker, when resolved to an entity.
    pub speaker: Option<&'a Entity>,
    /// The entities its content mentions.
    pub entities: Vec<&'a Entity>,
}

/// A page of documents in id order.
#[derive(Debug, Clone, Default)]
pub struct DocumentPage<'a> {
    /// The documents of the page.
    pub documents: Vec<&'a Arc<StoredDoc>>,
    /// How many documents the listing holds in all (every page, not only this one).
    pub total: usize,
    /// Whether documents follow the page.
    pub more: bool,
}

/// Entity facets over a set of documents: in how many of them each entity, and each entity
/// type, is mentioned.
#[derive(Debug, Clone, Default)]
pub struct EntityFacets<'a> {
    /// Per entity, most documents first (ties by entity id), at most the limit asked for.
    pub entities: Vec<(&'a Entity, i64)>,
    /// Per entity type, in no particular order.
    pub types: Vec<(EntityType, i64)>,
}

impl Snapshot {
    /// The entity with this id.
    pub fn entity(&self, id: &str) -> Result<&Entity, QueryError> {
        self.entities()
            .get(id)
            .ok_or_else(|| QueryError::not_found("entity", id, None))
    }

    /// The document with this id, as a query sees it.
    fn document(&self, id: &str) -> Result<&Arc<StoredDoc>, QueryError> {
        self.docs
            .get(id)
            .ok_or_else(|| QueryError::not_found("document", id, None))
    }

    /// The registry index of an entity named by a filter field; `None` without an id.
    fn entity_filter(
        &self,
        id: Option<&str>,
        field: &'static str,
    ) -> Result<Option<usize>, QueryError> {
        let Some(id) = id.filter(|id| !id.is_empty()) else {
            return Ok(None);
        };
        self.entities()
            .index_of(id)
            .map(Some)
            .ok_or_else(|| QueryError::not_found("entity", id, Some(field)))
    }

    /// Document `index` of the registry, as the entity code reads it.
    pub fn doc_input(&self, index: u32) -> Option<DocInput<'_>> {
        let id = self.entities().doc_ids.get(index as usize)?;
        let d = self.docs.get(id.as_ref())?;
        Some(DocInput {
            id: &d.doc.id,
            text: &d.doc.text,
            sentences: Cow::Owned(d.sentences()),
            mentions: Cow::Owned(d.mentions()),
        })
    }

    /// The entities `query` selects, in its order.
    pub fn query_entities(&self, query: &EntityQuery) -> Result<EntityList, QueryError> {
        let reg = self.entities();
        let doc = match query.document_id.as_deref().filter(|id| !id.is_empty()) {
            None => None,
            Some(id) => {
                self.document(id)?;
                reg.doc_index(id)
            }
        };
        let prefix = query.name_prefix.trim().to_lowercase();
        let e = &reg.entities;
        let mut picked: Vec<usize> = (0..e.len())
            .filter(|&i| {
                let e = &e[i];
                query.entity_type.is_none_or(|t| e.entity_type == t)
                    && e.docs.len() as i64 >= query.min_documents
                    && doc.is_none_or(|d| e.docs.binary_search(&d).is_ok())
                    && (prefix.is_empty()
                        || name_matches(&e.name, &prefix)
                        || e.aliases.iter().any(|a| name_matches(a, &prefix)))
            })
            .collect();
        match query.order {
            EntityOrder::Mentions => picked.sort_by(|&a, &b| {
                e[b].mentions
                    .len()
                    .cmp(&e[a].mentions.len())
                    .then(a.cmp(&b))
            }),
            EntityOrder::Documents => picked.sort_by(|&a, &b| {
                e[b].docs
                    .len()
                    .cmp(&e[a].docs.len())
                    .then(e[b].mentions.len().cmp(&e[a].mentions.len()))
                    .then(a.cmp(&b))
            }),
            EntityOrder::Name => picked.sort_by(|&a, &b| {
                e[a].name
                    .to_lowercase()
                    .cmp(&e[b].name.to_lowercase())
                    .then(a.cmp(&b))
            }),
            EntityOrder::Salience => {
                picked.sort_by(|&a, &b| e[b].salience.total_cmp(&e[a].salience).then(a.cmp(&b)))
            }
        }
        Ok(EntityList {
            registry: Arc::clone(reg),
            picked,
        })
    }

    /// The corpus entities of a stored document (which must exist), with its salience.
    pub fn document_entities(&self, id: &str) -> Result<DocumentEntities<'_>, QueryError> {
        self.document(id)?;
        let reg = self.entities();
        let Some(doc) = reg.doc_index(id) else {
            return Ok(DocumentEntities::default());
        };
        let entities = reg
            .entities_in_doc(doc)
            .into_iter()
            .map(|i| DocumentEntity {
                entity: &reg.entities[i],
                salience: reg.salience_in(i, doc),
            })
            .collect();
        Ok(DocumentEntities {
            doc: Some(doc),
            entities,
        })
    }

    /// The mentions of an entity, in document order; only those in `document_id` when
    /// given (which must exist).
    pub fn mentions_of(
        &self,
        entity_id: &str,
        document_id: Option<&str>,
    ) -> Result<Vec<MentionRef>, QueryError> {
        let entity = self.entity(entity_id)?;
        let only = match document_id.filter(|id| !id.is_empty()) {
            None => None,
            Some(id) => {
                self.document(id)?;
                match self.entities().doc_index(id) {
                    Some(d) => Some(d),
                    // A document without analysed mentions mentions nothing.
                    None => return Ok(Vec::new()),
                }
            }
        };
        Ok(entity
            .mentions
            .iter()
            .filter(|r| only.is_none_or(|d| d == r.doc))
            .copied()
            .collect())
    }

    /// Entities co-occurring with `entity_id` within `window`, most co-occurrences first,
    /// with up to `evidence` windows each.
    pub fn related_entities(
        &self,
        entity_id: &str,
        window: Window,
        evidence: usize,
    ) -> Result<Vec<RelatedEntity<'_>>, QueryError> {
        let reg = self.entities();
        let index = reg
            .index_of(entity_id)
            .ok_or_else(|| QueryError::not_found("entity", entity_id, None))?;
        let doc = |d: u32| {
            let id = reg.doc_ids.get(d as usize)?;
            self.docs.get(id.as_ref()).map(|d| &**d)
        };
        Ok(reg
            .related(index, window, evidence, |d| self.doc_input(d))
            .into_iter()
            .map(|r| RelatedEntity {
                entity: &reg.entities[r.entity],
                count: r.count,
                npmi: r.npmi,
                evidence: r
                    .evidence
                    .into_iter()
                    .filter_map(|(d, range)| Some((doc(d)?, range)))
                    .collect(),
            })
            .collect())
    }

    /// The documents of the listing, in id order, after the document `after` (from the
    /// start without one), at most `limit`; only those of `source` when given.
    pub fn documents_after(
        &self,
        source: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> DocumentPage<'_> {
        let source = source.filter(|s| !s.is_empty());
        let matches = |d: &&Arc<StoredDoc>| source.is_none_or(|s| d.doc.source == s);
        let total = self.docs.values().filter(matches).count();
        let range = match after {
            Some(id) => self
                .docs
                .range::<str, _>((Bound::Excluded(id), Bound::Unbounded)),
            None => self.docs.range::<str, _>(..),
        };
        let mut documents: Vec<_> = range
            .map(|(_, d)| d)
            .filter(matches)
            .take(limit + 1)
            .collect();
        let more = documents.len() > limit;
        documents.truncate(limit);
        DocumentPage {
            documents,
            total,
            more,
        }
    }

    /// The ids of the documents mentioning every one of `entity_ids` (through any alias),
    /// in no particular order; an unknown entity is an error of the filter `field`.
    pub fn documents_mentioning_all(
        &self,
        entity_ids: &[String],
        field: &'static str,
    ) -> Result<Vec<String>, QueryError> {
        let registry = self.entities();
        let mut allowed: Option<HashSet<u32>> = None;
        for id in entity_ids {
            let entity = registry
                .get(id)
                .ok_or_else(|| QueryError::UnknownFilterEntity {
                    field,
                    id: id.clone(),
                })?;
            let docs: HashSet<u32> = entity.docs.iter().copied().collect();
            allowed = Some(match allowed {
                None => docs,
                Some(a) => a.intersection(&docs).copied().collect(),
            });
        }
        Ok(allowed
            .unwrap_or_default()
            .into_iter()
            .filter_map(|d| registry.doc_ids.get(d as usize).map(|id| id.to_string()))
            .collect())
    }

    /// In how many of the documents `doc_ids` each entity and each entity type is
    /// mentioned; at most `max_entities` entities (the most frequent).
    pub fn entity_facets(&self, doc_ids: &[String], max_entities: usize) -> EntityFacets<'_> {
        let registry = self.entities();
        let mut per_entity: HashMap<usize, i64> = HashMap::new();
        let mut per_type: HashMap<EntityType, i64> = HashMap::new();
        for id in doc_ids {
            let Some(doc) = registry.doc_index(id) else {
                continue;
            };
            let mut types = HashSet::new();
            for e in registry.entities_in_doc(doc) {
                *per_entity.entry(e).or_default() += 1;
                types.insert(registry.entities[e].entity_type);
            }
            for t in types {
                *per_type.entry(t).or_default() += 1;
            }
        }
        let mut entities: Vec<(&Entity, i64)> = per_entity
            .into_iter()
            .map(|(e, count)| (&registry.entities[e], count))
            .collect();
        entities.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.id.cmp(&b.0.id)));
        entities.truncate(max_entities);
        EntityFacets {
            entities,
            types: per_type.into_iter().collect(),
        }
    }

    /// The claims `query` selects, in document then text order.
    pub fn query_claims(&self, query: &ClaimQuery) -> Result<Vec<ClaimKey>, QueryError> {
        let reg = self.entities();
        let set = self.claims();
        let speaker =
            self.entity_filter(query.speaker_entity_id.as_deref(), "speaker_entity_id")?;
        let about = self.entity_filter(query.about_entity_id.as_deref(), "about_entity_id")?;
        let range = match query.document_id.as_deref().filter(|id| !id.is_empty()) {
            None => 0..set.len(),
            Some(id) => {
                self.document(id)?;
                reg.doc_index(id).map_or(0..0, |d| set.of_doc(d))
            }
        };
        let words: Vec<String> = query
            .text
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        // Claims of one document are consecutive: each document's claims are decoded once.
        let mut decoded: Option<(u32, Vec<Claim>)> = None;
        Ok(range
            .filter(|&k| {
                let r = set.claim(k);
                if speaker.is_some() && r.speaker != speaker
                    || about
                        .is_some_and(|a| !r.entities.contains(&(a as u32)) && r.speaker != Some(a))
                {
                    return false;
                }
                if decoded.as_ref().is_none_or(|(doc, _)| *doc != r.doc) {
                    let claims = reg
                        .doc_ids
                        .get(r.doc as usize)
                        .and_then(|id| self.docs.get(id.as_ref()))
                        .map(|d| d.claims())
                        .unwrap_or_default();
                    decoded = Some((r.doc, claims));
                }
                let Some(c) = decoded
                    .as_ref()
                    .and_then(|(_, claims)| claims.get(r.index as usize))
                else {
                    return false;
                };
                query.kind.is_none_or(|k| c.kind == k)
                    && (words.is_empty() || {
                        let text = c.text.to_lowercase();
                        words.iter().all(|w| text.contains(w.as_str()))
                    })
            })
            .map(ClaimKey)
            .collect())
    }

    /// The claims of a stored document (which must exist), in text order.
    pub fn claims_of_document(&self, id: &str) -> Result<Vec<ClaimKey>, QueryError> {
        self.document(id)?;
        Ok(self
            .entities()
            .doc_index(id)
            .map_or(0..0, |d| self.claims().of_doc(d))
            .map(ClaimKey)
            .collect())
    }

    /// The claim with this id (`doc:cN`).
    pub fn claim_by_id(&self, id: &str) -> Result<CorpusClaim<'_>, QueryError> {
        let not_found = || QueryError::not_found("claim", id, None);
        let (doc_id, index) = parse_claim_id(id).ok_or_else(not_found)?;
        let doc = self.entities().doc_index(doc_id).ok_or_else(not_found)?;
        let set = self.claims();
        let k = set
            .of_doc(doc)
            .find(|&k| set.claim(k).index == index)
            .ok_or_else(not_found)?;
        self.corpus_claim(ClaimKey(k)).ok_or_else(not_found)
    }

    /// A claim a query returned, resolved.
    pub fn corpus_claim(&self, key: ClaimKey) -> Option<CorpusClaim<'_>> {
        let reg = self.entities();
        let set: &ClaimSet = self.claims();
        let r = set.claim(key.0);
        let doc_id = reg.doc_ids.get(r.doc as usize)?;
        let document = self.docs.get(doc_id.as_ref())?;
        let claim = document.claim(r.index as usize)?;
        Some(CorpusClaim {
            id: claim_id(doc_id, r.index),
            document,
            claim,
            speaker: r.speaker.and_then(|e| reg.entities.get(e)),
            entities: r
                .entities
                .iter()
                .filter_map(|&e| reg.entities.get(e as usize))
                .collect(),
        })
    }

    /// The disputes, in a stable order; only those about `about_entity_id` when given
    /// (which must exist).
    pub fn disputes_about(
        &self,
        about_entity_id: Option<&str>,
    ) -> Result<Vec<&Dispute>, QueryError> {
        let about = self.entity_filter(about_entity_id, "about_entity_id")?;
        Ok(self
            .claims()
            .disputes
            .iter()
            .filter(|d| about.is_none_or(|a| d.entities.contains(&a)))
            .collect())
    }

    /// The claim of one side of a dispute.
    pub fn dispute_claim(&self, side: &super::claims::DisputeSide) -> Option<CorpusClaim<'_>> {
        self.corpus_claim(ClaimKey(side.claim))
    }

    /// The entities every side of a dispute is about.
    pub fn dispute_entities(&self, dispute: &Dispute) -> Vec<&Entity> {
        let reg = self.entities();
        dispute
            .entities
            .iter()
            .filter_map(|&e| reg.entities.get(e))
            .collect()
    }
}

/// True when a word of `name` starts the (lower-cased) `query`.
fn name_matches(name: &str, query: &str) -> bool {
    let lower = name.to_lowercase();
    lower.starts_with(query)
        || lower
            .match_indices(' ')
            .any(|(i, _)| lower[i + 1..].starts_with(query))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::Document;
    use crate::store::Store;

    fn store() -> Store {
        let store = Store::new();
        let doc = |id: &str, text: &str| {
            StoredDoc::analyze(Document {
                id: id.into(),
                text: text.into(),
                ..Default::default()
            })
        };
        store
            .upsert(vec![
                doc(
                    "a",
                    "Steve Witkoff met Vladimir Putin in Moscow. \"It went well,\" Witkoff said.",
                ),
                doc("b", "Vladimir Putin spoke in Moscow on Tuesday."),
            ])
            .unwrap();
        store
    }

    #[test]
    fn missing_items_are_typed_not_found_naming_the_field() {
        let snapshot = store().snapshot();
        assert_eq!(
            snapshot.entity("nope").unwrap_err().to_string(),
            "entity \"nope\" not found"
        );
        let err = snapshot
            .query_claims(&ClaimQuery {
                about_entity_id: Some("nope".into()),
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "about_entity_id: entity \"nope\" not found"
        );
        assert!(matches!(
            snapshot.claim_by_id("a:c99"),
            Err(QueryError::NotFound { kind: "claim", .. })
        ));
        assert!(matches!(
            snapshot.documents_mentioning_all(&["nope".into()], "filter.entity_ids"),
            Err(QueryError::UnknownFilterEntity { .. })
        ));
        assert!(matches!(
            snapshot.mentions_of("nope", None),
            Err(QueryError::NotFound { kind: "entity", .. })
        ));
    }

    #[test]
    fn entity_queries_filter_and_order() {
        let snapshot = store().snapshot();
        let all = snapshot.query_entities(&EntityQuery::default()).unwrap();
        assert!(!all.is_empty());
        let putin = snapshot
            .query_entities(&EntityQuery {
                name_prefix: "  PUT ".into(),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(putin.len(), 1);
        let putin = putin.get(0).unwrap();
        assert_eq!(putin.name, "Vladimir Putin");
        let in_b = snapshot
            .query_entities(&EntityQuery {
                document_id: Some("b".into()),
                order: EntityOrder::Name,
                ..Default::default()
            })
            .unwrap();
        let names: Vec<&str> = in_b.slice(0..usize::MAX).map(|e| e.name.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_by_key(|n| n.to_lowercase());
        assert_eq!(names, sorted);
        assert!(names.contains(&"Vladimir Putin"));
        assert!(!names.contains(&"Steve Witkoff"));
        // Documents mentioning both Putin and Witkoff: only "a".
        let witkoff = snapshot
            .query_entities(&EntityQuery {
                name_prefix: "witkoff".into(),
                ..Default::default()
            })
            .unwrap();
        let ids = [putin.id.clone(), witkoff.get(0).unwrap().id.clone()];
        assert_eq!(snapshot.documents_mentioning_all(&ids, "f").unwrap(), ["a"]);
        let facets = snapshot.entity_facets(&["a".into(), "b".into()], 1);
        assert_eq!(facets.entities.len(), 1);
        assert_eq!(
            facets.entities[0].1, 2,
            "the top entity is in both documents"
        );
    }

    #[test]
    fn documents_page_after_a_cursor() {
        let snapshot = store().snapshot();
        let first = snapshot.documents_after(None, None, 1);
        assert_eq!(
            (first.documents[0].doc.id.as_str(), first.total, first.more),
            ("a", 2, true)
        );
        let second = snapshot.documents_after(None, Some("a"), 1);
        assert_eq!(
            (second.documents[0].doc.id.as_str(), second.more),
            ("b", false)
        );
    }
}

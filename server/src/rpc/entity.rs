//! `EntityService`: entities of a text and the corpus's resolved entity registry.

use super::status::invalid_argument;
use super::{blocking, cancellable, convert, page, stream_items};
use crate::analysis::{self, EntityType, MentionKind};
use crate::entities::{self, DocInput, Registry, Window};
use crate::offsets::{Encoding, OffsetMap};
use crate::store::{Snapshot, Store};
use dossier_api::v1::{
    self, analyze_entities_request::Source, entity_service_server::EntityService,
    AnalyzeEntitiesRequest, AnalyzeEntitiesResponse, EntityOrder, GetEntityRequest,
    ListEntitiesRequest, ListEntitiesResponse, ListRelatedEntitiesRequest,
    ListRelatedEntitiesResponse, StreamMentionsRequest,
};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

/// Serves `dossier.v1.EntityService`.
#[derive(Clone)]
pub struct EntityApi {
    store: Store,
}

impl EntityApi {
    /// An adapter over `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 1000;

/// Engine entity type → API enum value.
pub fn entity_type(t: EntityType) -> v1::EntityType {
    use v1::EntityType as V;
    match t {
        EntityType::Person => V::Person,
        EntityType::Organization => V::Organization,
        EntityType::Location => V::Location,
        EntityType::Norp => V::Norp,
        EntityType::Event => V::Event,
        EntityType::Work => V::Work,
        EntityType::Misc => V::Misc,
        EntityType::Date => V::Date,
        EntityType::Time => V::Time,
        EntityType::Money => V::Money,
        EntityType::Percent => V::Percent,
        EntityType::Quantity => V::Quantity,
        EntityType::Cardinal => V::Cardinal,
        EntityType::Ordinal => V::Ordinal,
    }
}

fn mention_kind(k: MentionKind) -> v1::MentionKind {
    match k {
        MentionKind::Proper => v1::MentionKind::Proper,
        MentionKind::Nominal => v1::MentionKind::Nominal,
        MentionKind::Pronoun => v1::MentionKind::Pronoun,
    }
}

/// A view of documents' texts for building mention spans: document index → (id, text,
/// sentences, mentions).
trait DocTexts {
    fn doc(&self, index: u32) -> Option<DocInput<'_>>;
}

impl DocTexts for Snapshot {
    fn doc(&self, index: u32) -> Option<DocInput<'_>> {
        let id = self.entities().doc_ids.get(index as usize)?;
        let d = self.docs.get(id.as_ref())?;
        Some(DocInput {
            id: &d.doc.id,
            text: &d.doc.text,
            sentences: Cow::Owned(d.sentences()),
            mentions: Cow::Owned(d.mentions()),
        })
    }
}

/// One analysed text not in the corpus (AnalyzeEntities on raw text).
struct OneText<'a>(DocInput<'a>);

impl DocTexts for OneText<'_> {
    fn doc(&self, index: u32) -> Option<DocInput<'_>> {
        (index == 0).then(|| self.0.clone())
    }
}

/// The message for an entity; with mentions (optionally of one document only), each with
/// its sentence, offsets in `encoding`.
fn entity_message(
    texts: &dyn DocTexts,
    e: &entities::Entity,
    mentions_of: Option<Option<u32>>,
    encoding: Encoding,
    salience: Option<f32>,
) -> v1::Entity {
    let mut mentions = Vec::new();
    if let Some(only_doc) = mentions_of {
        let mut maps: HashMap<u32, OffsetMap<'_>> = HashMap::new();
        // Mentions come in document order: each document is decoded once.
        let mut current: Option<(u32, DocInput<'_>)> = None;
        for r in &e.mentions {
            if only_doc.is_some_and(|d| d != r.doc) {
                continue;
            }
            if current.as_ref().is_none_or(|(doc, _)| *doc != r.doc) {
                current = texts.doc(r.doc).map(|d| (r.doc, d));
            }
            let Some((_, d)) = &current else { continue };
            mentions.push(mention_message(
                &mut maps,
                d,
                r.doc,
                r.mention as usize,
                &e.id,
                encoding,
            ));
        }
    }
    v1::Entity {
        id: e.id.clone(),
        name: e.name.clone(),
        r#type: entity_type(e.entity_type) as i32,
        aliases: e.aliases.iter().map(str::to_string).collect(),
        mention_count: e.mentions.len() as i32,
        document_count: e.docs.len() as i32,
        salience: Some(salience.unwrap_or(e.salience)),
        mentions,
        metadata: e
            .metadata()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn mention_message<'a>(
    maps: &mut HashMap<u32, OffsetMap<'a>>,
    d: &DocInput<'a>,
    doc: u32,
    mention: usize,
    entity_id: &str,
    encoding: Encoding,
) -> v1::Mention {
    let map = maps
        .entry(doc)
        .or_insert_with(|| OffsetMap::new(d.text, encoding));
    let m = &d.mentions[mention];
    // Sentences are in text order: the first ending after the mention's start holds it.
    let sentence = d
        .sentences
        .get(d.sentences.partition_point(|s| s.end <= m.start))
        .filter(|s| s.start <= m.start)
        .cloned()
        .unwrap_or(m.start..m.end);
    let sentence = convert::context(d.text, sentence, m.start..m.end);
    v1::Mention {
        document_id: d.id.to_string(),
        span: Some(convert::span(d.text, map, m.start..m.end)),
        r#type: entity_type(m.entity_type) as i32,
        kind: mention_kind(m.kind) as i32,
        confidence: m.confidence,
        sentence: Some(convert::span(d.text, map, sentence)),
        entity_id: entity_id.to_string(),
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

/// The entities a `ListEntitiesRequest` selects, in its order.
fn select(snapshot: &Snapshot, request: &ListEntitiesRequest) -> Result<Vec<usize>, Status> {
    let ListEntitiesRequest {
        r#type,
        query,
        document_id,
        min_documents,
        order_by,
        page_size: _,
        page_token: _,
    } = request;
    let reg = snapshot.entities();
    let wanted_type = v1::EntityType::try_from(*r#type)
        .map_err(|_| invalid_argument("type", "unknown entity type"))?;
    let doc = if document_id.is_empty() {
        None
    } else {
        snapshot.get(document_id)?;
        reg.doc_index(document_id)
    };
    let query = query.trim().to_lowercase();
    let mut picked: Vec<usize> = (0..reg.entities.len())
        .filter(|&i| {
            let e = &reg.entities[i];
            (wanted_type == v1::EntityType::Unspecified
                || entity_type(e.entity_type) == wanted_type)
                && e.docs.len() as i64 >= i64::from(*min_documents)
                && doc.is_none_or(|d| e.docs.binary_search(&d).is_ok())
                && (query.is_empty()
                    || name_matches(&e.name, &query)
                    || e.aliases.iter().any(|a| name_matches(a, &query)))
        })
        .collect();
    let order = EntityOrder::try_from(*order_by)
        .map_err(|_| invalid_argument("order_by", "unknown order"))?;
    let e = &reg.entities;
    match order {
        EntityOrder::Unspecified | EntityOrder::Mentions => picked.sort_by(|&a, &b| {
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
    Ok(picked)
}

fn list_fingerprint(r: &ListEntitiesRequest) -> u64 {
    page::fingerprint(&[
        &r.r#type.to_string(),
        &r.query,
        &r.document_id,
        &r.min_documents.to_string(),
        &r.order_by.to_string(),
    ])
}

#[tonic::async_trait]
impl EntityService for EntityApi {
    type StreamEntitiesStream = ReceiverStream<Result<v1::Entity, Status>>;
    type StreamMentionsStream = ReceiverStream<Result<v1::Mention, Status>>;

    async fn analyze_entities(
        &self,
        request: Request<AnalyzeEntitiesRequest>,
    ) -> Result<Response<AnalyzeEntitiesResponse>, Status> {
        let AnalyzeEntitiesRequest { source, encoding } = request.into_inner();
        let encoding = convert::encoding(encoding);
        let entities = match source {
            Some(Source::Text(text)) => {
                cancellable(move |stop| analyze_text(&text, encoding, stop)).await?
            }
            Some(Source::DocumentId(id)) => {
                let snapshot = self.store.snapshot();
                snapshot.get(&id)?;
                blocking(move || analyze_stored(&snapshot, &id, encoding)).await?
            }
            None => return Err(invalid_argument("source", "give text or document_id")),
        };
        Ok(Response::new(AnalyzeEntitiesResponse { entities }))
    }

    async fn list_entities(
        &self,
        request: Request<ListEntitiesRequest>,
    ) -> Result<Response<ListEntitiesResponse>, Status> {
        let request = request.into_inner();
        let size = page::page_size(request.page_size, DEFAULT_PAGE, MAX_PAGE)?;
        let fp = list_fingerprint(&request);
        let offset = page::decode_offset(&request.page_token, fp)?;
        let snapshot = self.store.snapshot();
        let picked = blocking({
            let snapshot = snapshot.clone();
            move || select(&snapshot, &request)
        })
        .await??;
        let reg = snapshot.entities();
        let end = (offset + size).min(picked.len());
        let entities = picked
            .get(offset..end)
            .unwrap_or_default()
            .iter()
            .map(|&i| entity_message(&*snapshot, &reg.entities[i], None, Encoding::Utf8, None))
            .collect();
        let next_page_token = if end < picked.len() {
            page::encode(fp, &end.to_string())
        } else {
            String::new()
        };
        Ok(Response::new(ListEntitiesResponse {
            entities,
            next_page_token,
            total_size: picked.len() as i64,
        }))
    }

    async fn stream_entities(
        &self,
        request: Request<ListEntitiesRequest>,
    ) -> Result<Response<Self::StreamEntitiesStream>, Status> {
        let request = request.into_inner();
        let snapshot = self.store.snapshot();
        let picked = blocking({
            let snapshot = snapshot.clone();
            move || select(&snapshot, &request)
        })
        .await??;
        let reg = snapshot.entities().clone();
        Ok(Response::new(stream_items(picked, move |i| {
            Some(entity_message(
                &*snapshot,
                &reg.entities[i],
                None,
                Encoding::Utf8,
                None,
            ))
        })))
    }

    async fn get_entity(
        &self,
        request: Request<GetEntityRequest>,
    ) -> Result<Response<v1::Entity>, Status> {
        let GetEntityRequest { id, encoding } = request.into_inner();
        let snapshot = self.store.snapshot();
        let entity = blocking(move || {
            let reg = snapshot.entities();
            let e = reg
                .get(&id)
                .ok_or_else(|| Status::not_found(format!("entity {id:?} not found")))?;
            Ok::<_, Status>(entity_message(
                &*snapshot,
                e,
                Some(None),
                convert::encoding(encoding),
                None,
            ))
        })
        .await??;
        Ok(Response::new(entity))
    }

    async fn stream_mentions(
        &self,
        request: Request<StreamMentionsRequest>,
    ) -> Result<Response<Self::StreamMentionsStream>, Status> {
        let StreamMentionsRequest {
            entity_id,
            document_id,
            encoding,
        } = request.into_inner();
        let snapshot = self.store.snapshot();
        let reg = snapshot.entities().clone();
        let Some(index) = reg.index_of(&entity_id) else {
            return Err(Status::not_found(format!("entity {entity_id:?} not found")));
        };
        let only_doc = if document_id.is_empty() {
            None
        } else {
            snapshot.get(&document_id)?;
            Some(reg.doc_index(&document_id).unwrap_or(u32::MAX))
        };
        let encoding = convert::encoding(encoding);
        let (tx, rx) = tokio::sync::mpsc::channel(32);
        tokio::spawn(async move {
            let e = &reg.entities[index];
            // One offset map per document, however many mentions it has.
            let mut maps = HashMap::new();
            let mut current: Option<(u32, DocInput<'_>)> = None;
            for r in e
                .mentions
                .iter()
                .filter(|r| only_doc.is_none_or(|d| d == r.doc))
            {
                if current.as_ref().is_none_or(|(doc, _)| *doc != r.doc) {
                    current = snapshot.doc(r.doc).map(|d| (r.doc, d));
                }
                let Some((_, d)) = &current else {
                    continue;
                };
                let message =
                    mention_message(&mut maps, d, r.doc, r.mention as usize, &e.id, encoding);
                if tx.send(Ok(message)).await.is_err() {
                    break;
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn list_related_entities(
        &self,
        request: Request<ListRelatedEntitiesRequest>,
    ) -> Result<Response<ListRelatedEntitiesResponse>, Status> {
        let ListRelatedEntitiesRequest {
            entity_id,
            window,
            page_size,
            encoding,
        } = request.into_inner();
        let size = page::page_size(page_size, 20, 200)?;
        let window = match v1::CooccurrenceWindow::try_from(window) {
            Ok(v1::CooccurrenceWindow::Document) => Window::Document,
            Ok(_) => Window::Sentence,
            Err(_) => return Err(invalid_argument("window", "unknown window")),
        };
        let snapshot = self.store.snapshot();
        let related = blocking(move || {
            let reg = snapshot.entities();
            let index = reg
                .index_of(&entity_id)
                .ok_or_else(|| Status::not_found(format!("entity {entity_id:?} not found")))?;
            let related = reg.related(index, window, 3, |d| snapshot.doc(d));
            let encoding = convert::encoding(encoding);
            let out: Vec<v1::RelatedEntity> = related
                .into_iter()
                .take(size)
                .map(|r| v1::RelatedEntity {
                    entity: Some(entity_message(
                        &*snapshot,
                        &reg.entities[r.entity],
                        None,
                        encoding,
                        None,
                    )),
                    count: r.count as i32,
                    score: r.npmi,
                    evidence: r
                        .evidence
                        .iter()
                        .filter_map(|(doc, range)| {
                            let d = snapshot.doc(*doc)?;
                            Some(v1::Evidence {
                                document_id: d.id.to_string(),
                                span: Some(convert::span(
                                    d.text,
                                    &OffsetMap::new(d.text, encoding),
                                    range.clone(),
                                )),
                            })
                        })
                        .collect(),
                })
                .collect();
            Ok::<_, Status>(out)
        })
        .await??;
        Ok(Response::new(ListRelatedEntitiesResponse { related }))
    }
}

/// AnalyzeEntities on raw text: analyse, resolve within the text, most salient first;
/// `None` once `stop` is set.
fn analyze_text(text: &str, encoding: Encoding, stop: &AtomicBool) -> Option<Vec<v1::Entity>> {
    let a = analysis::analyze_unless_stopped(text, None, stop)?;
    let input = DocInput::of("", text, &a);
    let reg = Registry::build([input.clone()]);
    let texts = OneText(input);
    let mut out: Vec<v1::Entity> = reg
        .entities
        .iter()
        .enumerate()
        .map(|(i, e)| entity_message(&texts, e, Some(None), encoding, reg.salience_in(i, 0)))
        .collect();
    out.sort_by(|a, b| {
        b.salience
            .unwrap_or(0.0)
            .total_cmp(&a.salience.unwrap_or(0.0))
            .then(a.id.cmp(&b.id))
    });
    Some(out)
}

/// AnalyzeEntities on a stored document: its corpus entities (corpus ids), with the
/// document's mentions and in-document salience.
fn analyze_stored(snapshot: &Arc<Snapshot>, id: &str, encoding: Encoding) -> Vec<v1::Entity> {
    let reg = snapshot.entities();
    let Some(doc) = reg.doc_index(id) else {
        return Vec::new();
    };
    let mut out: Vec<v1::Entity> = reg
        .entities_in_doc(doc)
        .into_iter()
        .map(|i| {
            entity_message(
                &**snapshot,
                &reg.entities[i],
                Some(Some(doc)),
                encoding,
                reg.salience_in(i, doc),
            )
        })
        .collect();
    out.sort_by(|a, b| {
        b.salience
            .unwrap_or(0.0)
            .total_cmp(&a.salience.unwrap_or(0.0))
            .then(a.id.cmp(&b.id))
    });
    out
}

//! `EntityService`: entities of a text and the corpus's resolved entity registry.

use super::page::{self, Pager};
use super::status::invalid_argument;
use super::{blocking, cancellable, convert, stream_items, ItemStream};
use crate::analysis::{self, EntityType, MentionKind};
use crate::entities::{self, DocInput, MentionRef, Registry, Window};
use crate::offsets::{Encoding, OffsetMap};
use crate::store::query::{self, EntityQuery, RelatedEntity};
use crate::store::{QueryError, Snapshot, Store};
use dossier_api::v1::{
    self, analyze_entities_request::Source, entity_service_server::EntityService,
    AnalyzeEntitiesRequest, AnalyzeEntitiesResponse, EntityOrder, GetEntityRequest,
    ListEntitiesRequest, ListEntitiesResponse, ListRelatedEntitiesRequest,
    ListRelatedEntitiesResponse, StreamMentionsRequest,
};
use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Serves `dossier.v1.EntityService`.
#[derive(Clone)]
pub struct EntityApi {
    store: Store,
}

// Debug without the fields: they hold handles, caches or tokenizer state that say nothing useful.
impl std::fmt::Debug for EntityApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntityApi").finish_non_exhaustive()
    }
}

impl EntityApi {
    /// An adapter over `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

/// Default and largest `ListEntities` page.
const PAGE: (usize, usize) = (50, 1000);
/// Default and largest `ListRelatedEntities` answer.
const RELATED_PAGE: (usize, usize) = (20, 200);

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

/// API enum value → engine entity type; `None` for UNSPECIFIED (any type).
fn engine_type(t: v1::EntityType) -> Option<EntityType> {
    use v1::EntityType as V;
    Some(match t {
        V::Unspecified => return None,
        V::Person => EntityType::Person,
        V::Organization => EntityType::Organization,
        V::Location => EntityType::Location,
        V::Norp => EntityType::Norp,
        V::Event => EntityType::Event,
        V::Work => EntityType::Work,
        V::Misc => EntityType::Misc,
        V::Date => EntityType::Date,
        V::Time => EntityType::Time,
        V::Money => EntityType::Money,
        V::Percent => EntityType::Percent,
        V::Quantity => EntityType::Quantity,
        V::Cardinal => EntityType::Cardinal,
        V::Ordinal => EntityType::Ordinal,
    })
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
        self.doc_input(index)
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

/// The engine query of a `ListEntitiesRequest`, and the fields its pages are bound to.
fn entity_query(request: &ListEntitiesRequest) -> Result<(EntityQuery, [String; 5]), Status> {
    let ListEntitiesRequest {
        r#type,
        query,
        document_id,
        min_documents,
        order_by,
        page_size: _,
        page_token: _,
    } = request;
    let wanted = v1::EntityType::try_from(*r#type)
        .map_err(|_| invalid_argument("type", "unknown entity type"))?;
    let order = match EntityOrder::try_from(*order_by) {
        Ok(EntityOrder::Unspecified | EntityOrder::Mentions) => query::EntityOrder::Mentions,
        Ok(EntityOrder::Documents) => query::EntityOrder::Documents,
        Ok(EntityOrder::Name) => query::EntityOrder::Name,
        Ok(EntityOrder::Salience) => query::EntityOrder::Salience,
        Err(_) => return Err(invalid_argument("order_by", "unknown order")),
    };
    let engine = EntityQuery {
        entity_type: engine_type(wanted),
        name_prefix: query.clone(),
        document_id: Some(document_id.clone()).filter(|id| !id.is_empty()),
        min_documents: i64::from(*min_documents),
        order,
    };
    let fields = [
        r#type.to_string(),
        query.clone(),
        document_id.clone(),
        min_documents.to_string(),
        order_by.to_string(),
    ];
    Ok((engine, fields))
}

/// The co-occurrence window a request names.
fn window(window: i32) -> Result<Window, Status> {
    match v1::CooccurrenceWindow::try_from(window) {
        Ok(v1::CooccurrenceWindow::Document) => Ok(Window::Document),
        Ok(_) => Ok(Window::Sentence),
        Err(_) => Err(invalid_argument("window", "unknown window")),
    }
}

/// The message for a related entity, evidence offsets in `encoding`.
fn related_message(
    snapshot: &Snapshot,
    r: &RelatedEntity<'_>,
    encoding: Encoding,
) -> v1::RelatedEntity {
    v1::RelatedEntity {
        entity: Some(entity_message(snapshot, r.entity, None, encoding, None)),
        count: r.count as i32,
        score: r.npmi,
        evidence: r
            .evidence
            .iter()
            .map(|(d, range)| {
                let text = &d.doc.text;
                v1::Evidence {
                    document_id: d.doc.id.clone(),
                    span: Some(convert::span(
                        text,
                        &OffsetMap::new(text, encoding),
                        range.clone(),
                    )),
                }
            })
            .collect(),
    }
}

/// The messages for an entity's mentions in one document (`refs`, all of document `doc`),
/// offsets in `encoding`: the document is decoded once.
fn document_mentions(
    snapshot: &Snapshot,
    doc: u32,
    refs: &[MentionRef],
    entity_id: &str,
    encoding: Encoding,
) -> Vec<v1::Mention> {
    let Some(d) = snapshot.doc(doc) else {
        return Vec::new();
    };
    let mut maps = HashMap::new();
    refs.iter()
        .map(|r| mention_message(&mut maps, &d, doc, r.mention as usize, entity_id, encoding))
        .collect()
}

#[tonic::async_trait]
impl EntityService for EntityApi {
    type StreamEntitiesStream = ItemStream<v1::Entity>;
    type StreamMentionsStream = ItemStream<v1::Mention>;

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
                blocking(move || analyze_stored(&snapshot, &id, encoding)).await??
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
        let (query, fields) = entity_query(&request)?;
        let fields = fields.each_ref().map(String::as_str);
        let pager = Pager::new(&fields, request.page_size, &request.page_token, PAGE)?;
        let snapshot = self.store.snapshot();
        blocking(move || {
            let picked = snapshot.query_entities(&query)?;
            let (range, next_page_token) = pager.window(picked.len());
            let entities = picked
                .slice(range)
                .map(|e| entity_message(&*snapshot, e, None, Encoding::Utf8, None))
                .collect();
            Ok(Response::new(ListEntitiesResponse {
                entities,
                next_page_token,
                total_size: picked.len() as i64,
            }))
        })
        .await?
    }

    async fn stream_entities(
        &self,
        request: Request<ListEntitiesRequest>,
    ) -> Result<Response<Self::StreamEntitiesStream>, Status> {
        let (query, _) = entity_query(&request.into_inner())?;
        let snapshot = self.store.snapshot();
        let picked = blocking({
            let snapshot = snapshot.clone();
            move || snapshot.query_entities(&query)
        })
        .await??;
        Ok(Response::new(stream_items(0..picked.len(), move |k| {
            let entity = picked.get(k)?;
            Some(Ok(entity_message(
                &*snapshot,
                entity,
                None,
                Encoding::Utf8,
                None,
            )))
        })))
    }

    async fn get_entity(
        &self,
        request: Request<GetEntityRequest>,
    ) -> Result<Response<v1::Entity>, Status> {
        let GetEntityRequest { id, encoding } = request.into_inner();
        let encoding = convert::encoding(encoding);
        let snapshot = self.store.snapshot();
        blocking(move || {
            let entity = snapshot.entity(&id)?;
            let message = entity_message(&*snapshot, entity, Some(None), encoding, None);
            Ok(Response::new(message))
        })
        .await?
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
        let encoding = convert::encoding(encoding);
        let snapshot = self.store.snapshot();
        let mentions = snapshot.mentions_of(&entity_id, Some(&document_id))?;
        // Mentions come in document order: one item per document, decoded once.
        let by_doc: Vec<Vec<MentionRef>> = mentions
            .chunk_by(|a, b| a.doc == b.doc)
            .map(<[MentionRef]>::to_vec)
            .collect();
        Ok(Response::new(stream_items(by_doc, move |refs| {
            document_mentions(&snapshot, refs[0].doc, &refs, &entity_id, encoding)
                .into_iter()
                .map(Ok)
        })))
    }

    async fn list_related_entities(
        &self,
        request: Request<ListRelatedEntitiesRequest>,
    ) -> Result<Response<ListRelatedEntitiesResponse>, Status> {
        let ListRelatedEntitiesRequest {
            entity_id,
            window: w,
            page_size,
            encoding,
        } = request.into_inner();
        let size = page::size(page_size, RELATED_PAGE)?;
        let (window, encoding) = (window(w)?, convert::encoding(encoding));
        let snapshot = self.store.snapshot();
        blocking(move || {
            let related = snapshot.related_entities(&entity_id, window, 3)?;
            let related = related
                .iter()
                .take(size)
                .map(|r| related_message(&snapshot, r, encoding))
                .collect();
            Ok(Response::new(ListRelatedEntitiesResponse { related }))
        })
        .await?
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
fn analyze_stored(
    snapshot: &Arc<Snapshot>,
    id: &str,
    encoding: Encoding,
) -> Result<Vec<v1::Entity>, QueryError> {
    let found = snapshot.document_entities(id)?;
    let mut out: Vec<v1::Entity> = found
        .entities
        .iter()
        .map(|d| entity_message(&**snapshot, d.entity, Some(found.doc), encoding, d.salience))
        .collect();
    out.sort_by(|a, b| {
        b.salience
            .unwrap_or(0.0)
            .total_cmp(&a.salience.unwrap_or(0.0))
            .then(a.id.cmp(&b.id))
    });
    Ok(out)
}

//! `EntityService`: entities of a text and the corpus's resolved entity registry.

use super::page::{self, Pager};
use super::status::invalid_argument;
use super::{
    blocking, cancellable, compressed_if, compressed_request, convert, stream_items, ItemStream,
};
use crate::analysis::{EntityType, MentionKind};
use crate::entities::{self, DocInput, MentionRef, Window};
use crate::offsets::{Encoding, OffsetMap};
use crate::recent::{Analysed, Recent};
use crate::store::query::{self, EntityQuery, RelatedEntity};
use crate::store::{QueryError, Snapshot, Store};
use dossier_api::v1::{
    self, analyze_entities_request::Source, entity_service_server::EntityService,
    AnalyzeEntitiesRequest, AnalyzeEntitiesResponse, EntityOrder, GetEntityRequest,
    ListEntitiesRequest, ListEntitiesResponse, ListRelatedEntitiesRequest,
    ListRelatedEntitiesResponse, StreamMentionsRequest,
};
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Serves `dossier.v1.EntityService`.
#[derive(Clone)]
pub struct EntityApi {
    store: Store,
    /// Analyses of recent raw texts, shared with the [`super::ClaimApi`] of the same server.
    recent: Recent,
}

// Debug without the fields: they hold handles, caches or tokenizer state that say nothing useful.
impl std::fmt::Debug for EntityApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntityApi").finish_non_exhaustive()
    }
}

impl EntityApi {
    /// An adapter over `store` (with recent analyses of its own).
    pub fn new(store: Store) -> Self {
        Self {
            store,
            recent: Recent::default(),
        }
    }

    /// The same adapter sharing `recent` (with the claim adapter: AnalyzeEntities and
    /// ExtractClaims on one text analyse it once).
    pub fn with_recent(self, recent: Recent) -> Self {
        Self { recent, ..self }
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

/// Builds mention messages for one response: mentions come in document order, so it keeps
/// the current document decoded with its offset map, and each document is decoded and its
/// text scanned for offsets once per response (not once per entity or per mention).
struct Mentions<'a> {
    texts: &'a dyn DocTexts,
    encoding: Encoding,
    /// Fill each mention's `sentence` (view FULL, GetEntity, StreamMentions).
    sentences: bool,
    current: Option<(u32, DocInput<'a>, OffsetMap<'a>)>,
}

impl<'a> Mentions<'a> {
    fn new(texts: &'a dyn DocTexts, encoding: Encoding, sentences: bool) -> Self {
        Self {
            texts,
            encoding,
            sentences,
            current: None,
        }
    }

    /// The message for mention `r` of entity `entity_id`; `None` if its document is gone.
    fn message(&mut self, r: MentionRef, entity_id: &str) -> Option<v1::Mention> {
        if self.current.as_ref().is_none_or(|(doc, ..)| *doc != r.doc) {
            let encoding = self.encoding;
            self.current = self.texts.doc(r.doc).map(|d| {
                let map = OffsetMap::new(d.text, encoding);
                (r.doc, d, map)
            });
        }
        let (_, d, map) = self.current.as_ref()?;
        let m = d.mentions.get(r.mention as usize)?;
        let sentence = self.sentences.then(|| {
            // Sentences are in text order: the first ending after the mention's start holds it.
            let sentence = d
                .sentences
                .get(d.sentences.partition_point(|s| s.end <= m.start))
                .filter(|s| s.start <= m.start)
                .cloned()
                .unwrap_or(m.start..m.end);
            let sentence = convert::context(d.text, sentence, m.start..m.end);
            convert::span(d.text, map, sentence)
        });
        Some(v1::Mention {
            document_id: d.id.to_string(),
            span: Some(convert::span(d.text, map, m.start..m.end)),
            r#type: entity_type(m.entity_type) as i32,
            kind: mention_kind(m.kind) as i32,
            confidence: m.confidence,
            sentence,
            entity_id: entity_id.to_string(),
        })
    }
}

/// The message for an entity; with `mentions`, its mentions (of one document only when
/// the document index is given).
fn entity_message(
    e: &entities::Entity,
    mentions: Option<(&mut Mentions<'_>, Option<u32>)>,
    salience: Option<f32>,
) -> v1::Entity {
    let mentions = match mentions {
        Some((made, only_doc)) => e
            .mentions
            .iter()
            .filter(|r| only_doc.is_none_or(|d| d == r.doc))
            .filter_map(|&r| made.message(r, &e.id))
            .collect(),
        None => Vec::new(),
    };
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
fn related_message(r: &RelatedEntity<'_>, encoding: Encoding) -> v1::RelatedEntity {
    v1::RelatedEntity {
        entity: Some(entity_message(r.entity, None, None)),
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
/// offsets in `encoding`, each with its sentence: the document is decoded once.
fn document_mentions(
    snapshot: &Snapshot,
    refs: &[MentionRef],
    entity_id: &str,
    encoding: Encoding,
) -> Vec<v1::Mention> {
    let mut made = Mentions::new(snapshot, encoding, true);
    refs.iter()
        .filter_map(|&r| made.message(r, entity_id))
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
        let compress = compressed_request(&request);
        let AnalyzeEntitiesRequest {
            source,
            encoding,
            view,
        } = request.into_inner();
        let (encoding, full) = (convert::encoding(encoding), convert::full_view(view)?);
        let entities = match source {
            Some(Source::Text(text)) => {
                let recent = self.recent.clone();
                cancellable(move |stop| {
                    let analysed = recent.analyse(text, stop)?;
                    Some(analyze_text(&analysed, encoding, full))
                })
                .await?
            }
            Some(Source::DocumentId(id)) => {
                let snapshot = self.store.snapshot();
                blocking(move || analyze_stored(&snapshot, &id, encoding, full)).await??
            }
            None => return Err(invalid_argument("source", "give text or document_id")),
        };
        let response = Response::new(AnalyzeEntitiesResponse { entities });
        Ok(compressed_if(compress, response))
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
                .map(|e| entity_message(e, None, None))
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
            Some(Ok(entity_message(entity, None, None)))
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
            let mut made = Mentions::new(&*snapshot, encoding, true);
            let message = entity_message(entity, Some((&mut made, None)), None);
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
            document_mentions(&snapshot, &refs, &entity_id, encoding)
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
                .map(|r| related_message(r, encoding))
                .collect();
            Ok(Response::new(ListRelatedEntitiesResponse { related }))
        })
        .await?
    }
}

/// AnalyzeEntities on raw text: its entities resolved within the text, most salient first,
/// mentions' sentences only when `sentences`.
fn analyze_text(analysed: &Analysed, encoding: Encoding, sentences: bool) -> Vec<v1::Entity> {
    let reg = &analysed.registry;
    let texts = OneText(analysed.doc_input());
    let mut made = Mentions::new(&texts, encoding, sentences);
    let mut out: Vec<v1::Entity> = reg
        .entities
        .iter()
        .enumerate()
        .map(|(i, e)| entity_message(e, Some((&mut made, None)), reg.salience_in(i, 0)))
        .collect();
    by_salience(&mut out);
    out
}

/// AnalyzeEntities on a stored document: its corpus entities (corpus ids), with the
/// document's mentions and in-document salience.
fn analyze_stored(
    snapshot: &Arc<Snapshot>,
    id: &str,
    encoding: Encoding,
    sentences: bool,
) -> Result<Vec<v1::Entity>, QueryError> {
    let found = snapshot.document_entities(id)?;
    let mut made = Mentions::new(&**snapshot, encoding, sentences);
    let mut out: Vec<v1::Entity> = found
        .entities
        .iter()
        .map(|d| entity_message(d.entity, Some((&mut made, found.doc)), d.salience))
        .collect();
    by_salience(&mut out);
    Ok(out)
}

/// Most salient first, ties by id.
fn by_salience(entities: &mut [v1::Entity]) {
    entities.sort_by(|a, b| {
        b.salience
            .unwrap_or(0.0)
            .total_cmp(&a.salience.unwrap_or(0.0))
            .then(a.id.cmp(&b.id))
    });
}

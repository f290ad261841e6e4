//! `SearchService`: ranked search, streaming and more-like-this over [`crate::index`].
//!
//! Page tokens are opaque ([`page`]) and carry a fingerprint of the query, filter and order,
//! plus the store generation and the offset of the next hit: every page of one listing is
//! cut from the same store snapshot (its index snapshot, and the registry its entity filters
//! and facets resolve against), so ingests while paging never repeat or skip a hit. A token
//! replayed with another query is INVALID_ARGUMENT, and so is a token whose snapshot has
//! expired (the index keeps recent generations for ten minutes).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use dossier_api::v1::{
    self, search_service_server::SearchService, MoreLikeThisRequest, SearchHit, SearchRequest,
    SearchResponse,
};
use tonic::{Request, Response, Status};

use super::layers::CallerDeadline;
use super::page::{self, Pager};
use super::pool::Pool;
use super::status::{deadline_exceeded, invalid_argument};
use super::{convert, stream_items, ItemStream};
use crate::index::{
    FacetCounts, FacetField, Filter, HighlightOptions, Hit, IndexError, SearchQuery, SearchResults,
    SortOrder, Syntax, TotalHitsRelation,
};
use crate::offsets::{Encoding, OffsetMap};
use crate::store::{self, Store};

/// Serves `dossier.v1.SearchService`.
#[derive(Clone)]
pub struct SearchApi {
    store: Store,
    /// Where searches run: one thread per core (see [`Pool`]).
    pool: Pool,
}

// Debug without the fields: they hold handles, caches or tokenizer state that say nothing useful.
impl std::fmt::Debug for SearchApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchApi").finish_non_exhaustive()
    }
}

impl SearchApi {
    /// An adapter over `store`.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            pool: Pool::per_core("search"),
        }
    }
}

/// Default and largest `Search` page.
const PAGE: (usize, usize) = (10, 100);
/// Most values returned for the "entity" facet.
const MAX_ENTITY_FACET: usize = 100;

/// A request turned into an engine query, with what the response needs.
struct Prepared {
    query: SearchQuery,
    /// The request fields that define the listing (page tokens are bound to them).
    fields: Vec<String>,
    encoding: Encoding,
    /// Facets the rpc layer computes from the matching ids ("entity", "entity_type").
    entity_facets: Vec<String>,
    /// All facet names asked for, in request order.
    facet_order: Vec<String>,
    /// Whether hits carry the whole text.
    include_text: bool,
    /// `filter.entity_ids`, resolved into `query.filter.allowed_ids` by [`resolve_entities`]
    /// (off the async runtime: it intersects the entities' document lists).
    entity_ids: Vec<String>,
}

impl Prepared {
    /// True when the response is cheap to build once the results are known: no registry
    /// work for entity filters or entity facets.
    fn is_light(&self) -> bool {
        self.entity_ids.is_empty() && self.entity_facets.is_empty()
    }
}

#[tonic::async_trait]
impl SearchService for SearchApi {
    type StreamSearchStream = ItemStream<SearchHit>;

    async fn search(
        &self,
        request: Request<SearchRequest>,
    ) -> Result<Response<SearchResponse>, Status> {
        let started = Instant::now();
        let request = request.into_inner();
        let (page_size, page_token) = (request.page_size, request.page_token.clone());
        let mut prepared = prepare(request)?;
        let fields: Vec<&str> = prepared.fields.iter().map(String::as_str).collect();
        let pager = Pager::new(&fields, page_size, &page_token, PAGE)?;
        let snapshot = resume(&self.store, &pager)?;
        (prepared.query.offset, prepared.query.limit) = (pager.offset(), pager.size);
        if prepared.is_light() {
            // A repeated request is answered here: no search work, no thread hand-off.
            if let Some(results) = snapshot.index.cached(&prepared.query) {
                let page = (&*snapshot, &pager, &*results);
                return Ok(Response::new(response(&prepared, page, started)));
            }
            // So is a small one: the hand-off would cost about as much as the search.
            if snapshot.index.is_small(&prepared.query) {
                let results = run(&snapshot.index, &prepared, |s, q| s.search(q))?;
                let page = (&*snapshot, &pager, &*results);
                return Ok(Response::new(response(&prepared, page, started)));
            }
        }
        let run = move || {
            resolve_entities(&snapshot, &mut prepared)?;
            let results = run(&snapshot.index, &prepared, |s, q| s.search(q))?;
            Ok::<_, Status>(response(&prepared, (&snapshot, &pager, &results), started))
        };
        Ok(Response::new(self.pool.run(run).await??))
    }

    async fn stream_search(
        &self,
        request: Request<SearchRequest>,
    ) -> Result<Response<Self::StreamSearchStream>, Status> {
        let deadline = request.extensions().get::<CallerDeadline>().map(|d| d.0);
        let request = request.into_inner();
        let snapshot = self.store.snapshot();
        let (hits, encoding, include_text) = self
            .pool
            .run(move || {
                let mut prepared = prepare(request)?;
                resolve_entities(&snapshot, &mut prepared)?;
                let hits = run(&snapshot.index, &prepared, |s, q| s.hits(q))?;
                Ok::<_, Status>((hits, prepared.encoding, prepared.include_text))
            })
            .await??;
        Ok(Response::new(hit_stream(
            hits,
            deadline,
            encoding,
            include_text,
        )))
    }

    async fn more_like_this(
        &self,
        request: Request<MoreLikeThisRequest>,
    ) -> Result<Response<SearchResponse>, Status> {
        let started = Instant::now();
        let MoreLikeThisRequest {
            document_id,
            page_size,
            encoding,
        } = request.into_inner();
        let Some(document_id) = Some(document_id).filter(|id| !id.is_empty()) else {
            return Err(invalid_argument("document_id", "must not be empty"));
        };
        let (limit, encoding) = (page::size(page_size, PAGE)?, convert::encoding(encoding));
        let index = Arc::clone(&self.store.snapshot().index);
        let highlight = Some(HighlightOptions::default());
        let results = self
            .pool
            .run(move || index.more_like_this(&document_id, limit, highlight))
            .await??;
        Ok(Response::new(similar_response(&results, encoding, started)))
    }
}

/// StreamSearch's hits, loaded (and sent) one by one as the client reads, until the
/// caller's `deadline`.
fn hit_stream(
    hits: crate::index::HitStream,
    deadline: Option<Instant>,
    encoding: Encoding,
    include_text: bool,
) -> ItemStream<SearchHit> {
    stream_items(hits, move |hit| {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Some(Err(deadline_exceeded(
                "the deadline passed while streaming hits",
            )));
        }
        Some(
            hit.map(|h| hit_message(&h, encoding, include_text))
                .map_err(Into::into),
        )
    })
}

/// The response of MoreLikeThis: one page, no facets.
fn similar_response(
    results: &SearchResults,
    encoding: Encoding,
    started: Instant,
) -> SearchResponse {
    SearchResponse {
        total_hits: results.total_hits as i64,
        total_hits_relation: relation(results.total_hits_relation) as i32,
        hits: results
            .hits
            .iter()
            .map(|h| hit_message(h, encoding, false))
            .collect(),
        next_page_token: String::new(),
        facets: Vec::new(),
        took_micros: started.elapsed().as_micros() as i64,
    }
}

/// Validates a request and builds the engine query (without page position and without
/// resolving entity filters: see [`resolve_entities`]). Cheap: no index or registry work.
fn prepare(request: SearchRequest) -> Result<Prepared, Status> {
    let SearchRequest {
        query,
        syntax,
        filter,
        page_size: _,
        page_token: _,
        order_by,
        highlight,
        facets,
        encoding,
        include_text,
        exact_total_hits,
    } = request;
    let v1::SearchFilter {
        sources,
        published_after,
        published_before,
        entity_ids,
        document_ids,
    } = filter.unwrap_or_default();
    let seconds = |t: Option<prost_types::Timestamp>, field: &str| {
        t.map(|t| {
            convert::from_timestamp(&t)
                .map(|t| t.timestamp())
                .ok_or_else(|| invalid_argument(field, "not a valid timestamp"))
        })
        .transpose()
    };
    let mut engine_facets = Vec::new();
    let mut entity_facets = Vec::new();
    for name in &facets {
        match name.as_str() {
            "source" => engine_facets.push(FacetField::Source),
            "month" => engine_facets.push(FacetField::Month),
            "entity" | "entity_type" => entity_facets.push(name.clone()),
            other => {
                return Err(invalid_argument(
                    "facets",
                    format!("unknown facet {other:?} (use source, month, entity or entity_type)"),
                ))
            }
        }
    }
    let query = SearchQuery {
        syntax: match v1::QuerySyntax::try_from(syntax) {
            Ok(v1::QuerySyntax::PlainText) => Syntax::PlainText,
            _ => Syntax::QueryLanguage,
        },
        filter: Filter {
            sources,
            published_after: seconds(published_after, "filter.published_after")?,
            published_before: seconds(published_before, "filter.published_before")?,
            document_ids,
            allowed_ids: None,
        },
        order: match v1::SortOrder::try_from(order_by) {
            Ok(v1::SortOrder::Newest) => SortOrder::Newest,
            Ok(v1::SortOrder::Oldest) => SortOrder::Oldest,
            _ => SortOrder::Relevance,
        },
        highlight: highlight_options(highlight)?,
        facets: engine_facets,
        with_matching_ids: !entity_facets.is_empty(),
        exact_total_hits,
        ..SearchQuery::new(query, Syntax::QueryLanguage)
    };
    let mut fields = vec![query.fingerprint().to_string()];
    fields.extend(entity_ids.iter().cloned());
    Ok(Prepared {
        query,
        fields,
        encoding: convert::encoding(encoding),
        entity_facets,
        facet_order: facets,
        include_text,
        entity_ids,
    })
}

/// Restricts the query to the documents mentioning every entity of `filter.entity_ids`
/// (in the snapshot the search runs on).
fn resolve_entities(snapshot: &store::Snapshot, prepared: &mut Prepared) -> Result<(), Status> {
    if !prepared.entity_ids.is_empty() {
        let allowed =
            snapshot.documents_mentioning_all(&prepared.entity_ids, "filter.entity_ids")?;
        prepared.query.filter.allowed_ids = Some(allowed);
    }
    Ok(())
}

/// The engine's highlight options for the request's (defaults: 1 fragment of ~200 chars,
/// `<em>` tags; `max_fragments = -1` turns snippets off).
fn highlight_options(h: Option<v1::HighlightOptions>) -> Result<Option<HighlightOptions>, Status> {
    let v1::HighlightOptions {
        max_fragments,
        fragment_chars,
        pre_tag,
        post_tag,
    } = h.unwrap_or_default();
    let defaults = HighlightOptions::default();
    let max_fragments = match max_fragments {
        -1 => return Ok(None),
        0 => defaults.max_fragments,
        n if n < 0 => {
            return Err(invalid_argument(
                "highlight.max_fragments",
                "must be -1 (no snippets), 0 (default) or positive",
            ))
        }
        n => n as usize,
    };
    let fragment_chars = match fragment_chars {
        0 => defaults.fragment_chars,
        n if n < 0 => {
            return Err(invalid_argument(
                "highlight.fragment_chars",
                "must not be negative",
            ))
        }
        n => n as usize,
    };
    Ok(Some(HighlightOptions {
        max_fragments,
        fragment_chars,
        pre_tag: if pre_tag.is_empty() {
            defaults.pre_tag
        } else {
            pre_tag
        },
        post_tag: if post_tag.is_empty() {
            defaults.post_tag
        } else {
            post_tag
        },
    }))
}

/// The store snapshot a page token points at (the current one without a token).
fn resume(store: &Store, pager: &Pager) -> Result<Arc<store::Snapshot>, Status> {
    if pager.is_first() {
        return Ok(store.snapshot());
    }
    let generation = pager
        .generation()
        .ok_or_else(|| invalid_argument("page_token", "not a token this search issued"))?;
    store.snapshot_at(generation).ok_or_else(|| {
        invalid_argument(
            "page_token",
            "expired: the index snapshot it pages is gone; search again from the first page",
        )
    })
}

/// Runs `f` on the snapshot, reporting a malformed query's position in the request's
/// encoding.
fn run<T>(
    snapshot: &Arc<crate::index::Snapshot>,
    prepared: &Prepared,
    f: impl FnOnce(&Arc<crate::index::Snapshot>, &SearchQuery) -> Result<T, IndexError>,
) -> Result<T, Status> {
    f(snapshot, &prepared.query).map_err(|e| match e {
        IndexError::InvalidQuery { message, position } => {
            let map = OffsetMap::new(&prepared.query.text, prepared.encoding);
            invalid_argument(
                "query",
                format!("{message} (at position {})", map.convert(position)),
            )
        }
        other => other.into(),
    })
}

/// The response for a page of results (of `snapshot`, paged by `pager`).
fn response(
    prepared: &Prepared,
    (snapshot, pager, results): (&store::Snapshot, &Pager, &SearchResults),
    started: Instant,
) -> SearchResponse {
    let SearchResults {
        generation: _,
        total_hits,
        total_hits_relation,
        hits,
        facets,
        matching_ids,
    } = results;
    let next = prepared.query.offset + hits.len();
    // A lower bound may undercount: a full page then may have more behind it.
    let more = (next as u64) < *total_hits
        || (*total_hits_relation == TotalHitsRelation::GreaterOrEqual
            && hits.len() == prepared.query.limit);
    let next_page_token = if !hits.is_empty() && more {
        pager.next_at(snapshot.generation, next)
    } else {
        String::new()
    };
    let mut by_name: HashMap<String, v1::Facet> = facets
        .iter()
        .map(|f| (facet_name(f).to_string(), facet_message(f)))
        .collect();
    if let Some(ids) = matching_ids {
        by_name.extend(entity_facets(snapshot, &prepared.entity_facets, ids));
    }
    SearchResponse {
        hits: hits
            .iter()
            .map(|h| hit_message(h, prepared.encoding, prepared.include_text))
            .collect(),
        total_hits: *total_hits as i64,
        total_hits_relation: relation(*total_hits_relation) as i32,
        next_page_token,
        facets: prepared
            .facet_order
            .iter()
            .filter_map(|name| by_name.remove(name))
            .collect(),
        took_micros: started.elapsed().as_micros() as i64,
    }
}

/// The message's form of a count's relation to the true number of matches.
fn relation(r: TotalHitsRelation) -> v1::TotalHitsRelation {
    match r {
        TotalHitsRelation::Equal => v1::TotalHitsRelation::Equal,
        TotalHitsRelation::GreaterOrEqual => v1::TotalHitsRelation::GreaterOrEqual,
    }
}

fn facet_name(f: &FacetCounts) -> &'static str {
    match f.field {
        FacetField::Source => "source",
        FacetField::Month => "month",
    }
}

fn facet_message(f: &FacetCounts) -> v1::Facet {
    v1::Facet {
        name: facet_name(f).to_string(),
        values: f
            .values
            .iter()
            .map(|(value, count)| v1::FacetValue {
                value: value.clone(),
                count: *count as i64,
                label: String::new(),
            })
            .collect(),
    }
}

/// The "entity" and "entity_type" facets over the matching documents.
fn entity_facets(
    snapshot: &store::Snapshot,
    names: &[String],
    ids: &[String],
) -> Vec<(String, v1::Facet)> {
    let counts = snapshot.entity_facets(ids, MAX_ENTITY_FACET);
    let mut types: Vec<v1::FacetValue> = counts
        .types
        .iter()
        .map(|&(t, count)| v1::FacetValue {
            value: super::entity::entity_type(t).as_str_name().to_string(),
            count,
            label: String::new(),
        })
        .collect();
    types.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    let entities: Vec<v1::FacetValue> = counts
        .entities
        .iter()
        .map(|&(e, count)| v1::FacetValue {
            value: e.id.clone(),
            count,
            label: e.name.clone(),
        })
        .collect();
    names
        .iter()
        .map(|name| {
            let values = if name == "entity" {
                entities.clone()
            } else {
                types.clone()
            };
            let facet = v1::Facet {
                name: name.clone(),
                values,
            };
            (name.clone(), facet)
        })
        .collect()
}

/// The message for a hit, with offsets in `encoding` and the text when `include_text`.
fn hit_message(hit: &Hit, encoding: Encoding, include_text: bool) -> SearchHit {
    let Hit {
        id,
        score,
        rank,
        title,
        source,
        published_at,
        snippets,
        text,
    } = hit;
    SearchHit {
        document_id: id.clone(),
        score: *score,
        rank: *rank as i32,
        title: title.clone(),
        source: source.clone(),
        published_at: published_at
            .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
            .map(convert::timestamp),
        snippets: snippet_messages(text, snippets, encoding),
        text: if include_text {
            text.clone()
        } else {
            String::new()
        },
    }
}

/// The messages for a hit's snippets, with offsets in `encoding`.
fn snippet_messages(
    text: &str,
    snippets: &[crate::index::Snippet],
    encoding: Encoding,
) -> Vec<v1::Snippet> {
    let map = OffsetMap::new(text, encoding);
    snippets
        .iter()
        .map(|s| v1::Snippet {
            span: Some(convert::span(text, &map, s.range.clone())),
            highlights: s
                .highlights
                .iter()
                .map(|h| convert::span(text, &map, h.clone()))
                .collect(),
            text: s.text.clone(),
            markup: s.markup.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlight_defaults_and_limits() {
        // Proves 0 means the default, -1 turns snippets off and other negatives are errors.
        let on = highlight_options(None).unwrap().unwrap();
        assert_eq!(on, HighlightOptions::default());
        let off = v1::HighlightOptions {
            max_fragments: -1,
            ..Default::default()
        };
        assert!(highlight_options(Some(off)).unwrap().is_none());
        let bad = v1::HighlightOptions {
            max_fragments: -2,
            ..Default::default()
        };
        assert!(highlight_options(Some(bad)).is_err());
    }
}

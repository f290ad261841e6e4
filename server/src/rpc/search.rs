//! `SearchService`: ranked search, streaming and more-like-this over [`crate::index`].
//!
//! Page tokens are opaque (base64 via [`page`]) and carry a fingerprint of the query, filter
//! and order, plus the index generation and the offset of the next hit: every page of one
//! listing is cut from the same index snapshot, so ingests while paging never repeat or skip
//! a hit. A token replayed with another query is INVALID_ARGUMENT, and so is a token whose
//! snapshot has expired (the index keeps recent generations for ten minutes).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dossier_api::v1::{
    self, search_service_server::SearchService, MoreLikeThisRequest, SearchHit, SearchRequest,
    SearchResponse,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::metadata::MetadataMap;
use tonic::{Request, Response, Status};

use super::pool::Pool;
use super::status::invalid_argument;
use super::{convert, page};
use crate::index::{
    FacetCounts, FacetField, Filter, HighlightOptions, Hit, IndexError, SearchQuery, SearchResults,
    Snapshot, SortOrder, Syntax,
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

impl SearchApi {
    /// An adapter over `store`.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            pool: Pool::per_core("search"),
        }
    }
}

const DEFAULT_PAGE: usize = 10;
const MAX_PAGE: usize = 100;
/// Bound of the StreamSearch channel: the producer waits when the client reads slowly.
const STREAM_BUFFER: usize = 16;
/// Most values returned for the "entity" facet.
const MAX_ENTITY_FACET: usize = 100;

/// A request turned into an engine query, with what the response needs.
struct Prepared {
    query: SearchQuery,
    /// Fingerprint of the request fields that define the listing (page tokens carry it).
    fingerprint: u64,
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
    type StreamSearchStream = ReceiverStream<Result<SearchHit, Status>>;

    async fn search(
        &self,
        request: Request<SearchRequest>,
    ) -> Result<Response<SearchResponse>, Status> {
        let started = Instant::now();
        let request = request.into_inner();
        let page_size = page::page_size(request.page_size, DEFAULT_PAGE, MAX_PAGE)?;
        let page_token = request.page_token.clone();
        let mut prepared = prepare(request)?;
        let (snapshot, offset) = resume(&self.store, &page_token, prepared.fingerprint)?;
        prepared.query.offset = offset;
        prepared.query.limit = page_size;
        let store = self.store.clone();
        if prepared.is_light() {
            // A repeated request is answered here: no search work, no thread hand-off.
            if let Some(results) = snapshot.cached(&prepared.query) {
                return Ok(Response::new(response(
                    &store, &prepared, &results, started,
                )));
            }
        }
        let response = self
            .pool
            .run(move || {
                resolve_entities(&store, &mut prepared)?;
                let results = run(&snapshot, &prepared, |s, q| s.search(q))?;
                Ok::<_, Status>(response(&store, &prepared, &results, started))
            })
            .await??;
        Ok(Response::new(response))
    }

    async fn stream_search(
        &self,
        request: Request<SearchRequest>,
    ) -> Result<Response<Self::StreamSearchStream>, Status> {
        let deadline = deadline(request.metadata());
        let request = request.into_inner();
        let store = self.store.clone();
        let (hits, encoding, include_text) = self
            .pool
            .run(move || {
                let mut prepared = prepare(request)?;
                resolve_entities(&store, &mut prepared)?;
                let snapshot = store.index().snapshot();
                let hits = run(&snapshot, &prepared, |s, q| s.hits(q))?;
                Ok::<_, Status>((hits, prepared.encoding, prepared.include_text))
            })
            .await??;
        // Hits are loaded (and sent) one by one as the client reads: that waits on the client,
        // so it runs on tokio's blocking pool, not on a search worker.
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        tokio::task::spawn_blocking(move || {
            for hit in hits {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    let _ = tx.blocking_send(Err(Status::deadline_exceeded(
                        "the deadline passed while streaming hits",
                    )));
                    break;
                }
                let message = hit
                    .map(|h| hit_message(&h, encoding, include_text))
                    .map_err(Status::from);
                // A failed send means the client went away: stop producing.
                if tx.blocking_send(message).is_err() {
                    break;
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
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
        let page_size = page::page_size(page_size, DEFAULT_PAGE, MAX_PAGE)?;
        let encoding = convert::encoding(encoding);
        let snapshot = self.store.index().snapshot();
        let results = self
            .pool
            .run(move || {
                snapshot.more_like_this(&document_id, page_size, Some(HighlightOptions::default()))
            })
            .await??;
        Ok(Response::new(SearchResponse {
            total_hits: results.total_hits as i64,
            hits: results
                .hits
                .iter()
                .map(|h| hit_message(h, encoding, false))
                .collect(),
            next_page_token: String::new(),
            facets: Vec::new(),
            took_micros: started.elapsed().as_micros() as i64,
        }))
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
        ..SearchQuery::new(query, Syntax::QueryLanguage)
    };
    let mut parts = vec![query.fingerprint().to_string()];
    parts.extend(entity_ids.iter().cloned());
    let fingerprint = page::fingerprint(&parts.iter().map(String::as_str).collect::<Vec<_>>());
    Ok(Prepared {
        query,
        fingerprint,
        encoding: convert::encoding(encoding),
        entity_facets,
        facet_order: facets,
        include_text,
        entity_ids,
    })
}

/// Restricts the query to the documents mentioning every entity of `filter.entity_ids`.
fn resolve_entities(store: &Store, prepared: &mut Prepared) -> Result<(), Status> {
    if !prepared.entity_ids.is_empty() {
        let allowed = entity_documents(&store.snapshot(), &prepared.entity_ids)?;
        prepared.query.filter.allowed_ids = Some(allowed);
    }
    Ok(())
}

/// The documents mentioning every one of `entity_ids` (through any alias).
fn entity_documents(
    snapshot: &store::Snapshot,
    entity_ids: &[String],
) -> Result<Vec<String>, Status> {
    let registry = snapshot.entities();
    let mut allowed: Option<HashSet<u32>> = None;
    for id in entity_ids {
        let entity = registry.get(id).ok_or_else(|| {
            invalid_argument("filter.entity_ids", format!("unknown entity {id:?}"))
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

/// The snapshot and offset a page token points at (the current snapshot and 0 without one).
fn resume(store: &Store, token: &str, fingerprint: u64) -> Result<(Arc<Snapshot>, usize), Status> {
    let Some(position) = page::decode(token, fingerprint)? else {
        return Ok((store.index().snapshot(), 0));
    };
    let bad = || invalid_argument("page_token", "not a token this search issued");
    let (generation, offset) = position.split_once(':').ok_or_else(bad)?;
    let generation: u64 = generation.parse().map_err(|_| bad())?;
    let offset: usize = offset.parse().map_err(|_| bad())?;
    let snapshot = store.index().snapshot_at(generation).ok_or_else(|| {
        invalid_argument(
            "page_token",
            "expired: the index snapshot it pages is gone; search again from the first page",
        )
    })?;
    Ok((snapshot, offset))
}

/// Runs `f` on the snapshot, reporting a malformed query's position in the request's
/// encoding.
fn run<T>(
    snapshot: &Arc<Snapshot>,
    prepared: &Prepared,
    f: impl FnOnce(&Arc<Snapshot>, &SearchQuery) -> Result<T, IndexError>,
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

/// The response for a page of results.
fn response(
    store: &Store,
    prepared: &Prepared,
    results: &SearchResults,
    started: Instant,
) -> SearchResponse {
    let SearchResults {
        generation,
        total_hits,
        hits,
        facets,
        matching_ids,
    } = results;
    let next = prepared.query.offset + hits.len();
    let next_page_token = if !hits.is_empty() && (next as u64) < *total_hits {
        page::encode(prepared.fingerprint, &format!("{generation}:{next}"))
    } else {
        String::new()
    };
    let mut by_name: HashMap<String, v1::Facet> = facets
        .iter()
        .map(|f| (facet_name(f).to_string(), facet_message(f)))
        .collect();
    if let Some(ids) = matching_ids {
        by_name.extend(entity_facets(store, &prepared.entity_facets, ids));
    }
    SearchResponse {
        hits: hits
            .iter()
            .map(|h| hit_message(h, prepared.encoding, prepared.include_text))
            .collect(),
        total_hits: *total_hits as i64,
        next_page_token,
        facets: prepared
            .facet_order
            .iter()
            .filter_map(|name| by_name.remove(name))
            .collect(),
        took_micros: started.elapsed().as_micros() as i64,
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
fn entity_facets(store: &Store, names: &[String], ids: &[String]) -> Vec<(String, v1::Facet)> {
    let snapshot = store.snapshot();
    let registry = snapshot.entities();
    let mut per_entity: HashMap<usize, i64> = HashMap::new();
    let mut per_type: HashMap<&'static str, i64> = HashMap::new();
    for id in ids {
        let Some(doc) = registry.doc_index(id) else {
            continue;
        };
        let entities = registry.entities_in_doc(doc);
        let mut types = HashSet::new();
        for e in entities {
            *per_entity.entry(e).or_default() += 1;
            types
                .insert(super::entity::entity_type(registry.entities[e].entity_type).as_str_name());
        }
        for t in types {
            *per_type.entry(t).or_default() += 1;
        }
    }
    let sorted = |mut values: Vec<v1::FacetValue>| {
        values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        values
    };
    names
        .iter()
        .map(|name| {
            let values = if name == "entity" {
                let mut v = sorted(
                    per_entity
                        .iter()
                        .map(|(&e, &count)| v1::FacetValue {
                            value: registry.entities[e].id.clone(),
                            count,
                            label: registry.entities[e].name.clone(),
                        })
                        .collect(),
                );
                v.truncate(MAX_ENTITY_FACET);
                v
            } else {
                sorted(
                    per_type
                        .iter()
                        .map(|(t, &count)| v1::FacetValue {
                            value: t.to_string(),
                            count,
                            label: String::new(),
                        })
                        .collect(),
                )
            };
            (
                name.clone(),
                v1::Facet {
                    name: name.clone(),
                    values,
                },
            )
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

/// When the client's `grpc-timeout` runs out, if it sent one.
fn deadline(metadata: &MetadataMap) -> Option<Instant> {
    let value = metadata.get("grpc-timeout")?.to_str().ok()?;
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    let n: u64 = digits.parse().ok()?;
    let timeout = match unit {
        "H" => Duration::from_secs(n.saturating_mul(3600)),
        "M" => Duration::from_secs(n.saturating_mul(60)),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    };
    Instant::now().checked_add(timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse() {
        // Proves the grpc-timeout header becomes a deadline in the future.
        let mut m = MetadataMap::new();
        m.insert("grpc-timeout", "250m".parse().unwrap());
        let d = deadline(&m).unwrap();
        assert!(d > Instant::now() && d < Instant::now() + Duration::from_secs(1));
        m.insert("grpc-timeout", "bogus".parse().unwrap());
        assert!(deadline(&m).is_none());
    }

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

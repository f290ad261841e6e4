//! Searching one snapshot: the [`Snapshot`] a commit publishes and what runs on it (a page,
//! every hit as a stream, more-like-this); the steps live beside it (`compile` turns the
//! query into tantivy queries, `collect` gathers the matches, `feedback` re-ranks them,
//! `stored` loads the hits' documents, `cache` keeps repeated pages).

use std::collections::{BinaryHeap, HashMap};
use std::ops::Bound;
use std::sync::Arc;
use std::time::Instant;

use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, EmptyQuery, Occur, Query, RangeQuery, TermQuery,
    TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, Term};

use super::analyzer::{for_each_token, is_stopword};
use super::collect::{top_page, Collected, Keep, Match};
use super::compile::Compiler;
use super::highlight::{snippets, HighlightOptions, Matcher};
use super::query::parse;
use super::rank::{bm25_idf, Clause, FieldSet, RankParams, RankQuery};
use super::request::{
    Filter, Hit, SearchQuery, SearchResults, SortOrder, Syntax, TotalHitsRelation,
};
use super::stream::HitStream;
use super::{age, bump, IndexError, Shared};

/// Most words of a query answered on the caller's thread ([`Snapshot::is_small`]).
pub const SMALL_QUERY_WORDS: usize = 4;

/// An immutable view of the index at one generation. Cheap to share (`Arc`), safe to search
/// from many threads, unaffected by later writes.
pub struct Snapshot {
    pub(super) generation: u64,
    pub(super) created: Instant,
    pub(super) searcher: Searcher,
    pub(super) shared: Arc<Shared>,
    /// Titles, texts and sentences of this generation's documents when the index does not
    /// store them (see [`super::DocTexts`]).
    pub(super) texts: Option<Arc<dyn super::DocTexts>>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("generation", &self.generation)
            .field("num_docs", &self.num_docs())
            .finish()
    }
}

impl Snapshot {
    pub(crate) fn new(
        generation: u64,
        searcher: Searcher,
        shared: Arc<Shared>,
        texts: Option<Arc<dyn super::DocTexts>>,
    ) -> Self {
        Self {
            generation,
            created: Instant::now(),
            searcher,
            shared,
            texts,
        }
    }

    /// The texts this snapshot reads hits from, when the index does not store them.
    pub(crate) fn texts(&self) -> Option<Arc<dyn super::DocTexts>> {
        self.texts.clone()
    }

    /// The generation (0 for the empty index before the first commit).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Documents visible in this snapshot.
    pub fn num_docs(&self) -> u64 {
        self.searcher.num_docs()
    }

    /// Index segments in this snapshot (each search visits every one).
    pub fn num_segments(&self) -> usize {
        self.searcher.segment_readers().len()
    }

    /// How long ago this snapshot was published.
    pub(crate) fn age(&self) -> std::time::Duration {
        age(self.created)
    }

    /// Bytes taken by the index files of this snapshot.
    pub fn index_bytes(&self) -> u64 {
        self.searcher
            .space_usage()
            .map(|u| u.total().get_bytes())
            .unwrap_or(0)
    }

    /// Runs a search and returns one page.
    ///
    /// Results of requests that repeat are cached per generation (a snapshot never changes,
    /// so a cached page is exactly what the search would return again) and shared, not
    /// copied: a page holds the texts of its hits.
    pub fn search(&self, query: &SearchQuery) -> Result<Arc<SearchResults>, IndexError> {
        if let Some(results) = self.cached(query) {
            return Ok(results);
        }
        bump(&self.shared.metrics.searches);
        let results = Arc::new(self.search_uncached(query)?);
        self.shared
            .cache
            .insert(self.generation, query, Arc::clone(&results));
        Ok(results)
    }

    /// The page [`Self::search`] would return, if it is in the result cache: a lookup that
    /// does no search work, cheap enough for an async task.
    pub fn cached(&self, query: &SearchQuery) -> Option<Arc<SearchResults>> {
        let results = self.shared.cache.get(self.generation, query)?;
        bump(&self.shared.metrics.searches);
        bump(&self.shared.metrics.cache_hits);
        Some(results)
    }

    /// [`Self::search`] without the result cache (for benchmarks).
    pub fn search_uncached(&self, query: &SearchQuery) -> Result<SearchResults, IndexError> {
        let keep = Keep::Best(query.offset.saturating_add(query.limit));
        let (collected, matcher) = self.run(query, keep)?;
        let total_hits = collected.total;
        let total_hits_relation = if collected.complete {
            TotalHitsRelation::Equal
        } else {
            TotalHitsRelation::GreaterOrEqual
        };
        let page = top_page(collected.matches, query.offset, query.limit);
        let hits = page
            .iter()
            .enumerate()
            .map(|(i, m)| self.hit(m, query.offset + i + 1, &matcher, query.highlight.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(SearchResults {
            generation: self.generation,
            total_hits,
            total_hits_relation,
            hits,
            facets: collected.facets,
            matching_ids: collected.ids,
        })
    }

    /// Whether `query` is cheap enough to answer on the caller's thread rather than handing
    /// it to a search thread (the hand-off — a queue, two wake-ups and a thread switch —
    /// costs a small search about as much as the search itself): a relevance page of at
    /// most [`SMALL_QUERY_WORDS`] plain words (no phrase, prefix, fuzzy word, field or
    /// operator), no filter or facet, and no feedback. Judged from the request alone, in
    /// well under a microsecond: looking the words' document frequencies up would cost
    /// a tenth of the search it decides about. A word that matches most of the corpus
    /// still scores in well under a millisecond.
    pub fn is_small(&self, query: &SearchQuery) -> bool {
        let plain = |c: char| c.is_alphanumeric() || c.is_whitespace() || "'’-.,".contains(c);
        let words = query.text.split_whitespace().count();
        let feedback =
            query.syntax == Syntax::PlainText && words >= self.shared.rank.load().prf_min_terms;
        query.text.len() <= 120
            && words <= SMALL_QUERY_WORDS
            && !feedback
            && query.text.chars().all(plain)
            && query.facets.is_empty()
            && !query.with_matching_ids
            && query.filter == Filter::default()
            && query.order == SortOrder::Relevance
            && query.offset.saturating_add(query.limit) <= 100
    }

    /// Every hit of `query` in rank order with no cap (`offset`, `limit` and facets are
    /// ignored). Ranking is done once up front; each hit's document and snippets are loaded
    /// only when the iterator reaches it, so dropping the stream stops the work.
    pub fn hits(self: &Arc<Self>, query: &SearchQuery) -> Result<HitStream, IndexError> {
        bump(&self.shared.metrics.searches);
        let mut unpaged = query.clone();
        unpaged.facets.clear();
        unpaged.with_matching_ids = false;
        let (collected, matcher) = self.run(&unpaged, Keep::All)?;
        Ok(HitStream {
            snapshot: Arc::clone(self),
            total: collected.total,
            heap: BinaryHeap::from(collected.matches),
            rank: 0,
            matcher,
            highlight: query.highlight.clone(),
        })
    }

    /// Documents like the one with `id`, most similar first, the document itself excluded:
    /// its most distinctive terms (tf·idf over title and text) as a weighted query.
    pub fn more_like_this(
        &self,
        id: &str,
        limit: usize,
        highlight: Option<HighlightOptions>,
    ) -> Result<SearchResults, IndexError> {
        bump(&self.shared.metrics.searches);
        let Some(address) = self.address_of(id)? else {
            return Err(IndexError::DocumentNotFound(id.to_string()));
        };
        let doc = self.stored(address)?;
        let params = self.params();
        let fields = self.shared.fields;
        let mut counts: HashMap<String, u32> = HashMap::new();
        let mut analyzer = self.shared.analyzer.clone();
        for text in [&doc.title, &doc.title, &doc.text] {
            for_each_token(&mut analyzer, text, |t| {
                if !is_stopword(&t.text) && t.text.chars().any(char::is_alphabetic) {
                    *counts.entry(t.text.clone()).or_default() += 1;
                }
            });
        }
        let n = self.searcher.num_docs();
        let mut weighted: Vec<(String, f32)> = Vec::new();
        for (term, tf) in counts {
            let df = self
                .searcher
                .doc_freq(&Term::from_field_text(fields.text, &term))?;
            if df < 2 {
                continue; // only this document has it
            }
            weighted.push((term, (1.0 + (tf as f32).ln()) * bm25_idf(df, n)));
        }
        weighted.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        weighted.truncate(25);
        let top = weighted.first().map_or(1.0, |w| w.1);
        let clauses: Vec<Clause> = weighted
            .iter()
            .map(|(t, w)| Clause {
                variants: vec![t.clone()],
                weight: w / top,
            })
            .collect();
        let matcher = Matcher::new(clauses.iter().map(|c| c.variants[0].clone()));
        let ranked: Box<dyn Query> = if clauses.is_empty() {
            Box::new(EmptyQuery)
        } else {
            Box::new(RankQuery::new(
                clauses,
                fields.text_fields(),
                FieldSet::BOTH,
                params,
            ))
        };
        let query = BooleanQuery::new(vec![
            (Occur::Must, ranked),
            (
                Occur::MustNot,
                Box::new(TermQuery::new(
                    Term::from_field_text(fields.id, id),
                    IndexRecordOption::Basic,
                )),
            ),
        ]);
        let request = SearchQuery {
            limit,
            highlight: highlight.clone(),
            ..SearchQuery::new("", Syntax::PlainText)
        };
        let collected = self.collect(&query, &request, Keep::Best(limit))?;
        let total_hits = collected.total;
        let total_hits_relation = if collected.complete {
            TotalHitsRelation::Equal
        } else {
            TotalHitsRelation::GreaterOrEqual
        };
        let page = top_page(collected.matches, 0, limit);
        let hits = page
            .iter()
            .enumerate()
            .map(|(i, m)| self.hit(m, i + 1, &matcher, highlight.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(SearchResults {
            generation: self.generation,
            total_hits,
            total_hits_relation,
            hits,
            facets: Vec::new(),
            matching_ids: None,
        })
    }

    pub(super) fn params(&self) -> RankParams {
        RankParams::clone(&self.shared.rank.load())
    }

    pub(super) fn hit(
        &self,
        m: &Match,
        rank: usize,
        matcher: &Matcher,
        highlight: Option<&HighlightOptions>,
    ) -> Result<Hit, IndexError> {
        let doc = self.stored(m.address())?;
        let snippets = match highlight {
            Some(options) => snippets(&doc.text, &doc.sentences, matcher, options),
            None => Vec::new(),
        };
        Ok(Hit {
            id: doc.id,
            score: m.score,
            rank,
            title: doc.title,
            source: doc.source,
            published_at: doc.published_at,
            snippets,
            text: doc.text,
        })
    }

    /// Parses and compiles the query, adds filters, collects the matches (`keep`), and
    /// re-ranks the best with pseudo-relevance feedback when it applies (PLAIN_TEXT,
    /// relevance order, enough query terms).
    fn run(&self, request: &SearchQuery, keep: Keep) -> Result<(Collected, Matcher), IndexError> {
        let params = self.params();
        let mut compiler = Compiler::new(self, &params);
        let ranked = match request.syntax {
            Syntax::QueryLanguage => {
                let node = parse(&request.text)?;
                compiler.compile(&node, true)?
            }
            Syntax::PlainText => compiler.plain(&request.text)?,
        };
        let mut highlight = std::mem::take(&mut compiler.highlight);
        let ranked = ranked.unwrap_or_else(|| Box::new(AllQuery));
        let filters = self.filters(&request.filter);
        let query = with_filters(ranked.box_clone(), &filters);
        let feedback = (request.syntax == Syntax::PlainText
            && request.order == SortOrder::Relevance
            && params.prf_docs > 0
            && params.prf_weight > 0.0)
            .then(|| ranked.downcast_ref::<RankQuery>())
            .flatten()
            .filter(|rank| rank.clauses().len() >= params.prf_min_terms);
        // Feedback re-ranks the best `prf_rerank` matches: keep at least those.
        let keep = match (keep, feedback) {
            (Keep::Best(n), Some(_)) => Keep::Best(n.max(params.prf_rerank).max(params.prf_docs)),
            (keep, _) => keep,
        };
        let mut collected = self.collect(query.as_ref(), request, keep)?;
        if let Some(rank) = feedback {
            if let Some(expanded) = self.rerank(rank, &mut collected.matches, &params)? {
                for c in expanded.clauses() {
                    highlight.extend(c.variants.iter().cloned());
                }
            }
        }
        Ok((collected, Matcher::new(highlight)))
    }

    /// The filter queries for `filter`.
    fn filters(&self, filter: &Filter) -> Vec<Box<dyn Query>> {
        let f = &self.shared.fields;
        let mut out: Vec<Box<dyn Query>> = Vec::new();
        let set = |field: Field, values: &[String]| -> Box<dyn Query> {
            Box::new(TermSetQuery::new(
                values.iter().map(|v| Term::from_field_text(field, v)),
            ))
        };
        if !filter.sources.is_empty() {
            out.push(set(f.source, &filter.sources));
        }
        if !filter.document_ids.is_empty() {
            out.push(set(f.id, &filter.document_ids));
        }
        match &filter.allowed_ids {
            Some(ids) if ids.is_empty() => out.push(Box::new(EmptyQuery)),
            Some(ids) => out.push(set(f.id, ids)),
            None => {}
        }
        if filter.published_after.is_some() || filter.published_before.is_some() {
            let bound = |t: Option<i64>, inclusive: bool| match t {
                None => Bound::Unbounded,
                Some(t) if inclusive => Bound::Included(Term::from_field_i64(f.published_at, t)),
                Some(t) => Bound::Excluded(Term::from_field_i64(f.published_at, t)),
            };
            out.push(Box::new(RangeQuery::new(
                bound(filter.published_after, true),
                bound(filter.published_before, false),
            )));
        }
        out
    }
}

/// `query` restricted by `filters` (which do not add to the score).
fn with_filters(query: Box<dyn Query>, filters: &[Box<dyn Query>]) -> Box<dyn Query> {
    if filters.is_empty() {
        return query;
    }
    let mut clauses = vec![(Occur::Must, query)];
    for f in filters {
        clauses.push((
            Occur::Must,
            Box::new(ConstScoreQuery::new(f.box_clone(), 0.0)) as Box<dyn Query>,
        ));
    }
    Box::new(BooleanQuery::new(clauses))
}

//! Searching one snapshot: compiling queries, filtering, ranking, sorting, paging, facets,
//! highlights, streaming every hit, and more-like-this.

use std::collections::{BinaryHeap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::ops::Bound;
use std::sync::Arc;
use std::time::Instant;

use tantivy::index::SegmentId;
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, EmptyQuery, EnableScoring, Occur, PhrasePrefixQuery,
    PhraseQuery, Query, RangeQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::document::{
    DeserializeError, DocumentDeserialize, DocumentDeserializer, ValueDeserialize,
    ValueDeserializer, ValueVisitor,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocAddress, DocId, DocSet, Searcher, Term, TERMINATED};

use super::analyzer::{english_unstemmed, for_each_token, is_stopword};
use super::exclude::Excluded;
use super::highlight::{snippets, HighlightOptions, Matcher, Snippet};
use super::query::{parse, Node, Target};
use super::rank::{bm25_idf, Clause, FieldSet, RankParams, RankQuery};
use super::schema::{decode_ranges, ID, MONTH, PUBLISHED_AT, SOURCE};
use super::{age, bump, IndexError, Shared};

/// How the query text is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Syntax {
    /// The query language (see the `query` module docs): malformed input is an error.
    #[default]
    QueryLanguage,
    /// Any text: its words are OR-ed and ranked; never an error.
    PlainText,
}

/// The order of hits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SortOrder {
    /// Best match first.
    #[default]
    Relevance,
    /// Latest `published_at` first, undated documents last.
    Newest,
    /// Earliest `published_at` first, undated documents last.
    Oldest,
}

/// Which documents may match. Every condition set must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Filter {
    /// Only these sources (exact values); empty means any.
    pub sources: Vec<String>,
    /// Only documents published at or after this time (seconds).
    pub published_after: Option<i64>,
    /// Only documents published before this time (seconds).
    pub published_before: Option<i64>,
    /// Only these ids; empty means any.
    pub document_ids: Vec<String>,
    /// When set, only ids in this list (for example the documents mentioning the requested
    /// entities); an empty list matches nothing.
    pub allowed_ids: Option<Vec<String>>,
}

/// A facet the caller can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FacetField {
    /// The document's source.
    Source,
    /// The publication month, "YYYY-MM" (undated documents are not counted).
    Month,
}

/// A search request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SearchQuery {
    /// The query text; empty (or nothing searchable) matches every document.
    pub text: String,
    /// How `text` is read.
    pub syntax: Syntax,
    /// Which documents may match.
    pub filter: Filter,
    /// Order of hits.
    pub order: SortOrder,
    /// Hits to skip (paging).
    pub offset: usize,
    /// Hits to return.
    pub limit: usize,
    /// Snippets to cut, or `None` for none.
    pub highlight: Option<HighlightOptions>,
    /// Facets to count over all matching documents.
    pub facets: Vec<FacetField>,
    /// Return the ids of all matching documents (for facets the caller computes).
    pub with_matching_ids: bool,
}

impl SearchQuery {
    /// A first page of 10 with default highlights and no filter.
    pub fn new(text: impl Into<String>, syntax: Syntax) -> Self {
        Self {
            text: text.into(),
            syntax,
            filter: Filter::default(),
            order: SortOrder::Relevance,
            offset: 0,
            limit: 10,
            highlight: Some(HighlightOptions::default()),
            facets: Vec::new(),
            with_matching_ids: false,
        }
    }

    /// A hash of what decides the ranking (text, syntax, filter, order) but not the page,
    /// highlights or facets: page tokens carry it so a token cannot be replayed against a
    /// different query. Stable for the life of the process.
    pub fn fingerprint(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (&self.text, self.syntax, &self.filter, self.order).hash(&mut h);
        h.finish()
    }
}

/// One facet's counts, most frequent first (ties by value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetCounts {
    /// Which facet.
    pub field: FacetField,
    /// `(value, matching documents)`.
    pub values: Vec<(String, u64)>,
}

/// A ranked hit.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Document id.
    pub id: String,
    /// Relevance score; comparable within one result list.
    pub score: f32,
    /// Position in the whole ranking, from 1.
    pub rank: usize,
    /// Title.
    pub title: String,
    /// Source.
    pub source: String,
    /// Publication time (seconds), when known.
    pub published_at: Option<i64>,
    /// Highlighted fragments, best first.
    pub snippets: Vec<Snippet>,
    /// The whole text (loaded anyway for the snippets; offsets in other encodings need it).
    pub text: String,
}

/// A page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResults {
    /// The snapshot generation the search ran on (page tokens bind to it).
    pub generation: u64,
    /// Exact number of matching documents.
    pub total_hits: u64,
    /// The requested page, in order.
    pub hits: Vec<Hit>,
    /// The facets asked for.
    pub facets: Vec<FacetCounts>,
    /// Ids of every matching document, when asked for (in no particular order).
    pub matching_ids: Option<Vec<String>>,
}

/// A stored document, as indexed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDoc {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Text.
    pub text: String,
    /// Source.
    pub source: String,
    /// Publication time (seconds).
    pub published_at: Option<i64>,
    /// Sentence byte ranges of `text`, as indexed.
    pub sentences: Vec<std::ops::Range<usize>>,
}

/// An immutable view of the index at one generation. Cheap to share (`Arc`), safe to search
/// from many threads, unaffected by later writes.
pub struct Snapshot {
    generation: u64,
    created: Instant,
    searcher: Searcher,
    shared: Arc<Shared>,
    /// Titles, texts and sentences of this generation's documents when the index does not
    /// store them (see [`super::DocTexts`]).
    texts: Option<Arc<dyn super::DocTexts>>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("generation", &self.generation)
            .field("num_docs", &self.num_docs())
            .finish()
    }
}

/// One matching document and its sort key. Ordered so that the *better* hit is greater.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Match {
    /// Date key (see `date_key`); in relevance order 0, or 1 for hits re-ranked by feedback.
    date: i64,
    score: f32,
    segment: u32,
    doc: DocId,
}

impl Eq for Match {}

impl Ord for Match {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.date
            .cmp(&other.date)
            .then(self.score.total_cmp(&other.score))
            .then(other.segment.cmp(&self.segment))
            .then(other.doc.cmp(&self.doc))
    }
}

impl PartialOrd for Match {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Match {
    fn address(&self) -> DocAddress {
        DocAddress::new(self.segment, self.doc)
    }
}

/// Undated documents sort last in both date orders.
fn date_key(order: SortOrder, published: Option<i64>) -> i64 {
    match (order, published) {
        (SortOrder::Relevance, _) => 0,
        (_, None) => i64::MIN,
        (SortOrder::Newest, Some(t)) => t.max(i64::MIN + 1),
        (SortOrder::Oldest, Some(t)) => t.saturating_neg(),
    }
}

/// Everything one pass over the matches gathers.
struct Collected {
    /// The matches kept (see [`Keep`]), in no particular order.
    matches: Vec<Match>,
    /// How many documents matched: `matches.len()` when all are kept.
    total: u64,
    facets: Vec<FacetCounts>,
    ids: Option<Vec<String>>,
}

/// Which matches a pass keeps: a page needs only the best few (and the count), a stream
/// every one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keep {
    All,
    Best(usize),
}

/// The matches kept so far: all of them, or a min-heap of the best `n`, so that a page of
/// ten out of thousands of matches never holds (or sorts) the thousands.
enum Kept {
    All(Vec<Match>),
    Best(usize, BinaryHeap<std::cmp::Reverse<Match>>),
}

impl Kept {
    fn new(keep: Keep) -> Self {
        match keep {
            Keep::All => Self::All(Vec::new()),
            Keep::Best(n) => Self::Best(n, BinaryHeap::with_capacity(n.min(4096))),
        }
    }

    fn push(&mut self, m: Match) {
        match self {
            Self::All(all) => all.push(m),
            Self::Best(n, heap) => {
                if heap.len() < *n {
                    heap.push(std::cmp::Reverse(m));
                } else if let Some(mut worst) = heap.peek_mut() {
                    if m > worst.0 {
                        *worst = std::cmp::Reverse(m);
                    }
                }
            }
        }
    }

    fn into_vec(self) -> Vec<Match> {
        match self {
            Self::All(all) => all,
            Self::Best(_, heap) => heap.into_iter().map(|m| m.0).collect(),
        }
    }
}

/// Largest number of terms a prefix or fuzzy word expands to (the most frequent are kept).
const MAX_EXPANSIONS: usize = 64;

/// How many characters stemming may cut from the end of a prefix query's word.
const STEM_CUT: usize = 3;

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

    /// The generation (0 for the empty index before the first commit).
    /// The texts this snapshot reads hits from, when the index does not store them.
    pub(crate) fn texts(&self) -> Option<Arc<dyn super::DocTexts>> {
        self.texts.clone()
    }

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
        let page = top_page(collected.matches, query.offset, query.limit);
        let hits = page
            .iter()
            .enumerate()
            .map(|(i, m)| self.hit(m, query.offset + i + 1, &matcher, query.highlight.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(SearchResults {
            generation: self.generation,
            total_hits,
            hits,
            facets: collected.facets,
            matching_ids: collected.ids,
        })
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
        let page = top_page(collected.matches, 0, limit);
        let hits = page
            .iter()
            .enumerate()
            .map(|(i, m)| self.hit(m, i + 1, &matcher, highlight.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(SearchResults {
            generation: self.generation,
            total_hits,
            hits,
            facets: Vec::new(),
            matching_ids: None,
        })
    }

    /// The stored document with this id, if it is in this snapshot.
    pub fn get(&self, id: &str) -> Result<Option<StoredDoc>, IndexError> {
        match self.address_of(id)? {
            Some(address) => Ok(Some(self.stored(address)?)),
            None => Ok(None),
        }
    }

    fn params(&self) -> RankParams {
        RankParams::clone(&self.shared.rank.load())
    }

    /// The address of the live document with this id.
    fn address_of(&self, id: &str) -> Result<Option<DocAddress>, IndexError> {
        let term = Term::from_field_text(self.shared.fields.id, id);
        for (ord, segment) in self.searcher.segment_readers().iter().enumerate() {
            let inverted = segment.inverted_index(self.shared.fields.id)?;
            let Some(mut postings) = inverted.read_postings(&term, IndexRecordOption::Basic)?
            else {
                continue;
            };
            let mut doc = postings.doc();
            while doc != TERMINATED {
                if !segment.is_deleted(doc) {
                    return Ok(Some(DocAddress::new(ord as u32, doc)));
                }
                doc = postings.advance();
            }
        }
        Ok(None)
    }

    fn stored(&self, address: DocAddress) -> Result<StoredDoc, IndexError> {
        let StoredFields(values) = self.searcher.doc(address)?;
        let f = &self.shared.fields;
        let mut doc = StoredDoc {
            id: String::new(),
            title: String::new(),
            text: String::new(),
            source: String::new(),
            published_at: None,
            sentences: Vec::new(),
        };
        // The first value of each field, as `get_first` would take it.
        let mut seen = [false; 6];
        for (field, value) in values {
            let (slot, first) = match field {
                x if x == f.id => (0, &mut doc.id),
                x if x == f.title => (1, &mut doc.title),
                x if x == f.text => (2, &mut doc.text),
                x if x == f.source => (3, &mut doc.source),
                x if x == f.published_at => {
                    if let (false, StoredValue::I64(t)) = (seen[4], value) {
                        doc.published_at = Some(t);
                        seen[4] = true;
                    }
                    continue;
                }
                x if x == f.sentences => {
                    if let (false, StoredValue::Bytes(b)) = (seen[5], value) {
                        doc.sentences = decode_ranges(&b);
                        seen[5] = true;
                    }
                    continue;
                }
                _ => continue,
            };
            if let (false, StoredValue::Str(text)) = (seen[slot], value) {
                *first = text;
                seen[slot] = true;
            }
        }
        if let Some(external) = self.external_text(&doc.id) {
            doc.title = external.title;
            doc.text = external.text;
            doc.sentences = external.sentences;
        }
        Ok(doc)
    }

    /// Title, text and sentences of document `id` from the snapshot's text source, when
    /// the index does not store them.
    fn external_text(&self, id: &str) -> Option<StoredDoc> {
        let t = self.texts.as_ref()?.doc_text(id)?;
        Some(StoredDoc {
            id: String::new(),
            title: t.title,
            text: t.text,
            source: String::new(),
            published_at: None,
            sentences: t.sentences,
        })
    }

    fn hit(
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

    /// Re-ranks the best `prf_rerank` matches with the query expanded from the best
    /// `prf_docs` (RM3). The match set, and so `total_hits`, stays the query's own: feedback
    /// only reorders. The re-ranked documents come first; the rest keep their order, with
    /// scores scaled below the re-ranked ones.
    fn rerank(
        &self,
        rank: &RankQuery,
        matches: &mut [Match],
        params: &RankParams,
    ) -> Result<Option<RankQuery>, IndexError> {
        let k = params.prf_rerank.max(params.prf_docs).min(matches.len());
        if k == 0 {
            return Ok(None);
        }
        if k < matches.len() {
            matches.select_nth_unstable_by(k - 1, |a, b| b.cmp(a));
        }
        matches[..k].sort_unstable_by(|a, b| b.cmp(a));
        let top = &matches[..params.prf_docs.min(k)];
        let Some(expanded) = self.expand(rank, top, params)? else {
            return Ok(None);
        };
        let mut candidates: HashMap<SegmentId, Vec<DocId>> = HashMap::new();
        for m in &matches[..k] {
            let segment = self.searcher.segment_reader(m.segment).segment_id();
            candidates.entry(segment).or_default().push(m.doc);
        }
        for docs in candidates.values_mut() {
            docs.sort_unstable();
        }
        let restricted = expanded.restricted_to(candidates);
        let weight = restricted.weight(EnableScoring::enabled_from_searcher(&self.searcher))?;
        let mut scores: HashMap<(u32, DocId), f32> = HashMap::with_capacity(k);
        for (ord, segment) in self.searcher.segment_readers().iter().enumerate() {
            weight.for_each(segment, &mut |doc, score| {
                scores.insert((ord as u32, doc), score);
            })?;
        }
        let floor = matches[..k]
            .iter()
            .map(|m| scores.get(&(m.segment, m.doc)).copied().unwrap_or(0.0))
            .fold(f32::MAX, f32::min);
        let ceiling = matches[k..].iter().map(|m| m.score).fold(0.0f32, f32::max);
        let scale = if ceiling > 0.0 {
            0.999 * floor / ceiling
        } else {
            1.0
        };
        for (i, m) in matches.iter_mut().enumerate() {
            if i < k {
                m.score = scores.get(&(m.segment, m.doc)).copied().unwrap_or(0.0);
                m.date = 1;
            } else {
                m.score *= scale;
            }
        }
        Ok(Some(expanded))
    }

    /// RM3 pseudo-relevance feedback: the terms most typical of the top documents, weighted
    /// by how well each document scored, interpolated with the original query.
    fn expand(
        &self,
        rank: &RankQuery,
        top: &[Match],
        params: &RankParams,
    ) -> Result<Option<RankQuery>, IndexError> {
        if top.is_empty() {
            return Ok(None);
        }
        let mut analyzer = self.shared.analyzer.clone();
        let max = top.iter().map(|m| m.score).fold(f32::MIN, f32::max);
        let mut relevance: HashMap<String, f32> = HashMap::new();
        let mut total_weight = 0.0;
        for m in top {
            let doc = self.stored(m.address())?;
            let mut counts: HashMap<String, f32> = HashMap::new();
            let mut len = 0.0f32;
            for text in [&doc.title, &doc.text] {
                for_each_token(&mut analyzer, text, |t| {
                    len += 1.0;
                    if !is_stopword(&t.text) && t.text.chars().any(char::is_alphabetic) {
                        *counts.entry(t.text.clone()).or_default() += 1.0;
                    }
                });
            }
            let w = (m.score - max).exp();
            total_weight += w;
            for (term, c) in counts {
                *relevance.entry(term).or_default() += w * c / len.max(1.0);
            }
        }
        let mut ranked: Vec<(String, f32)> = relevance
            .into_iter()
            .map(|(t, p)| (t, p / total_weight))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        ranked.truncate(params.prf_terms);
        let feedback_total: f32 = ranked.iter().map(|r| r.1).sum();
        let original_total: f32 = rank.clauses().iter().map(|c| c.weight).sum();
        if feedback_total <= 0.0 || original_total <= 0.0 {
            return Ok(None);
        }
        let lambda = params.prf_weight;
        let mut clauses: Vec<Clause> = rank
            .clauses()
            .iter()
            .map(|c| Clause {
                variants: c.variants.clone(),
                weight: (1.0 - lambda) * c.weight / original_total,
            })
            .collect();
        for (term, p) in ranked {
            let w = lambda * p / feedback_total;
            match clauses.iter_mut().find(|c| c.variants == [term.as_str()]) {
                Some(c) => c.weight += w,
                None => clauses.push(Clause {
                    variants: vec![term],
                    weight: w,
                }),
            }
        }
        Ok(Some(rank.with_clauses(clauses)))
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

    /// One pass over every match: the count, the matches to `keep` with their sort keys,
    /// facet counts and ids as requested.
    fn collect(
        &self,
        query: &dyn Query,
        request: &SearchQuery,
        keep: Keep,
    ) -> Result<Collected, IndexError> {
        let weight = query.weight(EnableScoring::enabled_from_searcher(&self.searcher))?;
        let mut kept = Kept::new(keep);
        let mut total = 0u64;
        let want_source = request.facets.contains(&FacetField::Source);
        let want_month = request.facets.contains(&FacetField::Month);
        let mut source_counts: HashMap<String, u64> = HashMap::new();
        let mut month_counts: HashMap<String, u64> = HashMap::new();
        let mut ids = request.with_matching_ids.then(Vec::new);
        for (ord, segment) in self.searcher.segment_readers().iter().enumerate() {
            let fast = segment.fast_fields();
            let dates = match request.order {
                SortOrder::Relevance => None,
                _ => fast.column_opt::<i64>(PUBLISHED_AT)?,
            };
            let sources = if want_source { fast.str(SOURCE)? } else { None };
            let months = if want_month { fast.str(MONTH)? } else { None };
            let id_column = if ids.is_some() { fast.str(ID)? } else { None };
            let mut source_ords = vec![0u64; sources.as_ref().map_or(0, |c| c.num_terms())];
            let mut month_ords = vec![0u64; months.as_ref().map_or(0, |c| c.num_terms())];
            let mut id_ords: Vec<u64> = Vec::new();
            let alive = segment.alive_bitset();
            weight.for_each(segment, &mut |doc, score| {
                if alive.is_some_and(|a| !a.is_alive(doc)) {
                    return;
                }
                let published = dates.as_ref().and_then(|c| c.first(doc));
                total += 1;
                kept.push(Match {
                    date: date_key(request.order, published),
                    score,
                    segment: ord as u32,
                    doc,
                });
                if let Some(ord) = sources.as_ref().and_then(|c| c.ords().first(doc)) {
                    source_ords[ord as usize] += 1;
                }
                if let Some(ord) = months.as_ref().and_then(|c| c.ords().first(doc)) {
                    month_ords[ord as usize] += 1;
                }
                if let Some(ord) = id_column.as_ref().and_then(|c| c.ords().first(doc)) {
                    id_ords.push(ord);
                }
            })?;
            let mut buf = String::new();
            for (column, counts, out) in [
                (&sources, &source_ords, &mut source_counts),
                (&months, &month_ords, &mut month_counts),
            ] {
                let Some(column) = column else { continue };
                for (ord, &n) in counts.iter().enumerate() {
                    if n > 0 && column.ord_to_str(ord as u64, &mut buf)? {
                        *out.entry(buf.clone()).or_default() += n;
                    }
                }
            }
            if let (Some(column), Some(ids)) = (&id_column, ids.as_mut()) {
                for ord in id_ords {
                    if column.ord_to_str(ord, &mut buf)? {
                        ids.push(buf.clone());
                    }
                }
            }
        }
        let mut facets = Vec::new();
        for field in &request.facets {
            let counts = match field {
                FacetField::Source => std::mem::take(&mut source_counts),
                FacetField::Month => std::mem::take(&mut month_counts),
            };
            let mut values: Vec<(String, u64)> = counts.into_iter().collect();
            values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            facets.push(FacetCounts {
                field: *field,
                values,
            });
        }
        Ok(Collected {
            matches: kept.into_vec(),
            total,
            facets,
            ids,
        })
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

/// The hits `offset..offset + limit` of `matches` in order (best first).
fn top_page(mut matches: Vec<Match>, offset: usize, limit: usize) -> Vec<Match> {
    let end = offset.saturating_add(limit).min(matches.len());
    if offset >= end {
        return Vec::new();
    }
    if end < matches.len() {
        matches.select_nth_unstable_by(end, |a, b| b.cmp(a));
        matches.truncate(end);
    }
    matches.sort_unstable_by(|a, b| b.cmp(a));
    matches.drain(..offset);
    matches
}

/// A stored document as (field, value) pairs, read straight from the doc store: each value
/// is copied once into its own `String`/`Vec`, with no intermediate `TantivyDocument`
/// (loading the hits of a page is a good part of a search's cost).
struct StoredFields(Vec<(Field, StoredValue)>);

/// A stored value of the kinds the schema stores (text, i64, bytes); others are skipped.
enum StoredValue {
    Str(String),
    I64(i64),
    Bytes(Vec<u8>),
    Other,
}

impl DocumentDeserialize for StoredFields {
    fn deserialize<'de, D>(mut deserializer: D) -> Result<Self, DeserializeError>
    where
        D: DocumentDeserializer<'de>,
    {
        let mut values = Vec::with_capacity(deserializer.size_hint());
        while let Some(pair) = deserializer.next_field::<StoredValue>()? {
            values.push(pair);
        }
        Ok(Self(values))
    }
}

impl ValueDeserialize for StoredValue {
    fn deserialize<'de, D>(deserializer: D) -> Result<Self, DeserializeError>
    where
        D: ValueDeserializer<'de>,
    {
        deserializer.deserialize_any(StoredValueVisitor)
    }
}

struct StoredValueVisitor;

impl ValueVisitor for StoredValueVisitor {
    type Value = StoredValue;

    fn visit_null(&self) -> Result<StoredValue, DeserializeError> {
        Ok(StoredValue::Other)
    }

    fn visit_string(&self, value: String) -> Result<StoredValue, DeserializeError> {
        Ok(StoredValue::Str(value))
    }

    fn visit_u64(&self, _: u64) -> Result<StoredValue, DeserializeError> {
        Ok(StoredValue::Other)
    }

    fn visit_i64(&self, value: i64) -> Result<StoredValue, DeserializeError> {
        Ok(StoredValue::I64(value))
    }

    fn visit_f64(&self, _: f64) -> Result<StoredValue, DeserializeError> {
        Ok(StoredValue::Other)
    }

    fn visit_bool(&self, _: bool) -> Result<StoredValue, DeserializeError> {
        Ok(StoredValue::Other)
    }

    fn visit_bytes(&self, value: Vec<u8>) -> Result<StoredValue, DeserializeError> {
        Ok(StoredValue::Bytes(value))
    }
}

/// Every hit of a search, in rank order, loaded lazily (see [`Snapshot::hits`]).
pub struct HitStream {
    snapshot: Arc<Snapshot>,
    total: u64,
    heap: BinaryHeap<Match>,
    rank: usize,
    matcher: Matcher,
    highlight: Option<HighlightOptions>,
}

impl HitStream {
    /// Exact number of hits the stream yields in all.
    pub fn total_hits(&self) -> u64 {
        self.total
    }

    /// The generation of the snapshot being streamed.
    pub fn generation(&self) -> u64 {
        self.snapshot.generation
    }
}

impl Drop for HitStream {
    fn drop(&mut self) {
        bump(&self.snapshot.shared.metrics.streams_closed);
    }
}

impl Iterator for HitStream {
    type Item = Result<Hit, IndexError>;

    fn next(&mut self) -> Option<Self::Item> {
        let m = self.heap.pop()?;
        self.rank += 1;
        bump(&self.snapshot.shared.metrics.streamed_hits);
        Some(
            self.snapshot
                .hit(&m, self.rank, &self.matcher, self.highlight.as_ref()),
        )
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.heap.len(), Some(self.heap.len()))
    }
}

/// Turns the AST (or plain text) into tantivy queries, collecting the terms to highlight.
struct Compiler<'a> {
    snapshot: &'a Snapshot,
    params: &'a RankParams,
    analyzer: TextAnalyzer,
    unstemmed: TextAnalyzer,
    /// Analysed terms that, found in the text, are highlighted.
    highlight: HashSet<String>,
}

impl<'a> Compiler<'a> {
    fn new(snapshot: &'a Snapshot, params: &'a RankParams) -> Self {
        Self {
            snapshot,
            params,
            analyzer: snapshot.shared.analyzer.clone(),
            unstemmed: english_unstemmed(),
            highlight: HashSet::new(),
        }
    }

    fn rank(&self, clauses: Vec<Clause>, set: FieldSet) -> RankQuery {
        RankQuery::new(
            clauses,
            self.snapshot.shared.fields.text_fields(),
            set,
            self.params.clone(),
        )
    }

    /// PLAIN_TEXT: every word OR-ed; stopwords dropped when configured and something else
    /// is left; repeated words weigh more when configured.
    fn plain(&mut self, text: &str) -> Result<Option<Box<dyn Query>>, IndexError> {
        let mut terms = super::analyzer::terms(&mut self.analyzer, text);
        if self.params.drop_stopwords && terms.iter().any(|t| !is_stopword(t)) {
            terms.retain(|t| !is_stopword(t));
        }
        if terms.is_empty() {
            return Ok(None);
        }
        let mut clauses: Vec<Clause> = Vec::new();
        for term in &terms {
            match clauses.iter().position(|c| c.variants[0] == *term) {
                Some(i) if self.params.query_tf => clauses[i].weight += 1.0,
                Some(_) => {}
                None => clauses.push(Clause {
                    variants: vec![term.clone()],
                    weight: 1.0,
                }),
            }
        }
        self.highlight.extend(terms);
        Ok(Some(Box::new(self.rank(clauses, FieldSet::BOTH))))
    }

    /// Compiles a node; `positive` is false under a negation (nothing to highlight there).
    fn compile(
        &mut self,
        node: &Node,
        positive: bool,
    ) -> Result<Option<Box<dyn Query>>, IndexError> {
        match node {
            Node::All => Ok(Some(Box::new(AllQuery))),
            Node::Bool(clauses) => self.boolean(clauses, positive),
            Node::Word { text, target } => self.word(text, *target, positive),
            Node::Phrase { text, slop, target } => self.phrase(text, *slop, *target, positive),
            Node::Prefix { text, target } => self.prefix(text, *target, positive),
            Node::Fuzzy {
                text,
                distance,
                target,
            } => self.fuzzy(text, *distance, *target, positive),
        }
    }

    fn boolean(
        &mut self,
        clauses: &[(Occur, Node)],
        positive: bool,
    ) -> Result<Option<Box<dyn Query>>, IndexError> {
        let mut out: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        // Optional plain words with the same target are ranked together (one BM25F query),
        // exactly as plain text would be.
        let mut words: Vec<(Target, Vec<&str>)> = Vec::new();
        for (occur, node) in clauses {
            if let (
                Occur::Should,
                Node::Word {
                    text,
                    target: target @ (Target::Default | Target::Title | Target::Text),
                },
            ) = (occur, node)
            {
                match words.iter_mut().find(|w| w.0 == *target) {
                    Some(w) => w.1.push(text),
                    None => words.push((*target, vec![text])),
                }
                continue;
            }
            let child_positive = positive && *occur != Occur::MustNot;
            if let Some(q) = self.compile(node, child_positive)? {
                let q: Box<dyn Query> = match occur {
                    Occur::MustNot => Box::new(Excluded(q)),
                    _ => q,
                };
                out.push((*occur, q));
            }
        }
        for (target, texts) in words {
            if let Some(q) = self.words(&texts, target, positive)? {
                out.push((Occur::Should, q));
            }
        }
        if out.is_empty() {
            return Ok(None);
        }
        if out.iter().all(|(o, _)| *o == Occur::MustNot) {
            out.push((Occur::Must, Box::new(AllQuery)));
        }
        if out.len() == 1 && out[0].0 != Occur::MustNot {
            return Ok(out.pop().map(|(_, q)| q));
        }
        Ok(Some(Box::new(BooleanQuery::new(out))))
    }

    /// Several plain words OR-ed and ranked together.
    fn words(
        &mut self,
        texts: &[&str],
        target: Target,
        positive: bool,
    ) -> Result<Option<Box<dyn Query>>, IndexError> {
        let mut clauses: Vec<Clause> = Vec::new();
        let mut extra: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for text in texts {
            let terms = super::analyzer::terms(&mut self.analyzer, text);
            if terms.len() > 1 {
                // "U.S.-led" is a phrase of its parts.
                if let Some(q) = self.phrase(text, 0, target, positive)? {
                    extra.push((Occur::Should, q));
                }
                continue;
            }
            let Some(term) = terms.into_iter().next() else {
                continue;
            };
            if positive && target != Target::Title {
                self.highlight.insert(term.clone());
            }
            match clauses.iter().position(|c| c.variants[0] == term) {
                Some(i) if self.params.query_tf => clauses[i].weight += 1.0,
                Some(_) => {}
                None => clauses.push(Clause {
                    variants: vec![term],
                    weight: 1.0,
                }),
            }
        }
        if !clauses.is_empty() {
            let q: Box<dyn Query> = Box::new(self.rank(clauses, field_set(target)));
            extra.push((Occur::Should, q));
        }
        Ok(match extra.len() {
            0 => None,
            1 => extra.pop().map(|(_, q)| q),
            _ => Some(Box::new(BooleanQuery::new(extra))),
        })
    }

    fn word(
        &mut self,
        text: &str,
        target: Target,
        positive: bool,
    ) -> Result<Option<Box<dyn Query>>, IndexError> {
        match target {
            Target::Source | Target::Id => Ok(Some(self.exact(text, target))),
            _ => self.words(&[text], target, positive),
        }
    }

    /// `source:x` / `id:x`: an exact, unranked match.
    fn exact(&self, text: &str, target: Target) -> Box<dyn Query> {
        let f = &self.snapshot.shared.fields;
        let field = if target == Target::Source {
            f.source
        } else {
            f.id
        };
        Box::new(ConstScoreQuery::new(
            Box::new(TermQuery::new(
                Term::from_field_text(field, text),
                IndexRecordOption::Basic,
            )),
            1.0,
        ))
    }

    fn phrase(
        &mut self,
        text: &str,
        slop: u32,
        target: Target,
        positive: bool,
    ) -> Result<Option<Box<dyn Query>>, IndexError> {
        if matches!(target, Target::Source | Target::Id) {
            return Ok(Some(self.exact(text, target)));
        }
        let mut terms: Vec<(usize, String)> = Vec::new();
        for_each_token(&mut self.analyzer, text, |t| {
            terms.push((t.position, t.text.clone()))
        });
        if terms.len() <= 1 {
            return match terms.pop() {
                Some((_, term)) => self.words(&[term.as_str()], target, positive),
                None => Ok(None),
            };
        }
        if positive && target != Target::Title {
            self.highlight.extend(terms.iter().map(|t| t.1.clone()));
        }
        let first = terms[0].0;
        let mut per_field: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for field in self.fields_of(target) {
            let with_offsets = terms
                .iter()
                .map(|(p, t)| (p - first, Term::from_field_text(field, t)))
                .collect();
            per_field.push((
                Occur::Should,
                Box::new(PhraseQuery::new_with_offset_and_slop(with_offsets, slop)),
            ));
        }
        Ok(Some(one_or_any(per_field)))
    }

    fn fields_of(&self, target: Target) -> Vec<Field> {
        let f = &self.snapshot.shared.fields;
        match target {
            Target::Title => vec![f.title],
            Target::Text => vec![f.text],
            _ => vec![f.title, f.text],
        }
    }

    /// `word*`: the indexed stems of words starting with the word, as one clause.
    fn prefix(
        &mut self,
        text: &str,
        target: Target,
        positive: bool,
    ) -> Result<Option<Box<dyn Query>>, IndexError> {
        if matches!(target, Target::Source | Target::Id) {
            let f = &self.snapshot.shared.fields;
            let field = if target == Target::Source {
                f.source
            } else {
                f.id
            };
            let values = self.expand_terms(&[field], |t| t.starts_with(text), text)?;
            return Ok(Some(Box::new(ConstScoreQuery::new(
                Box::new(TermSetQuery::new(
                    values.iter().map(|v| Term::from_field_text(field, v)),
                )),
                1.0,
            ))));
        }
        let parts = super::analyzer::terms(&mut self.unstemmed, text);
        if parts.len() > 1 {
            // "vladimir put*": a phrase whose last word is a prefix.
            let stemmed = super::analyzer::terms(&mut self.analyzer, text);
            let mut per_field: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for field in self.fields_of(target) {
                let mut terms: Vec<Term> = stemmed[..stemmed.len() - 1]
                    .iter()
                    .map(|t| Term::from_field_text(field, t))
                    .collect();
                terms.push(Term::from_field_text(field, &parts[parts.len() - 1]));
                per_field.push((Occur::Should, Box::new(PhrasePrefixQuery::new(terms))));
            }
            return Ok(Some(one_or_any(per_field)));
        }
        let Some(raw) = parts.into_iter().next() else {
            return Ok(None);
        };
        // The index holds stems: a word starting with `raw` is indexed either under a stem
        // that still starts with `raw`, or under a stem that cut into it ("negotiat*" →
        // `negoti`, the stem of "negotiations"), at most a few characters shorter.
        let keep = raw.chars().count().saturating_sub(STEM_CUT).max(1);
        let start: String = raw.chars().take(keep).collect();
        let fields = self.fields_of(target);
        let variants = self.expand_terms(
            &fields,
            |t| t.starts_with(&raw) || (raw.starts_with(t) && t.len() >= start.len().max(3)),
            &start,
        )?;
        Ok(self.variants_query(variants, target, positive))
    }

    /// `word~N`: the indexed terms within edit distance N of the word or its stem (sharing
    /// its first letter, which keeps the scan of the term dictionary short).
    fn fuzzy(
        &mut self,
        text: &str,
        distance: u8,
        target: Target,
        positive: bool,
    ) -> Result<Option<Box<dyn Query>>, IndexError> {
        if matches!(target, Target::Source | Target::Id) {
            return Ok(Some(self.exact(text, target)));
        }
        let terms = super::analyzer::terms(&mut self.analyzer, text);
        if terms.len() != 1 {
            return self.phrase(text, 0, target, positive);
        }
        // Compare both the word as written (folded) and its stem with the indexed stems:
        // "Zelensky~" reaches `zelenskyy` although its own stem is `zelenski`.
        let stem = &terms[0];
        let word = super::analyzer::terms(&mut self.unstemmed, text)
            .pop()
            .unwrap_or_else(|| stem.clone());
        let first: String = stem.chars().take(1).collect();
        let fields = self.fields_of(target);
        let d = usize::from(distance);
        let variants = self.expand_terms(
            &fields,
            |t| within_distance(stem, t, d) || within_distance(&word, t, d),
            &first,
        )?;
        Ok(self.variants_query(variants, target, positive))
    }

    fn variants_query(
        &mut self,
        variants: Vec<String>,
        target: Target,
        positive: bool,
    ) -> Option<Box<dyn Query>> {
        if variants.is_empty() {
            return Some(Box::new(EmptyQuery));
        }
        if positive && target != Target::Title {
            self.highlight.extend(variants.iter().cloned());
        }
        let clause = Clause {
            variants,
            weight: 1.0,
        };
        Some(Box::new(self.rank(vec![clause], field_set(target))))
    }

    /// Terms of `fields` from `start` on (while they share `start` as a prefix) that
    /// `accept`, the most frequent `MAX_EXPANSIONS` of them.
    fn expand_terms(
        &self,
        fields: &[Field],
        accept: impl Fn(&str) -> bool,
        start: &str,
    ) -> Result<Vec<String>, IndexError> {
        let mut found: HashMap<String, u64> = HashMap::new();
        for segment in self.snapshot.searcher.segment_readers() {
            for field in fields {
                let inverted = segment.inverted_index(*field)?;
                let mut stream = inverted
                    .terms()
                    .range()
                    .ge(start.as_bytes())
                    .into_stream()?;
                while stream.advance() {
                    let key = stream.key();
                    if !key.starts_with(start.as_bytes()) {
                        break;
                    }
                    let Ok(term) = std::str::from_utf8(key) else {
                        continue;
                    };
                    if accept(term) {
                        *found.entry(term.to_string()).or_default() +=
                            u64::from(stream.value().doc_freq);
                    }
                }
            }
        }
        let mut found: Vec<(String, u64)> = found.into_iter().collect();
        found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        found.truncate(MAX_EXPANSIONS);
        Ok(found.into_iter().map(|(t, _)| t).collect())
    }
}

fn field_set(target: Target) -> FieldSet {
    match target {
        Target::Title => FieldSet {
            title: true,
            text: false,
        },
        Target::Text => FieldSet {
            title: false,
            text: true,
        },
        _ => FieldSet::BOTH,
    }
}

fn one_or_any(mut clauses: Vec<(Occur, Box<dyn Query>)>) -> Box<dyn Query> {
    if clauses.len() == 1 {
        if let Some((_, q)) = clauses.pop() {
            return q;
        }
    }
    Box::new(BooleanQuery::new(clauses))
}

/// True when `a` and `b` are within Levenshtein distance `max` (characters).
fn within_distance(a: &str, b: &str, max: usize) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return false;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        let mut row_min = cur[0];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            row_min = row_min.min(cur[j + 1]);
        }
        if row_min > max {
            return false;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()] <= max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_bounds() {
        // Proves the fuzzy matcher accepts exactly the words within the distance.
        assert!(within_distance("zelenski", "zelenskyy", 2));
        assert!(!within_distance("zelenski", "zelenskyy", 0));
        assert!(within_distance("putin", "putin", 0));
        assert!(!within_distance("putin", "patina", 1));
    }

    #[test]
    fn undated_sort_last_both_ways() {
        // Proves undated documents come after dated ones in NEWEST and OLDEST order.
        for order in [SortOrder::Newest, SortOrder::Oldest] {
            assert!(date_key(order, Some(-5)) > date_key(order, None));
            assert!(date_key(order, Some(i64::MIN)) > date_key(order, None));
        }
        assert!(date_key(SortOrder::Newest, Some(2)) > date_key(SortOrder::Newest, Some(1)));
        assert!(date_key(SortOrder::Oldest, Some(1)) > date_key(SortOrder::Oldest, Some(2)));
    }
}

/// Recent search results by generation and request, bounded by an estimate of their bytes.
/// Old generations simply age out: a snapshot never changes, so an entry is never stale.
///
/// A request is admitted only when it comes a second time (a small "doorkeeper" table
/// remembers the hashes of recent requests): one-off queries, most of them in a stream of
/// distinct searches, would otherwise each evict an entry and free it later on a cold cache,
/// costing every search without ever being read back.
pub(crate) struct ResultCache {
    capacity: usize,
    hasher: std::hash::RandomState,
    inner: std::sync::Mutex<CacheInner>,
}

/// Slots of the doorkeeper table (direct-mapped by hash).
const DOORKEEPER_SLOTS: usize = 4096;

#[derive(Default)]
struct CacheInner {
    /// Entries by the hash of (generation, request); the request is kept to confirm a hit.
    map: HashMap<u64, CacheEntry>,
    /// Hashes in insertion order, oldest first (eviction order).
    order: std::collections::VecDeque<u64>,
    bytes: usize,
    /// Hashes of requests seen once, by `hash % DOORKEEPER_SLOTS`.
    doorkeeper: Vec<u64>,
}

struct CacheEntry {
    generation: u64,
    query: SearchQuery,
    results: Arc<SearchResults>,
    bytes: usize,
}

impl ResultCache {
    /// A cache holding about `capacity` bytes of results (0 disables it).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            hasher: std::hash::RandomState::new(),
            inner: std::sync::Mutex::new(CacheInner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn key(&self, generation: u64, query: &SearchQuery) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one((generation, query))
    }

    fn get(&self, generation: u64, query: &SearchQuery) -> Option<Arc<SearchResults>> {
        if self.capacity == 0 {
            return None;
        }
        let key = self.key(generation, query);
        let inner = self.lock();
        let entry = inner.map.get(&key)?;
        (entry.generation == generation && entry.query == *query)
            .then(|| Arc::clone(&entry.results))
    }

    fn insert(&self, generation: u64, query: &SearchQuery, results: Arc<SearchResults>) {
        let bytes = estimated_bytes(&results) + query.text.len() + 256;
        if self.capacity == 0 || bytes > self.capacity / 8 {
            return;
        }
        let key = self.key(generation, query);
        let mut evicted = Vec::new();
        {
            let mut inner = self.lock();
            if inner.doorkeeper.is_empty() {
                inner.doorkeeper = vec![0; DOORKEEPER_SLOTS];
            }
            let slot = (key % DOORKEEPER_SLOTS as u64) as usize;
            if inner.doorkeeper[slot] != key {
                inner.doorkeeper[slot] = key;
                return;
            }
            if inner.map.contains_key(&key) {
                return;
            }
            inner.bytes += bytes;
            inner.order.push_back(key);
            inner.map.insert(
                key,
                CacheEntry {
                    generation,
                    query: query.clone(),
                    results,
                    bytes,
                },
            );
            while inner.bytes > self.capacity {
                let Some(old) = inner.order.pop_front() else {
                    break;
                };
                if let Some(entry) = inner.map.remove(&old) {
                    inner.bytes -= entry.bytes;
                    evicted.push(entry);
                }
            }
        }
        // Freed after the lock is released: other searches need not wait for it.
        drop(evicted);
    }

    /// Forgets everything (ranking parameters changed).
    pub fn clear(&self) {
        let old = std::mem::take(&mut *self.lock());
        drop(old);
    }
}

/// Roughly the heap bytes of a result page.
fn estimated_bytes(results: &SearchResults) -> usize {
    let hits: usize = results
        .hits
        .iter()
        .map(|h| {
            h.id.len()
                + h.title.len()
                + h.source.len()
                + h.text.len()
                + h.snippets
                    .iter()
                    .map(|s| s.text.len() + s.markup.len() + 16 * s.highlights.len() + 64)
                    .sum::<usize>()
                + 128
        })
        .sum();
    let ids: usize = results
        .matching_ids
        .iter()
        .flatten()
        .map(|id| id.len() + 24)
        .sum();
    let facets: usize = results
        .facets
        .iter()
        .flat_map(|f| &f.values)
        .map(|(v, _)| v.len() + 32)
        .sum();
    hits + ids + facets
}

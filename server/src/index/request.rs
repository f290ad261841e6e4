//! The request and result types of a search: what the rpc layer builds from a message
//! and turns back into one.

use std::hash::{Hash, Hasher};

use super::highlight::{HighlightOptions, Snippet};

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
    /// Count every match exactly. Off (the default), [`SearchResults::total_hits`] is exact
    /// up to [`EXACT_TOTAL_HITS_UP_TO`] matches and may be a lower bound beyond (see
    /// [`TotalHitsRelation`]): a page of relevance-ranked hits then need not score every
    /// document that cannot reach it.
    pub exact_total_hits: bool,
}

/// Up to this many matches `total_hits` is always exact (Elasticsearch's
/// `track_total_hits` does the same with 10,000 by default). A thousand is more than any
/// page a person pages to (a hundred pages of ten) and tells "a few" from "very many", while
/// past it a relevance-ranked page of 2–3 common words skips scoring most of the documents
/// that match only their commonest word.
pub const EXACT_TOTAL_HITS_UP_TO: u64 = 1000;

/// How [`SearchResults::total_hits`] relates to the true number of matches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum TotalHitsRelation {
    /// The exact number of matches.
    #[default]
    Equal,
    /// At least this many documents match: counting stopped past
    /// [`EXACT_TOTAL_HITS_UP_TO`] because the rest could not change the page.
    GreaterOrEqual,
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
            exact_total_hits: false,
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
    /// Number of matching documents: exact, or a lower bound (see `total_hits_relation`).
    pub total_hits: u64,
    /// Whether `total_hits` is exact.
    pub total_hits_relation: TotalHitsRelation,
    /// The requested page, in order.
    pub hits: Vec<Hit>,
    /// The facets asked for.
    pub facets: Vec<FacetCounts>,
    /// Ids of every matching document, when asked for (in no particular order).
    pub matching_ids: Option<Vec<String>>,
}

//! The full-text index: tantivy underneath, Dossier's ranking, query syntaxes, filters,
//! facets and highlights on top. No tonic, no prost: the store feeds it [`IndexDoc`]s and the
//! rpc layer turns [`SearchResults`] into messages.
//!
//! Writers and readers never wait for each other. Writes ([`SearchIndex::upsert`],
//! [`SearchIndex::delete`]) become visible at [`SearchIndex::commit`], which publishes a new
//! [`Snapshot`] with a generation number. A search runs on one snapshot; the recent ones stay
//! alive (by default the last 32 generations, at most 10 minutes old) and can be looked up by
//! generation, so a page token bound to a generation keeps paging the same ranking while
//! documents are ingested.
//!
//! # Examples
//!
//! ```
//! use dossier_server::index::{IndexDoc, SearchIndex, SearchQuery, Syntax};
//!
//! let index = SearchIndex::new_in_ram()?;
//! index.upsert(&[IndexDoc {
//!     id: "a".into(),
//!     title: "Talks in Moscow".into(),
//!     text: "Steve Witkoff’s talks with Vladimir Putin lasted five hours.".into(),
//!     source: "wire".into(),
//!     published_at: Some(1_739_836_800),
//!     sentences: Vec::new(),
//! }])?;
//! let snapshot = index.commit()?;
//! let results = snapshot.search(&SearchQuery::new("Witkoff Putin", Syntax::QueryLanguage))?;
//! assert_eq!(results.total_hits, 1);
//! let snippet = &results.hits[0].snippets[0];
//! let text = "Steve Witkoff’s talks with Vladimir Putin lasted five hours.";
//! let words: Vec<&str> = snippet.highlights.iter().map(|h| &text[h.clone()]).collect();
//! assert_eq!(words, ["Witkoff", "Putin"]);
//! # Ok::<(), dossier_server::index::IndexError>(())
//! ```

pub mod analyzer;
mod cache;
mod collect;
mod compile;
mod exclude;
mod feedback;
mod highlight;
mod query;
mod rank;
mod request;
mod schema;
mod snapshot;
mod stored;
mod stream;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use tantivy::indexer::{LogMergePolicy, NoMergePolicy};
use tantivy::{Index, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, Term};

pub use highlight::{HighlightOptions, Snippet};
pub use rank::RankParams;
pub use request::{
    FacetCounts, FacetField, Filter, Hit, SearchQuery, SearchResults, SortOrder, Syntax,
    TotalHitsRelation, EXACT_TOTAL_HITS_UP_TO,
};
pub use schema::month_of;
pub use snapshot::{Snapshot, SMALL_QUERY_WORDS};
pub use stream::HitStream;

use schema::Fields;

/// What can go wrong in the index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The caller's query is malformed; `position` is the byte offset of the problem in the
    /// query text.
    #[error("invalid query at byte {position}: {message}")]
    InvalidQuery {
        /// What is wrong, for a human.
        message: String,
        /// Byte offset into the query text.
        position: usize,
    },
    /// A document cannot be indexed (for example, its id is empty).
    #[error("invalid document: {0}")]
    InvalidDocument(String),
    /// No document has this id.
    #[error("document {0:?} not found")]
    DocumentNotFound(String),
    /// tantivy failed (I/O, corrupt index, a bug).
    #[error(transparent)]
    Tantivy(#[from] tantivy::TantivyError),
}

impl From<std::io::Error> for IndexError {
    fn from(err: std::io::Error) -> Self {
        Self::Tantivy(err.into())
    }
}

/// A document as the index sees it: what [`SearchIndex::upsert`] takes and
/// [`Snapshot::get`] gives back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexDoc {
    /// Unique id; indexing the same id again replaces the document.
    pub id: String,
    /// The title (ranked with its own weight).
    pub title: String,
    /// The body text; highlight offsets are byte offsets into it.
    pub text: String,
    /// Publisher or feed, matched exactly by filters and counted by the "source" facet.
    pub source: String,
    /// Publication time in seconds since the Unix epoch, when known.
    pub published_at: Option<i64>,
    /// Sentence byte ranges of `text`, ascending, if the caller has them (the store does);
    /// empty means "split them at indexing" with `analysis::sentences`.
    pub sentences: Vec<std::ops::Range<usize>>,
}

/// A document's title, text and sentences, from outside the index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocText {
    /// The title.
    pub title: String,
    /// The body text.
    pub text: String,
    /// Sentence byte ranges of `text`.
    pub sentences: Vec<std::ops::Range<usize>>,
}

/// Where an index that does not store its documents' texts ([`IndexOptions::store_text`]
/// off) reads them for hits, highlights and more-like-this: the store, which keeps every
/// text anyway, so the index need not hold a second, compressed copy. Each commit binds
/// the texts of its generation ([`SearchIndex::commit_with`]).
pub trait DocTexts: Send + Sync {
    /// The title, text and sentences of the document with this id.
    fn doc_text(&self, id: &str) -> Option<DocText>;
}

/// Decompressed doc-store blocks each segment's reader keeps (tantivy's default is 100).
/// Every hit of a page reads its id, source and date from the doc store; with the texts
/// kept in the store a block holds ~100 documents' few fields, so 1,024 blocks (4 MiB at
/// most per segment) hold all of a 22,000-document corpus decompressed and a hit costs a
/// cache lookup instead of decompressing 4 KiB.
const DOC_STORE_CACHE_BLOCKS: usize = 1024;

/// Tuning of the writer and of snapshot retention.
#[derive(Debug, Clone)]
pub struct IndexOptions {
    /// Indexing threads (each needs at least 15 MB of `writer_memory`).
    pub writer_threads: usize,
    /// Memory the writer may buffer before it flushes a segment, in bytes, for all threads.
    pub writer_memory: usize,
    /// How many recent generations stay searchable for page tokens.
    pub keep_generations: usize,
    /// How long a superseded snapshot stays searchable.
    pub keep_for: Duration,
    /// Size of the stored-document blocks, in bytes. Fetching a hit decompresses its whole
    /// block, so blocks of a few documents keep hit loading cheap (tantivy's default is 16 KiB).
    pub docstore_blocksize: usize,
    /// Bytes of recent result pages kept for identical requests (0 turns the cache off).
    pub result_cache_bytes: usize,
    /// Ranking parameters.
    pub rank: RankParams,
    /// Whether the index stores titles, texts and sentences itself. Off (the default, as the
    /// server runs it: the store keeps every text anyway), every commit must come with the
    /// texts ([`SearchIndex::commit_with`]); on for an index with no store beside it
    /// ([`SearchIndex::new_in_ram`], `dossier-eval bench-search --index-texts`).
    pub store_text: bool,
}

impl Default for IndexOptions {
    fn default() -> Self {
        Self {
            writer_threads: 1,
            writer_memory: 40_000_000,
            keep_generations: 32,
            keep_for: Duration::from_secs(600),
            docstore_blocksize: 4096,
            result_cache_bytes: 16 << 20,
            rank: RankParams::default(),
            store_text: false,
        }
    }
}

/// Counters for observing the index's work (tests and metrics).
#[derive(Debug, Default)]
pub struct IndexMetrics {
    /// Searches run (pages, streams and more-like-this).
    pub searches: AtomicU64,
    /// Hits produced by [`HitStream`]s: a stream's consumer going away stops this growing.
    pub streamed_hits: AtomicU64,
    /// [`HitStream`]s dropped (finished or abandoned).
    pub streams_closed: AtomicU64,
    /// Searches answered from the result cache.
    pub cache_hits: AtomicU64,
}

/// What every snapshot shares with the index.
pub(crate) struct Shared {
    fields: Fields,
    rank: ArcSwap<RankParams>,
    metrics: IndexMetrics,
    analyzer: tantivy::tokenizer::TextAnalyzer,
    cache: cache::ResultCache,
}

/// The search index: a cheap `Clone` handle shared by the store and the rpc layer.
#[derive(Clone)]
pub struct SearchIndex {
    inner: Arc<Inner>,
}

struct Inner {
    index: Index,
    reader: IndexReader,
    writer: Mutex<WriterState>,
    current: ArcSwap<Snapshot>,
    recent: Mutex<VecDeque<Arc<Snapshot>>>,
    shared: Arc<Shared>,
    options: IndexOptions,
}

struct WriterState {
    writer: IndexWriter,
    generation: u64,
}

impl SearchIndex {
    /// An empty index that stores its documents' texts itself (default options otherwise):
    /// for evaluation and benchmarks (`dossier-eval ir`), which have no store beside it.
    pub fn new_in_ram() -> Result<Self, IndexError> {
        Self::with_options(IndexOptions {
            store_text: true,
            ..IndexOptions::default()
        })
    }

    /// An empty index with explicit options. The index lives in memory: the store rebuilds
    /// it from its journal on start.
    pub fn with_options(options: IndexOptions) -> Result<Self, IndexError> {
        let (schema, fields) = Fields::schema(options.store_text);
        let settings = IndexSettings {
            docstore_blocksize: options.docstore_blocksize,
            ..IndexSettings::default()
        };
        let index = Index::builder()
            .schema(schema)
            .settings(settings)
            .create_in_ram()?;
        index
            .tokenizers()
            .register(analyzer::ANALYZER_NAME, analyzer::english());
        let writer =
            index.writer_with_num_threads(options.writer_threads, options.writer_memory)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .doc_store_cache_num_blocks(DOC_STORE_CACHE_BLOCKS)
            .try_into()?;
        let shared = Arc::new(Shared {
            fields,
            rank: ArcSwap::from_pointee(options.rank.clone()),
            metrics: IndexMetrics::default(),
            analyzer: analyzer::english(),
            cache: cache::ResultCache::new(options.result_cache_bytes),
        });
        let first = Arc::new(Snapshot::new(
            0,
            reader.searcher(),
            Arc::clone(&shared),
            None,
        ));
        Ok(Self {
            inner: Arc::new(Inner {
                index,
                reader,
                writer: Mutex::new(WriterState {
                    writer,
                    generation: 0,
                }),
                current: ArcSwap::new(Arc::clone(&first)),
                recent: Mutex::new(VecDeque::from([first])),
                shared,
                options,
            }),
        })
    }

    /// Adds documents, replacing any with the same id. Visible after [`Self::commit`].
    pub fn upsert(&self, docs: &[IndexDoc]) -> Result<(), IndexError> {
        if let Some(bad) = docs.iter().find(|d| d.id.is_empty()) {
            return Err(IndexError::InvalidDocument(format!(
                "empty id (title {:?})",
                bad.title
            )));
        }
        let fields = &self.inner.shared.fields;
        let state = self.writer();
        for doc in docs {
            state
                .writer
                .delete_term(Term::from_field_text(fields.id, &doc.id));
            state.writer.add_document(fields.document(doc))?;
        }
        Ok(())
    }

    /// Removes the document with this id (if any). Visible after [`Self::commit`].
    pub fn delete(&self, id: &str) {
        let term = Term::from_field_text(self.inner.shared.fields.id, id);
        self.writer().writer.delete_term(term);
    }

    /// Makes every write so far visible and returns the new current snapshot.
    pub fn commit(&self) -> Result<Arc<Snapshot>, IndexError> {
        self.commit_with(None)
    }

    /// [`Self::commit`], the new snapshot reading titles and texts from `texts` (for an
    /// index that does not store them).
    pub fn commit_with(
        &self,
        texts: Option<Arc<dyn DocTexts>>,
    ) -> Result<Arc<Snapshot>, IndexError> {
        let mut state = self.writer();
        state.writer.commit()?;
        let snapshot = self.next_generation(&mut state, texts)?;
        let mut recent = lock(&self.inner.recent);
        recent.push_back(Arc::clone(&snapshot));
        let options = &self.inner.options;
        while recent.len() > options.keep_generations.max(1)
            || recent.front().is_some_and(|s| {
                s.generation() != snapshot.generation() && s.age() > options.keep_for
            })
        {
            recent.pop_front();
        }
        Ok(snapshot)
    }

    /// Starts no background merges until [`SearchIndex::merge_segments`]: for a bulk load,
    /// whose segments are merged into one at its end anyway.
    pub fn suspend_merges(&self) {
        self.writer()
            .writer
            .set_merge_policy(Box::new(NoMergePolicy));
    }

    /// Merges every segment into one and publishes the result as a new generation with the
    /// current texts, dropping the earlier generations (their page tokens expire); returns the
    /// number of segments merged (0 when there was at most one).
    /// Loading a corpus in one go leaves a segment per flushed writer buffer, and each query
    /// pays per segment (term lookups, scorers): the loader calls this once it is done.
    pub fn merge_segments(&self) -> Result<usize, IndexError> {
        let mut state = self.writer();
        // Background merges the last commit started would take segments away from under
        // this one: start no more, and retry while those finish.
        state.writer.set_merge_policy(Box::new(NoMergePolicy));
        let mut attempts = 0;
        let merged = loop {
            let ids = self.inner.index.searchable_segment_ids()?;
            if ids.len() <= 1 {
                break Ok(0);
            }
            match state.writer.merge(&ids).wait() {
                Ok(_) => break Ok(ids.len()),
                Err(_) if attempts < 100 => {
                    attempts += 1;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => break Err(e),
            }
        };
        state
            .writer
            .set_merge_policy(Box::new(LogMergePolicy::default()));
        let merged = merged?;
        if merged == 0 {
            return Ok(0);
        }
        let snapshot = self.next_generation(&mut state, self.snapshot().texts())?;
        // Earlier generations would keep the merged segments' memory alive for their page
        // tokens' sake; the loader merges before serving, when no token exists yet.
        let mut recent = lock(&self.inner.recent);
        recent.clear();
        recent.push_back(snapshot);
        Ok(merged)
    }

    /// Reloads the reader and makes its view the current snapshot, one generation on (the
    /// caller holds the writer and keeps the list of recent snapshots).
    fn next_generation(
        &self,
        state: &mut WriterState,
        texts: Option<Arc<dyn DocTexts>>,
    ) -> Result<Arc<Snapshot>, IndexError> {
        self.inner.reader.reload()?;
        state.generation += 1;
        let snapshot = Arc::new(Snapshot::new(
            state.generation,
            self.inner.reader.searcher(),
            Arc::clone(&self.inner.shared),
            texts,
        ));
        self.inner.current.store(Arc::clone(&snapshot));
        Ok(snapshot)
    }

    /// The latest committed snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.inner.current.load_full()
    }

    /// The snapshot of a given generation, while it is kept (see the module docs).
    pub fn snapshot_at(&self, generation: u64) -> Option<Arc<Snapshot>> {
        let current = self.snapshot();
        if current.generation() == generation {
            return Some(current);
        }
        lock(&self.inner.recent)
            .iter()
            .find(|s| s.generation() == generation)
            .cloned()
    }

    /// Replaces the ranking parameters for every later search (tuning and evaluation).
    pub fn set_rank_params(&self, params: RankParams) {
        self.inner.shared.rank.store(Arc::new(params));
        self.inner.shared.cache.clear();
    }

    /// The current ranking parameters.
    pub fn rank_params(&self) -> RankParams {
        RankParams::clone(&self.inner.shared.rank.load())
    }

    /// Work counters.
    pub fn metrics(&self) -> &IndexMetrics {
        &self.inner.shared.metrics
    }

    /// Bytes the index files take (in memory or on disk) at the current snapshot.
    pub fn index_bytes(&self) -> u64 {
        self.snapshot().index_bytes()
    }

    /// Bytes of the current index files by part ("store", "postings", "positions",
    /// "termdict", "fast fields", "fieldnorms", "deletes"), summed over segments: where the
    /// index's memory goes (`dossier-eval bench-analysis --memory`).
    pub fn space_by_part(&self) -> Vec<(&'static str, u64)> {
        let Ok(usage) = self.inner.reader.searcher().space_usage() else {
            return Vec::new();
        };
        let mut parts = [
            ("store", 0u64),
            ("postings", 0),
            ("positions", 0),
            ("termdict", 0),
            ("fast fields", 0),
            ("fieldnorms", 0),
            ("deletes", 0),
        ];
        for s in usage.segments() {
            let sizes = [
                s.store().total(),
                s.postings().total(),
                s.positions().total(),
                s.termdict().total(),
                s.fast_fields().total(),
                s.fieldnorms().total(),
                s.deletes(),
            ];
            for (part, size) in parts.iter_mut().zip(sizes) {
                part.1 += size.get_bytes();
            }
        }
        parts.to_vec()
    }

    fn writer(&self) -> MutexGuard<'_, WriterState> {
        lock(&self.inner.writer)
    }
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("generation", &self.snapshot().generation())
            .field("directory", &self.inner.index.directory())
            .finish()
    }
}

/// Locks a mutex, carrying on after a panic elsewhere (the guarded state stays consistent:
/// a panicking writer call leaves tantivy's writer usable or reports errors itself).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Adds one to a counter.
fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// The age of something created at `t`.
fn age(t: Instant) -> Duration {
    t.elapsed()
}

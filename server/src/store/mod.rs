//! The corpus in memory: an immutable [`Snapshot`] of analysed documents behind an
//! `ArcSwap`, replaced whole on every write, so readers never wait for writers and a reader
//! keeps a consistent view for as long as it holds its snapshot.
//!
//! A snapshot is the one generation clock: it publishes the documents, the search index's
//! snapshot of the same documents, and (built on first use) the entity registry and the
//! claim set, under one generation number. A page token bound to a generation
//! ([`Store::snapshot_at`]) resumes on all four as they were. [`query`] is what callers ask
//! of a snapshot.
//!
//! Writers serialise on one mutex: they analyse outside it, then make the write durable in
//! the store's [`log`] (the `--data-dir` journal, or PostgreSQL with `--store`), build the
//! next snapshot and swap it in. A snapshot's document map is shared structure (`Arc` per
//! document), so a write costs a map clone of pointers, not of texts; a group of documents
//! (ingest's group commit) costs one log write, one index commit and one swap.
//!
//! With PostgreSQL every replica also *follows* the change log ([`postgres`]): changes other
//! replicas committed arrive through [`Store::apply_followed`], which skips what this replica
//! already holds (its own writes, applied at once: read-your-writes).

pub mod claims;
pub mod journal;
pub mod log;
pub mod packed;
pub mod postgres;
pub mod query;

pub use query::QueryError;

use crate::analysis::claims::Claim;
use crate::analysis::{self, Analysis, EntityMention};
use crate::corpus::{CorpusError, Document};
use crate::entities::{DocInput, Registry};
use crate::index::{self, DocText, DocTexts, IndexDoc, IndexError, IndexOptions, SearchIndex};
use arc_swap::ArcSwap;
use claims::ClaimSet;
use journal::Journal;
use log::{Change, DurableLog, LogError};
use packed::PackedAnalysis;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::watch;

/// A document with its analysis.
#[derive(Debug)]
pub struct StoredDoc {
    /// The document as stored.
    pub doc: Document,
    /// Sentences, entity mentions, claims… of `doc.text`, packed (see [`packed`]).
    analysis: PackedAnalysis,
}

// Debug without the fields: they hold handles, caches or tokenizer state that say nothing useful.
impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl StoredDoc {
    /// Analyses `doc` (CPU-bound: call off the async runtime).
    pub fn analyze(mut doc: Document) -> Self {
        let analysis = analysis::analyze(&doc.text, doc.published_at.map(|t| t.date_naive()));
        doc.text.shrink_to_fit();
        doc.title.shrink_to_fit();
        let analysis = PackedAnalysis::pack(&doc.text, &analysis);
        Self { doc, analysis }
    }

    /// The packed analysis (counts without decoding; parts decoded on demand).
    pub fn packed(&self) -> &PackedAnalysis {
        &self.analysis
    }

    /// The whole analysis, decoded.
    pub fn analysis(&self) -> Analysis {
        self.analysis.unpack(&self.doc.text)
    }

    /// Sentence byte ranges.
    pub fn sentences(&self) -> Vec<Range<usize>> {
        self.analysis.sentences()
    }

    /// Entity mentions, in text order.
    pub fn mentions(&self) -> Vec<EntityMention> {
        self.analysis.mentions()
    }

    /// Claims, in text order.
    pub fn claims(&self) -> Vec<Claim> {
        self.analysis.claims(&self.doc.text)
    }

    /// Claim `index` of this document.
    pub fn claim(&self, index: usize) -> Option<Claim> {
        self.analysis.claim(&self.doc.text, index)
    }
}

/// Corpus-wide counts, kept up to date with each snapshot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CorpusCounts {
    /// Documents.
    pub documents: u64,
    /// Word tokens.
    pub words: u64,
    /// Sentences.
    pub sentences: u64,
    /// Entity mentions.
    pub entity_mentions: u64,
    /// Claims.
    pub claims: u64,
    /// Bytes of text.
    pub text_bytes: u64,
}

/// Documents by id.
pub type DocMap = BTreeMap<String, Arc<StoredDoc>>;

/// The documents of one generation as the search index's text source: the index keeps no
/// copy of titles and texts (see [`crate::index::DocTexts`]).
struct Texts(Arc<DocMap>);

impl DocTexts for Texts {
    fn doc_text(&self, id: &str) -> Option<DocText> {
        let d = self.0.get(id)?;
        Some(DocText {
            title: d.doc.title.clone(),
            text: d.doc.text.clone(),
            sentences: d.sentences(),
        })
    }
}

/// One consistent state of the corpus.
#[derive(Debug)]
pub struct Snapshot {
    /// Increases by one with every write: the generation of everything below.
    pub generation: u64,
    /// Documents by id, in id order (shared with the search index's snapshot of the same
    /// generation, which reads titles and texts from it).
    pub docs: Arc<DocMap>,
    /// The search index as it was when `docs` were published.
    pub index: Arc<index::Snapshot>,
    /// Counts over `docs`.
    pub counts: CorpusCounts,
    /// The entity registry, resolved on first use: a burst of writes pays for one
    /// resolution, by the first reader that needs it.
    entities: OnceLock<Arc<Registry>>,
    /// Claims tied to entities, and disputes, resolved on first use.
    claims: OnceLock<Arc<ClaimSet>>,
}

impl Snapshot {
    /// The corpus's claims with resolved speakers and subjects, and its disputes (built on
    /// first call for this snapshot).
    pub fn claims(&self) -> &Arc<ClaimSet> {
        self.claims.get_or_init(|| {
            let registry = self.entities();
            let docs: Vec<Arc<StoredDoc>> = registry
                .doc_ids
                .iter()
                .filter_map(|id| self.docs.get(id.as_ref()).cloned())
                .collect();
            Arc::new(ClaimSet::build(registry, &docs))
        })
    }

    /// The corpus's resolved entities (built on first call for this snapshot).
    pub fn entities(&self) -> &Arc<Registry> {
        self.entities.get_or_init(|| {
            let started = std::time::Instant::now();
            let docs: Vec<&StoredDoc> = self.docs.values().map(|d| &**d).collect();
            let registry = Registry::build_from(docs.len(), |i| {
                let d = docs[i];
                DocInput {
                    id: &d.doc.id,
                    text: &d.doc.text,
                    sentences: Cow::Owned(d.sentences()),
                    mentions: Cow::Owned(d.mentions()),
                }
            });
            tracing::debug!(
                entities = registry.entities.len(),
                generation = self.generation,
                millis = started.elapsed().as_millis() as u64,
                "entity registry built"
            );
            Arc::new(registry)
        })
    }

    /// The document with this id.
    pub fn get(&self, id: &str) -> Result<&Arc<StoredDoc>, StoreError> {
        self.docs.get(id).ok_or_else(|| StoreError::NotFound {
            kind: "document",
            id: id.to_string(),
        })
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such item.
    #[error("{kind} {id:?} not found")]
    NotFound {
        /// What was looked for ("document").
        kind: &'static str,
        /// Its id.
        id: String,
    },
    /// The document breaks a rule.
    #[error(transparent)]
    Invalid(#[from] CorpusError),
    /// Writing the journal failed; the write was not applied.
    #[error("persisting to the data directory failed: {0}")]
    Persist(#[from] std::io::Error),
    /// The system of record cannot be reached; the write was not applied (nor committed).
    #[error("{message}")]
    Unavailable {
        /// What failed.
        message: String,
        /// How long the caller should wait before retrying.
        retry_after: Duration,
    },
    /// The search index rejected or failed the write.
    #[error(transparent)]
    Index(#[from] IndexError),
}

impl From<LogError> for StoreError {
    fn from(err: LogError) -> Self {
        match err {
            LogError::Io(e) => StoreError::Persist(e),
            LogError::Unavailable {
                message,
                retry_after,
            } => StoreError::Unavailable {
                message: format!("the system of record is unavailable: {message}"),
                retry_after,
            },
        }
    }
}

/// How this replica stands against the system of record it follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FollowState {
    /// No system of record: the corpus is local (in memory, or `--data-dir`).
    #[default]
    Local,
    /// Connected and caught up (within the lag bound).
    Serving,
    /// Connected, but behind the log by more than the lag bound.
    Lagging,
    /// The system of record cannot be reached: serving the last snapshot, writes refused.
    Disconnected,
}

/// The follower's state, its position in the change log and its lag.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FollowStatus {
    /// Serving, lagging or disconnected.
    pub state: FollowState,
    /// The highest change sequence number applied.
    pub applied_seq: u64,
    /// How long the oldest change known and not yet applied has waited (zero when caught up).
    pub lag: Duration,
}

/// One change read from the system of record, analysed, for [`Store::apply_followed`].
#[derive(Debug)]
pub struct Followed {
    /// Its change sequence number.
    pub seq: u64,
    /// The document's id.
    pub id: String,
    /// The document, or `None` for a deletion (a tombstone).
    pub doc: Option<StoredDoc>,
}

/// A cheap, clonable handle to the corpus.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    snapshot: ArcSwap<Snapshot>,
    /// Earlier snapshots whose index snapshot the index still keeps (for page tokens).
    recent: Mutex<VecDeque<Arc<Snapshot>>>,
    /// The full-text index, kept in step with `snapshot` by every write.
    index: SearchIndex,
    writer: Mutex<Writer>,
    ready: watch::Sender<bool>,
    follow: watch::Sender<FollowStatus>,
}

/// What writers hold the lock of.
#[derive(Default)]
struct Writer {
    /// Where writes are made durable first; none: in memory only.
    log: Option<Box<dyn DurableLog>>,
    /// With a numbered log: the change sequence number of each id's version held here, so
    /// a follower skips changes this replica already applied (its own writes, or older ones).
    versions: HashMap<String, u64>,
    /// The highest change sequence number applied (own writes and followed ones).
    applied: u64,
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

impl Store {
    /// An empty in-memory store, not yet ready.
    pub fn new() -> Self {
        let index = SearchIndex::with_options(IndexOptions {
            // tantivy's smallest budget: what the writer keeps between commits
            // grows with it (40 MB kept 26 MB resident after loading, 15 MB 11).
            writer_memory: STORE_WRITER_MEMORY,
            ..IndexOptions::default()
        })
        .expect("an empty in-memory index can always be created");
        let empty = Snapshot {
            generation: 0,
            docs: Arc::default(),
            index: index.snapshot(),
            counts: CorpusCounts::default(),
            entities: OnceLock::new(),
            claims: OnceLock::new(),
        };
        Self {
            inner: Arc::new(Inner {
                snapshot: ArcSwap::from_pointee(empty),
                recent: Mutex::new(VecDeque::new()),
                index,
                writer: Mutex::new(Writer::default()),
                ready: watch::Sender::new(false),
                follow: watch::Sender::new(FollowStatus::default()),
            }),
        }
    }

    /// Opens (or creates) the journal in `dir` and replays it over the current contents.
    /// Replayed documents are analysed again (the journal keeps documents, not analyses).
    pub fn attach_data_dir(&self, dir: &Path) -> Result<usize, StoreError> {
        let (journal, entries) = Journal::open(dir)?;
        let mut writer = self.lock_writer();
        let mut docs = DocMap::clone(&self.snapshot().docs);
        let n = entries.len();
        let analysed: Vec<journal::Entry<StoredDoc>> = {
            use rayon::prelude::*;
            entries
                .into_par_iter()
                .map(|e| e.map_doc(StoredDoc::analyze))
                .collect()
        };
        let mut touched = Vec::new();
        for entry in analysed {
            match entry {
                journal::Entry::Put(doc) => {
                    touched.push(doc.doc.id.clone());
                    docs.insert(doc.doc.id.clone(), Arc::new(doc));
                }
                journal::Entry::Delete(id) => {
                    docs.remove(&id);
                    touched.push(id);
                }
            }
        }
        let docs = Arc::new(docs);
        self.index_write(&docs, touched)?;
        self.publish(docs);
        writer.log = Some(Box::new(journal));
        Ok(n)
    }

    /// Makes `log` the place every later write is made durable first (PostgreSQL: see
    /// [`postgres`]).
    pub fn attach_log(&self, log: Box<dyn DurableLog>) {
        self.lock_writer().log = Some(log);
    }

    /// Applies changes read from the system of record, in sequence order, skipping those
    /// this replica already holds (an id's change at or below the version applied here);
    /// one index commit and one snapshot swap for all. With `bulk` (the start-up load) the
    /// index is merged into one segment afterwards, as [`Store::load`] does. Returns the
    /// number of changes applied.
    pub fn apply_followed(&self, changes: Vec<Followed>, bulk: bool) -> Result<usize, StoreError> {
        let mut writer = self.lock_writer();
        let mut map: Option<DocMap> = None;
        let mut touched = Vec::new();
        for change in changes {
            writer.applied = writer.applied.max(change.seq);
            if writer
                .versions
                .get(&change.id)
                .is_some_and(|&v| v >= change.seq)
            {
                continue;
            }
            let map = map.get_or_insert_with(|| DocMap::clone(&self.snapshot().docs));
            writer.versions.insert(change.id.clone(), change.seq);
            match change.doc {
                Some(doc) => {
                    map.insert(change.id.clone(), Arc::new(doc));
                }
                None => {
                    if map.remove(&change.id).is_none() {
                        continue;
                    }
                }
            }
            touched.push(change.id);
        }
        let Some(map) = map else {
            return Ok(0);
        };
        let n = touched.len();
        if bulk {
            self.inner.index.suspend_merges();
        }
        let map = Arc::new(map);
        self.index_write(&map, touched)?;
        if bulk {
            if let Err(e) = self.inner.index.merge_segments() {
                tracing::warn!(error = %e, "merging the index segments failed");
            }
        }
        self.publish(map);
        Ok(n)
    }

    /// Whether this replica already holds `id` at change `seq` or later (a follower
    /// leaves such a change out before analysing it).
    pub fn holds(&self, id: &str, seq: u64) -> bool {
        self.lock_writer()
            .versions
            .get(id)
            .is_some_and(|&v| v >= seq)
    }

    /// The highest change sequence number this replica has applied.
    pub fn applied_seq(&self) -> u64 {
        self.lock_writer().applied
    }

    /// Publishes the follower's status (health and the lag gauge read it).
    pub fn set_follow_status(&self, status: FollowStatus) {
        self.inner.follow.send_if_modified(|s| {
            let changed = *s != status;
            *s = status;
            changed
        });
    }

    /// A receiver of the follower's status.
    pub fn follow_status(&self) -> watch::Receiver<FollowStatus> {
        self.inner.follow.subscribe()
    }

    /// The search index (its writer, counters and sizes; searches run on
    /// [`Snapshot::index`], the index snapshot of a store generation).
    pub fn index(&self) -> &SearchIndex {
        &self.inner.index
    }

    /// Brings the index in line with `docs` for the ids in `touched` (indexed when in
    /// `docs`, deleted otherwise), then commits with `docs` as the new generation's texts:
    /// called with the writer lock held, before the store snapshot is published, so a
    /// document is searchable once listed.
    fn index_write(&self, docs: &Arc<DocMap>, mut touched: Vec<String>) -> Result<(), StoreError> {
        let index = &self.inner.index;
        touched.sort_unstable();
        touched.dedup();
        // Deletions first: a delete removes what was added before it.
        for id in touched.iter().filter(|id| !docs.contains_key(*id)) {
            index.delete(id);
        }
        // In batches: the index takes its own copy of each document's text for indexing,
        // and copies of a whole corpus at once were a transient as large as the text.
        let mut present = touched.iter().filter_map(|id| docs.get(id));
        loop {
            let batch: Vec<IndexDoc> = present
                .by_ref()
                .take(INDEX_BATCH)
                .map(|d| index_doc(d))
                .collect();
            if batch.is_empty() {
                break;
            }
            index.upsert(&batch)?;
        }
        index.commit_with(Some(Arc::new(Texts(Arc::clone(docs)))))?;
        Ok(())
    }

    /// The current snapshot. Hold it for a consistent view across several reads.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.inner.snapshot.load_full()
    }

    /// The snapshot of a given generation while its index snapshot is kept (the index's
    /// policy: recent generations for a while, see [`crate::index`]); `None` once expired.
    pub fn snapshot_at(&self, generation: u64) -> Option<Arc<Snapshot>> {
        let current = self.snapshot();
        if current.generation == generation {
            return Some(current);
        }
        let recent = self.lock_recent();
        let found = recent.iter().find(|s| s.generation == generation)?;
        // Kept by the store, but expired by the index since the last write: expired.
        self.inner
            .index
            .snapshot_at(found.index.generation())
            .map(|_| Arc::clone(found))
    }

    fn lock_recent(&self) -> std::sync::MutexGuard<'_, VecDeque<Arc<Snapshot>>> {
        // Only whole snapshots go in and out: a poisoned lock holds a valid list.
        self.inner
            .recent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Marks the corpus as loaded (health turns SERVING).
    pub fn set_ready(&self) {
        self.inner.ready.send_replace(true);
    }

    /// A receiver that sees `true` once the corpus is loaded.
    pub fn ready(&self) -> watch::Receiver<bool> {
        self.inner.ready.subscribe()
    }

    fn lock_writer(&self) -> std::sync::MutexGuard<'_, Writer> {
        // A panic while holding the lock cannot leave a half-applied snapshot (snapshots are
        // swapped whole), so a poisoned lock is safe to reuse.
        self.inner
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds or replaces analysed documents; returns, per document, whether its id was new.
    /// With a log the documents are durable there (fsynced, or committed) before they are
    /// applied, all in one log write; if that fails none is applied.
    pub fn upsert(&self, docs: Vec<StoredDoc>) -> Result<Vec<bool>, StoreError> {
        let mut writer = self.lock_writer();
        let changes: Vec<Change<'_>> = docs.iter().map(|d| Change::Put(&d.doc)).collect();
        writer.log_changes(&changes)?;
        drop(changes);
        let mut map = DocMap::clone(&self.snapshot().docs);
        let mut touched = Vec::with_capacity(docs.len());
        let created = docs
            .into_iter()
            .map(|d| {
                touched.push(d.doc.id.clone());
                map.insert(d.doc.id.clone(), Arc::new(d)).is_none()
            })
            .collect();
        let map = Arc::new(map);
        self.index_write(&map, touched)?;
        self.publish(map);
        Ok(created)
    }

    /// Loads documents at start-up: analyses them in parallel and adds them (later duplicates
    /// of an id win). Not journaled: the corpus files are their own record. A large corpus
    /// is better fed in batches ([`Store::start_load`]).
    pub fn load(&self, docs: Vec<Document>) -> usize {
        let mut loading = self.start_load();
        loading.add(docs);
        loading.finish()
    }

    /// Starts a bulk load at start-up, fed in batches ([`Loading::add`]) and published at
    /// once by [`Loading::finish`]: each batch is analysed (in parallel) and handed to the
    /// index's writer before the next is read, so the whole corpus's raw documents and
    /// analysis transients never sit in memory together. Not journaled: the corpus files are
    /// their own record. Writers wait until the load is finished.
    pub fn start_load(&self) -> Loading<'_> {
        let writer = self.lock_writer();
        self.inner.index.suspend_merges();
        Loading {
            store: self,
            _writer: writer,
            docs: DocMap::clone(&self.snapshot().docs),
            failed: false,
        }
    }

    /// Removes a document.
    pub fn delete(&self, id: &str) -> Result<(), StoreError> {
        let mut writer = self.lock_writer();
        let mut map = DocMap::clone(&self.snapshot().docs);
        if map.remove(id).is_none() {
            return Err(StoreError::NotFound {
                kind: "document",
                id: id.to_string(),
            });
        }
        writer.log_changes(&[Change::Delete(id)])?;
        let map = Arc::new(map);
        self.index_write(&map, vec![id.to_string()])?;
        self.publish(map);
        Ok(())
    }

    /// Builds and swaps in the snapshot after `docs` (called with the writer lock held).
    fn publish(&self, docs: Arc<DocMap>) {
        let mut counts = CorpusCounts::default();
        for d in docs.values() {
            counts.documents += 1;
            let a = d.packed();
            counts.words += a.words() as u64;
            counts.sentences += a.sentence_count() as u64;
            counts.entity_mentions += a.mention_count() as u64;
            counts.claims += a.claim_count() as u64;
            counts.text_bytes += d.doc.text.len() as u64;
        }
        let previous = self.snapshot();
        let index = self.inner.index.snapshot();
        self.inner.snapshot.store(Arc::new(Snapshot {
            generation: previous.generation + 1,
            docs,
            index,
            counts,
            entities: OnceLock::new(),
            claims: OnceLock::new(),
        }));
        // Earlier snapshots stay reachable while the index keeps their index snapshot, and
        // no longer: they would keep its segments' memory alive.
        let index = &self.inner.index;
        let mut recent = self.lock_recent();
        recent.push_back(previous);
        recent.retain(|s| index.snapshot_at(s.index.generation()).is_some());
    }
}

impl Writer {
    /// Makes `changes` durable in the log (if any) and records the versions it numbered.
    fn log_changes(&mut self, changes: &[Change<'_>]) -> Result<(), StoreError> {
        let Some(log) = self.log.as_mut().filter(|_| !changes.is_empty()) else {
            return Ok(());
        };
        if let Some(seq) = log.append(changes)? {
            // The log numbered the group's changes at most `seq`, all in one transaction
            // under its commit-order lock: no other replica's change to these ids lies in
            // between, so `seq` stands for each of them.
            for change in changes {
                self.versions.insert(change.id().to_string(), seq);
            }
        }
        Ok(())
    }
}

/// A bulk load in progress ([`Store::start_load`]); holds the store's writer lock.
pub struct Loading<'a> {
    store: &'a Store,
    _writer: std::sync::MutexGuard<'a, Writer>,
    /// Every document so far (later duplicates of an id replace earlier ones).
    docs: DocMap,
    /// The index refused a batch: the rest is still stored (and listed), the error logged.
    failed: bool,
}

impl std::fmt::Debug for Loading<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loading")
            .field("docs", &self.docs.len())
            .finish_non_exhaustive()
    }
}

impl Loading<'_> {
    /// Analyses `docs` in parallel and hands them to the index writer (not yet committed:
    /// nothing is visible before [`Loading::finish`]).
    pub fn add(&mut self, docs: Vec<Document>) {
        use rayon::prelude::*;
        let analysed: Vec<StoredDoc> = docs.into_par_iter().map(StoredDoc::analyze).collect();
        let index = &self.store.inner.index;
        for chunk in analysed.chunks(INDEX_BATCH) {
            let batch: Vec<IndexDoc> = chunk.iter().map(index_doc).collect();
            if let Err(e) = index.upsert(&batch) {
                if !self.failed {
                    tracing::error!(error = %e, "indexing the loaded corpus failed");
                }
                self.failed = true;
            }
        }
        for d in analysed {
            self.docs.insert(d.doc.id.clone(), Arc::new(d));
        }
    }

    /// Commits the index, merges it into one segment and publishes every loaded document
    /// as one new generation; returns the number of documents the store holds.
    pub fn finish(self) -> usize {
        let Self {
            store,
            docs,
            failed,
            ..
        } = self;
        let docs = Arc::new(docs);
        let index = &store.inner.index;
        if let Err(e) = index.commit_with(Some(Arc::new(Texts(Arc::clone(&docs))))) {
            if !failed {
                tracing::error!(error = %e, "indexing the loaded corpus failed");
            }
        }
        // One segment: each query pays per segment.
        match index.merge_segments() {
            Ok(0) => {}
            Ok(n) => tracing::info!(segments = n, "index segments merged into one"),
            Err(e) => tracing::warn!(error = %e, "merging the index segments failed"),
        }
        let n = docs.len();
        store.publish(docs);
        n
    }
}

/// The store index's writer budget: tantivy's minimum for one thread.
const STORE_WRITER_MEMORY: usize = 15_000_000;

/// Documents handed to the index per call while writing (bounds the copies in flight).
const INDEX_BATCH: usize = 256;

/// The index's view of a document.
fn index_doc(stored: &StoredDoc) -> IndexDoc {
    let doc = &stored.doc;
    IndexDoc {
        id: doc.id.clone(),
        title: doc.title.clone(),
        text: doc.text.clone(),
        source: doc.source.clone(),
        published_at: doc.published_at.map(|t| t.timestamp()),
        // The store's index reads sentences from the store (it stores no texts).
        sentences: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: &str, text: &str) -> StoredDoc {
        StoredDoc::analyze(Document {
            id: id.into(),
            text: text.into(),
            ..Default::default()
        })
    }

    #[test]
    fn upsert_reports_created_then_replaced() {
        let store = Store::new();
        assert_eq!(
            store
                .upsert(vec![doc("a", "One."), doc("b", "Two.")])
                .unwrap(),
            [true, true]
        );
        assert_eq!(
            store
                .upsert(vec![doc("a", "One again. Two sentences.")])
                .unwrap(),
            [false]
        );
        let snap = store.snapshot();
        assert_eq!(snap.counts.documents, 2);
        assert_eq!(snap.counts.sentences, 3);
    }

    #[test]
    fn readers_keep_their_snapshot_across_writes() {
        let store = Store::new();
        store.upsert(vec![doc("a", "One.")]).unwrap();
        let before = store.snapshot();
        store.delete("a").unwrap();
        assert!(
            before.get("a").is_ok(),
            "an old snapshot still sees the document"
        );
        assert!(matches!(
            store.snapshot().get("a"),
            Err(StoreError::NotFound { .. })
        ));
        assert!(store.snapshot().generation > before.generation);
    }

    #[test]
    fn an_earlier_generation_is_one_consistent_snapshot() {
        // Proves a page token's generation reaches the documents and the index snapshot
        // (and so the registry and claims) of that generation, not the current ones.
        let store = Store::new();
        store
            .upsert(vec![doc("a", "Steve Witkoff met Vladimir Putin.")])
            .unwrap();
        let before = store.snapshot();
        store
            .upsert(vec![doc("b", "Vladimir Putin spoke.")])
            .unwrap();
        let again = store.snapshot_at(before.generation).unwrap();
        assert!(Arc::ptr_eq(&again, &before));
        assert_eq!(again.index.num_docs(), 1);
        assert!(again.get("b").is_err());
        assert_eq!(store.snapshot().index.num_docs(), 2);
        assert!(store.snapshot_at(before.generation + 100).is_none());
    }

    /// A log that numbers each group, like PostgreSQL, and can be made to fail.
    struct Numbered(u64, bool);

    impl DurableLog for Numbered {
        fn append(&mut self, changes: &[Change<'_>]) -> Result<Option<u64>, LogError> {
            if self.1 {
                return Err(LogError::Unavailable {
                    message: "down".into(),
                    retry_after: Duration::from_secs(1),
                });
            }
            self.0 += changes.len() as u64;
            Ok(Some(self.0))
        }
    }

    fn followed(seq: u64, id: &str, text: Option<&str>) -> Followed {
        Followed {
            seq,
            id: id.into(),
            doc: text.map(|t| doc(id, t)),
        }
    }

    #[test]
    fn a_follower_skips_its_own_and_older_versions_and_applies_tombstones() {
        let store = Store::new();
        store.attach_log(Box::new(Numbered(0, false)));
        store.upsert(vec![doc("a", "Mine.")]).unwrap();
        assert!(store.holds("a", 1) && !store.holds("a", 2));
        // Its own write coming back from the log, and another replica's newer one.
        let n = store
            .apply_followed(
                vec![
                    followed(1, "a", Some("Mine.")),
                    followed(2, "b", Some("Theirs.")),
                ],
                false,
            )
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(store.applied_seq(), 2);
        // An older version of b, then b's tombstone.
        assert_eq!(
            store
                .apply_followed(vec![followed(2, "b", Some("Old."))], false)
                .unwrap(),
            0
        );
        assert_eq!(
            store
                .apply_followed(vec![followed(3, "b", None)], false)
                .unwrap(),
            1
        );
        let snap = store.snapshot();
        assert!(snap.get("a").is_ok() && snap.get("b").is_err());
    }

    #[test]
    fn a_refused_log_write_applies_nothing_and_is_unavailable() {
        let store = Store::new();
        store.attach_log(Box::new(Numbered(0, true)));
        let err = store.upsert(vec![doc("a", "One.")]).unwrap_err();
        assert!(matches!(err, StoreError::Unavailable { .. }), "{err}");
        assert_eq!(store.snapshot().counts.documents, 0);
        assert_eq!(store.snapshot().generation, 0);
    }

    #[test]
    fn deleting_an_unknown_id_is_not_found() {
        assert!(matches!(
            Store::new().delete("x"),
            Err(StoreError::NotFound { .. })
        ));
    }
}

//! The result cache: recent pages by generation and request.

use std::collections::HashMap;
use std::sync::Arc;

use super::request::{SearchQuery, SearchResults};

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
    pub(super) fn new(capacity: usize) -> Self {
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

    pub(super) fn get(&self, generation: u64, query: &SearchQuery) -> Option<Arc<SearchResults>> {
        if self.capacity == 0 {
            return None;
        }
        let key = self.key(generation, query);
        let inner = self.lock();
        let entry = inner.map.get(&key)?;
        (entry.generation == generation && entry.query == *query)
            .then(|| Arc::clone(&entry.results))
    }

    pub(super) fn insert(&self, generation: u64, query: &SearchQuery, results: Arc<SearchResults>) {
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
    pub(super) fn clear(&self) {
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

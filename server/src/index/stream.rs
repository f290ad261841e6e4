//! Every hit of a search in rank order, each document loaded only when reached.

use std::collections::BinaryHeap;
use std::sync::Arc;

use super::collect::Match;
use super::highlight::{HighlightOptions, Matcher};
use super::request::Hit;
use super::{bump, IndexError, Snapshot};

/// Every hit of a search, in rank order, loaded lazily (see [`Snapshot::hits`]).
pub struct HitStream {
    pub(super) snapshot: Arc<Snapshot>,
    pub(super) total: u64,
    pub(super) heap: BinaryHeap<Match>,
    pub(super) rank: usize,
    pub(super) matcher: Matcher,
    pub(super) highlight: Option<HighlightOptions>,
}

// Debug without the fields: they hold handles, caches or tokenizer state that say nothing useful.
impl std::fmt::Debug for HitStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HitStream").finish_non_exhaustive()
    }
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

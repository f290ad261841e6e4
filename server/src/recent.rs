//! The analyses of the last few raw texts callers sent, so that AnalyzeEntities and
//! ExtractClaims on the same text (the usual pair: entities, then the claims of the same
//! article) analyse it once.
//!
//! Both RPCs need the whole pipeline (claims need the entity mentions for their speakers,
//! and the speakers' claims retype some mentions), and the analysis is most of what either
//! call costs: without this each of the pair analysed the text again. An entry is the text,
//! its [`Analysis`] and its one-document [`Registry`]; a lookup compares the whole text, so
//! a hit is exactly the analysis the caller would have got. The cache is small and bounded
//! by entries and by bytes (the oldest go first), so it keeps a client's last few texts and
//! nothing a corpus-sized stream of distinct texts could grow.

use crate::analysis::{self, Analysis};
use crate::entities::{DocInput, Registry};
use std::collections::VecDeque;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

/// One analysed raw text.
#[derive(Debug)]
pub struct Analysed {
    /// The text, as the caller sent it.
    pub text: String,
    /// Its analysis (no publication date: raw texts have none).
    pub analysis: Analysis,
    /// Its entities resolved within the text alone (document index 0).
    pub registry: Registry,
}

impl Analysed {
    /// Analyses `text` and resolves its entities; `None` once `stop` is set.
    pub fn new(text: String, stop: &AtomicBool) -> Option<Self> {
        let analysis = analysis::analyze_unless_stopped(&text, None, stop)?;
        let registry = Registry::build([DocInput::of("", &text, &analysis)]);
        Some(Self {
            text,
            analysis,
            registry,
        })
    }

    /// The registry's input for this text.
    pub fn doc_input(&self) -> DocInput<'_> {
        DocInput::of("", &self.text, &self.analysis)
    }
}

/// Default number of texts kept.
pub const DEFAULT_ENTRIES: usize = 16;
/// Texts longer than this are analysed without being kept (they would push out many small
/// ones, and are rarely sent twice in a row).
const MAX_TEXT_BYTES: usize = 256 * 1024;
/// Bytes of text kept at most over all entries (an analysis holds a few times its text).
const MAX_TOTAL_BYTES: usize = 2 * 1024 * 1024;

/// A cheap, clonable handle to the recent analyses.
///
/// # Examples
///
/// ```
/// use dossier_server::recent::Recent;
/// use std::sync::{atomic::AtomicBool, Arc};
/// let recent = Recent::new(4);
/// let stop = AtomicBool::new(false);
/// let first = recent.analyse("Witkoff met Putin.".to_string(), &stop).unwrap();
/// let again = recent.analyse("Witkoff met Putin.".to_string(), &stop).unwrap();
/// assert!(Arc::ptr_eq(&first, &again), "the second call reuses the first analysis");
/// ```
#[derive(Clone, Debug)]
pub struct Recent {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Most recently used last: (hash of the text, the entry).
    entries: Mutex<VecDeque<(u64, Arc<Analysed>)>>,
    capacity: usize,
    hasher: std::collections::hash_map::RandomState,
}

impl Default for Recent {
    fn default() -> Self {
        Self::new(DEFAULT_ENTRIES)
    }
}

impl Recent {
    /// Keeps up to `capacity` texts (0: keeps none, every call analyses).
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                entries: Mutex::new(VecDeque::new()),
                capacity,
                hasher: Default::default(),
            }),
        }
    }

    /// The analysis of `text`: a kept one, or a new one (then kept); `None` once `stop` is
    /// set during a new analysis.
    pub fn analyse(&self, text: String, stop: &AtomicBool) -> Option<Arc<Analysed>> {
        let inner = &*self.inner;
        if inner.capacity == 0 || text.len() > MAX_TEXT_BYTES {
            return Analysed::new(text, stop).map(Arc::new);
        }
        let hash = {
            let mut h = inner.hasher.build_hasher();
            h.write(text.as_bytes());
            h.finish()
        };
        if let Some(found) = self.take(hash, &text) {
            return Some(found);
        }
        let analysed = Arc::new(Analysed::new(text, stop)?);
        let mut entries = self.lock();
        entries.push_back((hash, Arc::clone(&analysed)));
        let mut total: usize = entries.iter().map(|(_, e)| e.text.len()).sum();
        while entries.len() > inner.capacity || total > MAX_TOTAL_BYTES {
            let Some((_, old)) = entries.pop_front() else {
                break;
            };
            total -= old.text.len();
        }
        Some(analysed)
    }

    /// The kept analysis of `text`, moved to the most recent place.
    fn take(&self, hash: u64, text: &str) -> Option<Arc<Analysed>> {
        let mut entries = self.lock();
        let at = entries
            .iter()
            .rposition(|(h, e)| *h == hash && e.text == text)?;
        let entry = entries.remove(at)?;
        let found = Arc::clone(&entry.1);
        entries.push_back(entry);
        Some(found)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(u64, Arc<Analysed>)>> {
        // Entries go in and out whole: a poisoned lock holds a valid list.
        self.inner
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_text_goes_first_and_a_hit_is_the_same_text() {
        let recent = Recent::new(2);
        let stop = AtomicBool::new(false);
        let a = recent.analyse("Putin spoke.".into(), &stop).unwrap();
        let b = recent.analyse("Witkoff spoke.".into(), &stop).unwrap();
        assert!(Arc::ptr_eq(
            &a,
            &recent.analyse("Putin spoke.".into(), &stop).unwrap()
        ));
        // Now "Witkoff spoke." is the oldest: a third text pushes it out.
        recent.analyse("Trump spoke.".into(), &stop).unwrap();
        let b2 = recent.analyse("Witkoff spoke.".into(), &stop).unwrap();
        assert!(!Arc::ptr_eq(&b, &b2), "evicted, so analysed again");
        assert_eq!(b2.text, "Witkoff spoke.");
        assert_eq!(b.analysis.mentions, b2.analysis.mentions);
    }

    #[test]
    fn capacity_zero_keeps_nothing_and_a_stopped_analysis_is_not_kept() {
        let none = Recent::new(0);
        let stop = AtomicBool::new(false);
        let a = none.analyse("Putin spoke.".into(), &stop).unwrap();
        let b = none.analyse("Putin spoke.".into(), &stop).unwrap();
        assert!(!Arc::ptr_eq(&a, &b));
        let recent = Recent::new(4);
        assert!(recent
            .analyse("Putin spoke.".into(), &AtomicBool::new(true))
            .is_none());
        assert!(recent.lock().is_empty());
    }
}

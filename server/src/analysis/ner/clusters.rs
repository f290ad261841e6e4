//! Distributional word clusters: the tagger's knowledge of words it never saw labelled.
//!
//! Words that occur in similar contexts in unlabeled news ("Witkoff" beside "envoy", "said",
//! "met") fall into the same cluster, so a surname absent from CoNLL-2003 still looks like the
//! surnames the tagger was trained on. Clusters come at [`LEVELS`] granularities (coarse to
//! fine) and are keyed both by exact form and by lower-cased form; the lower-cased entry holds
//! the clusters of the word's most frequent casing, which is how all-caps headlines
//! ("JAPAN GET LUCKY WIN") find the clusters of "Japan" and "get". Each entry also holds a
//! capitalisation prior: how often the word is capitalised in mid-sentence running text.
//! They are computed by [`super::induce`].

use super::table::{Reader, Table, Writer};
use super::NerError;

const MAGIC: &[u8; 4] = b"DCLU";

/// Number of cluster granularities.
pub const LEVELS: usize = 4;

/// What is known about one word form.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClusterEntry {
    /// Cluster id + 1 per granularity (0 = none).
    pub clusters: [u16; LEVELS],
    /// Capitalisation prior bucket, 1..=4 from "always lower case" to "always capitalised"
    /// (0 = unknown).
    pub cap_prior: u8,
}

/// Word → clusters, by exact form and by lower-cased form.
#[derive(Debug, Clone)]
pub struct WordClusters {
    form: Table<ClusterEntry>,
    lower: Table<ClusterEntry>,
}

impl Default for WordClusters {
    fn default() -> Self {
        WordClusters {
            form: Table::with_capacity(0),
            lower: Table::with_capacity(0),
        }
    }
}

impl WordClusters {
    /// Builds the maps from (form hash, entry) and (lower-case hash, entry) lists.
    pub(crate) fn from_entries(
        form: impl IntoIterator<Item = (u64, ClusterEntry)>,
        lower: impl IntoIterator<Item = (u64, ClusterEntry)>,
    ) -> Self {
        let mut out = WordClusters::default();
        for (k, v) in form {
            out.form.insert(k, v);
        }
        for (k, v) in lower {
            out.lower.insert(k, v);
        }
        out
    }

    /// The entry of an exact form (by its hash).
    #[inline]
    pub(crate) fn by_form(&self, hash: u64) -> Option<ClusterEntry> {
        self.form.get(hash)
    }

    /// The entry of a lower-cased form (by its hash).
    #[inline]
    pub(crate) fn by_lower(&self, hash: u64) -> Option<ClusterEntry> {
        self.lower.get(hash)
    }

    /// Number of exact forms known.
    pub fn len(&self) -> usize {
        self.form.len()
    }

    /// True when no word is known.
    pub fn is_empty(&self) -> bool {
        self.form.len() == 0
    }

    /// Serialises the clusters on their own (the file `dossier-eval clusters` writes).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.buf.extend_from_slice(MAGIC);
        self.write(&mut w);
        w.buf
    }

    /// Reads clusters written by [`WordClusters::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, NerError> {
        let mut r = Reader::new(bytes);
        if r.bytes(4)? != MAGIC {
            return Err(NerError::Format("not a dossier cluster file".into()));
        }
        Self::read(&mut r)
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        for table in [&self.form, &self.lower] {
            let mut entries: Vec<(u64, ClusterEntry)> = table.iter().collect();
            entries.sort_unstable_by_key(|e| e.0);
            w.u32(entries.len() as u32);
            for (k, e) in entries {
                w.u64(k);
                for c in e.clusters {
                    w.u16(c);
                }
                w.u8(e.cap_prior);
            }
        }
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, NerError> {
        let mut tables = Vec::with_capacity(2);
        for _ in 0..2 {
            let n = r.count(8 + 2 * LEVELS + 1)?;
            let mut t = Table::with_capacity(n);
            for _ in 0..n {
                let k = r.u64()?;
                let mut e = ClusterEntry::default();
                for c in &mut e.clusters {
                    *c = r.u16()?;
                }
                e.cap_prior = r.u8()?;
                if k == 0 {
                    return Err(NerError::Format("zero key in cluster table".into()));
                }
                t.insert(k, e);
            }
            tables.push(t);
        }
        let lower = tables.pop().unwrap_or_else(|| Table::with_capacity(0));
        let form = tables.pop().unwrap_or_else(|| Table::with_capacity(0));
        Ok(WordClusters { form, lower })
    }
}

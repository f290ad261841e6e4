//! The one durable-log interface behind every write: a [`Store`](super::Store) with a log
//! makes each group of changes durable there *before* it applies them in memory, so nothing
//! is acknowledged that is not on disk (the `--data-dir` [`Journal`](super::journal::Journal))
//! or committed (the PostgreSQL system of record, [`super::postgres`]).
//!
//! A log takes a group of changes at a time (ingest's group commit: one fsync or one
//! transaction for the documents of a few milliseconds) and makes all of them durable or
//! none. Deletions are changes too: the journal keeps them as lines, PostgreSQL as tombstone
//! rows that followers apply.

use crate::corpus::Document;
use std::time::Duration;

/// One change, as a log records it.
#[derive(Debug, Clone, Copy)]
pub enum Change<'a> {
    /// A document was added or replaced.
    Put(&'a Document),
    /// The document with this id was deleted.
    Delete(&'a str),
}

impl Change<'_> {
    /// The id of the document changed.
    pub fn id(&self) -> &str {
        match self {
            Change::Put(d) => &d.id,
            Change::Delete(id) => id,
        }
    }
}

/// Why a log could not make a group of changes durable. Either way none of them is.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// Writing the local journal failed.
    #[error("persisting to the data directory failed: {0}")]
    Io(#[from] std::io::Error),
    /// The system of record cannot be reached (or did not confirm the commit): the caller
    /// may try again after `retry_after`.
    #[error("the system of record is unavailable: {message}")]
    Unavailable {
        /// What failed, for the caller and the log.
        message: String,
        /// How long a client should wait before retrying.
        retry_after: Duration,
    },
}

/// A durable record of writes, in the order they were made.
pub trait DurableLog: Send {
    /// Makes `changes` durable, all or none, in order. Returns the change sequence number
    /// the log gave the last of them (the highest of the group), when the log numbers its
    /// changes (PostgreSQL); `None` otherwise (the journal).
    fn append(&mut self, changes: &[Change<'_>]) -> Result<Option<u64>, LogError>;
}

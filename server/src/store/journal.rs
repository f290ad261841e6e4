//! The write-ahead journal behind `--data-dir`: one JSON line per ingested document or
//! deletion, fsynced before a write is acknowledged, replayed at start-up. A line cut short
//! by a crash (the only line that can be: writes are appends) is ignored on replay and
//! truncated away.

use super::log::{Change, DurableLog, LogError};
use crate::corpus::Document;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::Path;

const FILE_NAME: &str = "journal.jsonl";

/// One journaled write.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entry<D = Document> {
    /// A document was added or replaced.
    Put(D),
    /// A document was deleted.
    Delete(String),
}

impl Entry {
    /// Maps the document of a `Put`.
    pub fn map_doc<T>(self, f: impl FnOnce(Document) -> T) -> Entry<T> {
        match self {
            Entry::Put(d) => Entry::Put(f(d)),
            Entry::Delete(id) => Entry::Delete(id),
        }
    }
}

/// An open journal, positioned for appends.
#[derive(Debug)]
pub struct Journal {
    file: File,
}

impl Journal {
    /// Opens `dir/journal.jsonl` (creating `dir` and the file) and reads every complete entry.
    pub fn open(dir: &Path) -> std::io::Result<(Self, Vec<Entry>)> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(FILE_NAME);
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)?;
        let mut entries = Vec::new();
        let mut good_len = 0u64;
        let mut reader = BufReader::new(&file);
        let mut line = String::new();
        loop {
            line.clear();
            let n = reader.read_line(&mut line)?;
            if n == 0 || !line.ends_with('\n') {
                break;
            }
            match serde_json::from_str::<Entry>(&line) {
                Ok(e) => entries.push(e),
                Err(e) => {
                    tracing::warn!(error = %e, offset = good_len, "journal entry unreadable; replay stops here");
                    break;
                }
            }
            good_len += n as u64;
        }
        drop(reader);
        file.set_len(good_len)?;
        file.seek(SeekFrom::End(0))?;
        Ok((Self { file }, entries))
    }

    /// Appends puts for `docs` and syncs them to disk.
    pub fn append_puts<'a>(
        &mut self,
        docs: impl Iterator<Item = &'a Document>,
    ) -> std::io::Result<()> {
        let mut buf = Vec::new();
        for d in docs {
            serde_json::to_writer(&mut buf, &Entry::Put(d)).map_err(std::io::Error::other)?;
            buf.push(b'\n');
        }
        self.write(&buf)
    }

    /// Appends a delete and syncs it to disk.
    pub fn append_delete(&mut self, id: &str) -> std::io::Result<()> {
        let mut buf = serde_json::to_vec(&Entry::<Document>::Delete(id.to_string()))
            .map_err(std::io::Error::other)?;
        buf.push(b'\n');
        self.write(&buf)
    }

    fn write(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.file.write_all(buf)?;
        self.file.sync_data()
    }
}

impl DurableLog for Journal {
    /// One line per change, one `fsync` for the group.
    fn append(&mut self, changes: &[Change<'_>]) -> Result<Option<u64>, LogError> {
        let mut buf = Vec::new();
        for change in changes {
            let entry = match *change {
                Change::Put(d) => serde_json::to_writer(&mut buf, &Entry::Put(d)),
                Change::Delete(id) => {
                    serde_json::to_writer(&mut buf, &Entry::<Document>::Delete(id.into()))
                }
            };
            entry.map_err(std::io::Error::other)?;
            buf.push(b'\n');
        }
        self.write(&buf)?;
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_survive_reopen_and_a_torn_last_line_is_dropped() {
        let dir = std::env::temp_dir().join(format!("dossier-journal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (mut j, entries) = Journal::open(&dir).unwrap();
        assert!(entries.is_empty());
        let doc = Document {
            id: "a".into(),
            text: "T.".into(),
            ..Default::default()
        };
        j.append_puts(std::iter::once(&doc)).unwrap();
        j.append_delete("b").unwrap();
        // The durable-log interface writes the same lines, a group at a time.
        let group = [Change::Put(&doc), Change::Delete("c")];
        assert_eq!(DurableLog::append(&mut j, &group).unwrap(), None);
        drop(j);
        // Simulate a crash in the middle of an append.
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.join(FILE_NAME))
            .unwrap();
        f.write_all(b"{\"put\":{\"id\":\"tor").unwrap();
        drop(f);
        let (_, entries) = Journal::open(&dir).unwrap();
        assert_eq!(entries.len(), 4);
        assert!(matches!(&entries[0], Entry::Put(d) if d.id == "a"));
        assert!(matches!(&entries[1], Entry::Delete(id) if id == "b"));
        assert!(matches!(&entries[2], Entry::Put(d) if d.id == "a"));
        assert!(matches!(&entries[3], Entry::Delete(id) if id == "c"));
    }
}

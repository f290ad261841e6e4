//! Loading documents from files and folders: `.txt`/`.md` pages (cleaned of furniture) and
//! `.jsonl`/`.json` records (a BEIR `corpus.jsonl` loads as it is). Files are read and parsed
//! in parallel on the rayon pool; the caller runs this off the async runtime.

use super::{clean::clean_page, dates::parse_date, sanitize_id, CorpusError, Document};
use rayon::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a load produced.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Valid documents, in path order (records in file order). Later duplicates of an id
    /// replace earlier ones when stored.
    pub documents: Vec<Document>,
    /// Records that were skipped, with the reason (e.g. an empty text).
    pub skipped: Vec<String>,
}

/// Loads every supported file under `paths` (files or folders, walked recursively in name
/// order). Unsupported extensions inside folders are ignored; a path that does not exist is an
/// error. A page's id is its file stem, prefixed by its subfolders below the folder named
/// (`business/001.txt` → `business-001`), so equal file names in sibling folders stay apart.
pub fn load_paths(paths: &[PathBuf]) -> Result<Loaded, CorpusError> {
    let files = files_under(paths)?;
    load_files(&files.iter().collect::<Vec<_>>())
}

/// Every supported file under `paths`, with its source name and id prefix, in load order.
fn files_under(paths: &[PathBuf]) -> Result<Vec<(PathBuf, String, String)>, CorpusError> {
    let mut files = Vec::new();
    for path in paths {
        let source = source_name(path);
        collect_files(path, &source, &mut files, true, "")?;
    }
    Ok(files)
}

/// Reads and parses `files` in parallel; their documents in the order given.
fn load_files(files: &[&(PathBuf, String, String)]) -> Result<Loaded, CorpusError> {
    let results: Vec<Result<Loaded, CorpusError>> = files
        .par_iter()
        .map(|(path, source, prefix)| load_file(path, source, prefix))
        .collect();
    let mut loaded = Loaded::default();
    for result in results {
        let part = result?;
        loaded.documents.extend(part.documents);
        loaded.skipped.extend(part.skipped);
    }
    Ok(loaded)
}

/// Documents handed on per batch by [`load_paths_in_batches`]: about this many bytes of
/// input (file bytes read) per batch.
pub const DEFAULT_BATCH_BYTES: usize = 4 << 20;

/// [`load_paths`] in bounded batches: the documents of about `batch_bytes` of input at a
/// time (pages grouped by file size, JSON lines files read a chunk of lines at a time) are
/// parsed in parallel and handed to `on_batch`, in the order `load_paths` gives them, so a
/// caller that analyses and indexes each batch before the next is read never holds the whole
/// corpus's raw bytes, parsed records and transients at once. Returns the skipped records.
/// A file that cannot be read or parsed ends the load with its error (batches before it were
/// handed on).
pub fn load_paths_in_batches(
    paths: &[PathBuf],
    batch_bytes: usize,
    mut on_batch: impl FnMut(Vec<Document>),
) -> Result<Vec<String>, CorpusError> {
    let files = files_under(paths)?;
    let batch_bytes = batch_bytes.max(1);
    let mut skipped = Vec::new();
    let mut emit = |part: Loaded, skipped: &mut Vec<String>| {
        skipped.extend(part.skipped);
        if !part.documents.is_empty() {
            on_batch(part.documents);
        }
    };
    // Pages (and whole JSON files) in groups of about `batch_bytes`, read in parallel.
    let mut group: Vec<&(PathBuf, String, String)> = Vec::new();
    let mut group_bytes = 0usize;
    let flush = |group: &mut Vec<&(PathBuf, String, String)>| -> Result<Loaded, CorpusError> {
        let loaded = load_files(group);
        group.clear();
        loaded
    };
    for file in &files {
        let (path, source, _) = file;
        let size = std::fs::metadata(path).map_err(|e| io_err(path, e))?.len() as usize;
        if is_json_lines(path) && size > batch_bytes {
            if !group.is_empty() {
                emit(flush(&mut group)?, &mut skipped);
                group_bytes = 0;
            }
            stream_json_lines(path, source, batch_bytes, |part| emit(part, &mut skipped))?;
            continue;
        }
        if group_bytes + size > batch_bytes && !group.is_empty() {
            emit(flush(&mut group)?, &mut skipped);
            group_bytes = 0;
        }
        group.push(file);
        group_bytes += size;
    }
    if !group.is_empty() {
        emit(flush(&mut group)?, &mut skipped);
    }
    Ok(skipped)
}

fn is_json_lines(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("jsonl"))
}

/// A JSON lines file a chunk of about `batch_bytes` at a time, each chunk's records parsed
/// in parallel, as [`load_bytes`] parses the whole file (same ids, line numbers and errors).
fn stream_json_lines(
    path: &Path,
    source: &str,
    batch_bytes: usize,
    mut on_part: impl FnMut(Loaded),
) -> Result<(), CorpusError> {
    use std::io::BufRead;
    let file = std::fs::File::open(path).map_err(|e| io_err(path, e))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut line_no = 0usize;
    let mut buf = Vec::new();
    loop {
        let mut lines: Vec<(usize, String)> = Vec::new();
        let mut bytes = 0usize;
        while bytes < batch_bytes {
            buf.clear();
            if reader
                .read_until(b'\n', &mut buf)
                .map_err(|e| io_err(path, e))?
                == 0
            {
                break;
            }
            line_no += 1;
            // As `str::lines`: without the "\n" or "\r\n".
            if buf.last() == Some(&b'\n') {
                buf.pop();
                if buf.last() == Some(&b'\r') {
                    buf.pop();
                }
            }
            let line = String::from_utf8_lossy(&buf);
            if line.trim().is_empty() {
                continue;
            }
            bytes += line.len();
            lines.push((line_no, line.into_owned()));
        }
        if lines.is_empty() {
            return Ok(());
        }
        let parsed: Vec<Result<Document, CorpusError>> = lines
            .par_iter()
            .map(|(n, l)| record(*n, serde_json::from_str(l), path, &stem, source))
            .collect();
        drop(lines);
        let docs = parsed.into_iter().collect::<Result<Vec<_>, _>>()?;
        on_part(validated(docs, path));
    }
}

/// The default `source` of documents under `path`: the folder's name, or the file's folder.
fn source_name(path: &Path) -> String {
    let dir = if path.is_dir() {
        Some(path)
    } else {
        path.parent()
    };
    dir.and_then(|d| d.canonicalize().ok())
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default()
}

fn io_err(path: &Path, source: std::io::Error) -> CorpusError {
    CorpusError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn is_supported(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("txt" | "md" | "jsonl" | "json")
    )
}

fn collect_files(
    path: &Path,
    source: &str,
    out: &mut Vec<(PathBuf, String, String)>,
    top: bool,
    prefix: &str,
) -> Result<(), CorpusError> {
    let meta = std::fs::metadata(path).map_err(|e| io_err(path, e))?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| io_err(path, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                !p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        entries.sort();
        for entry in entries {
            // The folder named on the command line adds nothing to ids; each folder below it
            // adds its name.
            let sub = if top {
                String::new()
            } else {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                match (prefix.is_empty(), name) {
                    (_, None) => prefix.to_string(),
                    (true, Some(n)) => n,
                    (false, Some(n)) => format!("{prefix}-{n}"),
                }
            };
            collect_files(&entry, source, out, false, &sub)?;
        }
    } else if top || is_supported(path) {
        // A file named explicitly is loaded whatever its extension (read as text).
        out.push((path.to_path_buf(), source.to_string(), prefix.to_string()));
    }
    Ok(())
}

fn load_file(path: &Path, source: &str, prefix: &str) -> Result<Loaded, CorpusError> {
    let bytes = std::fs::read(path).map_err(|e| io_err(path, e))?;
    let mut loaded = load_bytes(path, &bytes, source)?;
    let one_page = !matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("jsonl" | "json")
    );
    if one_page && !prefix.is_empty() {
        for doc in &mut loaded.documents {
            doc.id = sanitize_id(&format!("{prefix}-{}", doc.id));
        }
    }
    Ok(loaded)
}

/// Parses the contents of one corpus file as [`load_paths`] does: `path` (which is not read)
/// picks the format by its extension and gives the ids' stem and the error messages' file
/// name. Any bytes are accepted (invalid UTF-8 is replaced); malformed JSON is an error.
///
/// # Examples
///
/// ```
/// use dossier_server::corpus::load::load_bytes;
/// let loaded = load_bytes("news.jsonl".as_ref(), b"{\"id\": \"a\", \"text\": \"Hi.\"}\n", "wire").unwrap();
/// assert_eq!(loaded.documents[0].id, "a");
/// assert_eq!(loaded.documents[0].source, "wire");
/// ```
pub fn load_bytes(path: &Path, bytes: &[u8], source: &str) -> Result<Loaded, CorpusError> {
    let content = String::from_utf8_lossy(bytes);
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match ext.as_deref() {
        Some("jsonl") => load_json_lines(path, &content, &stem, source),
        Some("json") => {
            let trimmed = content.trim_start();
            if trimmed.starts_with('[') {
                let values: Vec<Value> =
                    serde_json::from_str(trimmed).map_err(|e| CorpusError::Json {
                        path: path.display().to_string(),
                        line: e.line(),
                        message: e.to_string(),
                    })?;
                Ok(records(
                    values.into_iter().enumerate().map(|(i, v)| (i + 1, Ok(v))),
                    path,
                    &stem,
                    source,
                )?)
            } else {
                load_json_lines(path, &content, &stem, source)
            }
        }
        _ => {
            let page = clean_page(&content);
            let doc = Document {
                id: sanitize_id(&stem),
                title: page.title,
                text: page.text,
                source: source.to_string(),
                published_at: page.published_at,
                removed_chars: page.removed_chars,
                authors: page.authors,
                ..Default::default()
            };
            Ok(validated(vec![doc], path))
        }
    }
}

fn load_json_lines(
    path: &Path,
    content: &str,
    stem: &str,
    source: &str,
) -> Result<Loaded, CorpusError> {
    let lines: Vec<(usize, &str)> = content
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l))
        .collect();
    // Each line becomes its document right away: holding every line's JSON tree until all
    // were parsed cost several times the file's size at the peak of loading.
    let parsed: Vec<Result<Document, CorpusError>> = lines
        .par_iter()
        .map(|&(n, l)| record(n, serde_json::from_str(l), path, stem, source))
        .collect();
    let docs = parsed.into_iter().collect::<Result<Vec<_>, _>>()?;
    Ok(validated(docs, path))
}

fn records(
    values: impl Iterator<Item = (usize, serde_json::Result<Value>)>,
    path: &Path,
    stem: &str,
    source: &str,
) -> Result<Loaded, CorpusError> {
    let docs = values
        .map(|(line, value)| record(line, value, path, stem, source))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(validated(docs, path))
}

/// The document of the record on `line` (1-based), or why the record is malformed.
fn record(
    line: usize,
    value: serde_json::Result<Value>,
    path: &Path,
    stem: &str,
    source: &str,
) -> Result<Document, CorpusError> {
    let value = value.map_err(|e| CorpusError::Json {
        path: path.display().to_string(),
        line,
        message: e.to_string(),
    })?;
    let Value::Object(map) = value else {
        return Err(CorpusError::Json {
            path: path.display().to_string(),
            line,
            message: "a record must be a JSON object".into(),
        });
    };
    Ok(document_from_record(
        &map,
        &format!("{stem}-{line}"),
        source,
    ))
}

/// Keeps the valid documents, reporting the others as skipped.
fn validated(docs: Vec<Document>, path: &Path) -> Loaded {
    let mut loaded = Loaded::default();
    for mut doc in docs {
        match doc.validate() {
            Ok(()) => loaded.documents.push(doc),
            Err(e) => loaded
                .skipped
                .push(format!("{}: {} ({e})", path.display(), doc.id)),
        }
    }
    loaded
}

/// Maps one JSON record to a document: `id`/`_id` (or `newid`, `doc_id`), `text`/`body`
/// (or `content`), `title`, `source`, `url`, `published_at`/`date`, `authors`/`author`,
/// `labels`.
fn document_from_record(
    map: &serde_json::Map<String, Value>,
    fallback_id: &str,
    default_source: &str,
) -> Document {
    let get = |keys: &[&str]| -> Option<String> {
        keys.iter().find_map(|k| match map.get(*k) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })
    };
    let id = get(&["id", "_id", "newid", "doc_id", "docid"])
        .map(|s| sanitize_id(&s))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| sanitize_id(fallback_id));
    let authors = match map.get("authors").or_else(|| map.get("author")) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        _ => Vec::new(),
    };
    let labels: BTreeMap<String, String> = match map.get("labels") {
        Some(Value::Object(o)) => o
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_string),
                )
            })
            .collect(),
        _ => BTreeMap::new(),
    };
    Document {
        id,
        title: get(&["title", "headline"]).unwrap_or_default(),
        text: get(&["text", "body", "content"]).unwrap_or_default(),
        source: get(&["source"]).unwrap_or_else(|| default_source.to_string()),
        url: get(&["url"]).unwrap_or_default(),
        published_at: get(&["published_at", "date", "published"]).and_then(|d| parse_date(&d)),
        authors,
        labels,
        removed_chars: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dossier-load-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn beir_corpus_lines_load_as_they_are() {
        let dir = temp_dir("beir");
        let file = dir.join("corpus.jsonl");
        std::fs::write(&file, "{\"_id\": \"4983\", \"title\": \"T\", \"text\": \"Body one.\", \"metadata\": {}}\n\n{\"_id\": 5, \"text\": \"Body two.\"}\n{\"_id\": \"6\", \"text\": \"\"}\n").unwrap();
        let loaded = load_paths(&[file]).unwrap();
        let ids: Vec<&str> = loaded.documents.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["4983", "5"]);
        assert_eq!(
            loaded.skipped.len(),
            1,
            "the record with empty text is skipped, not fatal"
        );
    }

    #[test]
    fn folders_load_txt_pages_with_stem_ids_and_folder_source() {
        let dir = temp_dir("txt");
        std::fs::write(dir.join("b.txt"), "Title B\nText B.").unwrap();
        std::fs::write(dir.join("a.md"), "# Title A\n\nText A.").unwrap();
        std::fs::write(dir.join("skip.csv"), "x").unwrap();
        let loaded = load_paths(std::slice::from_ref(&dir)).unwrap();
        let got: Vec<(&str, &str, &str)> = loaded
            .documents
            .iter()
            .map(|d| (d.id.as_str(), d.title.as_str(), d.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [("a", "Title A", "Text A."), ("b", "Title B", "Text B.")]
        );
        assert!(loaded.documents[0].source.starts_with("dossier-load-txt"));
    }

    #[test]
    fn pages_in_sibling_folders_with_equal_names_keep_apart() {
        let dir = temp_dir("siblings");
        for (sub, text) in [("business", "Shares rose."), ("tech", "Chips fell.")] {
            std::fs::create_dir_all(dir.join(sub).join("deep")).unwrap();
            std::fs::write(dir.join(sub).join("001.txt"), format!("T\n{text}")).unwrap();
            std::fs::write(dir.join(sub).join("deep").join("001.txt"), "D\nDeep.").unwrap();
        }
        std::fs::write(dir.join("001.txt"), "Top\nTop text.").unwrap();
        let loaded = load_paths(std::slice::from_ref(&dir)).unwrap();
        let mut ids: Vec<&str> = loaded.documents.iter().map(|d| d.id.as_str()).collect();
        ids.sort();
        assert_eq!(
            ids,
            [
                "001",
                "business-001",
                "business-deep-001",
                "tech-001",
                "tech-deep-001"
            ]
        );
    }

    #[test]
    fn records_map_alternative_field_names() {
        let dir = temp_dir("alt");
        let file = dir.join("news.json");
        std::fs::write(&file, r#"[{"newid": 7, "body": "B.", "date": "26-FEB-1987 15:01:01.79", "author": "X", "labels": {"k": "v"}}]"#).unwrap();
        let doc = &load_paths(&[file]).unwrap().documents[0];
        assert_eq!(
            (doc.id.as_str(), doc.text.as_str(), doc.authors[0].as_str()),
            ("7", "B.", "X")
        );
        assert_eq!(
            doc.published_at.unwrap().format("%F").to_string(),
            "1987-02-26"
        );
        assert_eq!(doc.labels["k"], "v");
    }

    #[test]
    fn malformed_json_names_file_and_line() {
        let dir = temp_dir("bad");
        let file = dir.join("c.jsonl");
        std::fs::write(&file, "{\"id\": \"1\", \"text\": \"ok\"}\n{oops\n").unwrap();
        let err = load_paths(&[file]).unwrap_err().to_string();
        assert!(err.contains("c.jsonl:2"), "{err}");
    }

    #[test]
    fn batches_give_what_one_load_gives_in_the_same_order() {
        let dir = temp_dir("batches");
        std::fs::create_dir_all(dir.join("pages")).unwrap();
        for i in 0..5 {
            std::fs::write(
                dir.join("pages").join(format!("{i}.txt")),
                format!("Title {i}\nText {i}."),
            )
            .unwrap();
        }
        let mut lines = String::new();
        for i in 0..40 {
            lines.push_str(&format!(
                "{{\"id\": \"r{}\", \"text\": \"Record {i}.\"}}\r\n\n",
                i % 30
            ));
        }
        lines.push_str("{\"id\": \"empty\", \"text\": \"\"}");
        std::fs::write(dir.join("wire.jsonl"), lines).unwrap();
        let paths = [dir.clone()];
        let whole = load_paths(&paths).unwrap();
        for batch_bytes in [1, 64, 1 << 20] {
            let mut batches = Vec::new();
            let skipped = load_paths_in_batches(&paths, batch_bytes, |b| batches.push(b)).unwrap();
            let docs: Vec<(String, String)> = batches
                .iter()
                .flatten()
                .map(|d| (d.id.clone(), d.text.clone()))
                .collect();
            let expected: Vec<(String, String)> = whole
                .documents
                .iter()
                .map(|d| (d.id.clone(), d.text.clone()))
                .collect();
            assert_eq!(docs, expected, "batch_bytes {batch_bytes}");
            assert_eq!(skipped, whole.skipped);
            if batch_bytes == 1 {
                assert!(
                    batches.len() > 10,
                    "small batches stream: {}",
                    batches.len()
                );
            }
        }
    }

    #[test]
    fn a_malformed_line_in_a_streamed_file_names_its_line() {
        let dir = temp_dir("badstream");
        let file = dir.join("c.jsonl");
        std::fs::write(&file, "{\"id\": \"1\", \"text\": \"ok\"}\n\n{oops\n").unwrap();
        let err = load_paths_in_batches(&[file], 1, |_| {})
            .unwrap_err()
            .to_string();
        assert!(err.contains("c.jsonl:3"), "{err}");
    }

    #[test]
    fn missing_path_is_an_error() {
        assert!(load_paths(&[PathBuf::from("/nonexistent/dossier")]).is_err());
    }
}

//! `dossier-eval bench-analysis`: words per second of each analysis stage on one core.
//!
//! The texts are the BBC articles as the server loads them (`corpus::load`, so page cleaning
//! included: the stages see exactly what a served document holds). Every stage is timed over
//! the whole corpus, on the calling thread only (no rayon), several times; the report gives the
//! best and the median pass. A stage is timed alone, with its inputs computed beforehand
//! (sentences get the tokens, entities get tokens and sentences, claims get those and the
//! mentions `analyze` found), and the whole
//! [`analyze`](crate::analysis::analyze) is timed as the server calls it.
//!
//! Words are counted as the server counts them (`Analysis::words`: tokens holding a letter or
//! digit), so "words/s" is the same unit here, in `GetCorpusStats` and in the spaCy comparison
//! (`server/benches/spacy_bench.py` is given the same texts and the same word total through
//! [`dump_texts`]).

use super::EvalError;
use crate::analysis::{
    self, claims, ner, quantities, sentences, temporal, tokenize, EntityMention,
};
use crate::corpus::{load, Document};
use std::hash::Hasher;
use std::ops::Range;
use std::path::Path;
use std::time::Instant;

/// One stage's timings. "CPU" is the thread's own on-CPU time (`/proc/thread-self/schedstat`),
/// which other processes on a shared machine do not inflate the way they inflate wall time;
/// on an idle core the two agree.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StageReport {
    /// Stage name ("tokenize", "sentences", "entities", "claims", "analyze").
    pub stage: &'static str,
    /// What the timed code does.
    pub what: &'static str,
    /// Fastest pass by CPU time, in seconds.
    pub best_cpu_seconds: f64,
    /// Median pass by CPU time, in seconds.
    pub median_cpu_seconds: f64,
    /// Fastest pass by wall time, in seconds.
    pub best_wall_seconds: f64,
    /// Median pass by wall time, in seconds.
    pub median_wall_seconds: f64,
    /// Words / fastest CPU time: the headline rate.
    pub best_words_per_sec: f64,
    /// Words / median CPU time.
    pub median_words_per_sec: f64,
    /// Words / fastest wall time.
    pub best_wall_words_per_sec: f64,
}

/// The benchmark's result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchReport {
    /// Documents benchmarked.
    pub documents: usize,
    /// Word tokens over all documents (the unit of every rate).
    pub words: usize,
    /// Bytes of text.
    pub text_bytes: usize,
    /// Timed passes per stage.
    pub runs: usize,
    /// Threads used (always 1).
    pub threads: usize,
    /// Per-stage timings, the whole pipeline last.
    pub stages: Vec<StageReport>,
    /// FNV-1a hash of every document's analysis and claims (their `Debug` text): equal digests
    /// before and after a speed change show that it changed no output.
    pub output_digest: String,
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} documents, {} words, {:.1} MB of text; one thread; {} timed passes per stage (after one warm-up pass)",
            self.documents,
            self.words,
            self.text_bytes as f64 / 1e6,
            self.runs
        )?;
        writeln!(f, "output digest {}", self.output_digest)?;
        writeln!(
            f,
            "{:<10} {:>14} {:>14} {:>14} {:>9} {:>9}  what",
            "stage", "best words/s", "median words/s", "wall-best w/s", "best s", "median s"
        )?;
        for s in &self.stages {
            writeln!(
                f,
                "{:<10} {:>14.0} {:>14.0} {:>14.0} {:>9.4} {:>9.4}  {}",
                s.stage,
                s.best_words_per_sec,
                s.median_words_per_sec,
                s.best_wall_words_per_sec,
                s.best_cpu_seconds,
                s.median_cpu_seconds,
                s.what
            )?;
        }
        writeln!(
            f,
            "rates are words / on-CPU seconds of the one benchmark thread; wall-best is words / fastest wall-clock pass"
        )?;
        Ok(())
    }
}

/// Per-document inputs computed once, so each stage is timed alone.
struct Prepared {
    text: String,
    anchor: Option<chrono::NaiveDate>,
    tokens: Vec<tokenize::Token>,
    sentences: Vec<Range<usize>>,
    /// What `analyze` found, as the claims stage is given it.
    mentions: Vec<EntityMention>,
}

/// Loads the articles under `dir` the way the server does, in path order. When `dir` has
/// sub-folders (BBC's five categories) only those are read, so the dataset's own README is not
/// benchmarked as an article.
pub fn load_texts(dir: &Path) -> Result<Vec<Document>, EvalError> {
    let io = |source| EvalError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut paths: Vec<std::path::PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect(),
        Err(_) => Vec::new(),
    };
    paths.sort();
    if paths.is_empty() {
        paths.push(dir.to_path_buf());
    }
    let loaded = load::load_paths(&paths).map_err(|e| io(std::io::Error::other(e.to_string())))?;
    Ok(loaded.documents)
}

/// Writes one JSON object per line, `{"id", "text", "words"}`, for the spaCy script: the same
/// texts and the same word counts as [`run`] uses.
pub fn dump_texts(docs: &[Document], out: &Path) -> Result<(), EvalError> {
    use std::io::Write;
    let io = |source| EvalError::Io {
        path: out.to_path_buf(),
        source,
    };
    let mut w = std::io::BufWriter::new(std::fs::File::create(out).map_err(io)?);
    for d in docs {
        let words = count_words(&d.text, &tokenize::tokenize(&d.text));
        let line = serde_json::json!({ "id": d.id, "text": d.text, "words": words });
        writeln!(w, "{line}").map_err(io)?;
    }
    w.flush().map_err(io)
}

fn count_words(text: &str, tokens: &[tokenize::Token]) -> usize {
    tokens
        .iter()
        .filter(|t| tokenize::is_word(t.text(text)))
        .count()
}

/// The calling thread's on-CPU time in seconds (Linux schedstat; falls back to `None`).
pub(crate) fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}

/// Best and median of CPU and wall seconds over the timed passes.
struct Timings {
    best_cpu: f64,
    median_cpu: f64,
    best_wall: f64,
    median_wall: f64,
}

/// Times `pass` `runs` times (after one untimed warm-up).
fn time_passes(runs: usize, mut pass: impl FnMut() -> usize) -> Timings {
    std::hint::black_box(pass());
    let (mut cpu, mut wall): (Vec<f64>, Vec<f64>) = (0..runs.max(1))
        .map(|_| {
            let c0 = thread_cpu_seconds();
            let t0 = Instant::now();
            std::hint::black_box(pass());
            let w = t0.elapsed().as_secs_f64();
            let c = match (c0, thread_cpu_seconds()) {
                (Some(a), Some(b)) => b - a,
                _ => w,
            };
            (c, w)
        })
        .unzip();
    cpu.sort_by(f64::total_cmp);
    wall.sort_by(f64::total_cmp);
    Timings {
        best_cpu: cpu[0],
        median_cpu: cpu[cpu.len() / 2],
        best_wall: wall[0],
        median_wall: wall[wall.len() / 2],
    }
}

/// Benchmarks every analysis stage over `docs` on the calling thread, `runs` passes each.
pub fn run(docs: &[Document], runs: usize) -> BenchReport {
    let prepared: Vec<Prepared> = docs
        .iter()
        .map(|d| {
            let text = d.text.clone();
            let tokens = tokenize::tokenize(&text);
            let sentences = sentences::split_sentences(&text, &tokens);
            let anchor = d.published_at.map(|t| t.date_naive());
            let mentions = analysis::analyze(&text, anchor).mentions;
            Prepared {
                text,
                anchor,
                tokens,
                sentences,
                mentions,
            }
        })
        .collect();
    let mut digest = fnv::FnvHasher::default();
    for p in &prepared {
        let a = analysis::analyze(&p.text, p.anchor);
        digest.write(format!("{:?}{:?}{:?}", a.sentences, a.mentions, a.claims).as_bytes());
    }
    let words: usize = prepared
        .iter()
        .map(|p| count_words(&p.text, &p.tokens))
        .sum();
    let text_bytes = prepared.iter().map(|p| p.text.len()).sum();
    let mut stages = Vec::new();
    let mut stage = |stage: &'static str, what: &'static str, pass: &mut dyn FnMut() -> usize| {
        let t = time_passes(runs, pass);
        let rate = |secs: f64| words as f64 / secs.max(1e-12);
        stages.push(StageReport {
            stage,
            what,
            best_cpu_seconds: t.best_cpu,
            median_cpu_seconds: t.median_cpu,
            best_wall_seconds: t.best_wall,
            median_wall_seconds: t.median_wall,
            best_words_per_sec: rate(t.best_cpu),
            median_words_per_sec: rate(t.median_cpu),
            best_wall_words_per_sec: rate(t.best_wall),
        });
    };
    stage("tokenize", "tokenize::tokenize", &mut || {
        prepared
            .iter()
            .map(|p| tokenize::tokenize(&p.text).len())
            .sum()
    });
    stage(
        "sentences",
        "sentences::split_sentences (tokens given)",
        &mut || {
            prepared
                .iter()
                .map(|p| sentences::split_sentences(&p.text, &p.tokens).len())
                .sum()
        },
    );
    stage(
        "entities",
        "ner::recognize + temporal::find_temporal + quantities::find_quantities (tokens, sentences given)",
        &mut || {
            prepared
                .iter()
                .map(|p| {
                    ner::recognize(&p.text, &p.tokens, &p.sentences).len()
                        + temporal::find_temporal(&p.text, &p.tokens, p.anchor).len()
                        + quantities::find_quantities(&p.text, &p.tokens).len()
                })
                .sum()
        },
    );
    stage(
        "claims",
        "claims::extract_claims (tokens, sentences, mentions given)",
        &mut || {
            prepared
                .iter()
                .map(|p| {
                    claims::extract_claims(&p.text, &p.tokens, &p.sentences, &p.mentions).len()
                })
                .sum()
        },
    );
    stage(
        "analyze",
        "analysis::analyze (the whole pipeline)",
        &mut || {
            prepared
                .iter()
                .map(|p| analysis::analyze(&p.text, p.anchor).claims.len())
                .sum()
        },
    );
    BenchReport {
        documents: prepared.len(),
        words,
        text_bytes,
        runs,
        threads: 1,
        stages,
        output_digest: format!("{:016x}", digest.finish()),
    }
}

/// Heap bytes the analyses would hold unpacked, by part, from `size_of` and capacities;
/// beside them what the store keeps instead (the packed form) and the index's bytes by
/// part: where the memory of a loaded corpus goes.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct MemoryReport {
    /// Bytes of document text.
    pub text_bytes: usize,
    /// The `Analysis` structs themselves.
    pub analysis_structs: usize,
    /// Sentence ranges.
    pub sentences: usize,
    /// Mention structs.
    pub mentions: usize,
    /// Mention metadata (vectors and strings).
    pub mention_metadata: usize,
    /// Claim structs.
    pub claims: usize,
    /// Claim texts (copies of their content).
    pub claim_texts: usize,
    /// Claim segments, speaker strings and quantities.
    pub claim_parts: usize,
    /// Number of claims.
    pub claim_count: usize,
    /// Bytes of the packed analyses the store actually keeps (`store::packed`).
    pub packed: usize,
    /// Whether every packed analysis decodes to exactly the analysis it was packed from.
    pub packed_exact: bool,
    /// Bytes of the in-memory search index over the same documents (tantivy's space usage).
    pub index_bytes: u64,
    /// The index's bytes by part (stored documents, postings, positions…).
    pub index_parts: Vec<(String, u64)>,
}

impl std::fmt::Display for MemoryReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = self.text_bytes.max(1) as f64;
        let row = |f: &mut std::fmt::Formatter<'_>, name: &str, n: usize| {
            writeln!(
                f,
                "  {name:<18} {:>12} bytes  {:>5.2}x text",
                n,
                n as f64 / t
            )
        };
        writeln!(
            f,
            "heap held by the stored analyses ({} claims):",
            self.claim_count
        )?;
        row(f, "text", self.text_bytes)?;
        row(f, "analysis structs", self.analysis_structs)?;
        row(f, "sentences", self.sentences)?;
        row(f, "mentions", self.mentions)?;
        row(f, "mention metadata", self.mention_metadata)?;
        row(f, "claims", self.claims)?;
        row(f, "claim texts", self.claim_texts)?;
        row(f, "claim parts", self.claim_parts)?;
        let total = self.analysis_structs
            + self.sentences
            + self.mentions
            + self.mention_metadata
            + self.claims
            + self.claim_texts
            + self.claim_parts;
        row(f, "analyses in all", total)?;
        writeln!(
            f,
            "as the store keeps them (packed; decoding {}):",
            if self.packed_exact {
                "gives back every analysis exactly"
            } else {
                "DIFFERS from the analyses"
            }
        )?;
        row(f, "packed analyses", self.packed)?;
        row(f, "search index", self.index_bytes as usize)?;
        for (part, n) in &self.index_parts {
            row(f, &format!("  {part}"), *n as usize)?;
        }
        Ok(())
    }
}

/// Measures what the analyses of `docs` hold on the heap.
pub fn memory(docs: &[Document]) -> MemoryReport {
    use std::mem::size_of;
    let mut m = MemoryReport {
        packed_exact: true,
        ..Default::default()
    };
    for d in docs {
        // As the analysis gives it, without spare capacity (what the store kept before it
        // packed analyses).
        let mut a = analysis::analyze(&d.text, d.published_at.map(|t| t.date_naive()));
        shrink(&mut a);
        let stored = crate::store::StoredDoc::analyze(d.clone());
        m.packed +=
            stored.packed().heap_bytes() + size_of::<crate::store::packed::PackedAnalysis>();
        m.packed_exact &= format!("{a:?}") == format!("{:?}", stored.analysis());
        m.text_bytes += d.text.len();
        m.analysis_structs += size_of::<analysis::Analysis>();
        m.sentences += a.sentences.capacity() * size_of::<Range<usize>>();
        m.mentions += a.mentions.capacity() * size_of::<EntityMention>();
        for x in &a.mentions {
            m.mention_metadata += x.metadata.capacity() * size_of::<(String, String)>()
                + x.metadata
                    .iter()
                    .map(|(k, v)| k.capacity() + v.capacity())
                    .sum::<usize>();
        }
        m.claims += a.claims.capacity() * size_of::<claims::Claim>();
        m.claim_count += a.claims.len();
        for c in &a.claims {
            m.claim_texts += c.text.capacity();
            m.claim_parts += c.segments.capacity() * size_of::<Range<usize>>()
                + c.speaker.name.capacity()
                + c.speaker.description.capacity()
                + c.quantities.capacity() * size_of::<quantities::Quantity>()
                + c.quantities
                    .iter()
                    .map(|q| q.head.capacity())
                    .sum::<usize>();
        }
    }
    let index = crate::index::SearchIndex::new_in_ram().expect("an in-memory index");
    let batch: Vec<crate::index::IndexDoc> = docs.iter().map(super::index_doc).collect();
    if index.upsert(&batch).and_then(|_| index.commit()).is_ok() {
        m.index_bytes = index.index_bytes();
        m.index_parts = index
            .space_by_part()
            .into_iter()
            .map(|(part, n)| (part.to_string(), n))
            .collect();
    }
    m
}

/// Gives back the spare capacity of an analysis's vectors and strings.
fn shrink(a: &mut analysis::Analysis) {
    a.sentences.shrink_to_fit();
    a.mentions.shrink_to_fit();
    for m in &mut a.mentions {
        m.metadata.shrink_to_fit();
        for (k, v) in &mut m.metadata {
            k.shrink_to_fit();
            v.shrink_to_fit();
        }
    }
    a.claims.shrink_to_fit();
    for c in &mut a.claims {
        c.segments.shrink_to_fit();
        c.text.shrink_to_fit();
        c.speaker.name.shrink_to_fit();
        c.speaker.description.shrink_to_fit();
        c.quantities.shrink_to_fit();
        for q in &mut c.quantities {
            q.head.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_is_timed_over_the_same_word_count() {
        let docs = vec![Document {
            id: "a".into(),
            text: "Steve Witkoff met Vladimir Putin in Moscow on Friday. “It went well,” he said."
                .into(),
            ..Default::default()
        }];
        let report = run(&docs, 1);
        assert_eq!(report.words, 14);
        let names: Vec<&str> = report.stages.iter().map(|s| s.stage).collect();
        assert_eq!(names.first(), Some(&"tokenize"));
        assert_eq!(names.last(), Some(&"analyze"));
        assert!(report
            .stages
            .iter()
            .all(|s| s.best_cpu_seconds <= s.median_cpu_seconds));
    }
}

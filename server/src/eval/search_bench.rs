//! `dossier-eval bench-search`: the search engine alone, without gRPC — the cost of one
//! `Snapshot::search` call (query compilation, ranking, paging, stored fields, snippets) on
//! one thread, over a file of queries.
//!
//! The corpus is loaded and served as the server does it (`Store::load`: analysed, the
//! titles, texts and sentences kept in the store, the index holding ids, sources and dates);
//! `--index-texts` indexes the texts in the search index instead, without analysis. The
//! result cache is bypassed, so every query runs the engine. Each query is timed by wall
//! clock (percentiles) and every pass by the thread's own CPU time (mean per query: other
//! processes on a shared machine do not inflate it). The output digest hashes every page
//! (ids, scores, snippets) and total: equal digests before and after a speed change show
//! that the change altered no result.

use std::hash::Hasher;
use std::io::BufRead;
use std::path::PathBuf;
use std::time::Instant;

use super::EvalError;
use crate::corpus::load;
use crate::index::{IndexDoc, IndexOptions, SearchIndex, SearchQuery, Syntax};
use crate::store::Store;

/// `dossier-eval bench-search`: engine-only search latency over a query file.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchSearchArgs {
    /// Corpus files or folders, as the server's `--corpus` (repeatable).
    #[arg(long, default_values = ["../shared/data/news/bbc", "../shared/data/news/reuters21578/reuters21578_flat.jsonl"])]
    pub corpus: Vec<PathBuf>,
    /// Queries, one JSON object per line with `query` and optionally `page_size` and
    /// `syntax` ("PLAIN_TEXT"); the file `server/benches/search-load.sh` writes.
    #[arg(long)]
    pub queries: PathBuf,
    /// Use at most this many queries.
    #[arg(long, default_value_t = 5000)]
    pub limit: usize,
    /// Timed passes over the queries (after one warm-up pass); the best is reported.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Cut no snippets (highlights off), to see their share.
    #[arg(long)]
    pub no_highlight: bool,
    /// Count every match exactly (`exact_total_hits`): no pruning; the pages and the
    /// digest are then those of a full pass.
    #[arg(long)]
    pub exact: bool,
    /// Also run every query with an exact count and report the queries whose page (ids in
    /// order) differs from the default run's (pruning must change none), and how many
    /// counts were lower bounds.
    #[arg(long)]
    pub check: bool,
    /// Print this many of the slowest queries.
    #[arg(long, default_value_t = 5)]
    pub slowest: usize,
    /// Index the texts in the search index itself (no analysis, no sentences), instead of
    /// loading the corpus as the server does (analysed, texts kept in the store).
    #[arg(long)]
    pub index_texts: bool,
    /// With `--index-texts`: doc store block size in bytes (default: the index's); a hit
    /// decompresses its block.
    #[arg(long)]
    pub docstore_blocksize: Option<usize>,
}

/// The benchmark's result.
#[derive(Debug, Clone)]
pub struct BenchSearchReport {
    /// Documents indexed.
    pub documents: u64,
    /// Bytes of the index files (postings, fast fields, doc store…).
    pub index_bytes: u64,
    /// Index segments.
    pub segments: usize,
    /// Queries per pass.
    pub queries: usize,
    /// Mean on-CPU time per query in the best pass, in microseconds.
    pub cpu_micros: f64,
    /// Wall-clock percentiles per query (p50, p90, p99, max) in the best pass, microseconds.
    pub wall_micros: [f64; 4],
    /// Mean total hits per query.
    pub mean_total_hits: f64,
    /// FNV-1a over every result page (see the module docs).
    pub digest: String,
    /// The slowest queries of the best pass: (wall microseconds, total hits, query text).
    pub slowest: Vec<(f64, u64, String)>,
    /// Queries whose count was a lower bound.
    pub lower_bounds: usize,
    /// With `--check`: queries whose page differs from the exactly counted one.
    pub check_mismatches: Option<usize>,
}

impl std::fmt::Display for BenchSearchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [p50, p90, p99, max] = self.wall_micros;
        writeln!(
            f,
            "{} documents ({:.1} MB index, {} segments), {} queries, one thread, result cache off; mean total hits {:.0}",
            self.documents,
            self.index_bytes as f64 / 1e6,
            self.segments,
            self.queries,
            self.mean_total_hits
        )?;
        writeln!(
            f,
            "engine search: cpu {:.1} us/query; wall p50 {p50:.1} us  p90 {p90:.1} us  p99 {p99:.1} us  max {max:.1} us",
            self.cpu_micros
        )?;
        writeln!(f, "output digest {}", self.digest)?;
        writeln!(
            f,
            "counts that are lower bounds (past {} matches): {} of {} queries",
            crate::index::EXACT_TOTAL_HITS_UP_TO,
            self.lower_bounds,
            self.queries
        )?;
        if let Some(n) = self.check_mismatches {
            writeln!(f, "check against exact counting: {n} pages differ")?;
        }
        for (micros, hits, text) in &self.slowest {
            writeln!(f, "slow: {micros:>9.1} us  {hits:>6} hits  {text:?}")?;
        }
        Ok(())
    }
}

/// Loads and indexes the corpus, then times the queries.
pub fn run(args: &BenchSearchArgs) -> Result<BenchSearchReport, EvalError> {
    let queries = read_queries(args)?;
    let loaded = load::load_paths(&args.corpus)?;
    let snapshot = if args.index_texts {
        let defaults = IndexOptions::default();
        let options = IndexOptions {
            store_text: true,
            docstore_blocksize: args
                .docstore_blocksize
                .unwrap_or(defaults.docstore_blocksize),
            ..defaults
        };
        let index = SearchIndex::with_options(options)?;
        for batch in loaded.documents.chunks(1000) {
            let docs: Vec<IndexDoc> = batch.iter().map(super::index_doc).collect();
            index.upsert(&docs)?;
        }
        index.commit()?
    } else {
        // As the server serves it: analysed, titles, texts and sentences in the store.
        let store = Store::new();
        store.load(loaded.documents);
        store.index().snapshot()
    };
    let pass = || -> Result<Pass, EvalError> {
        let mut digest = fnv::FnvHasher::default();
        let mut wall = Vec::with_capacity(queries.len());
        let mut hits = 0;
        let mut lower_bounds = 0;
        let cpu0 = super::bench::thread_cpu_seconds();
        let t0 = Instant::now();
        for q in &queries {
            let started = Instant::now();
            let results = snapshot.search_uncached(q)?;
            wall.push((started.elapsed().as_secs_f64() * 1e6, results.total_hits));
            hits += results.total_hits;
            lower_bounds += usize::from(
                results.total_hits_relation == crate::index::TotalHitsRelation::GreaterOrEqual,
            );
            digest.write(&results.total_hits.to_le_bytes());
            for hit in &results.hits {
                digest.write(hit.id.as_bytes());
                digest.write(&hit.score.to_le_bytes());
                for s in &hit.snippets {
                    digest.write(s.markup.as_bytes());
                }
            }
        }
        let elapsed = t0.elapsed().as_secs_f64();
        let cpu = match (cpu0, super::bench::thread_cpu_seconds()) {
            (Some(a), Some(b)) => b - a,
            _ => elapsed,
        };
        Ok(Pass {
            cpu,
            per_query: wall,
            hits,
            lower_bounds,
            digest: format!("{:016x}", digest.finish()),
        })
    };
    let mut best = pass()?; // warm-up
    best.cpu = f64::MAX;
    for _ in 0..args.runs.max(1) {
        let run = pass()?;
        if run.cpu < best.cpu {
            best = run;
        }
    }
    let Pass {
        cpu,
        per_query,
        hits,
        lower_bounds,
        digest,
    } = best;
    let check_mismatches = if args.check {
        let mut differ = 0;
        for q in &queries {
            let mut exact = q.clone();
            exact.exact_total_hits = true;
            let (a, b) = (
                snapshot.search_uncached(q)?,
                snapshot.search_uncached(&exact)?,
            );
            let page = |r: &crate::index::SearchResults| -> Vec<String> {
                r.hits.iter().map(|h| h.id.clone()).collect()
            };
            if page(&a) != page(&b) {
                differ += 1;
                eprintln!("page differs: {:?}", q.text);
            }
        }
        Some(differ)
    } else {
        None
    };
    let mut order: Vec<usize> = (0..per_query.len()).collect();
    order.sort_by(|&a, &b| per_query[b].0.total_cmp(&per_query[a].0));
    let slowest = order
        .iter()
        .take(args.slowest)
        .map(|&i| (per_query[i].0, per_query[i].1, queries[i].text.clone()))
        .collect();
    let mut wall: Vec<f64> = per_query.iter().map(|q| q.0).collect();
    wall.sort_by(f64::total_cmp);
    let at = |q: f64| {
        wall.get(((wall.len() as f64 * q) as usize).min(wall.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    let n = queries.len().max(1) as f64;
    Ok(BenchSearchReport {
        documents: snapshot.num_docs(),
        index_bytes: snapshot.index_bytes(),
        segments: snapshot.num_segments(),
        queries: queries.len(),
        cpu_micros: cpu * 1e6 / n,
        wall_micros: [
            at(0.5),
            at(0.9),
            at(0.99),
            wall.last().copied().unwrap_or(0.0),
        ],
        mean_total_hits: hits as f64 / n,
        digest,
        slowest,
        lower_bounds,
        check_mismatches,
    })
}

/// One timed pass over the queries.
struct Pass {
    /// Thread CPU seconds.
    cpu: f64,
    /// (wall microseconds, total hits) per query.
    per_query: Vec<(f64, u64)>,
    /// Total hits over all queries.
    hits: u64,
    /// Queries whose count was a lower bound.
    lower_bounds: usize,
    /// See [`BenchSearchReport::digest`].
    digest: String,
}

fn read_queries(args: &BenchSearchArgs) -> Result<Vec<SearchQuery>, EvalError> {
    let io = |source| EvalError::Io {
        path: args.queries.clone(),
        source,
    };
    let file = std::fs::File::open(&args.queries).map_err(io)?;
    let mut out = Vec::new();
    for line in std::io::BufReader::new(file).lines() {
        let line = line.map_err(io)?;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(&line)?;
        let syntax = match value["syntax"].as_str() {
            Some("PLAIN_TEXT") => Syntax::PlainText,
            _ => Syntax::QueryLanguage,
        };
        let mut query = SearchQuery::new(value["query"].as_str().unwrap_or_default(), syntax);
        if let Some(n) = value["page_size"].as_u64() {
            query.limit = n as usize;
        }
        if args.no_highlight {
            query.highlight = None;
        }
        query.exact_total_hits = args.exact;
        out.push(query);
        if out.len() == args.limit {
            break;
        }
    }
    Ok(out)
}

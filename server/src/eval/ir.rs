//! Search-ranking evaluation on a BEIR collection (`dossier-eval ir`): index `corpus.jsonl`
//! in memory, run every judged query as PLAIN_TEXT through [`crate::index::Snapshot::search`] (the same
//! path the Search RPC takes), and report nDCG@10 and Recall@100 exactly as pytrec_eval /
//! `tools/scorers/ir.py` compute them (linear gains, mean over the queries in the qrels).
//!
//! `--params` compares ranking parameter sets on one index; it is how [`RankParams`]'
//! defaults were tuned (on SciFact *train* only).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::index::{IndexDoc, IndexError, RankParams, SearchIndex, SearchQuery, Syntax};

/// `dossier-eval ir`: nDCG@10 and Recall@100 of PLAIN_TEXT search on a BEIR collection.
#[derive(Debug, Clone, clap::Args)]
pub struct IrArgs {
    /// BEIR `corpus.jsonl` (`_id`, `title`, `text`).
    #[arg(long)]
    pub corpus: PathBuf,
    /// BEIR queries `.jsonl` (`_id`, `text`).
    #[arg(long)]
    pub queries: PathBuf,
    /// BEIR qrels `.tsv` (`query-id`, `corpus-id`, `score`, with a header).
    #[arg(long)]
    pub qrels: PathBuf,
    /// Ranking parameters to compare, each "key=value …" over the defaults (repeatable;
    /// none evaluates the defaults), e.g. `--params "k1=0.9 b_text=0.4"`.
    #[arg(long)]
    pub params: Vec<String>,
    /// Hits retrieved per query (the page size).
    #[arg(long, default_value_t = 100)]
    pub top: usize,
    /// Write the run of the first parameter set as TSV (query, doc, rank, score).
    #[arg(long)]
    pub run: Option<PathBuf>,
}

/// What can go wrong in an evaluation.
#[derive(Debug, thiserror::Error)]
pub enum IrError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A line is not what the format says.
    #[error("{path}:{line}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A `--params` value is not valid.
    #[error("--params: {0}")]
    Params(String),
    /// Indexing or searching failed.
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// The scores of one parameter set.
#[derive(Debug, Clone, PartialEq)]
pub struct IrScore {
    /// The `--params` text ("" for the defaults).
    pub params: String,
    /// Mean nDCG@10.
    pub ndcg10: f64,
    /// Mean Recall@100.
    pub recall100: f64,
    /// Wall time of all queries.
    pub took: Duration,
}

/// The report `dossier-eval ir` prints.
#[derive(Debug, Clone)]
pub struct IrReport {
    /// Documents indexed.
    pub documents: usize,
    /// Time to index and commit them.
    pub index_time: Duration,
    /// Queries with judgements (the mean's denominator).
    pub judged: usize,
    /// One line per parameter set.
    pub scores: Vec<IrScore>,
}

impl fmt::Display for IrReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} documents indexed in {:.1} s; {} judged queries (PLAIN_TEXT)",
            self.documents,
            self.index_time.as_secs_f64(),
            self.judged
        )?;
        writeln!(f, "nDCG@10  Recall@100  ms/query  params")?;
        for s in &self.scores {
            writeln!(
                f,
                "{:.4}   {:.4}      {:>7.2}  {}",
                s.ndcg10,
                s.recall100,
                s.took.as_secs_f64() * 1000.0 / self.judged.max(1) as f64,
                if s.params.is_empty() {
                    "(defaults)"
                } else {
                    &s.params
                }
            )?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct CorpusLine {
    #[serde(rename = "_id")]
    id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    text: String,
}

#[derive(Deserialize)]
struct QueryLine {
    #[serde(rename = "_id")]
    id: String,
    text: String,
}

/// Runs the evaluation described by `args`.
pub fn run(args: &IrArgs) -> Result<IrReport, IrError> {
    let docs = read_jsonl::<CorpusLine>(&args.corpus)?;
    let queries: BTreeMap<String, String> = read_jsonl::<QueryLine>(&args.queries)?
        .into_iter()
        .map(|q| (q.id, q.text))
        .collect();
    let qrels = read_qrels(&args.qrels)?;
    let started = Instant::now();
    let index = SearchIndex::new_in_ram()?;
    let documents = docs.len();
    let batch: Vec<IndexDoc> = docs
        .into_iter()
        .map(|d| IndexDoc {
            id: d.id,
            title: d.title,
            text: d.text,
            ..IndexDoc::default()
        })
        .collect();
    index.upsert(&batch)?;
    let snapshot = index.commit()?;
    let index_time = started.elapsed();
    let param_sets = if args.params.is_empty() {
        vec![String::new()]
    } else {
        args.params.clone()
    };
    let mut scores = Vec::new();
    for (n, text) in param_sets.iter().enumerate() {
        let params: RankParams = text.parse().map_err(IrError::Params)?;
        index.set_rank_params(params);
        let started = Instant::now();
        let mut run: HashMap<&str, Vec<(String, f32)>> = HashMap::new();
        for qid in qrels.keys() {
            let Some(text) = queries.get(qid) else {
                continue;
            };
            let query = SearchQuery {
                limit: args.top,
                highlight: None,
                ..SearchQuery::new(text.clone(), Syntax::PlainText)
            };
            let results = snapshot.search(&query)?;
            run.insert(
                qid,
                results
                    .hits
                    .iter()
                    .map(|h| (h.id.clone(), h.score))
                    .collect(),
            );
        }
        let took = started.elapsed();
        if let (0, Some(path)) = (n, &args.run) {
            write_run(path, &run)?;
        }
        let (ndcg10, recall100) = evaluate(&run, &qrels);
        scores.push(IrScore {
            params: text.clone(),
            ndcg10,
            recall100,
            took,
        });
    }
    Ok(IrReport {
        documents,
        index_time,
        judged: qrels.len(),
        scores,
    })
}

/// Mean nDCG@10 and Recall@100 over the queries in `qrels` (a missing run scores 0).
pub fn evaluate(
    run: &HashMap<&str, Vec<(String, f32)>>,
    qrels: &BTreeMap<String, HashMap<String, u32>>,
) -> (f64, f64) {
    let mut ndcg = 0.0;
    let mut recall = 0.0;
    for (qid, rels) in qrels {
        let ranked: Vec<&str> = run
            .get(qid.as_str())
            .map(|r| r.iter().map(|(d, _)| d.as_str()).collect())
            .unwrap_or_default();
        ndcg += ndcg_at(&ranked, rels, 10);
        recall += recall_at(&ranked, rels, 100);
    }
    let n = qrels.len().max(1) as f64;
    (ndcg / n, recall / n)
}

/// nDCG@k with linear gains (pytrec_eval's `ndcg_cut`).
pub fn ndcg_at(ranked: &[&str], rels: &HashMap<String, u32>, k: usize) -> f64 {
    let gain = |i: usize, rel: u32| f64::from(rel) / ((i + 2) as f64).log2();
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, d)| gain(i, rels.get(*d).copied().unwrap_or(0)))
        .sum();
    let mut ideal: Vec<u32> = rels.values().copied().collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, r)| gain(i, *r))
        .sum();
    if idcg > 0.0 {
        dcg / idcg
    } else {
        0.0
    }
}

/// Share of the relevant documents found in the first `k`.
pub fn recall_at(ranked: &[&str], rels: &HashMap<String, u32>, k: usize) -> f64 {
    if rels.is_empty() {
        return 0.0;
    }
    let found = ranked
        .iter()
        .take(k)
        .collect::<std::collections::HashSet<_>>()
        .into_iter()
        .filter(|d| rels.contains_key(**d))
        .count();
    found as f64 / rels.len() as f64
}

fn open(path: &Path) -> Result<BufReader<File>, IrError> {
    File::open(path)
        .map(BufReader::new)
        .map_err(|source| IrError::Io {
            path: path.to_path_buf(),
            source,
        })
}

fn read_jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>, IrError> {
    let mut out = Vec::new();
    for (i, line) in open(path)?.lines().enumerate() {
        let line = line.map_err(|source| IrError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(serde_json::from_str(&line).map_err(|e| IrError::Format {
            path: path.to_path_buf(),
            line: i + 1,
            message: e.to_string(),
        })?);
    }
    Ok(out)
}

/// Reads qrels, keeping positive judgements only (as ir.py does).
fn read_qrels(path: &Path) -> Result<BTreeMap<String, HashMap<String, u32>>, IrError> {
    let mut out: BTreeMap<String, HashMap<String, u32>> = BTreeMap::new();
    for (i, line) in open(path)?.lines().enumerate() {
        let line = line.map_err(|source| IrError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if (i == 0 && line.starts_with("query-id")) || line.trim().is_empty() {
            continue;
        }
        let bad = |message: &str| IrError::Format {
            path: path.to_path_buf(),
            line: i + 1,
            message: message.to_string(),
        };
        let mut cols = line.split('\t');
        let (Some(q), Some(d), Some(s)) = (cols.next(), cols.next(), cols.next()) else {
            return Err(bad("expected query-id, corpus-id, score"));
        };
        let score: i64 = s
            .trim()
            .parse()
            .map_err(|_| bad("score is not an integer"))?;
        if score > 0 {
            out.entry(q.to_string())
                .or_default()
                .insert(d.to_string(), score as u32);
        }
    }
    Ok(out)
}

fn write_run(path: &Path, run: &HashMap<&str, Vec<(String, f32)>>) -> Result<(), IrError> {
    let io = |source| IrError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut out = std::io::BufWriter::new(File::create(path).map_err(io)?);
    let mut qids: Vec<&&str> = run.keys().collect();
    qids.sort();
    for qid in qids {
        for (rank, (doc, score)) in run[*qid].iter().enumerate() {
            writeln!(out, "{qid}\t{doc}\t{}\t{score}", rank + 1).map_err(io)?;
        }
    }
    out.flush().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rels(pairs: &[(&str, u32)]) -> HashMap<String, u32> {
        pairs.iter().map(|(d, r)| (d.to_string(), *r)).collect()
    }

    #[test]
    fn ndcg_matches_hand_computation() {
        // Proves nDCG@10 uses linear gains and log2(rank + 1) discounts like pytrec_eval.
        let r = rels(&[("a", 1), ("b", 1)]);
        assert!((ndcg_at(&["a", "b"], &r, 10) - 1.0).abs() < 1e-12);
        let expected = (1.0 / 3f64.log2()) / (1.0 + 1.0 / 3f64.log2());
        assert!((ndcg_at(&["x", "a"], &r, 10) - expected).abs() < 1e-12);
        assert_eq!(ndcg_at(&[], &r, 10), 0.0);
    }

    #[test]
    fn recall_counts_only_the_first_k() {
        // Proves Recall@k ignores hits past k and duplicates.
        let r = rels(&[("a", 1), ("b", 1)]);
        assert_eq!(recall_at(&["a", "x", "b"], &r, 2), 0.5);
        assert_eq!(recall_at(&["a", "a"], &r, 100), 0.5);
    }
}

//! Ranking: our own BM25F scoring over the title and text fields, as a tantivy [`Query`].
//!
//! tantivy's `TermQuery` scores each field separately with fixed `k1 = 1.2, b = 0.75`. We
//! score a query *clause* (a word, or a group of variants such as a prefix expansion) across
//! fields the BM25F way: the clause's term frequency in each field is length-normalised with
//! that field's own `b`, weighted by the field's weight, summed, and only then saturated with
//! `k1`. Clauses add up. Plain-text queries are expanded by pseudo-relevance feedback (RM3,
//! in `search`). Every parameter lives in [`RankParams`], tuned on the SciFact training
//! queries (see `eval::ir` and the numbers in [`RankParams`]' docs).
//!
//! Scoring is term-at-a-time into a dense per-segment accumulator: for the corpus sizes
//! Dossier serves (tens of thousands of articles) one pass over the postings is cheaper and
//! simpler than document-at-a-time pruning, and the result is an exact, sorted docset that
//! composes with tantivy's boolean queries, filters and collectors. A relevance page of a
//! ranked query alone takes [`RankWeight::best`] instead: the same scores, the best few
//! kept in a heap, and once enough matches are counted the clauses scored last add only to
//! documents already seen (`total_hits` then becomes a lower bound).

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use tantivy::fieldnorm::FieldNormReader;
use tantivy::index::SegmentId;
use tantivy::postings::Postings;
use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, SegmentReader, Term, TERMINATED};

/// Ranking parameters. [`Default`] holds the values tuned on SciFact train (809 queries;
/// `dossier-eval ir`, nDCG@10 / Recall@100):
///
/// | step | nDCG@10 | R@100 |
/// |---|---|---|
/// | tantivy default (`en_stem`, QueryParser over title + text) | 0.6597 | 0.9005 |
/// | this analyzer + BM25F, k1 1.2, b 0.75, equal field weights | 0.6964 | 0.9307 |
/// | + stopwords dropped from the query | 0.6984 | 0.9338 |
/// | k1 ∈ 0.6–2.0 × b ∈ 0.3–0.9 grid: 1.2 / 0.75 stays best | — | — |
/// | + title weight 2 (3: 0.7028) | 0.7016 | 0.9338 |
/// | + repeated query words counted once (`query_tf` off) | 0.7063 | 0.9289 |
/// | + RM3 feedback, 5 docs, 20 terms, weight 0.3, title 2.5 | 0.7161 | 0.9359 |
/// | feedback re-ranking the top 300 (match set unchanged) | 0.7161 | 0.9347 |
///
/// Tried and dropped (no gain): proximity bonus for adjacent query words (+0.000 with
/// feedback), BM25+ δ (−0.002 to −0.007), a query-coverage factor (−0.002 to −0.017),
/// idf-weighted feedback terms, the Porter stemmer instead of Snowball English.
#[derive(Debug, Clone, PartialEq)]
pub struct RankParams {
    /// BM25 term-frequency saturation.
    pub k1: f32,
    /// Length normalisation of the title field (0 = none, 1 = full).
    pub b_title: f32,
    /// Length normalisation of the text field.
    pub b_text: f32,
    /// Weight of a title occurrence relative to a text occurrence.
    pub w_title: f32,
    /// Weight of a text occurrence.
    pub w_text: f32,
    /// Pseudo-relevance feedback for plain-text queries: documents read (0 turns it off).
    pub prf_docs: usize,
    /// Pseudo-relevance feedback: expansion terms added.
    pub prf_terms: usize,
    /// Pseudo-relevance feedback: share of the final query given to expansion terms.
    pub prf_weight: f32,
    /// Pseudo-relevance feedback: how many of the best first-pass hits are re-ranked.
    pub prf_rerank: usize,
    /// Pseudo-relevance feedback only for queries with at least this many distinct terms
    /// (short keyword queries gain little and would pay its cost).
    pub prf_min_terms: usize,
    /// Drop stopwords from plain-text queries (unless nothing else is left).
    pub drop_stopwords: bool,
    /// Weigh a plain-text query's words by how often they repeat in it.
    pub query_tf: bool,
}

impl Default for RankParams {
    fn default() -> Self {
        Self {
            k1: 1.2,
            b_title: 0.75,
            b_text: 0.75,
            w_title: 2.5,
            w_text: 1.0,
            prf_docs: 5,
            prf_terms: 20,
            prf_weight: 0.3,
            prf_rerank: 300,
            prf_min_terms: 4,
            drop_stopwords: true,
            query_tf: false,
        }
    }
}

impl FromStr for RankParams {
    type Err = String;

    /// Parses `key=value` pairs separated by spaces or commas, over the defaults, e.g.
    /// `"k1=0.9 b_text=0.4"` (used by `dossier-eval ir --params` to tune).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut p = Self::default();
        for pair in s.split([' ', ',']).filter(|x| !x.is_empty()) {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("expected key=value, got {pair:?}"))?;
            let f = || value.parse::<f32>().map_err(|e| format!("{key}: {e}"));
            let n = || value.parse::<usize>().map_err(|e| format!("{key}: {e}"));
            let b = || value.parse::<bool>().map_err(|e| format!("{key}: {e}"));
            match key {
                "k1" => p.k1 = f()?,
                "b" => {
                    p.b_title = f()?;
                    p.b_text = p.b_title;
                }
                "b_title" => p.b_title = f()?,
                "b_text" => p.b_text = f()?,
                "w_title" => p.w_title = f()?,
                "w_text" => p.w_text = f()?,
                "prf_docs" => p.prf_docs = n()?,
                "prf_terms" => p.prf_terms = n()?,
                "prf_weight" => p.prf_weight = f()?,
                "prf_rerank" => p.prf_rerank = n()?,
                "prf_min_terms" => p.prf_min_terms = n()?,
                "drop_stopwords" => p.drop_stopwords = b()?,
                "query_tf" => p.query_tf = b()?,
                _ => return Err(format!("unknown ranking parameter {key:?}")),
            }
        }
        Ok(p)
    }
}

/// The two scored text fields and their handles.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TextFields {
    pub title: Field,
    pub text: Field,
}

/// Which of the text fields a clause may match in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FieldSet {
    pub title: bool,
    pub text: bool,
}

impl FieldSet {
    pub(super) const BOTH: Self = Self {
        title: true,
        text: true,
    };
}

/// One query clause: any of its variants matching counts as the clause matching (their
/// frequencies add up), e.g. a word's stem, or the terms a prefix or fuzzy word expands to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Clause {
    pub variants: Vec<String>,
    /// Query-side weight (repetitions, feedback weights).
    pub weight: f32,
}

/// A ranked disjunction of clauses over title and text (see the module docs).
#[derive(Clone)]
pub(crate) struct RankQuery {
    spec: Arc<Spec>,
}

struct Spec {
    clauses: Vec<Clause>,
    fields: TextFields,
    field_set: FieldSet,
    params: RankParams,
    /// When set, only these documents (sorted, per segment) are scored: re-ranking.
    restrict: Option<HashMap<SegmentId, Vec<DocId>>>,
}

impl fmt::Debug for RankQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RankQuery")
            .field("clauses", &self.spec.clauses)
            .field("field_set", &self.spec.field_set)
            .finish()
    }
}

impl RankQuery {
    /// Ranks `clauses` in the fields of `field_set`.
    pub(super) fn new(
        clauses: Vec<Clause>,
        fields: TextFields,
        field_set: FieldSet,
        params: RankParams,
    ) -> Self {
        Self {
            spec: Arc::new(Spec {
                clauses,
                fields,
                field_set,
                params,
                restrict: None,
            }),
        }
    }

    /// The same query scoring only `docs` (sorted doc ids per segment), by seeking in the
    /// postings instead of walking them: cheap re-ranking of a candidate list.
    pub(super) fn restricted_to(&self, docs: HashMap<SegmentId, Vec<DocId>>) -> Self {
        let spec = &self.spec;
        Self {
            spec: Arc::new(Spec {
                clauses: spec.clauses.clone(),
                fields: spec.fields,
                field_set: spec.field_set,
                params: spec.params.clone(),
                restrict: Some(docs),
            }),
        }
    }

    /// The same query with other clauses (query expansion).
    pub(super) fn with_clauses(&self, clauses: Vec<Clause>) -> Self {
        let spec = &self.spec;
        Self::new(clauses, spec.fields, spec.field_set, spec.params.clone())
    }

    /// The clauses (for highlighting and feedback).
    pub(super) fn clauses(&self) -> &[Clause] {
        &self.spec.clauses
    }
}

impl Query for RankQuery {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let Some(searcher) = enable_scoring.searcher() else {
            return Ok(Box::new(RankWeight::unscored(Arc::clone(&self.spec))));
        };
        Ok(Box::new(self.scored_weight(searcher)?))
    }
}

impl RankQuery {
    /// The scoring weight over `searcher`'s statistics (idf, average field lengths): what
    /// [`Query::weight`] returns, as its concrete type for [`RankWeight::best`].
    pub(super) fn scored_weight(
        &self,
        searcher: &tantivy::Searcher,
    ) -> tantivy::Result<RankWeight> {
        let spec = Arc::clone(&self.spec);
        let mut num_docs = 0u64;
        let mut tokens = [0u64; 2];
        let fields = [spec.fields.title, spec.fields.text];
        for segment in searcher.segment_readers() {
            num_docs += u64::from(segment.max_doc());
            for (i, field) in fields.iter().enumerate() {
                tokens[i] += segment.inverted_index(*field)?.total_num_tokens();
            }
        }
        let n = num_docs.max(1) as f32;
        let avg = [
            (tokens[0] as f32 / n).max(1.0),
            (tokens[1] as f32 / n).max(1.0),
        ];
        let p = &spec.params;
        let norms = [
            Arc::new(norm_cache(p.b_title, avg[0])),
            Arc::new(norm_cache(p.b_text, avg[1])),
        ];
        let mut idf = Vec::with_capacity(spec.clauses.len());
        for clause in &spec.clauses {
            let mut df = 0u64;
            for (i, field) in fields.iter().enumerate() {
                if !spec.field_set.contains(i) {
                    continue;
                }
                for variant in &clause.variants {
                    let term = Term::from_field_text(*field, variant);
                    df = df.max(searcher.doc_freq(&term)?);
                }
            }
            idf.push(bm25_idf(df, num_docs));
        }
        Ok(RankWeight {
            spec,
            idf,
            norms,
            scoring: true,
        })
    }
}

impl FieldSet {
    fn contains(&self, i: usize) -> bool {
        match i {
            0 => self.title,
            _ => self.text,
        }
    }
}

/// BM25's idf, never negative.
pub(crate) fn bm25_idf(df: u64, num_docs: u64) -> f32 {
    let df = df.min(num_docs) as f32;
    (1.0 + (num_docs as f32 - df + 0.5) / (df + 0.5)).ln()
}

/// `1 - b + b * len / avg` for each of tantivy's 256 field-norm buckets.
fn norm_cache(b: f32, avg: f32) -> [f32; 256] {
    let mut cache = [0f32; 256];
    for (id, slot) in cache.iter_mut().enumerate() {
        let len = FieldNormReader::id_to_fieldnorm(id as u8) as f32;
        *slot = 1.0 - b + b * len / avg;
    }
    cache
}

pub(super) struct RankWeight {
    spec: Arc<Spec>,
    idf: Vec<f32>,
    norms: [Arc<[f32; 256]>; 2],
    scoring: bool,
}

impl RankWeight {
    fn unscored(spec: Arc<Spec>) -> Self {
        let n = spec.clauses.len();
        Self {
            spec,
            idf: vec![1.0; n],
            norms: [Arc::new([1.0; 256]), Arc::new([1.0; 256])],
            scoring: false,
        }
    }

    /// Scores every matching document of one segment.
    /// Scores every matching document of one segment; `sorted` orders them by doc id (a
    /// docset must be; a plain pass over all matches need not).
    fn score_segment(
        &self,
        reader: &SegmentReader,
        boost: Score,
        sorted: bool,
    ) -> tantivy::Result<RankScorer> {
        with_scratch(reader, |scratch| {
            self.score_into(reader, boost, sorted, scratch)
        })
    }

    /// [`Self::score_segment`] with reusable buffers (left dirty only at the touched docs,
    /// which `Scratch::clear` resets).
    fn score_into(
        &self,
        reader: &SegmentReader,
        boost: Score,
        sorted: bool,
        scratch: &mut Scratch,
    ) -> tantivy::Result<RankScorer> {
        let spec = &self.spec;
        let p = &spec.params;
        let allowed: Option<&[DocId]> = match &spec.restrict {
            Some(map) => match map.get(&reader.segment_id()) {
                Some(docs) => Some(docs),
                None => return Ok(RankScorer::default()),
            },
            None => None,
        };
        let Scratch {
            slots,
            touched,
            clause_docs,
        } = scratch;
        let fields = [spec.fields.title, spec.fields.text];
        let field_weights = [p.w_title, p.w_text];
        let mut fieldnorms: [Option<FieldNormReader>; 2] = [None, None];
        for (i, field) in fields.iter().enumerate() {
            if spec.field_set.contains(i) {
                fieldnorms[i] = Some(reader.get_fieldnorms_reader(*field)?);
            }
        }
        for (c, clause) in spec.clauses.iter().enumerate() {
            // A slot's `seen` holds 1 + the last clause that touched its document.
            let mark = c as u32 + 1;
            for (i, field) in fields.iter().enumerate() {
                let Some(fieldnorm) = &fieldnorms[i] else {
                    continue;
                };
                let inverted = reader.inverted_index(*field)?;
                let norm = &self.norms[i];
                let weight = field_weights[i];
                for variant in &clause.variants {
                    let term = Term::from_field_text(*field, variant);
                    let value = |doc: DocId, freq: u32| {
                        weight * freq as f32 / norm[fieldnorm.fieldnorm_id(doc) as usize]
                    };
                    match allowed {
                        Some(allowed) => {
                            let Some(mut postings) =
                                inverted.read_postings(&term, IndexRecordOption::WithFreqs)?
                            else {
                                continue;
                            };
                            for &doc in allowed {
                                if postings.doc() < doc && postings.seek(doc) == TERMINATED {
                                    break;
                                }
                                if postings.doc() == doc {
                                    let v = value(doc, postings.term_freq());
                                    add_posting(slots, touched, clause_docs, mark, doc, v);
                                }
                            }
                        }
                        None => {
                            // Every posting: a block (128 documents) at a time.
                            let Some(mut block) = inverted
                                .read_block_postings(&term, IndexRecordOption::WithFreqs)?
                            else {
                                continue;
                            };
                            while !block.docs().is_empty() {
                                for (&doc, &freq) in block.docs().iter().zip(block.freqs()) {
                                    let v = value(doc, freq);
                                    add_posting(slots, touched, clause_docs, mark, doc, v);
                                }
                                block.advance();
                            }
                        }
                    }
                }
            }
            let w = self.idf[c] * clause.weight * (p.k1 + 1.0) * boost;
            for &doc in clause_docs.iter() {
                let slot = &mut slots[doc as usize];
                let t = slot.tf;
                slot.tf = 0.0;
                if self.scoring && t > 0.0 {
                    slot.acc += w * t / (p.k1 + t);
                }
            }
            clause_docs.clear();
        }
        let max_doc = reader.max_doc() as usize;
        let docs: Vec<DocId> = if !sorted {
            touched.clone()
        } else if touched.len() * 16 >= max_doc {
            // Dense: reading the marks in order (branch-free) beats sorting.
            let mut docs = vec![0; max_doc];
            let mut n = 0;
            for (d, slot) in slots[..max_doc].iter().enumerate() {
                let mark = slot.seen;
                docs[n] = d as DocId;
                n += usize::from(mark != 0);
            }
            docs.truncate(n);
            docs
        } else {
            let mut docs = touched.clone();
            docs.sort_unstable();
            docs
        };
        let scores = docs.iter().map(|&d| slots[d as usize].acc).collect();
        Ok(RankScorer {
            docs,
            scores,
            cursor: 0,
        })
    }
}

/// When [`RankWeight::best`] may stop counting matches.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cutoff {
    /// Live matches counted in earlier segments.
    pub(super) counted_before: u64,
    /// Counting may stop only once this many live matches are counted (`u64::MAX`: never).
    pub(super) exact_up_to: u64,
    /// The `k`-th best score of earlier segments, once they gave `k` matches: a document of
    /// this segment must beat it to reach the page.
    pub(super) floor: Option<Score>,
}

/// What [`RankWeight::best`] finds in one segment.
#[derive(Debug, Default)]
pub(super) struct SegmentBest {
    /// The best `k` live matches with their scores, in no particular order.
    pub(super) docs: Vec<(DocId, Score)>,
    /// Live matches counted: all of them when `complete`, else a lower bound.
    pub(super) counted: u64,
    /// False when documents matching only the clauses scored last were neither scored
    /// nor counted (none of them could reach the best `k`).
    pub(super) complete: bool,
}

impl RankWeight {
    /// The best `k` live matches of one segment and their count, term at a time with
    /// pruning ("quit and continue", Moffat and Zobel 1996): clauses are scored in order of
    /// their largest possible contribution (`idf · weight · (k1 + 1)`, which BM25's
    /// saturation never reaches), and once the documents seen so far hold `k` whose partial
    /// scores beat everything the remaining clauses could add up to — and at least
    /// `cutoff.exact_up_to` matches are counted — the remaining clauses only add to the
    /// documents already seen: a document first met there could not reach the top `k`. The
    /// top `k` and their scores are exact either way; only the count stops short.
    pub(super) fn best(
        &self,
        reader: &SegmentReader,
        k: usize,
        cutoff: &Cutoff,
    ) -> tantivy::Result<SegmentBest> {
        with_scratch(reader, |scratch| self.best_into(reader, k, cutoff, scratch))
    }

    fn best_into(
        &self,
        reader: &SegmentReader,
        k: usize,
        cutoff: &Cutoff,
        scratch: &mut Scratch,
    ) -> tantivy::Result<SegmentBest> {
        let alive = reader.alive_bitset();
        let is_alive = |doc: DocId| alive.is_none_or(|a| a.is_alive(doc));
        if self.spec.restrict.is_some() || !self.scoring {
            // Not a page's pass (re-ranking or unscored): no pruning.
            let scorer = self.score_into(reader, 1.0, false, scratch)?;
            let live = || {
                scorer
                    .docs
                    .iter()
                    .zip(&scorer.scores)
                    .filter(|(&d, _)| is_alive(d))
                    .map(|(&d, &s)| (d, s))
            };
            let counted = live().count() as u64;
            let docs = best_of(live(), k);
            return Ok(SegmentBest {
                docs,
                counted,
                complete: true,
            });
        }
        let spec = &self.spec;
        let p = &spec.params;
        let fields = [spec.fields.title, spec.fields.text];
        let field_weights = [p.w_title, p.w_text];
        let mut fieldnorms: [Option<FieldNormReader>; 2] = [None, None];
        for (i, field) in fields.iter().enumerate() {
            if spec.field_set.contains(i) {
                fieldnorms[i] = Some(reader.get_fieldnorms_reader(*field)?);
            }
        }
        let n = spec.clauses.len();
        let bound: Vec<f32> = (0..n)
            .map(|c| self.idf[c] * spec.clauses[c].weight * (p.k1 + 1.0))
            .collect();
        let mut order: Vec<usize> = (0..n).collect();
        if cutoff.exact_up_to != u64::MAX {
            // (Counting everything, the clauses go in query order: the scores are then
            // bit for bit those of a full pass, whose sums run in that order.)
            order.sort_by(|&a, &b| bound[b].total_cmp(&bound[a]));
        }
        // `remaining[i]`: the most the clauses from `order[i]` on can add to a document.
        let mut remaining = vec![0f32; n + 1];
        for i in (0..n).rev() {
            remaining[i] = remaining[i + 1] + bound[order[i]];
        }
        let Scratch {
            slots,
            touched,
            clause_docs,
        } = scratch;
        let mut pruning = false;
        for (at, &c) in order.iter().enumerate() {
            if at > 0 && !pruning && cutoff.exact_up_to != u64::MAX && k > 0 {
                let live = || touched.iter().filter(|&&d| is_alive(d));
                let counted = live().count() as u64;
                if cutoff.counted_before.saturating_add(counted) >= cutoff.exact_up_to {
                    let partial = live().map(|&d| slots[d as usize].acc);
                    let kth = kth_best(partial, k).unwrap_or(f32::NEG_INFINITY);
                    let threshold = kth.max(cutoff.floor.unwrap_or(f32::NEG_INFINITY));
                    pruning = threshold > remaining[at];
                }
            }
            let clause = &spec.clauses[c];
            let mark = c as u32 + 1;
            for (i, field) in fields.iter().enumerate() {
                let Some(fieldnorm) = &fieldnorms[i] else {
                    continue;
                };
                let inverted = reader.inverted_index(*field)?;
                let norm = &self.norms[i];
                let weight = field_weights[i];
                for variant in &clause.variants {
                    let term = Term::from_field_text(*field, variant);
                    let Some(mut block) =
                        inverted.read_block_postings(&term, IndexRecordOption::WithFreqs)?
                    else {
                        continue;
                    };
                    while !block.docs().is_empty() {
                        for (&doc, &freq) in block.docs().iter().zip(block.freqs()) {
                            if pruning && slots[doc as usize].seen == 0 {
                                continue;
                            }
                            let v =
                                weight * freq as f32 / norm[fieldnorm.fieldnorm_id(doc) as usize];
                            add_posting(slots, touched, clause_docs, mark, doc, v);
                        }
                        block.advance();
                    }
                }
            }
            let w = self.idf[c] * clause.weight * (p.k1 + 1.0);
            for &doc in clause_docs.iter() {
                let slot = &mut slots[doc as usize];
                let t = slot.tf;
                slot.tf = 0.0;
                if t > 0.0 {
                    slot.acc += w * t / (p.k1 + t);
                }
            }
            clause_docs.clear();
        }
        let live = || {
            touched
                .iter()
                .filter(|&&d| is_alive(d))
                .map(|&d| (d, slots[d as usize].acc))
        };
        let counted = if alive.is_some() {
            live().count() as u64
        } else {
            touched.len() as u64
        };
        let docs = best_of(live(), k);
        Ok(SegmentBest {
            docs,
            counted,
            complete: !pruning,
        })
    }
}

/// A scored document ordered so that the better one is greater: higher score, then lower
/// doc id (the order of `collect::Match` within a segment).
#[derive(Debug, Clone, Copy)]
struct Ranked(Score, DocId);

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0).then(other.1.cmp(&self.1))
    }
}

/// The best `k` of `docs`, in no order: a min-heap of `k` that most documents leave after
/// one comparison with its worst (cheaper than selecting over all of them).
fn best_of(docs: impl Iterator<Item = (DocId, Score)>, k: usize) -> Vec<(DocId, Score)> {
    use std::cmp::Reverse;
    let mut heap: std::collections::BinaryHeap<Reverse<Ranked>> =
        std::collections::BinaryHeap::with_capacity(k.min(4096) + 1);
    if k == 0 {
        return Vec::new();
    }
    for (doc, score) in docs {
        let r = Ranked(score, doc);
        if heap.len() < k {
            heap.push(Reverse(r));
        } else if let Some(mut worst) = heap.peek_mut() {
            if r > worst.0 {
                *worst = Reverse(r);
            }
        }
    }
    heap.into_iter()
        .map(|Reverse(Ranked(s, d))| (d, s))
        .collect()
}

/// The `k`-th best of `scores`, if there are `k`.
fn kth_best(scores: impl Iterator<Item = Score>, k: usize) -> Option<Score> {
    let mut heap: std::collections::BinaryHeap<std::cmp::Reverse<Ranked>> =
        std::collections::BinaryHeap::with_capacity(k.min(4096) + 1);
    for s in scores {
        let r = Ranked(s, 0);
        if heap.len() < k {
            heap.push(std::cmp::Reverse(r));
        } else if let Some(mut worst) = heap.peek_mut() {
            if r > worst.0 {
                *worst = std::cmp::Reverse(r);
            }
        }
    }
    (heap.len() == k && k > 0)
        .then(|| heap.peek().map(|r| r.0 .0))
        .flatten()
}

thread_local! {
    /// Per-thread scoring buffers, reused across segments and queries.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with this thread's scratch buffers sized for `reader`, reset after.
fn with_scratch<T>(reader: &SegmentReader, f: impl FnOnce(&mut Scratch) -> T) -> T {
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        scratch.prepare(reader.max_doc() as usize);
        let result = f(&mut scratch);
        scratch.clear();
        result
    })
}

/// Dense per-document buffers for term-at-a-time scoring.
#[derive(Default)]
struct Scratch {
    /// Per-document state, indexed by doc id.
    slots: Vec<Slot>,
    /// Documents with `seen != 0`.
    touched: Vec<DocId>,
    /// Documents the current clause matched.
    clause_docs: Vec<DocId>,
}

/// One document's scoring state, side by side so that a posting touches one cache line.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    /// 0, or 1 + the last clause that matched the document.
    seen: u32,
    /// The current clause's weighted, normalised term frequency.
    tf: f32,
    /// Score so far.
    acc: f32,
}

/// Adds a posting's weighted, normalised frequency `value` to its document, noting the
/// document the first time this clause (and the first time any clause) reaches it.
#[inline(always)]
fn add_posting(
    slots: &mut [Slot],
    touched: &mut Vec<DocId>,
    clause_docs: &mut Vec<DocId>,
    mark: u32,
    doc: DocId,
    value: f32,
) {
    let slot = &mut slots[doc as usize];
    if slot.seen != mark {
        if slot.seen == 0 {
            touched.push(doc);
        }
        slot.seen = mark;
        clause_docs.push(doc);
    }
    slot.tf += value;
}

impl Scratch {
    fn prepare(&mut self, max_doc: usize) {
        if self.slots.len() < max_doc {
            self.slots.resize(max_doc, Slot::default());
        }
    }

    /// Resets the entries the last segment touched.
    fn clear(&mut self) {
        for &d in self.touched.iter().chain(&self.clause_docs) {
            self.slots[d as usize] = Slot::default();
        }
        self.touched.clear();
        self.clause_docs.clear();
    }
}

impl Weight for RankWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(self.score_segment(reader, boost, true)?))
    }

    /// Every match, in no particular order (no sorting needed for a full pass).
    fn for_each(
        &self,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(DocId, Score),
    ) -> tantivy::Result<()> {
        let scorer = self.score_segment(reader, 1.0, false)?;
        for (&doc, &score) in scorer.docs.iter().zip(&scorer.scores) {
            callback(doc, score);
        }
        Ok(())
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.score_segment(reader, 1.0, true)?;
        if scorer.seek(doc) != doc {
            return Err(tantivy::TantivyError::InvalidArgument(format!(
                "document {doc} does not match"
            )));
        }
        Ok(Explanation::new(
            "BM25F over title and text",
            scorer.score(),
        ))
    }
}

/// The scored documents of one segment, sorted by doc id.
#[derive(Default)]
pub(crate) struct RankScorer {
    docs: Vec<DocId>,
    scores: Vec<f32>,
    cursor: usize,
}

impl DocSet for RankScorer {
    fn advance(&mut self) -> DocId {
        if self.cursor < self.docs.len() {
            self.cursor += 1;
        }
        self.doc()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc() >= target {
            return self.doc();
        }
        self.cursor += self.docs[self.cursor..].partition_point(|&d| d < target);
        self.doc()
    }

    fn doc(&self) -> DocId {
        self.docs.get(self.cursor).copied().unwrap_or(TERMINATED)
    }

    fn size_hint(&self) -> u32 {
        (self.docs.len() - self.cursor) as u32
    }
}

impl Scorer for RankScorer {
    fn score(&mut self) -> Score {
        self.scores.get(self.cursor).copied().unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_parse_over_defaults() {
        // Proves `--params` strings override only the keys they name and reject typos.
        let p: RankParams = "k1=0.9, b=0.4".parse().unwrap();
        assert_eq!((p.k1, p.b_title, p.b_text), (0.9, 0.4, 0.4));
        assert_eq!(p.w_title, RankParams::default().w_title);
        assert!("kk=1".parse::<RankParams>().is_err());
    }

    #[test]
    fn idf_is_positive_and_decreasing() {
        // Proves rarer terms weigh more and even a term in every doc weighs > 0.
        assert!(bm25_idf(1, 100) > bm25_idf(50, 100));
        assert!(bm25_idf(100, 100) > 0.0);
    }
}

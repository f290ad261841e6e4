//! Training: an averaged structured perceptron (Collins 2002) over the features of
//! `features`, decoded with the same BILOU Viterbi as inference.
//!
//! Every epoch visits the training sentences in a shuffled order (fixed seed, so training is
//! deterministic), decodes each with the current weights and, where the best sequence differs
//! from the gold one, adds the gold features and subtracts the predicted ones. The averaged
//! weights after each epoch are handed to a caller's callback (model selection on a
//! development set); the best epoch's model is returned.

use super::clusters::WordClusters;
use super::features::{analyze_tokens, set_doc_labels, token_features, Scratch};
use super::gazetteer::Gazetteer;
use super::model::{viterbi, Model, Stage, Workspace, NL};
use super::rng::Rng;
use super::table::Table;
use crate::analysis::tokenize::Token;
use std::ops::Range;

/// One training document: text, tokens, sentences (token index ranges) and a label per token.
#[derive(Debug, Clone)]
pub struct TrainDoc {
    /// The document's text.
    pub text: String,
    /// Its tokens (from `tokenize`).
    pub tokens: Vec<Token>,
    /// Sentences as token index ranges covering every token in order.
    pub sents: Vec<Range<usize>>,
    /// The gold BILOU label of each token (see [`super::model::label`]).
    pub labels: Vec<u8>,
}

/// Training settings.
#[derive(Debug, Clone, Copy)]
pub struct TrainConfig {
    /// Maximum number of passes over the training data.
    pub epochs: usize,
    /// Seed of the shuffling.
    pub seed: u64,
    /// Stop after this many epochs without a better development score.
    pub patience: usize,
}

/// One sentence, ready for training: feature rows per token, gold labels.
struct Example {
    /// Feature row ids, all tokens back to back.
    feats: Vec<u32>,
    /// `feats[offsets[i]..offsets[i + 1]]` are token i's.
    offsets: Vec<u32>,
    gold: Vec<u8>,
}

impl Example {
    /// Token `t`'s feature rows.
    fn token(&self, t: usize) -> &[u32] {
        &self.feats[self.offsets[t] as usize..self.offsets[t + 1] as usize]
    }
}

/// Labels a training document with `model` (for stacking: first-stage labels of held-out
/// folds).
pub fn predict_labels(model: &Model, doc: &TrainDoc) -> Vec<u8> {
    let mut ws = Workspace::default();
    model
        .tag(&doc.text, &doc.tokens, &doc.sents, &mut ws)
        .labels
}

/// Trains one stage on `docs`. For a second stage, `first_stage` holds each document's
/// first-stage labels (from held-out folds), which become document-level features. After
/// each epoch `on_epoch(epoch, &averaged_stage)` returns a development score (higher is
/// better); the stage of the best epoch is returned with that epoch (1-based) and its score.
pub fn train_stage(
    docs: &[TrainDoc],
    clusters: &[WordClusters],
    gazetteer: &Gazetteer,
    first_stage: Option<&[Vec<u8>]>,
    cfg: TrainConfig,
    mut on_epoch: impl FnMut(usize, &Stage) -> f64,
) -> (Stage, usize, f64) {
    let (rows, examples) = extract_examples(docs, clusters, gazetteer, first_stage);
    let mut p = Perceptron::new(rows.len());
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut rng = Rng::new(cfg.seed);
    let mut scratch = Decode::default();
    let mut best: Option<(Stage, usize, f64)> = None;
    let mut since_best = 0;
    for epoch in 1..=cfg.epochs {
        rng.shuffle(&mut order);
        let mut errors = 0usize;
        for &k in &order {
            if !p.learn(&examples[k], &mut scratch) {
                errors += 1;
            }
        }
        let model = p.averaged(&rows);
        let score = on_epoch(epoch, &model);
        tracing::info!(epoch, errors, score, "epoch done");
        if best.as_ref().is_none_or(|b| score > b.2) {
            best = Some((model, epoch, score));
            since_best = 0;
        } else {
            since_best += 1;
            if since_best >= cfg.patience {
                break;
            }
        }
    }
    best.unwrap_or_else(|| (Stage::default(), 0, 0.0))
}

/// Feature extraction, once: every sentence of `docs` as an example, feature hashes become
/// row ids (the table maps hash → row).
fn extract_examples(
    docs: &[TrainDoc],
    clusters: &[WordClusters],
    gazetteer: &Gazetteer,
    first_stage: Option<&[Vec<u8>]>,
) -> (Table<u32>, Vec<Example>) {
    let mut rows: Table<u32> = Table::with_capacity(1 << 20);
    let mut examples = Vec::new();
    let mut scratch = Scratch::default();
    let mut infos = Vec::new();
    let mut hashes = Vec::new();
    for (d, doc) in docs.iter().enumerate() {
        analyze_tokens(
            &doc.text,
            &doc.tokens,
            &doc.sents,
            clusters,
            gazetteer,
            &mut scratch,
            &mut infos,
        );
        if let Some(labels) = first_stage.and_then(|f| f.get(d)) {
            set_doc_labels(&mut infos, labels, &mut scratch);
        }
        for s in &doc.sents {
            let mut ex = Example {
                feats: Vec::new(),
                offsets: vec![0],
                gold: doc.labels[s.clone()].to_vec(),
            };
            for i in s.clone() {
                hashes.clear();
                token_features(&infos, s, i, &mut hashes);
                for &h in &hashes {
                    let id = match rows.get(h) {
                        Some(id) => id,
                        None => {
                            let id = rows.len() as u32;
                            rows.insert(h, id);
                            id
                        }
                    };
                    ex.feats.push(id);
                }
                ex.offsets.push(ex.feats.len() as u32);
            }
            examples.push(ex);
        }
    }
    (rows, examples)
}

/// Buffers for decoding one sentence, reused across sentences.
#[derive(Default)]
struct Decode {
    em: Vec<[f32; NL]>,
    forward: Vec<[f32; NL]>,
    pred: Vec<u8>,
}

/// An averaged structured perceptron: emission weights per feature row, transition and
/// start weights, each with its accumulator for the average (`c` counts the updates).
struct Perceptron {
    w: Vec<f32>,
    acc: Vec<f64>,
    trans: Vec<f32>,
    trans_acc: Vec<f64>,
    start: [f32; NL],
    start_acc: [f64; NL],
    c: f64,
}

impl Perceptron {
    fn new(nrows: usize) -> Self {
        Perceptron {
            w: vec![0f32; nrows * NL],
            acc: vec![0f64; nrows * NL],
            trans: vec![0f32; NL * NL],
            trans_acc: vec![0f64; NL * NL],
            start: [0f32; NL],
            start_acc: [0f64; NL],
            c: 1f64,
        }
    }

    /// Decodes `ex` and, when the labels are wrong, moves the weights towards the gold
    /// labels. True when the decoding was right.
    fn learn(&mut self, ex: &Example, d: &mut Decode) -> bool {
        let n = ex.gold.len();
        d.em.clear();
        d.em.resize(n, [0.0; NL]);
        for (t, e) in d.em.iter_mut().enumerate() {
            for &f in ex.token(t) {
                let base = f as usize * NL;
                for (o, x) in e.iter_mut().zip(&self.w[base..base + NL]) {
                    *o += *x;
                }
            }
        }
        d.pred.clear();
        d.pred.resize(n, 0u8);
        viterbi(&self.start, &self.trans, &d.em, &mut d.forward, &mut d.pred);
        let right = d.pred == ex.gold;
        if !right {
            for t in 0..n {
                self.update(ex, &d.pred, t);
            }
        }
        self.c += 1.0;
        right
    }

    /// The update at token `t` for prediction `pred`: emissions where the label is wrong,
    /// the transition (or start) into it where the label pair is wrong.
    fn update(&mut self, ex: &Example, pred: &[u8], t: usize) {
        let c = self.c;
        let (g, p) = (ex.gold[t] as usize, pred[t] as usize);
        if g != p {
            for &f in ex.token(t) {
                let base = f as usize * NL;
                self.w[base + g] += 1.0;
                self.acc[base + g] += c;
                self.w[base + p] -= 1.0;
                self.acc[base + p] -= c;
            }
        }
        let (gp, pp) = if t == 0 {
            (None, None)
        } else {
            (Some(ex.gold[t - 1] as usize), Some(pred[t - 1] as usize))
        };
        if (gp, g) != (pp, p) {
            match gp {
                None => {
                    self.start[g] += 1.0;
                    self.start_acc[g] += c;
                }
                Some(q) => {
                    self.trans[q * NL + g] += 1.0;
                    self.trans_acc[q * NL + g] += c;
                }
            }
            match pp {
                None => {
                    self.start[p] -= 1.0;
                    self.start_acc[p] -= c;
                }
                Some(q) => {
                    self.trans[q * NL + p] -= 1.0;
                    self.trans_acc[q * NL + p] -= c;
                }
            }
        }
    }

    /// The averaged weights as a stage (`rows` maps feature hashes to rows).
    fn averaged(&self, rows: &Table<u32>) -> Stage {
        let c = self.c;
        let avg = |w: &[f32], acc: &[f64]| -> Vec<f32> {
            w.iter()
                .zip(acc)
                .map(|(&x, &a)| (f64::from(x) - a / c) as f32)
                .collect()
        };
        let mut start_avg = [0f32; NL];
        for (l, s) in start_avg.iter_mut().enumerate() {
            *s = (f64::from(self.start[l]) - self.start_acc[l] / c) as f32;
        }
        let weights = avg(&self.w, &self.acc);
        Stage::quantize(
            rows.iter()
                .map(|(k, r)| {
                    let base = r as usize * NL;
                    let mut row = [0f32; NL];
                    row.copy_from_slice(&weights[base..base + NL]);
                    (k, row)
                })
                .collect(),
            start_avg,
            avg(&self.trans, &self.trans_acc),
        )
    }
}

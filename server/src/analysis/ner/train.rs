//! Training: an averaged structured perceptron (Collins 2002) over the features of
//! [`super::features`], decoded with the same BILOU Viterbi as inference.
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

/// A small deterministic generator (xorshift64*), for shuffling.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
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
    // Feature extraction, once: hashes become row ids.
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
    let nrows = rows.len();
    let mut w = vec![0f32; nrows * NL];
    let mut acc = vec![0f64; nrows * NL];
    let mut trans = vec![0f32; NL * NL];
    let mut trans_acc = vec![0f64; NL * NL];
    let mut start = [0f32; NL];
    let mut start_acc = [0f64; NL];
    let mut c = 1f64;
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut rng = Rng(cfg.seed | 1);
    let mut em: Vec<[f32; NL]> = Vec::new();
    let mut forward = Vec::new();
    let mut pred = Vec::new();
    let mut best: Option<(Stage, usize, f64)> = None;
    let mut since_best = 0;
    for epoch in 1..=cfg.epochs {
        for i in (1..order.len()).rev() {
            let j = (rng.next() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        let mut errors = 0usize;
        for &k in &order {
            let ex = &examples[k];
            let n = ex.gold.len();
            em.clear();
            em.resize(n, [0.0; NL]);
            for (t, e) in em.iter_mut().enumerate() {
                let fs = &ex.feats[ex.offsets[t] as usize..ex.offsets[t + 1] as usize];
                for &f in fs {
                    let base = f as usize * NL;
                    for (o, x) in e.iter_mut().zip(&w[base..base + NL]) {
                        *o += *x;
                    }
                }
            }
            pred.clear();
            pred.resize(n, 0u8);
            viterbi(&start, &trans, &em, &mut forward, &mut pred);
            if pred != ex.gold {
                errors += 1;
                for t in 0..n {
                    let (g, p) = (ex.gold[t] as usize, pred[t] as usize);
                    if g != p {
                        let fs = &ex.feats[ex.offsets[t] as usize..ex.offsets[t + 1] as usize];
                        for &f in fs {
                            let base = f as usize * NL;
                            w[base + g] += 1.0;
                            acc[base + g] += c;
                            w[base + p] -= 1.0;
                            acc[base + p] -= c;
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
                                start[g] += 1.0;
                                start_acc[g] += c;
                            }
                            Some(q) => {
                                trans[q * NL + g] += 1.0;
                                trans_acc[q * NL + g] += c;
                            }
                        }
                        match pp {
                            None => {
                                start[p] -= 1.0;
                                start_acc[p] -= c;
                            }
                            Some(q) => {
                                trans[q * NL + p] -= 1.0;
                                trans_acc[q * NL + p] -= c;
                            }
                        }
                    }
                }
            }
            c += 1.0;
        }
        let avg = |w: &[f32], acc: &[f64]| -> Vec<f32> {
            w.iter()
                .zip(acc)
                .map(|(&x, &a)| (f64::from(x) - a / c) as f32)
                .collect()
        };
        let mut start_avg = [0f32; NL];
        for (l, s) in start_avg.iter_mut().enumerate() {
            *s = (f64::from(start[l]) - start_acc[l] / c) as f32;
        }
        let weights = avg(&w, &acc);
        let model = Stage::quantize(
            rows.iter()
                .map(|(k, r)| {
                    let base = r as usize * NL;
                    let mut row = [0f32; NL];
                    row.copy_from_slice(&weights[base..base + NL]);
                    (k, row)
                })
                .collect(),
            start_avg,
            avg(&trans, &trans_acc),
        );
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

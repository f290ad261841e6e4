//! Honest settings for the NER tagger: k-fold cross-validation over the documents of a
//! CoNLL training file, and the final fit on all labelled data with the settings it chose.
//!
//! [`cross_validate`] splits the `-DOCSTART-` documents into `folds` parts (contiguous blocks of
//! documents, so a story told in neighbouring documents stays in one fold), trains a first stage on the other parts and scores the held-out part
//! through the full pipeline after every epoch. Summing true/false positives over the folds
//! gives one learning curve; its best epoch is the choice, and its score at that epoch the
//! estimate. With two stages, the held-out labels of the chosen first-stage epoch are the
//! jackknifed first-stage labels of every document, a second stage is trained fold by fold on
//! them and scored the same way. No development file is read: `eng.testa` is scored once per
//! candidate afterwards, with `dossier-eval ner --model`.
//!
//! [`fit`] then trains what ships on one or more labelled files (train + testa) with the
//! chosen epochs: no epoch is selected there, so nothing is fitted to a scored split.

use super::ner::{evaluate, read_conll, train_doc, ConllDoc, Report, CONLL_TYPES};
use super::EvalError;
use crate::analysis::ner::clusters::WordClusters;
use crate::analysis::ner::gazetteer::Gazetteer;
use crate::analysis::ner::model::{Model, Stage};
use crate::analysis::ner::train::{predict_labels, train_stage, TrainConfig, TrainDoc};
use crate::analysis::ner::Ner;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The word clusters and gazetteer the features use.
#[derive(Debug, Clone, Default)]
pub struct Resources {
    /// Cluster sets (zero, one or two views).
    pub clusters: Vec<WordClusters>,
    /// Phrase lists.
    pub gazetteer: Gazetteer,
}

impl Resources {
    /// Reads cluster files from `dossier-eval clusters` and a gazetteer from `gazetteer`.
    pub fn load(clusters: &[PathBuf], gazetteer: Option<&Path>) -> Result<Self, EvalError> {
        let read = |p: &Path| {
            std::fs::read(p).map_err(|source| EvalError::Io {
                path: p.to_path_buf(),
                source,
            })
        };
        let mut sets = Vec::new();
        for p in clusters {
            sets.push(WordClusters::from_bytes(&read(p)?)?);
        }
        let gazetteer = match gazetteer {
            Some(p) => Gazetteer::from_bytes(&read(p)?)?,
            None => Gazetteer::default(),
        };
        Ok(Resources {
            clusters: sets,
            gazetteer,
        })
    }

    /// A tagger made of `stages` over these resources.
    fn tagger(&self, stages: Vec<Stage>) -> Ner {
        Ner::from_model(self.model(stages))
    }

    fn model(&self, stages: Vec<Stage>) -> Model {
        Model::new(self.clusters.clone(), self.gazetteer.clone(), stages)
    }
}

/// Settings of a cross-validation run.
#[derive(Debug, Clone)]
pub struct CvOptions {
    /// Number of folds.
    pub folds: usize,
    /// Epochs of each learning curve.
    pub epochs: usize,
    /// Shuffling seed.
    pub seed: u64,
    /// 1, or 2 to also cross-validate the document-aware second stage.
    pub stages: usize,
    /// First-stage perceptrons (different shuffles) averaged at the chosen epoch; 1 skips it.
    pub ensemble: usize,
}

/// What cross-validation chose and estimated.
#[derive(Debug, Clone)]
pub struct CvResult {
    /// Best first-stage epoch.
    pub epoch1: usize,
    /// Pooled held-out report of the first stage at that epoch.
    pub stage1: Report,
    /// The same for the ensemble of first stages, when run.
    pub ensemble: Option<Report>,
    /// Best second-stage epoch and its pooled report, when run.
    pub stage2: Option<(usize, Report)>,
}

/// Adds `r`'s counts into `acc` (pooling folds).
fn pool(acc: &mut Report, r: &Report) {
    for (a, b) in acc.per_type.iter_mut().zip(&r.per_type) {
        a.tp += b.tp;
        a.fp += b.fp;
        a.fn_ += b.fn_;
    }
    acc.all.tp += r.all.tp;
    acc.all.fp += r.all.fp;
    acc.all.fn_ += r.all.fn_;
    acc.docs += r.docs;
    acc.words += r.words;
}

/// Precision, recall and F1 per type and overall, as a table (pooled reports carry no timing).
pub fn table(r: &Report) -> String {
    let mut s = String::from("type   P      R      F1     (tp/fp/fn)\n");
    let rows = CONLL_TYPES.iter().copied().zip(r.per_type.iter());
    for (t, p) in rows.chain(std::iter::once(("ALL", &r.all))) {
        s.push_str(&format!(
            "{t:<6} {:.4} {:.4} {:.4} ({}/{}/{})\n",
            p.p(),
            p.r(),
            p.f1(),
            p.tp,
            p.fp,
            p.fn_
        ));
    }
    s
}

/// One line: ALL and per-type F1.
pub fn summary(r: &Report) -> String {
    let mut s = format!("ALL {:.4}", r.all.f1());
    for (t, p) in CONLL_TYPES.iter().zip(&r.per_type) {
        s.push_str(&format!(" {t} {:.4}", p.f1()));
    }
    s
}

/// The index of the best pooled report (first on ties).
fn best(curve: &[Report]) -> usize {
    (0..curve.len()).fold(0, |b, k| {
        if curve[k].all.f1() > curve[b].all.f1() {
            k
        } else {
            b
        }
    })
}

/// Cross-validates the tagger over the documents of `train`; see the module docs.
pub fn cross_validate(
    train: &Path,
    res: &Resources,
    opts: &CvOptions,
) -> Result<CvResult, EvalError> {
    let t0 = Instant::now();
    let conll = read_conll(train)?;
    let docs: Vec<TrainDoc> = conll.iter().map(train_doc).collect();
    let k = opts.folds.max(2);
    let n = docs.len();
    // Contiguous blocks of documents: neighbouring documents often share a story or a
    // results table, and interleaved folds would let a fold see its own news.
    let fold_of = |i: usize| i * k / n.max(1);
    let split = |f: usize| -> (Vec<TrainDoc>, Vec<usize>) {
        let rest = (0..docs.len())
            .filter(|i| fold_of(*i) != f)
            .map(|i| docs[i].clone())
            .collect();
        let held = (0..docs.len()).filter(|i| fold_of(*i) == f).collect();
        (rest, held)
    };
    let held_docs =
        |held: &[usize]| -> Vec<ConllDoc> { held.iter().map(|&i| conll[i].clone()).collect() };
    eprintln!("cv: {} documents, {k} folds", docs.len());
    // First stage: one learning curve per fold; the held-out labels of every epoch are kept
    // for the second stage, and each epoch's stage for scoring the second stage.
    let mut curve1 = vec![Report::default(); opts.epochs];
    let mut labels1: Vec<Vec<Vec<u8>>> = vec![vec![Vec::new(); docs.len()]; opts.epochs];
    let mut stages1: Vec<Vec<Stage>> = vec![Vec::new(); k];
    let cfg = TrainConfig {
        epochs: opts.epochs,
        seed: opts.seed,
        patience: usize::MAX,
    };
    for (f, fold_stages) in stages1.iter_mut().enumerate() {
        let (rest, held) = split(f);
        let test = held_docs(&held);
        let keep_stages = opts.stages > 1;
        train_stage(&rest, &res.clusters, &res.gazetteer, None, cfg, |e, s| {
            let model = res.model(vec![s.clone()]);
            for &i in &held {
                labels1[e - 1][i] = predict_labels(&model, &docs[i]);
            }
            let r = evaluate(&Ner::from_model(model), &test);
            pool(&mut curve1[e - 1], &r);
            if keep_stages {
                fold_stages.push(s.clone());
            }
            e as f64
        });
        eprintln!(
            "cv fold {f}: stage 1 done, {:.0} s elapsed",
            t0.elapsed().as_secs_f64()
        );
    }
    for (e, r) in curve1.iter().enumerate() {
        eprintln!("cv stage 1 epoch {}: {}", e + 1, summary(r));
    }
    let b1 = best(&curve1);
    let epoch1 = b1 + 1;
    eprintln!("cv stage 1: best epoch {epoch1}: {}", summary(&curve1[b1]));
    let ensemble = if opts.ensemble > 1 {
        let mut pooled = Report::default();
        for f in 0..k {
            let (rest, held) = split(f);
            let mut members = Vec::new();
            for m in 0..opts.ensemble {
                let fixed = TrainConfig {
                    epochs: epoch1,
                    patience: usize::MAX,
                    seed: opts.seed.wrapping_add(2 * m as u64 + 1 - u64::from(m == 0)),
                };
                let (s, _, _) =
                    train_stage(&rest, &res.clusters, &res.gazetteer, None, fixed, |e, _| {
                        e as f64
                    });
                members.push(s);
            }
            let r = evaluate(
                &res.tagger(vec![Stage::average(&members)]),
                &held_docs(&held),
            );
            pool(&mut pooled, &r);
            eprintln!(
                "cv fold {f}: ensemble done, {:.0} s elapsed",
                t0.elapsed().as_secs_f64()
            );
        }
        eprintln!("cv ensemble of {}: {}", opts.ensemble, summary(&pooled));
        Some(pooled)
    } else {
        None
    };
    let stage2 = if opts.stages > 1 {
        let jack = &labels1[b1];
        let mut curve2 = vec![Report::default(); opts.epochs];
        for (f, fold_stages) in stages1.iter().enumerate() {
            let (_, held) = split(f);
            let rest_idx: Vec<usize> = (0..docs.len()).filter(|i| fold_of(*i) != f).collect();
            let rest: Vec<TrainDoc> = rest_idx.iter().map(|&i| docs[i].clone()).collect();
            let rest_labels: Vec<Vec<u8>> = rest_idx.iter().map(|&i| jack[i].clone()).collect();
            let test = held_docs(&held);
            let first = fold_stages[b1].clone();
            train_stage(
                &rest,
                &res.clusters,
                &res.gazetteer,
                Some(&rest_labels),
                cfg,
                |e, s| {
                    let r = evaluate(&res.tagger(vec![first.clone(), s.clone()]), &test);
                    pool(&mut curve2[e - 1], &r);
                    e as f64
                },
            );
            eprintln!(
                "cv fold {f}: stage 2 done, {:.0} s elapsed",
                t0.elapsed().as_secs_f64()
            );
        }
        for (e, r) in curve2.iter().enumerate() {
            eprintln!("cv stage 2 epoch {}: {}", e + 1, summary(r));
        }
        let b2 = best(&curve2);
        eprintln!(
            "cv stage 2: best epoch {}: {}",
            b2 + 1,
            summary(&curve2[b2])
        );
        Some((b2 + 1, curve2[b2].clone()))
    } else {
        None
    };
    Ok(CvResult {
        epoch1,
        stage1: curve1[b1].clone(),
        ensemble,
        stage2,
    })
}

/// Settings of the final fit (chosen by [`cross_validate`]).
#[derive(Debug, Clone)]
pub struct FitOptions {
    /// First-stage epochs.
    pub epoch1: usize,
    /// Second-stage epochs; 0 ships one stage.
    pub epoch2: usize,
    /// First-stage perceptrons averaged.
    pub ensemble: usize,
    /// Shuffling seed.
    pub seed: u64,
}

/// Trains the tagger on every document of `files` with fixed epochs and writes it to `out`;
/// returns the model's size in bytes.
pub fn fit(
    files: &[PathBuf],
    res: &Resources,
    opts: &FitOptions,
    out: &Path,
) -> Result<usize, EvalError> {
    let t0 = Instant::now();
    let mut docs = Vec::new();
    for f in files {
        docs.extend(read_conll(f)?.iter().map(train_doc));
    }
    eprintln!("fit: {} documents", docs.len());
    let fixed = |epochs: usize, seed: u64| TrainConfig {
        epochs,
        seed,
        patience: usize::MAX,
    };
    let first_stage = |docs: &[TrainDoc]| -> Stage {
        let members: Vec<Stage> = (0..opts.ensemble.max(1))
            .map(|m| {
                let seed = opts.seed.wrapping_add(2 * m as u64 + 1 - u64::from(m == 0));
                train_stage(
                    docs,
                    &res.clusters,
                    &res.gazetteer,
                    None,
                    fixed(opts.epoch1, seed),
                    |e, _| e as f64,
                )
                .0
            })
            .collect();
        if members.len() == 1 {
            members[0].clone()
        } else {
            Stage::average(&members)
        }
    };
    let mut stages = vec![first_stage(&docs)];
    eprintln!("fit: stage 1 done, {:.0} s", t0.elapsed().as_secs_f64());
    if opts.epoch2 > 0 {
        // Jackknifed first-stage labels (one perceptron per fold, as cross-validation scored).
        let k = 5;
        let n = docs.len();
        let fold_of = |i: usize| i * k / n.max(1);
        let mut jack = vec![Vec::new(); docs.len()];
        for f in 0..k {
            let rest: Vec<TrainDoc> = (0..docs.len())
                .filter(|i| fold_of(*i) != f)
                .map(|i| docs[i].clone())
                .collect();
            let (s, _, _) = train_stage(
                &rest,
                &res.clusters,
                &res.gazetteer,
                None,
                fixed(opts.epoch1, opts.seed),
                |e, _| e as f64,
            );
            let model = res.model(vec![s]);
            for i in (0..docs.len()).filter(|i| fold_of(*i) == f) {
                jack[i] = predict_labels(&model, &docs[i]);
            }
        }
        let (second, _, _) = train_stage(
            &docs,
            &res.clusters,
            &res.gazetteer,
            Some(&jack),
            fixed(opts.epoch2, opts.seed),
            |e, _| e as f64,
        );
        stages.push(second);
        eprintln!("fit: stage 2 done, {:.0} s", t0.elapsed().as_secs_f64());
    }
    let bytes = res.model(stages).to_bytes();
    std::fs::write(out, &bytes).map_err(|source| EvalError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    Ok(bytes.len())
}

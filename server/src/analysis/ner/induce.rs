//! Inducing word clusters from unlabeled text: skip-gram embeddings (word2vec with negative
//! sampling) grouped by k-means into a hierarchy of clusters.
//!
//! Distributional clusters are the known way to lift a feature-based tagger past what its
//! labelled data alone teaches (Ratinov & Roth 2009 with Brown clusters; Guo et al. 2014 with
//! k-means over skip-gram vectors). Here the finest level clusters the word vectors, and each
//! coarser level clusters the centroids of the level below, so the levels nest like the
//! prefixes of a Brown bit string. Everything is single-threaded with a fixed seed, so the same
//! text gives the same clusters.

use super::clusters::{ClusterEntry, WordClusters, LEVELS};
use super::features::{hash_str, IdMap};
use super::rng::Rng;
use crate::analysis::sentences::split_sentences;
use crate::analysis::tokenize::tokenize;
use std::collections::HashMap;

/// Settings of the induction.
#[derive(Debug, Clone)]
pub struct InduceConfig {
    /// Words seen fewer times get no vector.
    pub min_count: u32,
    /// Vector size.
    pub dim: usize,
    /// Context window (each side; the effective window is sampled in 1..=window).
    pub window: usize,
    /// Negative samples per positive pair.
    pub negative: usize,
    /// Passes over the text.
    pub epochs: usize,
    /// Cluster counts, coarse to fine (one per level).
    pub ks: [usize; LEVELS],
    /// k-means iterations.
    pub iterations: usize,
    /// Random seed.
    pub seed: u64,
}

impl Default for InduceConfig {
    fn default() -> Self {
        InduceConfig {
            min_count: 3,
            dim: 64,
            window: 5,
            negative: 5,
            epochs: 3,
            ks: [32, 128, 512, 2048],
            iterations: 12,
            seed: 42,
        }
    }
}

/// The result: the cluster map and, for inspection, each word with its entry.
#[derive(Debug)]
pub struct Induced {
    /// What the tagger uses.
    pub clusters: WordClusters,
    /// Every clustered form with its entry, most frequent first.
    pub words: Vec<(String, ClusterEntry)>,
}

/// Counts of one lower-cased word in running text.
#[derive(Default, Clone, Copy)]
struct CaseCounts {
    /// Occurrences not at a sentence start, in mixed-case sentences.
    mid: u32,
    /// Of those, capitalised.
    mid_cap: u32,
}

/// Induces clusters from `texts` (one document each).
pub fn induce<'a>(texts: impl IntoIterator<Item = &'a str>, cfg: &InduceConfig) -> Induced {
    let corpus = read_corpus(texts);
    let vocab = Vocabulary::of(&corpus, cfg.min_count);
    tracing::info!(
        tokens = corpus.tokens.len(),
        vocab = vocab.words.len(),
        "clusters: corpus read"
    );
    let mut rng = Rng::new(cfg.seed);
    let emb = skip_gram(&corpus, &vocab, cfg, &mut rng);
    let assign = cluster_levels(emb, &vocab, cfg, &mut rng);
    entries(&corpus, &vocab, &assign)
}

/// Step 1's result: the corpus as form ids with case statistics.
struct Corpus {
    /// Every distinct form, by id.
    forms: Vec<String>,
    /// Occurrences per form id.
    counts: Vec<u32>,
    /// Token ids, `u32::MAX` between sentences.
    tokens: Vec<u32>,
    /// Case statistics per lower-cased word.
    case: HashMap<String, CaseCounts>,
}

/// Step 1: tokenise, count forms and case statistics.
fn read_corpus<'a>(texts: impl IntoIterator<Item = &'a str>) -> Corpus {
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut forms: Vec<String> = Vec::new();
    let mut counts: Vec<u32> = Vec::new();
    let mut corpus: Vec<u32> = Vec::new(); // token ids, u32::MAX between sentences
    let mut case: HashMap<String, CaseCounts> = HashMap::new();
    for text in texts {
        let tokens = tokenize(text);
        let sents = split_sentences(text, &tokens);
        let mut ti = 0;
        for s in &sents {
            let begin = ti;
            while ti < tokens.len() && tokens[ti].start < s.end {
                ti += 1;
            }
            let words: Vec<&str> = tokens[begin..ti].iter().map(|t| t.text(text)).collect();
            let letters = words
                .iter()
                .filter(|w| w.chars().any(char::is_alphabetic))
                .count();
            let caps = words
                .iter()
                .filter(|w| {
                    w.chars().any(char::is_alphabetic) && !w.chars().any(char::is_lowercase)
                })
                .count();
            let headline = letters > 0 && caps * 2 > letters;
            for (k, w) in words.iter().enumerate() {
                let id = match ids.get(*w) {
                    Some(&id) => id,
                    None => {
                        let id = forms.len() as u32;
                        ids.insert((*w).to_string(), id);
                        forms.push((*w).to_string());
                        counts.push(0);
                        id
                    }
                };
                counts[id as usize] += 1;
                corpus.push(id);
                if k > 0 && !headline && w.chars().next().is_some_and(char::is_alphabetic) {
                    let c = case.entry(w.to_lowercase()).or_default();
                    c.mid += 1;
                    if w.chars().next().is_some_and(char::is_uppercase) {
                        c.mid_cap += 1;
                    }
                }
            }
            corpus.push(u32::MAX);
        }
    }
    Corpus {
        forms,
        counts,
        tokens: corpus,
        case,
    }
}

/// Step 2's result: the frequent forms, most frequent first.
struct Vocabulary {
    /// Form ids by vocabulary index.
    words: Vec<u32>,
    /// Per form id its vocabulary index (`u32::MAX` for rare forms).
    vid: Vec<u32>,
    /// Occurrences by vocabulary index.
    counts: Vec<f64>,
}

impl Vocabulary {
    /// Step 2, vocabulary: frequent forms, most frequent first.
    fn of(corpus: &Corpus, min_count: u32) -> Self {
        let (forms, counts) = (&corpus.forms, &corpus.counts);
        let mut vocab: Vec<u32> = (0..forms.len() as u32)
            .filter(|&i| counts[i as usize] >= min_count)
            .collect();
        vocab.sort_by(|&a, &b| {
            counts[b as usize]
                .cmp(&counts[a as usize])
                .then_with(|| forms[a as usize].cmp(&forms[b as usize]))
        });
        let mut vid = vec![u32::MAX; forms.len()];
        for (v, &i) in vocab.iter().enumerate() {
            vid[i as usize] = v as u32;
        }
        let vcounts: Vec<f64> = vocab
            .iter()
            .map(|&i| f64::from(counts[i as usize]))
            .collect();
        Vocabulary {
            words: vocab,
            vid,
            counts: vcounts,
        }
    }
}

/// Step 3, skip-gram with negative sampling: a vector per vocabulary word (`cfg.dim` floats each,
/// back to back).
fn skip_gram(corpus: &Corpus, vocab: &Vocabulary, cfg: &InduceConfig, rng: &mut Rng) -> Vec<f32> {
    let (v, vid, vcounts, corpus) = (vocab.words.len(), &vocab.vid, &vocab.counts, &corpus.tokens);
    let total: f64 = vcounts.iter().sum();
    let d = cfg.dim;
    let mut emb: Vec<f32> = (0..v * d).map(|_| (rng.unit() - 0.5) / d as f32).collect();
    let mut ctx = vec![0f32; v * d];
    let mut table = Vec::with_capacity(1 << 22);
    {
        let pow: Vec<f64> = vcounts.iter().map(|c| c.powf(0.75)).collect();
        let z: f64 = pow.iter().sum();
        let size = 1usize << 22;
        let mut acc = 0.0;
        let mut w = 0usize;
        for i in 0..size {
            while w + 1 < v && (i as f64) / (size as f64) > (acc + pow[w] / z) {
                acc += pow[w] / z;
                w += 1;
            }
            table.push(w as u32);
        }
    }
    let keep: Vec<f32> = vcounts
        .iter()
        .map(|&c| {
            let f = c / total;
            let t = 1e-4;
            (((f / t).sqrt() + 1.0) * t / f).min(1.0) as f32
        })
        .collect();
    let steps = (cfg.epochs as f64 * corpus.len() as f64).max(1.0);
    let mut done = 0f64;
    let lr0 = 0.025f32;
    let mut grad = vec![0f32; d];
    let mut sent: Vec<u32> = Vec::new();
    for epoch in 0..cfg.epochs {
        for chunk in corpus.split(|&t| t == u32::MAX) {
            done += chunk.len() as f64 + 1.0;
            sent.clear();
            for &t in chunk {
                let w = vid[t as usize];
                if w != u32::MAX && rng.unit() < keep[w as usize] {
                    sent.push(w);
                }
            }
            let lr = (lr0 * (1.0 - (done / steps) as f32)).max(lr0 * 1e-4);
            for (pos, &center) in sent.iter().enumerate() {
                let b = 1 + (rng.next() % cfg.window as u64) as usize;
                let lo = pos.saturating_sub(b);
                let hi = (pos + b + 1).min(sent.len());
                for (cpos, &context) in sent.iter().enumerate().take(hi).skip(lo) {
                    if cpos == pos {
                        continue;
                    }
                    let ci = center as usize * d;
                    grad.iter_mut().for_each(|g| *g = 0.0);
                    for n in 0..=cfg.negative {
                        let (target, label) = if n == 0 {
                            (context as usize, 1.0)
                        } else {
                            let t = table[(rng.next() % table.len() as u64) as usize] as usize;
                            if t == context as usize {
                                continue;
                            }
                            (t, 0.0)
                        };
                        let ti = target * d;
                        let dot: f32 = emb[ci..ci + d]
                            .iter()
                            .zip(&ctx[ti..ti + d])
                            .map(|(a, b)| a * b)
                            .sum();
                        let sig = 1.0 / (1.0 + (-dot.clamp(-6.0, 6.0)).exp());
                        let g = (label - sig) * lr;
                        for k in 0..d {
                            grad[k] += g * ctx[ti + k];
                            ctx[ti + k] += g * emb[ci + k];
                        }
                    }
                    for k in 0..d {
                        emb[ci + k] += grad[k];
                    }
                }
            }
        }
        tracing::info!(epoch, "clusters: skip-gram epoch done");
    }
    emb
}

/// Step 4: normalise and cluster, fine level first, then centroids upward: per vocabulary word
/// its cluster (1-based) at every level.
fn cluster_levels(
    mut emb: Vec<f32>,
    vocab: &Vocabulary,
    cfg: &InduceConfig,
    rng: &mut Rng,
) -> Vec<[u16; LEVELS]> {
    let (d, v, vcounts) = (cfg.dim, vocab.words.len(), &vocab.counts);
    for row in emb.chunks_mut(d) {
        let n = row.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
        row.iter_mut().for_each(|x| *x /= n);
    }
    let weights: Vec<f32> = vcounts.iter().map(|c| (*c as f32).ln() + 1.0).collect();
    let mut assign: Vec<[u16; LEVELS]> = vec![[0; LEVELS]; v];
    let mut points = emb;
    let mut point_weights = weights;
    let mut members: Vec<Vec<usize>> = (0..v).map(|i| vec![i]).collect();
    for level in (0..LEVELS).rev() {
        let k = cfg.ks[level].min(members.len()).max(1);
        let (labels, centroids) = kmeans(&points, &point_weights, d, k, cfg.iterations, rng);
        let mut next_members: Vec<Vec<usize>> = vec![Vec::new(); k];
        let mut next_weights = vec![0f32; k];
        for (p, &c) in labels.iter().enumerate() {
            for &word in &members[p] {
                assign[word][level] = c as u16 + 1;
            }
            next_members[c].extend_from_slice(&members[p]);
            next_weights[c] += point_weights[p];
        }
        tracing::info!(level, k, "clusters: level done");
        points = centroids;
        point_weights = next_weights;
        members = next_members;
    }
    assign
}

/// Step 5: entries by form and by lower case (the most frequent casing wins).
fn entries(corpus: &Corpus, vocab: &Vocabulary, assign: &[[u16; LEVELS]]) -> Induced {
    let (forms, case, v, vocab) = (&corpus.forms, &corpus.case, vocab.words.len(), &vocab.words);
    let cap_prior = |lower: &str| -> u8 {
        match case.get(lower) {
            Some(c) if c.mid >= 2 => {
                let r = f64::from(c.mid_cap) / f64::from(c.mid);
                if r < 0.1 {
                    1
                } else if r < 0.5 {
                    2
                } else if r < 0.9 {
                    3
                } else {
                    4
                }
            }
            _ => 0,
        }
    };
    let mut words = Vec::with_capacity(v);
    let mut by_form = Vec::with_capacity(v);
    let mut by_lower: IdMap<ClusterEntry> = IdMap::default();
    for (w, &i) in vocab.iter().enumerate() {
        let form = &forms[i as usize];
        let lower = form.to_lowercase();
        let entry = ClusterEntry {
            clusters: assign[w],
            cap_prior: cap_prior(&lower),
        };
        by_form.push((hash_str(form), entry));
        // Vocabulary is sorted by frequency: the first casing seen is the most frequent.
        by_lower.entry(hash_str(&lower)).or_insert(entry);
        words.push((form.clone(), entry));
    }
    // Lower-case words seen too rarely for a vector still get a capitalisation prior.
    for lower in case.keys() {
        let p = cap_prior(lower);
        if p != 0 {
            by_lower.entry(hash_str(lower)).or_insert(ClusterEntry {
                clusters: [0; LEVELS],
                cap_prior: p,
            });
        }
    }
    let mut lower_entries: Vec<(u64, ClusterEntry)> = by_lower.into_iter().collect();
    lower_entries.sort_unstable_by_key(|e| e.0);
    Induced {
        clusters: WordClusters::from_entries(by_form, lower_entries),
        words,
    }
}

/// Weighted spherical k-means with k-means++ seeding: labels per point and the centroids.
fn kmeans(
    points: &[f32],
    weights: &[f32],
    d: usize,
    k: usize,
    iterations: usize,
    rng: &mut Rng,
) -> (Vec<usize>, Vec<f32>) {
    let n = points.len() / d;
    let dot = |a: &[f32], b: &[f32]| -> f32 { a.iter().zip(b).map(|(x, y)| x * y).sum() };
    // k-means++ on cosine distance (1 - dot).
    let mut centroids: Vec<f32> = Vec::with_capacity(k * d);
    let first = (rng.next() % n as u64) as usize;
    centroids.extend_from_slice(&points[first * d..first * d + d]);
    let mut dist: Vec<f32> = (0..n)
        .map(|i| (1.0 - dot(&points[i * d..i * d + d], &centroids[..d])).max(0.0))
        .collect();
    for _ in 1..k {
        let total: f64 = dist
            .iter()
            .zip(weights)
            .map(|(x, w)| f64::from(x * w))
            .sum();
        let mut r = f64::from(rng.unit()) * total;
        let mut pick = n - 1;
        for (i, (x, w)) in dist.iter().zip(weights).enumerate() {
            r -= f64::from(x * w);
            if r <= 0.0 {
                pick = i;
                break;
            }
        }
        let c = points[pick * d..pick * d + d].to_vec();
        for (i, di) in dist.iter_mut().enumerate() {
            let nd = (1.0 - dot(&points[i * d..i * d + d], &c)).max(0.0);
            if nd < *di {
                *di = nd;
            }
        }
        centroids.extend_from_slice(&c);
    }
    let mut labels = vec![0usize; n];
    for _ in 0..iterations {
        for (i, l) in labels.iter_mut().enumerate() {
            let p = &points[i * d..i * d + d];
            let mut best = f32::NEG_INFINITY;
            for c in 0..k {
                let s = dot(p, &centroids[c * d..c * d + d]);
                if s > best {
                    best = s;
                    *l = c;
                }
            }
        }
        let mut sums = vec![0f32; k * d];
        let mut mass = vec![0f32; k];
        for (i, &l) in labels.iter().enumerate() {
            mass[l] += weights[i];
            for j in 0..d {
                sums[l * d + j] += weights[i] * points[i * d + j];
            }
        }
        for c in 0..k {
            if mass[c] == 0.0 {
                continue; // empty cluster keeps its centroid
            }
            let row = &mut sums[c * d..c * d + d];
            let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
            for j in 0..d {
                centroids[c * d + j] = row[j] / norm;
            }
        }
    }
    (labels, centroids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn induction_is_deterministic_and_covers_frequent_words() {
        let text = "Putin met Trump in Moscow . Trump met Putin in Kyiv . ".repeat(20);
        let cfg = InduceConfig {
            ks: [2, 2, 3, 4],
            epochs: 1,
            dim: 8,
            ..InduceConfig::default()
        };
        let a = induce([text.as_str()], &cfg);
        let b = induce([text.as_str()], &cfg);
        assert_eq!(a.words, b.words);
        assert!(a.clusters.by_form(hash_str("Putin")).is_some());
        assert!(a
            .words
            .iter()
            .all(|(_, e)| e.clusters.iter().all(|&c| c > 0)));
    }
}

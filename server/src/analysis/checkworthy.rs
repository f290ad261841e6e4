//! Check-worthiness: how much a sentence is worth fact-checking, 0..1.
//!
//! A logistic regression over word unigrams and bigrams (numbers folded into one token,
//! "%"/"percent" and "$" into their own) plus a few shape features (length, has a number, is
//! a question). It is trained by `dossier-eval train-checkworthy` on CLEF CheckThat! 2019
//! Task 1 training debates and ClaimBuster, and shipped as `server/models/checkworthy.tsv`
//! (`feature \t weight`, derived weights only). Scoring hashes features on the fly: no
//! allocation, a few hundred nanoseconds a sentence.

use std::collections::HashMap;
use std::sync::OnceLock;

const MODEL_TSV: &str = include_str!("../../models/checkworthy.tsv");

/// FNV-1a ([`fnv::FnvHasher`]), streamed: the model's feature hashes.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(std::hash::Hasher::finish(&fnv::FnvHasher::default()))
    }
    #[inline]
    fn byte(self, b: u8) -> Self {
        self.bytes(&[b])
    }
    #[inline]
    fn bytes(self, s: &[u8]) -> Self {
        let mut h = fnv::FnvHasher::with_key(self.0);
        std::hash::Hasher::write(&mut h, s);
        Fnv(std::hash::Hasher::finish(&h))
    }
    /// Feeds a word in its feature form (lower case; numbers as "<num>").
    #[inline]
    fn word(self, w: Word<'_>) -> Self {
        match w {
            Word::Text(s) => {
                let mut h = self;
                for b in s.bytes() {
                    h = h.byte(b.to_ascii_lowercase());
                }
                h
            }
            Word::Sym(s) => self.bytes(s.as_bytes()),
        }
    }
}

/// A word as the features see it.
#[derive(Clone, Copy)]
enum Word<'a> {
    Text(&'a str),
    Sym(&'static str),
}

impl Word<'_> {
    fn push_to(self, out: &mut String) {
        match self {
            Word::Text(s) => out.extend(s.chars().map(|c| c.to_ascii_lowercase())),
            Word::Sym(s) => out.push_str(s),
        }
    }
}

/// Splits a sentence into feature words: letters/digits runs (with inner `'`, `.`, `,`
/// between digits), "%", "$", "?".
fn words<'a>(text: &'a str, mut f: impl FnMut(Word<'a>)) {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_alphanumeric()
            || c >= 0x80
                && text.is_char_boundary(i)
                && text[i..].chars().next().is_some_and(char::is_alphanumeric)
        {
            let s = i;
            let mut digit = false;
            while i < b.len() {
                let c = b[i];
                if c.is_ascii_alphanumeric() {
                    digit |= c.is_ascii_digit();
                    i += 1;
                } else if c >= 0x80 {
                    let ch = text[i..].chars().next().unwrap_or(' ');
                    if ch.is_alphanumeric() {
                        i += ch.len_utf8();
                    } else if ch == '’' && i + 3 < b.len() && b[i + 3].is_ascii_alphabetic() {
                        i += 3;
                    } else {
                        break;
                    }
                } else if (c == b'\'' && i + 1 < b.len() && b[i + 1].is_ascii_alphabetic())
                    || (matches!(c, b'.' | b',')
                        && digit
                        && i + 1 < b.len()
                        && b[i + 1].is_ascii_digit())
                {
                    i += 1;
                } else {
                    break;
                }
            }
            let w = &text[s..i];
            if digit {
                f(Word::Sym("<num>"));
            } else if w.eq_ignore_ascii_case("percent") {
                f(Word::Sym("<pct>"));
            } else {
                f(Word::Text(w));
            }
            continue;
        }
        match c {
            b'%' => f(Word::Sym("<pct>")),
            b'$' => f(Word::Sym("<usd>")),
            b'?' => f(Word::Sym("?")),
            _ => {}
        }
        i += 1;
    }
}

/// Calls `f` with every feature of `text` as its hash and, when `names` is set, its name.
fn features(text: &str, names: bool, mut f: impl FnMut(u64, Option<String>)) {
    let mut prev: Option<Word<'_>> = None;
    let mut n = 0usize;
    let mut has_num = false;
    let name = |parts: &[Word<'_>], prefix: &str| -> Option<String> {
        names.then(|| {
            let mut s = prefix.to_string();
            for (i, w) in parts.iter().enumerate() {
                if i > 0 {
                    s.push(' ');
                }
                w.push_to(&mut s);
            }
            s
        })
    };
    let mut emit = |w: Word<'_>, prev: Option<Word<'_>>| {
        let h = Fnv::new().bytes(b"w:").word(w);
        f(h.0, name(&[w], "w:"));
        let p = prev.unwrap_or(Word::Sym("<s>"));
        let h = Fnv::new().bytes(b"b:").word(p).byte(b' ').word(w);
        f(h.0, name(&[p, w], "b:"));
    };
    words(text, |w| {
        if matches!(w, Word::Sym("<num>" | "<pct>" | "<usd>")) {
            has_num = true;
        }
        emit(w, prev);
        prev = Some(w);
        n += 1;
    });
    let len = match n {
        0..=3 => "len:short",
        4..=7 => "len:4-7",
        8..=15 => "len:8-15",
        16..=30 => "len:16-30",
        _ => "len:long",
    };
    for s in [len, if has_num { "has:num" } else { "has:nonum" }] {
        f(
            Fnv::new().bytes(s.as_bytes()).0,
            names.then(|| s.to_string()),
        );
    }
}

/// Features are already FNV hashes: use them as they are.
#[derive(Default, Clone, Copy)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | b as u64;
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type IdMap<V> = HashMap<u64, V, std::hash::BuildHasherDefault<IdHasher>>;

/// Weights smaller than this are dropped from a trained model (they change no ranking
/// noticeably and would triple the model's size).
const MIN_WEIGHT: f32 = 0.1;

/// A trained check-worthiness model.
#[derive(Debug, Clone, Default)]
pub struct Model {
    bias: f32,
    weights: IdMap<f32>,
    /// Feature names, kept when trained here (to write the model file).
    names: HashMap<u64, String>,
}

impl Model {
    /// The model shipped in `server/models/checkworthy.tsv`.
    pub fn shipped() -> &'static Model {
        static MODEL: OnceLock<Model> = OnceLock::new();
        MODEL.get_or_init(|| Model::parse(MODEL_TSV))
    }

    /// Reads `feature \t weight` lines; the feature `<bias>` is the intercept.
    pub fn parse(tsv: &str) -> Model {
        let mut m = Model::default();
        for line in tsv.lines() {
            let Some((f, w)) = line.rsplit_once('\t') else {
                continue;
            };
            let Ok(w) = w.parse::<f32>() else { continue };
            if f == "<bias>" {
                m.bias = w;
            } else {
                m.weights.insert(Fnv::new().bytes(f.as_bytes()).0, w);
            }
        }
        m
    }

    /// Writes the model as `feature \t weight` lines, largest weights first.
    pub fn to_tsv(&self) -> String {
        let mut rows: Vec<(&String, f32)> = self
            .weights
            .iter()
            .filter_map(|(h, w)| self.names.get(h).map(|n| (n, *w)))
            .collect();
        rows.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(b.0)));
        let mut out = format!("<bias>\t{:.4}\n", self.bias);
        for (n, w) in rows {
            out.push_str(&format!("{n}\t{w:.4}\n"));
        }
        out
    }

    /// The probability that `sentence` is check-worthy.
    pub fn score(&self, sentence: &str) -> f32 {
        sigmoid(self.logit(sentence))
    }

    /// The log-odds of `sentence` (intercept included).
    pub fn logit(&self, sentence: &str) -> f32 {
        let mut z = self.bias;
        features(sentence, false, |h, _| {
            if let Some(w) = self.weights.get(&h) {
                z += w;
            }
        });
        z
    }

    /// Rescales the log-odds to `a·z + b` (Platt scaling, see [`fit_platt`]): every weight
    /// times `a`, the intercept `a·bias + b`. Keeps every ranking when `a > 0`.
    pub fn rescale(&mut self, a: f32, b: f32) {
        for w in self.weights.values_mut() {
            *w *= a;
        }
        self.bias = a * self.bias + b;
    }
}

/// Platt scaling: the `(a, b)` of `P(y) = σ(a·z + b)` that fits log-odds `z` to labels `y`
/// by maximum likelihood (Newton's method; Platt's smoothed targets keep it finite when the
/// classes separate). Training weighs positives up and mixes in ClaimBuster, which has ten
/// times CheckThat!'s share of positives; fitted on out-of-fold log-odds, this turns the
/// scores back into probabilities of the debates' own kind.
pub fn fit_platt(z: &[f32], y: &[bool]) -> (f32, f32) {
    let pos = y.iter().filter(|&&l| l).count() as f64;
    let neg = y.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 || z.len() != y.len() {
        return (1.0, 0.0);
    }
    let (hi, lo) = ((pos + 1.0) / (pos + 2.0), 1.0 / (neg + 2.0));
    let (mut a, mut b) = (1.0f64, 0.0f64);
    for _ in 0..50 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (&zi, &yi) in z.iter().zip(y) {
            let zi = f64::from(zi);
            let t = if yi { hi } else { lo };
            let p = 1.0 / (1.0 + (-(a * zi + b)).exp());
            let w = (p * (1.0 - p)).max(1e-12);
            ga += (p - t) * zi;
            gb += p - t;
            haa += w * zi * zi;
            hab += w * zi;
            hbb += w;
        }
        let det = haa * hbb - hab * hab;
        if det.abs() < 1e-18 {
            break;
        }
        let da = (hbb * ga - hab * gb) / det;
        let db = (haa * gb - hab * ga) / det;
        a -= da;
        b -= db;
        if da.abs() < 1e-9 && db.abs() < 1e-9 {
            break;
        }
    }
    (a as f32, b as f32)
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// Training settings for [`train`].
#[derive(Debug, Clone, Copy)]
pub struct TrainOptions {
    /// Passes over the data.
    pub epochs: usize,
    /// AdaGrad step size.
    pub rate: f32,
    /// L2 penalty per update.
    pub l2: f32,
    /// Weight of a positive example relative to a negative one.
    pub positive_weight: f32,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            epochs: 8,
            rate: 0.1,
            l2: 3e-3,
            positive_weight: 1.0,
        }
    }
}

/// Trains a logistic regression with AdaGrad on `(sentence, label, example weight)`.
/// Deterministic: examples are visited in a fixed pseudo-random order.
pub fn train(examples: &[(&str, bool, f32)], opts: TrainOptions) -> Model {
    // Featurise once.
    let mut names: HashMap<u64, String> = HashMap::new();
    let feats: Vec<Vec<u64>> = examples
        .iter()
        .map(|(t, _, _)| {
            let mut v = Vec::new();
            features(t, true, |h, n| {
                v.push(h);
                if let Some(n) = n {
                    names.entry(h).or_insert(n);
                }
            });
            v
        })
        .collect();
    // Features seen in one sentence only are noise (and most of the model's size).
    let mut seen: HashMap<u64, u32> = HashMap::new();
    for f in &feats {
        for h in f {
            *seen.entry(*h).or_default() += 1;
        }
    }
    let feats: Vec<Vec<u64>> = feats
        .into_iter()
        .map(|f| f.into_iter().filter(|h| seen[h] >= 2).collect())
        .collect();
    let mut w: HashMap<u64, (f32, f32)> = HashMap::new();
    let (mut bias, mut bias_g) = (0.0f32, 1e-6f32);
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..opts.epochs {
        for i in (1..order.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            order.swap(i, (seed % (i as u64 + 1)) as usize);
        }
        for &i in &order {
            let (_, y, ew) = examples[i];
            let mut z = bias;
            for h in &feats[i] {
                z += w.get(h).map_or(0.0, |x| x.0);
            }
            let p = 1.0 / (1.0 + (-z).exp());
            let cw = ew * if y { opts.positive_weight } else { 1.0 };
            let g = cw * (p - if y { 1.0 } else { 0.0 });
            bias_g += g * g;
            bias -= opts.rate * g / bias_g.sqrt();
            for h in &feats[i] {
                let e = w.entry(*h).or_insert((0.0, 1e-6));
                let gi = g + opts.l2 * e.0;
                e.1 += gi * gi;
                e.0 -= opts.rate * gi / e.1.sqrt();
            }
        }
    }
    Model {
        bias,
        weights: w
            .into_iter()
            .filter(|(_, (x, _))| x.abs() >= MIN_WEIGHT)
            .map(|(h, (x, _))| (h, x))
            .collect(),
        names,
    }
}

/// Scores a sentence with the shipped model.
///
/// # Examples
///
/// ```
/// use dossier_server::analysis::checkworthy::score;
/// let s = score("Unemployment fell to 4.1 percent last year, the lowest in a decade.");
/// assert!((0.0..=1.0).contains(&s));
/// ```
pub fn score(sentence: &str) -> f32 {
    Model::shipped().score(sentence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platt_scaling_recovers_a_known_slope_and_intercept() {
        // Labels drawn from σ(2z − 3): the fit finds a ≈ 2, b ≈ −3.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut uniform = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut z, mut y) = (Vec::new(), Vec::new());
        for _ in 0..20_000 {
            let zi = (uniform() * 8.0 - 4.0) as f32;
            let p = 1.0 / (1.0 + (-(2.0 * f64::from(zi) - 3.0)).exp());
            z.push(zi);
            y.push(uniform() < p);
        }
        let (a, b) = fit_platt(&z, &y);
        assert!(
            (a - 2.0).abs() < 0.15 && (b + 3.0).abs() < 0.2,
            "a={a} b={b}"
        );
        // One class only: no change.
        assert_eq!(fit_platt(&z, &vec![false; z.len()]), (1.0, 0.0));
    }

    #[test]
    fn rescaling_maps_the_log_odds_and_keeps_the_order() {
        let data = [
            ("We lost 700,000 jobs last year.", true, 1.0),
            ("Thank you very much.", false, 1.0),
            ("Taxes went up 30 percent under her plan.", true, 1.0),
            ("Good evening, everyone!", false, 1.0),
        ];
        let mut m = train(&data, TrainOptions::default());
        let before: Vec<f32> = data.iter().map(|d| m.logit(d.0)).collect();
        m.rescale(0.5, -1.0);
        for (d, z) in data.iter().zip(&before) {
            assert!((m.logit(d.0) - (0.5 * z - 1.0)).abs() < 1e-5);
        }
    }

    #[test]
    fn runtime_hashes_match_training_names() {
        // A model written from training and read back scores identically: the streamed hash
        // of a feature equals the hash of its written name.
        let data = [
            ("We lost 700,000 jobs last year.", true, 1.0),
            ("Thank you very much.", false, 1.0),
            ("Taxes went up 30 percent under her plan.", true, 1.0),
            ("Good evening, everyone!", false, 1.0),
        ];
        let m = train(&data, TrainOptions::default());
        let back = Model::parse(&m.to_tsv());
        for (t, _, _) in data {
            assert!((m.score(t) - back.score(t)).abs() < 1e-2, "{t}");
        }
        assert!(back.score("We lost 9 million jobs.") > back.score("Thank you, everyone."));
    }
}

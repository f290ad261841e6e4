//! Claim evaluation and training: PolNeAR quotes and speakers (a port of the judges'
//! `polnear.py`, number for number), the cue lexicon learned from PolNeAR train, and the
//! check-worthiness model's cross-validation and training on CheckThat! 2019 / ClaimBuster.
//!
//! Everything reads the development data in `../shared/data`; nothing from it is copied
//! into the repository (the cue lexicon and the model weights are derived counts/weights).

use crate::analysis::checkworthy;
use crate::analysis::claims::{extract_claims, lexicon, ClaimKind};
use crate::analysis::sentences::split_sentences;
use crate::analysis::tokenize::tokenize;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Errors of the evaluation commands.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A data file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A data file is malformed.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

fn read(path: &Path) -> Result<String, EvalError> {
    std::fs::read_to_string(path).map_err(|source| EvalError::Io {
        path: path.to_owned(),
        source,
    })
}

/// One gold attribution, offsets in code points (as brat and `polnear.py` count).
#[derive(Debug, Clone)]
pub struct GoldAttr {
    /// Content pieces.
    pub content: Vec<Range<usize>>,
    /// Source pieces (empty when the annotator marked none).
    pub source: Vec<Range<usize>>,
    /// Cue pieces.
    pub cue: Vec<Range<usize>>,
    /// The content holds a double quote mark (`polnear.py`'s definition of direct).
    pub direct: bool,
}

/// One PolNeAR article with its primary annotator's attributions.
#[derive(Debug, Clone)]
pub struct Article {
    /// File stem.
    pub name: String,
    /// The text, newlines normalised as Python's universal newlines do.
    pub text: String,
    /// Gold attributions.
    pub attrs: Vec<GoldAttr>,
}

fn parse_ranges(s: &str) -> Option<Vec<Range<usize>>> {
    s.split(';')
        .map(|piece| {
            let mut it = piece.split_whitespace();
            let a = it.next()?.parse().ok()?;
            let b = it.next()?.parse().ok()?;
            Some(a..b)
        })
        .collect()
}

/// Reads a PolNeAR split (`text/`, `attributions/`): for each article the alphabetically first
/// annotator's `.ann`, like `polnear.read_split`.
pub fn read_polnear(dir: &Path) -> Result<Vec<Article>, EvalError> {
    let list = |d: PathBuf| -> Result<Vec<String>, EvalError> {
        let rd = std::fs::read_dir(&d).map_err(|source| EvalError::Io {
            path: d.clone(),
            source,
        })?;
        let mut v: Vec<String> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        Ok(v)
    };
    let texts = list(dir.join("text"))?;
    let anns = list(dir.join("attributions"))?;
    let mut out = Vec::new();
    for t in texts {
        let Some(stem) = t.strip_suffix(".txt") else {
            continue;
        };
        let ann = anns.iter().find(|a| {
            a.strip_prefix(stem)
                .and_then(|r| r.strip_prefix('_'))
                .and_then(|r| r.strip_suffix(".ann"))
                .is_some_and(|h| {
                    !h.is_empty()
                        && h.bytes()
                            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
                })
        });
        let Some(ann) = ann else { continue };
        let text = read(&dir.join("text").join(&t))?
            .replace("\r\n", "\n")
            .replace('\r', "\n");
        let chars: Vec<char> = text.chars().collect();
        let ann_path = dir.join("attributions").join(ann);
        let mut spans: HashMap<String, Vec<Range<usize>>> = HashMap::new();
        let mut events: Vec<HashMap<String, String>> = Vec::new();
        for line in read(&ann_path)?.lines() {
            let parts: Vec<&str> = line.split('\t').collect();
            if parts.len() < 2 || parts[0].is_empty() {
                continue;
            }
            if parts[0].starts_with('T') {
                let Some((_, offs)) = parts[1].split_once(' ') else {
                    continue;
                };
                let r = parse_ranges(offs).ok_or_else(|| EvalError::Format {
                    path: ann_path.clone(),
                    message: format!("bad offsets in {line:?}"),
                })?;
                spans.insert(parts[0].to_string(), r);
            } else if parts[0].starts_with('E') {
                events.push(
                    parts[1]
                        .split_whitespace()
                        .filter_map(|a| a.split_once(':'))
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                );
            }
        }
        let mut attrs = Vec::new();
        for ev in events {
            let Some(content) = ev.get("Content").and_then(|c| spans.get(c)) else {
                continue;
            };
            let get = |k: &str| {
                ev.get(k)
                    .and_then(|c| spans.get(c))
                    .cloned()
                    .unwrap_or_default()
            };
            let direct = content.iter().any(|r| {
                chars[r.start.min(chars.len())..r.end.min(chars.len())]
                    .iter()
                    .any(|c| matches!(c, '"' | '“' | '”'))
            });
            attrs.push(GoldAttr {
                content: content.clone(),
                source: get("Source"),
                cue: get("Cue"),
                direct,
            });
        }
        out.push(Article {
            name: stem.to_string(),
            text,
            attrs,
        });
    }
    Ok(out)
}

/// A predicted attribution in code points, as the judges map `ExtractClaims`.
#[derive(Debug, Clone)]
pub struct PredAttr {
    /// True for direct quotes.
    pub direct: bool,
    /// Content span.
    pub content: Range<usize>,
    /// Speaker span.
    pub speaker: Option<Range<usize>>,
}

/// Byte offset → code point offset for one text.
fn char_index(text: &str) -> impl Fn(usize) -> usize + '_ {
    let mut starts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    starts.push(text.len());
    move |b| starts.partition_point(|&s| s < b)
}

/// Runs the whole analysis pipeline on an article, exactly as ExtractClaims does (entity
/// mentions included), and converts its attributions to code points.
pub fn predict(text: &str) -> Vec<PredAttr> {
    let claims = crate::analysis::analyze(text, None).claims;
    let ci = char_index(text);
    claims
        .into_iter()
        .filter(|c| c.kind != ClaimKind::Assertion)
        .map(|c| PredAttr {
            direct: c.kind == ClaimKind::Direct,
            content: ci(c.content.start)..ci(c.content.end),
            speaker: c.speaker.span.map(|s| ci(s.start)..ci(s.end)),
        })
        .collect()
}

const QUOTES: &str = "\"'“”‘’«»„‟‹›";

fn is_trim(c: char) -> bool {
    QUOTES.contains(c) || " \t\n.,;:!?—–-…()[]".contains(c)
}

/// `polnear._trim`: the code points of `ranges` after trimming each piece.
fn trim_set(chars: &[char], ranges: &[Range<usize>]) -> Vec<usize> {
    let mut set: Vec<usize> = Vec::new();
    for r in ranges {
        let (mut s, mut e) = (r.start.min(chars.len()), r.end.min(chars.len()));
        while s < e && is_trim(chars[s]) {
            s += 1;
        }
        while e > s && is_trim(chars[e - 1]) {
            e -= 1;
        }
        set.extend(s..e);
    }
    set.sort_unstable();
    set.dedup();
    set
}

fn inter_len(a: &[usize], b: &[usize]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// Precision, recall, F1.
#[derive(Debug, Clone, Copy, Default)]
pub struct Prf {
    /// Precision.
    pub p: f64,
    /// Recall.
    pub r: f64,
    /// F1.
    pub f1: f64,
}

/// `polnear.score`'s result.
#[derive(Debug, Clone, Default)]
pub struct QuoteScore {
    /// Gold attributions.
    pub gold: usize,
    /// Predictions.
    pub pred: usize,
    /// Content, Jaccard ≥ 0.5.
    pub lenient: Prf,
    /// Content identical after trimming.
    pub strict: Prf,
    /// Lenient content and the right speaker.
    pub with_speaker: Prf,
    /// Right speakers among matched pairs whose gold has a source.
    pub speaker_acc: f64,
}

/// A per-article record of what matched, for error analysis.
#[derive(Debug, Clone, Default)]
pub struct Misses {
    /// Gold attributions not matched: (article, content text).
    pub missed: Vec<(String, String)>,
    /// Predictions not matched.
    pub spurious: Vec<(String, String)>,
    /// Matched with a wrong speaker: (article, content, gold source, predicted speaker).
    pub wrong_speaker: Vec<(String, String, String, String)>,
}

/// Scores predictions exactly as `polnear.score` does.
pub fn score(
    articles: &[Article],
    preds: &[Vec<PredAttr>],
    direct_only: bool,
    mut misses: Option<&mut Misses>,
) -> QuoteScore {
    let (mut tp_l, mut tp_s, mut tp_sp, mut n_pred, mut n_gold, mut with_src) = (0, 0, 0, 0, 0, 0);
    for (art, pred) in articles.iter().zip(preds) {
        let chars: Vec<char> = art.text.chars().collect();
        let g: Vec<&GoldAttr> = art
            .attrs
            .iter()
            .filter(|a| a.direct || !direct_only)
            .collect();
        let p: Vec<&PredAttr> = pred.iter().filter(|a| a.direct || !direct_only).collect();
        n_gold += g.len();
        n_pred += p.len();
        let gsets: Vec<Vec<usize>> = g.iter().map(|a| trim_set(&chars, &a.content)).collect();
        let psets: Vec<Vec<usize>> = p
            .iter()
            .map(|a| trim_set(&chars, std::slice::from_ref(&a.content)))
            .collect();
        let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
        for (i, gs) in gsets.iter().enumerate() {
            for (j, ps) in psets.iter().enumerate() {
                if gs.is_empty() || ps.is_empty() {
                    continue;
                }
                let inter = inter_len(gs, ps);
                if inter > 0 {
                    let union = gs.len() + ps.len() - inter;
                    pairs.push((inter as f64 / union as f64, i, j));
                }
            }
        }
        pairs.sort_by(|a, b| b.partial_cmp(a).unwrap_or(std::cmp::Ordering::Equal));
        let mut used_g = vec![false; g.len()];
        let mut used_p = vec![false; p.len()];
        for (jac, i, j) in pairs {
            if jac < 0.5 || used_g[i] || used_p[j] {
                continue;
            }
            used_g[i] = true;
            used_p[j] = true;
            tp_l += 1;
            if gsets[i] == psets[j] {
                tp_s += 1;
            }
            if !g[i].source.is_empty() {
                with_src += 1;
            }
            let right = p[j].speaker.as_ref().is_some_and(|sp| {
                g[i].source
                    .iter()
                    .any(|s| sp.start < s.end && s.start < sp.end)
            });
            if right {
                tp_sp += 1;
            } else if let Some(m) = misses.as_deref_mut() {
                let t = |r: &Range<usize>| {
                    chars[r.start.min(chars.len())..r.end.min(chars.len())]
                        .iter()
                        .collect::<String>()
                };
                m.wrong_speaker.push((
                    art.name.clone(),
                    t(&p[j].content),
                    g[i].source.iter().map(t).collect::<Vec<_>>().join(" "),
                    p[j].speaker.as_ref().map(t).unwrap_or_default(),
                ));
            }
        }
        if let Some(m) = misses.as_deref_mut() {
            let t = |r: &Range<usize>| {
                chars[r.start.min(chars.len())..r.end.min(chars.len())]
                    .iter()
                    .collect::<String>()
            };
            for (i, a) in g.iter().enumerate() {
                if !used_g[i] {
                    m.missed.push((
                        art.name.clone(),
                        a.content.iter().map(t).collect::<Vec<_>>().join(" || "),
                    ));
                }
            }
            for (j, a) in p.iter().enumerate() {
                if !used_p[j] {
                    m.spurious.push((art.name.clone(), t(&a.content)));
                }
            }
        }
    }
    let prf = |tp: usize| {
        let p = if n_pred > 0 {
            tp as f64 / n_pred as f64
        } else {
            0.0
        };
        let r = if n_gold > 0 {
            tp as f64 / n_gold as f64
        } else {
            0.0
        };
        let f1 = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        Prf { p, r, f1 }
    };
    QuoteScore {
        gold: n_gold,
        pred: n_pred,
        lenient: prf(tp_l),
        strict: prf(tp_s),
        with_speaker: prf(tp_sp),
        speaker_acc: if with_src > 0 {
            tp_sp as f64 / with_src as f64
        } else {
            0.0
        },
    }
}

impl std::fmt::Display for QuoteScore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = |x: Prf| format!("P={:.3} R={:.3} F1={:.3}", x.p, x.r, x.f1);
        write!(
            f,
            "gold={} pred={} | content(lenient) {} | content(strict) {} | content+speaker {} | speaker_acc={:.3}",
            self.gold,
            self.pred,
            t(self.lenient),
            t(self.strict),
            t(self.with_speaker),
            self.speaker_acc
        )
    }
}

/// `dossier-eval quotes`: scores the engine on a PolNeAR split; returns the report text.
/// `dump` writes the predictions as JSON (`{name: [{kind, content, speaker}]}`, code
/// points) for checking against `polnear.py`; `errors` appends misses to the report.
pub fn run_quotes(dir: &Path, dump: Option<&Path>, errors: bool) -> Result<String, EvalError> {
    let articles = read_polnear(dir)?;
    let preds: Vec<Vec<PredAttr>> = articles.iter().map(|a| predict(&a.text)).collect();
    // Speed: the claim extractor alone, on pre-tokenised text, best of three passes.
    let prepared: Vec<_> = articles
        .iter()
        .map(|a| {
            let t = tokenize(&a.text);
            let s = split_sentences(&a.text, &t);
            (a.text.as_str(), t, s)
        })
        .collect();
    let words: usize = prepared
        .iter()
        .map(|(text, t, _)| {
            t.iter()
                .filter(|x| crate::analysis::tokenize::is_word(x.text(text)))
                .count()
        })
        .sum();
    // CPU time of this thread (Linux schedstat), so a busy machine does not skew the rate;
    // wall-clock time where it is not available.
    let cpu_ns = || -> Option<u64> {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    let mut secs = f64::MAX;
    for _ in 0..3 {
        let (wall, cpu0) = (std::time::Instant::now(), cpu_ns());
        let n: usize = prepared
            .iter()
            .map(|(text, t, s)| extract_claims(text, t, s, &[]).len())
            .sum();
        std::hint::black_box(n);
        let taken = match (cpu0, cpu_ns()) {
            (Some(a), Some(b)) if b > a => (b - a) as f64 / 1e9,
            _ => wall.elapsed().as_secs_f64(),
        };
        secs = secs.min(taken);
    }
    let mut out = String::new();
    let n_attr: usize = articles.iter().map(|a| a.attrs.len()).sum();
    let n_direct: usize = articles
        .iter()
        .map(|a| a.attrs.iter().filter(|x| x.direct).count())
        .sum();
    let _ = writeln!(
        out,
        "{} articles {} attributions {} direct",
        articles.len(),
        n_attr,
        n_direct
    );
    let mut misses = Misses::default();
    let direct = score(&articles, &preds, true, errors.then_some(&mut misses));
    let _ = writeln!(out, "direct: {direct}");
    let all = score(&articles, &preds, false, None);
    let _ = writeln!(out, "all:    {all}");
    let _ = writeln!(
        out,
        "(claim extraction alone: {:.0} words/s on one core, CPU time)",
        words as f64 / secs.max(1e-9)
    );
    if let Some(path) = dump {
        let mut map = serde_json::Map::new();
        for (a, p) in articles.iter().zip(&preds) {
            let list: Vec<serde_json::Value> = p
                .iter()
                .map(|x| {
                    serde_json::json!({
                        "kind": if x.direct { "DIRECT" } else { "INDIRECT" },
                        "content": [x.content.start, x.content.end],
                        "speaker": x.speaker.as_ref().map(|s| vec![s.start, s.end]),
                    })
                })
                .collect();
            map.insert(a.name.clone(), serde_json::Value::Array(list));
        }
        std::fs::write(path, serde_json::Value::Object(map).to_string()).map_err(|source| {
            EvalError::Io {
                path: path.to_owned(),
                source,
            }
        })?;
    }
    if errors {
        let mut all_misses = Misses::default();
        let _ = score(&articles, &preds, false, Some(&mut all_misses));
        for (title, list) in [
            ("MISSED direct", &misses.missed),
            ("SPURIOUS direct", &misses.spurious),
        ] {
            let _ = writeln!(out, "== {title} ({})", list.len());
            for (n, t) in list {
                let _ = writeln!(out, "[{n}] {t}");
            }
        }
        let _ = writeln!(
            out,
            "== WRONG SPEAKER direct ({})",
            misses.wrong_speaker.len()
        );
        for (n, c, g, p) in &misses.wrong_speaker {
            let _ = writeln!(out, "[{n}] gold={g:?} pred={p:?} :: {c}");
        }
        for (title, list) in [
            ("MISSED all", &all_misses.missed),
            ("SPURIOUS all", &all_misses.spurious),
        ] {
            let _ = writeln!(out, "== {title} ({})", list.len());
            for (n, t) in list {
                let _ = writeln!(out, "[{n}] {t}");
            }
        }
        let _ = writeln!(
            out,
            "== WRONG SPEAKER all ({})",
            all_misses.wrong_speaker.len()
        );
        for (n, c, g, p) in &all_misses.wrong_speaker {
            let _ = writeln!(out, "[{n}] gold={g:?} pred={p:?} :: {c}");
        }
    }
    Ok(out)
}

/// `dossier-eval train-cues`: counts, over a PolNeAR split, how often each word form is the
/// head of an attribution cue (its first word that is not an auxiliary or adverb) and how
/// often it occurs at all; writes `word \t cue \t total \t direct` lines.
pub fn train_cues(dir: &Path, out: &Path) -> Result<String, EvalError> {
    let articles = read_polnear(dir)?;
    let mut counts: BTreeMap<String, (u32, u32, u32)> = BTreeMap::new();
    for a in &articles {
        let tokens = tokenize(&a.text);
        let ci = char_index(&a.text);
        let starts: Vec<usize> = tokens.iter().map(|t| ci(t.start)).collect();
        for t in &tokens {
            let w = t.text(&a.text);
            if w.chars().all(char::is_alphabetic) && w.is_ascii() {
                counts.entry(w.to_ascii_lowercase()).or_default().1 += 1;
            }
        }
        for g in &a.attrs {
            let Some(first) = g.cue.first() else { continue };
            let mut i = starts.partition_point(|&s| s < first.start);
            while i < tokens.len() && starts[i] < first.end {
                let w = tokens[i].text(&a.text);
                let cls = lexicon::classify(w);
                let aux = cls.is(lexicon::flags::AUX) && !w.eq_ignore_ascii_case("said");
                if !aux && w.chars().all(char::is_alphabetic) && w.is_ascii() {
                    let e = counts.entry(w.to_ascii_lowercase()).or_default();
                    e.0 += 1;
                    if g.direct {
                        e.2 += 1;
                    }
                    break;
                }
                i += 1;
            }
        }
    }
    let mut rows: Vec<(&String, &(u32, u32, u32))> =
        counts.iter().filter(|(_, c)| c.0 >= 2).collect();
    rows.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
    let mut tsv = String::new();
    for (w, (c, t, d)) in &rows {
        let _ = writeln!(tsv, "{w}\t{c}\t{t}\t{d}");
    }
    std::fs::write(out, &tsv).map_err(|source| EvalError::Io {
        path: out.to_owned(),
        source,
    })?;
    Ok(format!(
        "{} cue words from {} articles written to {}",
        rows.len(),
        articles.len(),
        out.display()
    ))
}

/// One CheckThat! sentence.
#[derive(Debug, Clone)]
pub struct Labelled {
    /// Debate (file name) it belongs to; empty for ClaimBuster.
    pub debate: String,
    /// The sentence.
    pub text: String,
    /// Check-worthy.
    pub label: bool,
}

/// Parses RFC 4180 CSV (quoted fields, doubled quotes, newlines inside quotes).
fn parse_csv(s: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    field.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
        } else {
            match c {
                '"' => quoted = true,
                ',' => row.push(std::mem::take(&mut field)),
                '\r' => {}
                '\n' => {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                _ => field.push(c),
            }
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// Reads CLEF CheckThat! 2019 Task 1 training (`line_number,speaker,text,label,file_name`).
pub fn read_clef(path: &Path) -> Result<Vec<Labelled>, EvalError> {
    let rows = parse_csv(&read(path)?);
    let head = rows.first().cloned().unwrap_or_default();
    let col = |name: &str| {
        head.iter()
            .position(|h| h == name)
            .ok_or_else(|| EvalError::Format {
                path: path.to_owned(),
                message: format!("no column {name}"),
            })
    };
    let (t, l, f) = (col("text")?, col("label")?, col("file_name")?);
    Ok(rows
        .iter()
        .skip(1)
        .filter(|r| r.len() > t.max(l).max(f))
        .map(|r| Labelled {
            debate: r[f].clone(),
            text: r[t].clone(),
            label: r[l].trim() == "1",
        })
        .collect())
}

/// Reads ClaimBuster's `[{sentence_id, label, text}]` JSON.
pub fn read_claimbuster(path: &Path) -> Result<Vec<Labelled>, EvalError> {
    #[derive(serde::Deserialize)]
    struct Row {
        text: String,
        label: i64,
    }
    let rows: Vec<Row> = serde_json::from_str(&read(path)?).map_err(|e| EvalError::Format {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    Ok(rows
        .into_iter()
        .map(|r| Labelled {
            debate: String::new(),
            text: r.text,
            label: r.label == 1,
        })
        .collect())
}

fn norm_key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Average precision of `scores` (higher first, ties in input order) against `labels`.
pub fn average_precision(scores: &[f32], labels: &[bool]) -> f64 {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let n_rel = labels.iter().filter(|&&l| l).count();
    if n_rel == 0 {
        return 0.0;
    }
    let (mut hits, mut sum) = (0usize, 0.0f64);
    for (k, &i) in idx.iter().enumerate() {
        if labels[i] {
            hits += 1;
            sum += hits as f64 / (k + 1) as f64;
        }
    }
    sum / n_rel as f64
}

/// Scores the sentences of one debate as the judges do: the debate goes to the claim
/// extractor as one text with one sentence per line; a line's score is the highest
/// check-worthiness among the claims whose sentence starts in it (0 if none).
pub fn debate_scores(lines: &[&str], model: &checkworthy::Model) -> Vec<f32> {
    let mut text = String::new();
    let mut starts = Vec::with_capacity(lines.len());
    for l in lines {
        starts.push(text.len());
        text.push_str(&l.replace('\n', " "));
        text.push('\n');
    }
    let tokens = tokenize(&text);
    let sentences = split_sentences(&text, &tokens);
    let claims =
        crate::analysis::claims::extract_claims_with(&text, &tokens, &sentences, &[], model);
    let mut scores = vec![0.0f32; lines.len()];
    for c in claims {
        let line = starts
            .partition_point(|&s| s <= c.sentence.start)
            .saturating_sub(1);
        if let (Some(s), Some(cw)) = (scores.get_mut(line), c.check_worthiness) {
            *s = s.max(cw);
        }
    }
    scores
}

/// Training examples: CLEF sentences of the given debates plus ClaimBuster (minus sentences
/// that also occur in `exclude`, so a held-out debate never leaks in through ClaimBuster).
fn examples<'a>(
    clef: &'a [Labelled],
    cb: &'a [Labelled],
    train_debates: &[&str],
    exclude: &std::collections::HashSet<String>,
    cb_weight: f32,
) -> Vec<(&'a str, bool, f32)> {
    let mut ex: Vec<(&str, bool, f32)> = clef
        .iter()
        .filter(|x| train_debates.contains(&x.debate.as_str()))
        .map(|x| (x.text.as_str(), x.label, 1.0))
        .collect();
    ex.extend(
        cb.iter()
            .filter(|x| !exclude.contains(&norm_key(&x.text)))
            .map(|x| (x.text.as_str(), x.label, cb_weight)),
    );
    ex
}

/// Settings of the check-worthiness training, shared by the CV and the final training.
#[derive(Debug, Clone, Copy)]
pub struct CwSettings {
    /// Optimiser settings.
    pub train: checkworthy::TrainOptions,
    /// Weight of a ClaimBuster example relative to a CheckThat! one.
    pub claimbuster_weight: f32,
}

impl Default for CwSettings {
    fn default() -> Self {
        CwSettings {
            train: checkworthy::TrainOptions::default(),
            claimbuster_weight: 1.0,
        }
    }
}

/// `dossier-eval checkworthy`: leave-one-debate-out cross-validation on CheckThat! 2019
/// training, MAP over debates through the full claim pipeline.
pub fn run_checkworthy(
    clef_path: &Path,
    cb_path: &Path,
    settings: CwSettings,
) -> Result<String, EvalError> {
    let clef = read_clef(clef_path)?;
    let cb = read_claimbuster(cb_path)?;
    let debates = debate_names(&clef);
    let mut out = String::new();
    let mut aps = Vec::new();
    for held in &debates {
        let train: Vec<&str> = debates.iter().copied().filter(|d| d != held).collect();
        for run in train_and_score(&clef, &cb, &train, &[held], settings, false) {
            let ap = average_precision(&run.scores, &run.labels);
            let _ = writeln!(
                out,
                "{held:32} sentences={:5} positives={:3} AP={ap:.4}",
                run.labels.len(),
                run.labels.iter().filter(|&&l| l).count()
            );
            aps.push(ap);
        }
    }
    let map = aps.iter().sum::<f64>() / aps.len().max(1) as f64;
    let _ = writeln!(
        out,
        "leave-one-debate-out MAP over {} debates: {map:.4} (settings: {settings:?}; chosen on these same folds, so not an estimate: see --nested)",
        aps.len()
    );
    Ok(out)
}

/// The debates of `clef`, sorted, each once.
fn debate_names(clef: &[Labelled]) -> Vec<&str> {
    let mut debates: Vec<&str> = clef.iter().map(|x| x.debate.as_str()).collect();
    debates.sort();
    debates.dedup();
    debates
}

/// Fold `f` of `folds` over `debates`: every `folds`-th debate from the `f`-th held out,
/// the rest to train on.
fn grouped_fold<'a>(debates: &[&'a str], folds: usize, f: usize) -> (Vec<&'a str>, Vec<&'a str>) {
    let (mut held, mut train) = (Vec::new(), Vec::new());
    for (i, &d) in debates.iter().enumerate() {
        if i % folds == f {
            held.push(d);
        } else {
            train.push(d);
        }
    }
    (held, train)
}

/// The settings the nested cross-validation chooses among: ClaimBuster's weight and the
/// weight of a positive example (the rest as given).
fn cw_grid(base: CwSettings) -> Vec<CwSettings> {
    let mut grid = Vec::new();
    for claimbuster_weight in [0.25f32, 0.5, 1.0] {
        for positive_weight in [1.0f32, 3.0] {
            grid.push(CwSettings {
                train: checkworthy::TrainOptions {
                    positive_weight,
                    ..base.train
                },
                claimbuster_weight,
            });
        }
    }
    grid
}

/// One debate's line scores and labels.
struct DebateRun {
    scores: Vec<f32>,
    labels: Vec<bool>,
}

/// Trains on the `train` debates (and ClaimBuster without the sentences of `held`), if
/// `calibrated` with its scores calibrated (which changes no ranking, so no AP), then scores
/// every `held` debate through the claim pipeline.
fn train_and_score(
    clef: &[Labelled],
    cb: &[Labelled],
    train: &[&str],
    held: &[&str],
    settings: CwSettings,
    calibrated: bool,
) -> Vec<DebateRun> {
    let exclude: std::collections::HashSet<String> = clef
        .iter()
        .filter(|x| held.contains(&x.debate.as_str()))
        .map(|x| norm_key(&x.text))
        .collect();
    let ex = examples(clef, cb, train, &exclude, settings.claimbuster_weight);
    let mut model = checkworthy::train(&ex, settings.train);
    if calibrated {
        calibrate(&mut model, clef, cb, train, settings);
    }
    held.iter()
        .map(|d| {
            let test: Vec<&Labelled> = clef.iter().filter(|x| x.debate == *d).collect();
            let lines: Vec<&str> = test.iter().map(|x| x.text.as_str()).collect();
            DebateRun {
                scores: debate_scores(&lines, &model),
                labels: test.iter().map(|x| x.label).collect(),
            }
        })
        .collect()
}

/// Calibrates `model`, trained on the `debates` with `settings`: Platt scaling
/// ([`checkworthy::fit_platt`]) fitted on out-of-fold log-odds of their CheckThat! sentences,
/// from models trained on the other [`INNER_FOLDS`] − 1 groups of them. Returns `(a, b)`.
fn calibrate(
    model: &mut checkworthy::Model,
    clef: &[Labelled],
    cb: &[Labelled],
    debates: &[&str],
    settings: CwSettings,
) -> (f32, f32) {
    let (mut z, mut y) = (Vec::new(), Vec::new());
    for f in 0..INNER_FOLDS.min(debates.len()) {
        let (held, train) = grouped_fold(debates, INNER_FOLDS, f);
        let exclude: std::collections::HashSet<String> = clef
            .iter()
            .filter(|x| held.contains(&x.debate.as_str()))
            .map(|x| norm_key(&x.text))
            .collect();
        let ex = examples(clef, cb, &train, &exclude, settings.claimbuster_weight);
        let fold_model = checkworthy::train(&ex, settings.train);
        for x in clef.iter().filter(|x| held.contains(&x.debate.as_str())) {
            z.push(fold_model.logit(&x.text));
            y.push(x.label);
        }
    }
    let (a, b) = checkworthy::fit_platt(&z, &y);
    model.rescale(a, b);
    (a, b)
}

/// Mean AP over the `debates` when each of `folds` groups of them is scored by a model
/// trained on the others.
fn grouped_cv_map(
    clef: &[Labelled],
    cb: &[Labelled],
    debates: &[&str],
    folds: usize,
    settings: CwSettings,
) -> f64 {
    let mut aps = Vec::new();
    for f in 0..folds {
        let (held, train) = grouped_fold(debates, folds, f);
        for run in train_and_score(clef, cb, &train, &held, settings, false) {
            aps.push(average_precision(&run.scores, &run.labels));
        }
    }
    aps.iter().sum::<f64>() / aps.len().max(1) as f64
}

/// The grid's setting with the best grouped-CV MAP over `debates` (ties: the earlier).
fn select_settings(
    clef: &[Labelled],
    cb: &[Labelled],
    debates: &[&str],
    grid: &[CwSettings],
) -> (CwSettings, f64) {
    let mut best = (grid[0], f64::MIN);
    for &s in grid {
        let map = grouped_cv_map(clef, cb, debates, INNER_FOLDS, s);
        if map > best.1 {
            best = (s, map);
        }
    }
    best
}

/// Folds of the inner cross-validation (debates grouped, every fourth one per fold).
const INNER_FOLDS: usize = 4;

/// `dossier-eval checkworthy --nested`: nested cross-validation by debate. Each debate is
/// held out in turn; on the other 18 an inner grouped cross-validation chooses the settings
/// (ClaimBuster's weight, the positive weight), a model with them is trained on all 18 and
/// calibrated, and the held-out debate is scored. The reported MAP never saw its own
/// choices; Brier score and mean score against the positive rate check the calibration.
/// Ends with the choice the same procedure makes on all debates (the shipped settings).
pub fn run_checkworthy_nested(
    clef_path: &Path,
    cb_path: &Path,
    base: CwSettings,
) -> Result<String, EvalError> {
    use rayon::prelude::*;
    let clef = read_clef(clef_path)?;
    let cb = read_claimbuster(cb_path)?;
    let debates = debate_names(&clef);
    let grid = cw_grid(base);
    let outer: Vec<(CwSettings, f64, DebateRun)> = debates
        .par_iter()
        .map(|held| {
            let train: Vec<&str> = debates.iter().copied().filter(|d| d != held).collect();
            let (chosen, inner) = select_settings(&clef, &cb, &train, &grid);
            let run = train_and_score(&clef, &cb, &train, &[held], chosen, true)
                .pop()
                .unwrap_or(DebateRun {
                    scores: Vec::new(),
                    labels: Vec::new(),
                });
            (chosen, inner, run)
        })
        .collect();
    let mut out = String::new();
    let (mut aps, mut sq, mut sum, mut pos, mut n) = (Vec::new(), 0.0, 0.0, 0usize, 0usize);
    for (held, (chosen, inner, run)) in debates.iter().zip(&outer) {
        let ap = average_precision(&run.scores, &run.labels);
        for (&s, &l) in run.scores.iter().zip(&run.labels) {
            let y = if l { 1.0 } else { 0.0 };
            sq += (f64::from(s) - y).powi(2);
            sum += f64::from(s);
            pos += usize::from(l);
            n += 1;
        }
        let _ = writeln!(
            out,
            "{held:32} sentences={:5} positives={:3} AP={ap:.4}  chosen: claimbuster_weight={} positive_weight={} (inner MAP {inner:.4})",
            run.labels.len(),
            run.labels.iter().filter(|&&l| l).count(),
            chosen.claimbuster_weight,
            chosen.train.positive_weight,
        );
        aps.push(ap);
    }
    let map = aps.iter().sum::<f64>() / aps.len().max(1) as f64;
    let n = n.max(1) as f64;
    let _ = writeln!(
        out,
        "nested leave-one-debate-out MAP over {} debates: {map:.4}; calibration on held-out lines: Brier {:.4}, mean score {:.4} vs positive rate {:.4}",
        aps.len(),
        sq / n,
        sum / n,
        pos as f64 / n
    );
    let (chosen, inner) = select_settings(&clef, &cb, &debates, &grid);
    let _ = writeln!(
        out,
        "chosen on all {} debates (ship with these): --claimbuster-weight {} --positive-weight {} (grouped {INNER_FOLDS}-fold MAP {inner:.4})",
        debates.len(),
        chosen.claimbuster_weight,
        chosen.train.positive_weight
    );
    Ok(out)
}

/// `dossier-eval train-checkworthy`: trains on all CheckThat! 2019 training debates and
/// ClaimBuster and writes the model TSV.
pub fn train_checkworthy(
    clef_path: &Path,
    cb_path: &Path,
    out: &Path,
    settings: CwSettings,
) -> Result<String, EvalError> {
    let clef = read_clef(clef_path)?;
    let cb = read_claimbuster(cb_path)?;
    let debates = debate_names(&clef);
    let ex = examples(
        &clef,
        &cb,
        &debates,
        &Default::default(),
        settings.claimbuster_weight,
    );
    let mut model = checkworthy::train(&ex, settings.train);
    let (a, b) = calibrate(&mut model, &clef, &cb, &debates, settings);
    let tsv = model.to_tsv();
    std::fs::write(out, &tsv).map_err(|source| EvalError::Io {
        path: out.to_owned(),
        source,
    })?;
    Ok(format!(
        "trained on {} examples, log-odds calibrated to {a:.3}·z {b:+.3} (Platt, out-of-fold); {} weights written to {}",
        ex.len(),
        tsv.lines().count(),
        out.display()
    ))
}

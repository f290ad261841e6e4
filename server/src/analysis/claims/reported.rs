//! Attribution frames: a cue, its source and its content, found inside one unit (a sentence,
//! or several when a quote runs over them).
//!
//! The patterns, in PolNeAR's terms (S source, V cue, C content):
//! - S V C: "Trump said (that) …", "Witkoff told reporters …", "He said: “…”";
//! - C S V: "“…,” Trump said.", "…, the official said in a statement.";
//! - C V S: "“…,” said a senior administration official.";
//! - V S C / C V S with "according to": "According to the poll, …", "…, according to X."
//!
//! Quotes are opaque here: a cue inside a quote is never a frame of the quoting sentence.

use super::doc::Doc;
use super::lexicon::flags::*;
use super::lexicon::MIN_CUE_PROB;
use super::speakers::{left_np, right_np};
use std::ops::Range;

/// How the parts of a frame are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// Source, cue, content.
    Svc,
    /// Content, source, cue.
    Csv,
    /// Content, cue, source.
    Cvs,
    /// "according to" before its content.
    AccordingFirst,
    /// "according to" after its content.
    AccordingLast,
}

/// One attribution frame in token indices.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    pub cue: Range<usize>,
    pub source: Option<Range<usize>>,
    pub content: Range<usize>,
    pub order: Order,
    /// For a participle continuation ("…, adding that …"): the frame whose speaker it shares.
    pub same_speaker_as: Option<usize>,
    /// Waiting for the next unit's quote as content ("He said:" at the end of a paragraph).
    pub pending: bool,
    /// A second part of the content in the same unit ("“A,” he said, “B.”").
    pub extra: Option<Range<usize>>,
}

fn is_det_article(doc: &Doc, i: usize) -> bool {
    matches!(
        doc.word(i).to_ascii_lowercase().as_str(),
        "the" | "a" | "an" | "his" | "their" | "its" | "our" | "my" | "your" | "this" | "that"
    )
}

/// Words that end in a colon at the start of a line without being a speaker.
const NOT_SPEAKER_LABELS: &[&str] = &[
    "note",
    "update",
    "updated",
    "correction",
    "editor",
    "photo",
    "related",
    "source",
    "read",
    "watch",
    "share",
    "advertisement",
    "caption",
    "credit",
    "breaking",
    "q",
    "a",
    "question",
    "answer",
    "video",
    "listen",
    "subscribe",
    "follow",
    "see",
    "more",
    "also",
    "warning",
    "disclaimer",
    "sources",
    "reporting",
    "contact",
    "email",
    "tags",
    "topics",
    "posted",
];

/// A unit opening with a short name and a colon: the name speaks what follows.
fn colon_label(doc: &Doc, lo: usize, hi: usize) -> Option<Frame> {
    let colon = (lo + 1..(lo + 5).min(hi)).find(|&i| doc.is(i, COLON))?;
    let name = lo..colon;
    if !name
        .clone()
        .all(|i| doc.is(i, CAP) && !doc.in_quote(i) && !doc.is(i, PUNCT))
    {
        return None;
    }
    let first = doc.word(lo).to_ascii_lowercase();
    if NOT_SPEAKER_LABELS.contains(&first.as_str()) || doc.is(lo, STOP | PREP | DET | TIME) {
        return None;
    }
    if words(doc, colon + 1..hi) < 3 {
        return None;
    }
    Some(Frame {
        cue: colon..colon + 1,
        source: Some(name),
        content: colon + 1..hi,
        order: Order::Svc,
        same_speaker_as: None,
        pending: false,
        extra: None,
    })
}

/// A unit that is a quote followed by a dash and a short name: the name signs the quote.
fn dash_signature(doc: &Doc, lo: usize, hi: usize) -> Option<Frame> {
    if !doc.in_quote(lo) {
        return None;
    }
    let q = doc.quote_of[lo];
    let mut e = lo;
    while e < hi && doc.quote_of[e] == q {
        e += 1;
    }
    if e >= hi || !matches!(doc.word(e), "—" | "―" | "–" | "-" | "--") {
        return None;
    }
    let name = e + 1..hi;
    let n = name.len();
    if !(1..=6).contains(&n) || !doc.is(e + 1, CAP) || name.clone().any(|i| doc.in_quote(i)) {
        return None;
    }
    Some(Frame {
        cue: e..e + 1,
        source: Some(name),
        content: lo..e,
        order: Order::Csv,
        same_speaker_as: None,
        pending: false,
        extra: None,
    })
}

/// Where reported content starting at `cs` ends: at `hi`, or before a trailing comment on it
/// (", which …", ", sparking …", ", a move that …", "— and …", "but did not …").
fn clause_end(doc: &Doc, cs: usize, hi: usize) -> usize {
    let mut i = cs + 3;
    while i < hi {
        if doc.in_quote(i) {
            i += 1;
            continue;
        }
        let w = |j: usize| if j < hi { doc.word(j) } else { "" };
        if doc.is(i, COMMA) || matches!(w(i), "—" | "―" | "--") {
            let n = w(i + 1).to_ascii_lowercase();
            let ing = doc.is(i + 1, LOWER) && n.ends_with("ing") && n.len() > 5;
            let rel = matches!(
                n.as_str(),
                "which" | "while" | "whereas" | "although" | "though"
            );
            let appos = matches!(n.as_str(), "a" | "an")
                && (i + 2..(i + 6).min(hi)).any(|j| matches!(w(j), "that" | "which"));
            // "— a charge that …", "-- meddling …": a dash starts the writer's comment.
            let dash = !doc.is(i, COMMA);
            // ", but he has also …": a new clause with its own subject.
            let new_clause = doc.is(i, COMMA)
                && doc.is(i + 1, CONJ)
                && (doc.is(i + 2, PRON) && !w(i + 2).eq_ignore_ascii_case("who")
                    || doc.is(i + 2, CAP));
            if (ing || rel || appos || dash || new_clause) && !has_quote(doc, i..hi) {
                return i;
            }
        }
        // "… but did not suggest …": a second verb phrase of the subject.
        if doc.is(i, CONJ)
            && w(i).eq_ignore_ascii_case("but")
            && doc.is(i + 1, AUX)
            && !doc.is(i + 1, PRON)
        {
            return i;
        }
        i += 1;
    }
    hi
}

/// True when content ends right before `i`: a comma or a closing quote.
fn after_content(doc: &Doc, lo: usize, i: usize) -> bool {
    i > lo && (doc.is(i - 1, COMMA) || doc.is(i - 1, QUOTE) && doc.in_quote(i - 1))
}

/// Content `cs..ce` that is "intro, “quote”": the quote alone ("Because of that, “she
/// needs him,” Kunin said").
fn quote_after_intro(doc: &Doc, cs: usize, ce: usize) -> usize {
    if ce == 0 || !doc.in_quote(ce - 1) || doc.in_quote(cs) {
        return cs;
    }
    let q = doc.quote_of[ce - 1];
    let mut s = ce - 1;
    while s > cs && doc.quote_of[s - 1] == q {
        s -= 1;
    }
    if s > cs && doc.is(s - 1, COMMA | COLON) {
        s
    } else {
        cs
    }
}

/// True when a quote ends right before `i` (possibly followed by a comma).
fn quote_before(doc: &Doc, lo: usize, i: usize) -> bool {
    let mut p = i;
    while p > lo && doc.is(p - 1, COMMA) && !doc.in_quote(p - 1) {
        p -= 1;
    }
    p > lo && doc.in_quote(p - 1)
}

/// The end of a frame's tail of adverbials starting at `r`: before ", adding …", or before a
/// quote that continues the content (returned as the extra part).
fn tail(doc: &Doc, r: usize, hi: usize) -> (usize, Option<Range<usize>>) {
    let mut i = r;
    while i < hi {
        if doc.is(i, COMMA | COLON) && !doc.in_quote(i) {
            if doc.is(i + 1, ING) {
                return (i, None);
            }
            if i + 1 < hi && doc.in_quote(i + 1) {
                let q = doc.quote_of[i + 1];
                let mut e = i + 1;
                while e < hi && doc.quote_of[e] == q {
                    e += 1;
                }
                if e >= hi || doc.is(e, FINAL) && e + 1 >= hi {
                    return (hi, Some(i + 1..e));
                }
            }
        }
        if doc.in_quote(i) {
            // A short quoted title in the tail ("said on ABC's “This Week”") is fine.
            let q = doc.quote_of[i];
            let mut e = i;
            while e < hi && doc.quote_of[e] == q {
                e += 1;
            }
            if words(doc, i..e) > 6 {
                return (i, None);
            }
            i = e;
            continue;
        }
        i += 1;
    }
    (hi, None)
}

/// The subject at the start of the clause before `k`: a pronoun or a name/description up to
/// the first lowercase word that is not part of a noun phrase.
pub(crate) fn subject_np(doc: &Doc, lo: usize, k: usize) -> Option<Range<usize>> {
    let mut s = lo;
    // "During Tuesday night's debate, Cruz …": past an introductory phrase.
    if doc.is(s, PREP) || doc.is(s, TIME) {
        s = (s..k).find(|&i| doc.is(i, COMMA))? + 1;
    }
    while s < k && doc.is(s, CONJ | PUNCT) && !doc.in_quote(s) {
        s += 1;
    }
    if s >= k || doc.in_quote(s) {
        return None;
    }
    if doc.is(s, PRON) {
        return Some(s..s + 1);
    }
    let mut e = s;
    while e < k
        && (doc.is(e, CAP | DET | TITLE | ROLE) || doc.is(e, POSS))
        && !doc.is(e, PUNCT)
        && !doc.in_quote(e)
    {
        e += 1;
    }
    if e > s && (s..e).any(|i| doc.is(i, CAP | ROLE)) {
        Some(s..e)
    } else {
        None
    }
}

fn skip_back_aux(doc: &Doc, lo: usize, mut j: usize) -> usize {
    loop {
        if j > lo && doc.is(j - 1, AUX) && !doc.is(j - 1, CAP) {
            j -= 1;
            continue;
        }
        // Adverbs: "Trump genuinely believes", "Witkoff rarely reads".
        if j > lo + 1
            && doc.is(j - 1, LOWER)
            && doc.word(j - 1).ends_with("ly")
            && doc.word(j - 1).len() > 4
        {
            j -= 1;
            continue;
        }
        // "Trump on Tuesday said", "Trump last week said".
        if j > lo && doc.is(j - 1, TIME) {
            let mut k = j - 1;
            while k > lo && doc.is(k - 1, TIME | PREP) && !doc.is(k - 1, CAP | COMMA) {
                k -= 1;
            }
            if k > lo && !doc.is(k - 1, PUNCT) {
                j = k;
                continue;
            }
        }
        return j;
    }
}

/// Skips adverbials right after a cue ("on Tuesday", "in a statement") up to `hi`; returns
/// the new position.
fn skip_fwd_adverbials(doc: &Doc, mut r: usize, hi: usize) -> usize {
    while r < hi {
        if doc.is(r, TIME) && !doc.is(r, THAT) || doc.is(r, AUX) && !doc.is(r, STOP) {
            r += 1;
        } else {
            break;
        }
    }
    r
}

/// True when tokens `a..b` hold a quote chain.
fn has_quote(doc: &Doc, r: Range<usize>) -> bool {
    r.into_iter().any(|i| doc.in_quote(i))
}

/// Word tokens in `a..b`.
fn words(doc: &Doc, r: Range<usize>) -> usize {
    r.into_iter().filter(|&i| !doc.is(i, PUNCT)).count()
}

/// Where content after a cue begins: past a hearer ("told reporters"), adverbials, and up
/// to a nearby "that"; or at a quote after a comma or colon.
fn content_start(doc: &Doc, k: usize, cue_end: usize, hi: usize) -> usize {
    let mut r = cue_end;
    if doc.is(k, OBJCUE) && r < hi {
        if doc.is(r, OBJPRON) {
            r += 1;
        } else if !doc.is(r, THAT) && !doc.in_quote(r) && (doc.is(r, CAP | DET)) {
            if let Some(np) = right_np(doc, r, hi) {
                // "told the Associated Press on Tuesday that": keep "that" for the content.
                r = np.end;
            }
        }
    }
    r = skip_fwd_adverbials(doc, r, hi);
    // "said in a statement that", "said Tuesday in an interview with CNN that".
    let mut j = r;
    while j < hi && j < r + 10 && !doc.in_quote(j) && !doc.is(j, FINAL | BREAK) {
        if doc.is(j, THAT) {
            if j > r && (r..j).all(|i| !doc.is(i, CUE) || doc.is(i, PREP)) {
                return j;
            }
            break;
        }
        if doc.is(j, COMMA) || doc.is(j, COLON) {
            if doc.in_quote(j + 1) {
                return j + 1;
            }
            break;
        }
        j += 1;
    }
    if j < hi && doc.is(j, COLON) && doc.in_quote(j + 1) {
        return j + 1;
    }
    if r < hi && doc.is(r, COMMA | COLON) {
        r += 1;
    }
    r
}

/// The end of the content that starts at `cs` in a unit ending at `hi`: drop sentence-final
/// punctuation outside quotes.
fn trim_end(doc: &Doc, cs: usize, mut hi: usize) -> usize {
    while hi > cs && !doc.in_quote(hi - 1) && doc.is(hi - 1, PUNCT) {
        hi -= 1;
    }
    hi
}

/// True when `i` starts a clause: the unit start, or right after a comma closing an
/// introductory phrase, a conjunction or a subordinating word.
fn clause_start(doc: &Doc, lo: usize, i: usize) -> bool {
    if i == lo {
        return true;
    }
    let p = i - 1;
    if doc.is(p, CONJ | THAT | STOP) && !doc.is(p, CUE) {
        return true;
    }
    if doc.is(p, COMMA | BREAK) {
        return true;
    }
    false
}

/// Finds the frames of one unit `u`, pushing them to `out`.
pub(crate) fn frames_in_unit(doc: &Doc, u: Range<usize>, out: &mut Vec<Frame>) {
    let first_new = out.len();
    let hi = trim_end(doc, u.start, u.end);
    // Where the next frame's content may begin (after the previous frame).
    let mut cstart = u.start;
    // "…, according to X." governs everything before it: cues there are inside its content.
    let according_last = (u.start + 1..hi).find(|&i| {
        !doc.in_quote(i)
            && doc.is(i, ACCORDING)
            && doc.word(i + 1).eq_ignore_ascii_case("to")
            && doc.is(i - 1, COMMA)
    });
    // "“…” ― Carlos Raúl": a quote signed with a dash and a name.
    if let Some(f) = dash_signature(doc, u.start, hi) {
        out.push(f);
        return;
    }
    // "Trump: ‘I will win’", "PENCE: Well, …": a name and a colon open the unit.
    if let Some(f) = colon_label(doc, u.start, hi) {
        out.push(f);
        return;
    }
    let mut k = u.start;
    while k < hi {
        if according_last.is_some_and(|a| k < a) && !doc.is(k, ACCORDING) {
            k += 1;
            continue;
        }
        let c = doc.cls[k];
        let is_according = c.is(ACCORDING) && doc.word(k + 1).eq_ignore_ascii_case("to");
        if doc.in_quote(k) || !(is_according || c.is(CUE) && c.cue >= MIN_CUE_PROB) {
            k += 1;
            continue;
        }
        // A cue word used as a noun: "Trump’s telling of", "the hopes that".
        if !is_according && k > u.start && (doc.is(k - 1, POSS) || is_det_article(doc, k - 1)) {
            k += 1;
            continue;
        }
        // A cue inside the previous frame's content: a participle or coordinated verb starts
        // a new frame with the same speaker; anything else is part of that content.
        if let Some(prev) = out.len().checked_sub(1).filter(|&p| p >= first_new) {
            let pf = &out[prev];
            if pf.content.contains(&k) {
                // "… and has said that …": look past auxiliaries for the conjunction.
                let mut b = k;
                while b > pf.content.start + 1 && doc.is(b - 1, AUX) && !doc.is(b - 1, CAP) {
                    b -= 1;
                }
                let aux_conj = b < k && doc.is(b - 1, CONJ) && pf.order == Order::Svc;
                let split = k > 0
                    && (aux_conj
                        || c.is(ING) && doc.is(k - 1, COMMA)
                        || doc.is(k - 1, CONJ) && k >= 2 && doc.is(k - 2, COMMA) && !c.is(ING)
                        || doc.is(k - 1, CONJ) && pf.order == Order::Svc
                        // "…, suggested that …": another verb of the same subject.
                        || doc.is(k - 1, COMMA)
                            && pf.order == Order::Svc
                            && doc.word(k).ends_with("ed")
                            && (doc.is(k + 1, THAT) || doc.in_quote(k + 1)));
                if split && k - 1 > pf.content.start + 1 {
                    let cut = if aux_conj {
                        b - 1
                    } else if doc.is(k - 1, COMMA) || doc.is(k - 1, CONJ) {
                        k - 1
                    } else {
                        k
                    };
                    let mut cut = cut;
                    while cut > pf.content.start && doc.is(cut - 1, COMMA | CONJ) {
                        cut -= 1;
                    }
                    let cs = content_start(doc, k, k + 1, hi);
                    if cs < hi {
                        out[prev].content.end = cut;
                        out.push(Frame {
                            cue: if aux_conj { b..k + 1 } else { k..k + 1 },
                            source: None,
                            content: cs..hi,
                            order: Order::Svc,
                            same_speaker_as: Some(prev),
                            pending: false,
                            extra: None,
                        });
                        cstart = hi;
                    }
                }
                k += 1;
                continue;
            }
        }
        if is_according {
            let cue = k..k + 2;
            let Some(src) = right_np(doc, k + 2, hi) else {
                k += 2;
                continue;
            };
            let lead_only = (cstart..k).all(|i| doc.is(i, CONJ | PUNCT | AUX) && !doc.in_quote(i));
            if lead_only {
                let mut cs = src.end;
                if cs < hi && doc.is(cs, COMMA) {
                    cs += 1;
                }
                let ce = clause_end(doc, cs, hi);
                if words(doc, cs..ce) >= 2 {
                    out.push(Frame {
                        cue,
                        source: Some(src),
                        content: cs..ce,
                        order: Order::AccordingFirst,
                        same_speaker_as: None,
                        pending: false,
                        extra: None,
                    });
                    cstart = hi;
                    k = hi;
                    continue;
                }
            } else {
                let mut ce = k;
                while ce > cstart && doc.is(ce - 1, COMMA) {
                    ce -= 1;
                }
                if words(doc, cstart..ce) >= 2 {
                    out.push(Frame {
                        cue,
                        source: Some(src.clone()),
                        content: cstart..ce,
                        order: Order::AccordingLast,
                        same_speaker_as: None,
                        pending: false,
                        extra: None,
                    });
                    cstart = src.end;
                }
            }
            k = src.end.max(k + 2);
            continue;
        }
        // ", saying …" with no frame before it: the clause's subject speaks.
        if c.is(ING) && k > cstart && doc.is(k - 1, COMMA) {
            // "“…,” Chaffetz said in a statement, adding that …": the previous speaker goes on.
            if let Some(prev) = out.len().checked_sub(1).filter(|&p| p >= first_new) {
                let cs = content_start(doc, k, k + 1, hi);
                let ce = clause_end(doc, cs, hi);
                if words(doc, cs..ce) >= 2 || has_quote(doc, cs..ce) {
                    out.push(Frame {
                        cue: k..k + 1,
                        source: None,
                        content: cs..ce,
                        order: Order::Svc,
                        same_speaker_as: Some(prev),
                        pending: false,
                        extra: None,
                    });
                    cstart = hi;
                }
                k += 1;
                continue;
            }
            if let Some(src) = subject_np(doc, u.start, k) {
                let cs = content_start(doc, k, k + 1, hi);
                if words(doc, cs..hi) >= 2 {
                    out.push(Frame {
                        cue: k..k + 1,
                        source: Some(src),
                        content: cs..hi,
                        order: Order::Svc,
                        same_speaker_as: None,
                        pending: false,
                        extra: None,
                    });
                    cstart = hi;
                }
            }
            k += 1;
            continue;
        }
        // Source on the left?
        let j = skip_back_aux(doc, cstart, k);
        let mut left = left_np(doc, cstart, j);
        if left.is_none() && j > cstart + 2 && doc.is(j - 1, COMMA) {
            // "Beruff, a Scott ally, said" / "Trump, who leads, said": the name and its
            // apposition together are the source.
            if let Some(c1) = (cstart..j - 1)
                .rev()
                .take(25)
                .find(|&i| doc.is(i, COMMA) || doc.in_quote(i) || doc.is(i, FINAL | BREAK))
            {
                if doc.is(c1, COMMA) && !doc.is(c1 + 1, CONJ) {
                    if let Some(l) = left_np(doc, cstart, c1) {
                        left = Some(l.start..j - 1);
                    }
                }
            }
        }
        // Tail after the cue: where this frame stops (before ", adding …" or a new quote).
        let (tail_end, extra) = tail(doc, k + 1, hi);
        let quoted_before = left
            .as_ref()
            .is_some_and(|l| quote_before(doc, cstart, l.start));
        let tail_ok = {
            let t = extra
                .as_ref()
                .map_or(tail_end, |x| x.start)
                .saturating_sub(k + 1);
            let no_that = !(k + 1..tail_end).any(|i| doc.is(i, THAT) && !doc.in_quote(i));
            if quoted_before {
                // "“…,” Merkel told reporters after the meeting that was held …": a relative
                // "that" is fine; "said that …" is reported speech of its own.
                t <= 30 && !doc.is(k + 1, THAT)
            } else {
                // Unquoted content before: only adverbials may follow the cue ("…, he said
                // on Tuesday"), not an object ("Within minutes, he called Rubio …").
                t <= 8
                    && no_that
                    && (t == 0 || doc.is(k + 1, PREP | TIME | COMMA) && !doc.is(k + 1, CAP))
            }
        };
        // C S V: "“…,” Trump said."
        if let Some(l) = left
            .clone()
            .filter(|l| after_content(doc, cstart, l.start) && tail_ok)
        {
            let mut ce = l.start;
            while ce > cstart && doc.is(ce - 1, COMMA) {
                ce -= 1;
            }
            let cs = quote_after_intro(doc, cstart, ce);
            if words(doc, cs..ce) >= if quoted_before { 1 } else { 3 } {
                out.push(Frame {
                    cue: j..k + 1,
                    source: Some(l),
                    content: cs..ce,
                    order: Order::Csv,
                    same_speaker_as: None,
                    pending: false,
                    extra,
                });
                cstart = tail_end;
                k = tail_end;
                continue;
            }
        }
        // C V S: "“…,” said Trump."
        if after_content(doc, cstart, k) && left.is_none() && !doc.is(k + 1, PREP | TIME) {
            if let Some(src) = right_np(doc, k + 1, hi) {
                // "said Sen. Jim Whelan who represents …": anything may follow the name.
                let rest_ok = true;
                let mut ce = k;
                while ce > cstart && doc.is(ce - 1, COMMA) {
                    ce -= 1;
                }
                let cs = quote_after_intro(doc, cstart, ce);
                if rest_ok && words(doc, cs..ce) >= 1 {
                    let (tail_end, extra) = tail(doc, src.end, hi);
                    out.push(Frame {
                        cue: k..k + 1,
                        source: Some(src),
                        content: cs..ce,
                        order: Order::Cvs,
                        same_speaker_as: None,
                        pending: false,
                        extra,
                    });
                    cstart = tail_end;
                    k = tail_end;
                    continue;
                }
            }
        }
        // S V C: "Trump said (that) …".
        if let Some(l) = left.filter(|l| clause_start(doc, cstart, l.start) || l.start == cstart) {
            let cs = content_start(doc, k, k + 1, hi);
            let pending = cs >= hi
                && (doc.is(hi.saturating_sub(1), COLON)
                    || hi == k + 1
                    || u.end > hi && doc.is(u.end - 1, COLON));
            let ce = clause_end(doc, cs, hi);
            if pending || words(doc, cs..ce) >= 2 || has_quote(doc, cs..ce) {
                out.push(Frame {
                    cue: j..k + 1,
                    source: Some(l),
                    content: cs.min(ce)..ce,
                    order: Order::Svc,
                    same_speaker_as: None,
                    pending,
                    extra: None,
                });
                cstart = hi;
            }
        }
        k += 1;
    }
    if out.len() == first_new {
        if let Some(f) = quote_with_any_verb(doc, u.start, hi) {
            out.push(f);
        }
    }
}

/// A plain word that can be a verb: lower case letters, not a function word.
fn verb_like(doc: &Doc, i: usize) -> bool {
    doc.is(i, LOWER)
        && !doc.is(i, STOP | PREP | DET | PRON | CONJ | THAT | TIME)
        && doc.word(i).bytes().all(|b| b.is_ascii_alphabetic())
}

/// Quotes attributed with a verb the lexicon does not know ("“Go back,” Trump barked.",
/// "a spokesman could only quip: “…”"): the quote next to a subject and a verb.
fn quote_with_any_verb(doc: &Doc, lo: usize, hi: usize) -> Option<Frame> {
    // C S V: a quote at the start, then ", NP verb …".
    if doc.in_quote(lo) {
        let q = doc.quote_of[lo];
        let mut e = lo;
        while e < hi && doc.quote_of[e] == q {
            e += 1;
        }
        let mut s = e;
        if s < hi && doc.is(s, COMMA) {
            s += 1;
        }
        if s < hi
            && !doc.in_quote(s)
            && (doc.is(s, PRON) || doc.is(s, CAP) && !doc.is(s, STOP | PREP))
        {
            let mut np_end = s + 1;
            if !doc.is(s, PRON) {
                while np_end < hi && doc.is(np_end, CAP) && !doc.is(np_end, PUNCT) {
                    np_end += 1;
                }
            }
            let mut v = np_end;
            while v < hi && doc.is(v, AUX) && !doc.is(v, CAP) {
                v += 1;
            }
            if v < hi
                && verb_like(doc, v)
                && (doc.word(v).ends_with('s') || doc.word(v).ends_with("ed"))
            {
                let (tail_end, extra) = tail(doc, v + 1, hi);
                if tail_end >= hi || extra.is_some() {
                    return Some(Frame {
                        cue: v..v + 1,
                        source: Some(s..np_end),
                        content: lo..e,
                        order: Order::Csv,
                        same_speaker_as: None,
                        pending: false,
                        extra,
                    });
                }
            }
        }
    }
    // S V C: "NP verb …: “quote”" with the quote running to the end.
    if hi == 0 || !doc.in_quote(hi - 1) {
        return None;
    }
    let q = doc.quote_of[hi - 1];
    let mut qs = hi - 1;
    while qs > lo && doc.quote_of[qs - 1] == q {
        qs -= 1;
    }
    if qs <= lo + 1 || !doc.is(qs - 1, COLON | COMMA) {
        return None;
    }
    let p = qs - 1;
    let v = (p.saturating_sub(4).max(lo)..p)
        .rev()
        .find(|&i| verb_like(doc, i))?;
    let j = skip_back_aux(doc, lo, v);
    let src = left_np(doc, lo, j)?;
    if !(clause_start(doc, lo, src.start) || src.start == lo) {
        return None;
    }
    Some(Frame {
        cue: v..v + 1,
        source: Some(src),
        content: qs..hi,
        order: Order::Svc,
        same_speaker_as: None,
        pending: false,
        extra: None,
    })
}

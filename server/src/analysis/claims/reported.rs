//! Attribution frames: a cue, its source and its content, found inside one unit (a sentence,
//! or several when a quote runs over them).
//!
//! The patterns, in PolNeAR's terms (S source, V cue, C content):
//! - S V C: "Trump said (that) …", "Witkoff told reporters …", "He said: “…”";
//! - C S V: "“…,” Trump said.", "…, the official said in a statement.";
//! - C V S: "“…,” said a senior administration official.";
//! - V S C / C V S with "according to": "According to the poll, …", "…, according to X.";
//! - frames nested in another's content: "…, Stubb, who said …", "what Trump calls “…”",
//!   "which he declared “…”", "…, Trump boasted, “…”", and a closing "…, X said." that
//!   governs the cues before it;
//! - quotes characterised by any verb of naming ("introduced X as “…”", "branded X an
//!   “…”") or set off after someone's statement ("Peskov’s downplaying—”…”—").
//!
//! Quotes are opaque here: a cue inside a quote is never a frame of the quoting sentence.

use super::doc::Doc;
use super::lexicon::flags::*;
use super::lexicon::{TokClass, MIN_CUE_PROB};
use super::speakers::{left_np, right_np, statement_owner};
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

impl Frame {
    /// A frame with a named source and nothing else.
    fn new(cue: Range<usize>, source: Range<usize>, content: Range<usize>, order: Order) -> Self {
        Frame {
            cue,
            source: Some(source),
            content,
            order,
            same_speaker_as: None,
            pending: false,
            extra: None,
        }
    }

    /// A source-cue-content frame whose speaker is the frame at `prev` ("…, adding that …").
    fn continuing(cue: Range<usize>, content: Range<usize>, prev: usize) -> Self {
        Frame {
            cue,
            source: None,
            content,
            order: Order::Svc,
            same_speaker_as: Some(prev),
            pending: false,
            extra: None,
        }
    }

    /// A source-cue-content frame whose speaker is a named source (`Ok`) or the frame at an
    /// index (`Err`).
    fn by(cue: Range<usize>, speaker: Result<Range<usize>, usize>, content: Range<usize>) -> Self {
        match speaker {
            Ok(source) => Frame::new(cue, source, content, Order::Svc),
            Err(prev) => Frame::continuing(cue, content, prev),
        }
    }

    /// The frame with a second part of its content.
    fn with_extra(self, extra: Option<Range<usize>>) -> Self {
        Frame { extra, ..self }
    }

    /// The frame, waiting for the next unit's quote when `pending`.
    fn pending(self, pending: bool) -> Self {
        Frame { pending, ..self }
    }
}

fn is_det_article(doc: &Doc<'_>, i: usize) -> bool {
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
fn colon_label(doc: &Doc<'_>, lo: usize, hi: usize) -> Option<Frame> {
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
    Some(Frame::new(
        colon..colon + 1,
        name,
        colon + 1..hi,
        Order::Svc,
    ))
}

/// A unit that is a quote followed by a dash and a short name: the name signs the quote.
fn dash_signature(doc: &Doc<'_>, lo: usize, hi: usize) -> Option<Frame> {
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
    Some(Frame::new(e..e + 1, name, lo..e, Order::Csv))
}

/// True when a comma ends right before token `i`: a comma of the sentence, or one a closing
/// quote took in (`… “win this race,” adding that …`).
fn after_comma(doc: &Doc<'_>, i: usize) -> bool {
    if i == 0 {
        return false;
    }
    if doc.is(i - 1, COMMA) && !doc.in_quote(i - 1) {
        return true;
    }
    i >= 2
        && !doc.in_quote(i)
        && doc.in_quote(i - 1)
        && doc.is(i - 1, QUOTE)
        && doc.is(i - 2, COMMA)
        && doc.quote_of[i - 2] == doc.quote_of[i - 1]
}

/// A unit opening with a cue verb, then its source and a quote ("Said Ellis: “…”").
fn said_first(doc: &Doc<'_>, lo: usize, hi: usize) -> Option<Frame> {
    if doc.in_quote(lo) || !doc.is(lo, CUE | CAP) || !doc.is(lo, CUE) || !doc.is(lo, CAP) {
        return None;
    }
    if doc.is(lo, ING) || doc.cls[lo].cue < 0.5 {
        return None;
    }
    let src = right_np(doc, lo + 1, hi)?;
    if !(src.clone()).any(|i| doc.is(i, CAP | PRON)) {
        return None;
    }
    let q = (src.end..hi.min(src.end + 30)).find(|&i| doc.in_quote(i))?;
    if !doc.is(q - 1, COMMA | COLON) {
        return None;
    }
    Some(Frame::new(
        lo..lo + 1,
        src,
        q..quote_end(doc, q, hi),
        Order::Cvs,
    ))
}

/// Where reported content starting at `cs` ends: at `hi`, or before a trailing comment on it
/// (", which …", ", sparking …", ", a move that …", "— and …", "but did not …").
fn clause_end(doc: &Doc<'_>, cs: usize, hi: usize) -> usize {
    let mut i = cs + 3;
    while i < hi {
        if doc.in_quote(i) {
            i += 1;
            continue;
        }
        let w = |j: usize| if j < hi { doc.word(j) } else { "" };
        // A comma or dash here (`i` is the mark), or a comma inside the quote that just
        // closed (`i` is the next word).
        let mark = if doc.is(i, COMMA) || matches!(w(i), "—" | "―" | "--") {
            Some((i, i + 1))
        } else if after_comma(doc, i) && !doc.is(i - 1, COMMA) {
            Some((i, i))
        } else {
            None
        };
        if let Some((cut, nx)) = mark {
            let n = w(nx).to_ascii_lowercase();
            let ing = doc.is(nx, LOWER) && n.ends_with("ing") && n.len() > 5;
            let rel = matches!(
                n.as_str(),
                "which" | "while" | "whereas" | "although" | "though"
            );
            let appos = matches!(n.as_str(), "a" | "an")
                && (nx + 1..(nx + 5).min(hi)).any(|j| matches!(w(j), "that" | "which"));
            // "— a charge that …", "-- meddling …": a dash starts the writer's comment.
            let dash = cut == nx - 1 && !doc.is(cut, COMMA);
            // ", but he has also …": a new clause with its own subject.
            let new_clause = doc.is(nx, CONJ)
                && (doc.is(nx + 1, PRON) && !w(nx + 1).eq_ignore_ascii_case("who")
                    || doc.is(nx + 1, CAP));
            if (ing || rel || appos || dash || new_clause) && !has_quote(doc, nx..hi)
                || !dash && second_attribution(doc, nx, hi)
            {
                return cut;
            }
        }
        // "… but did not suggest …": a second verb phrase of the subject.
        if doc.is(i, CONJ)
            && w(i).eq_ignore_ascii_case("but")
            && (is_verb_aux(doc, i + 1) || matches!(w(i + 1), "not" | "never"))
        {
            return i;
        }
        i += 1;
    }
    hi
}

/// The end of ", Dmitry Peskov" after a role phrase `src` ("a spokesman for the Kremlin"):
/// one to four capitalised words up to `hi` or the next comma.
fn name_after_role(doc: &Doc<'_>, src: &Range<usize>, hi: usize) -> Option<usize> {
    let has_role = src
        .clone()
        .any(|i| doc.is(i, ROLE | TITLE) && doc.is(i, LOWER));
    if !has_role || src.end + 1 >= hi || !doc.is(src.end, COMMA) {
        return None;
    }
    let start = src.end + 1;
    let end = (start..hi)
        .find(|&i| !(doc.is(i, CAP) && !doc.is(i, PUNCT) && !doc.in_quote(i)))
        .unwrap_or(hi);
    let closed = end == hi || doc.is(end, COMMA | FINAL);
    let words = end - start;
    ((1..=4).contains(&words) && closed && !doc.is(start, TITLE | ROLE | DET | PRON)).then_some(end)
}

/// True after a comma when a second attribution follows: a conjunction, a short subject and
/// a cue ("…, but the president argued it would hold").
fn second_attribution(doc: &Doc<'_>, nx: usize, hi: usize) -> bool {
    doc.is(nx, CONJ)
        && (nx + 2..(nx + 7).min(hi)).any(|j| {
            doc.is(j, CUE)
                && doc.cls[j].cue >= MIN_CUE_PROB
                && !doc.in_quote(j)
                && !doc.is(j - 1, DET | POSS)
                && (nx + 1..j).all(|i| !doc.is(i, PUNCT | CUE) && !doc.in_quote(i))
        })
}

/// True when content ends right before `i`: a comma or a closing quote.
fn after_content(doc: &Doc<'_>, lo: usize, i: usize) -> bool {
    i > lo && (doc.is(i - 1, COMMA) || doc.is(i - 1, QUOTE) && doc.in_quote(i - 1))
}

/// Content `cs..ce` that is "intro, “quote”": the quote alone ("Because of that, “she
/// needs him,” Kunin said").
fn quote_after_intro(doc: &Doc<'_>, cs: usize, ce: usize) -> usize {
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

/// True when the quote ending right before `i` is a title inside a phrase ("In an interview
/// on CBS's “Face the Nation,” Ryan said …"): a few words after a possessive, preposition
/// or article.
fn title_before(doc: &Doc<'_>, lo: usize, i: usize) -> bool {
    let mut p = i;
    while p > lo && doc.is(p - 1, COMMA) && !doc.in_quote(p - 1) {
        p -= 1;
    }
    if p <= lo || !doc.in_quote(p - 1) {
        return false;
    }
    let q = doc.quote_of[p - 1];
    let mut s = p - 1;
    while s > lo && doc.quote_of[s - 1] == q {
        s -= 1;
    }
    s > lo
        && words(doc, s..p) <= 6
        && (doc.is(s - 1, POSS | PREP) || is_det_article(doc, s - 1))
        && !doc.is(s - 1, COMMA | COLON)
}

/// True when a quote ends right before `i` (possibly followed by a comma).
fn quote_before(doc: &Doc<'_>, lo: usize, i: usize) -> bool {
    let mut p = i;
    while p > lo && doc.is(p - 1, COMMA) && !doc.in_quote(p - 1) {
        p -= 1;
    }
    p > lo && doc.in_quote(p - 1)
}

/// The end of a frame's tail of adverbials starting at `r`: before ", adding …", or before a
/// quote that continues the content (returned as the extra part).
fn tail(doc: &Doc<'_>, r: usize, hi: usize) -> (usize, Option<Range<usize>>) {
    let mut i = r;
    while i < hi {
        // "… Blige sings to Clinton before asking her, “…”": another cue in the tail starts
        // a frame of its own.
        if i > r
            && doc.is(i, CUE)
            && !doc.in_quote(i)
            && doc.cls[i].cue >= MIN_CUE_PROB
            && (doc.is(i, ING) || doc.is(i - 1, CONJ))
        {
            let b = if is_subord(doc.word(i - 1)) || doc.is(i - 1, CONJ) {
                i - 1
            } else {
                i
            };
            return (b, None);
        }
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

/// Words that open an adverbial clause before a participle ("before asking her").
fn is_subord(w: &str) -> bool {
    matches!(
        w.to_ascii_lowercase().as_str(),
        "by" | "while" | "after" | "before" | "when"
    )
}

/// The subject at the start of the clause before `k`: a pronoun or a name/description up to
/// the first lowercase word that is not part of a noun phrase.
pub(crate) fn subject_np(doc: &Doc<'_>, lo: usize, k: usize) -> Option<Range<usize>> {
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

/// Forms of "be", "have", "do" and the modals: a verb of its own clause.
fn is_verb_aux(doc: &Doc<'_>, i: usize) -> bool {
    matches!(
        doc.word(i).to_ascii_lowercase().as_str(),
        "is" | "are"
            | "was"
            | "were"
            | "be"
            | "been"
            | "has"
            | "have"
            | "had"
            | "will"
            | "would"
            | "can"
            | "could"
            | "may"
            | "might"
            | "should"
            | "must"
            | "do"
            | "does"
            | "did"
    )
}

fn skip_back_aux(doc: &Doc<'_>, lo: usize, mut j: usize) -> usize {
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
        // "He’s claimed": the clitic after a pronoun is "has" or "is".
        if j > lo + 1 && doc.is(j - 1, POSS) && !doc.is(j - 1, PUNCT) && doc.is(j - 2, PRON) {
            j -= 1;
            continue;
        }
        // "what diplomats used to call …".
        if j > lo + 2
            && doc.word(j - 1).eq_ignore_ascii_case("to")
            && doc.word(j - 2).eq_ignore_ascii_case("used")
        {
            j -= 2;
            continue;
        }
        // "who in 2010 said".
        if j > lo + 2 && doc.is(j - 1, NUM) && doc.word(j - 1).len() == 4 && doc.is(j - 2, PREP) {
            j -= 2;
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
fn skip_fwd_adverbials(doc: &Doc<'_>, mut r: usize, hi: usize) -> usize {
    while r < hi {
        if doc.is(r, TIME) && !doc.is(r, THAT) || doc.is(r, AUX) && !doc.is(r, STOP) {
            r += 1;
        } else {
            break;
        }
    }
    r
}

/// The end of S V C content starting at `cs` after the cue at `k`: the quote that a comma or
/// colon opens ("He said, “…”": what follows it is the writer's again), else [`clause_end`].
fn svc_content_end(doc: &Doc<'_>, k: usize, cs: usize, hi: usize) -> usize {
    if cs > k + 1
        && cs < hi
        && doc.in_quote(cs)
        && doc.is(cs - 1, COMMA | COLON)
        && !doc.in_quote(cs - 1)
    {
        quote_end(doc, cs, hi)
    } else {
        clause_end(doc, cs, hi)
    }
}

/// "what NP calls “…”" at the cue `k`: NP (a pronoun or up to four words) says the quote
/// that follows within a few words; the frame's content ends with that quote.
fn what_np_calls(doc: &Doc<'_>, lo: usize, k: usize, hi: usize) -> Option<Frame> {
    let j = skip_back_aux(doc, lo, k);
    let w = (j.saturating_sub(5).max(lo)..j.saturating_sub(1))
        .rev()
        .find(|&i| {
            !doc.in_quote(i)
                && (doc.word(i).eq_ignore_ascii_case("what")
                    || doc.word(i).eq_ignore_ascii_case("which"))
        })?;
    let np = w + 1..j;
    if np.is_empty()
        || np.clone().any(|i| {
            doc.in_quote(i)
                || doc.is(i, PUNCT) && !doc.is(i, POSS) && doc.word(i) != "-"
                || is_verb_aux(doc, i)
        })
        || np.len() > 1 && doc.is(np.start, PRON)
    {
        return None;
    }
    let q = (k + 1..(k + 5).min(hi)).find(|&i| doc.in_quote(i))?;
    if (k + 1..q).any(|i| doc.is(i, PUNCT) && !doc.is(i, POSS)) {
        return None;
    }
    let e = quote_end(doc, q, hi);
    Some(Frame::new(j..k + 1, np, w..e, Order::Svc))
}

/// The end (exclusive) of the quote chain holding token `i`, at most `hi`.
fn quote_end(doc: &Doc<'_>, i: usize, hi: usize) -> usize {
    let q = doc.quote_of[i];
    let mut e = i;
    while e < hi && doc.quote_of[e] == q {
        e += 1;
    }
    e
}

/// True when tokens `a..b` hold a quote chain.
fn has_quote(doc: &Doc<'_>, r: Range<usize>) -> bool {
    r.into_iter().any(|i| doc.in_quote(i))
}

/// Word tokens in `a..b`.
fn words(doc: &Doc<'_>, r: Range<usize>) -> usize {
    r.into_iter().filter(|&i| !doc.is(i, PUNCT)).count()
}

/// Where content after a cue begins: past a hearer ("told reporters"), adverbials, and up
/// to a nearby "that"; or at a quote after a comma or colon.
fn content_start(doc: &Doc<'_>, k: usize, cue_end: usize, hi: usize) -> usize {
    let mut r = cue_end;
    // "told a town hall in Salem, New Hampshire on Monday that …": the hearer may run over
    // commas; the content starts at "that".
    if doc.is(k, OBJCUE) {
        if let Some(t) = (r..hi.min(r + 20))
            .take_while(|&i| !doc.in_quote(i) && !doc.is(i, FINAL | CUE) && !is_verb_aux(doc, i))
            .find(|&i| doc.is(i, THAT))
        {
            if t > r {
                return t;
            }
        }
    }
    if doc.is(k, OBJCUE) && r < hi {
        if doc.is(r, OBJPRON) {
            r += 1;
        } else if !doc.is(r, THAT) && !doc.in_quote(r) && (doc.is(r, CAP | DET)) {
            // "told the Associated Press on Tuesday that": keep "that" for the content. A
            // phrase followed by its verb is the content's subject, not a hearer ("warned the
            // deal could collapse").
            if let Some(np) = right_np(doc, r, hi).filter(|np| !is_verb_aux(doc, np.end)) {
                r = np.end;
            }
        }
    }
    r = skip_fwd_adverbials(doc, r, hi);
    // "said in a statement that", "said Tuesday in an interview with CNN that".
    let mut j = r;
    while j < hi && j < r + 10 && !doc.in_quote(j) && !doc.is(j, FINAL | BREAK) {
        if doc.is(j, THAT) {
            // Adverbials only ("in a statement", "Tuesday"), not a clause of its own ("said
            // Thursday his biggest worry is that …").
            let adverbial = |i: usize| {
                (!doc.is(i, CUE) || doc.is(i, PREP)) && !doc.is(i, PRON) && !is_verb_aux(doc, i)
            };
            if j > r && (r..j).all(adverbial) {
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
fn trim_end(doc: &Doc<'_>, cs: usize, mut hi: usize) -> usize {
    while hi > cs && !doc.in_quote(hi - 1) && doc.is(hi - 1, PUNCT) {
        hi -= 1;
    }
    hi
}

/// True when `i` starts a clause: the unit start, or right after a comma closing an
/// introductory phrase, a conjunction or a subordinating word.
fn clause_start(doc: &Doc<'_>, lo: usize, i: usize) -> bool {
    if i == lo {
        return true;
    }
    let p = i - 1;
    // "Witkoff’s role as an errant diplomat underscores …": "as" after a noun is a
    // preposition inside the subject, not a clause opening.
    if doc.word(p).eq_ignore_ascii_case("as")
        && p > lo
        && doc.is(p - 1, LOWER)
        && !doc.is(p - 1, STOP | PREP | AUX | CUE)
    {
        return false;
    }
    if doc.is(p, CONJ | THAT | STOP) && !doc.is(p, CUE) {
        return true;
    }
    if doc.is(p, COMMA | BREAK) {
        return true;
    }
    false
}

/// True when `l` is the subject found for a coordinated verb (it opens the unit).
fn subject_first(doc: &Doc<'_>, lo: usize, l: &Range<usize>) -> bool {
    l.start == lo || doc.is(l.start, PRON) && l.len() == 1
}

/// Finds the frames of one unit `u`, pushing them to `out`.
///
/// Units that are one pattern as a whole (a dash signature, a colon label, "Said X: …") give
/// one frame; otherwise a [`UnitScan`] walks the unit's cue words left to right, each cue
/// trying the patterns in the order of its steps, and the quotes no cue claimed are tried
/// last.
pub(crate) fn frames_in_unit(doc: &Doc<'_>, u: Range<usize>, out: &mut Vec<Frame>) {
    let hi = trim_end(doc, u.start, u.end);
    // "“…” ― Carlos Raúl": a quote signed with a dash and a name.
    // "Trump: ‘I will win’", "PENCE: Well, …": a name and a colon open the unit.
    // "Said Ellis: “…”", "Said Dorothy Poynter, who grew up with Ali, “…”".
    if let Some(f) = dash_signature(doc, u.start, hi)
        .or_else(|| colon_label(doc, u.start, hi))
        .or_else(|| said_first(doc, u.start, hi))
    {
        out.push(f);
        return;
    }
    let mut scan = UnitScan::new(doc, u, hi, out.len());
    scan.unknown_verb_first(out);
    while scan.k < scan.hi {
        scan.step(out);
    }
    scan.finish(out);
}

/// The scan over one unit in [`frames_in_unit`]: the unit's bounds, where this unit's frames
/// start in `out`, where the next content may begin and the token under the scan. Each step
/// that finds a frame pushes it and moves `k` (and `cstart`) past what it used.
struct UnitScan<'d, 'a> {
    doc: &'d Doc<'a>,
    /// The unit's first token.
    lo: usize,
    /// The unit's end, final punctuation included.
    end: usize,
    /// The unit's end without its final punctuation.
    hi: usize,
    /// Index in `out` of this unit's first frame.
    first_new: usize,
    /// Where the next frame's content may begin (after the previous frame).
    cstart: usize,
    /// The token under the scan.
    k: usize,
    /// "…, according to X." governs everything before it: cues there are inside its content.
    according_last: Option<usize>,
}

impl<'d, 'a> UnitScan<'d, 'a> {
    fn new(doc: &'d Doc<'a>, u: Range<usize>, hi: usize, first_new: usize) -> Self {
        let according_last = (u.start + 1..hi).find(|&i| {
            !doc.in_quote(i)
                && doc.is(i, ACCORDING)
                && doc.word(i + 1).eq_ignore_ascii_case("to")
                && doc.is(i - 1, COMMA)
        });
        UnitScan {
            doc,
            lo: u.start,
            end: u.end,
            hi,
            first_new,
            cstart: u.start,
            k: u.start,
            according_last,
        }
    }

    /// The last frame of this unit, if it has one.
    fn prev(&self, out: &[Frame]) -> Option<usize> {
        out.len().checked_sub(1).filter(|&p| p >= self.first_new)
    }

    /// "“…,” Blige sings to Clinton before asking her, “…”": a verb the lexicon does not
    /// know, then the main loop goes on after it.
    fn unknown_verb_first(&mut self, out: &mut Vec<Frame>) {
        let doc = self.doc;
        if let Some(f) =
            quote_then_any_verb(doc, self.lo, self.hi).filter(|f| !doc.is(f.cue.start, CUE))
        {
            let (tail_end, _) = tail(doc, f.cue.end, self.hi);
            self.cstart = tail_end;
            self.k = tail_end;
            out.push(f);
        }
    }

    /// One step of the scan at token `k`: skips what is no cue, else tries the patterns.
    fn step(&mut self, out: &mut Vec<Frame>) {
        let (doc, k) = (self.doc, self.k);
        if self.according_last.is_some_and(|a| k < a) && !doc.is(k, ACCORDING) {
            self.k += 1;
            return;
        }
        let c = doc.cls[k];
        let is_according = c.is(ACCORDING) && doc.word(k + 1).eq_ignore_ascii_case("to");
        // "what old-school diplomats used to call “the gift of the room”": a verb of naming
        // the lexicon does not count as a cue (it is mostly "call for") still is one here.
        if c.is(LOWER) && !c.is(CUE) && !doc.in_quote(k) && is_characterizing(doc, k) {
            if let Some(f) = what_np_calls(doc, self.lo, k, self.hi) {
                out.push(f);
                self.k += 1;
                return;
            }
        }
        if doc.in_quote(k) || !(is_according || c.is(CUE) && c.cue >= MIN_CUE_PROB) {
            self.k += 1;
            return;
        }
        if is_according {
            self.according_to(out);
            return;
        }
        // A cue word used as a noun: "Trump’s telling of", "the hopes that".
        if k > self.lo && (doc.is(k - 1, POSS) || is_det_article(doc, k - 1)) {
            self.k += 1;
            return;
        }
        let handled = self.nested_naming(out)
            || self.cue_in_previous_content(c, out)
            || self.participle_after_comma(c, out)
            || self.participle_after_subordinator(c, out);
        if !handled {
            self.source_then_patterns(out);
        }
    }

    /// "what Trump disparagingly calls the “deep state”": a frame of its own, nested in
    /// whatever content holds it, its content ending with the quote.
    fn nested_naming(&mut self, out: &mut Vec<Frame>) -> bool {
        let (doc, k) = (self.doc, self.k);
        let Some(f) = what_np_calls(doc, self.lo, k, self.hi) else {
            return false;
        };
        // "…, which he declared “a total disaster”": the relative clause is not part of the
        // content around it.
        let w = f.source.as_ref().map_or(k, |s| s.start.saturating_sub(1));
        if let Some(pf) = out[self.first_new..].last_mut() {
            if pf.content.contains(&w)
                && w > pf.content.start + 1
                && doc.word(w).eq_ignore_ascii_case("which")
                && doc.is(w - 1, COMMA)
            {
                pf.content.end = w - 1;
            }
        }
        out.push(f);
        self.k += 1;
        true
    }

    /// A cue inside the previous frame's content: a participle or coordinated verb starts a
    /// new frame with the same speaker; anything else is part of that content.
    fn cue_in_previous_content(&mut self, c: TokClass, out: &mut Vec<Frame>) -> bool {
        let Some(prev) = self.prev(out) else {
            return false;
        };
        if !out[prev].content.contains(&self.k) {
            return false;
        }
        let j = skip_back_aux(self.doc, out[prev].content.start, self.k);
        let handled = self.closing_attribution(prev, j, out)
            || self.who_relative(prev, j, out)
            || self.cue_opening_quote(c, prev, j, out)
            || self.named_clause_after_comma(prev, j, out);
        if !handled {
            self.coordinated_verb(c, prev, out);
            self.k += 1;
        }
        true
    }

    /// "…, are expected to cover …, a senior administration official said.": an attribution
    /// closing the sentence governs all of it; the cue before is nested in its content.
    fn closing_attribution(&mut self, prev: usize, j: usize, out: &mut Vec<Frame>) -> bool {
        let (doc, k, hi) = (self.doc, self.k, self.hi);
        let pstart = out[prev].content.start;
        let Some(l) = left_np(doc, pstart + 1, j).filter(|l| {
            after_comma(doc, l.start) && !doc.in_quote(l.start - 1) && {
                let t = hi - (k + 1);
                t <= 8
                    && !has_quote(doc, k + 1..hi)
                    && !(k + 1..hi).any(|i| doc.is(i, THAT))
                    && (t == 0 || doc.is(k + 1, PREP | TIME) && !doc.is(k + 1, CAP))
            }
        }) else {
            return false;
        };
        let mut ce = l.start;
        while ce > pstart && doc.is(ce - 1, COMMA) {
            ce -= 1;
        }
        let mut cs = self.lo;
        while cs < ce && doc.is(cs, CONJ | PUNCT) && !doc.in_quote(cs) {
            cs += 1;
        }
        if words(doc, cs..ce) < 3 {
            return false;
        }
        out[prev].content.end = ce;
        out.push(Frame::new(j..k + 1, l, cs..ce, Order::Csv));
        self.cstart = hi;
        self.k = hi;
        true
    }

    /// "… comments from Finnish President Alexander Stubb, who said …, “…”": the relative
    /// clause has its own speaker (the name before "who"), and the outer content ends before
    /// it.
    fn who_relative(&mut self, prev: usize, j: usize, out: &mut Vec<Frame>) -> bool {
        let (doc, k, hi) = (self.doc, self.k, self.hi);
        if !(j >= out[prev].content.start + 3
            && doc.word(j - 1).eq_ignore_ascii_case("who")
            && doc.is(j - 2, COMMA))
        {
            return false;
        }
        let cs = content_start(doc, k, k + 1, hi);
        let ce = svc_content_end(doc, k, cs, hi);
        if !(cs < hi && (words(doc, cs..ce) >= 2 || has_quote(doc, cs..ce))) {
            return false;
        }
        out[prev].content.end = j - 2;
        out.push(Frame::new(k..k + 1, j - 1..j, cs..ce, Order::Svc));
        self.cstart = ce;
        self.k += 1;
        true
    }

    /// "…, Trump boasted, “That makes me smart.”", "… before asking her, “…”": a cue in the
    /// content opening a quote of its own (after a comma or colon) is a frame of its own, by
    /// the name just before it or, for a participle, by the same speaker; the outer content
    /// ends before it.
    fn cue_opening_quote(
        &mut self,
        c: TokClass,
        prev: usize,
        j: usize,
        out: &mut Vec<Frame>,
    ) -> bool {
        let (doc, k, hi) = (self.doc, self.k, self.hi);
        let pstart = out[prev].content.start;
        let qs = content_start(doc, k, k + 1, hi);
        if !(qs > k + 1
            && qs < hi
            && doc.in_quote(qs)
            && doc.is(qs - 1, COMMA | COLON)
            && !doc.in_quote(qs - 1))
        {
            return false;
        }
        let l = left_np(doc, pstart, j).filter(|l| {
            l.start > pstart
                && (doc.is(l.start, PRON) || (l.clone()).any(|t| doc.is(t, CAP | ROLE)))
        });
        let (speaker, mut cut) = match l {
            Some(l) => (Some(Ok(l.clone())), l.start),
            None if c.is(ING) => (Some(Err(prev)), j),
            None => (None, pstart),
        };
        while cut > pstart
            && (doc.is(cut - 1, COMMA | CONJ)
                || doc.is(cut - 1, PREP) && !matches!(speaker, Some(Ok(_)))
                || matches!(
                    doc.word(cut - 1).to_ascii_lowercase().as_str(),
                    "before" | "after" | "while" | "when" | "then"
                ))
            && !doc.in_quote(cut - 1)
        {
            cut -= 1;
        }
        let Some(speaker) = speaker.filter(|_| words(doc, pstart..cut) >= 2) else {
            return false;
        };
        let ce = quote_end(doc, qs, hi);
        out[prev].content.end = cut;
        out.push(Frame::by(j..k + 1, speaker, qs..ce));
        self.cstart = ce;
        self.k = ce;
        true
    }

    /// "… likened to the Star of David, Speaker Paul Ryan said “…”": a new clause with its
    /// own named source after a comma.
    fn named_clause_after_comma(&mut self, prev: usize, j: usize, out: &mut Vec<Frame>) -> bool {
        let (doc, k, hi) = (self.doc, self.k, self.hi);
        let pstart = out[prev].content.start;
        if out[prev].order != Order::Svc {
            return false;
        }
        let Some(l) = left_np(doc, pstart, j).filter(|l| {
            l.start > pstart + 2
                && doc.is(l.start - 1, COMMA)
                && !doc.in_quote(l.start - 1)
                && (doc.is(l.start, PRON) && l.len() == 1
                    || (l.clone()).any(|t| doc.is(t, CAP)) && doc.is(l.end - 1, CAP))
        }) else {
            return false;
        };
        let cs = content_start(doc, k, k + 1, hi);
        if !(cs < hi && (doc.is(cs, THAT) || doc.in_quote(cs))) {
            return false;
        }
        let ce = svc_content_end(doc, k, cs, hi);
        out[prev].content.end = l.start - 1;
        out.push(Frame::new(j..k + 1, l, cs..ce, Order::Svc));
        self.cstart = ce;
        self.k = ce.max(k + 1);
        true
    }

    /// "…, adding …", "… and has said that …", "…, suggested that …": another verb of the
    /// previous frame's speaker splits its content and starts a frame of its own.
    fn coordinated_verb(&mut self, c: TokClass, prev: usize, out: &mut Vec<Frame>) {
        let (doc, k, hi) = (self.doc, self.k, self.hi);
        let (pstart, porder) = (out[prev].content.start, out[prev].order);
        // "… and has said that …": look past auxiliaries for the conjunction.
        let mut b = k;
        while b > pstart + 1 && doc.is(b - 1, AUX) && !doc.is(b - 1, CAP) {
            b -= 1;
        }
        let aux_conj = b < k && doc.is(b - 1, CONJ) && porder == Order::Svc;
        let split = k > 0
            && (aux_conj
                || c.is(ING) && after_comma(doc, k)
                || doc.is(k - 1, CONJ) && k >= 2 && doc.is(k - 2, COMMA) && !c.is(ING)
                || doc.is(k - 1, CONJ) && porder == Order::Svc
                // "…, suggested that …": another verb of the same subject.
                || doc.is(k - 1, COMMA)
                    && porder == Order::Svc
                    && doc.word(k).ends_with("ed")
                    && (doc.is(k + 1, THAT) || doc.in_quote(k + 1)));
        if !(split && k - 1 > pstart + 1) {
            return;
        }
        let mut cut = if aux_conj {
            b - 1
        } else if doc.is(k - 1, COMMA) || doc.is(k - 1, CONJ) {
            k - 1
        } else {
            k
        };
        while cut > pstart && doc.is(cut - 1, COMMA | CONJ) {
            cut -= 1;
        }
        let cs = content_start(doc, k, k + 1, hi);
        if cs < hi {
            out[prev].content.end = cut;
            let cue = if aux_conj { b..k + 1 } else { k..k + 1 };
            out.push(Frame::continuing(cue, cs..hi, prev));
            self.cstart = hi;
        }
    }

    /// "According to the poll, …" (V S C) and "…, according to X." (C V S).
    fn according_to(&mut self, out: &mut Vec<Frame>) {
        let (doc, k, hi) = (self.doc, self.k, self.hi);
        let cue = k..k + 2;
        let Some(src) = right_np(doc, k + 2, hi) else {
            self.k += 2;
            return;
        };
        let lead_only = (self.cstart..k).all(|i| doc.is(i, CONJ | PUNCT | AUX) && !doc.in_quote(i));
        if lead_only {
            let mut cs = src.end;
            if cs < hi && doc.is(cs, COMMA) {
                cs += 1;
            }
            let ce = clause_end(doc, cs, hi);
            if words(doc, cs..ce) >= 2 {
                out.push(Frame::new(cue, src, cs..ce, Order::AccordingFirst));
                self.cstart = hi;
                self.k = hi;
                return;
            }
        } else {
            let mut ce = k;
            while ce > self.cstart && doc.is(ce - 1, COMMA) {
                ce -= 1;
            }
            if words(doc, self.cstart..ce) >= 2 {
                out.push(Frame::new(
                    cue,
                    src.clone(),
                    self.cstart..ce,
                    Order::AccordingLast,
                ));
                self.cstart = src.end;
            }
        }
        self.k = src.end.max(k + 2);
    }

    /// ", saying …" with no frame before it: the clause's subject speaks.
    fn participle_after_comma(&mut self, c: TokClass, out: &mut Vec<Frame>) -> bool {
        let (doc, k, hi) = (self.doc, self.k, self.hi);
        if !(c.is(ING) && k > self.cstart && after_comma(doc, k)) {
            return false;
        }
        // "“…,” Chaffetz said in a statement, adding that …": the previous speaker goes on.
        if let Some(prev) = self.prev(out) {
            let cs = content_start(doc, k, k + 1, hi);
            let ce = clause_end(doc, cs, hi);
            if words(doc, cs..ce) >= 2 || has_quote(doc, cs..ce) {
                out.push(Frame::continuing(k..k + 1, cs..ce, prev));
                self.cstart = hi;
            }
        } else if let Some(src) = subject_np(doc, self.lo, k) {
            let cs = content_start(doc, k, k + 1, hi);
            if words(doc, cs..hi) >= 2 {
                out.push(Frame::new(k..k + 1, src, cs..hi, Order::Svc));
                self.cstart = hi;
            }
        }
        self.k += 1;
        true
    }

    /// "He augmented the narrative by telling Carlson that …": the clause's subject speaks
    /// through the participle.
    fn participle_after_subordinator(&mut self, c: TokClass, out: &mut Vec<Frame>) -> bool {
        let (doc, k, hi) = (self.doc, self.k, self.hi);
        if !(c.is(ING) && k > self.lo && is_subord(doc.word(k - 1))) {
            return false;
        }
        // The subject of the clause, or the speaker of the frame just before ("“…,” Blige
        // sings to Clinton before asking her, “…”").
        let src = subject_np(doc, self.lo, k - 1)
            .map(Ok)
            .or(self.prev(out).map(Err));
        if let Some(speaker) = src {
            let cs = content_start(doc, k, k + 1, hi);
            let ce = svc_content_end(doc, k, cs, hi);
            if words(doc, cs..ce) >= 2 || has_quote(doc, cs..ce) {
                out.push(Frame::by(k..k + 1, speaker, cs..ce));
                self.cstart = ce;
                self.k = ce.max(k + 1);
                return true;
            }
        }
        self.k += 1;
        true
    }

    /// The source on the left of the cue ending at `j`, with the shapes a name takes there:
    /// after a party label, with an apposition between dashes or after a comma.
    fn left_source(&self, j: usize) -> Option<Range<usize>> {
        let (doc, cstart) = (self.doc, self.cstart);
        let left = left_np(doc, cstart, j);
        if left.is_some() {
            return left;
        }
        // "Gov. John Kasich (R-OH), said": the comma after a party label.
        if j > cstart + 2 && doc.is(j - 1, COMMA) && doc.word(j - 2) == ")" {
            let left = left_np(doc, cstart, j - 1);
            if left.is_some() {
                return left;
            }
        }
        // "Jason Sims — a teacher from Mount Pleasant — says": the name and the apposition
        // between dashes.
        if j > cstart + 3 && matches!(doc.word(j - 1), "—" | "―" | "–" | "--") {
            if let Some(d) = (j.saturating_sub(14).max(cstart + 1)..j - 1)
                .rev()
                .find(|&i| doc.word(i) == doc.word(j - 1))
            {
                if let Some(l) =
                    left_np(doc, cstart, d).filter(|l| (l.clone()).any(|t| doc.is(t, CAP)))
                {
                    return Some(l.start..j - 1);
                }
            }
        }
        if j > cstart + 2 && doc.is(j - 1, COMMA) {
            // "Beruff, a Scott ally, said" / "Trump, who leads, said": the name and its
            // apposition together are the source.
            if let Some(c1) = (cstart..j - 1)
                .rev()
                .take(25)
                .find(|&i| doc.is(i, COMMA) || doc.in_quote(i) || doc.is(i, FINAL | BREAK))
            {
                if doc.is(c1, COMMA) && !doc.is(c1 + 1, CONJ) {
                    if let Some(l) = left_np(doc, cstart, c1) {
                        return Some(l.start..j - 1);
                    }
                }
            }
        }
        None
    }

    /// Whether what follows the cue (up to `tail_end`, or the `extra` quote) lets the content
    /// before the source be this frame's.
    fn tail_ok(&self, tail_end: usize, extra: &Option<Range<usize>>, quoted_before: bool) -> bool {
        let (doc, k, hi) = (self.doc, self.k, self.hi);
        let t = extra
            .as_ref()
            .map_or(tail_end, |x| x.start)
            .saturating_sub(k + 1);
        let no_that = !(k + 1..tail_end).any(|i| doc.is(i, THAT) && !doc.in_quote(i));
        // "In his tribute, Elliott said “there is …”": a quote after the cue is what was
        // said; what comes before the source is no content.
        let quote_follows = tail_end < hi && doc.in_quote(tail_end);
        if quoted_before {
            // "“…,” Merkel told reporters after the meeting that was held …": a relative
            // "that" is fine; "said that …" is reported speech of its own.
            !doc.is(k + 1, THAT)
        } else {
            // Unquoted content before: only adverbials may follow the cue ("…, he said on
            // Tuesday"), not an object ("Within minutes, he called Rubio …").
            t <= 8
                && no_that
                && !quote_follows
                && (t == 0 || doc.is(k + 1, PREP | TIME | COMMA) && !doc.is(k + 1, CAP))
        }
    }

    /// A cue with its source looked up on the left, then the three orders tried in turn:
    /// C S V, C V S, S V C.
    fn source_then_patterns(&mut self, out: &mut Vec<Frame>) {
        let doc = self.doc;
        let j = skip_back_aux(doc, self.cstart, self.k);
        let left = self.left_source(j);
        // Tail after the cue: where this frame stops (before ", adding …" or a new quote).
        let (tail_end, extra) = tail(doc, self.k + 1, self.hi);
        let quoted_before = left.as_ref().is_some_and(|l| {
            quote_before(doc, self.cstart, l.start) && !title_before(doc, self.cstart, l.start)
        });
        let tail_ok = self.tail_ok(tail_end, &extra, quoted_before);
        if let Some(l) = left
            .clone()
            .filter(|l| after_content(doc, self.cstart, l.start) && tail_ok)
        {
            if self.content_source_verb(j, l, tail_end, extra, quoted_before, out) {
                return;
            }
        }
        if left.is_none() && self.content_verb_source(out) {
            return;
        }
        self.source_verb_content(j, left, out);
        self.k += 1;
    }

    /// C S V: "“…,” Trump said."
    fn content_source_verb(
        &mut self,
        j: usize,
        l: Range<usize>,
        tail_end: usize,
        extra: Option<Range<usize>>,
        quoted_before: bool,
        out: &mut Vec<Frame>,
    ) -> bool {
        let (doc, k) = (self.doc, self.k);
        let mut ce = l.start;
        while ce > self.cstart && doc.is(ce - 1, COMMA) {
            ce -= 1;
        }
        let cs = quote_after_intro(doc, self.cstart, ce);
        if words(doc, cs..ce) < if quoted_before { 1 } else { 3 } {
            return false;
        }
        // "Asked what …, Adelson said, “…”": with no quote before it, the words before the
        // source set the scene; the quote after the cue is what was said.
        let (content, order, extra) = match extra {
            Some(x) if !quoted_before => (x, Order::Svc, None),
            x => (cs..ce, Order::Csv, x),
        };
        out.push(Frame::new(j..k + 1, l, content, order).with_extra(extra));
        self.cstart = tail_end;
        self.k = tail_end;
        true
    }

    /// C V S: "“…,” said Trump." (with no source on the left).
    fn content_verb_source(&mut self, out: &mut Vec<Frame>) -> bool {
        let (doc, k, hi) = (self.doc, self.k, self.hi);
        if !after_content(doc, self.cstart, k) || doc.is(k + 1, PREP | TIME) {
            return false;
        }
        // "said Sen. Jim Whelan who represents …": anything may follow the name.
        let Some(mut src) = right_np(doc, k + 1, hi) else {
            return false;
        };
        // "said a spokesman for the Kremlin, Dmitry Peskov": the name after the role is
        // part of the source.
        if let Some(end) = name_after_role(doc, &src, hi) {
            src.end = end;
        }
        let mut ce = k;
        while ce > self.cstart && doc.is(ce - 1, COMMA) {
            ce -= 1;
        }
        let cs = quote_after_intro(doc, self.cstart, ce);
        if words(doc, cs..ce) < 1 {
            return false;
        }
        let (tail_end, extra) = tail(doc, src.end, hi);
        out.push(Frame::new(k..k + 1, src, cs..ce, Order::Cvs).with_extra(extra));
        self.cstart = tail_end;
        self.k = tail_end;
        true
    }

    /// S V C: "Trump said (that) …".
    fn source_verb_content(&mut self, j: usize, left: Option<Range<usize>>, out: &mut Vec<Frame>) {
        let (doc, k, hi, lo) = (self.doc, self.k, self.hi, self.lo);
        let left = left.or_else(|| {
            // "She then urges her husband to … and repeatedly says, “…”": a second verb of
            // the sentence's subject.
            (out.len() == self.first_new
                && j > lo + 2
                && doc.word(j - 1).eq_ignore_ascii_case("and")
                && !doc.is(j - 2, COMMA))
            .then(|| subject_np(doc, lo, j - 1))
            .flatten()
            .filter(|l| l.start == lo || doc.is(l.start, PRON))
        });
        let Some(l) = left.filter(|l| {
            clause_start(doc, self.cstart, l.start)
                || l.start == self.cstart
                || subject_first(doc, lo, l)
        }) else {
            return;
        };
        let cs = content_start(doc, k, k + 1, hi);
        let pending = cs >= hi
            && (doc.is(hi.saturating_sub(1), COLON)
                || hi == k + 1
                || self.end > hi && doc.is(self.end - 1, COLON));
        // "He said, “…”" / "She wrote: “…”": the quote the punctuation opens is the content;
        // what follows it ("…,” and shared a link") is the writer's again.
        let ce = svc_content_end(doc, k, cs, hi);
        let quote_only = ce < hi && cs < hi && doc.in_quote(cs) && ce == quote_end(doc, cs, hi);
        if pending || words(doc, cs..ce) >= 2 || has_quote(doc, cs..ce) {
            out.push(Frame::new(j..k + 1, l, cs.min(ce)..ce, Order::Svc).pending(pending));
            // A second attribution after the content starts where the content ends.
            let second = ce < hi && doc.is(ce, COMMA) && second_attribution(doc, ce + 1, hi);
            self.cstart = if quote_only || second { ce } else { hi };
        }
    }

    /// After the scan: quotes set off by the frames found, then (when none was found) a
    /// quote with any verb or after a possessive; every content drops the writer's tail.
    fn finish(self, out: &mut Vec<Frame>) {
        let (doc, lo, hi, first_new) = (self.doc, self.lo, self.hi, self.first_new);
        as_quote_frames(doc, lo, hi, first_new, out);
        if out.len() == first_new {
            if let Some(f) =
                quote_with_any_verb(doc, lo, hi).or_else(|| possessive_quote(doc, lo, hi))
            {
                out.push(f);
            }
        }
        for f in &mut out[first_new..] {
            f.content.end = before_tail(doc, f.content.clone());
        }
    }
}

/// Direct content ends with its last quote when what follows it is the writer's comment:
/// after a dash, or an apposition after a comma ("…, a swipe at …"). Adverbials and clauses
/// after the quote stay: reported speech runs to the end of its clause.
fn before_tail(doc: &Doc<'_>, c: Range<usize>) -> usize {
    let Some(last) = c.clone().rev().find(|&i| doc.in_quote(i)) else {
        return c.end;
    };
    let e = last + 1;
    if e >= c.end || words(doc, e..c.end) < 2 {
        return c.end;
    }
    let mut n = e;
    let punct = doc.is(n, COMMA | BREAK) || after_comma(doc, n);
    while n < c.end && doc.is(n, COMMA | BREAK) {
        n += 1;
    }
    // "… “a prayer” — a nod to …", "… “not get beat up” at his rally, a swipe at …".
    let dash = doc.is(e, BREAK) && !doc.is(e, COLON);
    let appos = punct && (is_det_article(doc, n) || doc.is(n, ING));
    // "… “What curfew?” and kept going …", "… “true,” but in the course of …": a second
    // verb or clause of the writer's.
    let conj = doc.is(n, CONJ)
        && (verb_like(doc, n + 1) && doc.word(n + 1).ends_with("ed")
            || doc.is(n + 1, PREP | PRON | AUX)
            || is_verb_aux(doc, n + 1));
    // "… “a disgrace” Wednesday on …".
    let time = n == e && doc.is(n, TIME) && doc.is(n, CAP);
    let ok = dash || appos || conj || time;
    if ok {
        e
    } else {
        c.end
    }
}

/// Verbs that characterise someone or something in the speaker's words ("hailed X as",
/// "introduced X as", "branded X as"), and the cue verbs.
fn is_characterizing(doc: &Doc<'_>, v: usize) -> bool {
    if doc.is(v, CAP) || doc.in_quote(v) {
        return false;
    }
    if doc.is(v, CUE) {
        return true;
    }
    let w = doc.word(v);
    if !doc.is(v, LOWER) || w.len() > 16 || !w.is_ascii() {
        return false;
    }
    let stem = w
        .strip_suffix("ed")
        .or_else(|| w.strip_suffix("ing"))
        .or_else(|| w.strip_suffix('s'))
        .unwrap_or(w);
    matches!(
        stem,
        "introduc"
            | "call"
            | "term"
            | "describ"
            | "hail"
            | "prais"
            | "criticiz"
            | "brand"
            | "label"
            | "labell"
            | "dubb"
            | "cast"
            | "portray"
            | "characteriz"
            | "dismiss"
            | "denounc"
            | "derid"
            | "mock"
            | "blast"
            | "slamm"
            | "attack"
            | "condemn"
            | "tout"
            | "defend"
            | "pound"
            | "paint"
            | "present"
            | "depict"
            | "frame"
            | "fram"
            | "refer"
            | "referr"
            | "regard"
            | "view"
            | "see"
            | "welcom"
            | "rebuk"
            | "lambast"
            | "hit"
    )
}

/// Quotes a verb characterises someone or something with, the verb need not be a cue: "He
/// introduced Witkoff as “a great businessman”", "criticized the Affordable Care Act as a
/// “crazy system”", "Japan branded North Korea an “outlaw nation”", "Trump has used the
/// phrase “Islamic terrorism”". The content is the object through the quote(s) (the quote
/// alone after "the phrase"). A verb off the characterising list counts only when its
/// subject ends in a name, a pronoun or a role ("Witkoff’s engagement burnishes Trump’s
/// image as a “peacemaker”" is the writer's).
fn as_quote_frames(doc: &Doc<'_>, lo: usize, hi: usize, first_new: usize, out: &mut Vec<Frame>) {
    let mut q = lo + 2;
    while q < hi {
        // The first token of a quote.
        if !doc.in_quote(q) || doc.in_quote(q - 1) {
            q += 1;
            continue;
        }
        let mut p = q - 1;
        let article = is_det_article(doc, p);
        if article {
            p -= 1;
        }
        if p <= lo || doc.in_quote(p) {
            q += 1;
            continue;
        }
        let w = doc.word(p).to_ascii_lowercase();
        // "X as “…”", "the phrase “…”", or (after an article) "branded North Korea an “…”".
        let (obj_end, content_from_quote) = if w == "as" {
            (p, false)
        } else if matches!(
            w.as_str(),
            "phrase" | "term" | "word" | "words" | "slogan" | "label" | "nickname" | "moniker"
        ) {
            (p + 1, true)
        } else if article && (doc.is(p, CAP) || doc.is(p, OBJPRON)) {
            (p + 1, false)
        } else {
            q += 1;
            continue;
        };
        // The object, back to the verb.
        let mut v = obj_end;
        let mut found = None;
        while v > lo && obj_end - v < 10 {
            v -= 1;
            if doc.in_quote(v) || doc.is(v, PUNCT) && !doc.is(v, POSS) || doc.is(v, CONJ) {
                break;
            }
            // "Trump’s desired image": a participle after a determiner is an adjective.
            if v > 0 && (doc.is(v - 1, POSS) || is_det_article(doc, v - 1)) {
                continue;
            }
            let generic =
                verb_like(doc, v) && ["ed", "es", "ing"].iter().any(|e| doc.word(v).ends_with(e));
            if (is_characterizing(doc, v) || generic) && v + 1 < obj_end {
                found = Some((v, !is_characterizing(doc, v)));
                break;
            }
        }
        let Some((v, generic)) = found else {
            q += 1;
            continue;
        };
        if out[first_new..].iter().any(|f| f.cue.contains(&v)) {
            q += 1;
            continue;
        }
        let j = skip_back_aux(doc, lo, v);
        let Some(src) = left_np(doc, lo, j).filter(|l| clause_start(doc, lo, l.start)) else {
            q += 1;
            continue;
        };
        // A person or a named source; for a verb off the list, the phrase must end in one.
        let person = |t: usize| doc.is(t, PRON) || doc.is(t, CAP) || doc.is(t, ROLE);
        let ok = if generic {
            person(src.end - 1)
        } else {
            doc.is(src.start, PRON) || (src.clone()).any(|t| doc.is(t, CAP | ROLE))
        };
        if !ok {
            q += 1;
            continue;
        }
        // Through "… and “a great negotiator,”".
        let mut e = quote_end(doc, q, hi);
        loop {
            let mut n = e;
            while n < hi && (doc.is(n, CONJ | COMMA) || is_det_article(doc, n)) && !doc.in_quote(n)
            {
                n += 1;
            }
            if n > e && n < hi && doc.in_quote(n) && doc.quote_of[n] != doc.quote_of[e - 1] {
                e = quote_end(doc, n, hi);
            } else {
                break;
            }
        }
        out.push(Frame::new(
            j..v + 1,
            src,
            if content_from_quote { q } else { v + 1 }..e,
            Order::Svc,
        ));
        q = e.max(q + 1);
    }
}

/// "Kremlin spokesman Peskov’s deliberate downplaying of expectations—”no breakthrough
/// anticipated”—": a quote set off by a dash or colon after someone's statement-like noun.
fn possessive_quote(doc: &Doc<'_>, lo: usize, hi: usize) -> Option<Frame> {
    let q = (lo + 2..hi).find(|&i| doc.in_quote(i))?;
    if !doc.is(q - 1, BREAK) || doc.in_quote(q - 1) {
        return None;
    }
    let src = left_np(doc, lo, q - 1)?;
    let head_end = (src.start + 1..src.end)
        .find(|&i| doc.is(i, PREP) && !doc.is(i, CAP))
        .unwrap_or(src.end);
    statement_owner(doc, src.start..head_end)?;
    Some(Frame::new(
        head_end - 1..head_end,
        src,
        q..quote_end(doc, q, hi),
        Order::Svc,
    ))
}

/// A plain word that can be a verb: lower case letters, not a function word.
fn verb_like(doc: &Doc<'_>, i: usize) -> bool {
    doc.is(i, LOWER)
        && !doc.is(i, STOP | PREP | DET | PRON | CONJ | THAT | TIME)
        && doc.word(i).bytes().all(|b| b.is_ascii_alphabetic())
}

/// Quotes attributed with a verb the lexicon does not know ("“Go back,” Trump barked.",
/// "a spokesman could only quip: “…”"): the quote next to a subject and a verb.
fn quote_with_any_verb(doc: &Doc<'_>, lo: usize, hi: usize) -> Option<Frame> {
    quote_then_any_verb(doc, lo, hi).or_else(|| any_verb_then_quote(doc, lo, hi))
}

/// C S V with any verb: a quote at the start, then ", NP verb …" ("“…,” Trump barked.").
fn quote_then_any_verb(doc: &Doc<'_>, lo: usize, hi: usize) -> Option<Frame> {
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
                let cue_next =
                    tail_end < hi && (doc.is(tail_end, CUE) || doc.is(tail_end + 1, CUE));
                if tail_end >= hi || extra.is_some() || cue_next {
                    return Some(
                        Frame::new(v..v + 1, s..np_end, lo..e, Order::Csv).with_extra(extra),
                    );
                }
            }
        }
    }
    None
}

/// S V C with any verb: "NP verb …: “quote”" with the quote running to the end.
fn any_verb_then_quote(doc: &Doc<'_>, lo: usize, hi: usize) -> Option<Frame> {
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
    Some(Frame::new(v..v + 1, src, qs..hi, Order::Svc))
}

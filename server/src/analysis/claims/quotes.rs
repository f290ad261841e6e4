//! Quote-mark pairing: finds the spans of quoted material in a document, robust to the
//! punctuation of real web pages.
//!
//! The scanner works paragraph by paragraph with a small stack, so one bad mark can only
//! spoil its own paragraph, never the rest of the document (textacy gives up on the whole
//! article when its marks do not pair up). It knows:
//!
//! - curly (`“…”`, `‘…’`), straight (`"…"`, `'…'`), low (`„…“`), guillemet (`«…»`, `‹…›`) and
//!   the typewriter doubled apostrophe (`''…''`) marks;
//! - apostrophes are not quote marks: `’`/`'` between letters ("don’t", "Witkoff’s"), before a
//!   decade ("’90s") or a clitic ("'em") never open or close a quote;
//! - nested quotes (`“… ‘…’ …”`) stay inside their outer quote;
//! - a paragraph that opens a quote and never closes it, followed by a paragraph that opens
//!   again, is one quote running over both (the newspaper convention);
//! - an unclosed quote otherwise ends with its paragraph, and a same-kind opening mark inside
//!   an open quote closes the previous one first.

use std::ops::Range;

/// The family of marks a quote uses; nesting alternates families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteStyle {
    /// `“…”`, `"…"`, `„…“`, `''…''`.
    Double,
    /// `‘…’`, `'…'`.
    Single,
    /// `«…»`, `‹…›`.
    Guillemet,
}

/// One top-level quoted span within one paragraph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteSpan {
    /// From the opening mark (or the paragraph start when it has none) to just after the
    /// closing mark (or the end of the paragraph's text when unclosed).
    pub outer: Range<usize>,
    /// The quoted words, without the marks.
    pub inner: Range<usize>,
    /// Which marks the quote uses.
    pub style: QuoteStyle,
    /// False when the closing mark is missing.
    pub closed: bool,
    /// True when the quote goes on in the next paragraph (the next span is its continuation).
    pub continues: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    Open,
    Close,
    /// Straight marks: decided by the state.
    Either,
}

#[derive(Clone, Copy, Debug)]
struct Mark {
    start: usize,
    end: usize,
    style: QuoteStyle,
    role: Role,
}

fn is_open_context(c: Option<char>) -> bool {
    match c {
        None => true,
        Some(c) => {
            c.is_whitespace()
                || matches!(
                    c,
                    '(' | '['
                        | '{'
                        | '—'
                        | '–'
                        | '-'
                        | '/'
                        | '“'
                        | '‘'
                        | '"'
                        | '\''
                        | '«'
                        | '‹'
                        | '„'
                )
        }
    }
}

fn is_close_follow(c: Option<char>) -> bool {
    match c {
        None => true,
        Some(c) => {
            c.is_whitespace()
                || matches!(
                    c,
                    '.' | ','
                        | ';'
                        | ':'
                        | '!'
                        | '?'
                        | ')'
                        | ']'
                        | '}'
                        | '—'
                        | '–'
                        | '-'
                        | '…'
                        | '”'
                        | '’'
                        | '"'
                        | '\''
                        | '»'
                        | '›'
                )
        }
    }
}

/// True when an apostrophe-like mark at `i` (followed by `rest`) starts a clitic or decade
/// ("'em", "’90s", "'til") rather than a quote.
fn is_leading_clitic(rest: &str) -> bool {
    let b = rest.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_digit() && b[1].is_ascii_digit() {
        return true;
    }
    const CLITICS: &[&str] = &["em", "til", "cause", "n", "tis", "twas", "bout", "round"];
    let word: &str = {
        let end = rest
            .char_indices()
            .find(|&(_, c)| !c.is_alphabetic())
            .map_or(rest.len(), |(i, _)| i);
        &rest[..end]
    };
    let next_after = rest[word.len()..].chars().next();
    CLITICS.iter().any(|c| word.eq_ignore_ascii_case(c))
        && !matches!(next_after, Some(c) if c.is_alphabetic())
}

/// Classifies the quote marks of one paragraph, in order.
fn marks(text: &str, para: Range<usize>, out: &mut Vec<Mark>) {
    let p = &text[para.clone()];
    let mut prev: Option<char> = None;
    let mut iter = p.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let start = para.start + i;
        let next = iter.peek().map(|&(_, n)| n);
        let mut push = |end: usize, style, role| {
            out.push(Mark {
                start,
                end,
                style,
                role,
            })
        };
        match c {
            '“' if !is_open_context(prev) && is_close_follow(next) => {
                // "here,“ said": an opening mark typed where a closing one belongs.
                push(start + c.len_utf8(), QuoteStyle::Double, Role::Either)
            }
            '“' | '„' | '‟' => push(start + c.len_utf8(), QuoteStyle::Double, Role::Open),
            '”' => {
                // Some pages use ” for both ends: an opener by its context.
                let role = if is_open_context(prev) && !is_close_follow(next) {
                    Role::Either
                } else {
                    Role::Close
                };
                push(start + c.len_utf8(), QuoteStyle::Double, role)
            }
            '"' => {
                let role = match (is_open_context(prev), is_close_follow(next)) {
                    (true, false) => Role::Open,
                    (false, true) => Role::Close,
                    _ => Role::Either,
                };
                push(start + 1, QuoteStyle::Double, role)
            }
            '«' | '‹' => push(start + c.len_utf8(), QuoteStyle::Guillemet, Role::Open),
            '»' | '›' => push(start + c.len_utf8(), QuoteStyle::Guillemet, Role::Close),
            '‘' if is_open_context(prev)
                && next.is_some_and(|n| !n.is_whitespace())
                && !is_leading_clitic(&p[i + c.len_utf8()..]) =>
            {
                push(start + c.len_utf8(), QuoteStyle::Single, Role::Open)
            }
            '\'' if next == Some('\'') => {
                // The typewriter double quote `''`.
                iter.next();
                let after = p[i + 2..].chars().next();
                let role = match (is_open_context(prev), is_close_follow(after)) {
                    (true, false) => Role::Open,
                    (false, true) => Role::Close,
                    _ => Role::Either,
                };
                push(start + 2, QuoteStyle::Double, role);
                prev = Some('\'');
                continue;
            }
            '\'' | '’' => {
                let prev_alnum = prev.is_some_and(char::is_alphanumeric);
                let next_alnum = next.is_some_and(char::is_alphanumeric);
                if prev_alnum && next_alnum {
                    // don't, Witkoff’s: an apostrophe.
                } else if is_open_context(prev) && next_alnum {
                    if c == '\'' && !is_leading_clitic(&p[i + 1..]) {
                        push(start + 1, QuoteStyle::Single, Role::Open)
                    }
                } else if !is_open_context(prev) && is_close_follow(next) {
                    push(start + c.len_utf8(), QuoteStyle::Single, Role::Close)
                }
            }
            _ => {}
        }
        prev = Some(c);
    }
}

fn trim_end(text: &str, start: usize, end: usize) -> usize {
    start + text[start..end].trim_end().len()
}

/// Finds the top-level quotes of `text`, in document order.
///
/// Paragraphs are lines (and, in hard-wrapped text, blocks separated by blank or indented
/// lines). Nested quotes are part of their outer quote and are not reported.
///
/// # Examples
///
/// ```
/// use dossier_server::analysis::claims::quotes::find_quotes;
/// let text = "“Everybody loves him,” Trump said of Witkoff’s ‘gift.’ “Everybody.”";
/// let q: Vec<&str> = find_quotes(text).iter().map(|q| &text[q.inner.clone()]).collect();
/// assert_eq!(q, ["Everybody loves him,", "gift.", "Everybody."]);
/// ```
pub fn find_quotes(text: &str) -> Vec<QuoteSpan> {
    let paras = paragraphs(text);
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut carry: Option<QuoteStyle> = None;
    for (pi, para) in paras.iter().enumerate() {
        buf.clear();
        marks(text, para.clone(), &mut buf);
        let next_opens = |style: QuoteStyle| -> bool {
            paras.get(pi + 1).is_some_and(|np| {
                let t = text[np.clone()].trim_start();
                let first = t.chars().next();
                match style {
                    QuoteStyle::Double => {
                        matches!(first, Some('“' | '"' | '„')) || t.starts_with("''")
                    }
                    QuoteStyle::Single => matches!(first, Some('‘' | '\'')),
                    QuoteStyle::Guillemet => matches!(first, Some('«' | '‹')),
                }
            })
        };
        let before = out.len();
        let carried = carry.take();
        scan_paragraph(text, para.clone(), &buf, carried, &mut out);
        // A quote carried over from the previous paragraph and closed here without a new
        // opener: link the two parts.
        if carried.is_some() && before > 0 && out.len() > before {
            let para_start = para.start + (para.len() - text[para.clone()].trim_start().len());
            if out[before].outer.start == para_start && out[before].style != QuoteStyle::Single {
                out[before - 1].continues = true;
            }
        }
        // An unclosed quote at the end of the paragraph: continue it or carry it over.
        let added = out.len() > before;
        if let Some(last) = out.last_mut() {
            if added && !last.closed && last.outer.end == trim_end(text, para.start, para.end) {
                if next_opens(last.style) {
                    last.continues = true;
                } else {
                    carry = Some(last.style);
                }
            }
        }
    }
    out
}

/// Pairs the marks of one paragraph. `carry` is set when the previous paragraph left a quote
/// open without reopening it here: a closing mark before any opener then closes it.
fn scan_paragraph(
    text: &str,
    para: Range<usize>,
    marks: &[Mark],
    carry: Option<QuoteStyle>,
    out: &mut Vec<QuoteSpan>,
) {
    // Stack of (style, mark) with depth ≤ 2; only depth-0 quotes are reported.
    let mut stack: Vec<Mark> = Vec::with_capacity(2);
    let mut first = true;
    let para_start =
        para.start + (text[para.clone()].len() - text[para.clone()].trim_start().len());
    for m in marks {
        let is_first = std::mem::replace(&mut first, false);
        let same_family_top = stack.last().is_some_and(|t| t.style == m.style);
        let role = match m.role {
            Role::Either => {
                if same_family_top {
                    Role::Close
                } else {
                    Role::Open
                }
            }
            r => r,
        };
        match role {
            Role::Open => {
                if same_family_top && stack.len() == 1 {
                    // A new opener while the same kind is open: the previous quote was never
                    // closed. End it here.
                    let o = stack.pop().expect("non-empty stack");
                    let end = trim_end(text, o.start, m.start);
                    out.push(QuoteSpan {
                        outer: o.start..end,
                        inner: o.end..end.max(o.end),
                        style: o.style,
                        closed: false,
                        continues: false,
                    });
                    stack.push(*m);
                } else if stack.len() < 2 && !same_family_top {
                    stack.push(*m);
                }
            }
            Role::Close => {
                if let Some(pos) = stack.iter().rposition(|t| t.style == m.style) {
                    stack.truncate(pos + 1);
                    let o = stack.pop().expect("position is valid");
                    if stack.is_empty() {
                        out.push(QuoteSpan {
                            outer: o.start..m.end,
                            inner: o.end..m.start.max(o.end),
                            style: o.style,
                            closed: true,
                            continues: false,
                        });
                    }
                } else if stack.is_empty() && is_first && m.style != QuoteStyle::Single {
                    // A closing mark with no opener: the quote began at the paragraph start
                    // (carried over from the previous paragraph, or its opener was lost).
                    let before = text[para_start..m.start].chars().next_back();
                    if carry == Some(m.style) || matches!(before, Some(',' | '.' | '!' | '?')) {
                        out.push(QuoteSpan {
                            outer: para_start..m.end,
                            inner: para_start..m.start,
                            style: m.style,
                            closed: true,
                            continues: false,
                        });
                    }
                }
            }
            Role::Either => unreachable!("resolved above"),
        }
    }
    if let Some(o) = stack.first() {
        let end = trim_end(text, o.start, para.end);
        out.push(QuoteSpan {
            outer: o.start..end,
            inner: o.end..end.max(o.end),
            style: o.style,
            closed: false,
            continues: false,
        });
    }
}

/// The paragraphs of `text` as byte ranges: lines, or in hard-wrapped text, blocks.
pub fn paragraphs(text: &str) -> Vec<Range<usize>> {
    let wrapped = crate::analysis::sentences::is_hard_wrapped(text);
    let mut out = Vec::new();
    let mut start = 0usize;
    let bytes = text.as_bytes();
    let mut i = 0usize;
    while i < bytes.len() {
        if bytes[i] == b'\n' {
            let breaks = if !wrapped {
                true
            } else {
                let rest = &text[i + 1..];
                let line = rest.split('\n').next().unwrap_or("");
                line.trim().is_empty() || line.starts_with("  ") || line.starts_with('\t')
            };
            if breaks {
                if !text[start..i].trim().is_empty() {
                    out.push(start..i);
                }
                start = i + 1;
            }
        }
        i += 1;
    }
    if !text[start..].trim().is_empty() {
        out.push(start..text.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inner(text: &str) -> Vec<&str> {
        find_quotes(text)
            .iter()
            .map(|q| &text[q.inner.clone()])
            .collect()
    }

    #[test]
    fn curly_straight_and_guillemets_pair() {
        assert_eq!(
            inner(r#"“A,” he said. "B" and «C» and ''D,'' too."#),
            ["A,", "B", "C", "D,"]
        );
    }

    #[test]
    fn apostrophes_are_not_quotes() {
        assert_eq!(
            inner("Witkoff’s team don’t care about the ’90s, Sanders’ voters said. “Yes.”"),
            ["Yes."]
        );
    }

    #[test]
    fn nested_quotes_stay_inside() {
        assert_eq!(
            inner("“He said ‘no’ to the circus,” he told the paper."),
            ["He said ‘no’ to the circus,"]
        );
    }

    #[test]
    fn quote_runs_over_paragraphs() {
        let text = "“First part.\n“Second part,” he said.\nAfter.";
        let q = find_quotes(text);
        assert_eq!(q.len(), 2);
        assert!(q[0].continues && !q[0].closed);
        assert_eq!(&text[q[1].inner.clone()], "Second part,");
    }

    #[test]
    fn unbalanced_marks_stay_local() {
        // The first paragraph never closes; the second is unaffected.
        let text = "He said “this never ends\nShe said “fine” and left.";
        assert_eq!(inner(text), ["this never ends", "fine"]);
        // A same-kind opener inside an open quote ends the first quote.
        assert_eq!(inner("“One, he said. “Two.”"), ["One, he said.", "Two."]);
    }

    #[test]
    fn never_panics_on_odd_input() {
        for t in [
            "\"",
            "''",
            "“",
            "”",
            "’",
            "‘",
            "' '",
            "\n\"\n\"",
            "«»‹›„‟",
            "a''",
            "é'",
        ] {
            let found = find_quotes(t);
            for q in &found {
                // Spans are ordered byte ranges on character boundaries, the words inside
                // the marks.
                assert!(
                    q.outer.start <= q.outer.end && q.outer.end <= t.len(),
                    "{t:?}: {q:?}"
                );
                assert!(
                    q.outer.start <= q.inner.start && q.inner.end <= q.outer.end,
                    "{t:?}: {q:?}"
                );
                assert!(q.inner.start <= q.inner.end, "{t:?}: {q:?}");
                for b in [q.outer.start, q.outer.end, q.inner.start, q.inner.end] {
                    assert!(t.is_char_boundary(b), "{t:?}: {q:?}");
                }
            }
            assert!(
                found.windows(2).all(|w| w[0].outer.end <= w[1].outer.start),
                "{t:?}: {found:?}"
            );
        }
        // Lone marks and apostrophes quote nothing.
        for t in ["'", "’", "a''", "é'", "' '"] {
            assert!(
                find_quotes(t)
                    .iter()
                    .all(|q| q.inner.is_empty() || !q.closed),
                "{t:?}"
            );
        }
    }
}

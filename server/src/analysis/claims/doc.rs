//! The per-document working state the attribution rules share: token classes, which quote
//! each token sits in, and the "units" (sentences merged so that no quote is cut in two).

use super::lexicon::{classify, flags, TokClass};
use super::quotes::{find_quotes, QuoteSpan};
use crate::analysis::tokenize::Token;
use std::ops::Range;

/// No quote.
pub(crate) const NONE: u32 = u32::MAX;

#[cfg(test)]
thread_local! {
    /// Token look-ups (`is`, `word`, `in_quote`) made on this thread: the attribution rules'
    /// unit of work, so a test can show it grows linearly without timing anything.
    pub(crate) static LOOKUPS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Counts one token look-up (tests only).
#[inline]
fn count_lookup() {
    #[cfg(test)]
    LOOKUPS.with(|n| n.set(n.get() + 1));
}

pub(crate) struct Doc<'a> {
    pub text: &'a str,
    pub toks: &'a [Token],
    pub cls: Vec<TokClass>,
    /// Per token: the quote (a quote and its continuations over the following paragraphs
    /// share one id) it lies in, or [`NONE`].
    pub quote_of: Vec<u32>,
}

impl<'a> Doc<'a> {
    pub(super) fn new(text: &'a str, toks: &'a [Token]) -> Self {
        let cls: Vec<TokClass> = toks.iter().map(|t| classify(t.text(text))).collect();
        let quotes = find_quotes(text);
        let mut quote_of = vec![NONE; toks.len()];
        let mut ti = 0usize;
        let mut next_id = 0u32;
        let mut open_chain: Option<u32> = None;
        for q in &quotes {
            let id = open_chain.take().unwrap_or_else(|| {
                next_id += 1;
                next_id - 1
            });
            let QuoteSpan { outer, .. } = q;
            while ti < toks.len() && toks[ti].end <= outer.start {
                ti += 1;
            }
            while ti < toks.len() && toks[ti].start < outer.end {
                quote_of[ti] = id;
                ti += 1;
            }
            if q.continues {
                open_chain = Some(id);
            }
        }
        Doc {
            text,
            toks,
            cls,
            quote_of,
        }
    }

    #[inline]
    pub(super) fn is(&self, i: usize, bits: u32) -> bool {
        count_lookup();
        self.cls.get(i).is_some_and(|c| c.is(bits))
    }

    /// Token `i`'s text; empty past the end, so lookahead never panics.
    #[inline]
    pub(super) fn word(&self, i: usize) -> &'a str {
        count_lookup();
        self.toks.get(i).map_or("", |t| t.text(self.text))
    }

    #[inline]
    pub(super) fn in_quote(&self, i: usize) -> bool {
        count_lookup();
        self.quote_of.get(i).is_some_and(|&q| q != NONE)
    }

    /// Byte range of tokens `r` (must be non-empty).
    pub(super) fn bytes(&self, r: &Range<usize>) -> Range<usize> {
        self.toks[r.start].start..self.toks[r.end - 1].end
    }

    /// True when every word of tokens `r` is quoted (and there is one).
    pub(super) fn quote_only(&self, r: Range<usize>) -> bool {
        let mut any = false;
        for i in r {
            if self.in_quote(i) {
                any = true;
            } else if !self.is(i, flags::PUNCT) {
                return false;
            }
        }
        any
    }

    /// True when tokens `r` open with "Trump asked …", "he said", "said the official".
    fn starts_with_attribution(&self, r: Range<usize>) -> bool {
        use flags::*;
        let s = r.start;
        if self.in_quote(s) {
            return false;
        }
        if self.is(s, CUE) && !self.is(s, CAP | ING) {
            return true;
        }
        if !self.is(s, PRON | CAP | DET) {
            return false;
        }
        for i in s + 1..(s + 7).min(r.end) {
            if self.is(i, CUE) && !self.is(i, CAP) {
                return true;
            }
            if self.is(i, PUNCT) || self.in_quote(i) {
                return false;
            }
        }
        false
    }

    /// Sentences (byte ranges) as token ranges, merged so that a quote never straddles two.
    pub(super) fn units(&self, sentences: &[Range<usize>]) -> Vec<Range<usize>> {
        let mut out: Vec<Range<usize>> = Vec::with_capacity(sentences.len());
        let mut ti = 0usize;
        for s in sentences {
            while ti < self.toks.len() && self.toks[ti].start < s.start {
                ti += 1;
            }
            let first = ti;
            while ti < self.toks.len() && self.toks[ti].start < s.end {
                ti += 1;
            }
            if first == ti {
                continue;
            }
            let merge = out.last().is_some_and(|prev: &Range<usize>| {
                prev.end == first && {
                    let q = self.quote_of[first - 1];
                    q != NONE && self.quote_of[first] == q
                }
            });
            // "“Why?” Trump asked.": the splitter ends a sentence after `?”`; the attribution
            // that follows belongs with the quote.
            let merge = merge
                || out.last().is_some_and(|prev| {
                    prev.end == first
                        && self.quote_only(prev.clone())
                        && !self.text[self.toks[first - 1].end..self.toks[first].start]
                            .contains('\n')
                        && self.text[..self.toks[first - 1].start].ends_with(['?', '!'])
                        && self.starts_with_attribution(first..ti)
                });
            if merge {
                if let Some(prev) = out.last_mut() {
                    prev.end = ti;
                }
            } else {
                out.push(first..ti);
            }
        }
        out
    }
}

//! Sentence boundaries for news text, as byte ranges over the tokens of `tokenize`.
//!
//! News pages come in two shapes: one paragraph per line (web articles, CoNLL's one sentence
//! per line) and hard-wrapped text (Reuters-21578 wraps at ~70 columns and indents
//! paragraphs). A document is treated as hard-wrapped when most of its lines are of wrap width
//! and end mid-sentence; then a single newline is a space and only blank or indented lines
//! break paragraphs. Otherwise every newline ends a sentence (a heading is a sentence of its
//! own). Within a line, a sentence ends after `.`, `!` or `?` (with any closing quote marks or
//! brackets) when the next token opens a new sentence and the period does not belong to an
//! abbreviation.

use super::tokenize::{is_abbreviation, Token};
use std::ops::Range;

/// Quote marks and brackets that may close a sentence after its final punctuation.
fn is_closer(s: &str) -> bool {
    matches!(s, "\"" | "'" | "”" | "’" | "»" | "›" | ")" | "]")
}

/// True when `text` looks hard-wrapped: most lines are of similar, wrap-like width and end
/// without sentence-final punctuation, and a fair share of those continue on a line that
/// starts in lower case (tables and score sheets have open-ended lines of wrap width too, but
/// their next line starts with a name or a number).
pub fn is_hard_wrapped(text: &str) -> bool {
    let mut lines = 0usize;
    let mut wrapped = 0usize;
    let mut continued = 0usize;
    let mut iter = text.lines().peekable();
    while let Some(line) = iter.next() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            continue;
        }
        lines += 1;
        let width = line.chars().count();
        let open_end = !line.ends_with(['.', '!', '?', ':', '"', '”', '\'', '’', ')']);
        if (40..=100).contains(&width) && open_end {
            wrapped += 1;
            let next_lower = iter
                .peek()
                .and_then(|n| n.trim_start().chars().next())
                .is_some_and(char::is_lowercase);
            if next_lower {
                continued += 1;
            }
        }
    }
    lines >= 4 && wrapped * 2 > lines && continued * 4 >= wrapped
}

/// Splits `text` (already tokenised into `tokens`) into sentences: byte ranges from a
/// sentence's first token to its last. Every token belongs to exactly one sentence.
///
/// # Examples
///
/// ```
/// use dossier_server::analysis::{sentences::split_sentences, tokenize::tokenize};
/// let text = "Mr. Witkoff met Putin. “It went well,” he said.\nNext line";
/// let tokens = tokenize(text);
/// let s: Vec<&str> = split_sentences(text, &tokens).into_iter().map(|r| &text[r]).collect();
/// assert_eq!(s, ["Mr. Witkoff met Putin.", "“It went well,” he said.", "Next line"]);
/// ```
pub fn split_sentences(text: &str, tokens: &[Token]) -> Vec<Range<usize>> {
    let wrapped = is_hard_wrapped(text);
    let mut out = Vec::new();
    let mut first = 0usize;
    for i in 0..tokens.len() {
        let is_last = i + 1 == tokens.len();
        if is_last || ends_sentence(text, tokens, i, wrapped) {
            out.push(tokens[first].start..tokens[i].end);
            first = i + 1;
        }
    }
    out
}

/// True when a sentence ends after token `i`.
fn ends_sentence(text: &str, tokens: &[Token], i: usize, wrapped: bool) -> bool {
    let tok = &tokens[i];
    let next = &tokens[i + 1];
    let gap = &text[tok.end..next.start];
    let newlines = gap.matches('\n').count();
    if newlines >= 2 {
        return true;
    }
    if newlines == 1 {
        if !wrapped {
            return true;
        }
        // Hard-wrapped: an indented next line starts a paragraph.
        let after_nl = gap.rsplit('\n').next().unwrap_or("");
        if after_nl.len() >= 2 {
            return true;
        }
    }
    let word = tok.text(text);
    // Final punctuation, possibly followed by closers: look at the last non-closer token.
    if is_closer(word) {
        // `.”` : the sentence ends after the closer if the token before it is final punctuation.
        let mut j = i;
        while j > 0 && is_closer(tokens[j].text(text)) {
            j -= 1;
        }
        if !is_final(tokens[j].text(text)) || j == i {
            return false;
        }
    } else if !is_final(word) {
        // Abbreviation-like tokens with a period ("U.S.") end a sentence only before a
        // clearly new sentence; handled below.
        if !(word.ends_with('.') && word.len() > 1) {
            return false;
        }
        let stem = &word[..word.len() - 1];
        // Titles and initials never end a sentence.
        if stem.chars().count() == 1 || is_title(stem) {
            return false;
        }
    }
    // The next token must open a sentence: an uppercase letter, a digit, or an opening mark.
    if gap.is_empty() {
        return false;
    }
    let next_text = next.text(text);
    let opens = next_text.chars().next().is_some_and(|c| {
        c.is_uppercase()
            || c.is_ascii_digit()
            || matches!(c, '"' | '“' | '‘' | '\'' | '(' | '[' | '«' | '—')
    });
    if !opens {
        return false;
    }
    // "Mr. Smith": a period on an abbreviation before a capital is not a boundary.
    if word == "." && i > 0 {
        let prev = tokens[i - 1];
        if prev.end == tok.start && is_abbreviation(prev.text(text)) {
            return false;
        }
    }
    true
}

/// Sentence-final punctuation tokens.
fn is_final(s: &str) -> bool {
    matches!(s, "." | "!" | "?" | "..." | "…" | "?!" | "!?")
        || s.chars().all(|c| matches!(c, '.' | '!' | '?')) && !s.is_empty()
}

/// Titles that precede a name and never end a sentence.
fn is_title(stem: &str) -> bool {
    matches!(
        stem.to_lowercase().as_str(),
        "mr" | "mrs"
            | "ms"
            | "dr"
            | "prof"
            | "gen"
            | "sen"
            | "rep"
            | "gov"
            | "lt"
            | "col"
            | "sgt"
            | "capt"
            | "adm"
            | "maj"
            | "rev"
            | "hon"
            | "st"
            | "pres"
            | "no"
            | "vs"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::tokenize::tokenize;

    fn sents(text: &str) -> Vec<&str> {
        split_sentences(text, &tokenize(text))
            .into_iter()
            .map(|r| &text[r])
            .collect()
    }

    #[test]
    fn splits_on_final_punctuation_and_closers() {
        assert_eq!(
            sents("He left. “Why?” she asked. (It rained.) Then"),
            ["He left.", "“Why?” she asked.", "(It rained.)", "Then"]
        );
    }

    #[test]
    fn keeps_abbreviations_and_titles() {
        assert_eq!(
            sents("Gen. Keith Kellogg met the U.S. envoy. Dr. No left."),
            ["Gen. Keith Kellogg met the U.S. envoy.", "Dr. No left."]
        );
    }

    #[test]
    fn abbreviation_at_sentence_end_before_capital_ends_it() {
        assert_eq!(
            sents("He lives in the U.S. The envoy disagreed."),
            ["He lives in the U.S.", "The envoy disagreed."]
        );
    }

    #[test]
    fn newline_breaks_in_paragraph_text() {
        assert_eq!(
            sents("A Headline Without A Period\nThe body starts here."),
            ["A Headline Without A Period", "The body starts here."]
        );
    }

    #[test]
    fn hard_wrapped_lines_join() {
        let text = "Showers continued throughout the week in\nthe Bahia cocoa zone, alleviating the drought since early\nJanuary and improving prospects for the coming temporao,\nalthough normal humidity levels have not been restored.\n    The dry period means the temporao will be late this year.";
        assert_eq!(sents(text).len(), 2);
    }

    #[test]
    fn score_sheets_are_not_hard_wrapped() {
        let text = "Damien Fleming c Healy b Warne 12 , Glenn McGrath\nFlemming not out 4 and Shane Warne lbw b Kumble 21\nExtras ( b-4 lb-6 w-1 nb-3 ) 14 Total ( all out )\nFall of wickets : 1-12 2-45 3-77 4-101 5-130 6-151";
        assert!(!is_hard_wrapped(text));
        assert_eq!(sents(text).len(), 4);
    }

    #[test]
    fn no_tokens_no_sentences() {
        assert!(sents("   \n ").is_empty());
    }
}

//! Highlighted fragments: every matching passage of a document, not just one.
//!
//! tantivy's `SnippetGenerator` gives one fragment per document with offsets relative to
//! that fragment. Here a document yields up to `max_fragments` fragments, each built from
//! whole sentences (`analysis::sentences`) around the query's matches, with every range —
//! the fragment's and each highlight's — a byte range into the *whole document text*. A match
//! is a token the index analyzer turns into one of the query's terms, so highlights slice
//! exactly the words that matched ("Witkoff" out of "Witkoff’s", "talks" for `talk`).

use std::ops::Range;

use tantivy::tokenizer::TokenStream;

use super::analyzer::{
    english_unstemmed, is_word_start, next_word, push_lowercase, with_stem, MAX_TOKEN_BYTES,
};

/// How to cut fragments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HighlightOptions {
    /// Most fragments per document (0 turns snippets off).
    pub max_fragments: usize,
    /// Target fragment length in characters; a fragment grows by whole sentences up to it
    /// and a longer sentence is cut to a window of about this size around its matches.
    pub fragment_chars: usize,
    /// Inserted before each highlight in [`Snippet::markup`].
    pub pre_tag: String,
    /// Inserted after each highlight in [`Snippet::markup`].
    pub post_tag: String,
}

impl Default for HighlightOptions {
    fn default() -> Self {
        Self {
            // One fragment per hit, as result lists show it (more on request): each further
            // fragment adds about a third to the response, and a response's size is most of
            // what a repeated search costs.
            max_fragments: 1,
            fragment_chars: 200,
            pre_tag: "<em>".into(),
            post_tag: "</em>".into(),
        }
    }
}

/// A fragment of a document's text with its highlights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    /// Where the fragment lies in the document text (bytes).
    pub range: Range<usize>,
    /// The fragment's text (`&text[range]`).
    pub text: String,
    /// The matched words, as byte ranges into the whole document text.
    pub highlights: Vec<Range<usize>>,
    /// The fragment with `pre_tag`/`post_tag` around each highlight (no other escaping).
    pub markup: String,
}

/// Finds the words of a text that analyse to one of the query's terms, without running the
/// whole analysis chain over the text: the scan jumps from byte to byte that can start a
/// term's word (a term's first letter in either case, or any non-ASCII character, which may
/// fold to anything), and only words starting there and sharing their first two letters
/// with a term are lower-cased, folded and stemmed (stems keep a word's first letters; the
/// stem cache makes repeated words free).
#[derive(Debug, Clone)]
pub(crate) struct Matcher {
    terms: Vec<String>,
    /// The first one or two characters of each term.
    heads: Vec<String>,
    /// Bytes at which a matching word may start.
    starts: [bool; 256],
    /// Finds the heads in ASCII text, case-insensitively (SIMD-accelerated): only where a
    /// head occurs can a matching word start. `None` when a head is not ASCII.
    heads_finder: Option<aho_corasick::AhoCorasick>,
}

impl Default for Matcher {
    fn default() -> Self {
        Self::new(std::iter::empty())
    }
}

impl Matcher {
    /// A matcher for analysed (stemmed) `terms`.
    pub(super) fn new(terms: impl IntoIterator<Item = String>) -> Self {
        let mut terms: Vec<String> = terms.into_iter().collect();
        terms.sort_unstable();
        terms.dedup();
        let mut heads: Vec<String> = terms.iter().map(|t| t.chars().take(2).collect()).collect();
        heads.sort_unstable();
        heads.dedup();
        let mut starts = [false; 256];
        for b in heads.iter().filter_map(|h| h.bytes().next()) {
            starts[usize::from(b.to_ascii_lowercase())] = true;
            starts[usize::from(b.to_ascii_uppercase())] = true;
        }
        // The first byte of any non-ASCII character (it may fold to an ASCII letter).
        for slot in &mut starts[0xC0..] {
            *slot = true;
        }
        let heads_finder = if heads.is_empty() || !heads.iter().all(|h| h.is_ascii()) {
            None
        } else {
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(&heads)
                .ok()
        };
        Self {
            terms,
            heads,
            starts,
            heads_finder,
        }
    }

    /// The byte ranges of matching words in `text`, each with the index of its term.
    pub(super) fn find(&self, text: &str) -> Vec<(Range<usize>, usize)> {
        match &self.heads_finder {
            Some(finder) if text.is_ascii() => self.find_ascii(finder, text),
            _ => self.find_any(text),
        }
    }

    /// [`Self::find`] for ASCII text: candidates are the places where a head occurs (no
    /// folding needed, and most of the text is skipped by the finder's SIMD scan), each
    /// checked as [`Self::find_any`] checks its candidates.
    fn find_ascii(
        &self,
        finder: &aho_corasick::AhoCorasick,
        text: &str,
    ) -> Vec<(Range<usize>, usize)> {
        let mut out = Vec::new();
        let mut word = String::new();
        let mut resume = 0;
        for m in finder.find_overlapping_iter(text) {
            let candidate = m.start();
            if candidate < resume || !is_word_start(text, candidate) {
                continue;
            }
            let Some((start, end, next)) = next_word(text, candidate) else {
                break;
            };
            resume = next;
            word.clear();
            push_lowercase(&text[start..end], &mut word);
            if word.len() > MAX_TOKEN_BYTES
                || !self.heads.iter().any(|h| word.starts_with(h.as_str()))
            {
                continue;
            }
            if let Ok(i) = with_stem(&word, |stem| {
                self.terms.binary_search_by(|t| t.as_str().cmp(stem))
            }) {
                out.push((start..end, i));
            }
        }
        out
    }

    /// [`Self::find`] for any text: a scan from byte to byte that may start a match.
    fn find_any(&self, text: &str) -> Vec<(Range<usize>, usize)> {
        let mut out = Vec::new();
        if self.terms.is_empty() {
            return out;
        }
        let bytes = text.as_bytes();
        let mut word = String::new();
        let mut folded = String::new();
        let mut at = 0;
        while let Some(skip) = bytes[at..]
            .iter()
            .position(|&b| self.starts[usize::from(b)])
        {
            let candidate = at + skip;
            at = candidate + 1;
            if !is_word_start(text, candidate) {
                continue;
            }
            let Some((start, end, resume)) = next_word(text, candidate) else {
                break;
            };
            at = resume;
            word.clear();
            push_lowercase(&text[start..end], &mut word);
            let key = if word.is_ascii() {
                word.as_str()
            } else {
                folded.clear();
                fold_into(&word, &mut folded);
                folded.as_str()
            };
            if key.len() > MAX_TOKEN_BYTES
                || !self.heads.iter().any(|h| key.starts_with(h.as_str()))
            {
                continue;
            }
            if let Ok(i) = with_stem(key, |stem| {
                self.terms.binary_search_by(|t| t.as_str().cmp(stem))
            }) {
                out.push((start..end, i));
            }
        }
        out
    }
}

/// Folds diacritics the way the index analyzer does (rare: only non-ASCII words get here).
fn fold_into(word: &str, out: &mut String) {
    let mut analyzer = english_unstemmed();
    let mut stream = analyzer.token_stream(word);
    while let Some(token) = stream.next() {
        out.push_str(&token.text);
    }
}

/// Cuts the highlighted fragments of `text`, whose sentences are `sentences`, for the words
/// `matcher` finds.
///
/// With no match in the text (a document that matched on its title), the lead of the text
/// is returned as one fragment without highlights.
pub(crate) fn snippets(
    text: &str,
    sentences: &[Range<usize>],
    matcher: &Matcher,
    options: &HighlightOptions,
) -> Vec<Snippet> {
    if options.max_fragments == 0 || text.trim().is_empty() {
        return Vec::new();
    }
    let matches = matcher.find(text);
    let whole = 0..text.len();
    let sentences = if sentences.is_empty() {
        std::slice::from_ref(&whole)
    } else {
        sentences
    };
    let width = options.fragment_chars.max(20);
    if matches.is_empty() {
        let lead = grow(text, sentences, 0, width);
        return vec![make_snippet(text, lead, &[], options)];
    }
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut m = 0;
    for (s, sentence) in sentences.iter().enumerate() {
        let first = m;
        while m < matches.len() && matches[m].0.start < sentence.end {
            m += 1;
        }
        if first == m {
            continue;
        }
        let inside = &matches[first..m];
        if fits(&text[sentence.clone()], width) {
            let range = grow(text, sentences, s, width);
            candidates.push(Candidate::new(range, &matches));
        } else {
            // A sentence longer than a fragment: windows around its matches.
            let mut i = 0;
            while i < inside.len() {
                let range = window(text, sentence.clone(), inside[i].0.clone(), width);
                candidates.push(Candidate::new(range.clone(), &matches));
                while i < inside.len() && inside[i].0.start < range.end {
                    i += 1;
                }
            }
        }
    }
    // Best first: most distinct terms, then most matches, then earliest.
    candidates.sort_by(|a, b| {
        b.distinct
            .cmp(&a.distinct)
            .then(b.count.cmp(&a.count))
            .then(a.range.start.cmp(&b.range.start))
    });
    let mut chosen: Vec<Range<usize>> = Vec::new();
    for c in candidates {
        if chosen.len() == options.max_fragments {
            break;
        }
        if chosen
            .iter()
            .any(|r| r.start < c.range.end && c.range.start < r.end)
        {
            continue;
        }
        chosen.push(c.range);
    }
    let highlights: Vec<Range<usize>> = matches.into_iter().map(|(r, _)| r).collect();
    chosen
        .into_iter()
        .map(|range| {
            let inside: Vec<Range<usize>> = highlights
                .iter()
                .filter(|h| h.start >= range.start && h.end <= range.end)
                .cloned()
                .collect();
            make_snippet(text, range, &inside, options)
        })
        .collect()
}

/// A possible fragment and how good it is.
struct Candidate {
    range: Range<usize>,
    distinct: usize,
    count: usize,
}

impl Candidate {
    fn new(range: Range<usize>, matches: &[(Range<usize>, usize)]) -> Self {
        let mut seen = Vec::new();
        let mut count = 0;
        for (r, id) in matches {
            if r.start >= range.start && r.end <= range.end {
                count += 1;
                if !seen.contains(id) {
                    seen.push(*id);
                }
            }
        }
        Self {
            range,
            distinct: seen.len(),
            count,
        }
    }
}

fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// True when `s` has at most `width` characters (without counting long strings twice).
fn fits(s: &str, width: usize) -> bool {
    s.len() <= width || (s.len() <= 4 * width && char_len(s) <= width)
}

/// Sentence `s` grown by following (then preceding) whole sentences while it fits `width`.
fn grow(text: &str, sentences: &[Range<usize>], s: usize, width: usize) -> Range<usize> {
    let Some(first) = sentences.get(s) else {
        return 0..text.len().min(byte_after_chars(text, 0, width));
    };
    if !fits(&text[first.clone()], width) {
        return window(text, first.clone(), first.start..first.start, width);
    }
    let (mut lo, mut hi) = (s, s);
    loop {
        let mut grew = false;
        if hi + 1 < sentences.len()
            && fits(&text[sentences[lo].start..sentences[hi + 1].end], width)
        {
            hi += 1;
            grew = true;
        } else if lo > 0 && fits(&text[sentences[lo - 1].start..sentences[hi].end], width) {
            lo -= 1;
            grew = true;
        }
        if !grew {
            break;
        }
    }
    sentences[lo].start..sentences[hi].end
}

/// A window of about `width` characters inside `sentence` that starts a little before
/// `anchor`, cut at whitespace.
fn window(text: &str, sentence: Range<usize>, anchor: Range<usize>, width: usize) -> Range<usize> {
    let lead = width / 4;
    let mut start = byte_before_chars(text, anchor.start, lead).max(sentence.start);
    if start > sentence.start {
        // Move forward to the start of a word.
        if let Some(ws) = text[start..anchor.start].find(char::is_whitespace) {
            start += ws;
        }
        start += text[start..].len() - text[start..].trim_start().len();
    }
    let mut end = byte_after_chars(text, start, width).min(sentence.end);
    if end < sentence.end {
        // Move back to the end of a word, but keep the anchor.
        if let Some(ws) = text[anchor.end.max(start)..end].rfind(char::is_whitespace) {
            end = anchor.end.max(start) + ws;
        }
        end = start + text[start..end].trim_end().len();
    }
    start..end.max(anchor.end).min(sentence.end.max(anchor.end))
}

/// The byte offset `n` characters after `from` (or the end).
fn byte_after_chars(text: &str, from: usize, n: usize) -> usize {
    text[from..]
        .char_indices()
        .nth(n)
        .map_or(text.len(), |(i, _)| from + i)
}

/// The byte offset `n` characters before `from` (or 0).
fn byte_before_chars(text: &str, from: usize, n: usize) -> usize {
    if n == 0 {
        return from;
    }
    text[..from]
        .char_indices()
        .rev()
        .nth(n - 1)
        .map_or(0, |(i, _)| i)
}

fn make_snippet(
    text: &str,
    range: Range<usize>,
    highlights: &[Range<usize>],
    options: &HighlightOptions,
) -> Snippet {
    let mut markup = String::with_capacity(range.len() + highlights.len() * 9);
    let mut at = range.start;
    for h in highlights {
        markup.push_str(&text[at..h.start]);
        markup.push_str(&options.pre_tag);
        markup.push_str(&text[h.clone()]);
        markup.push_str(&options.post_tag);
        at = h.end;
    }
    markup.push_str(&text[at..range.end]);
    Snippet {
        text: text[range.clone()].to_string(),
        range,
        highlights: highlights.to_vec(),
        markup,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::sentences::split_sentences;
    use crate::analysis::tokenize::tokenize;

    fn run(text: &str, words: &[&str], options: &HighlightOptions) -> Vec<Snippet> {
        let matcher = Matcher::new(words.iter().map(|w| w.to_string()));
        let sentences = split_sentences(text, &tokenize(text));
        snippets(text, &sentences, &matcher, options)
    }

    #[test]
    fn matcher_finds_inflections_possessives_and_accents() {
        // Proves the fast matcher agrees with the index analyzer on tricky words.
        let text = "Talks, talked; Witkoff’s TALK with Zelenskýy and die, dying.";
        let m = Matcher::new(["talk", "witkoff", "zelenskyy"].map(String::from));
        let found: Vec<&str> = m.find(text).into_iter().map(|(r, _)| &text[r]).collect();
        assert_eq!(found, ["Talks", "talked", "Witkoff", "TALK", "Zelenskýy"]);
    }

    #[test]
    fn ascii_finder_agrees_with_the_byte_scan() {
        // Proves the SIMD head finder used for ASCII texts finds exactly the words the
        // byte-by-byte scan finds, over tricky ASCII: case, possessives, digits, hyphens,
        // heads inside words, one-letter and numeric terms.
        let text = "Prices priced PRICE-fixing; oil's oils, Oil1 2,000 1.5 a-priori \
            reprice o o'clock U.S. prime-minister's 1990s price.Prices comprise x pr prr";
        for words in [
            &["price", "oil"][..],
            &["1990s", "o", "pr"],
            &["u.s", "prime", "minist", "clock"],
            &["2,000", "1.5", "x"],
        ] {
            let m = Matcher::new(words.iter().map(|w| w.to_string()));
            let finder = m.heads_finder.as_ref().expect("ASCII heads");
            assert_eq!(m.find_ascii(finder, text), m.find_any(text), "{words:?}");
        }
    }

    const TEXT: &str = "Steve Witkoff’s meeting lasted hours. The weather was fine. \
        Vladimir Putin received him in Moscow. Nothing else happened that day at all. \
        Later, Putin’s aide praised Witkoff.";

    #[test]
    fn highlights_slice_query_words_from_the_whole_text() {
        // Proves highlight ranges are document-relative and slice the matched words only.
        let small = HighlightOptions {
            max_fragments: 5,
            fragment_chars: 60,
            ..Default::default()
        };
        let snippets = run(TEXT, &["witkoff", "putin"], &small);
        assert!(snippets.len() >= 2);
        for s in &snippets {
            assert_eq!(&TEXT[s.range.clone()], s.text);
            for h in &s.highlights {
                assert!(
                    ["Witkoff", "Putin"].contains(&&TEXT[h.clone()]),
                    "{:?}",
                    &TEXT[h.clone()]
                );
                assert!(h.start >= s.range.start && h.end <= s.range.end);
            }
        }
    }

    #[test]
    fn best_fragment_first_and_no_overlap() {
        // Proves the fragment with both terms ranks first and fragments never overlap.
        let options = HighlightOptions {
            max_fragments: 3,
            fragment_chars: 40,
            ..Default::default()
        };
        let s = run(TEXT, &["witkoff", "putin"], &options);
        assert!(
            s[0].text.contains("Putin") && s[0].text.contains("Witkoff"),
            "{s:?}"
        );
        for (i, a) in s.iter().enumerate() {
            for b in &s[i + 1..] {
                assert!(a.range.end <= b.range.start || b.range.end <= a.range.start);
            }
        }
    }

    #[test]
    fn markup_wraps_each_highlight_with_caller_tags() {
        // Proves markup inserts the caller's tags and nothing else.
        let options = HighlightOptions {
            pre_tag: "[".into(),
            post_tag: "]".into(),
            ..Default::default()
        };
        let s = run("Putin met Witkoff.", &["putin"], &options);
        assert_eq!(s[0].markup, "[Putin] met Witkoff.");
    }

    #[test]
    fn long_sentences_are_windowed_around_matches() {
        // Proves a sentence longer than the fragment is cut near the match at word bounds.
        let text = format!(
            "{} Putin spoke {}",
            "word ".repeat(100),
            "more ".repeat(100)
        );
        let options = HighlightOptions {
            fragment_chars: 50,
            ..Default::default()
        };
        let s = run(&text, &["putin"], &options);
        assert_eq!(s.len(), 1);
        assert!(s[0].text.chars().count() <= 60, "{:?}", s[0].text);
        assert!(s[0].text.contains("Putin"));
        assert!(!s[0].text.starts_with(' ') && !s[0].text.ends_with(' '));
    }

    #[test]
    fn no_match_gives_the_lead() {
        // Proves a title-only match still shows the start of the text, unhighlighted.
        let s = run(TEXT, &["absent"], &HighlightOptions::default());
        assert_eq!(s.len(), 1);
        assert!(s[0].highlights.is_empty() && s[0].range.start == 0);
    }
}

//! English analysis for the index: how titles, texts and queries become terms.
//!
//! One chain serves indexing, query parsing and highlighting, so a highlight is exactly a
//! token the index matched:
//!
//! 1. [`WordTokenizer`] cuts runs of letters and digits (keeping `3.5` and `1,400` whole and
//!    apostrophes inside words), lower-cases them, drops a possessive `'s`/`’s` from the
//!    token *and from its byte range* ("Witkoff’s" → `witkoff` over the bytes of "Witkoff"),
//!    and removes the remaining inner apostrophes ("O’Brien" → `obrien`).
//! 2. tantivy's `AsciiFoldingFilter` folds diacritics ("Zelenskyy" and "Zelenskýy" meet).
//! 3. Snowball English stemming ("talks" and "talked" → `talk`), the algorithm tantivy's
//!    `Stemmer` runs, with a per-thread cache of stems: words repeat (Zipf), and stemming is
//!    most of the analysis cost.
//!
//! Token offsets are byte offsets into the analysed text, never copies.

use std::cell::RefCell;
use std::collections::HashMap;

use tantivy::tokenizer::{
    AsciiFoldingFilter, RemoveLongFilter, TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer,
};

/// The name the analyzer is registered under in the index's tokenizer manager.
pub const ANALYZER_NAME: &str = "dossier_en";

/// Longest token kept, in bytes; longer ones (base64, URLs without separators) are noise.
pub(crate) const MAX_TOKEN_BYTES: usize = 64;

/// Builds the English analysis chain described in the module docs.
///
/// # Examples
///
/// ```
/// use dossier_server::index::analyzer::{english, terms};
/// let mut analyzer = english();
/// assert_eq!(terms(&mut analyzer, "Witkoff’s talks with Zelenskýy"),
///            ["witkoff", "talk", "with", "zelenskyy"]);
/// ```
pub fn english() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer)
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(AsciiFoldingFilter)
        .filter(CachedStemmer)
        .build()
}

/// Stems of recently seen words, per thread; cleared when it reaches this many entries.
const STEM_CACHE_ENTRIES: usize = 100_000;

thread_local! {
    static STEMS: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
}

/// The Snowball English stem of a lower-cased, folded word (numbers are left alone).
///
/// # Examples
///
/// ```
/// use dossier_server::index::analyzer::stem;
/// assert_eq!(stem("negotiations"), "negoti");
/// assert_eq!(stem("1,400"), "1,400");
/// ```
pub fn stem(word: &str) -> String {
    with_stem(word, str::to_string)
}

/// Calls `f` with the [`stem`] of `word`, without copying a cached stem.
pub(crate) fn with_stem<R>(word: &str, f: impl FnOnce(&str) -> R) -> R {
    if word.starts_with(|c: char| c.is_ascii_digit()) {
        return f(word);
    }
    STEMS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(stem) = cache.get(word) {
            return f(stem);
        }
        if cache.len() >= STEM_CACHE_ENTRIES {
            cache.clear();
        }
        let stem = frostem::Stemmer::new(frostem::Algorithm::English)
            .stem(word)
            .into_owned();
        let result = f(&stem);
        cache.insert(word.to_string(), stem);
        result
    })
}

/// The token filter that replaces each token's text by its [`stem`].
#[derive(Clone, Copy, Debug, Default)]
pub struct CachedStemmer;

impl TokenFilter for CachedStemmer {
    type Tokenizer<T: Tokenizer> = CachedStemmerTokenizer<T>;

    fn transform<T: Tokenizer>(self, inner: T) -> CachedStemmerTokenizer<T> {
        CachedStemmerTokenizer { inner }
    }
}

/// The tokenizer [`CachedStemmer`] wraps around another.
#[derive(Clone)]
pub struct CachedStemmerTokenizer<T> {
    inner: T,
}

// Debug without the fields: they hold handles, caches or tokenizer state that say nothing useful.
impl<T> std::fmt::Debug for CachedStemmerTokenizer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedStemmerTokenizer")
            .finish_non_exhaustive()
    }
}

impl<T: Tokenizer> Tokenizer for CachedStemmerTokenizer<T> {
    type TokenStream<'a> = CachedStemmerStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        CachedStemmerStream {
            inner: self.inner.token_stream(text),
            spare: String::new(),
        }
    }
}

/// The token stream of [`CachedStemmerTokenizer`].
pub struct CachedStemmerStream<S> {
    inner: S,
    /// The buffer the next stem is written to (swapped with the token's), so stemming a
    /// token allocates nothing once the buffers have grown.
    spare: String,
}

// Debug without the fields: they hold handles, caches or tokenizer state that say nothing useful.
impl<S> std::fmt::Debug for CachedStemmerStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedStemmerStream")
            .finish_non_exhaustive()
    }
}

impl<S: TokenStream> TokenStream for CachedStemmerStream<S> {
    fn advance(&mut self) -> bool {
        if !self.inner.advance() {
            return false;
        }
        let Self { inner, spare } = self;
        let token = inner.token_mut();
        with_stem(&token.text, |stem| {
            spare.clear();
            spare.push_str(stem);
        });
        std::mem::swap(&mut token.text, spare);
        true
    }

    fn token(&self) -> &Token {
        self.inner.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.inner.token_mut()
    }
}

/// The same chain without stemming: what a word looks like before its suffix is cut, used to
/// analyse prefix queries ("negotiat*") whose stem would not be a prefix of anything.
pub fn english_unstemmed() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer)
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(AsciiFoldingFilter)
        .build()
}

/// The terms of `text` under `analyzer`, in order (a convenience for queries and tests).
pub fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(token) = stream.next() {
        out.push(token.text.clone());
    }
    out
}

/// Calls `sink(term, byte_range)` for every token of `text`.
pub fn for_each_token(analyzer: &mut TextAnalyzer, text: &str, mut sink: impl FnMut(&Token)) {
    let mut stream = analyzer.token_stream(text);
    while let Some(token) = stream.next() {
        sink(token);
    }
}

/// English stopwords (Lucene's `EnglishAnalyzer` list plus common function words), dropped
/// from plain-text queries and never chosen as expansion terms. The index keeps them so that
/// phrases such as "state of the union" still match.
pub const STOPWORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be",
    "been", "being", "but", "by", "can", "could", "did", "do", "does", "for", "from", "had", "has",
    "have", "he", "her", "his", "how", "i", "if", "in", "into", "is", "it", "its", "may", "more",
    "most", "no", "not", "of", "on", "or", "our", "she", "should", "so", "some", "such", "than",
    "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "to", "was",
    "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with",
    "would", "you", "your",
];

/// True when the (analysed, stemmed) `term` is a stopword.
pub fn is_stopword(term: &str) -> bool {
    STOPWORDS.binary_search(&term).is_ok()
}

/// Apostrophes that may sit inside a word: ASCII, right single quote, modifier letter.
fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | 'ʼ' | '‘')
}

/// Splits text into lower-cased words with byte offsets (see the module docs).
#[derive(Clone, Copy, Debug, Default)]
pub struct WordTokenizer;

/// The token stream of [`WordTokenizer`].
pub struct WordTokenStream<'a> {
    text: &'a str,
    /// Byte offset where scanning resumes.
    cursor: usize,
    token: Token,
}

// Debug without the fields: they hold handles, caches or tokenizer state that say nothing useful.
impl<'a> std::fmt::Debug for WordTokenStream<'a> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WordTokenStream").finish_non_exhaustive()
    }
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordTokenStream<'a> {
        WordTokenStream {
            text,
            cursor: 0,
            token: Token::default(),
        }
    }
}

/// The character at byte `i` of `text` and its length (ASCII without decoding).
#[inline]
fn char_at(text: &str, i: usize) -> Option<(char, usize)> {
    let b = *text.as_bytes().get(i)?;
    if b < 0x80 {
        return Some((b as char, 1));
    }
    text[i..].chars().next().map(|c| (c, c.len_utf8()))
}

/// The byte range `(start, end)` of the next word of `text` at or after byte `from` (a
/// possessive `'s` excluded), and the byte where scanning resumes.
pub(crate) fn next_word(text: &str, from: usize) -> Option<(usize, usize, usize)> {
    let bytes = text.as_bytes();
    let mut i = from;
    let start = loop {
        let b = *bytes.get(i)?;
        // ASCII separators are skipped without decoding a character.
        if b < 0x80 {
            if b.is_ascii_alphanumeric() {
                break i;
            }
            i += 1;
            continue;
        }
        let (c, len) = char_at(text, i)?;
        if c.is_alphanumeric() {
            break i;
        }
        i += len;
    };
    let mut end = start;
    let mut prev = ' ';
    let mut apostrophe = false;
    loop {
        // The common case first: a run of ASCII letters and digits.
        let run = i;
        while bytes.get(i).is_some_and(u8::is_ascii_alphanumeric) {
            i += 1;
        }
        if i > run {
            end = i;
            prev = char::from(bytes[i - 1]);
        }
        let Some((c, len)) = char_at(text, i) else {
            break;
        };
        if c.is_alphanumeric() {
            i += len;
            end = i;
            prev = c;
            continue;
        }
        let next = char_at(text, i + len).map_or(' ', |(n, _)| n);
        // "O’Brien", "don't": an apostrophe between letters stays inside the word;
        // "3.5", "1,400": a point or comma between digits stays inside the number.
        let inner_apostrophe = is_apostrophe(c) && prev.is_alphabetic() && next.is_alphabetic();
        let inner = inner_apostrophe
            || ((c == '.' || c == ',') && prev.is_ascii_digit() && next.is_ascii_digit());
        if !inner {
            break;
        }
        apostrophe |= inner_apostrophe;
        i += len;
        prev = c;
    }
    // Drop a possessive "'s" (the apostrophe is inside the range only when a letter
    // followed it).
    if apostrophe {
        let word = &text[start..end];
        for suffix in ["'s", "’s", "'S", "’S", "ʼs"] {
            if word.len() > suffix.len() && word.ends_with(suffix) {
                return Some((start, end - suffix.len(), end));
            }
        }
    }
    Some((start, end, end))
}

/// True when a word of [`next_word`]'s scan starts at byte `at` of `text`: a letter or
/// digit not continuing the word before it (not after a letter or digit, nor after an
/// apostrophe between letters or a point or comma between digits). Lets a caller jump
/// straight to the words it cares about instead of scanning every word.
pub(crate) fn is_word_start(text: &str, at: usize) -> bool {
    if !text.is_char_boundary(at) {
        return false;
    }
    let Some((c, _)) = char_at(text, at) else {
        return false;
    };
    if !c.is_alphanumeric() {
        return false;
    }
    let Some(before) = text[..at].chars().next_back() else {
        return true;
    };
    if before.is_alphanumeric() {
        return false;
    }
    let apostrophe = is_apostrophe(before) && c.is_alphabetic();
    let separator = (before == '.' || before == ',') && c.is_ascii_digit();
    if !apostrophe && !separator {
        return true;
    }
    // The punctuation joins two words into one when the character before it belongs with it.
    match text[..at - before.len_utf8()].chars().next_back() {
        Some(b) if apostrophe => !b.is_alphabetic(),
        Some(b) => !b.is_ascii_digit(),
        None => true,
    }
}

/// Appends the lower-cased `word` to `out`, without apostrophes and thousands commas.
#[inline]
pub(crate) fn push_lowercase(word: &str, out: &mut String) {
    if word.is_ascii() {
        out.extend(
            word.bytes()
                .filter(|b| !matches!(b, b'\'' | b','))
                .map(|b| b.to_ascii_lowercase() as char),
        );
        return;
    }
    for c in word.chars() {
        if is_apostrophe(c) || c == ',' {
            continue;
        }
        out.extend(c.to_lowercase());
    }
}

impl TokenStream for WordTokenStream<'_> {
    fn advance(&mut self) -> bool {
        let Some((start, end, resume)) = next_word(self.text, self.cursor) else {
            self.cursor = self.text.len();
            return false;
        };
        self.cursor = resume;
        let token = &mut self.token;
        token.offset_from = start;
        token.offset_to = end;
        token.position = token.position.wrapping_add(1);
        token.text.clear();
        push_lowercase(&self.text[start..end], &mut token.text);
        true
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<(String, &str)> {
        let mut analyzer = english();
        let mut out = Vec::new();
        for_each_token(&mut analyzer, text, |t| {
            out.push((t.text.clone(), &text[t.offset_from..t.offset_to]))
        });
        out
    }

    #[test]
    fn possessive_is_cut_from_term_and_range() {
        // Proves "Witkoff’s" indexes as `witkoff` and its range slices "Witkoff".
        assert_eq!(
            words("Witkoff’s and Putin's"),
            [
                ("witkoff".into(), "Witkoff"),
                ("and".into(), "and"),
                ("putin".into(), "Putin")
            ]
        );
    }

    #[test]
    fn folds_diacritics_and_inner_apostrophes() {
        // Proves accents fold and an inner apostrophe joins the word.
        let got: Vec<String> = words("Zelenskýy O’Brien café")
            .into_iter()
            .map(|w| w.0)
            .collect();
        assert_eq!(got, ["zelenskyy", "obrien", "cafe"]);
    }

    #[test]
    fn keeps_numbers_and_splits_hyphens() {
        // Proves decimals and thousands stay one term while hyphenated words split.
        let got: Vec<String> = words("0-dimensional 3.5% of 1,400 IL-6")
            .into_iter()
            .map(|w| w.0)
            .collect();
        assert_eq!(got, ["0", "dimension", "3.5", "of", "1400", "il", "6"]);
    }

    #[test]
    fn word_starts_agree_with_the_scan() {
        // Proves `is_word_start` marks exactly the starts `next_word` finds, tricky cases included.
        for text in [
            "Witkoff’s talks with O’Brien: 3.5% of 1,400 IL-6, x.5 a''b n'5 don't",
            "“Zelenskýy” met Київ’s mayor — 東京 ʼs ’s 'tis 2,5,7 ..9 É,1 ß'x",
            "Putin's, Putin’s. ‘quoted’ rock’n’roll 1.2.3 a.1 1.a",
        ] {
            let mut scanned = Vec::new();
            let mut at = 0;
            while let Some((start, _, resume)) = next_word(text, at) {
                scanned.push(start);
                at = resume;
            }
            let marked: Vec<usize> = (0..text.len())
                .filter(|&i| is_word_start(text, i))
                .collect();
            assert_eq!(marked, scanned, "{text}");
        }
    }

    #[test]
    fn stopword_list_is_sorted() {
        // Proves `is_stopword`'s binary search is valid.
        assert!(STOPWORDS.windows(2).all(|w| w[0] < w[1]));
        assert!(is_stopword("the") && !is_stopword("putin"));
    }

    #[test]
    fn offsets_are_char_boundaries_for_any_text() {
        // Proves ranges never split a UTF-8 character, whatever the script.
        let text = "“Everybody… on both sides.” — Zelenskyy’s Київ 東京 ʼs ’";
        for (_, slice) in words(text) {
            assert!(!slice.is_empty());
        }
    }
}

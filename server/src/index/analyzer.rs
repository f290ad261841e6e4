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
//! 3. tantivy's Snowball English `Stemmer` ("talks" and "talked" → `talk`).
//!
//! Token offsets are byte offsets into the analysed text, never copies.

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, RemoveLongFilter, Stemmer, TextAnalyzer, Token, TokenStream,
    Tokenizer,
};

/// The name the analyzer is registered under in the index's tokenizer manager.
pub const ANALYZER_NAME: &str = "dossier_en";

/// Longest token kept, in bytes; longer ones (base64, URLs without separators) are noise.
const MAX_TOKEN_BYTES: usize = 64;

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
        .filter(Stemmer::new(Language::English))
        .build()
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

impl WordTokenStream<'_> {
    /// Finds the next word's byte range `[start, end)` (possessive already excluded).
    fn next_range(&mut self) -> Option<(usize, usize)> {
        let text = self.text;
        let bytes = text.as_bytes();
        // Skip to the first alphanumeric character.
        let mut start = None;
        for (i, c) in text[self.cursor..].char_indices() {
            if c.is_alphanumeric() {
                start = Some(self.cursor + i);
                break;
            }
        }
        let Some(start) = start else {
            self.cursor = text.len();
            return None;
        };
        let mut end = start;
        let mut chars = text[start..].char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            let at = start + i;
            if c.is_alphanumeric() {
                end = at + c.len_utf8();
                continue;
            }
            let next = chars.peek().map(|&(_, n)| n);
            let prev = text[..at].chars().next_back();
            let inner = |ok: fn(char) -> bool| prev.is_some_and(ok) && next.is_some_and(ok);
            // "O’Brien", "don't": an apostrophe between letters stays inside the word.
            if is_apostrophe(c) && inner(char::is_alphabetic) {
                continue;
            }
            // "3.5", "1,400": a point or comma between digits stays inside the number.
            if (c == '.' || c == ',') && inner(|d| d.is_ascii_digit()) {
                continue;
            }
            break;
        }
        self.cursor = end;
        // Drop a possessive "'s" (the apostrophe is inside the range only when a letter
        // followed it).
        let word = &text[start..end];
        for suffix in ["'s", "’s", "'S", "’S", "ʼs"] {
            if word.len() > suffix.len() && word.ends_with(suffix) {
                return Some((start, end - suffix.len()));
            }
        }
        debug_assert!(end <= bytes.len());
        Some((start, end))
    }
}

impl TokenStream for WordTokenStream<'_> {
    fn advance(&mut self) -> bool {
        let Some((start, end)) = self.next_range() else {
            return false;
        };
        let token = &mut self.token;
        token.offset_from = start;
        token.offset_to = end;
        token.position = token.position.wrapping_add(1);
        token.text.clear();
        for c in self.text[start..end].chars() {
            if is_apostrophe(c) || c == ',' {
                continue;
            }
            token.text.extend(c.to_lowercase());
        }
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

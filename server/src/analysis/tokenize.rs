//! Word tokenisation for news English: the unit every analysis step counts in.
//!
//! Tokens are byte ranges into the original text, never copies, so every later step (entity
//! spans, quote spans, highlights) can point back into the document. The rules follow the
//! Penn Treebank / CoNLL conventions closely enough that a text made of CoNLL tokens joined by
//! spaces tokenises back into (almost exactly) the same tokens:
//!
//! - whitespace separates tokens;
//! - leading and trailing punctuation (quote marks, brackets, commas, dashes) are tokens of
//!   their own, but a word's inner punctuation stays ("go-it-alone", "U.S.", "1,400", "3.5");
//! - a final period stays on abbreviations and initials ("Mr.", "U.S.", "F.") and is split off
//!   ordinary words;
//! - possessive `'s`/`’s` and `n't` are split off ("Witkoff’s" → "Witkoff" + "’s").

use std::ops::Range;

/// One token: a byte range into the text it was cut from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
}

impl Token {
    /// The token's text within `text` (the string it was cut from).
    pub fn text<'a>(&self, text: &'a str) -> &'a str {
        &text[self.start..self.end]
    }

    /// The token as a byte range.
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }
}

/// Characters split off the front or back of a word as tokens of their own.
fn is_edge_punct(c: char) -> bool {
    matches!(
        c,
        '"' | '\''
            | '“'
            | '”'
            | '‘'
            | '’'
            | '«'
            | '»'
            | '„'
            | '‟'
            | '‹'
            | '›'
            | '('
            | ')'
            | '['
            | ']'
            | '{'
            | '}'
            | ','
            | ';'
            | ':'
            | '!'
            | '?'
            | '…'
            | '—'
            | '–'
            | '*'
            | '|'
    )
}

/// Common abbreviations that keep their period (lower-cased, without the period).
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "gen", "sen", "rep", "gov", "lt", "col",
    "sgt", "capt", "cmdr", "adm", "maj", "pres", "rev", "hon", "gov", "supt", "det", "insp", "jan",
    "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "inc", "corp",
    "co", "ltd", "plc", "bros", "vs", "etc", "no", "nos", "vol", "fig", "approx", "dept", "est",
    "mt", "ft", "ave", "blvd", "rd", "u.s", "u.k", "u.n", "e.g", "i.e", "a.m", "p.m", "d.c",
    "ph.d", "calif", "fla", "ill", "mass", "mich", "penn", "tex", "va", "wash", "ariz", "ky", "la",
    "md", "minn", "mo", "nev", "okla", "ore", "tenn", "wis", "conn", "colo", "ga", "kan", "neb",
];

/// True when `word` (without its final period) is an abbreviation or an initial, so the
/// period belongs to it.
pub fn is_abbreviation(word: &str) -> bool {
    let mut chars = word.chars();
    // Initials: "F", "J.R".
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return c.is_uppercase();
    }
    // Dotted acronyms: "U.S", "U.N", "a.m".
    if word.contains('.')
        && word
            .split('.')
            .all(|p| p.chars().count() <= 2 && !p.is_empty())
    {
        return true;
    }
    let lower = word.to_lowercase();
    ABBREVIATIONS.contains(&lower.as_str())
}

/// Splits `text` into tokens.
///
/// # Examples
///
/// ```
/// use dossier_server::analysis::tokenize::tokenize;
/// let text = "Witkoff’s “five-hour” talks in the U.S. cost $1,400.";
/// let words: Vec<&str> = tokenize(text).iter().map(|t| t.text(text)).collect();
/// assert_eq!(words, ["Witkoff", "’s", "“", "five-hour", "”", "talks", "in", "the", "U.S.",
///                    "cost", "$", "1,400", "."]);
/// ```
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::with_capacity(text.len() / 5 + 1);
    let mut start = None;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if let Some(s) = start.take() {
                split_chunk(text, s, i, &mut tokens);
            }
        } else if matches!(c, '—' | '…') {
            // An em dash or an ellipsis separates words even without spaces
            // ("Kissinger—the", "Everybody…on").
            if let Some(s) = start.take() {
                split_chunk(text, s, i, &mut tokens);
            }
            tokens.push(Token {
                start: i,
                end: i + c.len_utf8(),
            });
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        split_chunk(text, s, text.len(), &mut tokens);
    }
    tokens
}

/// Splits one whitespace-free chunk `text[start..end]` into tokens.
fn split_chunk(text: &str, mut start: usize, mut end: usize, out: &mut Vec<Token>) {
    // Leading punctuation, one character a token ("“" "(" …); "$" and "#" too.
    while start < end {
        let c = text[start..end].chars().next().unwrap_or(' ');
        let split_lead = is_edge_punct(c) || matches!(c, '$' | '£' | '€' | '#' | '@' | '-' | '.');
        // Keep "'s"/"'90s"/"-5" style chunks whole when what follows is a digit or the chunk is
        // a lone symbol.
        let rest = &text[start + c.len_utf8()..end];
        if !split_lead || rest.is_empty() {
            break;
        }
        if (c == '-' || c == '.') && rest.starts_with(|d: char| d.is_ascii_digit()) {
            break;
        }
        // CoNLL-style clitics standing alone ("'s", "'re") and decades ("'90s") stay whole.
        if matches!(c, '\'' | '’')
            && (rest.starts_with(|d: char| d.is_ascii_digit())
                || ["s", "S", "re", "ll", "d", "ve", "m", "t"].contains(&rest))
        {
            break;
        }
        if c == '-'
            && !rest.starts_with('-')
            && rest.chars().next().is_some_and(char::is_alphanumeric)
        {
            break;
        }
        out.push(Token {
            start,
            end: start + c.len_utf8(),
        });
        start += c.len_utf8();
    }
    // Trailing punctuation, collected back to front.
    let mut trailing = Vec::new();
    loop {
        if start >= end {
            break;
        }
        let word = &text[start..end];
        let Some(c) = word.chars().next_back() else {
            break;
        };
        let clen = c.len_utf8();
        if word.len() == clen {
            break;
        }
        if c == '.' {
            let stem = &word[..word.len() - 1];
            if stem.ends_with('.') {
                // "..." or "etc.." — split the dots off together.
                let dots = word.len() - word.trim_end_matches('.').len();
                if dots == word.len() {
                    break;
                }
                trailing.push(Token {
                    start: end - dots,
                    end,
                });
                end -= dots;
                continue;
            }
            if is_abbreviation(stem) {
                break;
            }
            trailing.push(Token {
                start: end - 1,
                end,
            });
            end -= 1;
            continue;
        }
        if is_edge_punct(c) {
            // Possessive "s'" (plural possessive): split the apostrophe off as its own token.
            trailing.push(Token {
                start: end - clen,
                end,
            });
            end -= clen;
            continue;
        }
        // Possessive / contraction suffixes.
        let lower_tail =
            |suffix: &[&str]| suffix.iter().find(|s| word.ends_with(**s)).map(|s| s.len());
        if let Some(n) = lower_tail(&["'s", "’s", "'S", "’S"]) {
            if word.len() > n {
                trailing.push(Token {
                    start: end - n,
                    end,
                });
                end -= n;
                continue;
            }
        }
        if let Some(n) = lower_tail(&["n't", "n’t", "N'T"]) {
            if word.len() > n {
                trailing.push(Token {
                    start: end - n,
                    end,
                });
                end -= n;
                continue;
            }
        }
        break;
    }
    if start < end {
        out.push(Token { start, end });
    }
    out.extend(trailing.into_iter().rev());
}

/// True when the token holds a letter or digit (counts as a word in statistics).
pub fn is_word(token: &str) -> bool {
    token.chars().any(char::is_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<&str> {
        tokenize(text).iter().map(|t| t.text(text)).collect()
    }

    #[test]
    fn splits_edge_punctuation_and_keeps_inner() {
        assert_eq!(
            words("(go-it-alone), he said."),
            ["(", "go-it-alone", ")", ",", "he", "said", "."]
        );
    }

    #[test]
    fn keeps_abbreviations_and_initials() {
        assert_eq!(
            words("Mr. John F. Kennedy of the U.S. left."),
            ["Mr.", "John", "F.", "Kennedy", "of", "the", "U.S.", "left", "."]
        );
    }

    #[test]
    fn splits_possessives_and_negations() {
        assert_eq!(
            words("Trump's team didn't"),
            ["Trump", "'s", "team", "did", "n't"]
        );
    }

    #[test]
    fn em_dashes_and_ellipses_split_words() {
        assert_eq!(
            words("Kissinger—the envoy… “Everybody…on"),
            [
                "Kissinger",
                "—",
                "the",
                "envoy",
                "…",
                "“",
                "Everybody",
                "…",
                "on"
            ]
        );
    }

    #[test]
    fn keeps_numbers_whole() {
        assert_eq!(
            words("-5.3% of 1,400 and 1-0"),
            ["-5.3%", "of", "1,400", "and", "1-0"]
        );
    }

    #[test]
    fn conll_tokens_round_trip() {
        let text = "EU rejects German call to boycott British lamb .";
        assert_eq!(words(text).len(), 9);
        let text = "S.AFRICA 's  1,000-year-old \" quote \"";
        assert_eq!(
            words(text),
            ["S.AFRICA", "'s", "1,000-year-old", "\"", "quote", "\""]
        );
    }

    #[test]
    fn offsets_are_char_boundaries_for_any_text() {
        let text = "“Everybody… on both sides.” — Zelenskyy’s Київ 東京.";
        for t in tokenize(text) {
            assert!(
                text.is_char_boundary(t.start) && text.is_char_boundary(t.end) && t.start < t.end
            );
        }
    }
}

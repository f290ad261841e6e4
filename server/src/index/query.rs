//! The two query syntaxes, parsed into one small AST.
//!
//! **QUERY_LANGUAGE** (Lucene-like): words, `"phrases"` (optionally `"…"~N` for slop),
//! `AND`, `OR`, `NOT` (upper case), `+required`, `-excluded`, parentheses, `field:value` for
//! `title`, `text`, `source` (exact) and `id` (exact), `prefix*`, `fuzzy~` / `fuzzy~2`. Words
//! side by side are OR-ed and ranked (Lucene's default operator): `Putin Witkoff` finds
//! documents with either word and ranks those with both first; `+Putin +Witkoff` or
//! `Putin AND Witkoff` requires both. `AND` binds tighter than `OR`. A query made only of
//! exclusions (`-sport`) matches every other document. A malformed query is an
//! [`IndexError::InvalidQuery`] carrying the byte offset of the problem.
//!
//! **PLAIN_TEXT**: any text; its words are analysed and OR-ed. Never an error.

use tantivy::query::Occur;

use super::IndexError;

/// Which field(s) a query item searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// Title and text.
    Default,
    Title,
    Text,
    /// Exact source value.
    Source,
    /// Exact document id.
    Id,
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// Every document.
    All,
    /// A word (analysed later).
    Word { text: String, target: Target },
    /// A quoted phrase.
    Phrase {
        text: String,
        slop: u32,
        target: Target,
    },
    /// A word ending in `*`.
    Prefix { text: String, target: Target },
    /// A word ending in `~` or `~N`.
    Fuzzy {
        text: String,
        distance: u8,
        target: Target,
    },
    /// Clauses with their occurrence.
    Bool(Vec<(Occur, Node)>),
}

/// Largest fuzzy edit distance accepted.
const MAX_FUZZY: u8 = 2;

/// Deepest nesting of parentheses, `NOT`s and fields accepted. The parser recurses once per
/// level (and so do the query built from it and its scorers): without a bound, a query of a
/// few thousand `(` overflowed the stack and aborted the server.
const MAX_NESTING: usize = 32;

/// Parses QUERY_LANGUAGE text.
pub(crate) fn parse(query: &str) -> Result<Node, IndexError> {
    let tokens = lex(query)?;
    let mut parser = Parser {
        query,
        tokens,
        at: 0,
        depth: 0,
    };
    let node = parser.or_list(Target::Default)?;
    if let Some(tok) = parser.peek() {
        let message = match tok.kind {
            Lex::Close => "unmatched ')'".to_string(),
            _ => format!("unexpected {}", tok.describe(query)),
        };
        return Err(invalid(message, tok.start));
    }
    Ok(node.unwrap_or(Node::All))
}

fn invalid(message: impl Into<String>, position: usize) -> IndexError {
    IndexError::InvalidQuery {
        message: message.into(),
        position,
    }
}

/// A lexical token of the query language.
#[derive(Debug, Clone, PartialEq)]
enum Lex {
    Open,
    Close,
    And,
    Or,
    Not,
    /// `+` or `-` glued to the next item.
    Plus,
    Minus,
    /// `name:` glued to a value.
    Field(String),
    /// A quoted phrase and its slop.
    Phrase(String, u32),
    /// A bare word; `*` and `~N` suffixes are parsed later.
    Word(String),
}

#[derive(Debug, Clone)]
struct Tok {
    kind: Lex,
    start: usize,
}

impl Tok {
    fn describe(&self, query: &str) -> String {
        match &self.kind {
            Lex::Open => "'('".into(),
            Lex::Close => "')'".into(),
            Lex::And => "'AND'".into(),
            Lex::Or => "'OR'".into(),
            Lex::Not => "'NOT'".into(),
            Lex::Plus => "'+'".into(),
            Lex::Minus => "'-'".into(),
            Lex::Field(f) => format!("'{f}:'"),
            Lex::Phrase(..) | Lex::Word(_) => {
                let rest = &query[self.start..];
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                format!("'{}'", &rest[..end])
            }
        }
    }
}

/// True for the field names of `field:value`.
fn is_field(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "title" | "text" | "body" | "source" | "id"
    )
}

/// Characters that end a bare word.
fn ends_word(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '"' | '“' | '”')
}

fn lex(query: &str) -> Result<Vec<Tok>, IndexError> {
    let mut out = Vec::new();
    let mut chars = query.char_indices().peekable();
    // True when the previous token leaves a value slot open (`+`, `-`, `field:`).
    let mut glued = false;
    while let Some(&(i, c)) = chars.peek() {
        if c.is_whitespace() {
            if glued {
                return Err(invalid(
                    "an operator or field must be followed by a value",
                    i,
                ));
            }
            chars.next();
            continue;
        }
        let was_glued = std::mem::take(&mut glued);
        match c {
            '(' => {
                chars.next();
                out.push(Tok {
                    kind: Lex::Open,
                    start: i,
                });
            }
            ')' => {
                if was_glued {
                    return Err(invalid(
                        "an operator or field must be followed by a value",
                        i,
                    ));
                }
                chars.next();
                out.push(Tok {
                    kind: Lex::Close,
                    start: i,
                });
            }
            '"' | '“' | '”' => {
                chars.next();
                let body_start = i + c.len_utf8();
                let close = query[body_start..]
                    .find(['"', '”', '“'])
                    .ok_or_else(|| invalid("unclosed quote", i))?;
                let body = &query[body_start..body_start + close];
                let close_len = query[body_start + close..]
                    .chars()
                    .next()
                    .map_or(1, char::len_utf8);
                let mut next = body_start + close + close_len;
                while chars.peek().is_some_and(|&(j, _)| j < next) {
                    chars.next();
                }
                let mut slop = 0u32;
                if query[next..].starts_with('~') {
                    let digits: String = query[next + 1..]
                        .chars()
                        .take_while(char::is_ascii_digit)
                        .collect();
                    slop = digits
                        .parse()
                        .map_err(|_| invalid("'~' after a phrase needs a number", next))?;
                    next += 1 + digits.len();
                    while chars.peek().is_some_and(|&(j, _)| j < next) {
                        chars.next();
                    }
                }
                if chars.peek().is_some_and(|&(_, c)| !ends_word(c)) {
                    let (j, _) = chars.peek().copied().unwrap_or((next, ' '));
                    return Err(invalid("unexpected text after a closing quote", j));
                }
                out.push(Tok {
                    kind: Lex::Phrase(body.to_string(), slop),
                    start: i,
                });
            }
            '+' | '-' if !was_glued => {
                chars.next();
                match chars.peek() {
                    Some(&(_, n)) if !n.is_whitespace() && n != ')' => {}
                    _ => {
                        return Err(invalid(format!("'{c}' must be followed by a term"), i));
                    }
                }
                glued = true;
                out.push(Tok {
                    kind: if c == '+' { Lex::Plus } else { Lex::Minus },
                    start: i,
                });
            }
            _ => {
                let rest = &query[i..];
                let len = rest.find(ends_word).unwrap_or(rest.len());
                let word = &rest[..len];
                for _ in word.chars() {
                    chars.next();
                }
                // `name:value` — a field when `name` is a plain identifier and a value follows.
                if let Some((name, value)) = word.split_once(':') {
                    let is_ident =
                        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphabetic());
                    let value_follows =
                        !value.is_empty() || query[i + len..].starts_with(['(', '"', '“', '”']);
                    if value.is_empty() && !value_follows && is_field(name) {
                        return Err(invalid(format!("field '{name}' needs a value"), i));
                    }
                    if is_ident && value_follows {
                        out.push(Tok {
                            kind: Lex::Field(name.to_ascii_lowercase()),
                            start: i,
                        });
                        if value.is_empty() {
                            glued = true;
                        } else {
                            out.push(Tok {
                                kind: Lex::Word(value.to_string()),
                                start: i + name.len() + 1,
                            });
                        }
                        continue;
                    }
                }
                let kind = match word {
                    "AND" | "&&" if !was_glued => Lex::And,
                    "OR" | "||" if !was_glued => Lex::Or,
                    "NOT" if !was_glued => Lex::Not,
                    _ => Lex::Word(word.to_string()),
                };
                out.push(Tok { kind, start: i });
            }
        }
    }
    if glued {
        return Err(invalid(
            "an operator or field must be followed by a value",
            query.len(),
        ));
    }
    Ok(out)
}

struct Parser<'a> {
    query: &'a str,
    tokens: Vec<Tok>,
    at: usize,
    /// Levels of nesting open at the current token (see [`MAX_NESTING`]).
    depth: usize,
}

impl Parser<'_> {
    /// Opens one level of nesting at byte `at`; callers close it with `self.depth -= 1`
    /// once the nested item is parsed (an error ends the whole parse).
    fn enter(&mut self, at: usize) -> Result<(), IndexError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(invalid(
                format!("nested more than {MAX_NESTING} levels deep"),
                at,
            ));
        }
        Ok(())
    }

    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let tok = self.tokens.get(self.at).cloned();
        self.at += 1;
        tok
    }

    /// True when the next token can start an item.
    fn at_item(&self) -> bool {
        self.peek()
            .is_some_and(|t| !matches!(t.kind, Lex::Close | Lex::And | Lex::Or))
    }

    /// `and_list ( [OR] and_list )*` — side-by-side items are OR-ed (SHOULD).
    fn or_list(&mut self, target: Target) -> Result<Option<Node>, IndexError> {
        let mut clauses = Vec::new();
        loop {
            if let Some(tok) = self.peek() {
                if matches!(tok.kind, Lex::And | Lex::Or) {
                    return Err(invalid(
                        format!("{} needs a term on its left", tok.describe(self.query)),
                        tok.start,
                    ));
                }
            }
            if !self.at_item() {
                break;
            }
            let (occur, node) = self.and_list(target)?;
            clauses.push((occur, node));
            if let Some(tok) = self.peek().cloned() {
                if tok.kind == Lex::Or {
                    self.next();
                    if !self.at_item() {
                        return Err(invalid("'OR' needs a term on its right", tok.start));
                    }
                }
            }
        }
        Ok(match clauses.len() {
            0 => None,
            1 if clauses[0].0 == Occur::Should => {
                Some(clauses.pop().map(|c| c.1).unwrap_or(Node::All))
            }
            _ => Some(Node::Bool(clauses)),
        })
    }

    /// `unary ( AND unary )*`; returns the occurrence the group has in its OR list.
    fn and_list(&mut self, target: Target) -> Result<(Occur, Node), IndexError> {
        let first = self.unary(target)?;
        if self.peek().is_none_or(|t| t.kind != Lex::And) {
            return Ok(first);
        }
        let mut clauses = vec![(must_or(first.0), first.1)];
        while let Some(tok) = self.peek().cloned() {
            if tok.kind != Lex::And {
                break;
            }
            self.next();
            if !self.at_item() {
                return Err(invalid("'AND' needs a term on its right", tok.start));
            }
            let (occur, node) = self.unary(target)?;
            clauses.push((must_or(occur), node));
        }
        Ok((Occur::Should, Node::Bool(clauses)))
    }

    /// `NOT unary | + primary | - primary | primary`.
    fn unary(&mut self, target: Target) -> Result<(Occur, Node), IndexError> {
        let Some(tok) = self.peek().cloned() else {
            return Err(invalid("expected a term", self.query.len()));
        };
        match tok.kind {
            Lex::Not => {
                self.next();
                if !self.at_item() {
                    return Err(invalid("'NOT' must be followed by a term", tok.start));
                }
                self.enter(tok.start)?;
                let (_, node) = self.unary(target)?;
                self.depth -= 1;
                Ok((Occur::MustNot, node))
            }
            Lex::Plus => {
                self.next();
                Ok((Occur::Must, self.primary(target)?))
            }
            Lex::Minus => {
                self.next();
                Ok((Occur::MustNot, self.primary(target)?))
            }
            _ => Ok((Occur::Should, self.primary(target)?)),
        }
    }

    /// `( or_list ) | field: primary | phrase | word`.
    fn primary(&mut self, target: Target) -> Result<Node, IndexError> {
        let Some(tok) = self.next() else {
            return Err(invalid("expected a term", self.query.len()));
        };
        match tok.kind {
            Lex::Open => {
                self.enter(tok.start)?;
                let inner = self.or_list(target)?;
                self.depth -= 1;
                match self.next() {
                    Some(Tok {
                        kind: Lex::Close, ..
                    }) => Ok(inner.unwrap_or(Node::Bool(Vec::new()))),
                    _ => Err(invalid("unclosed '('", tok.start)),
                }
            }
            Lex::Field(name) => {
                let field = match name.as_str() {
                    "title" => Target::Title,
                    "text" | "body" => Target::Text,
                    "source" => Target::Source,
                    "id" => Target::Id,
                    _ => {
                        return Err(invalid(
                            format!("unknown field '{name}' (use title, text, source or id)"),
                            tok.start,
                        ))
                    }
                };
                if target != Target::Default && target != field {
                    return Err(invalid("a field inside another field", tok.start));
                }
                if self
                    .peek()
                    .is_none_or(|t| !matches!(t.kind, Lex::Open | Lex::Phrase(..) | Lex::Word(_)))
                {
                    return Err(invalid(format!("field '{name}' needs a value"), tok.start));
                }
                self.enter(tok.start)?;
                let node = self.primary(field)?;
                self.depth -= 1;
                Ok(node)
            }
            Lex::Phrase(text, slop) => Ok(Node::Phrase { text, slop, target }),
            Lex::Word(word) => word_node(&word, tok.start, target),
            _ => Err(invalid(
                format!("unexpected {}", tok.describe(self.query)),
                tok.start,
            )),
        }
    }
}

/// Inside an AND group, plain items are required.
fn must_or(occur: Occur) -> Occur {
    match occur {
        Occur::Should => Occur::Must,
        other => other,
    }
}

/// A bare word with its optional `*` or `~N` suffix.
fn word_node(word: &str, start: usize, target: Target) -> Result<Node, IndexError> {
    if word == "*" {
        return Ok(Node::All);
    }
    if let Some(stem) = word.strip_suffix('*') {
        if stem.contains(['*', '~']) {
            return Err(invalid("'*' is only allowed at the end of a word", start));
        }
        return Ok(Node::Prefix {
            text: stem.to_string(),
            target,
        });
    }
    if let Some((stem, distance)) = word.rsplit_once('~') {
        if stem.is_empty() {
            return Err(invalid("'~' must follow a word", start));
        }
        let at = start + stem.len();
        let distance = if distance.is_empty() {
            1
        } else {
            distance
                .parse::<u8>()
                .ok()
                .filter(|d| *d <= MAX_FUZZY)
                .ok_or_else(|| invalid("fuzzy distance must be 0, 1 or 2", at))?
        };
        if stem.contains(['*', '~']) {
            return Err(invalid("'~' is only allowed at the end of a word", at));
        }
        return Ok(Node::Fuzzy {
            text: stem.to_string(),
            distance,
            target,
        });
    }
    if word.contains('*') {
        return Err(invalid(
            "'*' is only allowed at the end of a word",
            start + word.find('*').unwrap_or(0),
        ));
    }
    Ok(Node::Word {
        text: word.to_string(),
        target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(t: &str) -> Node {
        Node::Word {
            text: t.into(),
            target: Target::Default,
        }
    }

    fn err_at(q: &str) -> usize {
        match parse(q) {
            Err(IndexError::InvalidQuery { position, .. }) => position,
            other => panic!("{q:?} parsed: {other:?}"),
        }
    }

    #[test]
    fn nesting_is_bounded_instead_of_overflowing_the_stack() {
        // Proves deep nesting is a caller error at the first level too many, not a crash.
        let ok = format!("{}a{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        assert!(parse(&ok).is_ok());
        assert_eq!(err_at(&"(".repeat(100_000)), MAX_NESTING);
        assert_eq!(err_at(&"NOT ".repeat(100_000)), 4 * MAX_NESTING);
        assert_eq!(err_at(&"+(".repeat(100_000)), 2 * MAX_NESTING + 1);
    }

    #[test]
    fn side_by_side_words_are_ored() {
        // Proves the default operator is OR (SHOULD clauses).
        assert_eq!(
            parse("Putin Witkoff").unwrap(),
            Node::Bool(vec![
                (Occur::Should, word("Putin")),
                (Occur::Should, word("Witkoff"))
            ])
        );
    }

    #[test]
    fn and_binds_tighter_than_or() {
        // Proves `a OR b AND c` is `a OR (b AND c)`.
        let Node::Bool(top) = parse("a OR b AND c").unwrap() else {
            panic!()
        };
        assert_eq!(top[0], (Occur::Should, word("a")));
        assert_eq!(
            top[1],
            (
                Occur::Should,
                Node::Bool(vec![(Occur::Must, word("b")), (Occur::Must, word("c"))])
            )
        );
    }

    #[test]
    fn operators_fields_and_suffixes() {
        // Proves +/-/NOT, field:value, phrases with slop, prefix and fuzzy parse as intended.
        let Node::Bool(c) =
            parse(r#"+title:Putin -source:bbc NOT x "peace talks"~2 negot* Zelensky~"#).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            c[0],
            (
                Occur::Must,
                Node::Word {
                    text: "Putin".into(),
                    target: Target::Title
                }
            )
        );
        assert_eq!(c[1].0, Occur::MustNot);
        assert_eq!(c[2], (Occur::MustNot, word("x")));
        assert_eq!(
            c[3].1,
            Node::Phrase {
                text: "peace talks".into(),
                slop: 2,
                target: Target::Default
            }
        );
        assert!(matches!(&c[4].1, Node::Prefix { text, .. } if text == "negot"));
        assert!(matches!(&c[5].1, Node::Fuzzy { text, distance: 1, .. } if text == "Zelensky"));
    }

    #[test]
    fn malformed_queries_report_the_byte_offset() {
        // Proves each kind of mistake is an error pointing at the offending byte.
        assert_eq!(err_at(r#"a "open"#), 2);
        assert_eq!(err_at("a (b c"), 2);
        assert_eq!(err_at("a b)"), 3);
        assert_eq!(err_at("a AND"), 2);
        assert_eq!(err_at("OR a"), 0);
        assert_eq!(err_at("a NOT"), 2);
        assert_eq!(err_at("foo:bar"), 0);
        assert_eq!(err_at("title: x"), 0);
        assert_eq!(err_at("a source:"), 2);
        assert_eq!(err_at("a - b"), 2);
        assert_eq!(err_at("word~5"), 4);
        assert_eq!(err_at("“Київ” x:y"), 15);
    }

    #[test]
    fn harmless_punctuation_is_not_an_error() {
        // Proves colons, hyphens and lower-case operators inside text stay words.
        assert!(parse("Ukraine: go-it-alone and or not 3:1").is_ok());
        assert_eq!(parse("").unwrap(), Node::All);
        assert_eq!(parse("*").unwrap(), Node::All);
    }
}

//! The entry points Dossier's fuzz targets drive, one per target, each taking any bytes.
//!
//! Each function feeds the input through a public engine entry point and checks what the
//! engine promises about its output (offsets inside the text and on character boundaries, in
//! order; ids valid; PLAIN_TEXT queries never an error…), so a fuzzer finds wrong answers as
//! well as panics. The same file is compiled into `server/tests/fuzz_regressions.rs`, which
//! replays every input kept under `server/fuzz/regressions/<target>/` in a normal
//! `cargo test`. It depends on nothing but `dossier_server`.

use dossier_server::analysis::{
    self, checkworthy, claims, ner, quantities, sentences, temporal, tokenize, EntityMention,
};
use dossier_server::corpus::{self, clean, dates, load};
use dossier_server::entities::{DocInput, Registry};
use dossier_server::index::{IndexDoc, IndexError, SearchIndex, SearchQuery, Snapshot, Syntax};
use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// A fuzz target's entry point.
pub type Target = fn(&[u8]);

/// The targets, by name, for the regression replay.
pub const TARGETS: [(&str, Target); 6] = [
    ("corpus", corpus),
    ("clean", clean),
    ("tokenize", tokenize),
    ("entities", entities),
    ("claims", claims),
    ("query", query),
];

/// Text from any bytes, as the loaders read files (invalid UTF-8 replaced).
fn text_of(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// `range` lies inside `text`, forwards, on character boundaries.
fn check_range(text: &str, range: &Range<usize>, what: &str) {
    assert!(
        range.start <= range.end && text.get(range.clone()).is_some(),
        "{what} {range:?} is not a range of the {}-byte text",
        text.len()
    );
}

/// The corpus loaders: the first byte picks the file format (`.txt`, `.md`, `.jsonl`,
/// `.json`), the rest is the file. Every document loaded is valid.
pub fn corpus(data: &[u8]) {
    let (ext, contents) = match data.split_first() {
        Some((b, rest)) => (["txt", "md", "jsonl", "json"][usize::from(*b) % 4], rest),
        None => ("txt", data),
    };
    let name = format!("fuzz.{ext}");
    let Ok(loaded) = load::load_bytes(Path::new(&name), contents, "fuzz") else {
        return;
    };
    for doc in &loaded.documents {
        assert!(corpus::is_valid_id(&doc.id), "invalid id {:?}", doc.id);
        assert!(!doc.text.trim().is_empty(), "a document with empty text");
        let mut again = doc.clone();
        assert!(again.validate().is_ok());
    }
}

/// Page cleaning and the date parser.
pub fn clean(data: &[u8]) {
    let raw = text_of(data);
    let page = clean::clean_page(&raw);
    assert!(!page.title.contains('\n'), "a title is one line");
    assert!(page.removed_chars <= raw.chars().count());
    for line in raw.lines().take(64) {
        let _ = dates::parse_date(line);
    }
}

/// Tokens and sentences: in order, inside the text, on character boundaries.
pub fn tokenize(data: &[u8]) {
    let text = text_of(data);
    let tokens = tokenize::tokenize(&text);
    let mut end = 0;
    for t in &tokens {
        check_range(&text, &t.range(), "token");
        assert!(t.start < t.end, "empty token at {}", t.start);
        assert!(
            t.start >= end,
            "tokens overlap or go backwards at {}",
            t.start
        );
        end = t.end;
    }
    let sents = sentences::split_sentences(&text, &tokens);
    let mut end = 0;
    for s in &sents {
        check_range(&text, s, "sentence");
        assert!(s.start >= end, "sentences overlap at {}", s.start);
        end = s.end;
    }
    let _ = sentences::is_hard_wrapped(&text);
}

/// Mentions are inside the text and on character boundaries.
fn check_mentions(text: &str, mentions: &[EntityMention], what: &str) {
    for m in mentions {
        check_range(text, &(m.start..m.end), what);
    }
}

/// Names, dates and quantities, and the entity registry over them.
pub fn entities(data: &[u8]) {
    let text = text_of(data);
    let tokens = tokenize::tokenize(&text);
    let sents = sentences::split_sentences(&text, &tokens);
    let names = ner::recognize(&text, &tokens, &sents);
    check_mentions(&text, &names, "name");
    let anchor = chrono::NaiveDate::from_ymd_opt(2025, 3, 3);
    let dates = temporal::find_temporal(&text, &tokens, anchor);
    check_mentions(&text, &dates, "date");
    for q in quantities::find_quantities(&text, &tokens) {
        check_range(&text, &q.span, "quantity");
        assert!(!q.value.is_nan(), "NaN quantity at {:?}", q.span);
    }
    let mut mentions = names;
    mentions.extend(dates);
    mentions.sort_by_key(|m| (m.start, m.end));
    let registry = Registry::build([DocInput {
        id: "fuzz",
        text: &text,
        sentences: std::borrow::Cow::Borrowed(&sents),
        mentions: std::borrow::Cow::Borrowed(&mentions),
    }]);
    for e in &registry.entities {
        assert!(!e.name.is_empty() || e.aliases.is_empty());
    }
}

/// Claims (quotes, reported speech, assertions) through the whole pipeline.
pub fn claims(data: &[u8]) {
    let text = text_of(data);
    let a = analysis::analyze(&text, None);
    check_mentions(&text, &a.mentions, "mention");
    for c in &a.claims {
        check_range(&text, &c.content, "claim content");
        check_range(&text, &c.sentence, "claim sentence");
        for s in &c.segments {
            check_range(&text, s, "claim segment");
        }
        if let Some(cue) = &c.cue {
            check_range(&text, cue, "cue");
        }
        if let Some(span) = &c.speaker.span {
            check_range(&text, span, "speaker");
        }
        if let Some(m) = c.speaker.mention {
            assert!(m < a.mentions.len(), "speaker mention {m} out of range");
        }
        if let Some(w) = c.check_worthiness {
            assert!((0.0..=1.0).contains(&w), "check-worthiness {w}");
        }
    }
    // The claims step alone, without mentions, as `extract_claims`'s callers may use it.
    let tokens = tokenize::tokenize(&text);
    let sents = sentences::split_sentences(&text, &tokens);
    let _ = claims::extract_claims(&text, &tokens, &sents, &[]);
    let score = checkworthy::score(&text);
    assert!(score.is_finite(), "check-worthiness score {score}");
}

/// A small index to run fuzzed queries against (built once per process).
fn fuzz_index() -> &'static Arc<Snapshot> {
    static SNAPSHOT: OnceLock<Arc<Snapshot>> = OnceLock::new();
    SNAPSHOT.get_or_init(|| {
        let index = SearchIndex::new_in_ram().expect("an in-memory index");
        let doc = |id: &str, source: &str, text: &str| IndexDoc {
            id: id.into(),
            title: format!("Title {id}"),
            text: text.into(),
            source: source.into(),
            published_at: Some(1_739_836_800),
            sentences: Vec::new(),
        };
        index
            .upsert(&[
                doc(
                    "a1",
                    "wire",
                    "Steve Witkoff met Vladimir Putin in Moscow. The meeting lasted five hours.",
                ),
                doc(
                    "a2",
                    "wire",
                    "A four-hour meeting ended without a breakthrough.",
                ),
                doc(
                    "b1",
                    "blog",
                    "“Everybody loves him,” the president said (twice).",
                ),
                doc(
                    "b2",
                    "blog",
                    "Київ and 東京 appear with emoji 😀 and a-hyphen-word.",
                ),
            ])
            .expect("indexing the fuzz documents");
        index.commit().expect("committing the fuzz index")
    })
}

/// Query parsing in both syntaxes, run against a small index: PLAIN_TEXT never fails, a
/// QUERY_LANGUAGE error points inside the query, and results are consistent.
pub fn query(data: &[u8]) {
    let text = text_of(data);
    let snapshot = fuzz_index();
    for syntax in [Syntax::QueryLanguage, Syntax::PlainText] {
        let query = SearchQuery::new(text.as_ref(), syntax);
        match snapshot.search(&query) {
            Ok(results) => {
                assert!(results.hits.len() as u64 <= results.total_hits);
                for hit in &results.hits {
                    for s in &hit.snippets {
                        check_range(&hit.text, &s.range, "snippet");
                        for h in &s.highlights {
                            check_range(&hit.text, h, "highlight");
                        }
                    }
                }
            }
            Err(IndexError::InvalidQuery { position, .. }) => {
                assert_eq!(syntax, Syntax::QueryLanguage, "PLAIN_TEXT failed: {text:?}");
                assert!(
                    position <= text.len(),
                    "error position {position} past the end"
                );
            }
            Err(e) => panic!("{syntax:?} query {text:?} failed: {e}"),
        }
    }
}

//! Property tests (proptest): any UTF-8 text, and text built from the pieces that trouble
//! text analysis (unbalanced quote marks and parentheses, very long tokens, stray
//! punctuation, scripts other than Latin), goes through every analysis entry point without a
//! panic, within a bound on the CPU time of the calling thread (not wall-clock time, which
//! other work on a loaded machine inflates), and with answers that point inside the text.
//!
//! Case counts are modest so `cargo test` stays fast; `PROPTEST_CASES=5000 cargo test -p
//! dossier-server --test properties` searches harder.

use dossier_server::analysis::{
    self, claims, ner, quantities, sentences, temporal, tokenize, EntityMention,
};
use dossier_server::corpus::{clean, dates, load};
use dossier_server::index::{IndexDoc, IndexError, SearchIndex, SearchQuery, Snapshot, Syntax};
use proptest::prelude::*;
use std::ops::Range;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// The most CPU time one call may take on one input (debug build): inputs are a few KB, so
/// only a super-linear blow-up (say, a backtracking pattern) comes near it.
const TIME_BOUND: Duration = Duration::from_secs(2);

/// CPU time the calling thread has run (Linux `/proc/thread-self/schedstat`, nanoseconds):
/// what the call itself cost, however busy the machine is. `None` where it cannot be read.
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Runs `f`, failing the case if it takes more than [`TIME_BOUND`] of this thread's CPU
/// time (of wall-clock time where the CPU time cannot be read).
fn timed<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, TestCaseError> {
    let (cpu, wall) = (thread_cpu(), Instant::now());
    let out = f();
    let took = match (cpu, thread_cpu()) {
        (Some(before), Some(after)) => after.saturating_sub(before),
        _ => wall.elapsed(),
    };
    prop_assert!(took < TIME_BOUND, "{what} took {took:?} of CPU time");
    Ok(out)
}

/// `range` is forwards, inside `text` and on character boundaries.
fn in_text(text: &str, range: &Range<usize>) -> bool {
    range.start <= range.end && text.get(range.clone()).is_some()
}

fn mentions_in_text(text: &str, mentions: &[EntityMention]) -> bool {
    mentions.iter().all(|m| in_text(text, &(m.start..m.end)))
}

/// Pieces that trouble tokenisers, sentence splitters, quote finders and query parsers.
fn awkward_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("“".to_string()),
        Just("”".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("‘".to_string()),
        Just("’".to_string()),
        Just("«".to_string()),
        Just("»".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just(" said ".to_string()),
        Just(", according to ".to_string()),
        Just("Mr. ".to_string()),
        Just("U.S.".to_string()),
        Just(". ".to_string()),
        Just("\n\n".to_string()),
        Just("\n".to_string()),
        Just(" — ".to_string()),
        Just("...".to_string()),
        Just("$".to_string()),
        Just("%".to_string()),
        Just(" AND ".to_string()),
        Just(" OR ".to_string()),
        Just(" NOT ".to_string()),
        Just("title:".to_string()),
        Just("*".to_string()),
        Just("~".to_string()),
        Just("+".to_string()),
        Just("-".to_string()),
        "[A-Z][a-z]{1,8}",
        "[a-z]{1,10}",
        "[0-9]{1,6}([.,][0-9]{1,3})?",
        "(Friday|March|Jan\\.|2024|five|hours|million|percent|km|officials)",
        "[Ѐ-ӿ一-龥😀-🙏]{1,4}",
        // Very long tokens.
        "[a-zA-Z0-9]{200,3000}",
        "[“”(\"]{50,400}",
    ]
}

/// Text made of awkward pieces, sometimes separated by spaces.
fn awkward_text() -> impl Strategy<Value = String> {
    prop::collection::vec((awkward_piece(), any::<bool>()), 0..120).prop_map(|parts| {
        let mut s = String::new();
        for (p, space) in parts {
            s.push_str(&p);
            if space {
                s.push(' ');
            }
        }
        s
    })
}

/// Any UTF-8 text, or awkward text.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), awkward_text()]
}

fn config() -> ProptestConfig {
    let default = ProptestConfig::default();
    ProptestConfig {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            default.cases
        } else {
            48
        },
        // Shrinking a slow analysis input can take long; keep it bounded.
        max_shrink_iters: 200,
        ..default
    }
}

/// A small index for the query properties (built once).
fn index() -> &'static Arc<Snapshot> {
    static SNAPSHOT: OnceLock<Arc<Snapshot>> = OnceLock::new();
    SNAPSHOT.get_or_init(|| {
        let index = SearchIndex::new_in_ram().unwrap();
        let doc = |id: &str, text: &str| IndexDoc {
            id: id.into(),
            title: format!("Title {id}"),
            text: text.into(),
            source: "wire".into(),
            published_at: None,
            sentences: Vec::new(),
        };
        index
            .upsert(&[
                doc(
                    "a",
                    "Steve Witkoff met Vladimir Putin in Moscow for five hours.",
                ),
                doc("b", "“Everybody loves him,” the president said (twice)."),
                doc("c", "Київ and 東京 appear with emoji 😀 and a-hyphen-word."),
            ])
            .unwrap();
        index.commit().unwrap()
    })
}

proptest! {
    #![proptest_config(config())]

    /// Page cleaning and the loaders take any text: `.txt` pages, and the text as a JSON
    /// record's body; every loaded document is valid.
    #[test]
    fn cleaning_and_loading_take_any_text(text in text()) {
        let page = timed("clean_page", || clean::clean_page(&text))?;
        prop_assert!(!page.title.contains('\n'));
        let html = format!("<html><body><p>{text}</p><script>x()</script></body></html>");
        timed("clean_page on HTML", || clean::clean_page(&html))?;
        timed("parse_date", || dates::parse_date(&text))?;
        let loaded = timed("load_bytes .txt", || {
            load::load_bytes("page.txt".as_ref(), text.as_bytes(), "s")
        })?;
        let loaded = loaded.expect("a page always loads");
        for d in &loaded.documents {
            prop_assert!(dossier_server::corpus::is_valid_id(&d.id));
        }
        let record = serde_json::json!({"id": text, "text": text, "date": text}).to_string();
        let loaded = timed("load_bytes .jsonl", || {
            load::load_bytes("r.jsonl".as_ref(), record.as_bytes(), "s")
        })?;
        prop_assert!(loaded.is_ok(), "a well-formed record loads: {:?}", loaded.err());
        // Arbitrary bytes as JSON: an error or documents, never a panic.
        timed("load_bytes .json", || load::load_bytes("r.json".as_ref(), text.as_bytes(), "s"))?.ok();
    }

    /// Tokens and sentences are in order, inside the text, on character boundaries.
    #[test]
    fn tokens_and_sentences_stay_inside_the_text(text in text()) {
        let tokens = timed("tokenize", || tokenize::tokenize(&text))?;
        let mut end = 0;
        for t in &tokens {
            prop_assert!(in_text(&text, &t.range()) && t.start < t.end && t.start >= end);
            end = t.end;
        }
        let sents = timed("split_sentences", || sentences::split_sentences(&text, &tokens))?;
        let mut end = 0;
        for s in &sents {
            prop_assert!(in_text(&text, s) && s.start >= end);
            end = s.end;
        }
    }

    /// Names, dates and quantities point inside the text.
    #[test]
    fn entities_dates_and_quantities_stay_inside_the_text(text in text()) {
        let tokens = tokenize::tokenize(&text);
        let sents = sentences::split_sentences(&text, &tokens);
        let names = timed("ner::recognize", || ner::recognize(&text, &tokens, &sents))?;
        prop_assert!(mentions_in_text(&text, &names));
        let anchor = chrono::NaiveDate::from_ymd_opt(2025, 3, 3);
        let found = timed("find_temporal", || temporal::find_temporal(&text, &tokens, anchor))?;
        prop_assert!(mentions_in_text(&text, &found));
        let qs = timed("find_quantities", || quantities::find_quantities(&text, &tokens))?;
        for q in &qs {
            prop_assert!(in_text(&text, &q.span) && !q.value.is_nan());
        }
    }

    /// Claims, alone and through the whole pipeline, point inside the text.
    #[test]
    fn claims_and_the_whole_analysis_stay_inside_the_text(text in text()) {
        let tokens = tokenize::tokenize(&text);
        let sents = sentences::split_sentences(&text, &tokens);
        let alone = timed("extract_claims", || claims::extract_claims(&text, &tokens, &sents, &[]))?;
        let a = timed("analyze", || analysis::analyze(&text, None))?;
        prop_assert!(mentions_in_text(&text, &a.mentions));
        for c in alone.iter().chain(&a.claims) {
            prop_assert!(in_text(&text, &c.content) && in_text(&text, &c.sentence));
            prop_assert!(c.segments.iter().all(|s| in_text(&text, s)));
            prop_assert!(c.cue.iter().all(|r| in_text(&text, r)));
            prop_assert!(c.speaker.span.iter().all(|r| in_text(&text, r)));
        }
        prop_assert!(a.sentences.iter().all(|s| in_text(&text, s)));
    }

    /// Query parsing: PLAIN_TEXT never fails; QUERY_LANGUAGE fails only with InvalidQuery
    /// at a position inside the query; hits never exceed the total.
    #[test]
    fn queries_in_both_syntaxes_answer_or_fail_cleanly(text in text()) {
        let snapshot = index();
        for syntax in [Syntax::QueryLanguage, Syntax::PlainText] {
            let query = SearchQuery::new(text.clone(), syntax);
            match timed("search", || snapshot.search(&query))? {
                Ok(r) => prop_assert!(r.hits.len() as u64 <= r.total_hits),
                Err(IndexError::InvalidQuery { position, .. }) => {
                    prop_assert_eq!(syntax, Syntax::QueryLanguage);
                    prop_assert!(position <= text.len());
                }
                Err(e) => prop_assert!(false, "{:?}: {}", syntax, e),
            }
        }
    }
}

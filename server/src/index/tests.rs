//! Behaviour of the whole index on small inline fixtures.

use std::collections::HashSet;
use std::sync::Arc;

use super::*;

const WITKOFF: &str = "Steve Witkoff’s talks with Vladimir Putin lasted five hours. \
    The Kremlin said the meeting was useful. Putin’s aide Yuri Ushakov praised Witkoff.";

fn doc(id: &str, title: &str, text: &str, source: &str, published_at: Option<i64>) -> IndexDoc {
    IndexDoc {
        id: id.into(),
        title: title.into(),
        text: text.into(),
        source: source.into(),
        published_at,
        sentences: Vec::new(),
    }
}

/// Seconds of 2025-02-01, 2025-03-01 and 2025-03-15 (UTC).
const FEB: i64 = 1_738_368_000;
const MAR: i64 = 1_740_787_200;
const MID_MAR: i64 = 1_741_996_800;

fn fixture() -> (SearchIndex, Arc<Snapshot>) {
    let index = SearchIndex::new_in_ram().unwrap();
    index
        .upsert(&[
            doc("w", "Witkoff meets Putin", WITKOFF, "wire", Some(FEB)),
            doc(
                "z",
                "Zelenskyy in Washington",
                "Volodymyr Zelenskyy met Donald Trump at the White House. The talks were tense.",
                "paper",
                Some(MAR),
            ),
            doc(
                "e",
                "Energy prices",
                "Oil prices rose after the talks in Riyadh. Gas prices fell.",
                "wire",
                Some(MID_MAR),
            ),
            doc(
                "u",
                "Undated note",
                "A note about negotiations and a ceasefire in Ukraine.",
                "blog",
                None,
            ),
        ])
        .unwrap();
    let snapshot = index.commit().unwrap();
    (index, snapshot)
}

fn ids(results: &SearchResults) -> Vec<&str> {
    results.hits.iter().map(|h| h.id.as_str()).collect()
}

/// The ids of all hits, sorted.
fn id_set(results: Arc<SearchResults>) -> Vec<String> {
    let mut v: Vec<String> = results.hits.iter().map(|h| h.id.clone()).collect();
    v.sort_unstable();
    v
}

fn search(snapshot: &Snapshot, text: &str) -> Result<Arc<SearchResults>, IndexError> {
    snapshot.search(&SearchQuery::new(text, Syntax::QueryLanguage))
}

fn sorted(mut v: Vec<&str>) -> Vec<&str> {
    v.sort_unstable();
    v
}

#[test]
fn words_are_ored_and_documents_with_both_rank_first() {
    // Proves the default OR conjunction and that matching more words ranks higher.
    let (_, s) = fixture();
    let r = search(&s, "Putin talks").unwrap();
    assert_eq!(r.total_hits, 3);
    assert_eq!(r.hits[0].id, "w");
    assert_eq!(r.hits[0].rank, 1);
}

#[test]
fn boolean_operators_fields_prefix_and_fuzzy() {
    // Proves AND, NOT, +/-, field:value, phrases, prefix* and fuzzy~ select the right documents.
    let (_, s) = fixture();
    let got = |q: &str| id_set(search(&s, q).unwrap());
    assert_eq!(got("talks AND prices"), ["e"]);
    assert_eq!(got("talks NOT prices"), ["w", "z"]);
    assert_eq!(got("+talks -source:wire"), ["z"]);
    assert_eq!(got("-talks"), ["u"]);
    assert_eq!(got("title:putin"), ["w"]);
    assert_eq!(got("source:blog"), ["u"]);
    assert_eq!(got(r#""five hours""#), ["w"]);
    assert!(got(r#""hours five""#).is_empty());
    assert_eq!(got("negotiat*"), ["u"]);
    assert_eq!(got("Zelensky~"), ["z"]);
    assert!(got("Zelensky").is_empty());
    assert_eq!(got("(oil OR gas) AND riyadh"), ["e"]);
}

#[test]
fn malformed_query_is_an_error_with_its_position() {
    // Proves a syntax error surfaces as InvalidQuery with the byte offset.
    let (_, s) = fixture();
    match search(&s, "Putin AND (talks") {
        Err(IndexError::InvalidQuery { position, .. }) => assert_eq!(position, 10),
        other => panic!("{other:?}"),
    }
}

#[test]
fn plain_text_never_fails() {
    // Proves PLAIN_TEXT accepts anything, including query-language syntax errors.
    let (_, s) = fixture();
    for q in [
        "Putin AND (",
        "\"unclosed",
        "foo:bar -",
        "***",
        "",
        "“”’",
        "NOT",
    ] {
        let r = s
            .search(&SearchQuery::new(q, Syntax::PlainText))
            .unwrap_or_else(|e| panic!("{q:?}: {e}"));
        assert!(r.total_hits <= 4);
    }
    let r = s
        .search(&SearchQuery::new("Putin’s AND (", Syntax::PlainText))
        .unwrap();
    assert_eq!(r.hits[0].id, "w");
}

#[test]
fn empty_query_matches_every_document() {
    // Proves "" and "*" match all documents with an exact total.
    let (_, s) = fixture();
    assert_eq!(search(&s, "").unwrap().total_hits, 4);
    assert_eq!(search(&s, "*").unwrap().total_hits, 4);
}

#[test]
fn filters_restrict_matches() {
    // Proves source, date range, document id and allowed-id filters all apply (AND-ed).
    let (_, s) = fixture();
    let run = |filter: Filter| {
        let q = SearchQuery {
            filter,
            ..SearchQuery::new("", Syntax::QueryLanguage)
        };
        id_set(s.search(&q).unwrap())
    };
    let sources = Filter {
        sources: vec!["wire".into()],
        ..Filter::default()
    };
    assert_eq!(run(sources), ["e", "w"]);
    let march = Filter {
        published_after: Some(MAR),
        published_before: Some(MID_MAR),
        ..Filter::default()
    };
    assert_eq!(run(march), ["z"]);
    let listed = Filter {
        document_ids: vec!["u".into(), "w".into()],
        allowed_ids: Some(vec!["w".into(), "z".into()]),
        ..Filter::default()
    };
    assert_eq!(run(listed), ["w"]);
    let none = Filter {
        allowed_ids: Some(Vec::new()),
        ..Filter::default()
    };
    assert!(run(none).is_empty());
}

#[test]
fn date_orders_put_undated_last() {
    // Proves NEWEST and OLDEST sort by date with undated documents at the end.
    let (_, s) = fixture();
    let run = |order| {
        let q = SearchQuery {
            order,
            ..SearchQuery::new("", Syntax::QueryLanguage)
        };
        s.search(&q)
            .unwrap()
            .hits
            .iter()
            .map(|h| h.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(run(SortOrder::Newest), ["e", "z", "w", "u"]);
    assert_eq!(run(SortOrder::Oldest), ["w", "z", "e", "u"]);
}

#[test]
fn facets_and_matching_ids_cover_all_matches() {
    // Proves facets count every matching document (not just the page) and ids are complete.
    let (_, s) = fixture();
    let q = SearchQuery {
        limit: 1,
        facets: vec![FacetField::Source, FacetField::Month],
        with_matching_ids: true,
        ..SearchQuery::new("talks", Syntax::QueryLanguage)
    };
    let r = s.search(&q).unwrap();
    assert_eq!(r.hits.len(), 1);
    assert_eq!(r.total_hits, 3);
    assert_eq!(r.facets[0].field, FacetField::Source);
    assert_eq!(
        r.facets[0].values,
        [("wire".to_string(), 2), ("paper".to_string(), 1)]
    );
    assert_eq!(
        r.facets[1].values,
        [("2025-03".to_string(), 2), ("2025-02".to_string(), 1)]
    );
    let all: HashSet<String> = r.matching_ids.clone().unwrap().into_iter().collect();
    assert_eq!(all, ["w", "z", "e"].map(String::from).into());
}

#[test]
fn pages_concatenate_to_the_full_ranking() {
    // Proves offset/limit pages neither repeat nor skip hits and ranks continue across pages.
    let (_, s) = fixture();
    let all = SearchQuery {
        limit: 100,
        ..SearchQuery::new("", Syntax::QueryLanguage)
    };
    let full: Vec<String> = s
        .search(&all)
        .unwrap()
        .hits
        .iter()
        .map(|h| h.id.clone())
        .collect();
    let mut paged = Vec::new();
    for offset in (0..4).step_by(3) {
        let q = SearchQuery {
            offset,
            limit: 3,
            ..all.clone()
        };
        for h in &s.search(&q).unwrap().hits {
            assert_eq!(h.rank, paged.len() + 1);
            paged.push(h.id.clone());
        }
    }
    assert_eq!(paged, full);
}

#[test]
fn snapshots_are_isolated_from_later_writes() {
    // Proves an old snapshot keeps its documents and ranking while new ones are committed.
    let (index, before) = fixture();
    index
        .upsert(&[doc("n", "New", "Putin again", "wire", None)])
        .unwrap();
    index.delete("w");
    let after = index.commit().unwrap();
    assert_eq!(sorted(ids(&search(&before, "putin").unwrap())), ["w"]);
    assert_eq!(sorted(ids(&search(&after, "putin").unwrap())), ["n"]);
    assert_eq!(
        index.snapshot_at(before.generation()).unwrap().generation(),
        before.generation()
    );
    assert!(after.generation() > before.generation());
}

#[test]
fn upsert_replaces_by_id() {
    // Proves the same id indexed twice leaves one document, the latest.
    let (index, _) = fixture();
    index
        .upsert(&[doc("w", "Replaced", "Nothing about him now", "wire", None)])
        .unwrap();
    let s = index.commit().unwrap();
    assert_eq!(s.num_docs(), 4);
    assert!(search(&s, "Witkoff").unwrap().hits.is_empty());
    assert_eq!(s.get("w").unwrap().unwrap().title, "Replaced");
}

#[test]
fn old_generations_expire() {
    // Proves only the configured number of recent generations stays reachable.
    let options = IndexOptions {
        keep_generations: 2,
        ..IndexOptions::default()
    };
    let index = SearchIndex::with_options(options).unwrap();
    let first = index.commit().unwrap().generation();
    for _ in 0..3 {
        index.commit().unwrap();
    }
    assert!(index.snapshot_at(first).is_none());
    assert!(index.snapshot_at(index.snapshot().generation()).is_some());
}

#[test]
fn stream_yields_every_hit_in_page_order_and_stops_when_dropped() {
    // Proves the hit stream equals the paged ranking, counts exactly, and does no work once
    // dropped.
    let (index, s) = fixture();
    let q = SearchQuery {
        limit: 100,
        ..SearchQuery::new("talks OR prices OR note", Syntax::QueryLanguage)
    };
    let paged: Vec<String> = s
        .search(&q)
        .unwrap()
        .hits
        .iter()
        .map(|h| h.id.clone())
        .collect();
    let stream = s.hits(&q).unwrap();
    assert_eq!(stream.total_hits(), 4);
    let streamed: Vec<String> = stream.map(|h| h.unwrap().id).collect();
    assert_eq!(streamed, paged);
    let before = index.metrics().streamed_hits.load(Ordering::Relaxed);
    let mut stream = s.hits(&q).unwrap();
    stream.next();
    drop(stream);
    assert_eq!(
        index.metrics().streamed_hits.load(Ordering::Relaxed),
        before + 1
    );
}

#[test]
fn highlights_slice_query_words_and_possessive_stems() {
    // Proves "Witkoff Putin" highlights slice "Witkoff"/"Putin" out of "Witkoff’s"/"Putin’s".
    let (_, s) = fixture();
    let r = search(&s, "Witkoff Putin").unwrap();
    let hit = &r.hits[0];
    assert!(!hit.snippets.is_empty());
    let mut words = Vec::new();
    for snippet in &hit.snippets {
        assert_eq!(&WITKOFF[snippet.range.clone()], snippet.text);
        for h in &snippet.highlights {
            words.push(&WITKOFF[h.clone()]);
        }
    }
    assert!(
        words.iter().all(|w| *w == "Witkoff" || *w == "Putin"),
        "{words:?}"
    );
    assert!(words.len() >= 4, "{words:?}");
}

#[test]
fn more_like_this_excludes_the_document_itself() {
    // Proves more-like-this finds related documents, never the source, and rejects unknown ids.
    let (_, s) = fixture();
    let r = s.more_like_this("z", 10, None).unwrap();
    assert!(!ids(&r).contains(&"z"));
    assert!(!r.hits.is_empty());
    assert!(matches!(
        s.more_like_this("nope", 10, None),
        Err(IndexError::DocumentNotFound(_))
    ));
}

#[test]
fn fingerprint_tells_queries_apart_but_not_pages() {
    // Proves page tokens can detect a changed query or filter but survive a changed page.
    let a = SearchQuery::new("putin", Syntax::QueryLanguage);
    let page2 = SearchQuery {
        offset: 10,
        ..a.clone()
    };
    let other = SearchQuery::new("trump", Syntax::QueryLanguage);
    let filtered = SearchQuery {
        filter: Filter {
            sources: vec!["wire".into()],
            ..Filter::default()
        },
        ..a.clone()
    };
    assert_eq!(a.fingerprint(), page2.fingerprint());
    assert_ne!(a.fingerprint(), other.fingerprint());
    assert_ne!(a.fingerprint(), filtered.fingerprint());
}

#[test]
fn repeated_searches_come_from_the_cache_unchanged() {
    // Proves a request that repeats is cached (from its second run on) and answered from
    // the cache with identical results, and a new generation is searched afresh.
    let (index, s) = fixture();
    let q = SearchQuery::new("Putin talks", Syntax::QueryLanguage);
    let first = s.search(&q).unwrap();
    let hits = index.metrics().cache_hits.load(Ordering::Relaxed);
    assert_eq!(s.search(&q).unwrap(), first);
    assert_eq!(index.metrics().cache_hits.load(Ordering::Relaxed), hits);
    assert!(s.cached(&q).is_some());
    assert_eq!(s.search(&q).unwrap(), first);
    assert_eq!(index.metrics().cache_hits.load(Ordering::Relaxed), hits + 2);
    index
        .upsert(&[doc("n", "Putin", "Putin talks again.", "wire", None)])
        .unwrap();
    let next = index.commit().unwrap();
    assert_eq!(next.search(&q).unwrap().total_hits, first.total_hits + 1);
}

/// Proves an excluded phrase whose first match comes after the first candidate document
/// excludes correctly and does not trip tantivy's backwards-seek assertion (a fuzz find).
#[test]
fn excluding_a_phrase_that_matches_later_documents_works() {
    let index = SearchIndex::new_in_ram().unwrap();
    index
        .upsert(&[
            doc("a", "One", "talks began; prices of oil", "wire", None),
            doc("b", "Two", "talks ended; oil prices rose", "wire", None),
            doc("c", "Three", "talks paused; oil prices fell", "wire", None),
        ])
        .unwrap();
    let snapshot = index.commit().unwrap();
    let results = snapshot
        .search(&SearchQuery::new(
            "talks -\"oil prices\"",
            Syntax::QueryLanguage,
        ))
        .unwrap();
    let ids: Vec<&str> = results.hits.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["a"]);
    let results = snapshot
        .search(&SearchQuery::new(
            "talks AND NOT \"oil prices\"",
            Syntax::QueryLanguage,
        ))
        .unwrap();
    assert_eq!(results.total_hits, 1);
}

#[test]
fn merging_segments_keeps_every_result() {
    // Proves `merge_segments` leaves one segment and changes no answer: pages, totals and
    // snippets are the same before and after, and the merge is a new generation.
    let index = SearchIndex::new_in_ram().unwrap();
    index.suspend_merges();
    for batch in 0..4 {
        let docs: Vec<IndexDoc> = (0..5)
            .map(|i| {
                let id = format!("d{batch}{i}");
                let text = format!("Oil prices rose {i} times in batch {batch}. Talks went on.");
                doc(&id, "Prices", &text, "wire", Some(FEB + i64::from(i)))
            })
            .collect();
        index.upsert(&docs).unwrap();
        index.commit().unwrap();
    }
    let before = index.snapshot();
    assert_eq!(before.num_segments(), 4);
    let query = SearchQuery::new("oil talks", Syntax::QueryLanguage);
    let expected = before.search(&query).unwrap();
    assert_eq!(index.merge_segments().unwrap(), 4);
    let after = index.snapshot();
    assert_eq!(after.num_segments(), 1);
    assert_eq!(after.generation(), before.generation() + 1);
    // The generations before the merge are dropped (their segments' memory with them).
    assert!(index.snapshot_at(before.generation()).is_none());
    let got = after.search(&query).unwrap();
    assert_eq!(got.total_hits, expected.total_hits);
    let page = |r: &SearchResults| -> Vec<(String, Vec<String>)> {
        r.hits
            .iter()
            .map(|h| {
                (
                    h.id.clone(),
                    h.snippets.iter().map(|s| s.text.clone()).collect(),
                )
            })
            .collect()
    };
    assert_eq!(page(&got), page(&expected));
    // Nothing left to merge.
    assert_eq!(index.merge_segments().unwrap(), 0);
}

/// 1,500 documents: every one says "common", the first 1,200 also "beta" (the first ten of
/// them many times, in short texts), and one in fifty "rare".
fn counting_fixture() -> Arc<Snapshot> {
    let index = SearchIndex::new_in_ram().unwrap();
    let docs: Vec<IndexDoc> = (0..1500)
        .map(|i| {
            let text = match i {
                0..10 => "beta beta beta common".to_string(),
                10..1200 => format!("beta then a common word and filler number {i}"),
                _ => format!("only the common word here and filler number {i}"),
            };
            let text = if i % 50 == 0 {
                format!("{text} rare")
            } else {
                text
            };
            doc(&format!("c{i:04}"), "Counting", &text, "wire", None)
        })
        .collect();
    index.upsert(&docs).unwrap();
    index.commit().unwrap()
}

#[test]
fn total_hits_is_a_lower_bound_past_the_threshold_and_the_page_stays_exact() {
    // Proves counting stops past EXACT_TOTAL_HITS_UP_TO only when it cannot change the
    // page: the count is then a lower bound at or above the threshold, marked
    // GreaterOrEqual, and the hits (ids and scores) equal those of an exact count.
    let snapshot = counting_fixture();
    let mut query = SearchQuery::new("beta common", Syntax::QueryLanguage);
    let pruned = snapshot.search(&query).unwrap();
    query.exact_total_hits = true;
    let exact = snapshot.search(&query).unwrap();
    assert_eq!(exact.total_hits, 1500);
    assert_eq!(exact.total_hits_relation, TotalHitsRelation::Equal);
    assert_eq!(
        pruned.total_hits_relation,
        TotalHitsRelation::GreaterOrEqual
    );
    assert!(pruned.total_hits >= EXACT_TOTAL_HITS_UP_TO && pruned.total_hits < 1500);
    let page = |r: &SearchResults| -> Vec<(String, f32)> {
        r.hits.iter().map(|h| (h.id.clone(), h.score)).collect()
    };
    assert_eq!(page(&pruned), page(&exact));
    assert_eq!(ids(&exact)[0], "c0001"); // c0000 is longer: it also says "rare"
}

#[test]
fn total_hits_stays_exact_up_to_the_threshold() {
    // Proves a query with at most EXACT_TOTAL_HITS_UP_TO matches is counted exactly, and
    // that counting never stops while fewer than that many matches are counted.
    let snapshot = counting_fixture();
    let few = snapshot
        .search(&SearchQuery::new("rare beta", Syntax::QueryLanguage))
        .unwrap();
    // The 30 "rare" documents are scored first, below the threshold: nothing is cut.
    assert_eq!(few.total_hits, 1206);
    assert_eq!(few.total_hits_relation, TotalHitsRelation::Equal);
    let rare = snapshot
        .search(&SearchQuery::new("rare", Syntax::QueryLanguage))
        .unwrap();
    assert_eq!(
        (rare.total_hits, rare.total_hits_relation),
        (30, TotalHitsRelation::Equal)
    );
}

#[test]
fn deep_pages_of_a_pruned_count_equal_the_exact_ranking() {
    // Proves every page of a query whose count is a lower bound holds the same hits as the
    // exactly counted ranking, also past the first page.
    let snapshot = counting_fixture();
    for offset in [0, 10, 90, 500] {
        let mut query = SearchQuery::new("beta common", Syntax::QueryLanguage);
        query.offset = offset;
        let pruned = snapshot.search(&query).unwrap();
        query.exact_total_hits = true;
        let exact = snapshot.search(&query).unwrap();
        assert_eq!(ids(&pruned), ids(&exact), "offset {offset}");
    }
}

#[test]
fn only_plain_short_pages_count_as_small() {
    // Proves the inline-search estimate accepts a few plain words and rejects what can
    // be costly: expansions, many words, filters, facets, deep pages.
    let (_, snapshot) = fixture();
    let small = |text: &str, edit: fn(&mut SearchQuery)| {
        let mut q = SearchQuery::new(text, Syntax::QueryLanguage);
        edit(&mut q);
        snapshot.is_small(&q)
    };
    assert!(small("oil prices", |_| {}));
    assert!(small("U.S. oil-prices", |_| {}));
    assert!(!small("pri*", |_| {}));
    assert!(!small("oil~1", |_| {}));
    assert!(!small("title:oil", |_| {}));
    assert!(!small("one two three four five", |_| {}));
    assert!(!small("oil", |q| q.filter.sources = vec!["wire".into()]));
    assert!(!small("oil", |q| q.facets = vec![FacetField::Source]));
    assert!(!small("oil", |q| q.offset = 500));
    assert!(!small("oil", |q| q.order = SortOrder::Newest));
}

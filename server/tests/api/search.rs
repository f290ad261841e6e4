//! SearchService end to end: paging on snapshots, streaming with cancellation, highlights
//! in every encoding, errors.

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use crate::common::{doc, TestServer};
use dossier_api::v1::{
    corpus_service_client::CorpusServiceClient, search_service_client::SearchServiceClient,
    Document, EncodingType, GetDocumentRequest, IngestDocumentsRequest, MoreLikeThisRequest,
    QuerySyntax, SearchRequest,
};
use dossier_server::corpus::Document as CorpusDocument;
use tokio_stream::StreamExt;
use tonic::Code;
use tonic_types::StatusExt;

/// `n` documents about a ceasefire from two sources.
fn corpus(n: usize) -> Vec<CorpusDocument> {
    (0..n)
        .map(|i| {
            doc(
                &format!("d{i:04}"),
                if i % 2 == 0 { "wire" } else { "blog" },
                &format!("Ceasefire talks, day {i}. Envoys met {} times.", i % 7 + 1),
            )
        })
        .collect()
}

fn request(query: &str) -> SearchRequest {
    SearchRequest {
        query: query.into(),
        ..Default::default()
    }
}

/// StreamSearch of a query matching every document yields exactly `total_hits` hits, in
/// rank order.
#[tokio::test]
async fn stream_of_match_all_yields_exactly_total_hits() {
    let server = TestServer::with_docs(corpus(250)).await;
    let mut client = SearchServiceClient::new(server.channel.clone());
    let total = client
        .search(request(""))
        .await
        .unwrap()
        .into_inner()
        .total_hits;
    assert_eq!(total, 250);
    let hits: Vec<_> = client
        .stream_search(request(""))
        .await
        .unwrap()
        .into_inner()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(hits.len() as i64, total);
    let ranks: Vec<i32> = hits.iter().map(|h| h.rank).collect();
    assert_eq!(ranks, (1..=250).collect::<Vec<_>>());
    let ids: HashSet<_> = hits.iter().map(|h| h.document_id.clone()).collect();
    assert_eq!(ids.len(), 250);
}

/// A client that cancels after 10 hits stops the server's work: the engine's hit counter
/// stops far below the 2000 matches once the stream is closed. (The server runs ahead of the
/// client only by the channel bound plus what HTTP/2 flow control lets it buffer.)
#[tokio::test]
async fn cancelling_a_stream_after_ten_hits_stops_the_work() {
    let server = TestServer::with_docs(corpus(2000)).await;
    let metrics = || server.store.index().metrics();
    let mut client = SearchServiceClient::new(server.channel.clone());
    let mut stream = client
        .stream_search(request("ceasefire"))
        .await
        .unwrap()
        .into_inner();
    for _ in 0..10 {
        stream.next().await.unwrap().unwrap();
    }
    drop(stream);
    // Wait (bounded) for the server to notice and drop its hit stream.
    let closed = async {
        while metrics().streams_closed.load(Ordering::Relaxed) == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), closed)
        .await
        .expect("the server stops streaming after the client goes away");
    let produced = metrics().streamed_hits.load(Ordering::Relaxed);
    assert!(
        produced < 500,
        "{produced} hits produced for a client that read 10"
    );
    tokio::task::yield_now().await;
    assert_eq!(metrics().streamed_hits.load(Ordering::Relaxed), produced);
}

/// Paging through results while another task ingests matching documents never repeats or
/// skips a hit: every page comes from the snapshot of the first.
#[tokio::test]
async fn paging_while_ingesting_never_repeats_or_skips() {
    let server = TestServer::with_docs(corpus(60)).await;
    let mut search = SearchServiceClient::new(server.channel.clone());
    let mut corpus_client = CorpusServiceClient::new(server.channel.clone());
    let ingest = tokio::spawn(async move {
        for i in 0..40 {
            let doc = Document {
                id: format!("new{i:03}"),
                title: "Ceasefire ceasefire".into(),
                text: "Ceasefire ceasefire ceasefire, a late and very relevant report.".into(),
                source: "wire".into(),
                ..Default::default()
            };
            let requests = tokio_stream::iter(vec![IngestDocumentsRequest {
                document: Some(doc),
            }]);
            let mut responses = corpus_client
                .ingest_documents(requests)
                .await
                .unwrap()
                .into_inner();
            while let Some(r) = responses.next().await {
                assert!(r.unwrap().error.is_none());
            }
        }
    });
    let mut seen = Vec::new();
    let mut token = String::new();
    let mut total = None;
    loop {
        let page = search
            .search(SearchRequest {
                page_size: 7,
                page_token: token.clone(),
                ..request("ceasefire")
            })
            .await
            .unwrap()
            .into_inner();
        total.get_or_insert(page.total_hits);
        assert_eq!(
            Some(page.total_hits),
            total,
            "every page has the first page's total"
        );
        for h in page.hits {
            assert_eq!(h.rank as usize, seen.len() + 1);
            seen.push(h.document_id);
        }
        tokio::task::yield_now().await;
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    ingest.await.unwrap();
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no hit repeated");
    assert_eq!(seen.len() as i64, total.unwrap(), "no hit skipped");
    assert_eq!(
        seen.len(),
        60 + seen.iter().filter(|id| id.starts_with("new")).count()
    );
    // A fresh search sees the ingested documents.
    let after = search
        .search(request("ceasefire"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(after.total_hits, 100);
}

/// On the seeds, every highlight of "Witkoff Putin" slices a query word out of
/// GetDocument's text, with UTF-8 and with UTF-16 offsets.
#[tokio::test]
async fn witkoff_putin_highlights_slice_query_words_in_utf8_and_utf16() {
    let seeds = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../seeds"));
    let docs = dossier_server::corpus::load::load_paths(&[seeds])
        .unwrap()
        .documents;
    let server = TestServer::with_docs(docs).await;
    let mut search = SearchServiceClient::new(server.channel.clone());
    let mut corpus = CorpusServiceClient::new(server.channel.clone());
    for encoding in [EncodingType::Utf8, EncodingType::Utf16] {
        let response = search
            .search(SearchRequest {
                encoding: encoding as i32,
                ..request("Witkoff Putin")
            })
            .await
            .unwrap()
            .into_inner();
        assert!(response.total_hits >= 3, "{}", response.total_hits);
        let mut highlights = 0;
        for hit in response.hits {
            let text = corpus
                .get_document(GetDocumentRequest {
                    id: hit.document_id.clone(),
                })
                .await
                .unwrap()
                .into_inner()
                .text;
            let slice = |begin: i64, end: i64| match encoding {
                EncodingType::Utf16 => {
                    let units: Vec<u16> = text.encode_utf16().collect();
                    String::from_utf16(&units[begin as usize..end as usize]).unwrap()
                }
                _ => text[begin as usize..end as usize].to_string(),
            };
            for snippet in hit.snippets {
                let span = snippet.span.unwrap();
                assert_eq!(slice(span.begin, span.end), snippet.text);
                for h in snippet.highlights {
                    let word = slice(h.begin, h.end);
                    assert_eq!(word, h.text);
                    assert!(
                        ["witkoff", "putin"].contains(&word.to_lowercase().as_str()),
                        "{word:?} in {}",
                        hit.document_id
                    );
                    highlights += 1;
                }
            }
        }
        assert!(highlights >= 10, "{highlights} highlights");
    }
}

/// Caller mistakes are INVALID_ARGUMENT: a malformed query (with its position and a
/// BadRequest naming `query`), a negative page size, a token replayed with another query.
#[tokio::test]
async fn caller_mistakes_are_invalid_arguments() {
    let server = TestServer::with_docs(corpus(30)).await;
    let mut client = SearchServiceClient::new(server.channel.clone());
    let status = client
        .search(request("talks AND (envoys"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("position 10"),
        "{}",
        status.message()
    );
    let details = status.get_error_details();
    assert_eq!(
        details.bad_request().unwrap().field_violations[0].field,
        "query"
    );
    let plain = client
        .search(SearchRequest {
            syntax: QuerySyntax::PlainText as i32,
            ..request("talks AND (envoys")
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(plain.total_hits, 30);
    let negative = client
        .search(SearchRequest {
            page_size: -1,
            ..request("talks")
        })
        .await
        .unwrap_err();
    assert_eq!(negative.code(), Code::InvalidArgument);
    let first = client
        .search(SearchRequest {
            page_size: 5,
            ..request("talks")
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!first.next_page_token.is_empty());
    let replayed = client
        .search(SearchRequest {
            page_token: first.next_page_token,
            ..request("envoys")
        })
        .await
        .unwrap_err();
    assert_eq!(replayed.code(), Code::InvalidArgument);
}

/// Page sizes are coerced (0 → 10, above 100 → 100) and facets count all matches.
#[tokio::test]
async fn page_sizes_are_coerced_and_facets_count_everything() {
    let server = TestServer::with_docs(corpus(150)).await;
    let mut client = SearchServiceClient::new(server.channel.clone());
    let default = client
        .search(request("ceasefire"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(default.hits.len(), 10);
    let capped = client
        .search(SearchRequest {
            page_size: 1000,
            facets: vec!["source".into()],
            ..request("ceasefire")
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(capped.hits.len(), 100);
    let source = &capped.facets[0];
    assert_eq!(source.name, "source");
    let counts: Vec<(String, i64)> = source
        .values
        .iter()
        .map(|v| (v.value.clone(), v.count))
        .collect();
    assert_eq!(counts, [("blog".to_string(), 75), ("wire".to_string(), 75)]);
}

/// MoreLikeThis returns similar documents but never the document itself.
#[tokio::test]
async fn more_like_this_excludes_the_document() {
    let server = TestServer::with_docs(corpus(20)).await;
    let mut client = SearchServiceClient::new(server.channel.clone());
    let response = client
        .more_like_this(MoreLikeThisRequest {
            document_id: "d0003".into(),
            page_size: 5,
            encoding: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!response.hits.is_empty());
    assert!(response.hits.iter().all(|h| h.document_id != "d0003"));
    let missing = client
        .more_like_this(MoreLikeThisRequest {
            document_id: "nope".into(),
            page_size: 5,
            encoding: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
}

/// Past 1,000 matches a page may come with a lower bound: `total_hits_relation` says so,
/// paging goes on, and `exact_total_hits` gives the exact count with the same hits.
#[tokio::test]
async fn total_hits_relation_and_exact_count_over_the_wire() {
    use dossier_api::v1::TotalHitsRelation;
    let docs: Vec<CorpusDocument> = (0..1500)
        .map(|i| {
            let text = if i < 1200 {
                format!("Beta beta report {i} with a common ending.")
            } else {
                format!("Gamma report {i} with a common ending.")
            };
            doc(&format!("d{i:04}"), "wire", &text)
        })
        .collect();
    let server = TestServer::with_docs(docs).await;
    let mut client = SearchServiceClient::new(server.channel.clone());
    let bounded = client
        .search(request("beta common"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        bounded.total_hits_relation,
        TotalHitsRelation::GreaterOrEqual as i32
    );
    assert!(
        (1000..1500).contains(&bounded.total_hits),
        "{}",
        bounded.total_hits
    );
    assert!(!bounded.next_page_token.is_empty());
    let exact = client
        .search(SearchRequest {
            exact_total_hits: true,
            ..request("beta common")
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(exact.total_hits, 1500);
    assert_eq!(exact.total_hits_relation, TotalHitsRelation::Equal as i32);
    let ids = |r: &dossier_api::v1::SearchResponse| -> Vec<String> {
        r.hits.iter().map(|h| h.document_id.clone()).collect()
    };
    assert_eq!(ids(&bounded), ids(&exact));
    // Few matches: always exact.
    let few = client.search(request("gamma")).await.unwrap().into_inner();
    assert_eq!(
        (few.total_hits, few.total_hits_relation),
        (300, TotalHitsRelation::Equal as i32)
    );
}

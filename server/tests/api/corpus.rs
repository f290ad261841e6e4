//! CorpusService end to end.

use crate::common::{fixture, TestServer};
use dossier_api::v1::{
    corpus_service_client::CorpusServiceClient, DeleteDocumentRequest, Document,
    GetCorpusStatsRequest, GetDocumentRequest, IngestDocumentsRequest, ListDocumentsRequest,
};
use tokio_stream::StreamExt;
use tonic::Code;

fn ingest_request(id: &str, text: &str) -> IngestDocumentsRequest {
    IngestDocumentsRequest {
        document: Some(Document {
            id: id.into(),
            title: "T".into(),
            text: text.into(),
            source: "test".into(),
            ..Default::default()
        }),
    }
}

/// A bad document in the middle of a stream fails alone, naming its field.
#[tokio::test]
async fn ingest_answers_each_document_and_a_bad_one_fails_alone() {
    let server = TestServer::with_docs(vec![]).await;
    let mut client = CorpusServiceClient::new(server.channel.clone());
    let requests = tokio_stream::iter(vec![
        ingest_request("x1", "First text."),
        ingest_request("x2", ""),
        ingest_request("x3", "Third text."),
    ]);
    let responses: Vec<_> = client
        .ingest_documents(requests)
        .await
        .unwrap()
        .into_inner()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(responses.len(), 3);
    assert!(responses[0].created && responses[2].created);
    let error = responses[1]
        .error
        .as_ref()
        .expect("the empty document fails");
    assert_eq!(
        (error.code.as_str(), error.field.as_str()),
        ("INVALID_ARGUMENT", "document.text")
    );
    assert_eq!(
        responses.iter().map(|r| r.index).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    let stats = client
        .get_corpus_stats(GetCorpusStatsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stats.documents, 2);
    server.stop().await.unwrap();
}

/// A long stream goes in as group commits, and its answers stay one per document, in order:
/// bad documents fail alone wherever they are, a repeated id is created once then replaced,
/// and every acknowledged document is searchable when its answer arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_stream_keeps_the_order_and_the_errors_of_its_answers() {
    let server = TestServer::with_docs(vec![]).await;
    let mut client = CorpusServiceClient::new(server.channel.clone());
    let requests: Vec<_> = (0..300)
        .map(|i| match i {
            _ if i % 37 == 5 => ingest_request(&format!("g{i}"), ""),
            _ if i % 50 == 49 => ingest_request("again", &format!("Version {i}.")),
            _ => ingest_request(&format!("g{i}"), &format!("Groupcommit text number {i}.")),
        })
        .collect();
    let mut answers = client
        .ingest_documents(tokio_stream::iter(requests))
        .await
        .unwrap()
        .into_inner();
    let mut search =
        dossier_api::v1::search_service_client::SearchServiceClient::new(server.channel.clone());
    let mut seen = 0;
    while let Some(answer) = answers.next().await {
        let answer = answer.unwrap();
        let i = seen;
        seen += 1;
        assert_eq!(answer.index, i as i64);
        if i % 37 == 5 {
            assert_eq!(answer.error.unwrap().field, "document.text");
            continue;
        }
        assert!(answer.error.is_none(), "{answer:?}");
        if i % 50 == 49 {
            assert_eq!((answer.id.as_str(), answer.created), ("again", i == 49));
            continue;
        }
        assert_eq!(answer.id, format!("g{i}"));
        assert!(answer.created);
        if i % 60 == 0 {
            // Searchable once acknowledged.
            let hits = search
                .search(dossier_api::v1::SearchRequest {
                    query: format!("\"number {i}\""),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .hits;
            assert!(hits.iter().any(|h| h.document_id == answer.id), "{i}");
        }
    }
    assert_eq!(seen, 300);
    let bad = (0..300).filter(|i| i % 37 == 5).count();
    let repeated = (0..300).filter(|i| i % 50 == 49 && i % 37 != 5).count();
    let stats = client
        .get_corpus_stats(GetCorpusStatsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stats.documents as usize, 300 - bad - repeated + 1);
    server.stop().await.unwrap();
}

/// Ingesting an existing id replaces it (created = false) and the new text is served.
#[tokio::test]
async fn ingest_is_idempotent_by_id() {
    let server = TestServer::with_docs(fixture()).await;
    let mut client = CorpusServiceClient::new(server.channel.clone());
    let r = client
        .ingest_documents(tokio_stream::iter(vec![ingest_request(
            "a1",
            "Replaced text.",
        )]))
        .await
        .unwrap()
        .into_inner()
        .next()
        .await
        .unwrap()
        .unwrap();
    assert!(!r.created && r.error.is_none());
    let d = client
        .get_document(GetDocumentRequest { id: "a1".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(d.text, "Replaced text.");
    assert_eq!(
        client
            .get_corpus_stats(GetCorpusStatsRequest {})
            .await
            .unwrap()
            .into_inner()
            .documents,
        5
    );
}

/// Unknown ids are NOT_FOUND and empty ids INVALID_ARGUMENT, for get and delete.
#[tokio::test]
async fn unknown_and_empty_ids_get_clear_errors() {
    let server = TestServer::with_docs(fixture()).await;
    let mut client = CorpusServiceClient::new(server.channel.clone());
    assert_eq!(
        client
            .get_document(GetDocumentRequest { id: "nope".into() })
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    assert_eq!(
        client
            .get_document(GetDocumentRequest { id: "".into() })
            .await
            .unwrap_err()
            .code(),
        Code::InvalidArgument
    );
    assert_eq!(
        client
            .delete_document(DeleteDocumentRequest { id: "nope".into() })
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    client
        .delete_document(DeleteDocumentRequest { id: "a1".into() })
        .await
        .unwrap();
    assert_eq!(
        client
            .get_document(GetDocumentRequest { id: "a1".into() })
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
}

/// Paging with page_size 2 visits every document once, in id order; tokens are bound to
/// their request.
#[tokio::test]
async fn list_documents_pages_through_everything_once() {
    let server = TestServer::with_docs(fixture()).await;
    let mut client = CorpusServiceClient::new(server.channel.clone());
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_documents(ListDocumentsRequest {
                page_size: 2,
                page_token: token,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.documents.len() <= 2);
        assert_eq!(page.total_size, 5);
        seen.extend(page.documents.into_iter().map(|d| d.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, ["a1", "a2", "b1", "b2", "b3"]);

    let first = client
        .list_documents(ListDocumentsRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let other = ListDocumentsRequest {
        page_size: 1,
        page_token: first.next_page_token,
        source: "blog".into(),
        include_text: false,
    };
    assert_eq!(
        client.list_documents(other).await.unwrap_err().code(),
        Code::InvalidArgument,
        "a token replayed with another filter is rejected"
    );
    let negative = ListDocumentsRequest {
        page_size: -1,
        ..Default::default()
    };
    assert_eq!(
        client.list_documents(negative).await.unwrap_err().code(),
        Code::InvalidArgument
    );
    let blog = client
        .list_documents(ListDocumentsRequest {
            source: "blog".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(blog.documents.len(), 3);
}

/// The real seeds load clean: furniture gone, article paragraphs kept, date read.
#[tokio::test]
async fn seed_article_is_served_without_page_furniture() {
    let seeds = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../seeds"));
    let loaded = dossier_server::corpus::load::load_paths(&[seeds]).unwrap();
    assert_eq!(loaded.documents.len(), 5);
    let server = TestServer::with_docs(loaded.documents).await;
    let mut client = CorpusServiceClient::new(server.channel.clone());
    let d = client
        .get_document(GetDocumentRequest {
            id: "002_92e74acb2171691d".into(),
        })
        .await
        .unwrap()
        .into_inner();
    for junk in [
        "Humidity: 83%",
        "Privacy & Cookie Notice",
        "Subscribe to receive",
    ] {
        assert!(!d.text.contains(junk), "{junk}");
    }
    assert!(d
        .text
        .contains("Nahal Toosi and Jack Detsch contributed to this report."));
    assert!(d.published_at.is_some());
}

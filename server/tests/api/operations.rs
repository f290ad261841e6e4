//! Health, reflection, readiness gating, compression, graceful shutdown and persistence.

use crate::common::{fixture, TestServer};
use dossier_api::v1::{
    corpus_service_client::CorpusServiceClient, Document, GetCorpusStatsRequest,
    GetDocumentRequest, IngestDocumentsRequest,
};
use dossier_server::store::Store;
use tokio_stream::StreamExt;
use tonic::codec::CompressionEncoding;
use tonic::Code;
use tonic_health::pb::{
    health_check_response::ServingStatus, health_client::HealthClient, HealthCheckRequest,
};

/// Health says NOT_SERVING (and services UNAVAILABLE) until the corpus is loaded, then SERVING.
#[tokio::test]
async fn health_turns_serving_only_when_the_corpus_is_loaded() {
    let server = TestServer::start(Store::new()).await;
    let mut health = HealthClient::new(server.channel.clone());
    let check = |service: &str| HealthCheckRequest {
        service: service.into(),
    };
    assert_eq!(
        health.check(check("")).await.unwrap().into_inner().status,
        ServingStatus::NotServing as i32
    );
    let mut corpus = CorpusServiceClient::new(server.channel.clone());
    assert_eq!(
        corpus
            .get_corpus_stats(GetCorpusStatsRequest {})
            .await
            .unwrap_err()
            .code(),
        Code::Unavailable
    );

    let mut watch = health
        .watch(check("dossier.v1.SearchService"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        watch.next().await.unwrap().unwrap().status,
        ServingStatus::NotServing as i32
    );
    server.store.set_ready();
    assert_eq!(
        watch.next().await.unwrap().unwrap().status,
        ServingStatus::Serving as i32
    );
    assert_eq!(
        health.check(check("")).await.unwrap().into_inner().status,
        ServingStatus::Serving as i32
    );
    assert!(corpus
        .get_corpus_stats(GetCorpusStatsRequest {})
        .await
        .is_ok());
}

/// Both reflection versions list the four dossier services and health.
#[tokio::test]
async fn reflection_v1_and_v1alpha_list_every_service() {
    use tonic_reflection::pb::{v1, v1alpha};
    let server = TestServer::with_docs(vec![]).await;
    let want = [
        "dossier.v1.ClaimService",
        "dossier.v1.CorpusService",
        "dossier.v1.EntityService",
        "dossier.v1.SearchService",
        "grpc.health.v1.Health",
    ];

    let mut client =
        v1::server_reflection_client::ServerReflectionClient::new(server.channel.clone());
    let request = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(v1::server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    };
    let response = client
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner()
        .next()
        .await
        .unwrap()
        .unwrap();
    let Some(v1::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        response.message_response
    else {
        panic!("not a list")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for w in want {
        assert!(names.iter().any(|n| n == w), "v1 lacks {w}: {names:?}");
    }

    let mut client =
        v1alpha::server_reflection_client::ServerReflectionClient::new(server.channel.clone());
    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            v1alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
        ),
    };
    let response = client
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner()
        .next()
        .await
        .unwrap()
        .unwrap();
    let Some(v1alpha::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        response.message_response
    else {
        panic!("not a list")
    };
    assert!(list
        .service
        .iter()
        .any(|s| s.name == "dossier.v1.CorpusService"));
}

/// gzip-compressed requests and responses work.
#[tokio::test]
async fn gzip_both_ways() {
    let server = TestServer::with_docs(fixture()).await;
    let mut client = CorpusServiceClient::new(server.channel.clone())
        .send_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Gzip);
    let d = client
        .get_document(GetDocumentRequest { id: "b3".into() })
        .await
        .unwrap()
        .into_inner();
    assert!(d.text.contains("東京"));
}

/// A call in flight when shutdown begins completes, and `serve` then returns Ok.
#[tokio::test]
async fn shutdown_drains_a_call_in_flight() {
    let mut server = TestServer::with_docs(vec![]).await;
    let mut client = CorpusServiceClient::new(server.channel.clone());
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let mut responses = client
        .ingest_documents(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    let doc = |id: &str| IngestDocumentsRequest {
        document: Some(Document {
            id: id.into(),
            text: "Some text.".into(),
            ..Default::default()
        }),
    };
    tx.send(doc("before")).await.unwrap();
    assert!(responses.next().await.unwrap().unwrap().created);
    server.begin_shutdown();
    tx.send(doc("during")).await.unwrap();
    assert!(
        responses.next().await.unwrap().unwrap().created,
        "the stream still answers while draining"
    );
    drop(tx);
    assert!(responses.next().await.is_none(), "the stream ends cleanly");
    assert!(server.store.snapshot().get("during").is_ok());
    server.stop().await.unwrap();
}

/// With a data directory, an acknowledged ingest survives a restart.
#[tokio::test]
async fn ingested_documents_survive_a_restart_with_a_data_dir() {
    let dir = std::env::temp_dir().join(format!("dossier-e2e-data-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = Store::new();
    store.attach_data_dir(&dir).unwrap();
    store.set_ready();
    let server = TestServer::start(store).await;
    let mut client = CorpusServiceClient::new(server.channel.clone());
    let request = IngestDocumentsRequest {
        document: Some(Document {
            id: "kept".into(),
            text: "Durable text.".into(),
            ..Default::default()
        }),
    };
    let r = client
        .ingest_documents(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner()
        .next()
        .await
        .unwrap()
        .unwrap();
    assert!(r.error.is_none());
    server.stop().await.unwrap();

    let store = Store::new();
    assert_eq!(store.attach_data_dir(&dir).unwrap(), 1);
    assert_eq!(
        store.snapshot().get("kept").unwrap().doc.text,
        "Durable text."
    );
}

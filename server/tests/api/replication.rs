//! PostgreSQL as the system of record, end to end on a real (throwaway) PostgreSQL: replicas
//! on loopback agree (stats, search, entities), deletes and concurrent writes propagate,
//! `kill -9` of a replica and a database restart lose nothing acknowledged. Each test prints
//! its lag figures (`cargo test … -- --nocapture`) and skips, saying why, without PostgreSQL.

use crate::common::TestServer;
use crate::pg;
use crate::robustness::ChildServer;
use dossier_api::v1::{
    corpus_service_client::CorpusServiceClient, entity_service_client::EntityServiceClient,
    search_service_client::SearchServiceClient, DeleteDocumentRequest, Document,
    GetCorpusStatsRequest, GetDocumentRequest, IngestDocumentsRequest, IngestDocumentsResponse,
    ListDocumentsRequest, ListEntitiesRequest, SearchRequest,
};
use dossier_server::rpc::STORE_HEALTH;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio_stream::StreamExt;
use tonic::transport::Channel;
use tonic::Code;
use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};

const NAMES: [&str; 6] = [
    "Steve Witkoff",
    "Vladimir Putin",
    "Angela Merkel",
    "Olaf Scholz",
    "Emmanuel Macron",
    "Keir Starmer",
];
const CITIES: [&str; 4] = ["Moscow", "Berlin", "Paris", "Istanbul"];

/// A small news-like document, different for every `i`.
fn request(id: &str, i: usize) -> IngestDocumentsRequest {
    let (a, b) = (NAMES[i % 6], NAMES[(i / 6 + 1 + i) % 6]);
    let text = format!(
        "{a} met {b} in {} on Friday for report {i}. The talks lasted {} hours, officials said.",
        CITIES[i % 4],
        i % 9 + 1
    );
    IngestDocumentsRequest {
        document: Some(Document {
            id: id.into(),
            title: format!("Report {i}"),
            text,
            source: format!("wire-{}", i % 3),
            ..Default::default()
        }),
    }
}

/// Ingests `docs` over one stream; returns the answers and when the last one came.
async fn ingest(
    channel: Channel,
    docs: Vec<IngestDocumentsRequest>,
) -> (Vec<IngestDocumentsResponse>, Instant) {
    let mut answers = CorpusServiceClient::new(channel)
        .ingest_documents(tokio_stream::iter(docs))
        .await
        .unwrap()
        .into_inner();
    let mut all = Vec::new();
    while let Some(answer) = answers.next().await {
        all.push(answer.unwrap());
    }
    (all, Instant::now())
}

async fn document_count(channel: Channel) -> i64 {
    CorpusServiceClient::new(channel)
        .list_documents(ListDocumentsRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .total_size
}

/// Waits until `channel`'s server lists `n` documents; returns how long that took.
async fn until_count(channel: Channel, n: i64, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let count = document_count(channel.clone()).await;
        if count == n {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "{count} documents after {limit:?}, expected {n}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Every document id and text a server holds.
async fn contents(channel: Channel) -> BTreeMap<String, String> {
    let mut client = CorpusServiceClient::new(channel);
    let mut all = BTreeMap::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_documents(ListDocumentsRequest {
                page_size: 1000,
                page_token: token,
                include_text: true,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        all.extend(page.documents.into_iter().map(|d| (d.id, d.text)));
        if page.next_page_token.is_empty() {
            return all;
        }
        token = page.next_page_token;
    }
}

/// What a replica answers to the questions the replicas must agree on.
async fn view(channel: Channel) -> (String, Vec<(String, String, i64)>, Vec<String>) {
    let stats = CorpusServiceClient::new(channel.clone())
        .get_corpus_stats(GetCorpusStatsRequest {})
        .await
        .unwrap()
        .into_inner();
    let entities = EntityServiceClient::new(channel.clone())
        .list_entities(ListEntitiesRequest {
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entities
        .into_iter()
        .map(|e| (e.id, e.name, i64::from(e.mention_count)))
        .collect();
    let found = SearchServiceClient::new(channel)
        .search(SearchRequest {
            query: "Putin Moscow".into(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    // Hits of equal score come in index order, which depends on how each replica's
    // segments were cut: compare (score, id) sorted, leaving out the last score's ties
    // (the page may cut them anywhere), and the total.
    let last = found.hits.last().map_or(0.0, |h| h.score);
    let mut hits: Vec<String> = found
        .hits
        .iter()
        .filter(|h| h.score > last)
        .map(|h| format!("{:.4} {}", h.score, h.document_id))
        .collect();
    hits.sort();
    hits.push(format!("total {}", found.total_hits));
    // Index bytes depend on how each replica's segments happened to be cut.
    let counts = format!(
        "documents {} words {} sentences {} entities {} claims {} mentions {}",
        stats.documents,
        stats.words,
        stats.sentences,
        stats.entities,
        stats.claims,
        stats.entity_mentions
    );
    (counts, entities, hits)
}

async fn store_health(channel: Channel) -> i32 {
    HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: STORE_HEALTH.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .status
}

/// Three replicas and one database: 1,000 documents ingested through A are visible through
/// B and C, which then agree with A on stats, entities (same ids) and search; a delete
/// through B disappears from C. Prints the lags.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_agree_and_follow_ingest_and_delete() {
    let Some(pg) = pg::shared() else { return };
    let url = pg.database().await;
    let a = TestServer::start(pg::replica(&url).await).await;
    let b = TestServer::start(pg::replica(&url).await).await;
    let c = TestServer::start(pg::replica(&url).await).await;

    let docs: Vec<_> = (0..1000)
        .map(|i| request(&format!("r-{i:04}"), i))
        .collect();
    let started = Instant::now();
    let (answers, last_ack) = ingest(a.channel.clone(), docs).await;
    let ingest_time = started.elapsed();
    assert_eq!(answers.len(), 1000);
    assert!(answers.iter().all(|r| r.error.is_none() && r.created));
    // Read-your-writes: the replica that took the writes lists them all at once.
    assert_eq!(document_count(a.channel.clone()).await, 1000);
    let lag_b = until_count(b.channel.clone(), 1000, Duration::from_secs(60)).await;
    let lag_c = until_count(c.channel.clone(), 1000, Duration::from_secs(60)).await;
    let visible = last_ack.elapsed();
    println!(
        "1000 docs through A in {ingest_time:?}; visible on B {lag_b:?}, on C {:?} after the last ack",
        lag_b + lag_c
    );
    println!("all three agree {visible:?} after the last ack");

    let view_a = view(a.channel.clone()).await;
    assert_eq!(view_a.0.split(' ').nth(1), Some("1000"));
    assert!(
        !view_a.1.is_empty() && view_a.2.len() > 10,
        "{:?}",
        view_a.2
    );
    assert_eq!(view(b.channel.clone()).await, view_a);
    assert_eq!(view(c.channel.clone()).await, view_a);

    let deleted_at = Instant::now();
    CorpusServiceClient::new(b.channel.clone())
        .delete_document(DeleteDocumentRequest {
            id: "r-0007".into(),
        })
        .await
        .unwrap();
    let lag_delete = until_count(c.channel.clone(), 999, Duration::from_secs(30)).await;
    println!(
        "a delete through B gone from C {:?} after it was acknowledged ({lag_delete:?} of polling)",
        deleted_at.elapsed()
    );
    let missing = CorpusServiceClient::new(c.channel.clone())
        .get_document(GetDocumentRequest {
            id: "r-0007".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    until_count(a.channel.clone(), 999, Duration::from_secs(30)).await;
    assert_eq!(store_health(c.channel.clone()).await, 1, "SERVING");
    for server in [a, b, c] {
        server.stop().await.unwrap();
    }
}

/// Concurrent ingest through all three replicas, some ids written through two of them:
/// every replica ends with every id once, and the same text for each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_ingest_through_three_replicas_loses_and_duplicates_nothing() {
    let Some(pg) = pg::shared() else { return };
    let url = pg.database().await;
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(TestServer::start(pg::replica(&url).await).await);
    }
    let mut tasks = Vec::new();
    for (r, server) in replicas.iter().enumerate() {
        // 150 ids of its own, and 30 shared with the next replica.
        let mut docs: Vec<_> = (0..150)
            .map(|i| request(&format!("own-{r}-{i}"), r * 1000 + i))
            .collect();
        docs.extend(
            (0..30).map(|i| request(&format!("shared-{}-{i}", (r + 1) % 3), r * 1000 + 500 + i)),
        );
        docs.extend((0..30).map(|i| request(&format!("shared-{r}-{i}"), r * 1000 + 700 + i)));
        let channel = server.channel.clone();
        tasks.push(tokio::spawn(async move { ingest(channel, docs).await.0 }));
    }
    for task in tasks {
        let answers = task.await.unwrap();
        assert_eq!(answers.len(), 210);
        assert!(answers.iter().all(|a| a.error.is_none()), "{answers:?}");
    }
    let expected = 3 * 150 + 3 * 30;
    for server in &replicas {
        until_count(server.channel.clone(), expected, Duration::from_secs(60)).await;
    }
    // Each replica may still be applying another's later version of a shared id: wait until
    // all three hold the same documents, each id once.
    let started = Instant::now();
    loop {
        let mut views = Vec::new();
        for server in &replicas {
            views.push(contents(server.channel.clone()).await);
        }
        assert!(views.iter().all(|v| v.len() == expected as usize));
        if views.windows(2).all(|w| w[0] == w[1]) {
            println!(
                "three replicas agree on {expected} documents {:?} after the last ack",
                started.elapsed()
            );
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "replicas disagree"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for server in replicas {
        server.stop().await.unwrap();
    }
}

/// PostgreSQL stopped and started under load: writes answer UNAVAILABLE (with a retry
/// hint) while it is down and nothing refused is applied; the replicas keep serving their
/// snapshot and report disconnected, reconnect, and catch up; every acknowledged write is
/// on both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restart_under_load_loses_no_acknowledged_write() {
    let Some(pg) = pg::dedicated("restart") else {
        return;
    };
    let (client, connection) = tokio_postgres::connect(&pg.url("postgres"), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .batch_execute("CREATE DATABASE restart")
        .await
        .unwrap();
    drop(client);
    let url = pg.url("restart");
    let a = TestServer::start(pg::replica(&url).await).await;
    let b = TestServer::start(pg::replica(&url).await).await;

    // A writer through A: one document per call, retried on UNAVAILABLE, for 400 ids.
    let channel = a.channel.clone();
    let writer = tokio::spawn(async move {
        let mut acked = Vec::new();
        let mut refused = 0usize;
        let mut i = 0;
        let started = Instant::now();
        while i < 400 {
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "writes never came back"
            );
            let id = format!("load-{i}");
            let (answers, _) = ingest(channel.clone(), vec![request(&id, i)]).await;
            match &answers[0].error {
                None => {
                    acked.push(id);
                    i += 1;
                }
                Some(e) => {
                    assert_eq!(e.code, "UNAVAILABLE", "{e:?}");
                    assert!(e.message.contains("retry"), "{e:?}");
                    refused += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        (acked, refused)
    });
    until_count(b.channel.clone(), 50, Duration::from_secs(60)).await;
    pg.stop();
    let stopped = Instant::now();
    // B keeps serving its snapshot, and says it is disconnected.
    loop {
        if store_health(b.channel.clone()).await == 2 {
            break;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(10),
            "B never noticed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(document_count(b.channel.clone()).await >= 50);
    tokio::time::sleep(Duration::from_millis(500)).await;
    pg.start_again().unwrap();
    let restarted = Instant::now();
    loop {
        if store_health(b.channel.clone()).await == 1 {
            break;
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(30),
            "B never reconnected"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let reconnected = restarted.elapsed();
    let seen = document_count(a.channel.clone()).await;
    until_count(b.channel.clone(), seen, Duration::from_secs(30)).await;
    println!(
        "B SERVING again {reconnected:?} after the restart, caught up with A ({seen} docs) {:?} after it",
        restarted.elapsed()
    );
    let (acked, refused) = writer.await.unwrap();
    println!(
        "database down {:?}: {refused} writes refused UNAVAILABLE, all {} later acknowledged",
        restarted - stopped,
        acked.len()
    );
    assert!(refused > 0, "the writer never met the database down");
    let caught_up = until_count(b.channel.clone(), 400, Duration::from_secs(60)).await;
    println!("B had all 400 {caught_up:?} after the last acknowledgement");
    let on_b = contents(b.channel.clone()).await;
    let on_a = contents(a.channel.clone()).await;
    for id in &acked {
        assert!(on_a.contains_key(id) && on_b.contains_key(id), "{id} lost");
    }
    assert_eq!(on_a, on_b);
    assert_eq!(store_health(b.channel.clone()).await, 1, "SERVING again");
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

/// `kill -9` of a replica (the real binary with `--store`) in the middle of an ingest
/// stream, then a restart: every acknowledged document is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_a_replica_during_ingest_loses_nothing_acknowledged() {
    let Some(pg) = pg::shared() else { return };
    let url = pg.database().await;
    let empty = std::env::temp_dir().join(format!("dossier-pg-kill9-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let server = ChildServer::start(&empty, &["--store", &url]);
    let docs: Vec<_> = (0..400).map(|i| request(&format!("k-{i}"), i)).collect();
    let mut answers = CorpusServiceClient::new(server.channel().await)
        .ingest_documents(tokio_stream::iter(docs))
        .await
        .unwrap()
        .into_inner();
    let mut acked = Vec::new();
    while let Some(Ok(answer)) = answers.next().await {
        assert!(answer.error.is_none(), "{answer:?}");
        acked.push(answer.id);
        if acked.len() == 120 {
            break;
        }
    }
    server.kill_9();
    drop(answers);
    let server = ChildServer::start(&empty, &["--store", &url]);
    let present = contents(server.channel().await).await;
    println!(
        "kill -9 after {} acks: {} documents after the restart",
        acked.len(),
        present.len()
    );
    for id in &acked {
        assert!(present.contains_key(id), "{id} acknowledged, then lost");
    }
    server.kill_9();
    let _ = std::fs::remove_dir_all(&empty);
}

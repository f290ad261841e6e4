//! Robustness end to end: hostile input over gRPC (pathological quote marks and
//! parentheses, very long tokens, invalid UTF-8 on the wire, a 64 MiB request), a 1 ms
//! deadline that stops the work, `kill -9` and a torn journal with `--data-dir` (the real
//! binary as a child process), concurrent ingest, search and streaming, and graceful shutdown
//! under load.

use crate::common::{doc, fixture, TestServer};
use dossier_api::v1::{
    analyze_entities_request, claim_service_client::ClaimServiceClient,
    corpus_service_client::CorpusServiceClient, entity_service_client::EntityServiceClient,
    extract_claims_request, search_service_client::SearchServiceClient, AnalyzeEntitiesRequest,
    Document, ExtractClaimsRequest, GetDocumentRequest, IngestDocumentsRequest, QuerySyntax,
    SearchRequest,
};
use dossier_server::metrics::Metrics;
use dossier_server::rpc::ServeOptions;
use dossier_server::store::Store;
use prost::bytes::{Buf, BufMut};
use prost::Message;
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_stream::StreamExt;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Status};
use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};
use tonic_types::StatusExt;

fn analyze(text: String) -> AnalyzeEntitiesRequest {
    AnalyzeEntitiesRequest {
        source: Some(analyze_entities_request::Source::Text(text)),
        ..Default::default()
    }
}

fn extract(text: String) -> ExtractClaimsRequest {
    ExtractClaimsRequest {
        source: Some(extract_claims_request::Source::Text(text)),
        ..Default::default()
    }
}

fn ingest_request(id: &str, text: &str) -> IngestDocumentsRequest {
    IngestDocumentsRequest {
        document: Some(Document {
            id: id.into(),
            title: format!("Title of {id}"),
            text: text.into(),
            source: "robust".into(),
            ..Default::default()
        }),
    }
}

/// Ingests documents over one stream; panics unless every one is acknowledged.
async fn ingest(channel: Channel, docs: Vec<IngestDocumentsRequest>) {
    let n = docs.len();
    let mut answers = CorpusServiceClient::new(channel)
        .ingest_documents(tokio_stream::iter(docs))
        .await
        .unwrap()
        .into_inner();
    for _ in 0..n {
        let answer = answers.next().await.unwrap().unwrap();
        assert!(answer.error.is_none(), "{answer:?}");
    }
}

async fn serving(channel: Channel) -> bool {
    let check = HealthClient::new(channel)
        .check(HealthCheckRequest::default())
        .await;
    check.is_ok_and(|r| r.into_inner().status == 1)
}

/// The texts that trouble quote finders, sentence splitters, tokenisers and query parsers.
fn hostile_texts() -> Vec<(&'static str, String)> {
    vec![
        ("opening quote marks", "“".repeat(20_000)),
        (
            "unbalanced mixed quotes",
            "“He said ‘no” and ”she‘ said “ « » \" ' ".repeat(1_000),
        ),
        (
            "nested parentheses",
            "(".repeat(10_000) + &")".repeat(2_000),
        ),
        (
            "parenthesised speech",
            "(“(Trump said (“yes (no)”)) officials said)” ".repeat(1_000),
        ),
        ("one 1 MiB token", "x".repeat(1 << 20)),
        (
            "long tokens with capitals",
            "Witkoff".repeat(20_000) + " said " + &"Q".repeat(100_000) + ".",
        ),
        (
            "numbers and units",
            "$5.3bn 40% 3rd five-hour 2-1 1,000,000,000,000,000,000,000 km/h ".repeat(1_000),
        ),
        (
            "control characters",
            "\u{0}\u{1}\u{7}\u{1b}[31m\u{feff}\u{202e}".repeat(5_000),
        ),
        ("newlines", "\n".repeat(100_000) + "The end."),
    ]
}

/// Pathological quote marks, parentheses and very long tokens get answers from every
/// analysis RPC, from Search in both syntaxes, and from ingest, and the server stays healthy.
#[tokio::test]
async fn hostile_texts_get_answers_from_every_rpc() {
    let server = TestServer::with_docs(fixture()).await;
    let limit = 64 << 20;
    let mut entities =
        EntityServiceClient::new(server.channel.clone()).max_decoding_message_size(limit);
    let mut claims =
        ClaimServiceClient::new(server.channel.clone()).max_decoding_message_size(limit);
    let mut search =
        SearchServiceClient::new(server.channel.clone()).max_decoding_message_size(limit);
    for (i, (name, text)) in hostile_texts().into_iter().enumerate() {
        let started = Instant::now();
        entities
            .analyze_entities(analyze(text.clone()))
            .await
            .unwrap_or_else(|e| panic!("AnalyzeEntities on {name}: {e:?}"));
        claims
            .extract_claims(extract(text.clone()))
            .await
            .unwrap_or_else(|e| panic!("ExtractClaims on {name}: {e:?}"));
        ingest(
            server.channel.clone(),
            vec![ingest_request(&format!("hostile-{i}"), &text)],
        )
        .await;
        let query: String = text.chars().take(2_000).collect();
        for syntax in [QuerySyntax::QueryLanguage, QuerySyntax::PlainText] {
            let answer = search
                .search(SearchRequest {
                    query: query.clone(),
                    syntax: syntax as i32,
                    ..Default::default()
                })
                .await;
            match answer {
                Ok(_) => {}
                Err(e) if syntax == QuerySyntax::QueryLanguage => {
                    assert_eq!(e.code(), Code::InvalidArgument, "{name}: {e:?}")
                }
                Err(e) => panic!("PLAIN_TEXT search on {name}: {e:?}"),
            }
        }
        let took = started.elapsed();
        eprintln!("{name}: {} bytes, {took:?}", text.len());
        assert!(took < Duration::from_secs(60), "{name} took {took:?}");
    }
    assert!(serving(server.channel.clone()).await);
}

/// Sends and receives raw bytes: a request can be any bytes, not just a valid message.
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }

    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let n = src.remaining();
        Ok(Some(src.copy_to_bytes(n).to_vec()))
    }
}

/// `message` encoded, with the bytes of `marker` (inside a string field) replaced by bytes
/// that are not UTF-8, of the same length so every length prefix stays right.
fn with_invalid_utf8(message: &impl Message, marker: &str) -> Vec<u8> {
    let mut bytes = message.encode_to_vec();
    let at = bytes
        .windows(marker.len())
        .position(|w| w == marker.as_bytes())
        .expect("the marker is in the encoding");
    for (k, b) in bytes[at..at + marker.len()].iter_mut().enumerate() {
        *b = [0xff, 0xfe, 0xc3, 0x28][k % 4];
    }
    bytes
}

/// A string field holding invalid UTF-8 is INVALID_ARGUMENT naming the field (tonic alone
/// says INTERNAL), in a unary call and inside an ingest stream, and the server carries on.
#[tokio::test]
async fn invalid_utf8_on_the_wire_is_invalid_argument_naming_the_field() {
    let server = TestServer::with_docs(fixture()).await;
    let mut grpc = tonic::client::Grpc::new(server.channel.clone());

    let search = SearchRequest {
        query: "MARK".into(),
        ..Default::default()
    };
    grpc.ready().await.unwrap();
    let err = grpc
        .unary(
            Request::new(with_invalid_utf8(&search, "MARK")),
            http::uri::PathAndQuery::from_static("/dossier.v1.SearchService/Search"),
            RawCodec,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(err.message().contains("not UTF-8"), "{}", err.message());
    let details = err.get_error_details();
    assert_eq!(details.error_info().unwrap().reason, "MALFORMED_MESSAGE");
    assert_eq!(
        details.bad_request().unwrap().field_violations[0].field,
        "query"
    );

    // Inside a client stream: the document before the bad one is stored, the stream fails.
    let good = ingest_request("before-bad", "Fine text.").encode_to_vec();
    let bad = with_invalid_utf8(&ingest_request("bad", "Text MARK here."), "MARK");
    grpc.ready().await.unwrap();
    let response = grpc
        .streaming(
            Request::new(tokio_stream::iter(vec![good, bad])),
            http::uri::PathAndQuery::from_static("/dossier.v1.CorpusService/IngestDocuments"),
            RawCodec,
        )
        .await;
    let mut answers = response.unwrap().into_inner();
    let first = dossier_api::v1::IngestDocumentsResponse::decode(
        answers.next().await.unwrap().unwrap().as_slice(),
    )
    .unwrap();
    assert!(first.error.is_none() && first.id == "before-bad");
    let err = answers.next().await.unwrap().unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert_eq!(
        err.get_error_details()
            .bad_request()
            .unwrap()
            .field_violations[0]
            .field,
        "document.text"
    );
    assert!(server.store.snapshot().get("before-bad").is_ok());
    assert!(server.store.snapshot().get("bad").is_err());

    // Not a message at all.
    grpc.ready().await.unwrap();
    let err = grpc
        .unary(
            Request::new(vec![0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
            http::uri::PathAndQuery::from_static("/dossier.v1.SearchService/Search"),
            RawCodec,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(serving(server.channel.clone()).await);
}

/// A 64 MiB request (four times the default limit) is RESOURCE_EXHAUSTED, and the next
/// call on the same connection is served.
#[tokio::test]
async fn a_64_mib_request_is_resource_exhausted_and_the_server_carries_on() {
    let server = TestServer::with_docs(fixture()).await;
    let mut entities = EntityServiceClient::new(server.channel.clone());
    let err = entities
        .analyze_entities(analyze("Talks in Istanbul. ".repeat((64 << 20) / 19 + 1)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    assert_eq!(
        err.get_details_error_info().unwrap().reason,
        "MESSAGE_TOO_LARGE"
    );
    let ok = entities
        .analyze_entities(analyze("Talks in Istanbul.".into()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ok.entities[0].name, "Istanbul");
}

/// The real server binary as a child process, killed when dropped.
pub(crate) struct ChildServer {
    process: std::process::Child,
    addr: SocketAddr,
}

impl ChildServer {
    /// Starts `dossier-server` on port 0 over `corpus`, plus `args`, and waits until it
    /// serves (its log says so).
    pub(crate) fn start(corpus: &Path, args: &[&str]) -> Self {
        let mut process = Command::new(env!("CARGO_BIN_EXE_dossier-server"))
            .args(["--addr", "127.0.0.1:0", "--log-format", "json", "--corpus"])
            .arg(corpus)
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dossier-server");
        let (tx, rx) = std::sync::mpsc::channel::<serde_json::Value>();
        let stderr = process.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        let mut addr = None;
        loop {
            let line = rx
                .recv_timeout(Duration::from_secs(120))
                .expect("dossier-server starts and serves within 2 minutes");
            match line["message"].as_str() {
                Some("listening") => addr = line["addr"].as_str().and_then(|a| a.parse().ok()),
                Some("corpus loaded; serving") => break,
                _ => {}
            }
        }
        Self {
            process,
            addr: addr.expect("the log gives the address"),
        }
    }

    pub(crate) async fn channel(&self) -> Channel {
        Endpoint::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    /// SIGKILL: no shutdown, no flush, nothing after the signal.
    pub(crate) fn kill_9(mut self) {
        self.process.kill().unwrap();
        self.process.wait().unwrap();
    }

    /// User plus system CPU time so far, in clock ticks.
    fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.process.id())).unwrap();
        let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
            .split_whitespace()
            .collect();
        // utime and stime are fields 14 and 15 of stat; 12 and 13 after the command name.
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// A fresh temporary directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dossier-robust-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A corpus folder with one small page.
fn small_corpus(dir: &Path) -> PathBuf {
    let corpus = dir.join("corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    std::fs::write(corpus.join("seed.txt"), "Seed page\n\nThe seed text.").unwrap();
    corpus
}

async fn get_text(channel: Channel, id: &str) -> Result<String, Status> {
    CorpusServiceClient::new(channel)
        .get_document(GetDocumentRequest { id: id.into() })
        .await
        .map(|d| d.into_inner().text)
}

async fn search_ids(channel: Channel, query: &str) -> Vec<String> {
    SearchServiceClient::new(channel)
        .search(SearchRequest {
            query: query.into(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .hits
        .into_iter()
        .map(|h| h.document_id)
        .collect()
}

/// With `--data-dir`, every acknowledged ingest survives `kill -9` of the real binary: the
/// restarted server has the documents and finds them. A torn last journal line (a crash in
/// mid-append) is dropped at start-up, and writes after it survive the next kill too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_ingests_survive_kill_9_and_a_torn_journal() {
    let dir = temp_dir("kill9");
    let corpus = small_corpus(&dir);
    let data = dir.join("data");
    let data_arg = data.to_str().unwrap();

    let server = ChildServer::start(&corpus, &["--data-dir", data_arg]);
    let docs: Vec<_> = (0..3)
        .map(|i| {
            ingest_request(
                &format!("kept-{i}"),
                &format!("Durable zanzibarite report number {i}."),
            )
        })
        .collect();
    ingest(server.channel().await, docs).await;
    server.kill_9();

    let server = ChildServer::start(&corpus, &["--data-dir", data_arg]);
    let channel = server.channel().await;
    for i in 0..3 {
        assert_eq!(
            get_text(channel.clone(), &format!("kept-{i}"))
                .await
                .unwrap(),
            format!("Durable zanzibarite report number {i}.")
        );
    }
    let mut found = search_ids(channel.clone(), "zanzibarite").await;
    found.sort();
    assert_eq!(found, ["kept-0", "kept-1", "kept-2"]);
    server.kill_9();

    // A crash in the middle of an append leaves a torn last line.
    let mut journal = std::fs::OpenOptions::new()
        .append(true)
        .open(data.join("journal.jsonl"))
        .unwrap();
    journal
        .write_all(b"{\"put\":{\"id\":\"torn\",\"text\":\"half a rec")
        .unwrap();
    drop(journal);
    let server = ChildServer::start(&corpus, &["--data-dir", data_arg]);
    let channel = server.channel().await;
    assert!(get_text(channel.clone(), "kept-2").await.is_ok());
    assert_eq!(
        get_text(channel.clone(), "torn").await.unwrap_err().code(),
        Code::NotFound
    );
    ingest(
        channel,
        vec![ingest_request("after-torn", "Written after the torn line.")],
    )
    .await;
    server.kill_9();

    let server = ChildServer::start(&corpus, &["--data-dir", data_arg]);
    let channel = server.channel().await;
    assert_eq!(
        get_text(channel.clone(), "after-torn").await.unwrap(),
        "Written after the torn line."
    );
    assert_eq!(search_ids(channel, "zanzibarite").await.len(), 3);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The server's CPU ticks spent since it had spent `start`, once it has been idle for a
/// while.
async fn cpu_until_idle(server: &ChildServer, start: u64) -> u64 {
    let mut last = start;
    let give_up = Instant::now() + Duration::from_secs(300);
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = server.cpu_ticks();
        // Under 5% of a core over half a second: nothing is running.
        if now - last <= 2 || Instant::now() > give_up {
            return now - start;
        }
        last = now;
    }
}

/// A 1 ms deadline on a heavy call ends it DEADLINE_EXCEEDED, and the analysis behind it
/// stops (the server spends a fraction of the CPU the full call costs), and the server then
/// answers the same call in full.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1_ms_deadline_stops_the_work_and_the_server_carries_on() {
    let dir = temp_dir("deadline");
    let server = ChildServer::start(&small_corpus(&dir), &[]);
    let channel = server.channel().await;
    let mut claims = ClaimServiceClient::new(channel.clone()).max_decoding_message_size(256 << 20);
    // Load the models first, so both measured calls pay only for analysis.
    claims
        .extract_claims(extract("Putin met Witkoff, officials said.".into()))
        .await
        .unwrap();
    let text = "Steve Witkoff met Vladimir Putin in Moscow on Friday. “It was a great \
                meeting,” Witkoff said. The talks lasted five hours, officials said. "
        .repeat(1_500);
    cpu_until_idle(&server, server.cpu_ticks()).await;

    let before = server.cpu_ticks();
    let mut hurried = Request::new(extract(text.clone()));
    hurried.set_timeout(Duration::from_millis(1));
    let err = claims.extract_claims(hurried).await.unwrap_err();
    assert!(
        matches!(err.code(), Code::DeadlineExceeded | Code::Cancelled),
        "{err:?}"
    );
    let abandoned = cpu_until_idle(&server, before).await;

    let before = server.cpu_ticks();
    let answered = claims.extract_claims(extract(text)).await.unwrap();
    assert!(answered.into_inner().claims.len() >= 1_500);
    let full = cpu_until_idle(&server, before).await;
    eprintln!("CPU ticks: abandoned call {abandoned}, full call {full}");
    assert!(
        abandoned * 4 < full,
        "the abandoned call cost {abandoned} ticks, a full one {full}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Ingest in one task, Search and StreamSearch in others, on a server with a data
/// directory: every search sees at least the documents acknowledged before it started,
/// hits never exceed the total, a stream is one consistent ranking (ranks 1..=n, no id
/// twice); afterwards every acknowledged document is there, and after a restart too.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_ingest_search_and_streaming_stay_consistent() {
    let dir = temp_dir("concurrent");
    let store = Store::new();
    store.attach_data_dir(&dir).unwrap();
    store.set_ready();
    let server = TestServer::start(store).await;
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));

    let ingester = {
        let (channel, acked) = (server.channel.clone(), acked.clone());
        tokio::spawn(async move {
            let mut client = CorpusServiceClient::new(channel);
            for batch in 0..12 {
                let docs: Vec<_> = (0..5)
                    .map(|k| {
                        let id = format!("c{batch:02}-{k}");
                        let text = format!("Ceasefire bulletin {batch} item {k}. Talks went on.");
                        ingest_request(&id, &text)
                    })
                    .collect();
                let mut answers = client
                    .ingest_documents(tokio_stream::iter(docs))
                    .await
                    .unwrap()
                    .into_inner();
                while let Some(answer) = answers.next().await {
                    let answer = answer.unwrap();
                    assert!(answer.error.is_none(), "{answer:?}");
                    acked.lock().unwrap().push(answer.id);
                }
            }
        })
    };
    let searcher = {
        let (channel, acked, done) = (server.channel.clone(), acked.clone(), done.clone());
        tokio::spawn(async move {
            let mut client = SearchServiceClient::new(channel);
            let mut rounds = 0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) || rounds == 0 {
                let before: HashSet<String> = acked.lock().unwrap().iter().cloned().collect();
                let r = client
                    .search(SearchRequest {
                        query: "ceasefire".into(),
                        page_size: 100,
                        ..Default::default()
                    })
                    .await
                    .unwrap()
                    .into_inner();
                assert!(r.hits.len() as i64 <= r.total_hits);
                assert!(r.total_hits as usize >= before.len());
                let seen: HashSet<String> = r.hits.into_iter().map(|h| h.document_id).collect();
                assert!(
                    before.is_subset(&seen),
                    "an acknowledged document is missing"
                );
                rounds += 1;
            }
            rounds
        })
    };
    let streamer = {
        let (channel, acked, done) = (server.channel.clone(), acked.clone(), done.clone());
        tokio::spawn(async move {
            let mut client = SearchServiceClient::new(channel);
            let mut rounds = 0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) || rounds == 0 {
                let before: HashSet<String> = acked.lock().unwrap().iter().cloned().collect();
                let mut stream = client
                    .stream_search(SearchRequest {
                        query: "ceasefire".into(),
                        syntax: QuerySyntax::PlainText as i32,
                        ..Default::default()
                    })
                    .await
                    .unwrap()
                    .into_inner();
                let mut ids = HashSet::new();
                let mut n = 0;
                while let Some(hit) = stream.next().await {
                    let hit = hit.unwrap();
                    n += 1;
                    assert_eq!(hit.rank, n, "ranks run 1..=n");
                    assert!(ids.insert(hit.document_id), "an id came twice");
                }
                let after = acked.lock().unwrap().len() + 5;
                assert!(
                    before.is_subset(&ids),
                    "an acknowledged document is missing"
                );
                assert!(ids.len() <= after, "more hits than documents ever sent");
                rounds += 1;
            }
            rounds
        })
    };
    ingester.await.unwrap();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(searcher.await.unwrap() > 0);
    assert!(streamer.await.unwrap() > 0);

    let acked = acked.lock().unwrap().clone();
    assert_eq!(acked.len(), 60);
    let mut found = search_ids(server.channel.clone(), "ceasefire").await;
    found.sort();
    let mut want = acked.clone();
    want.sort();
    assert_eq!(found, want);
    server.stop().await.unwrap();

    let restarted = Store::new();
    assert_eq!(restarted.attach_data_dir(&dir).unwrap(), 60);
    for id in &acked {
        assert!(restarted.snapshot().get(id).is_ok(), "{id} lost on restart");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Shutdown under load: unary calls in flight when it begins complete OK, open streams
/// deliver every hit and end OK, and `serve` returns Ok.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn graceful_shutdown_under_load_completes_calls_and_ends_streams_cleanly() {
    let docs: Vec<_> = (0..400)
        .map(|i| doc(&format!("d{i:03}"), "wire", &format!("Ceasefire day {i}.")))
        .collect();
    let store = Store::new();
    store.load(docs);
    store.set_ready();
    let metrics = Metrics::new();
    let options = ServeOptions {
        metrics: Some(metrics.clone()),
        ..ServeOptions::default()
    };
    let mut server = TestServer::start_with(store, options).await;
    // Long enough that every call is still running when shutdown begins (the check below).
    let text = "Witkoff met Putin in Moscow. “It went well,” Witkoff said. ".repeat(2000);
    let mut unary = Vec::new();
    for _ in 0..6 {
        let mut claims = ClaimServiceClient::new(server.channel.clone());
        let request = extract(text.clone());
        unary.push(tokio::spawn(async move {
            let answer = claims.extract_claims(request).await;
            (answer, Instant::now())
        }));
    }
    // The streams open once the server holds all six unary calls (each takes far longer to
    // answer than to arrive), whatever the machine's load; nothing else is in flight yet.
    let arrived = Instant::now() + Duration::from_secs(60);
    while metrics.in_flight() < 6 {
        assert!(
            Instant::now() < arrived,
            "calls in flight: {}",
            metrics.in_flight()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let mut streams = Vec::new();
    for _ in 0..3 {
        let mut search = SearchServiceClient::new(server.channel.clone());
        let mut stream = search
            .stream_search(SearchRequest {
                query: "ceasefire".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        // One hit read: the stream is open on the server; the rest waits for us.
        assert_eq!(stream.next().await.unwrap().unwrap().rank, 1);
        streams.push(stream);
    }
    let shutdown_at = Instant::now();
    server.begin_shutdown();

    for call in unary {
        let (answer, finished) = call.await.unwrap();
        let answer = answer.expect("a unary call in flight completes OK");
        assert!(!answer.into_inner().claims.is_empty());
        assert!(finished > shutdown_at, "the call was in flight at shutdown");
    }
    for mut stream in streams {
        let mut n = 1;
        while let Some(hit) = stream.next().await {
            hit.expect("a stream in flight ends cleanly");
            n += 1;
        }
        assert_eq!(n, 400, "every hit is delivered");
    }
    server.stop().await.unwrap();
}

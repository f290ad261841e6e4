//! `dossier bench`: a closed-loop load generator. N workers, each on its own connection,
//! call one RPC (or a weighted mix) back to back for a warm-up and then a measured
//! duration; it reports QPS, latency percentiles and errors by code. With `--vs` it runs a
//! second RPC the same way right after and prints the ratio of the two (Search against
//! Health/Check gives the cost of search over the RPC floor).
//!
//! All workers share one call sequence, so a requests file (`--requests`) is walked in
//! order. A run over many requests sends each at most once (the server caches requests
//! that repeat, so a repeat would measure that cache): if the run needs more calls than
//! there are requests it fails, unless `--allow-repeats`. `--rpc search` with neither
//! `--request` nor `--requests` measures distinct queries by default: `--distinct` queries
//! of 2–3 words from the titles of the served corpus (read with ListDocuments before the
//! run), none sent twice. With `--server-pid` the report
//! also gives the server's CPU time per call, and always this client's own: on a machine
//! shared with other work, or with server and client pinned to cores, CPU per call says
//! what a call costs and whether the client is the bottleneck.

use anyhow::{bail, Context};
use dossier_api::v1::{
    self, corpus_service_client::CorpusServiceClient, search_service_client::SearchServiceClient,
};
use hdrhistogram::Histogram;
use prost::bytes::{Buf, BufMut, Bytes};
use prost_reflect::{DescriptorPool, DynamicMessage};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_stream::StreamExt;
use tonic::client::Grpc;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;

/// What `dossier bench` was asked to do.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct BenchArgs {
    /// RPC or weighted mix: search, stream-search, health, get, analyze, extract, ingest, list-entities
    /// (a mix: "search:8,stream-search:1,analyze:1,ingest:1").
    #[arg(long, default_value = "search")]
    pub rpc: String,
    /// The request as proto3 JSON (for single-RPC runs; defaults per RPC otherwise).
    #[arg(long)]
    pub request: Option<String>,
    /// A second RPC (or mix) to run after the first, printing the ratio of their QPS.
    #[arg(long)]
    pub vs: Option<String>,
    /// The second RPC's request as JSON.
    #[arg(long)]
    pub vs_request: Option<String>,
    /// Concurrent workers (each a closed loop on its own connection).
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Seconds of warm-up (not measured).
    #[arg(long, default_value_t = 2)]
    pub warmup: u64,
    /// Seconds measured.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Sample this process's resident memory (e.g. the server's pid) at start and end.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// A file of requests for `--rpc`, one JSON per line, spread evenly over the calls
    /// (distinct search queries measure the engine, not the server's result cache).
    #[arg(long)]
    pub requests: Option<std::path::PathBuf>,
    /// `--rpc search` without `--request` or `--requests`: how many distinct queries to
    /// build from the served corpus's titles (a run that needs more fails).
    #[arg(long, default_value_t = 500_000)]
    pub distinct: usize,
    /// Let a run over many requests send them again once all were sent (repeats may be
    /// answered from the server's result cache).
    #[arg(long)]
    pub allow_repeats: bool,
}

/// One RPC with its request, ready to call.
#[derive(Clone)]
enum Call {
    /// A unary call: its method path and its request, encoded once. The response is read
    /// off the wire and counted but not decoded, so that the load generator spends little
    /// per call and the measurement is of the server (the ratio of two RPCs, above all).
    Unary {
        path: &'static str,
        request: Bytes,
    },
    StreamSearch(v1::SearchRequest),
    Ingest(v1::Document),
}

fn unary(path: &'static str, request: &impl prost::Message) -> Call {
    Call::Unary {
        path,
        request: Bytes::from(request.encode_to_vec()),
    }
}

/// The codec of [`Call::Unary`]: requests go out as they were encoded, responses are
/// consumed as bytes (their length is the item).
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

#[derive(Debug, Clone, Copy, Default)]
struct RawEncoder;

#[derive(Debug, Clone, Copy, Default)]
struct RawDecoder;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = usize;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

impl Encoder for RawEncoder {
    type Item = Bytes;
    type Error = tonic::Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawDecoder {
    type Item = usize;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<usize>, tonic::Status> {
        let n = src.remaining();
        src.advance(n);
        Ok(Some(n))
    }
}

fn parse_json<M: prost::Message + Default>(json: &str, name: &str) -> anyhow::Result<M> {
    // Decoded once: a requests file can hold tens of thousands of requests.
    static POOL: std::sync::OnceLock<DescriptorPool> = std::sync::OnceLock::new();
    let pool = match POOL.get() {
        Some(pool) => pool,
        None => {
            let pool = DescriptorPool::decode(dossier_api::FILE_DESCRIPTOR_SET)?;
            POOL.get_or_init(|| pool)
        }
    };
    let full = format!("dossier.v1.{name}");
    let desc = pool
        .get_message_by_name(&full)
        .with_context(|| format!("unknown message {full}"))?;
    let mut de = serde_json::Deserializer::from_str(json);
    let dynamic = DynamicMessage::deserialize(desc, &mut de)
        .with_context(|| format!("parsing the {name} JSON"))?;
    Ok(M::decode(
        prost::Message::encode_to_vec(&dynamic).as_slice(),
    )?)
}

/// The method path of Search.
const SEARCH: &str = "/dossier.v1.SearchService/Search";

/// The titles of every document the server holds (ListDocuments, page by page).
async fn titles(endpoint: &Endpoint) -> anyhow::Result<Vec<String>> {
    let channel = endpoint
        .connect()
        .await
        .with_context(|| format!("connecting to {}", endpoint.uri()))?;
    let mut client = CorpusServiceClient::new(channel).max_decoding_message_size(64 << 20);
    let mut titles = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_documents(v1::ListDocumentsRequest {
                page_size: 1000,
                page_token,
                ..Default::default()
            })
            .await
            .context("listing the documents to build distinct queries from")?
            .into_inner();
        titles.extend(page.documents.into_iter().map(|d| d.title));
        if page.next_page_token.is_empty() {
            return Ok(titles);
        }
        page_token = page.next_page_token;
    }
}

/// Up to `count` distinct queries of 2–3 words (3 letters or more, common words left out)
/// drawn from `titles`, lower-cased, in a fixed pseudo-random order: the same corpus gives
/// the same queries (as `server/benches/search-load.sh` builds them).
fn distinct_queries(titles: &[String], count: usize) -> Vec<String> {
    const STOP: &[&str] = &[
        "the", "a", "an", "of", "to", "in", "on", "for", "and", "or", "at", "by", "with", "from",
        "as", "is", "are", "be", "its", "it", "his", "her", "new", "says", "said", "over", "after",
        "up",
    ];
    let words: Vec<Vec<String>> = titles
        .iter()
        .map(|t| {
            t.split(|c: char| !c.is_ascii_alphabetic())
                .filter(|w| w.len() >= 3 && !STOP.contains(&w.to_ascii_lowercase().as_str()))
                .map(str::to_ascii_lowercase)
                .collect::<Vec<_>>()
        })
        .filter(|w| w.len() >= 2)
        .collect();
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(count.min(1 << 20));
    if words.is_empty() {
        return out;
    }
    // xorshift64*: deterministic, no dependency.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move |n: usize| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n.max(1)
    };
    // Drawn again and again without a new query: the titles are used up.
    let mut misses = 0usize;
    while out.len() < count && misses < 20_000 {
        let title = &words[next(words.len())];
        let n = if next(2) == 0 { 2 } else { 3 }.min(title.len());
        let mut picked: Vec<usize> = Vec::with_capacity(n);
        while picked.len() < n {
            let i = next(title.len());
            if !picked.contains(&i) {
                picked.push(i);
            }
        }
        let query = picked
            .iter()
            .map(|&i| title[i].as_str())
            .collect::<Vec<_>>()
            .join(" ");
        if seen.insert(query.clone()) {
            out.push(query);
            misses = 0;
        } else {
            misses += 1;
        }
    }
    out
}

fn call_for(rpc: &str, request: Option<&str>) -> anyhow::Result<Call> {
    let text = "Steve Witkoff, Trump’s envoy, met Vladimir Putin in Moscow for five hours on Friday. “It was a great meeting,” Witkoff said.";
    Ok(match rpc {
        "search" => unary(
            SEARCH,
            &parse_json::<v1::SearchRequest>(
                request.unwrap_or(r#"{"query":"Witkoff Putin","page_size":10}"#),
                "SearchRequest",
            )?,
        ),
        "stream-search" => Call::StreamSearch(parse_json(
            request.unwrap_or(r#"{"query":"peace talks","syntax":"PLAIN_TEXT"}"#),
            "SearchRequest",
        )?),
        "health" => unary(
            "/grpc.health.v1.Health/Check",
            &HealthCheckRequest {
                service: request.map(str::to_string).unwrap_or_default(),
            },
        ),
        "get" => unary(
            "/dossier.v1.CorpusService/GetDocument",
            &parse_json::<v1::GetDocumentRequest>(
                request.unwrap_or(r#"{"id":"002_92e74acb2171691d"}"#),
                "GetDocumentRequest",
            )?,
        ),
        "analyze" => unary(
            "/dossier.v1.EntityService/AnalyzeEntities",
            &match request {
                Some(r) => parse_json(r, "AnalyzeEntitiesRequest")?,
                None => v1::AnalyzeEntitiesRequest {
                    source: Some(v1::analyze_entities_request::Source::Text(text.into())),
                    ..Default::default()
                },
            },
        ),
        "extract" => unary(
            "/dossier.v1.ClaimService/ExtractClaims",
            &match request {
                Some(r) => parse_json(r, "ExtractClaimsRequest")?,
                None => v1::ExtractClaimsRequest {
                    source: Some(v1::extract_claims_request::Source::Text(text.into())),
                    ..Default::default()
                },
            },
        ),
        "list-entities" => unary(
            "/dossier.v1.EntityService/ListEntities",
            &parse_json::<v1::ListEntitiesRequest>(
                request.unwrap_or(r#"{"type":"PERSON","page_size":20}"#),
                "ListEntitiesRequest",
            )?,
        ),
        "ingest" => Call::Ingest(match request {
            Some(r) => parse_json(r, "Document")?,
            None => v1::Document {
                title: "Bench".into(),
                text: text.into(),
                source: "bench".into(),
                ..Default::default()
            },
        }),
        other => bail!("unknown rpc {other:?}"),
    })
}

/// A weighted list of calls.
fn mix(spec: &str, request: Option<&str>) -> anyhow::Result<Vec<(String, Call, u32)>> {
    spec.split(',')
        .map(|part| {
            let (name, weight) = part.split_once(':').unwrap_or((part, "1"));
            let weight: u32 = weight
                .parse()
                .with_context(|| format!("bad weight in {part:?}"))?;
            let request = if spec.contains(',') { None } else { request };
            Ok((
                name.trim().to_string(),
                call_for(name.trim(), request)?,
                weight.max(1),
            ))
        })
        .collect()
}

struct Clients {
    raw: Grpc<Channel>,
    search: SearchServiceClient<Channel>,
    corpus: CorpusServiceClient<Channel>,
}

async fn run_call(
    c: &mut Clients,
    call: &Call,
    seq: u64,
    worker: usize,
) -> Result<(), tonic::Code> {
    let code = |s: tonic::Status| s.code();
    match call {
        Call::Unary { path, request } => {
            c.raw.ready().await.map_err(|_| tonic::Code::Unavailable)?;
            c.raw
                .unary(
                    tonic::Request::new(request.clone()),
                    PathAndQuery::from_static(path),
                    RawCodec,
                )
                .await
                .map(drop)
                .map_err(code)
        }
        Call::StreamSearch(r) => {
            let mut s = c
                .search
                .stream_search(r.clone())
                .await
                .map_err(code)?
                .into_inner();
            while let Some(hit) = s.next().await {
                hit.map_err(code)?;
            }
            Ok(())
        }
        Call::Ingest(d) => {
            let mut d = d.clone();
            if d.id.is_empty() {
                d.id = format!("bench-{worker}-{}", seq % 1000);
            }
            let mut s = c
                .corpus
                .ingest_documents(tokio_stream::iter(vec![v1::IngestDocumentsRequest {
                    document: Some(d),
                }]))
                .await
                .map_err(code)?
                .into_inner();
            match s.next().await {
                Some(Ok(r)) if r.error.is_none() => Ok(()),
                Some(Err(e)) => Err(e.code()),
                _ => Err(tonic::Code::InvalidArgument),
            }
        }
    }
}

/// The outcome of one measured run.
pub(crate) struct Report {
    /// Calls per second over the measured window.
    pub qps: f64,
    /// Latencies of successful calls, in microseconds.
    pub latency: Histogram<u64>,
    /// Failed calls by code.
    pub errors: BTreeMap<String, u64>,
    /// Server CPU time (user + system) per measured call, in microseconds, with
    /// `--server-pid`: on a shared or pinned machine this, not wall time, says what a call
    /// costs the server.
    pub server_cpu_micros: Option<f64>,
    /// This load generator's CPU time per measured call, in microseconds: when it nears
    /// the time a call takes, the client, not the server, sets the pace.
    pub client_cpu_micros: Option<f64>,
    /// Distinct calls the run cycles through (the lines of a requests file).
    pub requests: usize,
    /// Calls sent, warm-up included.
    pub sent: u64,
    /// The run stopped because every request had been sent once (no repeats allowed).
    pub exhausted: bool,
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Total CPU time (user + system) of a process so far, in seconds, from `/proc/PID/stat`.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / CLOCK_TICKS_PER_SECOND)
}

/// `sysconf(_SC_CLK_TCK)`: 100 on every Linux platform Rust supports.
const CLOCK_TICKS_PER_SECOND: f64 = 100.0;

/// CPU seconds of the server (when its pid is known) and of this process.
fn cpu_sample(server_pid: Option<u32>) -> (Option<f64>, Option<f64>) {
    (
        server_pid.and_then(|p| cpu_seconds(&p.to_string())),
        cpu_seconds("self"),
    )
}

async fn measure(
    endpoint: &Endpoint,
    calls: Vec<(String, Call, u32)>,
    args: &BenchArgs,
    distinct: bool,
) -> anyhow::Result<Report> {
    // Cumulative weights: call `i` owns the picks in `bounds[i - 1]..bounds[i]`.
    let bounds: Arc<Vec<u64>> = Arc::new(
        calls
            .iter()
            .scan(0u64, |sum, c| {
                *sum += u64::from(c.2);
                Some(*sum)
            })
            .collect(),
    );
    let total_weight = bounds.last().copied().unwrap_or(0).max(1);
    let calls = Arc::new(calls);
    // One sequence shared by all workers: with a requests file every request is sent once
    // before any is sent again (per-worker sequences would send the same requests from
    // every worker, one call apart, and measure the server's result cache).
    let sequence = Arc::new(AtomicU64::new(0));
    // Distinct requests go out at most once each (unless repeats are allowed).
    let once = (distinct && calls.len() > 1 && !args.allow_repeats).then_some(calls.len() as u64);
    let exhausted = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let warm_until = Instant::now() + Duration::from_secs(args.warmup);
    let end = warm_until + Duration::from_secs(args.duration);
    let mut workers = Vec::new();
    for worker in 0..args.concurrency.max(1) {
        let channel = endpoint
            .connect()
            .await
            .with_context(|| format!("connecting to {}", endpoint.uri()))?;
        let (calls, bounds, sequence) = (calls.clone(), bounds.clone(), sequence.clone());
        let exhausted = exhausted.clone();
        workers.push(tokio::spawn(async move {
            let mut clients = Clients {
                raw: Grpc::new(channel.clone()).max_decoding_message_size(64 << 20),
                search: SearchServiceClient::new(channel.clone())
                    .max_decoding_message_size(64 << 20),
                corpus: CorpusServiceClient::new(channel),
            };
            let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)
                .expect("valid histogram bounds");
            let mut errors: BTreeMap<String, u64> = BTreeMap::new();
            let mut done = 0u64;
            loop {
                let now = Instant::now();
                if now >= end {
                    break;
                }
                let seq = sequence.fetch_add(1, Ordering::Relaxed);
                if once.is_some_and(|n| seq >= n) {
                    exhausted.store(true, Ordering::Relaxed);
                    break;
                }
                // A single-request run or a requests file walks the calls in order; a
                // weighted mix spreads its calls deterministically over the sequence.
                let pick = if calls.len() == total_weight as usize {
                    seq % total_weight
                } else {
                    seq.wrapping_mul(2_654_435_761) % total_weight
                };
                let index = bounds.partition_point(|&b| b <= pick);
                let Some((_, call, _)) = calls.get(index) else {
                    break;
                };
                let result = run_call(&mut clients, call, seq, worker).await;
                if now < warm_until {
                    continue;
                }
                done += 1;
                match result {
                    Ok(()) => {
                        let _ = hist.record(now.elapsed().as_micros() as u64);
                    }
                    Err(code) => *errors.entry(format!("{code:?}")).or_default() += 1,
                }
            }
            (hist, errors, done)
        }));
    }
    let server_pid = args.server_pid;
    let cpu_at_start = tokio::spawn(async move {
        tokio::time::sleep_until(warm_until.into()).await;
        cpu_sample(server_pid)
    });
    let mut latency =
        Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds");
    let mut errors = BTreeMap::new();
    let mut done = 0u64;
    for w in workers {
        let (h, e, d) = w.await?;
        latency.add(&h).context("merging histograms")?;
        for (k, v) in e {
            *errors.entry(k).or_default() += v;
        }
        done += d;
    }
    let (server_end, client_end) = cpu_sample(server_pid);
    let (server_start, client_start) = cpu_at_start.await?;
    let per_call = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if done > 0 => Some((b - a) * 1e6 / done as f64),
        _ => None,
    };
    Ok(Report {
        qps: done as f64 / args.duration.max(1) as f64,
        latency,
        errors,
        server_cpu_micros: per_call(server_start, server_end),
        client_cpu_micros: per_call(client_start, client_end),
        requests: calls.len(),
        sent: sequence
            .load(Ordering::Relaxed)
            .min(once.unwrap_or(u64::MAX)),
        exhausted: exhausted.load(Ordering::Relaxed),
    })
}

fn print(label: &str, r: &Report, json: bool) {
    let l = &r.latency;
    let ms = |q: f64| l.value_at_quantile(q) as f64 / 1000.0;
    let errors: u64 = r.errors.values().sum();
    // How many times each request of a requests file was sent (above 1, repeats may be
    // answered from the server's result cache).
    let passes = r.sent as f64 / r.requests.max(1) as f64;
    if json {
        let value = serde_json::json!({
            "rpc": label, "qps": r.qps, "calls": l.len(), "errors": errors, "errors_by_code": r.errors,
            "p50_ms": ms(0.5), "p90_ms": ms(0.9), "p99_ms": ms(0.99), "max_ms": l.max() as f64 / 1000.0,
            "server_cpu_us_per_call": r.server_cpu_micros, "client_cpu_us_per_call": r.client_cpu_micros,
            "requests": r.requests, "passes_over_requests": passes,
        });
        println!("{value}");
    } else {
        let cpu = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.1}"));
        let requests = if r.requests > 1 {
            format!("  requests {} (x{passes:.2})", r.requests)
        } else {
            String::new()
        };
        println!(
            "{label:<32} qps {:>9.1}  p50 {:>7.3} ms  p90 {:>7.3} ms  p99 {:>7.3} ms  max {:>8.3} ms  calls {}  errors {errors} {:?}  cpu/call: server {} us, client {} us{requests}",
            r.qps,
            ms(0.5),
            ms(0.9),
            ms(0.99),
            l.max() as f64 / 1000.0,
            l.len(),
            r.errors,
            cpu(r.server_cpu_micros),
            cpu(r.client_cpu_micros),
        );
    }
}

/// Runs the benchmark described by `args` against `endpoint`.
pub(crate) async fn run(endpoint: Endpoint, args: BenchArgs, json: bool) -> anyhow::Result<()> {
    let rss_before = args.server_pid.and_then(rss_kib);
    let first = match &args.requests {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let calls = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| Ok((args.rpc.clone(), call_for(&args.rpc, Some(l))?, 1)))
                .collect::<anyhow::Result<Vec<_>>>()?;
            if calls.is_empty() {
                bail!("{} holds no request", path.display());
            }
            calls
        }
        None if args.rpc == "search" && args.request.is_none() => {
            let titles = titles(&endpoint).await?;
            let queries = distinct_queries(&titles, args.distinct);
            if queries.is_empty() {
                bail!("the served corpus has no title with two words to build queries from; pass --request");
            }
            queries
                .iter()
                .map(|q| {
                    let request = v1::SearchRequest {
                        query: q.clone(),
                        page_size: 10,
                        ..Default::default()
                    };
                    Ok((args.rpc.clone(), unary(SEARCH, &request), 1))
                })
                .collect::<anyhow::Result<Vec<_>>>()?
        }
        None => mix(&args.rpc, args.request.as_deref())?,
    };
    let distinct = args.requests.is_some() || (args.rpc == "search" && args.request.is_none());
    let a = measure(&endpoint, first, &args, distinct).await?;
    print(&args.rpc, &a, json);
    if a.exhausted {
        bail!(
            "all {} distinct requests were sent before the run ended, and a repeat would measure the \
             server's result cache: give more (--distinct, a longer --requests file) or a shorter \
             --warmup/--duration, or pass --allow-repeats",
            a.requests
        );
    }
    if let Some(vs) = &args.vs {
        let second = mix(vs, args.vs_request.as_deref())?;
        let b = measure(&endpoint, second, &args, false).await?;
        print(vs, &b, json);
        let ratio = if b.qps > 0.0 { a.qps / b.qps } else { 0.0 };
        if json {
            println!(
                "{}",
                serde_json::json!({ "ratio": ratio, "of": args.rpc, "to": vs })
            );
        } else {
            println!("ratio {} / {} = {:.1}%", args.rpc, vs, ratio * 100.0);
        }
    }
    if let (Some(before), Some(pid)) = (rss_before, args.server_pid) {
        let after = rss_kib(pid).unwrap_or(0);
        if json {
            println!(
                "{}",
                serde_json::json!({ "server_rss_kib_start": before, "server_rss_kib_end": after })
            );
        } else {
            println!(
                "server RSS: {:.1} MiB at start, {:.1} MiB at end",
                before as f64 / 1024.0,
                after as f64 / 1024.0
            );
        }
    }
    let failed: u64 = a.errors.values().sum();
    if failed > 0 {
        bail!("{failed} call(s) failed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_queries_never_repeat_and_stop_when_titles_run_out() {
        // Proves the default Search load has no repeated query, takes 2–3 title words
        // without stopwords, is the same for the same titles, and ends short (not looping)
        // when the titles cannot give as many distinct queries as asked.
        let titles: Vec<String> = [
            "Oil prices rise after the talks in Riyadh",
            "Witkoff meets Putin in Moscow for five hours",
            "The",
            "Zelenskyy in Washington",
        ]
        .map(String::from)
        .to_vec();
        let queries = distinct_queries(&titles, 50);
        assert_eq!(queries, distinct_queries(&titles, 50));
        let unique: std::collections::HashSet<&String> = queries.iter().collect();
        assert_eq!(unique.len(), queries.len());
        assert!(!queries.is_empty());
        for q in &queries {
            let words: Vec<&str> = q.split(' ').collect();
            assert!((2..=3).contains(&words.len()), "{q:?}");
            assert!(!words.contains(&"the") && !words.contains(&"in"), "{q:?}");
        }
        // Two words ("zelenskyy washington") give two orders; the others a few dozen.
        assert!(distinct_queries(&titles, 100_000).len() < 1_000);
    }
}

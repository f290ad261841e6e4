//! Prometheus metrics: completed RPCs counted and timed by method and status code, and the
//! corpus's size as gauges, served as Prometheus text on `--metrics-addr` (`GET /metrics`).
//!
//! The text format is written here rather than through the `prometheus` or
//! `metrics-exporter-prometheus` crates: a few dozen lines cover one counter family, one
//! histogram family and some gauges, and the HTTP endpoint reuses the hyper that tonic
//! already compiles, so the feature adds no crate to the build. The RPC layer
//! ([`crate::rpc::layers`]) records into [`Metrics`]; this module knows nothing of tonic.

use crate::store::{CorpusCounts, FollowState, FollowStatus, Store};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::net::TcpListener;

/// Upper bounds of the latency buckets, in seconds: fine below 10 ms, where search and
/// health calls land, coarse up to the default request timeout.
const BUCKETS: [f64; 16] = [
    0.000_25, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
    30.0, 60.0,
];

/// A cheap, clonable handle to the process's RPC metrics.
#[derive(Clone, Default)]
pub struct Metrics {
    calls: Arc<RwLock<HashMap<CallKey, Arc<Series>>>>,
    /// Calls that have arrived and not yet finished (streams until their last message).
    in_flight: Arc<AtomicU64>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let series = self.calls.read().map_or(0, |c| c.len());
        f.debug_struct("Metrics")
            .field("series", &series)
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

/// One label set: `/pkg.Service/Method` split in two, and the gRPC code name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct CallKey {
    service: String,
    method: String,
    code: &'static str,
}

/// The count, latency sum and latency buckets of one label set. Atomics, so recording a
/// call on an existing series takes only the map's read lock.
#[derive(Default)]
struct Series {
    count: AtomicU64,
    sum_nanos: AtomicU64,
    /// Non-cumulative counts per bucket; the last slot is `+Inf`.
    buckets: [AtomicU64; BUCKETS.len() + 1],
}

impl Metrics {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts a call that has arrived; [`Metrics::call_ended`] undoes it when it finishes.
    pub fn call_started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a call started with [`Metrics::call_started`] as finished, whatever its end.
    pub fn call_ended(&self) {
        // Saturating, so an unpaired end cannot wrap the gauge.
        let _ = self
            .in_flight
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }

    /// Calls in progress now: arrived (their headers read) and not yet finished.
    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Records one completed call of `path` (`/dossier.v1.SearchService/Search`) that ended
    /// with the gRPC status `code` (`"OK"`) after `elapsed`.
    pub fn record_call(&self, path: &str, code: &'static str, elapsed: Duration) {
        let (service, method) = path
            .strip_prefix('/')
            .and_then(|p| p.split_once('/'))
            .unwrap_or(("unknown", "unknown"));
        let key = CallKey {
            service: service.to_string(),
            method: method.to_string(),
            code,
        };
        let existing = self
            .calls
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        let series = match existing {
            Some(s) => s,
            None => self
                .calls
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .entry(key)
                .or_default()
                .clone(),
        };
        let seconds = elapsed.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|&le| seconds <= le)
            .unwrap_or(BUCKETS.len());
        series.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        series.sum_nanos.fetch_add(
            u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        series.count.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition (format 0.0.4) of the RPC metrics and of `counts`.
    pub fn render(&self, counts: &CorpusCounts, ready: bool) -> String {
        let mut calls: Vec<(CallKey, Arc<Series>)> = self
            .calls
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, s)| (k.clone(), s.clone()))
            .collect();
        calls.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = String::with_capacity(4096 + calls.len() * 1024);
        header(
            &mut out,
            "dossier_grpc_server_handled_total",
            "counter",
            "RPCs completed, by service, method and gRPC status code.",
        );
        for (key, series) in &calls {
            let _ = writeln!(
                out,
                "dossier_grpc_server_handled_total{{{}}} {}",
                labels(key),
                series.count.load(Ordering::Relaxed)
            );
        }
        header(
            &mut out,
            "dossier_grpc_server_handling_seconds",
            "histogram",
            "Time from request headers to the final status, by service, method and code \
             (for streams: until the last message).",
        );
        for (key, series) in &calls {
            let labels = labels(key);
            let mut cumulative = 0;
            for (i, bucket) in series.buckets.iter().enumerate() {
                cumulative += bucket.load(Ordering::Relaxed);
                let le = BUCKETS.get(i).map_or("+Inf".to_string(), f64::to_string);
                let _ = writeln!(
                    out,
                    "dossier_grpc_server_handling_seconds_bucket{{{labels},le=\"{le}\"}} {cumulative}"
                );
            }
            let sum = series.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
            let _ = writeln!(
                out,
                "dossier_grpc_server_handling_seconds_sum{{{labels}}} {sum}"
            );
            let _ = writeln!(
                out,
                "dossier_grpc_server_handling_seconds_count{{{labels}}} {cumulative}"
            );
        }
        // Destructured so that a new count becomes a compile error here until it is exported.
        let CorpusCounts {
            documents,
            words,
            sentences,
            entity_mentions,
            claims,
            text_bytes,
        } = *counts;
        for (name, help, value) in [
            ("documents", "Documents in the corpus.", documents),
            ("words", "Word tokens in the corpus.", words),
            ("sentences", "Sentences in the corpus.", sentences),
            (
                "entity_mentions",
                "Entity mentions found in the corpus.",
                entity_mentions,
            ),
            ("claims", "Claims found in the corpus.", claims),
            ("text_bytes", "Bytes of document text.", text_bytes),
        ] {
            let metric = format!("dossier_corpus_{name}");
            header(&mut out, &metric, "gauge", help);
            let _ = writeln!(out, "{metric} {value}");
        }
        header(
            &mut out,
            "dossier_grpc_server_in_flight",
            "gauge",
            "Calls in progress: arrived and not yet finished (a stream until its last message).",
        );
        let _ = writeln!(out, "dossier_grpc_server_in_flight {}", self.in_flight());
        header(
            &mut out,
            "dossier_ready",
            "gauge",
            "1 once the corpus is loaded and the dossier.v1 services answer.",
        );
        let _ = writeln!(out, "dossier_ready {}", u8::from(ready));
        out
    }
}

/// The follower's gauges (with `--store`): its state, position and lag.
pub fn render_follow(status: &FollowStatus) -> String {
    let mut out = String::new();
    let state = match status.state {
        FollowState::Local => 0,
        FollowState::Serving => 1,
        FollowState::Lagging => 2,
        FollowState::Disconnected => 3,
    };
    for (name, kind, help, value) in [
        (
            "dossier_store_state",
            "gauge",
            "Against the system of record: 0 local (none), 1 serving, 2 lagging, 3 disconnected.",
            state.to_string(),
        ),
        (
            "dossier_store_applied_seq",
            "gauge",
            "The highest change sequence number of the system of record applied here.",
            status.applied_seq.to_string(),
        ),
        (
            "dossier_store_lag_seconds",
            "gauge",
            "How long the oldest change known and not yet applied has waited (0: caught up).",
            status.lag.as_secs_f64().to_string(),
        ),
    ] {
        header(&mut out, name, kind, help);
        let _ = writeln!(out, "{name} {value}");
    }
    out
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn labels(key: &CallKey) -> String {
    format!(
        "grpc_service=\"{}\",grpc_method=\"{}\",grpc_code=\"{}\"",
        escape(&key.service),
        escape(&key.method),
        key.code
    )
}

/// Escapes a label value as the text format requires.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Serves `GET /metrics` on `listener` (HTTP/1.1) until the task is dropped. Corpus gauges
/// are read from `store`'s current snapshot on every scrape.
pub async fn serve(listener: TcpListener, metrics: Metrics, store: Store) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "metrics listener cannot accept");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (metrics, store) = (metrics.clone(), store.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let response = respond(&request, &metrics, &store);
                async move { Ok::<_, std::convert::Infallible>(response) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "metrics connection failed");
            }
        });
    }
}

fn respond<B>(request: &Request<B>, metrics: &Metrics, store: &Store) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, content_type: &str, body: String| {
        Response::builder()
            .status(status)
            .header(hyper::header::CONTENT_TYPE, content_type)
            .body(Full::new(Bytes::from(body)))
            .expect("a static status and header make a valid response")
    };
    match (request.method(), request.uri().path()) {
        (&Method::GET | &Method::HEAD, "/metrics") => {
            let mut text = metrics.render(&store.snapshot().counts, *store.ready().borrow());
            text.push_str(&render_follow(&store.follow_status().borrow()));
            reply(
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                text,
            )
        }
        (_, "/metrics") => reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "GET only\n".into(),
        ),
        _ => reply(
            StatusCode::NOT_FOUND,
            "text/plain",
            "metrics are at /metrics\n".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_counted_and_bucketed_by_method_and_code() {
        let metrics = Metrics::new();
        let path = "/dossier.v1.SearchService/Search";
        metrics.record_call(path, "OK", Duration::from_micros(300));
        metrics.record_call(path, "OK", Duration::from_millis(3));
        metrics.record_call(path, "INVALID_ARGUMENT", Duration::from_millis(1));
        let text = metrics.render(&CorpusCounts::default(), true);
        let labels = r#"grpc_service="dossier.v1.SearchService",grpc_method="Search""#;
        assert!(text.contains(&format!(
            "dossier_grpc_server_handled_total{{{labels},grpc_code=\"OK\"}} 2"
        )));
        assert!(text.contains(&format!(
            "dossier_grpc_server_handled_total{{{labels},grpc_code=\"INVALID_ARGUMENT\"}} 1"
        )));
        // 300 µs falls in the 0.0005 bucket, 3 ms in 0.005; buckets are cumulative.
        assert!(text.contains(&format!(
            "dossier_grpc_server_handling_seconds_bucket{{{labels},grpc_code=\"OK\",le=\"0.00025\"}} 0"
        )));
        assert!(text.contains(&format!(
            "dossier_grpc_server_handling_seconds_bucket{{{labels},grpc_code=\"OK\",le=\"0.0005\"}} 1"
        )));
        assert!(text.contains(&format!(
            "dossier_grpc_server_handling_seconds_bucket{{{labels},grpc_code=\"OK\",le=\"0.005\"}} 2"
        )));
        assert!(text.contains(&format!(
            "dossier_grpc_server_handling_seconds_bucket{{{labels},grpc_code=\"OK\",le=\"+Inf\"}} 2"
        )));
        assert!(text.contains(&format!(
            "dossier_grpc_server_handling_seconds_count{{{labels},grpc_code=\"OK\"}} 2"
        )));
        assert!(text.contains("dossier_ready 1"));
    }

    #[test]
    fn calls_in_flight_rise_and_fall_and_never_wrap() {
        let metrics = Metrics::new();
        metrics.call_started();
        metrics.call_started();
        metrics.call_ended();
        assert_eq!(metrics.in_flight(), 1);
        let text = metrics.render(&CorpusCounts::default(), true);
        assert!(text.contains("# TYPE dossier_grpc_server_in_flight gauge"));
        assert!(text.contains("dossier_grpc_server_in_flight 1\n"));
        metrics.call_ended();
        metrics.call_ended();
        assert_eq!(metrics.in_flight(), 0, "an unpaired end saturates at zero");
    }

    #[test]
    fn the_follower_state_position_and_lag_become_gauges() {
        let text = render_follow(&FollowStatus {
            state: FollowState::Lagging,
            applied_seq: 42,
            lag: Duration::from_millis(1500),
        });
        assert!(text.contains("# TYPE dossier_store_state gauge\ndossier_store_state 2\n"));
        assert!(text.contains("dossier_store_applied_seq 42\n"));
        assert!(text.contains("dossier_store_lag_seconds 1.5\n"));
        assert!(render_follow(&FollowStatus::default()).contains("dossier_store_state 0\n"));
    }

    #[test]
    fn corpus_counts_become_gauges() {
        let counts = CorpusCounts {
            documents: 5,
            words: 1200,
            ..Default::default()
        };
        let text = Metrics::new().render(&counts, false);
        assert!(
            text.contains("# TYPE dossier_corpus_documents gauge\ndossier_corpus_documents 5\n")
        );
        assert!(text.contains("dossier_corpus_words 1200\n"));
        assert!(text.contains("dossier_ready 0\n"));
    }

    #[test]
    fn odd_paths_and_label_values_stay_well_formed() {
        let metrics = Metrics::new();
        metrics.record_call("not-a-grpc-path", "UNIMPLEMENTED", Duration::ZERO);
        metrics.record_call("/a\"b/c\\d", "OK", Duration::ZERO);
        let text = metrics.render(&CorpusCounts::default(), true);
        assert!(text
            .contains(r#"grpc_service="unknown",grpc_method="unknown",grpc_code="UNIMPLEMENTED""#));
        assert!(text.contains(r#"grpc_service="a\"b",grpc_method="c\\d""#));
    }
}

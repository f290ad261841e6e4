//! The tower layer every call passes through, around all services (health and reflection
//! included): it gives the call a request id, a tracing span, the server-side deadline, error
//! details on every failed status, a Prometheus sample and one access-log line.
//!
//! - **Request id**: the caller's `x-request-id` when it is a sane token, else a fresh UUID;
//!   handlers see it in the request metadata, the caller gets it back in the response
//!   headers, and it is a field of the call's `grpc` span.
//! - **Deadline**: `--request-timeout-secs`, or the caller's `grpc-timeout` when sooner,
//!   bounds the time to the response headers, which is the whole call for unary RPCs; a
//!   streaming RPC's messages flow after that and are bounded by the client (its own
//!   deadline, or going away). On expiry the call ends `DEADLINE_EXCEEDED`, not the
//!   `CANCELLED` that tonic's `grpc-timeout` handling and `Server::timeout` would send, and
//!   the handler is dropped, which stops its blocking work (see [`super::blocking`]).
//! - **Error details**: every non-OK status, wherever it was made (a handler, an
//!   interceptor, tonic's codec, the deadline), gets a tonic-types `ErrorInfo` (reason and
//!   domain `dossier.v1`) unless it already has one, and a `RequestInfo` with the request id.
//!   Details already present (a `BadRequest`) are kept.
//! - **Oversize messages**: tonic reports a message over `--max-message-bytes` as
//!   `OUT_OF_RANGE`; gRPC's convention is `RESOURCE_EXHAUSTED`, so it is rewritten here.
//! - **Metrics and access log**: when the final status is known (response headers for a
//!   trailers-only error, trailers otherwise, `CANCELLED` if the call is dropped first).

use super::status::{code_name, finish_status, status_with_reason};
use crate::metrics::Metrics;
use http::{HeaderMap, HeaderValue};
use http_body::Frame;
use prost::Message;
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};
use tonic::body::Body;
use tonic::{Code, Status};
use tower_layer::Layer;
use tower_service::Service;
use tracing::Instrument;

/// The request and response header carrying the request id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Wraps the service router in [`CallService`].
#[derive(Debug, Clone, Default)]
pub struct CallLayer {
    /// The server-side deadline for the response headers; `None` waits as long as it takes.
    pub timeout: Option<Duration>,
    /// Where completed calls are counted, when `--metrics-addr` is set.
    pub metrics: Option<Metrics>,
    /// The paths the server serves (`/dossier.v1.SearchService/Search`…). Metrics label
    /// calls to any other path `unknown`, so callers cannot grow the series without bound.
    pub known_methods: Arc<HashSet<String>>,
}

/// Every method path described by `descriptor_sets` (encoded `FileDescriptorSet`s).
///
/// # Examples
///
/// ```
/// let methods = dossier_server::rpc::layers::method_paths(&[dossier_api::FILE_DESCRIPTOR_SET]);
/// assert!(methods.contains("/dossier.v1.CorpusService/GetCorpusStats"));
/// ```
pub fn method_paths(descriptor_sets: &[&[u8]]) -> HashSet<String> {
    let mut paths = HashSet::new();
    for encoded in descriptor_sets {
        let Ok(set) = prost_types::FileDescriptorSet::decode(*encoded) else {
            continue;
        };
        for file in &set.file {
            let package = file.package();
            for service in &file.service {
                let service_name = match package {
                    "" => service.name().to_string(),
                    p => format!("{p}.{}", service.name()),
                };
                for method in &service.method {
                    paths.insert(format!("/{service_name}/{}", method.name()));
                }
            }
        }
    }
    paths
}

impl<S> Layer<S> for CallLayer {
    type Service = CallService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CallService {
            inner,
            layer: self.clone(),
        }
    }
}

/// See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct CallService<S> {
    inner: S,
    layer: CallLayer,
}

impl<S> Service<http::Request<Body>> for CallService<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        let id = request_id(request.headers());
        let id_header = HeaderValue::from_str(&id).expect("request ids are visible ASCII");
        request
            .headers_mut()
            .insert(REQUEST_ID_HEADER, id_header.clone());
        let method = request.uri().path().to_string();
        if let Some(metrics) = &self.layer.metrics {
            metrics.call_started();
        }
        let mut record = CallRecord {
            known: self.layer.known_methods.contains(&method),
            method,
            request_id: id,
            started: Instant::now(),
            metrics: self.layer.metrics.clone(),
            done: false,
        };
        let span =
            tracing::info_span!("grpc", method = %record.method, request_id = %record.request_id);
        let caller = request
            .headers()
            .get("grpc-timeout")
            .and_then(|v| grpc_timeout(v.as_bytes()));
        if let Some(at) = caller.and_then(|c| Instant::now().checked_add(c)) {
            request.extensions_mut().insert(CallerDeadline(at));
        }
        let deadline = Deadline::of(self.layer.timeout, caller);
        let call = self.inner.call(request).instrument(span);
        Box::pin(async move {
            let response = match deadline {
                None => call.await?,
                Some(deadline) => match tokio::time::timeout_at(deadline.at, call).await {
                    Ok(response) => response?,
                    Err(_) => deadline.status().into_http(),
                },
            };
            let (mut parts, body) = response.into_parts();
            parts.headers.insert(REQUEST_ID_HEADER, id_header);
            // A status in the headers is a trailers-only response: the call is over.
            if let Some(code) = finish_status(&mut parts.headers, &record.request_id) {
                record.finish(code);
                return Ok(http::Response::from_parts(parts, body));
            }
            let body = Body::new(ObservedBody {
                inner: body,
                record: Some(record),
            });
            Ok(http::Response::from_parts(parts, body))
        })
    }
}

/// The caller's deadline (its `grpc-timeout`, parsed once, here), in the request's
/// extensions for handlers whose streams outlive the response headers (a stream is not cut
/// by the layer's deadline, so a streaming handler watches this one itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallerDeadline(pub Instant);

/// When a call must have its response headers: the sooner of the server's limit and the
/// caller's deadline (the `grpc-timeout` header).
#[derive(Debug, Clone, Copy)]
struct Deadline {
    at: tokio::time::Instant,
    limit: Duration,
    /// Whether the caller's deadline is the sooner one.
    caller: bool,
}

impl Deadline {
    /// Taken when the call arrives, before tonic's own `grpc-timeout` timer starts (which
    /// wraps this layer), so this one fires first and the caller gets `DEADLINE_EXCEEDED`
    /// with details rather than tonic's bare `CANCELLED`.
    fn of(server: Option<Duration>, caller: Option<Duration>) -> Option<Self> {
        let (limit, caller) = match (server, caller) {
            (None, None) => return None,
            (Some(s), Some(c)) => (s.min(c), c < s),
            (Some(s), None) => (s, false),
            (None, Some(c)) => (c, true),
        };
        Some(Self {
            // A deadline too far to represent is no deadline.
            at: tokio::time::Instant::now().checked_add(limit)?,
            limit,
            caller,
        })
    }

    fn status(self) -> Status {
        if self.caller {
            status_with_reason(
                Code::DeadlineExceeded,
                "CALLER_DEADLINE",
                format!(
                    "the caller's deadline of {} ms passed before the response",
                    self.limit.as_secs_f64() * 1e3
                ),
            )
        } else {
            status_with_reason(
                Code::DeadlineExceeded,
                "REQUEST_TIMEOUT",
                format!(
                    "no response within the server's {} s limit",
                    self.limit.as_secs_f64()
                ),
            )
        }
    }
}

/// A `grpc-timeout` value: 1 to 8 digits and a unit (`H`, `M`, `S`, `m`, `u`, `n`).
fn grpc_timeout(value: &[u8]) -> Option<Duration> {
    let (&unit, digits) = value.split_last()?;
    if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(match unit {
        b'H' => Duration::from_secs(n * 3600),
        b'M' => Duration::from_secs(n * 60),
        b'S' => Duration::from_secs(n),
        b'm' => Duration::from_millis(n),
        b'u' => Duration::from_micros(n),
        b'n' => Duration::from_nanos(n),
        _ => return None,
    })
}

/// The caller's `x-request-id` if it is 1–128 visible characters from a safe set, else a
/// new UUID (v4).
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=128).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=@".contains(&b))
        })
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string)
}

/// One call in flight: reports itself once, when its final status is known, or as
/// `CANCELLED` if it is dropped before (the client went away or its deadline passed).
struct CallRecord {
    method: String,
    /// Whether `method` is one the server serves (else metrics say `unknown`).
    known: bool,
    request_id: String,
    started: Instant,
    metrics: Option<Metrics>,
    done: bool,
}

impl CallRecord {
    fn finish(&mut self, code: Code) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        let elapsed = self.started.elapsed();
        let code_name = code_name(code);
        tracing::info!(
            target: "dossier::access",
            request_id = %self.request_id,
            method = %self.method,
            code = code_name,
            latency_ms = elapsed.as_micros() as f64 / 1e3,
            "call finished"
        );
        if let Some(metrics) = &self.metrics {
            let path = if self.known { &self.method } else { "unknown" };
            metrics.record_call(path, code_name, elapsed);
            metrics.call_ended();
        }
    }
}

impl Drop for CallRecord {
    fn drop(&mut self) {
        self.finish(Code::Cancelled);
    }
}

/// A response body that rewrites the status in its trailers and finishes the call record.
struct ObservedBody {
    inner: Body,
    record: Option<CallRecord>,
}

impl http_body::Body for ObservedBody {
    type Data = tonic::codegen::Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        let frame = ready!(Pin::new(&mut this.inner).poll_frame(cx));
        let Some(record) = this.record.as_mut() else {
            return Poll::Ready(frame);
        };
        Poll::Ready(match frame {
            Some(Ok(frame)) => match frame.into_trailers() {
                Ok(mut trailers) => {
                    let code = finish_status(&mut trailers, &record.request_id);
                    record.finish(code.unwrap_or(Code::Unknown));
                    Some(Ok(Frame::trailers(trailers)))
                }
                Err(data) => Some(Ok(data)),
            },
            Some(Err(status)) => {
                record.finish(status.code());
                Some(Err(status))
            }
            None => {
                record.finish(Code::Unknown);
                None
            }
        })
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::status::from_headers;
    use tonic_types::StatusExt;

    /// A service that never answers.
    struct Never;

    impl Service<http::Request<Body>> for Never {
        type Response = http::Response<Body>;
        type Error = std::convert::Infallible;
        type Future = std::future::Pending<Result<Self::Response, Self::Error>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: http::Request<Body>) -> Self::Future {
            std::future::pending()
        }
    }

    /// A service that answers at once with the caller deadline the layer handed it, if any,
    /// in milliseconds from now (as the `x-deadline-ms` header).
    struct EchoDeadline;

    impl Service<http::Request<Body>> for EchoDeadline {
        type Response = http::Response<Body>;
        type Error = std::convert::Infallible;
        type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: http::Request<Body>) -> Self::Future {
            let mut response = http::Response::new(Body::empty());
            if let Some(CallerDeadline(at)) = request.extensions().get::<CallerDeadline>() {
                let ms = at.saturating_duration_since(Instant::now()).as_millis();
                response
                    .headers_mut()
                    .insert("x-deadline-ms", HeaderValue::from(ms as u64));
            }
            std::future::ready(Ok(response))
        }
    }

    #[tokio::test]
    async fn grpc_timeouts_reach_handlers_as_a_caller_deadline() {
        // Proves the grpc-timeout header becomes a deadline in the future.
        let mut service = CallLayer::default().layer(EchoDeadline);
        let mut request = search_request();
        request
            .headers_mut()
            .insert("grpc-timeout", HeaderValue::from_static("250m"));
        let response = service.call(request).await.unwrap();
        let ms: u64 = response.headers()["x-deadline-ms"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(ms > 0 && ms < 1000, "{ms}");
        let mut request = search_request();
        request
            .headers_mut()
            .insert("grpc-timeout", HeaderValue::from_static("bogus"));
        let response = service.call(request).await.unwrap();
        assert!(response.headers().get("x-deadline-ms").is_none());
    }

    fn search_request() -> http::Request<Body> {
        http::Request::builder()
            .uri("/dossier.v1.SearchService/Search")
            .body(Body::empty())
            .unwrap()
    }

    #[tokio::test]
    async fn a_call_past_the_deadline_is_deadline_exceeded_with_details_and_counted() {
        let metrics = Metrics::new();
        let mut service = CallLayer {
            timeout: Some(Duration::from_millis(1)),
            metrics: Some(metrics.clone()),
            known_methods: Arc::new(method_paths(&[dossier_api::FILE_DESCRIPTOR_SET])),
        }
        .layer(Never);
        let response = service.call(search_request()).await.unwrap();
        assert_eq!(
            metrics.in_flight(),
            0,
            "a trailers-only answer ends the call"
        );
        let status = from_headers(response.headers()).unwrap();
        assert_eq!(status.code(), Code::DeadlineExceeded);
        let details = status.get_error_details();
        assert_eq!(details.error_info().unwrap().reason, "REQUEST_TIMEOUT");
        assert!(details.request_info().is_some());
        let text = metrics.render(&Default::default(), true);
        assert!(text.contains(r#"grpc_method="Search",grpc_code="DEADLINE_EXCEEDED"} 1"#));
    }

    #[tokio::test]
    async fn the_callers_sooner_deadline_wins_and_is_deadline_exceeded() {
        let mut service = CallLayer {
            timeout: Some(Duration::from_secs(60)),
            ..CallLayer::default()
        }
        .layer(Never);
        let mut request = search_request();
        request
            .headers_mut()
            .insert("grpc-timeout", HeaderValue::from_static("5m"));
        let response = service.call(request).await.unwrap();
        let status = from_headers(response.headers()).unwrap();
        assert_eq!(status.code(), Code::DeadlineExceeded);
        assert_eq!(
            status.get_details_error_info().unwrap().reason,
            "CALLER_DEADLINE"
        );
    }

    #[test]
    fn grpc_timeout_values_parse_per_the_spec() {
        assert_eq!(grpc_timeout(b"1m"), Some(Duration::from_millis(1)));
        assert_eq!(grpc_timeout(b"2S"), Some(Duration::from_secs(2)));
        assert_eq!(grpc_timeout(b"3H"), Some(Duration::from_secs(3 * 3600)));
        assert_eq!(
            grpc_timeout(b"99999999n"),
            Some(Duration::from_nanos(99_999_999))
        );
        for bad in [&b""[..], b"m", b"123456789m", b"1x", b"-1m", b"1.5S"] {
            assert_eq!(grpc_timeout(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_call_dropped_before_its_status_counts_as_cancelled() {
        let metrics = Metrics::new();
        let mut service = CallLayer {
            timeout: None,
            metrics: Some(metrics.clone()),
            known_methods: Arc::new(method_paths(&[dossier_api::FILE_DESCRIPTOR_SET])),
        }
        .layer(Never);
        let call = service.call(search_request());
        assert_eq!(
            metrics.in_flight(),
            1,
            "a call is in flight from its arrival"
        );
        drop(call);
        assert_eq!(metrics.in_flight(), 0, "and not after it is dropped");
        let text = metrics.render(&Default::default(), true);
        assert!(text.contains(r#"grpc_method="Search",grpc_code="CANCELLED"} 1"#));
        assert!(text.contains("dossier_grpc_server_in_flight 0"));
    }

    #[test]
    fn calls_to_paths_the_server_does_not_serve_share_one_unknown_series() {
        let metrics = Metrics::new();
        let mut service = CallLayer {
            metrics: Some(metrics.clone()),
            ..CallLayer::default()
        }
        .layer(Never);
        drop(service.call(search_request()));
        let text = metrics.render(&Default::default(), true);
        assert!(text
            .contains(r#"grpc_service="unknown",grpc_method="unknown",grpc_code="CANCELLED"} 1"#));
        assert!(!text.contains("SearchService"));
    }

    #[test]
    fn request_ids_are_taken_when_sane_and_made_otherwise() {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID_HEADER, "abc-123".parse().unwrap());
        assert_eq!(request_id(&headers), "abc-123");
        headers.insert(REQUEST_ID_HEADER, "has spaces".parse().unwrap());
        let made = request_id(&headers);
        assert_eq!(made.len(), 36, "a UUID: {made}");
        assert_ne!(request_id(&HeaderMap::new()), made);
    }
}

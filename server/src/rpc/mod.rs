//! The gRPC layer: one adapter per service (each a thin struct over the [`Store`]), the one
//! error mapping ([`status`]), message conversions ([`convert`]), paging ([`page`]), and
//! [`serve`], which wires them with health, reflection, gzip, TLS, bearer-token auth
//! ([`auth`]), limits, and the per-call layer ([`layers`]: request ids, deadline, error
//! details, metrics, access log).

pub mod auth;
pub mod claim;
pub mod convert;
pub mod corpus;
pub mod entity;
pub mod layers;
mod linger;
pub mod page;
pub mod pool;
pub mod search;
pub mod status;

use crate::metrics::Metrics;
use crate::store::Store;
use dossier_api::v1::{
    claim_service_server::ClaimServiceServer, corpus_service_server::CorpusServiceServer,
    entity_service_server::EntityServiceServer, search_service_server::SearchServiceServer,
};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_stream::StreamExt as _;
use tonic::codec::CompressionEncoding;
use tonic::server::NamedService;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Certificate, Identity, ServerTlsConfig};
use tonic::{Code, Request, Status};
use tonic_health::ServingStatus as Health;

pub use claim::ClaimApi;
pub use corpus::CorpusApi;
pub use entity::EntityApi;
pub use search::SearchApi;

/// Default of `--max-message-bytes`.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;
/// Default of `--request-timeout-secs`: generous for unary calls (the slowest is analysing
/// a long text); streams are not cut by it (see [`layers`]).
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 60;
/// Default of `--max-concurrent-requests-per-connection`.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS_PER_CONNECTION: u32 = 256;
/// Default of `--http2-keepalive-interval-secs`: pings idle connections well inside the
/// usual 60–350 s idle timeouts of load balancers and NAT.
pub const DEFAULT_HTTP2_KEEPALIVE_INTERVAL_SECS: u64 = 30;
/// Default of `--http2-keepalive-timeout-secs`: a ping unanswered this long closes the
/// connection.
pub const DEFAULT_HTTP2_KEEPALIVE_TIMEOUT_SECS: u64 = 20;
/// Default of `--tcp-keepalive-secs`.
pub const DEFAULT_TCP_KEEPALIVE_SECS: u64 = 60;

/// Transport settings for [`serve`]. `ServeOptions::default()` is plaintext and open (no
/// TLS, no token, no metrics) with the flags' default limits.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Largest request or response message, in bytes; a larger one fails the call with
    /// `RESOURCE_EXHAUSTED`.
    pub max_message_bytes: usize,
    /// Serve TLS (and require client certificates, with a client CA) instead of plaintext.
    pub tls: Option<TlsOptions>,
    /// Require one of these bearer tokens on every `dossier.v1` call.
    pub auth: Option<auth::Tokens>,
    /// The most calls one connection may have in progress (HTTP/2 streams advertised to the
    /// client, and handlers running); `None` leaves hyper's default.
    pub max_concurrent_requests_per_connection: Option<u32>,
    /// The server-side deadline of a call's response headers (all of a unary call).
    pub request_timeout: Option<Duration>,
    /// How often idle HTTP/2 connections are pinged; `None` never.
    pub http2_keepalive_interval: Option<Duration>,
    /// How long a keepalive ping may go unanswered before the connection is closed.
    pub http2_keepalive_timeout: Option<Duration>,
    /// TCP keepalive on accepted sockets; `None` leaves the system's setting.
    pub tcp_keepalive: Option<Duration>,
    /// Count and time every call here (served by [`crate::metrics::serve`]).
    pub metrics: Option<Metrics>,
    /// Raw texts whose analyses are kept for the next call on the same text
    /// ([`crate::recent`]); 0 keeps none.
    pub analysis_cache_entries: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        let secs = |s| Some(Duration::from_secs(s));
        Self {
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            tls: None,
            auth: None,
            max_concurrent_requests_per_connection: Some(
                DEFAULT_MAX_CONCURRENT_REQUESTS_PER_CONNECTION,
            ),
            request_timeout: secs(DEFAULT_REQUEST_TIMEOUT_SECS),
            http2_keepalive_interval: secs(DEFAULT_HTTP2_KEEPALIVE_INTERVAL_SECS),
            http2_keepalive_timeout: secs(DEFAULT_HTTP2_KEEPALIVE_TIMEOUT_SECS),
            tcp_keepalive: secs(DEFAULT_TCP_KEEPALIVE_SECS),
            metrics: None,
            analysis_cache_entries: crate::recent::DEFAULT_ENTRIES,
        }
    }
}

/// The server's certificate chain and key, and optionally the CA that client certificates
/// must chain to (mutual TLS: a client without one is refused during the handshake). PEM.
#[derive(Clone)]
pub struct TlsOptions {
    /// Certificate chain, leaf first.
    pub cert_pem: Vec<u8>,
    /// The leaf's private key (PKCS#8, PKCS#1 or SEC1).
    pub key_pem: Vec<u8>,
    /// Require client certificates issued by this CA.
    pub client_ca_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsOptions")
            .field("mutual", &self.client_ca_pem.is_some())
            .finish_non_exhaustive()
    }
}

impl TlsOptions {
    fn server_config(&self) -> ServerTlsConfig {
        let config =
            ServerTlsConfig::new().identity(Identity::from_pem(&self.cert_pem, &self.key_pem));
        match &self.client_ca_pem {
            Some(ca) => config.client_ca_root(Certificate::from_pem(ca)),
            None => config,
        }
    }
}

/// Runs CPU-bound work off the async runtime. If the call is dropped first (its deadline
/// passed, the client went away) work that has not started yet never starts.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Status> {
    let task = tokio::task::spawn_blocking(f);
    let _abort = AbortOnDrop(task.abort_handle());
    task.await
        .map_err(|e| status::internal("running a blocking task", &e))
}

/// [`blocking`] for long work that can stop midway: `f` watches the flag it is given, which
/// is set when the call is dropped, and returns `None` when it stopped early (the caller,
/// being gone, never sees the `CANCELLED` this gives).
pub async fn cancellable<T: Send + 'static>(
    f: impl FnOnce(&AtomicBool) -> Option<T> + Send + 'static,
) -> Result<T, Status> {
    let stop = Arc::new(AtomicBool::new(false));
    let _stop_on_drop = StopOnDrop(stop.clone());
    blocking(move || f(&stop)).await?.ok_or_else(|| {
        tracing::debug!("abandoned work stopped");
        status::cancelled("the call was abandoned")
    })
}

/// Whether a request came compressed (`grpc-encoding` other than identity): the analysis
/// RPCs compress their answers only then ([`compressed_if`]).
pub fn compressed_request<T>(request: &Request<T>) -> bool {
    request
        .metadata()
        .get("grpc-encoding")
        .is_some_and(|v| v.as_bytes() != b"identity")
}

/// `response`, compressed (when the client accepts gzip) only if `compress`. An analysis
/// answer is about as large as the text the client just sent, and gzip at tonic's level 6
/// cost a tenth of the server's CPU on AnalyzeEntities + ExtractClaims for clients (grpcio's
/// defaults among them) that accept gzip but send plain requests: a client that wants
/// compression on the wire compresses its request too, and gets a compressed answer.
pub fn compressed_if<T>(compress: bool, mut response: tonic::Response<T>) -> tonic::Response<T> {
    if !compress {
        response
            .extensions_mut()
            .insert(tonic::codec::SingleMessageCompressionOverride::Disable);
    }
    response
}

/// Aborts a blocking task that has not started when its caller is dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Tells running work to stop when its caller is dropped (harmless once it has finished).
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Bound of every server stream's channel: the producer waits when the client reads slowly.
pub(crate) const STREAM_BUFFER: usize = 32;

/// A server stream of `T`, as every streaming adapter returns it.
pub type ItemStream<T> = tokio_stream::wrappers::ReceiverStream<Result<T, Status>>;

/// The one stream helper: streams what `make(item)` gives for every item (none, one or
/// several messages, or an error, which ends the stream) over a bounded channel. Production
/// runs on the blocking pool (making a message may decode a document or load a hit from the
/// index, and waits on a slow client) and stops as soon as the client goes away.
pub fn stream_items<I, T, F, M>(items: I, mut make: F) -> ItemStream<T>
where
    I: IntoIterator + Send + 'static,
    I::IntoIter: Send,
    T: Send + 'static,
    F: FnMut(I::Item) -> M + Send + 'static,
    M: IntoIterator<Item = Result<T, Status>>,
{
    let (tx, rx) = tokio::sync::mpsc::channel(STREAM_BUFFER);
    tokio::task::spawn_blocking(move || {
        for item in items {
            for message in make(item) {
                let failed = message.is_err();
                // A failed send means the client went away: stop producing.
                if tx.blocking_send(message).is_err() || failed {
                    return;
                }
            }
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

/// The names health reports on: the whole server ("") and each `dossier.v1` service.
const SERVICE_NAMES: [&str; 5] = [
    "",
    <CorpusServiceServer<CorpusApi> as NamedService>::NAME,
    <SearchServiceServer<SearchApi> as NamedService>::NAME,
    <EntityServiceServer<EntityApi> as NamedService>::NAME,
    <ClaimServiceServer<ClaimApi> as NamedService>::NAME,
];

/// The health name of the replica's standing against the system of record (`--store`):
/// `SERVING` connected and caught up (and always without a system of record), `UNKNOWN`
/// connected but lagging beyond the bound, `NOT_SERVING` disconnected (the replica still
/// serves reads from its last snapshot; writes answer `UNAVAILABLE`). The lag itself is the
/// `dossier_store_lag_seconds` gauge.
pub const STORE_HEALTH: &str = "dossier.store";

/// Keeps [`STORE_HEALTH`] in step with the follower's state.
async fn report_store(
    mut status: tokio::sync::watch::Receiver<crate::store::FollowStatus>,
    health: tonic_health::server::HealthReporter,
    draining: Arc<AtomicBool>,
) {
    use crate::store::FollowState;
    loop {
        let state = status.borrow_and_update().state;
        // Once shutdown begins everything is NOT_SERVING, and stays so.
        if draining.load(Ordering::SeqCst) {
            return;
        }
        let serving = match state {
            FollowState::Local | FollowState::Serving => Health::Serving,
            FollowState::Lagging => Health::Unknown,
            FollowState::Disconnected => Health::NotServing,
        };
        health.set_service_status(STORE_HEALTH, serving).await;
        if status.changed().await.is_err() {
            return;
        }
    }
}

/// The descriptor sets of every served service: reflection serves them, and the call layer
/// reads the served method paths from them.
const DESCRIPTOR_SETS: [&[u8]; 4] = [
    // Holds google/rpc/{status,error_details}.proto too, so clients decode error details.
    dossier_api::FILE_DESCRIPTOR_SET,
    tonic_health::pb::FILE_DESCRIPTOR_SET,
    tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
    tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
];

/// A reflection builder knowing every served service, both reflection versions included, so
/// `grpcurl list` shows the same list whichever version it speaks.
fn reflection() -> tonic_reflection::server::Builder<'static> {
    DESCRIPTOR_SETS.iter().fold(
        tonic_reflection::server::Builder::configure().include_reflection_service(false),
        |builder, set| builder.register_encoded_file_descriptor_set(set),
    )
}

/// Serves every service on `listener` until `shutdown` completes, then drains in-flight calls.
///
/// Health reports NOT_SERVING, and the `dossier.v1` services answer UNAVAILABLE, until the
/// store is marked ready (the corpus is loaded); health turns NOT_SERVING again as soon as
/// shutdown begins, so load balancers stop sending work while calls drain. With
/// `options.auth`, the `dossier.v1` services answer UNAUTHENTICATED to calls without a valid
/// bearer token; health and reflection stay open.
pub async fn serve(
    listener: TcpListener,
    store: Store,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    let (health, health_service) = tonic_health::server::health_reporter();
    for name in SERVICE_NAMES {
        health.set_service_status(name, Health::NotServing).await;
    }
    let mut ready = store.ready();
    let reporter = health.clone();
    tokio::spawn(async move {
        if ready.wait_for(|r| *r).await.is_ok() {
            for name in SERVICE_NAMES {
                reporter.set_service_status(name, Health::Serving).await;
            }
        }
    });
    let draining = Arc::new(AtomicBool::new(false));
    tokio::spawn(report_store(
        store.follow_status(),
        health.clone(),
        draining.clone(),
    ));
    let shutdown = async move {
        shutdown.await;
        draining.store(true, Ordering::SeqCst);
        for name in SERVICE_NAMES.iter().chain([&STORE_HEALTH]) {
            health.set_service_status(*name, Health::NotServing).await;
        }
    };

    let interceptor = gate(&store, options.auth.clone());
    // AnalyzeEntities and ExtractClaims on the same text analyse it once.
    let recent = crate::recent::Recent::new(options.analysis_cache_entries);
    let n = options.max_message_bytes;
    macro_rules! service {
        ($server:ident, $api:expr) => {
            InterceptedService::new(
                $server::new($api)
                    .accept_compressed(CompressionEncoding::Gzip)
                    .send_compressed(CompressionEncoding::Gzip)
                    .max_decoding_message_size(n)
                    .max_encoding_message_size(n),
                interceptor.clone(),
            )
        };
    }
    let reflection_v1 = reflection()
        .build_v1()
        .expect("the embedded descriptor set is valid");
    let reflection_v1alpha = reflection()
        .build_v1alpha()
        .expect("the embedded descriptor set is valid");
    // Nagle's algorithm would hold back small response tails for the client's delayed ACK
    // (~40 ms per call): gRPC wants every frame on the wire at once.
    let incoming = TcpIncoming::from(listener)
        .with_nodelay(Some(true))
        .with_keepalive(options.tcp_keepalive)
        .map(|accepted| accepted.map(linger::Lingering::new));
    transport(&options)?
        .layer(layers::CallLayer {
            timeout: options.request_timeout,
            metrics: options.metrics.clone(),
            known_methods: Arc::new(layers::method_paths(&DESCRIPTOR_SETS)),
        })
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(service!(CorpusServiceServer, CorpusApi::new(store.clone())))
        .add_service(service!(SearchServiceServer, SearchApi::new(store.clone())))
        .add_service(service!(
            EntityServiceServer,
            EntityApi::new(store.clone()).with_recent(recent.clone())
        ))
        .add_service(service!(
            ClaimServiceServer,
            ClaimApi::new(store).with_recent(recent)
        ))
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
}

/// The interceptor in front of each `dossier.v1` service: the bearer token first (a caller
/// without one learns nothing, not even readiness), then readiness.
fn gate(
    store: &Store,
    tokens: Option<auth::Tokens>,
) -> impl Fn(Request<()>) -> Result<Request<()>, Status> + Clone {
    let ready = store.ready();
    move |request: Request<()>| {
        if let Some(tokens) = &tokens {
            tokens.check(request.metadata())?;
        }
        if *ready.borrow() {
            Ok(request)
        } else {
            Err(status::status_with_reason(
                Code::Unavailable,
                "CORPUS_LOADING",
                "the corpus is still loading",
            ))
        }
    }
}

/// The transport: TLS, per-connection concurrency and HTTP/2 keepalive from `options`.
fn transport(options: &ServeOptions) -> Result<tonic::transport::Server, tonic::transport::Error> {
    let mut server = tonic::transport::Server::builder()
        .http2_keepalive_interval(options.http2_keepalive_interval)
        .http2_keepalive_timeout(options.http2_keepalive_timeout)
        .max_concurrent_streams(options.max_concurrent_requests_per_connection);
    if let Some(limit) = options.max_concurrent_requests_per_connection {
        server = server.concurrency_limit_per_connection(limit as usize);
    }
    if let Some(tls) = &options.tls {
        server = server.tls_config(tls.server_config())?;
    }
    Ok(server)
}

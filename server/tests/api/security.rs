//! TLS and mutual TLS, bearer-token auth, the metrics endpoint, the message-size limit and
//! request ids, against the real `serve` on 127.0.0.1:0. Certificates are made at test time
//! (rcgen); no key is ever stored.

use crate::common::fixture;
use dossier_api::v1::{
    analyze_entities_request::Source, corpus_service_client::CorpusServiceClient,
    entity_service_client::EntityServiceClient, AnalyzeEntitiesRequest, GetCorpusStatsRequest,
    GetDocumentRequest,
};
use dossier_server::metrics::{self, Metrics};
use dossier_server::rpc::{self, auth::Tokens, ServeOptions, TlsOptions};
use dossier_server::store::Store;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;
use tokio_stream::StreamExt;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::{Code, Request};
use tonic_health::pb::{
    health_check_response::ServingStatus, health_client::HealthClient, HealthCheckRequest,
};
use tonic_types::StatusExt;

/// A server started with explicit options; dropping it shuts the server down.
struct Server {
    addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    _stop: oneshot::Sender<()>,
}

/// Serves the fixture corpus (ready) with `options`, plus the metrics endpoint when
/// `options.metrics` is set.
async fn start(options: ServeOptions) -> Server {
    let store = Store::new();
    store.load(fixture());
    store.set_ready();
    let metrics_addr = match options.metrics.clone() {
        Some(m) => {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(metrics::serve(listener, m, store.clone()));
            Some(addr)
        }
        None => None,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(rpc::serve(listener, store, options, async {
        let _ = stopped.await;
    }));
    Server {
        addr,
        metrics_addr,
        _stop: stop,
    }
}

fn plaintext(addr: SocketAddr) -> Channel {
    Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_lazy()
}

/// A TLS channel trusting `ca`, presenting `identity` (cert, key) if given, expecting the
/// server to be "localhost".
fn tls(addr: SocketAddr, ca: &str, identity: Option<(&str, &str)>) -> Channel {
    let mut config = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca))
        .domain_name("localhost");
    if let Some((cert, key)) = identity {
        config = config.identity(Identity::from_pem(cert, key));
    }
    Endpoint::from_shared(format!("https://{addr}"))
        .unwrap()
        .tls_config(config)
        .unwrap()
        .connect_lazy()
}

/// A CA, a server certificate for "localhost" and a client certificate, all signed by it.
struct Pki {
    ca: String,
    server_cert: String,
    server_key: String,
    client_cert: String,
    client_key: String,
}

fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "dossier test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf = |name: &str| {
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec![name.to_string()])
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        (cert.pem(), key.serialize_pem())
    };
    let (server_cert, server_key) = leaf("localhost");
    let (client_cert, client_key) = leaf("a-client");
    Pki {
        ca: ca.pem(),
        server_cert,
        server_key,
        client_cert,
        client_key,
    }
}

fn tls_options(pki: &Pki, mutual: bool) -> ServeOptions {
    ServeOptions {
        tls: Some(TlsOptions {
            cert_pem: pki.server_cert.clone().into_bytes(),
            key_pem: pki.server_key.clone().into_bytes(),
            client_ca_pem: mutual.then(|| pki.ca.clone().into_bytes()),
        }),
        ..ServeOptions::default()
    }
}

fn authed(token: &str) -> ServeOptions {
    ServeOptions {
        auth: Tokens::parse(token),
        ..ServeOptions::default()
    }
}

fn with_token<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

async fn serving(channel: Channel) -> Result<bool, tonic::Status> {
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await?;
    Ok(response.into_inner().status == ServingStatus::Serving as i32)
}

/// A client trusting the CA completes the TLS handshake and calls health and a dossier RPC.
#[tokio::test]
async fn tls_handshake_succeeds_and_calls_go_through() {
    let pki = pki();
    let server = start(tls_options(&pki, false)).await;
    let channel = tls(server.addr, &pki.ca, None);
    assert!(serving(channel.clone()).await.unwrap());
    let stats = CorpusServiceClient::new(channel)
        .get_corpus_stats(GetCorpusStatsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stats.documents, 5);
    // A plaintext client cannot talk to the TLS port.
    assert!(serving(plaintext(server.addr)).await.is_err());
}

/// With a client CA configured, a client without a certificate is refused and one with a
/// certificate from that CA gets through.
#[tokio::test]
async fn mutual_tls_rejects_a_client_without_a_certificate() {
    let pki = pki();
    let server = start(tls_options(&pki, true)).await;
    let anonymous = serving(tls(server.addr, &pki.ca, None)).await;
    assert!(anonymous.is_err(), "{anonymous:?}");
    let identified = tls(
        server.addr,
        &pki.ca,
        Some((&pki.client_cert, &pki.client_key)),
    );
    assert!(serving(identified).await.unwrap());
}

/// dossier.v1 calls need a configured bearer token: none or a wrong one is UNAUTHENTICATED
/// (with an ErrorInfo reason), the right one is served.
#[tokio::test]
async fn calls_without_a_valid_token_are_unauthenticated_and_with_it_ok() {
    let server = start(authed("first-token\nsecond-token\n")).await;
    let mut corpus = CorpusServiceClient::new(plaintext(server.addr));

    let missing = corpus
        .get_corpus_stats(GetCorpusStatsRequest {})
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::Unauthenticated);
    let info = missing.get_details_error_info().unwrap();
    assert_eq!(
        (info.reason.as_str(), info.domain.as_str()),
        ("MISSING_CREDENTIALS", "dossier.v1")
    );

    let wrong = corpus
        .get_corpus_stats(with_token(GetCorpusStatsRequest {}, "third-token"))
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Code::Unauthenticated);
    assert_eq!(
        wrong.get_details_error_info().unwrap().reason,
        "INVALID_CREDENTIALS"
    );

    for token in ["first-token", "second-token"] {
        let stats = corpus
            .get_corpus_stats(with_token(GetCorpusStatsRequest {}, token))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(stats.documents, 5);
    }
}

/// With auth on, health and reflection still answer callers that have no token.
#[tokio::test]
async fn health_and_reflection_stay_open_without_a_token() {
    use tonic_reflection::pb::v1;
    let server = start(authed("only-token")).await;
    assert!(serving(plaintext(server.addr)).await.unwrap());
    let request = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(v1::server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    };
    let response =
        v1::server_reflection_client::ServerReflectionClient::new(plaintext(server.addr))
            .server_reflection_info(tokio_stream::iter(vec![request]))
            .await
            .unwrap()
            .into_inner()
            .next()
            .await
            .unwrap()
            .unwrap();
    assert!(matches!(
        response.message_response,
        Some(v1::server_reflection_response::MessageResponse::ListServicesResponse(_))
    ));
}

/// `GET /metrics` serves Prometheus text that counts the calls just made by method and
/// code, times them, and reports the corpus size.
#[tokio::test]
async fn metrics_endpoint_shows_the_calls_just_made() {
    let server = start(ServeOptions {
        metrics: Some(Metrics::new()),
        ..ServeOptions::default()
    })
    .await;
    let mut corpus = CorpusServiceClient::new(plaintext(server.addr));
    for _ in 0..2 {
        corpus
            .get_corpus_stats(GetCorpusStatsRequest {})
            .await
            .unwrap();
    }
    let missing = corpus
        .get_document(GetDocumentRequest { id: "nope".into() })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    assert!(serving(plaintext(server.addr)).await.unwrap());

    let (status_line, text) = http_get(server.metrics_addr.unwrap(), "/metrics").await;
    assert_eq!(status_line, "HTTP/1.1 200 OK");
    let service = r#"grpc_service="dossier.v1.CorpusService""#;
    for line in [
        format!(
            r#"dossier_grpc_server_handled_total{{{service},grpc_method="GetCorpusStats",grpc_code="OK"}} 2"#
        ),
        format!(
            r#"dossier_grpc_server_handled_total{{{service},grpc_method="GetDocument",grpc_code="NOT_FOUND"}} 1"#
        ),
        format!(
            r#"dossier_grpc_server_handling_seconds_count{{{service},grpc_method="GetCorpusStats",grpc_code="OK"}} 2"#
        ),
        format!(
            r#"dossier_grpc_server_handling_seconds_bucket{{{service},grpc_method="GetCorpusStats",grpc_code="OK",le="+Inf"}} 2"#
        ),
        r#"dossier_grpc_server_handled_total{grpc_service="grpc.health.v1.Health",grpc_method="Check",grpc_code="OK"} 1"#.to_string(),
        "dossier_corpus_documents 5".to_string(),
        "dossier_ready 1".to_string(),
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in:\n{text}");
    }
    let (not_found, _) = http_get(server.metrics_addr.unwrap(), "/other").await;
    assert_eq!(not_found, "HTTP/1.1 404 Not Found");
}

/// One HTTP/1.1 GET over a plain socket: the status line and the body.
async fn http_get(addr: SocketAddr, path: &str) -> (String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_string(), body.to_string())
}

/// A request over `--max-message-bytes` fails with RESOURCE_EXHAUSTED (tonic itself says
/// OUT_OF_RANGE), while a small one on the same server is served.
#[tokio::test]
async fn an_oversize_request_is_resource_exhausted() {
    let server = start(ServeOptions {
        max_message_bytes: 1024,
        ..ServeOptions::default()
    })
    .await;
    let mut entities = EntityServiceClient::new(plaintext(server.addr));
    let analyze = |text: String| AnalyzeEntitiesRequest {
        source: Some(Source::Text(text)),
        ..Default::default()
    };
    let too_big = entities
        .analyze_entities(analyze("Talks in Istanbul. ".repeat(100)))
        .await
        .unwrap_err();
    assert_eq!(too_big.code(), Code::ResourceExhausted, "{too_big:?}");
    assert_eq!(
        too_big.get_details_error_info().unwrap().reason,
        "MESSAGE_TOO_LARGE"
    );
    assert!(entities
        .analyze_entities(analyze("Talks in Istanbul.".into()))
        .await
        .is_ok());
}

/// The caller's `x-request-id` comes back in the response metadata (success or error) and
/// in the error's RequestInfo; without one, the server makes one up and returns it.
#[tokio::test]
async fn request_ids_are_echoed_and_carried_in_error_details() {
    let server = start(ServeOptions::default()).await;
    let mut corpus = CorpusServiceClient::new(plaintext(server.addr));

    let mut request = Request::new(GetCorpusStatsRequest {});
    request
        .metadata_mut()
        .insert("x-request-id", "trace-0001".parse().unwrap());
    let ok = corpus.get_corpus_stats(request).await.unwrap();
    assert_eq!(ok.metadata().get("x-request-id").unwrap(), "trace-0001");

    let mut request = Request::new(GetDocumentRequest { id: "nope".into() });
    request
        .metadata_mut()
        .insert("x-request-id", "trace-0002".parse().unwrap());
    let error = corpus.get_document(request).await.unwrap_err();
    assert_eq!(error.metadata().get("x-request-id").unwrap(), "trace-0002");
    let details = error.get_error_details();
    assert_eq!(details.request_info().unwrap().request_id, "trace-0002");
    assert_eq!(details.error_info().unwrap().reason, "NOT_FOUND");

    let made_up = corpus
        .get_corpus_stats(GetCorpusStatsRequest {})
        .await
        .unwrap();
    let id = made_up
        .metadata()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(id.len(), 36, "a UUID, not {id:?}");
}

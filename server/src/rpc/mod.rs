//! The gRPC layer: one adapter per service (each a thin struct over the [`Store`]), the one
//! error mapping ([`status`]), message conversions ([`convert`]), paging ([`page`]), and
//! [`serve`], which wires them with health, reflection, gzip and size limits.

pub mod claim;
pub mod convert;
pub mod corpus;
pub mod entity;
pub mod page;
pub mod search;
pub mod status;

use crate::store::Store;
use dossier_api::v1::{
    claim_service_server::ClaimServiceServer, corpus_service_server::CorpusServiceServer,
    entity_service_server::EntityServiceServer, search_service_server::SearchServiceServer,
};
use std::future::Future;
use tokio::net::TcpListener;
use tonic::codec::CompressionEncoding;
use tonic::server::NamedService;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Status};
use tonic_health::ServingStatus;

pub use claim::ClaimApi;
pub use corpus::CorpusApi;
pub use entity::EntityApi;
pub use search::SearchApi;

/// Transport settings for [`serve`].
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// Largest request or response message, in bytes.
    pub max_message_bytes: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            max_message_bytes: 16 * 1024 * 1024,
        }
    }
}

/// Runs CPU-bound work off the async runtime.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Status> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| status::internal("running a blocking task", &e))
}

/// The names health reports on: the whole server ("") and each `dossier.v1` service.
const SERVICE_NAMES: [&str; 5] = [
    "",
    <CorpusServiceServer<CorpusApi> as NamedService>::NAME,
    <SearchServiceServer<SearchApi> as NamedService>::NAME,
    <EntityServiceServer<EntityApi> as NamedService>::NAME,
    <ClaimServiceServer<ClaimApi> as NamedService>::NAME,
];

/// A reflection builder knowing every served service, both reflection versions included, so
/// `grpcurl list` shows the same list whichever version it speaks.
fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .include_reflection_service(false)
        .register_encoded_file_descriptor_set(dossier_api::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET)
}

/// Serves every service on `listener` until `shutdown` completes, then drains in-flight calls.
///
/// Health reports NOT_SERVING, and the `dossier.v1` services answer UNAVAILABLE, until the
/// store is marked ready (the corpus is loaded); health turns NOT_SERVING again as soon as
/// shutdown begins, so load balancers stop sending work while calls drain.
pub async fn serve(
    listener: TcpListener,
    store: Store,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    let (health, health_service) = tonic_health::server::health_reporter();
    for name in SERVICE_NAMES {
        health
            .set_service_status(name, ServingStatus::NotServing)
            .await;
    }
    let mut ready = store.ready();
    let reporter = health.clone();
    tokio::spawn(async move {
        if ready.wait_for(|r| *r).await.is_ok() {
            for name in SERVICE_NAMES {
                reporter
                    .set_service_status(name, ServingStatus::Serving)
                    .await;
            }
        }
    });
    let shutdown = async move {
        shutdown.await;
        for name in SERVICE_NAMES {
            health
                .set_service_status(name, ServingStatus::NotServing)
                .await;
        }
    };

    let ready = store.ready();
    let gate = move |request: Request<()>| {
        if *ready.borrow() {
            Ok(request)
        } else {
            Err(Status::unavailable("the corpus is still loading"))
        }
    };
    let n = options.max_message_bytes;
    macro_rules! service {
        ($server:ident, $api:expr) => {
            InterceptedService::new(
                $server::new($api)
                    .accept_compressed(CompressionEncoding::Gzip)
                    .send_compressed(CompressionEncoding::Gzip)
                    .max_decoding_message_size(n)
                    .max_encoding_message_size(n),
                gate.clone(),
            )
        };
    }
    let reflection_v1 = reflection()
        .build_v1()
        .expect("the embedded descriptor set is valid");
    let reflection_v1alpha = reflection()
        .build_v1alpha()
        .expect("the embedded descriptor set is valid");
    tonic::transport::Server::builder()
        .trace_fn(|request| tracing::info_span!("grpc", method = %request.uri().path()))
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(service!(CorpusServiceServer, CorpusApi::new(store.clone())))
        .add_service(service!(SearchServiceServer, SearchApi::new(store.clone())))
        .add_service(service!(EntityServiceServer, EntityApi::new(store.clone())))
        .add_service(service!(ClaimServiceServer, ClaimApi::new(store)))
        // Nagle's algorithm would hold back small response tails for the client's delayed ACK
        // (~40 ms per call): gRPC wants every frame on the wire at once.
        .serve_with_incoming_shutdown(
            TcpIncoming::from(listener).with_nodelay(Some(true)),
            shutdown,
        )
        .await
}

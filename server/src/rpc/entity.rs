//! `EntityService`: entities of a text and the corpus's resolved entity registry.

use dossier_api::v1::{
    entity_service_server::EntityService, AnalyzeEntitiesRequest, AnalyzeEntitiesResponse, Entity,
    GetEntityRequest, ListEntitiesRequest, ListEntitiesResponse, ListRelatedEntitiesRequest,
    ListRelatedEntitiesResponse, Mention, StreamMentionsRequest,
};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::store::Store;

/// Serves `dossier.v1.EntityService`.
#[derive(Clone)]
pub struct EntityApi {
    #[allow(dead_code)]
    store: Store,
}

impl EntityApi {
    /// An adapter over `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

const MISSING: &str =
    "the named-entity tagger and entity registry arrive with the entity issue (#4)";

#[tonic::async_trait]
impl EntityService for EntityApi {
    type StreamEntitiesStream = ReceiverStream<Result<Entity, Status>>;
    type StreamMentionsStream = ReceiverStream<Result<Mention, Status>>;

    async fn analyze_entities(
        &self,
        _request: Request<AnalyzeEntitiesRequest>,
    ) -> Result<Response<AnalyzeEntitiesResponse>, Status> {
        Err(Status::unimplemented(format!("AnalyzeEntities: {MISSING}")))
    }

    async fn list_entities(
        &self,
        _request: Request<ListEntitiesRequest>,
    ) -> Result<Response<ListEntitiesResponse>, Status> {
        Err(Status::unimplemented(format!("ListEntities: {MISSING}")))
    }

    async fn stream_entities(
        &self,
        _request: Request<ListEntitiesRequest>,
    ) -> Result<Response<Self::StreamEntitiesStream>, Status> {
        Err(Status::unimplemented(format!("StreamEntities: {MISSING}")))
    }

    async fn get_entity(
        &self,
        _request: Request<GetEntityRequest>,
    ) -> Result<Response<Entity>, Status> {
        Err(Status::unimplemented(format!("GetEntity: {MISSING}")))
    }

    async fn stream_mentions(
        &self,
        _request: Request<StreamMentionsRequest>,
    ) -> Result<Response<Self::StreamMentionsStream>, Status> {
        Err(Status::unimplemented(format!("StreamMentions: {MISSING}")))
    }

    async fn list_related_entities(
        &self,
        _request: Request<ListRelatedEntitiesRequest>,
    ) -> Result<Response<ListRelatedEntitiesResponse>, Status> {
        Err(Status::unimplemented(format!(
            "ListRelatedEntities: {MISSING}"
        )))
    }
}

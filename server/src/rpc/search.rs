//! `SearchService`: ranked search, streaming and more-like-this.

use dossier_api::v1::{
    search_service_server::SearchService, MoreLikeThisRequest, SearchHit, SearchRequest,
    SearchResponse,
};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::store::Store;

/// Serves `dossier.v1.SearchService`.
#[derive(Clone)]
pub struct SearchApi {
    #[allow(dead_code)]
    store: Store,
}

impl SearchApi {
    /// An adapter over `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

#[tonic::async_trait]
impl SearchService for SearchApi {
    type StreamSearchStream = ReceiverStream<Result<SearchHit, Status>>;

    async fn search(
        &self,
        _request: Request<SearchRequest>,
    ) -> Result<Response<SearchResponse>, Status> {
        Err(Status::unimplemented(
            "Search: the search index arrives with the search issue (#3)",
        ))
    }

    async fn stream_search(
        &self,
        _request: Request<SearchRequest>,
    ) -> Result<Response<Self::StreamSearchStream>, Status> {
        Err(Status::unimplemented(
            "StreamSearch: the search index arrives with the search issue (#3)",
        ))
    }

    async fn more_like_this(
        &self,
        _request: Request<MoreLikeThisRequest>,
    ) -> Result<Response<SearchResponse>, Status> {
        Err(Status::unimplemented(
            "MoreLikeThis: the search index arrives with the search issue (#3)",
        ))
    }
}

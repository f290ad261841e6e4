//! `ClaimService`: quotes, reported speech and assertions with their speakers, and disputes.

use dossier_api::v1::{
    claim_service_server::ClaimService, Claim, ExtractClaimsRequest, ExtractClaimsResponse,
    GetClaimRequest, ListClaimsRequest, ListClaimsResponse, ListDisputesRequest,
    ListDisputesResponse,
};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::store::Store;

/// Serves `dossier.v1.ClaimService`.
#[derive(Clone)]
pub struct ClaimApi {
    #[allow(dead_code)]
    store: Store,
}

impl ClaimApi {
    /// An adapter over `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

const MISSING: &str = "claim extraction and dispute detection arrive with the claim issue (#5)";

#[tonic::async_trait]
impl ClaimService for ClaimApi {
    type StreamClaimsStream = ReceiverStream<Result<Claim, Status>>;

    async fn extract_claims(
        &self,
        _request: Request<ExtractClaimsRequest>,
    ) -> Result<Response<ExtractClaimsResponse>, Status> {
        Err(Status::unimplemented(format!("ExtractClaims: {MISSING}")))
    }

    async fn list_claims(
        &self,
        _request: Request<ListClaimsRequest>,
    ) -> Result<Response<ListClaimsResponse>, Status> {
        Err(Status::unimplemented(format!("ListClaims: {MISSING}")))
    }

    async fn stream_claims(
        &self,
        _request: Request<ListClaimsRequest>,
    ) -> Result<Response<Self::StreamClaimsStream>, Status> {
        Err(Status::unimplemented(format!("StreamClaims: {MISSING}")))
    }

    async fn get_claim(
        &self,
        _request: Request<GetClaimRequest>,
    ) -> Result<Response<Claim>, Status> {
        Err(Status::unimplemented(format!("GetClaim: {MISSING}")))
    }

    async fn list_disputes(
        &self,
        _request: Request<ListDisputesRequest>,
    ) -> Result<Response<ListDisputesResponse>, Status> {
        Err(Status::unimplemented(format!("ListDisputes: {MISSING}")))
    }
}

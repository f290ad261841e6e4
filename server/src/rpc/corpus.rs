//! `CorpusService`: ingest, read, list and delete documents.

use super::status::{code_name, invalid_argument};
use super::{blocking, convert, page};
use crate::store::{Store, StoredDoc};
use dossier_api::v1::{
    self, corpus_service_server::CorpusService, CorpusStats, DeleteDocumentRequest,
    DeleteDocumentResponse, GetCorpusStatsRequest, GetDocumentRequest, IngestDocumentsRequest,
    IngestDocumentsResponse, ListDocumentsRequest, ListDocumentsResponse,
};
use tokio::sync::mpsc;
use tokio_stream::{wrappers::ReceiverStream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

/// Serves `dossier.v1.CorpusService` over a [`Store`].
#[derive(Clone)]
pub struct CorpusApi {
    store: Store,
}

impl CorpusApi {
    /// An adapter over `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

/// Default and largest `ListDocuments` page.
const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 1000;

#[tonic::async_trait]
impl CorpusService for CorpusApi {
    type IngestDocumentsStream = ReceiverStream<Result<IngestDocumentsResponse, Status>>;

    async fn ingest_documents(
        &self,
        request: Request<Streaming<IngestDocumentsRequest>>,
    ) -> Result<Response<Self::IngestDocumentsStream>, Status> {
        let mut inbound = request.into_inner();
        let (tx, rx) = mpsc::channel(16);
        let store = self.store.clone();
        tokio::spawn(async move {
            let mut index = 0i64;
            while let Some(message) = inbound.next().await {
                let response = match message {
                    Ok(IngestDocumentsRequest { document }) => {
                        ingest_one(&store, document, index).await
                    }
                    // The request stream failed (an oversize message, a reset): the documents
                    // answered so far stand; the stream ends with that error, never with OK.
                    Err(status) => {
                        tracing::debug!(%status, "ingest request stream failed");
                        let _ = tx.send(Err(status)).await;
                        break;
                    }
                };
                index += 1;
                if tx.send(Ok(response)).await.is_err() {
                    break;
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn get_document(
        &self,
        request: Request<GetDocumentRequest>,
    ) -> Result<Response<v1::Document>, Status> {
        let GetDocumentRequest { id } = request.into_inner();
        let Some(id) = non_empty(id) else {
            return Err(invalid_argument("id", "must not be empty"));
        };
        let snapshot = self.store.snapshot();
        Ok(Response::new(convert::document(snapshot.get(&id)?, true)))
    }

    async fn list_documents(
        &self,
        request: Request<ListDocumentsRequest>,
    ) -> Result<Response<ListDocumentsResponse>, Status> {
        let ListDocumentsRequest {
            page_size,
            page_token,
            source,
            include_text,
        } = request.into_inner();
        let size = page::page_size(page_size, DEFAULT_PAGE, MAX_PAGE)?;
        let fp = page::fingerprint(&[&source]);
        let after = page::decode(&page_token, fp)?;
        let snapshot = self.store.snapshot();
        let matches = |d: &&std::sync::Arc<StoredDoc>| source.is_empty() || d.doc.source == source;
        let total_size = snapshot.docs.values().filter(matches).count() as i64;
        let range = match &after {
            Some(id) => snapshot
                .docs
                .range::<String, _>((std::ops::Bound::Excluded(id), std::ops::Bound::Unbounded)),
            None => snapshot.docs.range::<String, _>(..),
        };
        let mut docs: Vec<_> = range
            .map(|(_, d)| d)
            .filter(matches)
            .take(size + 1)
            .collect();
        let next_page_token = if docs.len() > size {
            docs.truncate(size);
            docs.last()
                .map(|d| page::encode(fp, &d.doc.id))
                .unwrap_or_default()
        } else {
            String::new()
        };
        let documents = docs
            .into_iter()
            .map(|d| convert::document(d, include_text))
            .collect();
        Ok(Response::new(ListDocumentsResponse {
            documents,
            next_page_token,
            total_size,
        }))
    }

    async fn delete_document(
        &self,
        request: Request<DeleteDocumentRequest>,
    ) -> Result<Response<DeleteDocumentResponse>, Status> {
        let DeleteDocumentRequest { id } = request.into_inner();
        let Some(id) = non_empty(id) else {
            return Err(invalid_argument("id", "must not be empty"));
        };
        let store = self.store.clone();
        let deleted = id.clone();
        blocking(move || store.delete(&deleted)).await??;
        Ok(Response::new(DeleteDocumentResponse { id }))
    }

    async fn get_corpus_stats(
        &self,
        request: Request<GetCorpusStatsRequest>,
    ) -> Result<Response<CorpusStats>, Status> {
        let GetCorpusStatsRequest {} = request.into_inner();
        let snapshot = self.store.snapshot();
        let c = snapshot.counts;
        let store = self.store.clone();
        let (entities, index_bytes) = blocking(move || {
            (
                snapshot.entities().entities.len(),
                store.index().index_bytes(),
            )
        })
        .await?;
        Ok(Response::new(CorpusStats {
            documents: c.documents as i64,
            words: c.words as i64,
            sentences: c.sentences as i64,
            entities: entities as i64,
            claims: c.claims as i64,
            index_bytes: index_bytes as i64,
            text_bytes: c.text_bytes as i64,
            entity_mentions: c.entity_mentions as i64,
        }))
    }
}

fn non_empty(s: String) -> Option<String> {
    (!s.trim().is_empty()).then_some(s)
}

/// Validates, analyses and stores one ingested document; failures become the response's error.
async fn ingest_one(
    store: &Store,
    document: Option<v1::Document>,
    index: i64,
) -> IngestDocumentsResponse {
    let requested_id = document.as_ref().map(|d| d.id.clone()).unwrap_or_default();
    let outcome: Result<(String, bool), Status> = async {
        let Some(message) = document else {
            return Err(invalid_argument("document", "is required"));
        };
        let mut doc = convert::document_from(message);
        doc.validate()?;
        let id = doc.id.clone();
        let store = store.clone();
        let created = blocking(move || store.upsert(vec![StoredDoc::analyze(doc)])).await??;
        Ok((id, created[0]))
    }
    .await;
    match outcome {
        Ok((id, created)) => IngestDocumentsResponse {
            id,
            created,
            error: None,
            index,
        },
        Err(status) => {
            let field = tonic_types::StatusExt::get_error_details(&status)
                .bad_request()
                .and_then(|b| b.field_violations.first().map(|v| v.field.clone()))
                .unwrap_or_default();
            IngestDocumentsResponse {
                id: requested_id,
                created: false,
                error: Some(v1::ItemError {
                    code: code_name(status.code()).to_string(),
                    message: status.message().to_string(),
                    field,
                }),
                index,
            }
        }
    }
}

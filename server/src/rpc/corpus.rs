//! `CorpusService`: ingest, read, list and delete documents.

use super::page::Pager;
use super::status::{code_name, invalid_argument};
use super::{blocking, convert, stream_replies, ItemStream};
use crate::store::{CorpusCounts, Store, StoredDoc};
use dossier_api::v1::{
    self, corpus_service_server::CorpusService, CorpusStats, DeleteDocumentRequest,
    DeleteDocumentResponse, GetCorpusStatsRequest, GetDocumentRequest, IngestDocumentsRequest,
    IngestDocumentsResponse, ListDocumentsRequest, ListDocumentsResponse,
};
use tonic::{Request, Response, Status, Streaming};

/// Serves `dossier.v1.CorpusService` over a [`Store`].
#[derive(Clone)]
pub struct CorpusApi {
    store: Store,
}

// Debug without the fields: they hold handles, caches or tokenizer state that say nothing useful.
impl std::fmt::Debug for CorpusApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CorpusApi").finish_non_exhaustive()
    }
}

impl CorpusApi {
    /// An adapter over `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

/// Default and largest `ListDocuments` page.
const PAGE: (usize, usize) = (50, 1000);

#[tonic::async_trait]
impl CorpusService for CorpusApi {
    type IngestDocumentsStream = ItemStream<IngestDocumentsResponse>;

    async fn ingest_documents(
        &self,
        request: Request<Streaming<IngestDocumentsRequest>>,
    ) -> Result<Response<Self::IngestDocumentsStream>, Status> {
        let store = self.store.clone();
        let mut index = 0i64;
        // A failed request stream (an oversize message, a reset) ends the response stream
        // with that error, never with OK; the documents answered so far stand.
        let replies = stream_replies(request.into_inner(), move |message| {
            let IngestDocumentsRequest { document } = message;
            let (store, at) = (store.clone(), index);
            index += 1;
            async move { ingest_one(&store, document, at).await }
        });
        Ok(Response::new(replies))
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
        let pager = Pager::new(&[&source], page_size, &page_token, PAGE)?;
        let snapshot = self.store.snapshot();
        let page = snapshot.documents_after(Some(&source), pager.after(), pager.size);
        let last = page.documents.last().map(|d| d.doc.id.as_str());
        Ok(Response::new(ListDocumentsResponse {
            next_page_token: pager.next_after(page.more, last),
            total_size: page.total as i64,
            documents: page
                .documents
                .iter()
                .map(|d| convert::document(d, include_text))
                .collect(),
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
        let store = self.store.clone();
        let stats = blocking(move || {
            let entities = snapshot.entities().entities.len();
            stats_message(&snapshot.counts, entities, store.index().index_bytes())
        })
        .await?;
        Ok(Response::new(stats))
    }
}

/// The message for the corpus counts.
fn stats_message(c: &CorpusCounts, entities: usize, index_bytes: u64) -> CorpusStats {
    CorpusStats {
        documents: c.documents as i64,
        words: c.words as i64,
        sentences: c.sentences as i64,
        entities: entities as i64,
        claims: c.claims as i64,
        index_bytes: index_bytes as i64,
        text_bytes: c.text_bytes as i64,
        entity_mentions: c.entity_mentions as i64,
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

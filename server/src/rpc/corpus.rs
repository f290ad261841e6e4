//! `CorpusService`: ingest, read, list and delete documents.
//!
//! Ingest is a group commit: the documents of a stream are validated as they arrive and
//! analysed in parallel (up to 64 at a time, on the analysis pool), and whatever
//! is analysed when the store is free goes in as one write (one log write — one `fsync` or
//! one transaction — one index commit, one snapshot swap). Each document is answered only
//! after its group is durable and searchable, in the order the documents came, and a bad
//! document still fails alone.

use super::page::Pager;
use super::status::{code_name, invalid_argument};
use super::{blocking, convert, ItemStream, STREAM_BUFFER};
use crate::store::{CorpusCounts, Store, StoredDoc};
use dossier_api::v1::{
    self, corpus_service_server::CorpusService, CorpusStats, DeleteDocumentRequest,
    DeleteDocumentResponse, GetCorpusStatsRequest, GetDocumentRequest, IngestDocumentsRequest,
    IngestDocumentsResponse, ListDocumentsRequest, ListDocumentsResponse,
};
use tokio::sync::{mpsc, oneshot};
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
        let (pending_tx, pending_rx) = mpsc::channel(IN_FLIGHT);
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        tokio::spawn(read_ingest(request.into_inner(), pending_tx));
        tokio::spawn(commit_ingest(self.store.clone(), pending_rx, tx));
        Ok(Response::new(tokio_stream::wrappers::ReceiverStream::new(
            rx,
        )))
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

/// Documents of one ingest stream being analysed at once; also the largest group commit.
const IN_FLIGHT: usize = 64;

/// An inbound ingest message on its way to its answer.
enum Pending {
    /// Valid, being analysed on the analysis pool.
    Analysing {
        id: String,
        index: i64,
        analysis: oneshot::Receiver<StoredDoc>,
    },
    /// Answered already (it failed validation).
    Answered(IngestDocumentsResponse),
    /// The request stream failed: answered after everything before it, and it ends the
    /// response stream (with that error, never with OK; the documents answered so far stand).
    Failed(Status),
}

/// Reads the request stream: validates each document and starts its analysis, at most
/// [`IN_FLIGHT`] ahead of the committer.
async fn read_ingest(
    mut inbound: Streaming<IngestDocumentsRequest>,
    pending: mpsc::Sender<Pending>,
) {
    use tokio_stream::StreamExt;
    let mut index = 0i64;
    while let Some(message) = inbound.next().await {
        let next = match message {
            Ok(IngestDocumentsRequest { document }) => {
                let at = index;
                index += 1;
                prepare(document, at)
            }
            Err(status) => {
                tracing::debug!(%status, "request stream failed");
                Pending::Failed(status)
            }
        };
        let failed = matches!(next, Pending::Failed(_));
        // A failed send means the committer stopped (the client went away).
        if pending.send(next).await.is_err() || failed {
            break;
        }
    }
}

/// Validates one document and starts its analysis.
fn prepare(document: Option<v1::Document>, index: i64) -> Pending {
    let requested_id = document.as_ref().map(|d| d.id.clone()).unwrap_or_default();
    let Some(message) = document else {
        let status = invalid_argument("document", "is required");
        return Pending::Answered(failure(requested_id, index, &status));
    };
    let mut doc = convert::document_from(message);
    if let Err(e) = doc.validate() {
        return Pending::Answered(failure(requested_id, index, &Status::from(e)));
    }
    let (tx, analysis) = oneshot::channel();
    rayon::spawn(move || {
        // The receiver is gone only when the stream was abandoned.
        let _ = tx.send(StoredDoc::analyze(doc));
    });
    Pending::Analysing {
        id: requested_id,
        index,
        analysis,
    }
}

/// Takes the pending documents in order, in groups of what has arrived (at most
/// [`IN_FLIGHT`]), stores each group in one write and answers its documents in order.
async fn commit_ingest(
    store: Store,
    mut pending: mpsc::Receiver<Pending>,
    replies: mpsc::Sender<Result<IngestDocumentsResponse, Status>>,
) {
    while let Some(first) = pending.recv().await {
        let mut group = vec![first];
        while group.len() < IN_FLIGHT {
            match pending.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let mut answers: Vec<Option<Result<IngestDocumentsResponse, Status>>> = Vec::new();
        let mut docs = Vec::new();
        // (position in `answers`, id, index) of each document in `docs`.
        let mut slots = Vec::new();
        for item in group {
            match item {
                Pending::Answered(reply) => answers.push(Some(Ok(reply))),
                Pending::Failed(status) => answers.push(Some(Err(status))),
                Pending::Analysing {
                    id,
                    index,
                    analysis,
                } => match analysis.await {
                    Ok(doc) => {
                        slots.push((answers.len(), id, index));
                        docs.push(doc);
                        answers.push(None);
                    }
                    Err(_) => {
                        let status = Status::internal("the analysis of a document was lost");
                        answers.push(Some(Ok(failure(id, index, &status))));
                    }
                },
            }
        }
        if !docs.is_empty() {
            let store = store.clone();
            let outcome = blocking(move || store.upsert(docs))
                .await
                .and_then(|r| r.map_err(Status::from));
            for (i, (at, id, index)) in slots.into_iter().enumerate() {
                answers[at] = Some(Ok(match &outcome {
                    Ok(created) => IngestDocumentsResponse {
                        id,
                        created: created[i],
                        error: None,
                        index,
                    },
                    Err(status) => failure(id, index, status),
                }));
            }
        }
        for answer in answers.into_iter().flatten() {
            let failed = answer.is_err();
            if replies.send(answer).await.is_err() || failed {
                return;
            }
        }
    }
}

/// The answer for a document that failed with `status`.
fn failure(id: String, index: i64, status: &Status) -> IngestDocumentsResponse {
    let field = tonic_types::StatusExt::get_error_details(status)
        .bad_request()
        .and_then(|b| b.field_violations.first().map(|v| v.field.clone()))
        .unwrap_or_default();
    IngestDocumentsResponse {
        id,
        created: false,
        error: Some(v1::ItemError {
            code: code_name(status.code()).to_string(),
            message: status.message().to_string(),
            field,
        }),
        index,
    }
}

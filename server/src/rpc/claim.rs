//! `ClaimService`: quotes, reported speech and assertions with their speakers, and disputes.

use super::page::Pager;
use super::status::invalid_argument;
use super::{
    blocking, cancellable, compressed_if, compressed_request, convert, stream_items, ItemStream,
};
use crate::analysis::claims::{Claim, ClaimKind, SpeakerKind};
use crate::analysis::disputes::DisputeKind;
use crate::analysis::quantities::Quantity;
use crate::offsets::{Encoding, OffsetMap};
use crate::recent::{Analysed, Recent};
use crate::store::claims::Dispute;
use crate::store::query::{ClaimKey, ClaimQuery, CorpusClaim};
use crate::store::{Snapshot, Store, StoredDoc};
use dossier_api::v1::{
    self, claim_service_server::ClaimService, extract_claims_request::Source, ExtractClaimsRequest,
    ExtractClaimsResponse, GetClaimRequest, ListClaimsRequest, ListClaimsResponse,
    ListDisputesRequest, ListDisputesResponse,
};
use tonic::{Request, Response, Status};

/// Serves `dossier.v1.ClaimService`.
#[derive(Clone)]
pub struct ClaimApi {
    store: Store,
    /// Analyses of recent raw texts, shared with the [`super::EntityApi`] of the same server.
    recent: Recent,
}

// Debug without the fields: they hold handles, caches or tokenizer state that say nothing useful.
impl std::fmt::Debug for ClaimApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimApi").finish_non_exhaustive()
    }
}

impl ClaimApi {
    /// An adapter over `store` (with recent analyses of its own).
    pub fn new(store: Store) -> Self {
        Self {
            store,
            recent: Recent::default(),
        }
    }

    /// The same adapter sharing `recent` (with the entity adapter: AnalyzeEntities and
    /// ExtractClaims on one text analyse it once).
    pub fn with_recent(self, recent: Recent) -> Self {
        Self { recent, ..self }
    }
}

/// Default and largest `ListClaims` page.
const PAGE: (usize, usize) = (50, 1000);
/// Default and largest `ListDisputes` page.
const DISPUTE_PAGE: (usize, usize) = (20, 100);

fn kind(k: ClaimKind) -> v1::ClaimKind {
    match k {
        ClaimKind::Direct => v1::ClaimKind::DirectQuote,
        ClaimKind::Indirect => v1::ClaimKind::IndirectQuote,
        ClaimKind::Assertion => v1::ClaimKind::Assertion,
    }
}

fn speaker_kind(k: SpeakerKind) -> v1::SpeakerKind {
    match k {
        SpeakerKind::Named => v1::SpeakerKind::Named,
        SpeakerKind::Anonymous => v1::SpeakerKind::Anonymous,
        SpeakerKind::Author => v1::SpeakerKind::Author,
        SpeakerKind::Unknown => v1::SpeakerKind::Unknown,
    }
}

/// The message for a quantity.
fn quantity(text: &str, map: &OffsetMap<'_>, q: &Quantity) -> v1::Quantity {
    v1::Quantity {
        value: q.value,
        lower: q.lower,
        upper: q.upper,
        unit: q.unit.to_string(),
        span: Some(convert::span(text, map, q.span.clone())),
        exclusive: q.lower.is_some() && !q.lower_inclusive
            || q.upper.is_some() && !q.upper_inclusive,
    }
}

/// What a claim's speaker and content resolved to in a registry.
struct Resolved<'a> {
    speaker: Option<&'a crate::entities::Entity>,
    entities: Vec<String>,
}

/// The message for one claim of a text; its `sentence` only when `sentence`.
fn claim_message(
    id: String,
    doc_id: &str,
    (text, map): (&str, &OffsetMap<'_>),
    c: &Claim,
    resolved: Resolved<'_>,
    sentence: bool,
) -> v1::Claim {
    let s = &c.speaker;
    let speaker = v1::Speaker {
        name: resolved
            .speaker
            .map_or_else(|| s.name.clone(), |e| e.name.clone()),
        entity_id: resolved.speaker.map(|e| e.id.clone()).unwrap_or_default(),
        kind: speaker_kind(s.kind) as i32,
        description: s.description.clone(),
        span: s.span.clone().map(|r| convert::span(text, map, r)),
    };
    v1::Claim {
        id,
        document_id: doc_id.to_string(),
        kind: kind(c.kind) as i32,
        text: c.text.clone(),
        content: Some(convert::span(text, map, c.content.clone())),
        speaker: Some(speaker),
        cue: c.cue.clone().map(|r| convert::span(text, map, r)),
        entity_ids: resolved.entities,
        quantities: c
            .quantities
            .iter()
            .map(|q| quantity(text, map, q))
            .collect(),
        check_worthiness: c.check_worthiness,
        sentence: sentence.then(|| {
            let context = convert::context(text, c.sentence.clone(), c.content.clone());
            convert::span(text, map, context)
        }),
    }
}

/// The message for a corpus claim, with its sentence; `map` is its document's offset map
/// when the caller has one.
fn corpus_claim(c: CorpusClaim<'_>, encoding: Encoding, map: Option<&OffsetMap<'_>>) -> v1::Claim {
    corpus_claim_in(c, encoding, map, true)
}

fn corpus_claim_in(
    c: CorpusClaim<'_>,
    encoding: Encoding,
    map: Option<&OffsetMap<'_>>,
    sentence: bool,
) -> v1::Claim {
    let text = &c.document.doc.text;
    let own;
    let map = match map {
        Some(map) => map,
        None => {
            own = OffsetMap::new(text, encoding);
            &own
        }
    };
    let resolved = Resolved {
        speaker: c.speaker,
        entities: c.entities.iter().map(|e| e.id.clone()).collect(),
    };
    claim_message(
        c.id,
        &c.document.doc.id,
        (text, map),
        &c.claim,
        resolved,
        sentence,
    )
}

/// The messages for the claims `keys` of `snapshot`, their sentences when `sentences`:
/// each document's text is scanned for offsets once, not once per claim.
fn claim_messages(
    snapshot: &Snapshot,
    keys: &[ClaimKey],
    encoding: Encoding,
    sentences: bool,
) -> Vec<v1::Claim> {
    let mut out = Vec::with_capacity(keys.len());
    let mut current: Option<(&StoredDoc, OffsetMap<'_>)> = None;
    for c in keys.iter().filter_map(|&k| snapshot.corpus_claim(k)) {
        let doc = c.document;
        if current.as_ref().is_none_or(|(d, _)| !std::ptr::eq(*d, doc)) {
            current = Some((doc, OffsetMap::new(&doc.doc.text, encoding)));
        }
        let map = current.as_ref().map(|(_, m)| m);
        out.push(corpus_claim_in(c, encoding, map, sentences));
    }
    out
}

/// The message for a dispute, its sides' offsets in `encoding`.
fn dispute_message(snapshot: &Snapshot, d: &Dispute, encoding: Encoding) -> v1::Dispute {
    v1::Dispute {
        id: d.id.clone(),
        topic: d.topic.clone(),
        kind: match d.kind {
            DisputeKind::NumericMismatch => v1::DisputeKind::NumericMismatch,
            DisputeKind::ChangeOverTime => v1::DisputeKind::ChangeOverTime,
        } as i32,
        sides: d
            .sides
            .iter()
            .filter_map(|s| {
                let claim = corpus_claim(snapshot.dispute_claim(s)?, encoding, None);
                let value = claim.quantities.get(s.quantity).cloned();
                Some(v1::DisputeSide {
                    claim: Some(claim),
                    value,
                })
            })
            .collect(),
        entity_ids: snapshot
            .dispute_entities(d)
            .iter()
            .map(|e| e.id.clone())
            .collect(),
    }
}

/// The messages for `disputes`.
fn dispute_messages(
    snapshot: &Snapshot,
    disputes: &[&Dispute],
    encoding: Encoding,
) -> Vec<v1::Dispute> {
    disputes
        .iter()
        .map(|d| dispute_message(snapshot, d, encoding))
        .collect()
}

/// The engine query of a `ListClaimsRequest`, and the fields its pages are bound to.
fn claim_query(request: &ListClaimsRequest) -> Result<(ClaimQuery, [String; 5]), Status> {
    let ListClaimsRequest {
        document_id,
        speaker_entity_id,
        about_entity_id,
        kind: wanted,
        query,
        page_size: _,
        page_token: _,
        encoding: _,
    } = request;
    let kind = match v1::ClaimKind::try_from(*wanted) {
        Ok(v1::ClaimKind::Unspecified) => None,
        Ok(v1::ClaimKind::DirectQuote) => Some(ClaimKind::Direct),
        Ok(v1::ClaimKind::IndirectQuote) => Some(ClaimKind::Indirect),
        Ok(v1::ClaimKind::Assertion) => Some(ClaimKind::Assertion),
        Err(_) => return Err(invalid_argument("kind", "unknown claim kind")),
    };
    let given = |s: &String| Some(s.clone()).filter(|s| !s.is_empty());
    let engine = ClaimQuery {
        document_id: given(document_id),
        speaker_entity_id: given(speaker_entity_id),
        about_entity_id: given(about_entity_id),
        kind,
        text: query.clone(),
    };
    let fields = [
        document_id.clone(),
        speaker_entity_id.clone(),
        about_entity_id.clone(),
        wanted.to_string(),
        query.clone(),
    ];
    Ok((engine, fields))
}

#[tonic::async_trait]
impl ClaimService for ClaimApi {
    type StreamClaimsStream = ItemStream<v1::Claim>;

    async fn extract_claims(
        &self,
        request: Request<ExtractClaimsRequest>,
    ) -> Result<Response<ExtractClaimsResponse>, Status> {
        let compress = compressed_request(&request);
        let ExtractClaimsRequest {
            source,
            encoding,
            view,
        } = request.into_inner();
        let (encoding, full) = (convert::encoding(encoding), convert::full_view(view)?);
        let claims = match source {
            Some(Source::Text(text)) => {
                let recent = self.recent.clone();
                cancellable(move |stop| {
                    let analysed = recent.analyse(text, stop)?;
                    Some(claims_of_text(&analysed, encoding, full))
                })
                .await?
            }
            Some(Source::DocumentId(id)) => {
                let snapshot = self.store.snapshot();
                let keys = snapshot.claims_of_document(&id)?;
                blocking(move || claim_messages(&snapshot, &keys, encoding, full)).await?
            }
            None => return Err(invalid_argument("source", "give text or document_id")),
        };
        let response = Response::new(ExtractClaimsResponse { claims });
        Ok(compressed_if(compress, response))
    }

    async fn list_claims(
        &self,
        request: Request<ListClaimsRequest>,
    ) -> Result<Response<ListClaimsResponse>, Status> {
        let request = request.into_inner();
        let (query, fields) = claim_query(&request)?;
        let fields = fields.each_ref().map(String::as_str);
        let pager = Pager::new(&fields, request.page_size, &request.page_token, PAGE)?;
        let encoding = convert::encoding(request.encoding);
        let snapshot = self.store.snapshot();
        blocking(move || {
            let picked = snapshot.query_claims(&query)?;
            let (range, next_page_token) = pager.window(picked.len());
            Ok(Response::new(ListClaimsResponse {
                claims: claim_messages(&snapshot, &picked[range], encoding, true),
                next_page_token,
                total_size: picked.len() as i64,
            }))
        })
        .await?
    }

    async fn stream_claims(
        &self,
        request: Request<ListClaimsRequest>,
    ) -> Result<Response<Self::StreamClaimsStream>, Status> {
        let request = request.into_inner();
        let (query, _) = claim_query(&request)?;
        let encoding = convert::encoding(request.encoding);
        let snapshot = self.store.snapshot();
        let picked = blocking({
            let snapshot = snapshot.clone();
            move || snapshot.query_claims(&query)
        })
        .await??;
        Ok(Response::new(stream_items(picked, move |k| {
            Some(Ok(corpus_claim(snapshot.corpus_claim(k)?, encoding, None)))
        })))
    }

    async fn get_claim(
        &self,
        request: Request<GetClaimRequest>,
    ) -> Result<Response<v1::Claim>, Status> {
        let GetClaimRequest { id, encoding } = request.into_inner();
        let snapshot = self.store.snapshot();
        let claim = snapshot.claim_by_id(&id)?;
        Ok(Response::new(corpus_claim(
            claim,
            convert::encoding(encoding),
            None,
        )))
    }

    async fn list_disputes(
        &self,
        request: Request<ListDisputesRequest>,
    ) -> Result<Response<ListDisputesResponse>, Status> {
        let ListDisputesRequest {
            about_entity_id,
            page_size,
            page_token,
            encoding,
        } = request.into_inner();
        let pager = Pager::new(&[&about_entity_id], page_size, &page_token, DISPUTE_PAGE)?;
        let encoding = convert::encoding(encoding);
        let snapshot = self.store.snapshot();
        blocking(move || {
            let picked = snapshot.disputes_about(Some(&about_entity_id))?;
            let (range, next_page_token) = pager.window(picked.len());
            let disputes = dispute_messages(&snapshot, &picked[range], encoding);
            Ok(Response::new(ListDisputesResponse {
                disputes,
                next_page_token,
            }))
        })
        .await?
    }
}

/// ExtractClaims on raw text: its claims with speakers resolved within the text, their
/// sentences only when `sentences`.
fn claims_of_text(analysed: &Analysed, encoding: Encoding, sentences: bool) -> Vec<v1::Claim> {
    let (text, a, reg) = (&*analysed.text, &analysed.analysis, &analysed.registry);
    let map = OffsetMap::new(text, encoding);
    a.claims
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let speaker = c
                .speaker
                .mention
                .and_then(|m| reg.entity_of_mention(0, m as u32));
            let entities = reg
                .named_entities_within(0, &a.mentions, c.content.clone())
                .into_iter()
                .filter_map(|e| Some(reg.entities.get(e)?.id.clone()))
                .collect();
            let resolved = Resolved {
                speaker: speaker.and_then(|e| reg.entities.get(e)),
                entities,
            };
            claim_message(format!("c{i}"), "", (text, &map), c, resolved, sentences)
        })
        .collect()
}

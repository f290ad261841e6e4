//! `ClaimService`: quotes, reported speech and assertions with their speakers, and disputes.

use super::status::invalid_argument;
use super::{blocking, cancellable, convert, page, stream_items};
use crate::analysis;
use crate::analysis::claims::{Claim, ClaimKind, SpeakerKind};
use crate::analysis::quantities::Quantity;
use crate::claimset::{claim_id, parse_claim_id, ClaimSet};
use crate::entities::{DocInput, Registry};
use crate::offsets::{Encoding, OffsetMap};
use crate::store::{Snapshot, Store};
use dossier_api::v1::{
    self, claim_service_server::ClaimService, extract_claims_request::Source, ExtractClaimsRequest,
    ExtractClaimsResponse, GetClaimRequest, ListClaimsRequest, ListClaimsResponse,
    ListDisputesRequest, ListDisputesResponse,
};
use std::sync::atomic::AtomicBool;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

/// Serves `dossier.v1.ClaimService`.
#[derive(Clone)]
pub struct ClaimApi {
    store: Store,
}

impl ClaimApi {
    /// An adapter over `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

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

/// The message for one claim of a text.
fn claim_message(
    id: String,
    doc_id: &str,
    text: &str,
    map: &OffsetMap<'_>,
    c: &Claim,
    resolved: Resolved<'_>,
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
        sentence: Some(convert::span(
            text,
            map,
            convert::context(text, c.sentence.clone(), c.content.clone()),
        )),
    }
}

/// The message for claim `k` of the corpus claim set.
fn corpus_claim(
    snapshot: &Snapshot,
    set: &ClaimSet,
    k: usize,
    encoding: Encoding,
) -> Option<v1::Claim> {
    let reg = snapshot.entities();
    let r = set.claim(k);
    let doc_id = reg.doc_ids.get(r.doc as usize)?;
    let stored = snapshot.docs.get(doc_id.as_ref())?;
    let c = stored.claim(r.index as usize)?;
    let map = OffsetMap::new(&stored.doc.text, encoding);
    let resolved = Resolved {
        speaker: r.speaker.map(|e| &reg.entities[e]),
        entities: r
            .entities
            .iter()
            .map(|&e| reg.entities[e as usize].id.clone())
            .collect(),
    };
    Some(claim_message(
        claim_id(doc_id, r.index),
        doc_id,
        &stored.doc.text,
        &map,
        &c,
        resolved,
    ))
}

/// The claims a `ListClaimsRequest` selects (indices into the claim set).
fn select(snapshot: &Snapshot, request: &ListClaimsRequest) -> Result<Vec<usize>, Status> {
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
    let reg = snapshot.entities();
    let set = snapshot.claims();
    let entity = |id: &str, field: &str| -> Result<Option<usize>, Status> {
        if id.is_empty() {
            return Ok(None);
        }
        reg.index_of(id)
            .map(Some)
            .ok_or_else(|| Status::not_found(format!("{field}: entity {id:?} not found")))
    };
    let speaker = entity(speaker_entity_id, "speaker_entity_id")?;
    let about = entity(about_entity_id, "about_entity_id")?;
    let wanted = v1::ClaimKind::try_from(*wanted)
        .map_err(|_| invalid_argument("kind", "unknown claim kind"))?;
    let range = if document_id.is_empty() {
        0..set.len()
    } else {
        snapshot.get(document_id)?;
        reg.doc_index(document_id).map_or(0..0, |d| set.of_doc(d))
    };
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    // Claims of one document are consecutive: each document's claims are decoded once.
    let mut decoded: Option<(u32, Vec<Claim>)> = None;
    Ok(range
        .filter(|&k| {
            let r = set.claim(k);
            if speaker.is_some() && r.speaker != speaker
                || about.is_some_and(|a| !r.entities.contains(&(a as u32)) && r.speaker != Some(a))
            {
                return false;
            }
            if decoded.as_ref().is_none_or(|(doc, _)| *doc != r.doc) {
                let claims = reg
                    .doc_ids
                    .get(r.doc as usize)
                    .and_then(|id| snapshot.docs.get(id.as_ref()))
                    .map(|d| d.claims())
                    .unwrap_or_default();
                decoded = Some((r.doc, claims));
            }
            let Some(c) = decoded
                .as_ref()
                .and_then(|(_, claims)| claims.get(r.index as usize))
            else {
                return false;
            };
            (wanted == v1::ClaimKind::Unspecified || kind(c.kind) == wanted)
                && (words.is_empty() || {
                    let text = c.text.to_lowercase();
                    words.iter().all(|w| text.contains(w.as_str()))
                })
        })
        .collect())
}

fn list_fingerprint(r: &ListClaimsRequest) -> u64 {
    page::fingerprint(&[
        &r.document_id,
        &r.speaker_entity_id,
        &r.about_entity_id,
        &r.kind.to_string(),
        &r.query,
    ])
}

#[tonic::async_trait]
impl ClaimService for ClaimApi {
    type StreamClaimsStream = ReceiverStream<Result<v1::Claim, Status>>;

    async fn extract_claims(
        &self,
        request: Request<ExtractClaimsRequest>,
    ) -> Result<Response<ExtractClaimsResponse>, Status> {
        let ExtractClaimsRequest { source, encoding } = request.into_inner();
        let encoding = convert::encoding(encoding);
        let claims = match source {
            Some(Source::Text(text)) => {
                cancellable(move |stop| extract_from_text(&text, encoding, stop)).await?
            }
            Some(Source::DocumentId(id)) => {
                let snapshot = self.store.snapshot();
                snapshot.get(&id)?;
                blocking(move || {
                    let set = snapshot.claims();
                    let doc = snapshot.entities().doc_index(&id).unwrap_or(u32::MAX);
                    set.of_doc(doc)
                        .filter_map(|k| corpus_claim(&snapshot, set, k, encoding))
                        .collect()
                })
                .await?
            }
            None => return Err(invalid_argument("source", "give text or document_id")),
        };
        Ok(Response::new(ExtractClaimsResponse { claims }))
    }

    async fn list_claims(
        &self,
        request: Request<ListClaimsRequest>,
    ) -> Result<Response<ListClaimsResponse>, Status> {
        let request = request.into_inner();
        let size = page::page_size(request.page_size, 50, 1000)?;
        let fp = list_fingerprint(&request);
        let offset = page::decode_offset(&request.page_token, fp)?;
        let encoding = convert::encoding(request.encoding);
        let snapshot = self.store.snapshot();
        let (claims, total) = blocking(move || {
            let picked = select(&snapshot, &request)?;
            let set = snapshot.claims();
            let end = (offset + size).min(picked.len());
            let claims: Vec<v1::Claim> = picked
                .get(offset..end)
                .unwrap_or_default()
                .iter()
                .filter_map(|&k| corpus_claim(&snapshot, set, k, encoding))
                .collect();
            Ok::<_, Status>((claims, picked.len()))
        })
        .await??;
        let end = offset + claims.len();
        let next_page_token = if end < total {
            page::encode(fp, &end.to_string())
        } else {
            String::new()
        };
        Ok(Response::new(ListClaimsResponse {
            claims,
            next_page_token,
            total_size: total as i64,
        }))
    }

    async fn stream_claims(
        &self,
        request: Request<ListClaimsRequest>,
    ) -> Result<Response<Self::StreamClaimsStream>, Status> {
        let request = request.into_inner();
        let encoding = convert::encoding(request.encoding);
        let snapshot = self.store.snapshot();
        let picked = blocking({
            let snapshot = snapshot.clone();
            move || select(&snapshot, &request)
        })
        .await??;
        let set = snapshot.claims().clone();
        Ok(Response::new(stream_items(picked, move |k| {
            corpus_claim(&snapshot, &set, k, encoding)
        })))
    }

    async fn get_claim(
        &self,
        request: Request<GetClaimRequest>,
    ) -> Result<Response<v1::Claim>, Status> {
        let GetClaimRequest { id, encoding } = request.into_inner();
        let not_found = || Status::not_found(format!("claim {id:?} not found"));
        let Some((doc_id, index)) = parse_claim_id(&id) else {
            return Err(not_found());
        };
        let snapshot = self.store.snapshot();
        let doc = snapshot
            .entities()
            .doc_index(doc_id)
            .ok_or_else(not_found)?;
        let set = snapshot.claims();
        let k = set
            .of_doc(doc)
            .find(|&k| set.claim(k).index == index)
            .ok_or_else(not_found)?;
        corpus_claim(&snapshot, set, k, convert::encoding(encoding))
            .map(Response::new)
            .ok_or_else(not_found)
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
        let size = page::page_size(page_size, 20, 100)?;
        let fp = page::fingerprint(&[&about_entity_id]);
        let offset = page::decode_offset(&page_token, fp)?;
        let encoding = convert::encoding(encoding);
        let snapshot = self.store.snapshot();
        blocking(move || {
            let reg = snapshot.entities();
            let about = if about_entity_id.is_empty() {
                None
            } else {
                Some(reg.index_of(&about_entity_id).ok_or_else(|| {
                    Status::not_found(format!(
                        "about_entity_id: entity {about_entity_id:?} not found"
                    ))
                })?)
            };
            let set = snapshot.claims();
            let picked: Vec<&crate::claimset::Dispute> = set
                .disputes
                .iter()
                .filter(|d| about.is_none_or(|a| d.entities.contains(&a)))
                .collect();
            let end = (offset + size).min(picked.len());
            let disputes = picked
                .get(offset..end)
                .unwrap_or_default()
                .iter()
                .map(|d| v1::Dispute {
                    id: d.id.clone(),
                    topic: d.topic.clone(),
                    kind: v1::DisputeKind::NumericMismatch as i32,
                    sides: d
                        .sides
                        .iter()
                        .filter_map(|s| {
                            let claim = corpus_claim(&snapshot, set, s.claim, encoding)?;
                            let value = claim.quantities.get(s.quantity).cloned();
                            Some(v1::DisputeSide {
                                claim: Some(claim),
                                value,
                            })
                        })
                        .collect(),
                    entity_ids: d
                        .entities
                        .iter()
                        .map(|&e| reg.entities[e].id.clone())
                        .collect(),
                })
                .collect();
            let next_page_token = if end < picked.len() {
                page::encode(fp, &end.to_string())
            } else {
                String::new()
            };
            Ok(Response::new(ListDisputesResponse {
                disputes,
                next_page_token,
            }))
        })
        .await?
    }
}

/// ExtractClaims on raw text: analyse, resolve speakers within the text; `None` once
/// `stop` is set.
fn extract_from_text(text: &str, encoding: Encoding, stop: &AtomicBool) -> Option<Vec<v1::Claim>> {
    let a = analysis::analyze_unless_stopped(text, None, stop)?;
    let reg = Registry::build([DocInput::of("", text, &a)]);
    let map = OffsetMap::new(text, encoding);
    let claims = a
        .claims
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
                .map(|e| reg.entities[e].id.clone())
                .collect();
            claim_message(
                format!("c{i}"),
                "",
                text,
                &map,
                c,
                Resolved {
                    speaker: speaker.map(|e| &reg.entities[e]),
                    entities,
                },
            )
        })
        .collect();
    Some(claims)
}

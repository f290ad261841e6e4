//! ClaimService end to end, on the seed articles and small texts.

use crate::common::{seeds, TestServer};
use dossier_api::v1::{
    claim_service_client::ClaimServiceClient, extract_claims_request::Source, ClaimKind,
    EncodingType, ExtractClaimsRequest, GetClaimRequest, ListClaimsRequest, ListDisputesRequest,
    SpeakerKind,
};
use tokio_stream::StreamExt;
use tonic::Code;

/// Every direct quote of the seeds has a speaker: a named one resolved to an entity, or an
/// anonymous one with its description.
#[tokio::test]
async fn seed_quotes_come_with_speakers() {
    let server = seeds().await;
    let mut client = ClaimServiceClient::new(server.channel.clone());
    let quotes = client
        .list_claims(ListClaimsRequest {
            kind: ClaimKind::DirectQuote as i32,
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .claims;
    assert!(quotes.len() >= 15, "found {} quotes", quotes.len());
    for q in &quotes {
        let s = q.speaker.as_ref().unwrap();
        assert!(s.span.is_some(), "quote {:?} has no speaker span", q.text);
        match SpeakerKind::try_from(s.kind).unwrap() {
            SpeakerKind::Named => assert!(
                !s.entity_id.is_empty() && !s.name.is_empty(),
                "unresolved named speaker for {:?}: {s:?}",
                q.text
            ),
            SpeakerKind::Anonymous => assert!(!s.description.is_empty(), "{:?}", q.text),
            // A source that is neither a person nor an anonymous one ("Trump’s social media
            // statement") keeps its span.
            _ => {}
        }
    }
    let named = quotes
        .iter()
        .filter(|q| q.speaker.as_ref().unwrap().kind == SpeakerKind::Named as i32)
        .count();
    assert!(
        named * 2 >= quotes.len(),
        "most seed quotes are by named people"
    );
    let witkoff = quotes
        .iter()
        .find(|q| q.text.contains("put Putin and Zelensky together"))
        .expect("Witkoff's quote");
    assert_eq!(witkoff.speaker.as_ref().unwrap().name, "Steve Witkoff");
    let anonymous = quotes
        .iter()
        .find(|q| q.text.contains("His inexperience shines through"))
        .expect("the anonymous quote");
    assert_eq!(
        anonymous.speaker.as_ref().unwrap().description,
        "a person familiar with the diplomatic effort"
    );
}

/// "five hours" (first seed) against "a four-hour meeting" (second seed) is a dispute; "over
/// four hours" never sides against "five hours".
#[tokio::test]
async fn the_meeting_length_is_disputed_across_seeds() {
    let server = seeds().await;
    let mut client = ClaimServiceClient::new(server.channel.clone());
    let disputes = client
        .list_disputes(ListDisputesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .disputes;
    let meeting = disputes
        .iter()
        .find(|d| {
            d.sides
                .iter()
                .any(|s| s.claim.as_ref().unwrap().document_id.starts_with("000_"))
                && d.sides
                    .iter()
                    .any(|s| s.claim.as_ref().unwrap().document_id.starts_with("001_"))
        })
        .expect("a dispute between the first two seeds");
    let values: Vec<(String, f64, String)> = meeting
        .sides
        .iter()
        .map(|s| {
            (
                s.claim.as_ref().unwrap().document_id.clone(),
                s.value.as_ref().unwrap().value,
                s.value.as_ref().unwrap().unit.clone(),
            )
        })
        .collect();
    assert!(
        values
            .iter()
            .any(|(d, v, u)| d.starts_with("000_") && *v == 5.0 && u == "hour"),
        "{values:?}"
    );
    assert!(
        values
            .iter()
            .any(|(d, v, u)| d.starts_with("001_") && *v == 4.0 && u == "hour"),
        "{values:?}"
    );
    for d in &disputes {
        for s in &d.sides {
            let span = &s.value.as_ref().unwrap().span.as_ref().unwrap().text;
            assert!(
                !span.contains("over four"),
                "an open interval containing 5 is no dispute: {d:?}"
            );
        }
    }
}

/// ExtractClaims on raw text: offsets in UTF-16, the interrupted quote is one claim with its
/// speaker, quantities carry bounds.
#[tokio::test]
async fn extract_claims_from_text() {
    let server = TestServer::with_docs(vec![]).await;
    let mut client = ClaimServiceClient::new(server.channel.clone());
    let text = "“Everybody loves him,” Trump said. “Everybody… on both sides.” The talks lasted over four hours, officials said.";
    let claims = client
        .extract_claims(ExtractClaimsRequest {
            source: Some(Source::Text(text.into())),
            encoding: EncodingType::Utf16 as i32,
        })
        .await
        .unwrap()
        .into_inner()
        .claims;
    let units: Vec<u16> = text.encode_utf16().collect();
    let quote = &claims[0];
    assert_eq!(quote.kind, ClaimKind::DirectQuote as i32);
    let speaker = quote.speaker.as_ref().unwrap().span.as_ref().unwrap();
    assert_eq!(
        String::from_utf16(&units[speaker.begin as usize..speaker.end as usize]).unwrap(),
        "Trump"
    );
    let over = claims
        .iter()
        .flat_map(|c| &c.quantities)
        .find(|q| q.unit == "hour")
        .expect("a duration");
    assert_eq!(
        (over.lower, over.upper, over.exclusive),
        (Some(4.0), None, true)
    );
    assert_eq!(
        client
            .extract_claims(ExtractClaimsRequest {
                source: None,
                encoding: 0
            })
            .await
            .unwrap_err()
            .code(),
        Code::InvalidArgument
    );
}

/// Claims page, stream and are fetched by id; filters validate their ids.
#[tokio::test]
async fn list_stream_and_get_claims() {
    let server = seeds().await;
    let mut client = ClaimServiceClient::new(server.channel.clone());
    let doc = "002_92e74acb2171691d";
    let first = client
        .list_claims(ListClaimsRequest {
            document_id: doc.into(),
            page_size: 5,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.claims.len(), 5);
    let all: Vec<_> = client
        .stream_claims(ListClaimsRequest {
            document_id: doc.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(all.len() as i64, first.total_size);
    let one = client
        .get_claim(GetClaimRequest {
            id: all[3].id.clone(),
            encoding: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(one, all[3]);
    assert_eq!(
        client
            .get_claim(GetClaimRequest {
                id: "nope".into(),
                encoding: 0
            })
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    let bad = ListClaimsRequest {
        speaker_entity_id: "per-000000000000".into(),
        ..Default::default()
    };
    assert_eq!(
        client.list_claims(bad).await.unwrap_err().code(),
        Code::NotFound
    );
    let worded = client
        .list_claims(ListClaimsRequest {
            query: "rogue actor".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .claims;
    assert!(
        !worded.is_empty()
            && worded
                .iter()
                .all(|c| c.text.to_lowercase().contains("rogue actor"))
    );
}

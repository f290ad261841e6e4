//! ClaimService end to end, on the seed articles and small texts.

use crate::common::{seeds, TestServer};
use dossier_api::v1::{
    claim_service_client::ClaimServiceClient, entity_service_client::EntityServiceClient,
    extract_claims_request::Source, AnalysisView, ClaimKind, EncodingType, EntityType,
    ExtractClaimsRequest, GetClaimRequest, GetEntityRequest, ListClaimsRequest,
    ListDisputesRequest, SpeakerKind,
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

/// Who says each quote of the seeds, read off the articles by hand: the document (id
/// prefix), words of the quote, and the speaker: a person (the entity's canonical name) or an
/// anonymous source (its description as first introduced).
const SEED_QUOTES: &[(&str, &str, Said)] = &[
    ("000_", "a great businessman", Said::Person("Donald Trump")),
    ("000_", "Everybody loves him", Said::Person("Donald Trump")),
    (
        "000_",
        "Most people I’d send in",
        Said::Person("Donald Trump"),
    ),
    (
        "000_",
        "Henry Kissinger, who doesn’t leak",
        Said::Person("Donald Trump"),
    ),
    (
        "000_",
        "the gift of the room",
        Said::Anonymous("old-school diplomats"),
    ),
    (
        "000_",
        "would’ve never happened",
        Said::Person("Donald Trump"),
    ),
    (
        "000_",
        "the most challenging breakthrough",
        Said::Person("Donald Trump"),
    ),
    ("000_", "get the job done", Said::Person("Donald Trump")),
    (
        "001_",
        "reasonably good meeting",
        Said::Person("Donald Trump"),
    ),
    ("001_", "no breakthrough", Said::Person("Donald Trump")),
    ("001_", "24 hours", Said::Person("Donald Trump")),
    (
        "002_",
        "What we’re trying to do",
        Said::Person("Steve Witkoff"),
    ),
    (
        "002_",
        "His inexperience shines through",
        Said::Anonymous("a person familiar with the diplomatic effort"),
    ),
    (
        "002_",
        "speak for themselves",
        Said::Anonymous("A second senior administration official"),
    ),
    (
        "002_",
        "He’s kind of a rogue actor",
        Said::Anonymous("a U.S. official familiar with Witkoff’s diplomatic style"),
    ),
    // "… the official pointed to comments from Finnish President Alexander Stubb, who said …"
    (
        "002_",
        "in the past two weeks",
        Said::Person("Alexander Stubb"),
    ),
    (
        "002_",
        "has been able to open doors",
        Said::Person("Jonathan Powell"),
    ),
    (
        "002_",
        "Witkoff has made more progress",
        Said::Person("JD Vance"),
    ),
    (
        "002_",
        "Witkoff isn’t consistently engaged",
        Said::Anonymous("a U.S. official familiar with Witkoff’s diplomatic style"),
    ),
    (
        "002_",
        "I have tremendous support",
        Said::Person("Steve Witkoff"),
    ),
    // "the senior administration official": the first one, not "a second senior …".
    (
        "002_",
        "Never before had there been any discussion",
        Said::Anonymous("a senior administration official"),
    ),
    (
        "002_",
        "There’s what Russia says",
        Said::Anonymous("one person familiar with Witkoff’s role in the process"),
    ),
    (
        "002_",
        "understands all the complexities",
        Said::Anonymous("A second senior administration official"),
    ),
    (
        "002_",
        "He seems to have bought into",
        Said::Anonymous("another one of the people familiar with the discussions"),
    ),
    ("002_", "What I’m here to do", Said::Person("Steve Witkoff")),
    (
        "002_",
        "Our main focus is to reiterate",
        Said::Anonymous("A Ukrainian official"),
    ),
    (
        "003_",
        "significant progress",
        Said::Person("Steve Witkoff"),
    ),
    (
        "003_",
        "we’re not far away from",
        Said::Person("Steve Witkoff"),
    ),
    ("003_", "bad guy", Said::Person("Steve Witkoff")),
    (
        "003_",
        "the war didn’t need to happen",
        Said::Person("Steve Witkoff"),
    ),
    ("003_", "Russian-speaking", Said::Person("Steve Witkoff")),
    ("003_", "deep state", Said::Person("Donald Trump")),
    ("004_", "ownership", Said::Person("Steve Witkoff")),
    (
        "004_",
        "no breakthrough anticipated",
        Said::Person("Peskov"),
    ),
    ("004_", "make a move", Said::Person("Donald Trump")),
];

/// A speaker in [`SEED_QUOTES`].
#[derive(Debug)]
enum Said {
    /// A PERSON of the entity registry, by canonical name.
    Person(&'static str),
    /// An anonymous source, by description.
    Anonymous(&'static str),
}

/// Every direct quote of the seeds, and no other, comes with the speaker a reader gives it:
/// named speakers resolved to PERSON entities, anonymous ones with their description, later
/// references ("the official", "the senior administration official") tied to the source they
/// refer to.
#[tokio::test]
async fn seed_quotes_have_the_right_speakers() {
    let server = seeds().await;
    let mut claims = ClaimServiceClient::new(server.channel.clone());
    let mut entities = EntityServiceClient::new(server.channel.clone());
    let quotes = claims
        .list_claims(ListClaimsRequest {
            kind: ClaimKind::DirectQuote as i32,
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .claims;
    let gold_of = |q: &dossier_api::v1::Claim| {
        SEED_QUOTES
            .iter()
            .position(|(doc, words, _)| q.document_id.starts_with(doc) && q.text.contains(words))
    };
    let mut found = vec![0; SEED_QUOTES.len()];
    for q in &quotes {
        let Some(g) = gold_of(q) else {
            panic!("a direct quote no reader would list: {:?}", q.text);
        };
        found[g] += 1;
        let s = q.speaker.as_ref().unwrap();
        match SEED_QUOTES[g].2 {
            Said::Person(name) => {
                assert_eq!(
                    SpeakerKind::try_from(s.kind),
                    Ok(SpeakerKind::Named),
                    "{:?}: {s:?}",
                    q.text
                );
                assert!(!s.entity_id.is_empty(), "{:?}: {s:?}", q.text);
                let e = entities
                    .get_entity(GetEntityRequest {
                        id: s.entity_id.clone(),
                        encoding: 0,
                    })
                    .await
                    .unwrap()
                    .into_inner();
                assert_eq!(
                    (e.name.as_str(), EntityType::try_from(e.r#type)),
                    (name, Ok(EntityType::Person)),
                    "{:?}",
                    q.text
                );
                assert_eq!(s.name, name);
            }
            Said::Anonymous(description) => {
                assert_eq!(
                    SpeakerKind::try_from(s.kind),
                    Ok(SpeakerKind::Anonymous),
                    "{:?}: {s:?}",
                    q.text
                );
                assert_eq!(s.description, description, "{:?}", q.text);
                assert!(s.entity_id.is_empty());
            }
        }
    }
    for (g, n) in found.iter().enumerate() {
        assert_eq!(*n, 1, "{:?} found {n} times", SEED_QUOTES[g]);
    }
    // Per seed: 8, 3, 15, 6 and 3 quotes.
    for (doc, n) in [
        ("000_", 8),
        ("001_", 3),
        ("002_", 15),
        ("003_", 6),
        ("004_", 3),
    ] {
        assert_eq!(
            quotes
                .iter()
                .filter(|q| q.document_id.starts_with(doc))
                .count(),
            n,
            "{doc}"
        );
    }
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

/// "has met Putin five times over six months" (third seed) against "their third high-level
/// contact this year" (fifth seed) is a dispute about the number of meetings, each side with
/// its claim and its count; no count of events sides with "five hours".
#[tokio::test]
async fn the_number_of_meetings_is_disputed_across_seeds() {
    let server = seeds().await;
    let mut client = ClaimServiceClient::new(server.channel.clone());
    let disputes = client
        .list_disputes(ListDisputesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .disputes;
    let side = |s: &dossier_api::v1::DisputeSide| {
        let claim = s.claim.as_ref().unwrap();
        let value = s.value.as_ref().unwrap();
        let span = value.span.as_ref().unwrap().text.clone();
        (
            claim.document_id.clone(),
            value.value,
            value.unit.clone(),
            span,
            claim.text.clone(),
        )
    };
    let count = disputes
        .iter()
        .find(|d| {
            let docs: Vec<String> = d.sides.iter().map(|s| side(s).0).collect();
            docs.iter().any(|d| d.starts_with("002_")) && docs.iter().any(|d| d.starts_with("004_"))
        })
        .unwrap_or_else(|| panic!("a dispute between the third and fifth seeds: {disputes:#?}"));
    assert_eq!(
        dossier_api::v1::DisputeKind::try_from(count.kind),
        Ok(dossier_api::v1::DisputeKind::NumericMismatch),
        "{count:?}"
    );
    let sides: Vec<_> = count.sides.iter().map(side).collect();
    assert!(
        sides
            .iter()
            .any(|(d, v, u, span, text)| d.starts_with("002_")
                && *v == 5.0
                && u == "count"
                && span == "five"
                && text.contains("met Putin five times")),
        "{sides:?}"
    );
    assert!(
        sides
            .iter()
            .any(|(d, v, u, span, text)| d.starts_with("004_")
                && *v == 3.0
                && u == "count"
                && span == "third"
                && text.contains("third high-level contact")),
        "{sides:?}"
    );
    assert!(count.entity_ids.len() >= 2, "the participants: {count:?}");
    // The length of the meeting is still its own dispute.
    for d in &disputes {
        let units: Vec<String> = d.sides.iter().map(|s| side(s).2).collect();
        assert!(
            units.iter().all(|u| u == "count") || units.iter().all(|u| u != "count"),
            "{d:?}"
        );
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
            view: AnalysisView::Full as i32,
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
    for c in &claims {
        let (sentence, content) = (c.sentence.as_ref().unwrap(), c.content.as_ref().unwrap());
        assert!(
            sentence.begin <= content.begin && content.end <= sentence.end,
            "{c:?}"
        );
    }
    // The default view (BASIC) is the same claims without their sentences.
    let basic = client
        .extract_claims(ExtractClaimsRequest {
            source: Some(Source::Text(text.into())),
            encoding: EncodingType::Utf16 as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .claims;
    assert_eq!(basic.len(), claims.len());
    for (b, f) in basic.iter().zip(&claims) {
        assert!(b.sentence.is_none());
        assert_eq!(
            (&b.content, &b.speaker, &b.quantities),
            (&f.content, &f.speaker, &f.quantities)
        );
    }
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
                ..Default::default()
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

//! EntityService end to end, on the seed articles.

use crate::common::seeds;
use dossier_api::v1::{
    analyze_entities_request::Source, entity_service_client::EntityServiceClient, AnalysisView,
    AnalyzeEntitiesRequest, EncodingType, EntityType, GetEntityRequest, ListEntitiesRequest,
    ListRelatedEntitiesRequest, StreamMentionsRequest,
};
use tokio_stream::StreamExt;
use tonic::Code;

/// Each person of the seeds is listed once with its variants as aliases, and no well-known
/// place or organisation is typed PERSON.
#[tokio::test]
async fn seed_persons_are_resolved_across_documents() {
    let server = seeds().await;
    let mut client = EntityServiceClient::new(server.channel.clone());
    let persons = client
        .list_entities(ListEntitiesRequest {
            r#type: EntityType::Person as i32,
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entities;
    // A person matches when its name or an alias is the name, or ends with it as a word.
    let is = |form: &str, name: &str| form == name || form.ends_with(&format!(" {name}"));
    let find = |name: &str| {
        persons
            .iter()
            .filter(|e| is(&e.name, name) || e.aliases.iter().any(|a| is(a, name)))
            .collect::<Vec<_>>()
    };
    for name in [
        "Trump",
        "Witkoff",
        "Putin",
        "Zelenskyy",
        "Zelensky",
        "Kellogg",
        "Rubio",
        "Yermak",
        "Kushner",
        "Vladmir Putin",
        "President Trump",
        "Donald Trump",
    ] {
        assert_eq!(
            find(name).len(),
            1,
            "{name} should be exactly one person: {:?}",
            persons
                .iter()
                .map(|e| (&e.name, &e.aliases))
                .collect::<Vec<_>>()
        );
    }
    assert_eq!(find("Vladmir Putin")[0].name, "Vladimir Putin");
    assert!(std::ptr::eq(find("Zelensky")[0], find("Zelenskyy")[0]));
    for not_person in [
        "Kremlin",
        "Ukraine",
        "White House",
        "POLITICO",
        "Hamas",
        "NATO",
    ] {
        assert!(find(not_person).is_empty(), "{not_person} typed PERSON");
    }
}

/// Witkoff's strongest associates are Putin and Trump, with evidence sentences.
#[tokio::test]
async fn related_entities_of_witkoff_start_with_putin_and_trump() {
    let server = seeds().await;
    let mut client = EntityServiceClient::new(server.channel.clone());
    let witkoff = client
        .list_entities(ListEntitiesRequest {
            query: "witk".into(),
            r#type: EntityType::Person as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entities;
    assert_eq!(witkoff.len(), 1);
    let related = client
        .list_related_entities(ListRelatedEntitiesRequest {
            entity_id: witkoff[0].id.clone(),
            page_size: 2,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .related;
    let mut top: Vec<String> = related
        .iter()
        .map(|r| r.entity.as_ref().unwrap().name.clone())
        .collect();
    top.sort();
    assert_eq!(top, ["Donald Trump", "Vladimir Putin"]);
    for r in &related {
        let evidence = &r.evidence[0];
        let text = &evidence.span.as_ref().unwrap().text;
        assert!(text.contains("Witkoff"), "evidence must hold both: {text}");
    }
}

/// AnalyzeEntities offsets in UTF-32 count code points; mentions stream with sentences.
#[tokio::test]
async fn analyze_entities_offsets_follow_the_encoding() {
    let server = seeds().await;
    let mut client = EntityServiceClient::new(server.channel.clone());
    let text = "“Zelenskyy” — Steve Witkoff met Vladimir Putin in Moscow.";
    let response = client
        .analyze_entities(AnalyzeEntitiesRequest {
            source: Some(Source::Text(text.into())),
            encoding: EncodingType::Utf32 as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let chars: Vec<char> = text.chars().collect();
    let mut seen = Vec::new();
    for e in &response.entities {
        for m in &e.mentions {
            let span = m.span.as_ref().unwrap();
            let sliced: String = chars[span.begin as usize..span.end as usize]
                .iter()
                .collect();
            assert_eq!(sliced, span.text);
            seen.push(sliced);
        }
    }
    assert!(
        seen.contains(&"Steve Witkoff".to_string()) && seen.contains(&"Moscow".to_string()),
        "{seen:?}"
    );

    let bad = client
        .analyze_entities(AnalyzeEntitiesRequest {
            source: None,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(
        client
            .get_entity(GetEntityRequest {
                id: "nope".into(),
                encoding: 0
            })
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );

    let putin = client
        .list_entities(ListEntitiesRequest {
            query: "putin".into(),
            r#type: EntityType::Person as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entities;
    let mentions: Vec<_> = client
        .stream_mentions(StreamMentionsRequest {
            entity_id: putin[0].id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(mentions.len() as i32, putin[0].mention_count);
    assert!(mentions.iter().all(|m| m
        .sentence
        .as_ref()
        .unwrap()
        .text
        .contains(&m.span.as_ref().unwrap().text)));
}

/// AnalyzeEntities sends mention sentences only with view FULL (BASIC, the default, keeps the
/// answer near the text's size), for raw text and stored documents; an unknown view is
/// INVALID_ARGUMENT on `view`.
#[tokio::test]
async fn analyze_entities_sends_sentences_only_in_the_full_view() {
    let server = seeds().await;
    let mut client = EntityServiceClient::new(server.channel.clone());
    let text = "Steve Witkoff met Vladimir Putin in Moscow on Friday. Putin said little.";
    for source in [
        Source::Text(text.into()),
        Source::DocumentId("002_92e74acb2171691d".into()),
    ] {
        let ask = |view: AnalysisView| AnalyzeEntitiesRequest {
            source: Some(source.clone()),
            view: view as i32,
            ..Default::default()
        };
        let mentions = |r: dossier_api::v1::AnalyzeEntitiesResponse| -> Vec<_> {
            r.entities.into_iter().flat_map(|e| e.mentions).collect()
        };
        let basic = mentions(
            client
                .analyze_entities(ask(AnalysisView::Unspecified))
                .await
                .unwrap()
                .into_inner(),
        );
        let full = mentions(
            client
                .analyze_entities(ask(AnalysisView::Full))
                .await
                .unwrap()
                .into_inner(),
        );
        assert!(!basic.is_empty() && basic.len() == full.len(), "{source:?}");
        assert!(basic
            .iter()
            .all(|m| m.sentence.is_none() && m.span.is_some()));
        for m in &full {
            let (sentence, span) = (m.sentence.as_ref().unwrap(), m.span.as_ref().unwrap());
            assert!(sentence.begin <= span.begin && span.end <= sentence.end);
            assert!(sentence.text.contains(&span.text), "{m:?}");
        }
    }
    let mut bad = AnalyzeEntitiesRequest {
        source: Some(Source::Text(text.into())),
        ..Default::default()
    };
    bad.view = 99;
    let err = client.analyze_entities(bad).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("view"), "{err:?}");
}

/// Entity lists page without repeats and report the total.
#[tokio::test]
async fn list_entities_pages_cover_the_total() {
    let server = seeds().await;
    let mut client = EntityServiceClient::new(server.channel.clone());
    let mut token = String::new();
    let mut ids = Vec::new();
    let mut total;
    loop {
        let page = client
            .list_entities(ListEntitiesRequest {
                page_size: 7,
                page_token: token,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        total = page.total_size;
        ids.extend(page.entities.into_iter().map(|e| e.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!((ids.len() as i64, n as i64), (total, total));
}

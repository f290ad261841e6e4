//! `dossier`: a command-line client that exercises every Dossier RPC, readable by default
//! and `--json` for machines.

mod bench;
mod cli;
mod connect;
mod output;

use anyhow::{bail, Context};
use clap::Parser;
use cli::{ClaimsCommand, Cli, Command, DocsCommand, EntitiesCommand, SearchArgs, SourceArgs};
use connect::Channel;
use dossier_api::v1::{
    self, claim_service_client::ClaimServiceClient, corpus_service_client::CorpusServiceClient,
    entity_service_client::EntityServiceClient, search_service_client::SearchServiceClient,
};
use std::path::Path;
use std::time::Duration;
use tokio_stream::StreamExt;
use tonic::transport::Endpoint;
use tonic_health::pb::{
    health_check_response::ServingStatus, health_client::HealthClient, HealthCheckRequest,
};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match connect::endpoint(&cli) {
        Ok(endpoint) => run(cli, endpoint).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // A gRPC status prints as its code name and message, like grpcurl does.
            match e.downcast_ref::<tonic::Status>() {
                Some(s) => {
                    eprintln!("error: {:?}: {}", s.code(), s.message());
                    // The server's request id, to find the call in its logs.
                    if let Some(id) = s.metadata().get("x-request-id") {
                        eprintln!("request id: {}", id.to_str().unwrap_or("?"));
                    }
                }
                None => eprintln!("error: {e:#}"),
            }
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli, endpoint: Endpoint) -> anyhow::Result<()> {
    let json = cli.json;
    let channel = connect::channel(&endpoint, cli.token.as_deref())?;
    match cli.command {
        Command::Bench(args) => bench::run(endpoint, args, json).await,
        Command::Health { service, wait } => health(channel, service, wait).await,
        Command::Stats => {
            let stats = CorpusServiceClient::new(channel)
                .get_corpus_stats(v1::GetCorpusStatsRequest {})
                .await?
                .into_inner();
            if json {
                return output::json(&stats, "CorpusStats");
            }
            println!("documents {}\nwords {}\nsentences {}\nentities {}\nentity mentions {}\nclaims {}\ntext bytes {}\nindex bytes {}", stats.documents, stats.words, stats.sentences, stats.entities, stats.entity_mentions, stats.claims, stats.text_bytes, stats.index_bytes);
            Ok(())
        }
        Command::Docs(cmd) => docs(CorpusServiceClient::new(channel), cmd, json).await,
        Command::Ingest { files, source } => {
            ingest(CorpusServiceClient::new(channel), &files, &source, json).await
        }
        Command::Search(args) => search(SearchServiceClient::new(channel), args, json).await,
        Command::MoreLikeThis { id, page_size } => {
            let resp = SearchServiceClient::new(channel)
                .more_like_this(v1::MoreLikeThisRequest {
                    document_id: id,
                    page_size,
                    encoding: 0,
                })
                .await?
                .into_inner();
            if json {
                return output::json(&resp, "SearchResponse");
            }
            resp.hits.iter().for_each(output::hit);
            Ok(())
        }
        Command::Entities(cmd) => entities(EntityServiceClient::new(channel), cmd, json).await,
        Command::Claims(cmd) => claims(ClaimServiceClient::new(channel), cmd, json).await,
        Command::Disputes { about, page_size } => {
            let resp = ClaimServiceClient::new(channel)
                .list_disputes(v1::ListDisputesRequest {
                    about_entity_id: about,
                    page_size,
                    page_token: String::new(),
                    encoding: 0,
                })
                .await?
                .into_inner();
            if json {
                return output::json(&resp, "ListDisputesResponse");
            }
            for d in &resp.disputes {
                println!("{}  {}", d.id, d.topic);
                for side in &d.sides {
                    let value = side
                        .value
                        .as_ref()
                        .map_or(String::new(), |q| format!("{} {}", q.value, q.unit));
                    let c = side.claim.as_ref();
                    println!(
                        "    {:<24} {:<12} {}",
                        c.map_or("", |c| c.document_id.as_str()),
                        value,
                        c.map_or("", |c| c.text.as_str())
                    );
                }
            }
            Ok(())
        }
    }
}

async fn health(channel: Channel, service: String, wait: u64) -> anyhow::Result<()> {
    let mut client = HealthClient::new(channel);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    loop {
        let result = client
            .check(HealthCheckRequest {
                service: service.clone(),
            })
            .await;
        let status = match &result {
            Ok(r) => ServingStatus::try_from(r.get_ref().status).unwrap_or(ServingStatus::Unknown),
            Err(_) => ServingStatus::Unknown,
        };
        if status == ServingStatus::Serving {
            println!("SERVING");
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            match result {
                Ok(_) => bail!("{}", status.as_str_name()),
                Err(e) => bail!("health check failed: {}", e.message()),
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn encoding(e: cli::Encoding) -> i32 {
    match e {
        cli::Encoding::Utf8 => v1::EncodingType::Utf8 as i32,
        cli::Encoding::Utf16 => v1::EncodingType::Utf16 as i32,
        cli::Encoding::Utf32 => v1::EncodingType::Utf32 as i32,
    }
}

async fn docs(
    mut client: CorpusServiceClient<Channel>,
    cmd: DocsCommand,
    json: bool,
) -> anyhow::Result<()> {
    match cmd {
        DocsCommand::List {
            page_size,
            mut page_token,
            source,
            all,
        } => loop {
            let resp = client
                .list_documents(v1::ListDocumentsRequest {
                    page_size,
                    page_token: page_token.clone(),
                    source: source.clone(),
                    include_text: false,
                })
                .await?
                .into_inner();
            if json {
                output::json(&resp, "ListDocumentsResponse")?;
            } else {
                resp.documents.iter().for_each(output::document_line);
            }
            if !all || resp.next_page_token.is_empty() {
                if !json && !resp.next_page_token.is_empty() {
                    println!("next page: --page-token {}", resp.next_page_token);
                }
                return Ok(());
            }
            page_token = resp.next_page_token;
        },
        DocsCommand::Get { id } => {
            let d = client
                .get_document(v1::GetDocumentRequest { id })
                .await?
                .into_inner();
            if json {
                output::json(&d, "Document")
            } else {
                output::document(&d);
                Ok(())
            }
        }
        DocsCommand::Delete { id } => {
            let r = client
                .delete_document(v1::DeleteDocumentRequest { id })
                .await?
                .into_inner();
            if json {
                output::json(&r, "DeleteDocumentResponse")
            } else {
                println!("deleted {}", r.id);
                Ok(())
            }
        }
    }
}

/// Reads documents from files the simple way a client can: `.txt`/`.md` (id = stem, title =
/// first non-empty line, text = the rest) and JSON records (`id`/`_id`, `text`/`body`,
/// `title`, `source`, `url`).
fn read_documents(path: &Path, source: &str) -> anyhow::Result<Vec<v1::Document>> {
    let content =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ext == "jsonl" || ext == "json" {
        let values: Vec<serde_json::Value> = if content.trim_start().starts_with('[') {
            serde_json::from_str(&content)?
        } else {
            content
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(serde_json::from_str)
                .collect::<Result<_, _>>()?
        };
        return Ok(values
            .into_iter()
            .map(|v| {
                let s = |keys: &[&str]| {
                    keys.iter()
                        .find_map(|k| {
                            v.get(*k).and_then(|x| {
                                x.as_str()
                                    .map(str::to_string)
                                    .or_else(|| x.as_number().map(|n| n.to_string()))
                            })
                        })
                        .unwrap_or_default()
                };
                let src = s(&["source"]);
                v1::Document {
                    id: s(&["id", "_id"]),
                    title: s(&["title"]),
                    text: s(&["text", "body"]),
                    source: if src.is_empty() {
                        source.to_string()
                    } else {
                        src
                    },
                    url: s(&["url"]),
                    ..Default::default()
                }
            })
            .collect());
    }
    let mut lines = content.lines().skip_while(|l| l.trim().is_empty());
    let title = lines.next().unwrap_or("").trim().to_string();
    let text = lines.collect::<Vec<_>>().join("\n").trim().to_string();
    Ok(vec![v1::Document {
        id: stem,
        title,
        text,
        source: source.to_string(),
        ..Default::default()
    }])
}

async fn ingest(
    mut client: CorpusServiceClient<Channel>,
    files: &[std::path::PathBuf],
    source: &str,
    json: bool,
) -> anyhow::Result<()> {
    let mut docs = Vec::new();
    for f in files {
        docs.extend(read_documents(f, source)?);
    }
    let requests = tokio_stream::iter(
        docs.into_iter()
            .map(|d| v1::IngestDocumentsRequest { document: Some(d) }),
    );
    let mut responses = client.ingest_documents(requests).await?.into_inner();
    let mut failed = 0;
    while let Some(r) = responses.next().await {
        let r = r?;
        if json {
            output::json(&r, "IngestDocumentsResponse")?;
        } else if let Some(e) = &r.error {
            println!(
                "#{} {} failed: {} {} ({})",
                r.index, r.id, e.code, e.message, e.field
            );
        } else {
            println!(
                "#{} {} {}",
                r.index,
                r.id,
                if r.created { "created" } else { "replaced" }
            );
        }
        failed += usize::from(r.error.is_some());
    }
    if failed > 0 {
        bail!("{failed} document(s) failed");
    }
    Ok(())
}

async fn search(
    mut client: SearchServiceClient<Channel>,
    a: SearchArgs,
    json: bool,
) -> anyhow::Result<()> {
    let order_by = match a.order.to_ascii_lowercase().as_str() {
        "newest" => v1::SortOrder::Newest,
        "oldest" => v1::SortOrder::Oldest,
        _ => v1::SortOrder::Relevance,
    } as i32;
    let request = v1::SearchRequest {
        query: a.query,
        syntax: if a.plain {
            v1::QuerySyntax::PlainText
        } else {
            v1::QuerySyntax::QueryLanguage
        } as i32,
        filter: Some(v1::SearchFilter {
            sources: a.source,
            entity_ids: a.entity,
            ..Default::default()
        }),
        page_size: a.page_size,
        page_token: a.page_token,
        order_by,
        highlight: None,
        facets: a.facet,
        encoding: encoding(a.encoding),
        include_text: false,
        exact_total_hits: a.exact_total_hits,
    };
    if a.stream {
        let mut stream = client.stream_search(request).await?.into_inner();
        while let Some(hit) = stream.next().await {
            let hit = hit?;
            if json {
                output::json(&hit, "SearchHit")?;
            } else {
                output::hit(&hit);
            }
        }
        return Ok(());
    }
    let resp = client.search(request).await?.into_inner();
    if json {
        return output::json(&resp, "SearchResponse");
    }
    let at_least = resp.total_hits_relation == v1::TotalHitsRelation::GreaterOrEqual as i32;
    let plus = if at_least { "+" } else { "" };
    println!("{}{plus} hits in {} µs", resp.total_hits, resp.took_micros);
    resp.hits.iter().for_each(output::hit);
    for f in &resp.facets {
        let values: Vec<String> = f
            .values
            .iter()
            .map(|v| {
                format!(
                    "{} ({})",
                    if v.label.is_empty() {
                        &v.value
                    } else {
                        &v.label
                    },
                    v.count
                )
            })
            .collect();
        println!("facet {}: {}", f.name, values.join(", "));
    }
    if !resp.next_page_token.is_empty() {
        println!("next page: --page-token {}", resp.next_page_token);
    }
    Ok(())
}

fn analyze_source(s: &SourceArgs) -> anyhow::Result<(Option<String>, Option<String>)> {
    match (&s.text, &s.doc) {
        (Some(t), None) => Ok((Some(t.clone()), None)),
        (None, Some(d)) => Ok((None, Some(d.clone()))),
        _ => bail!("give --text or --doc"),
    }
}

async fn entities(
    mut client: EntityServiceClient<Channel>,
    cmd: EntitiesCommand,
    json: bool,
) -> anyhow::Result<()> {
    use v1::analyze_entities_request::Source;
    match cmd {
        EntitiesCommand::Analyze(s) => {
            let source = match analyze_source(&s)? {
                (Some(t), _) => Source::Text(t),
                (_, Some(d)) => Source::DocumentId(d),
                _ => unreachable!("analyze_source returns one of the two"),
            };
            let resp = client
                .analyze_entities(v1::AnalyzeEntitiesRequest {
                    source: Some(source),
                    encoding: encoding(s.encoding),
                    view: v1::AnalysisView::Full as i32,
                })
                .await?
                .into_inner();
            if json {
                return output::json(&resp, "AnalyzeEntitiesResponse");
            }
            for e in &resp.entities {
                output::entity(e);
                for m in &e.mentions {
                    let span = m.span.as_ref();
                    println!(
                        "      [{}..{}] {}",
                        span.map_or(0, |s| s.begin),
                        span.map_or(0, |s| s.end),
                        span.map_or("", |s| s.text.as_str())
                    );
                }
            }
            Ok(())
        }
        EntitiesCommand::List {
            r#type,
            query,
            doc,
            min_documents,
            page_size,
            page_token,
            stream,
        } => {
            let t = if r#type.is_empty() {
                0
            } else {
                v1::EntityType::from_str_name(&r#type.to_ascii_uppercase())
                    .with_context(|| format!("unknown entity type {type}", type = r#type))?
                    as i32
            };
            let request = v1::ListEntitiesRequest {
                r#type: t,
                query,
                document_id: doc,
                min_documents,
                order_by: 0,
                page_size,
                page_token,
            };
            if stream {
                let mut s = client.stream_entities(request).await?.into_inner();
                while let Some(e) = s.next().await {
                    let e = e?;
                    if json {
                        output::json(&e, "Entity")?;
                    } else {
                        output::entity(&e);
                    }
                }
                return Ok(());
            }
            let resp = client.list_entities(request).await?.into_inner();
            if json {
                return output::json(&resp, "ListEntitiesResponse");
            }
            resp.entities.iter().for_each(output::entity);
            println!(
                "{} in all{}",
                resp.total_size,
                if resp.next_page_token.is_empty() {
                    String::new()
                } else {
                    format!("; next page: --page-token {}", resp.next_page_token)
                }
            );
            Ok(())
        }
        EntitiesCommand::Get { id } => {
            let e = client
                .get_entity(v1::GetEntityRequest { id, encoding: 0 })
                .await?
                .into_inner();
            if json {
                return output::json(&e, "Entity");
            }
            output::entity(&e);
            e.mentions.iter().for_each(output::mention);
            Ok(())
        }
        EntitiesCommand::Mentions { id, doc } => {
            let mut s = client
                .stream_mentions(v1::StreamMentionsRequest {
                    entity_id: id,
                    document_id: doc,
                    encoding: 0,
                })
                .await?
                .into_inner();
            while let Some(m) = s.next().await {
                let m = m?;
                if json {
                    output::json(&m, "Mention")?;
                } else {
                    output::mention(&m);
                }
            }
            Ok(())
        }
        EntitiesCommand::Related {
            id,
            window,
            page_size,
        } => {
            let window = if window.eq_ignore_ascii_case("document") {
                v1::CooccurrenceWindow::Document
            } else {
                v1::CooccurrenceWindow::Sentence
            } as i32;
            let resp = client
                .list_related_entities(v1::ListRelatedEntitiesRequest {
                    entity_id: id,
                    window,
                    page_size,
                    encoding: 0,
                })
                .await?
                .into_inner();
            if json {
                return output::json(&resp, "ListRelatedEntitiesResponse");
            }
            for r in &resp.related {
                let name = r.entity.as_ref().map_or("", |e| e.name.as_str());
                println!("{:<30} count {:>3}  npmi {:.3}", name, r.count, r.score);
                if let Some(ev) = r.evidence.first() {
                    println!(
                        "      {}: {}",
                        ev.document_id,
                        ev.span.as_ref().map_or("", |s| s.text.as_str())
                    );
                }
            }
            Ok(())
        }
    }
}

async fn claims(
    mut client: ClaimServiceClient<Channel>,
    cmd: ClaimsCommand,
    json: bool,
) -> anyhow::Result<()> {
    use v1::extract_claims_request::Source;
    match cmd {
        ClaimsCommand::Extract(s) => {
            let source = match analyze_source(&s)? {
                (Some(t), _) => Source::Text(t),
                (_, Some(d)) => Source::DocumentId(d),
                _ => unreachable!("analyze_source returns one of the two"),
            };
            let resp = client
                .extract_claims(v1::ExtractClaimsRequest {
                    source: Some(source),
                    encoding: encoding(s.encoding),
                    view: v1::AnalysisView::Full as i32,
                })
                .await?
                .into_inner();
            if json {
                return output::json(&resp, "ExtractClaimsResponse");
            }
            resp.claims.iter().for_each(output::claim);
            Ok(())
        }
        ClaimsCommand::List {
            doc,
            speaker,
            about,
            kind,
            query,
            page_size,
            page_token,
            stream,
        } => {
            let kind = if kind.is_empty() {
                0
            } else {
                v1::ClaimKind::from_str_name(&kind.to_ascii_uppercase())
                    .with_context(|| format!("unknown claim kind {kind}"))? as i32
            };
            let request = v1::ListClaimsRequest {
                document_id: doc,
                speaker_entity_id: speaker,
                about_entity_id: about,
                kind,
                query,
                page_size,
                page_token,
                encoding: 0,
            };
            if stream {
                let mut s = client.stream_claims(request).await?.into_inner();
                while let Some(c) = s.next().await {
                    let c = c?;
                    if json {
                        output::json(&c, "Claim")?;
                    } else {
                        output::claim(&c);
                    }
                }
                return Ok(());
            }
            let resp = client.list_claims(request).await?.into_inner();
            if json {
                return output::json(&resp, "ListClaimsResponse");
            }
            resp.claims.iter().for_each(output::claim);
            Ok(())
        }
        ClaimsCommand::Get { id } => {
            let c = client
                .get_claim(v1::GetClaimRequest { id, encoding: 0 })
                .await?
                .into_inner();
            if json {
                return output::json(&c, "Claim");
            }
            output::claim(&c);
            Ok(())
        }
    }
}

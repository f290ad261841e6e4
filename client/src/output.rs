//! Printing responses: the proto3 JSON mapping (`--json`, the same shape grpcurl prints) or
//! short human-readable lines.

use anyhow::Context;
use dossier_api::v1;
use prost_reflect::{DescriptorPool, DynamicMessage, SerializeOptions};
use std::sync::OnceLock;

fn pool() -> anyhow::Result<&'static DescriptorPool> {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    if let Some(p) = POOL.get() {
        return Ok(p);
    }
    let pool = DescriptorPool::decode(dossier_api::FILE_DESCRIPTOR_SET)
        .context("decoding the embedded descriptor set")?;
    Ok(POOL.get_or_init(|| pool))
}

/// Prints `message` (of proto type `dossier.v1.<name>`) as one JSON document.
pub(crate) fn json<M: prost::Message>(message: &M, name: &str) -> anyhow::Result<()> {
    let full = format!("dossier.v1.{name}");
    let descriptor = pool()?
        .get_message_by_name(&full)
        .with_context(|| format!("unknown message {full}"))?;
    let dynamic = DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())?;
    let mut out = serde_json::Serializer::pretty(std::io::stdout().lock());
    dynamic.serialize_with_options(
        &mut out,
        &SerializeOptions::new().stringify_64_bit_integers(false),
    )?;
    println!();
    Ok(())
}

fn date(t: Option<&prost_types::Timestamp>) -> String {
    t.map(|t| {
        let days = t.seconds.div_euclid(86_400);
        // Civil date from days since the epoch (Howard Hinnant's algorithm).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        format!("{y:04}-{m:02}-{d:02}")
    })
    .unwrap_or_else(|| "undated".into())
}

/// One line per document.
pub(crate) fn document_line(d: &v1::Document) {
    let words = d.stats.as_ref().map_or(0, |s| s.words);
    println!(
        "{:<28} {:<10} {:>6} words  {}  {}",
        d.id,
        date(d.published_at.as_ref()),
        words,
        d.source,
        d.title
    );
}

/// A whole document.
pub(crate) fn document(d: &v1::Document) {
    println!(
        "{}\n{}\nid: {}  source: {}  published: {}",
        d.title,
        "=".repeat(d.title.chars().count().min(80)),
        d.id,
        d.source,
        date(d.published_at.as_ref())
    );
    if let Some(s) = &d.stats {
        println!(
            "words: {}  sentences: {}  entity mentions: {}  claims: {}",
            s.words, s.sentences, s.entity_mentions, s.claims
        );
    }
    println!("\n{}", d.text);
}

/// A search hit with its snippets.
pub(crate) fn hit(h: &v1::SearchHit) {
    println!(
        "{:>3}. {:<28} {:>7.3}  {}  {}",
        h.rank,
        h.document_id,
        h.score,
        date(h.published_at.as_ref()),
        h.title
    );
    for s in &h.snippets {
        println!("       … {} …", s.markup.replace('\n', " "));
    }
}

/// An entity with its counts.
pub(crate) fn entity(e: &v1::Entity) {
    let kind = v1::EntityType::try_from(e.r#type).map_or("?", |t| t.as_str_name());
    let aliases = if e.aliases.is_empty() {
        String::new()
    } else {
        format!("  aka {}", e.aliases.join(", "))
    };
    println!(
        "{:<14} {:<13} {:<30} {:>4} mentions {:>3} docs{}",
        e.id, kind, e.name, e.mention_count, e.document_count, aliases
    );
}

/// A mention with its sentence.
pub(crate) fn mention(m: &v1::Mention) {
    let span = m.span.as_ref();
    let sentence = m.sentence.as_ref().map_or("", |s| s.text.as_str());
    println!(
        "{} [{}..{}] {:?}: {}",
        m.document_id,
        span.map_or(0, |s| s.begin),
        span.map_or(0, |s| s.end),
        span.map_or("", |s| s.text.as_str()),
        sentence
    );
}

/// A claim with its speaker.
pub(crate) fn claim(c: &v1::Claim) {
    let kind = v1::ClaimKind::try_from(c.kind).map_or("?", |k| k.as_str_name());
    let speaker = c.speaker.as_ref().map_or(String::new(), |s| {
        let name = if s.name.is_empty() {
            s.description.clone()
        } else {
            s.name.clone()
        };
        let written = s.span.as_ref().map_or("", |x| x.text.as_str());
        if name.is_empty() {
            written.to_string()
        } else {
            format!("{name} ({written})")
        }
    });
    let score = c
        .check_worthiness
        .map(|w| format!(" [check-worthiness {w:.2}]"))
        .unwrap_or_default();
    println!("{} {:<14} {} — {}{}", c.id, kind, c.text, speaker, score);
    for q in &c.quantities {
        let span = q.span.as_ref().map_or("", |s| s.text.as_str());
        println!(
            "      quantity {:?}: {} {} [{:?}, {:?}]",
            span, q.value, q.unit, q.lower, q.upper
        );
    }
}

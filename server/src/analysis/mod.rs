//! Text analysis: the pure, tonic-free functions that turn a document's text into tokens,
//! sentences, entities and claims. Everything here works on `&str` and returns byte ranges
//! into it; the rpc layer converts them to the caller's offset encoding.

pub mod checkworthy;
pub mod claims;
pub mod disputes;
pub mod ner;
pub mod quantities;
pub mod sentences;
pub mod temporal;
pub mod tokenize;

use std::sync::atomic::{AtomicBool, Ordering};

/// The kind of thing an entity mention names (DESIGN.md's `EntityType`, minus "unspecified").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntityType {
    /// People.
    Person,
    /// Companies, agencies, institutions, teams, media.
    Organization,
    /// Countries, cities, regions, landmarks.
    Location,
    /// Nationalities, religious and political groups.
    Norp,
    /// Named events.
    Event,
    /// Titles of works.
    Work,
    /// Other names.
    Misc,
    /// Dates and periods.
    Date,
    /// Times of day.
    Time,
    /// Amounts of money.
    Money,
    /// Percentages.
    Percent,
    /// Measurements with a unit.
    Quantity,
    /// Plain numbers.
    Cardinal,
    /// "first", "third".
    Ordinal,
}

impl EntityType {
    /// True for the value types (dates, amounts, numbers) as opposed to names.
    pub fn is_value(self) -> bool {
        matches!(
            self,
            Self::Date
                | Self::Time
                | Self::Money
                | Self::Percent
                | Self::Quantity
                | Self::Cardinal
                | Self::Ordinal
        )
    }
}

/// How a mention refers to its entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MentionKind {
    /// A name.
    Proper,
    /// A common noun phrase ("the envoy").
    Nominal,
    /// A pronoun.
    Pronoun,
}

/// One entity mention found in a text: a byte range with a type.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityMention {
    /// Byte offset of the first byte of the mention.
    pub start: usize,
    /// Byte offset one past the mention.
    pub end: usize,
    /// The mention's type.
    pub entity_type: EntityType,
    /// Name, noun phrase or pronoun.
    pub kind: MentionKind,
    /// The tagger's confidence, 0..1, when it scores one.
    pub confidence: Option<f32>,
    /// Normalised value for value types (e.g. "value" → "5", "unit" → "hour"; "date" → ISO).
    pub metadata: Vec<(String, String)>,
}

/// Everything the analysis of one text yields, with byte offsets into it.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// Sentence byte ranges.
    pub sentences: Vec<std::ops::Range<usize>>,
    /// Number of word tokens (tokens holding a letter or digit).
    pub words: usize,
    /// Entity mentions (names, dates, amounts), in text order, never overlapping.
    pub mentions: Vec<EntityMention>,
    /// Quotes, reported speech and assertions, in text order; speakers' `mention` indexes
    /// into `mentions`.
    pub claims: Vec<claims::Claim>,
}

/// Runs the whole analysis pipeline over `text`; `anchor` (the publication date) resolves
/// relative dates ("Friday", "last month").
///
/// # Examples
///
/// ```
/// let a = dossier_server::analysis::analyze("Steve Witkoff met Vladimir Putin in Moscow on Friday.", None);
/// assert_eq!((a.sentences.len(), a.words), (1, 9));
/// let types: Vec<_> = a.mentions.iter().map(|m| m.entity_type).collect();
/// use dossier_server::analysis::EntityType::*;
/// assert_eq!(types, [Person, Person, Location, Date]);
/// assert_eq!(a.claims.len(), 1);
/// ```
pub fn analyze(text: &str, anchor: Option<chrono::NaiveDate>) -> Analysis {
    analyze_unless_stopped(text, anchor, &AtomicBool::new(false))
        .expect("an analysis that nobody stops runs to the end")
}

/// [`analyze`] that gives up, returning `None`, once `stop` is set: it is checked between
/// the pipeline's steps, so work whose caller has gone away (a passed deadline, a closed
/// connection) ends within one step instead of running to the end of a long text.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::AtomicBool;
/// use dossier_server::analysis::analyze_unless_stopped;
/// assert!(analyze_unless_stopped("Putin met Witkoff.", None, &AtomicBool::new(true)).is_none());
/// assert!(analyze_unless_stopped("Putin met Witkoff.", None, &AtomicBool::new(false)).is_some());
/// ```
pub fn analyze_unless_stopped(
    text: &str,
    anchor: Option<chrono::NaiveDate>,
    stop: &AtomicBool,
) -> Option<Analysis> {
    let go_on = || (!stop.load(Ordering::Relaxed)).then_some(());
    go_on()?;
    let tokens = tokenize::tokenize(text);
    go_on()?;
    let sentences = sentences::split_sentences(text, &tokens);
    let words = tokens
        .iter()
        .filter(|t| tokenize::is_word(t.text(text)))
        .count();
    go_on()?;
    let mut mentions = ner::recognize(text, &tokens, &sentences);
    for m in &mut mentions {
        trim_leading_function_word(text, m);
    }
    go_on()?;
    mentions.extend(temporal::find_temporal(text, &tokens, anchor));
    go_on()?;
    mentions.extend(
        quantities::find_quantities(text, &tokens)
            .iter()
            .map(|q| quantity_mention(text, q)),
    );
    let mut mentions = without_overlaps(mentions);
    go_on()?;
    let claims = claims::extract_claims(text, &tokens, &sentences, &mentions);
    claims::retype_speakers(text, &claims, &mut mentions);
    Some(Analysis {
        sentences,
        words,
        mentions,
        claims,
    })
}

/// People's and places' names never start with a preposition or conjunction; in title-case
/// headings ("Meeting With Putin") the tagger can take one in, and it is cut off here.
fn trim_leading_function_word(text: &str, m: &mut EntityMention) {
    if !matches!(m.entity_type, EntityType::Person | EntityType::Location) {
        return;
    }
    let Some(surface) = text.get(m.start..m.end) else {
        return;
    };
    let Some((first, rest)) = surface.split_once(' ') else {
        return;
    };
    if matches!(
        first,
        "With"
            | "And"
            | "Of"
            | "For"
            | "From"
            | "To"
            | "In"
            | "On"
            | "At"
            | "By"
            | "As"
            | "Into"
            | "Against"
            | "Between"
            | "Versus"
            | "Vs."
    ) && !rest.trim().is_empty()
    {
        m.start += surface.len() - rest.trim_start().len();
    }
}

/// The value mention of a quantity: MONEY, PERCENT, QUANTITY (with a unit), CARDINAL or
/// ORDINAL, with its normalised value, unit and bounds as metadata.
fn quantity_mention(text: &str, q: &quantities::Quantity) -> EntityMention {
    let ordinal = text
        .get(q.span.clone())
        .unwrap_or("")
        .split(|c: char| !c.is_alphanumeric())
        .any(is_ordinal_word);
    let entity_type = match quantities::dimension(q.unit).0 {
        "USD" | "EUR" | "GBP" => EntityType::Money,
        "percent" | "percentage point" => EntityType::Percent,
        "count" if ordinal => EntityType::Ordinal,
        "count" => EntityType::Cardinal,
        _ => EntityType::Quantity,
    };
    let mut metadata = vec![
        ("value".to_string(), format_number(q.value)),
        ("unit".to_string(), q.unit.to_string()),
    ];
    if let Some(l) = q
        .lower
        .filter(|l| *l != q.value || q.upper != Some(q.value))
    {
        metadata.push(("lower".to_string(), format_number(l)));
    }
    if let Some(u) = q
        .upper
        .filter(|u| *u != q.value || q.lower != Some(q.value))
    {
        metadata.push(("upper".to_string(), format_number(u)));
    }
    EntityMention {
        start: q.span.start,
        end: q.span.end,
        entity_type,
        kind: MentionKind::Proper,
        confidence: None,
        metadata,
    }
}

/// True for an ordinal written as a word or with a suffix ("third", "3rd"), any case.
pub fn is_ordinal_word(w: &str) -> bool {
    let w = w.to_ascii_lowercase();
    matches!(
        w.as_str(),
        "first"
            | "second"
            | "third"
            | "fourth"
            | "fifth"
            | "sixth"
            | "seventh"
            | "eighth"
            | "ninth"
            | "tenth"
            | "eleventh"
            | "twelfth"
    ) || ["st", "nd", "rd", "th"].iter().any(|s| {
        w.strip_suffix(s)
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// A number without a trailing ".0".
fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Sorts mentions by position and drops any that overlaps an earlier (or, at the same
/// start, longer) one, so every byte belongs to at most one mention.
fn without_overlaps(mut mentions: Vec<EntityMention>) -> Vec<EntityMention> {
    mentions.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut out: Vec<EntityMention> = Vec::with_capacity(mentions.len());
    for m in mentions {
        if out.last().is_none_or(|last| m.start >= last.end) {
            out.push(m);
        }
    }
    out
}

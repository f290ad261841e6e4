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
    /// Entity mentions, in text order.
    pub mentions: Vec<EntityMention>,
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
/// ```
pub fn analyze(text: &str, anchor: Option<chrono::NaiveDate>) -> Analysis {
    let tokens = tokenize::tokenize(text);
    let sentences = sentences::split_sentences(text, &tokens);
    let words = tokens
        .iter()
        .filter(|t| tokenize::is_word(t.text(text)))
        .count();
    let mut mentions = ner::recognize(text, &tokens, &sentences);
    mentions.extend(temporal::find_temporal(text, &tokens, anchor));
    Analysis {
        sentences,
        words,
        mentions: without_overlaps(mentions),
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

//! Named-entity recognition: a statistical tagger trained by the project, in pure Rust.
//!
//! [`recognize`] finds the proper names in a text (people, organisations, places, and
//! other names refined into nationalities and groups, events, works or miscellaneous), as byte
//! spans over the tokens of [`crate::analysis::tokenize`] and the sentences of
//! [`crate::analysis::sentences`].
//!
//! How it works:
//! - `features` turns every token into ~45 hashed features: its form, lower case, shape,
//!   affixes, neighbours ±2, distributional word clusters ([`clusters`], induced from unlabeled
//!   news by [`induce`]), case and sentence position, and document-level facts ("this word is
//!   capitalised mid-sentence elsewhere in the document").
//! - [`model`] scores 17 BILOU labels per token with an averaged perceptron ([`train`]) and
//!   decodes each sentence with Viterbi, so spans are always well formed.
//! - A document-level pass keeps names consistent (a surname seen in a PERSON span is a
//!   PERSON in the rest of the document) and refines MISC into NORP, EVENT or WORK.
//!
//! The weights ship in `server/models/ner.bin` (see `dossier-eval train-ner`), embedded in the
//! binary and decoded once on first use.

pub mod clusters;
mod features;
pub mod gazetteer;
pub mod induce;
pub mod model;
mod rng;
mod table;
pub mod train;
mod web;

use super::tokenize::Token;
use super::{EntityMention, EntityType, MentionKind};
use model::{split_label, Model, Part, Workspace, NL};
use std::cell::RefCell;
use std::ops::Range;
use std::sync::OnceLock;

/// Errors reading a model.
#[derive(Debug, thiserror::Error)]
pub enum NerError {
    /// The bytes end before the model does.
    #[error("NER model is truncated")]
    Truncated,
    /// The bytes are not a model this code can read.
    #[error("bad NER model: {0}")]
    Format(String),
}

/// The shipped weights (CoNLL-2003 `eng.train`, clusters from BBC + Reuters-21578 news).
static MODEL_BYTES: &[u8] = include_bytes!("../../../models/ner.bin");

/// The CoNLL types the model tags, in label order.
const TYPES: [EntityType; 4] = [
    EntityType::Person,
    EntityType::Organization,
    EntityType::Location,
    EntityType::Misc,
];

thread_local! {
    /// Per-thread scratch buffers, so tagging allocates nothing per token.
    static WORKSPACE: RefCell<Workspace> = RefCell::new(Workspace::default());
}

/// A loaded tagger. Use [`Ner::global`] for the shipped model.
#[derive(Debug, Clone, Default)]
pub struct Ner {
    model: Model,
}

impl Ner {
    /// Reads a model written by `dossier-eval train-ner`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, NerError> {
        Ok(Ner {
            model: Model::from_bytes(bytes)?,
        })
    }

    /// Wraps a model trained in this process (model selection during training).
    pub fn from_model(model: Model) -> Self {
        Ner { model }
    }

    /// The shipped model, decoded on first use. If the embedded weights cannot be read (a
    /// build error, never input-dependent) it logs and tags nothing rather than panic.
    pub fn global() -> &'static Ner {
        static NER: OnceLock<Ner> = OnceLock::new();
        NER.get_or_init(|| {
            Ner::from_bytes(MODEL_BYTES).unwrap_or_else(|e| {
                tracing::error!(error = %e, "cannot read the embedded NER model");
                Ner::default()
            })
        })
    }

    /// The underlying model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Finds the proper-name mentions in `text`; see the free function [`recognize`].
    pub fn recognize(
        &self,
        text: &str,
        tokens: &[Token],
        sentences: &[Range<usize>],
    ) -> Vec<EntityMention> {
        if tokens.is_empty() {
            return Vec::new();
        }
        // Tokens not on character boundaries of `text` would make slicing panic; drop them.
        // Tokens out of order or overlapping would make spans run backwards; drop them too.
        let mut end = 0;
        let tokens: Vec<Token> = tokens
            .iter()
            .copied()
            .filter(|t| {
                let ok = t.start < t.end && t.start >= end && text.get(t.start..t.end).is_some();
                if ok {
                    end = t.end;
                }
                ok
            })
            .collect();
        let sents = token_sentences(&tokens, sentences);
        let tagging = WORKSPACE.with(|ws| {
            let mut ws = ws.borrow_mut();
            self.model.tag(text, &tokens, &sents, &mut ws)
        });
        let mut spans = decode_spans(&tagging.labels, &tagging.scores);
        web::drop_unconfirmed_people(
            text,
            &tokens,
            &sents,
            self.model.clusters.first(),
            &mut spans,
        );
        consistency(text, &tokens, &sents, &mut spans);
        web::web_rules(text, &tokens, &mut spans);
        spans
            .into_iter()
            .map(|s| {
                let start = tokens[s.first].start;
                let end = tokens[s.last].end;
                let entity_type = refine(text, &tokens, &s);
                EntityMention {
                    start,
                    end,
                    entity_type,
                    kind: MentionKind::Proper,
                    confidence: Some(s.confidence),
                    metadata: Vec::new(),
                }
            })
            .collect()
    }
}

/// Finds the proper-name mentions (PERSON, ORGANIZATION, LOCATION, NORP, EVENT, WORK, MISC)
/// in `text`, given its tokens and sentences (byte ranges, as `split_sentences` returns).
/// Mentions are byte spans in text order with `MentionKind::Proper` and a confidence in 0..1.
/// Never panics, whatever the input.
///
/// # Examples
///
/// ```
/// use dossier_server::analysis::{
///     ner::recognize, sentences::split_sentences, tokenize::tokenize, EntityType,
/// };
/// let text = "Steve Witkoff met Vladimir Putin in Moscow.";
/// let tokens = tokenize(text);
/// let sentences = split_sentences(text, &tokens);
/// let found: Vec<(&str, EntityType)> = recognize(text, &tokens, &sentences)
///     .iter()
///     .map(|m| (&text[m.start..m.end], m.entity_type))
///     .collect();
/// assert_eq!(found, [
///     ("Steve Witkoff", EntityType::Person),
///     ("Vladimir Putin", EntityType::Person),
///     ("Moscow", EntityType::Location),
/// ]);
/// ```
pub fn recognize(text: &str, tokens: &[Token], sentences: &[Range<usize>]) -> Vec<EntityMention> {
    Ner::global().recognize(text, tokens, sentences)
}

/// Groups tokens into sentences (token index ranges covering every token in order) from
/// sentence byte ranges. Tokens outside every range join the sentence they precede; tokens
/// after the last range form one more sentence.
pub(crate) fn token_sentences(tokens: &[Token], sentences: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut out = Vec::with_capacity(sentences.len() + 1);
    let mut i = 0;
    for s in sentences {
        let begin = i;
        while i < tokens.len() && tokens[i].start < s.end {
            i += 1;
        }
        if i > begin {
            out.push(begin..i);
        }
    }
    if i < tokens.len() {
        out.push(i..tokens.len());
    }
    out
}

/// A tagged span over tokens `first..=last`.
#[derive(Debug, Clone)]
struct Span {
    first: usize,
    last: usize,
    /// Index into [`TYPES`].
    ty: usize,
    confidence: f32,
}

/// Temperature of the softmax that turns perceptron scores into confidences.
const TEMPERATURE: f32 = 10.0;

/// Probability that a token belongs to a span of label `l`'s type: the softmax (at
/// [`TEMPERATURE`]) of its max-marginal scores, summed over the B/I/L/U labels of that type.
fn prob(scores: &[f32; NL], l: u8) -> f32 {
    let (_, ty) = split_label(l);
    let max = scores.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x));
    let mut sum = 0f32;
    let mut hit = 0f32;
    for (k, &x) in scores.iter().enumerate() {
        let e = if x.is_finite() {
            ((x - max) / TEMPERATURE).exp()
        } else {
            0.0
        };
        sum += e;
        let (part, t) = split_label(k as u8);
        if part != Part::O && t == ty {
            hit += e;
        }
    }
    let p = hit / sum;
    if p.is_finite() {
        p.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// Reads spans off a BILOU labelling.
fn decode_spans(labels: &[u8], scores: &[[f32; NL]]) -> Vec<Span> {
    let mut out = Vec::new();
    let mut open: Option<(usize, usize, f32)> = None;
    for (i, &l) in labels.iter().enumerate() {
        let (part, ty) = split_label(l);
        // Only tokens inside spans need their probability.
        let p = || scores.get(i).map_or(0.0, |s| prob(s, l));
        match part {
            Part::O => open = None,
            Part::U => {
                open = None;
                out.push(Span {
                    first: i,
                    last: i,
                    ty,
                    confidence: p(),
                });
            }
            Part::B => open = Some((i, ty, p())),
            Part::I => {
                if let Some(o) = open.as_mut() {
                    o.2 = o.2.min(p());
                }
            }
            Part::L => {
                if let Some((first, t, c)) = open.take() {
                    out.push(Span {
                        first,
                        last: i,
                        ty: t,
                        confidence: c.min(p()),
                    });
                }
            }
        }
    }
    out
}

/// True for possessive clitics, which never belong inside a name.
fn is_possessive(s: &str) -> bool {
    matches!(s, "'s" | "’s" | "'S" | "’S" | "'" | "’")
}

/// Prepositions and conjunctions, which a title-cased headline capitalises ("Meeting With
/// Putin") but which never open a name.
fn is_function_word(w: &str) -> bool {
    const WORDS: &[&str] = &[
        "with", "without", "in", "into", "at", "for", "from", "to", "on", "by", "and", "or", "but",
        "against", "after", "before", "over", "under", "between", "amid", "about", "as", "via",
        "versus", "vs", "vs.", "than", "if", "while", "when",
    ];
    w.len() <= 7 && WORDS.iter().any(|x| x.eq_ignore_ascii_case(w))
}

/// Document-level consistency: trims possessives, edge punctuation and leading function
/// words; a one-token span or an untagged
/// capitalised token that repeats the surname (last token) of a PERSON span elsewhere in the
/// document becomes PERSON.
fn consistency(text: &str, tokens: &[Token], sents: &[Range<usize>], spans: &mut Vec<Span>) {
    let word = |i: usize| tokens[i].text(text);
    // Possessives and punctuation at the edges of a span.
    let edge = |w: &str| {
        is_possessive(w)
            || matches!(
                w,
                "\"" | "“"
                    | "”"
                    | "‘"
                    | "«"
                    | "»"
                    | "—"
                    | "–"
                    | "-"
                    | "--"
                    | ","
                    | ";"
                    | ":"
                    | "…"
            )
    };
    for s in spans.iter_mut() {
        while s.last > s.first && edge(word(s.last)) {
            s.last -= 1;
        }
        while s.first < s.last && (edge(word(s.first)) || is_function_word(word(s.first))) {
            s.first += 1;
        }
    }
    spans.retain(|s| !edge(word(s.first)));
    let person = TYPES
        .iter()
        .position(|t| *t == EntityType::Person)
        .unwrap_or(0);
    // A name that is mostly a PERSON in the document (confidence summed over its mentions)
    // is a PERSON everywhere in it, and one that is mostly something else is never a PERSON.
    let mut votes: Vec<(&str, [f32; TYPES.len()])> = Vec::new();
    let span_text = |s: &Span| &text[tokens[s.first].start..tokens[s.last].end];
    for s in spans.iter() {
        let t = span_text(s);
        match votes.iter_mut().find(|(x, _)| *x == t) {
            Some((_, v)) => v[s.ty] += s.confidence,
            None => {
                let mut v = [0.0; TYPES.len()];
                v[s.ty] = s.confidence;
                votes.push((t, v));
            }
        }
    }
    for s in spans.iter_mut() {
        let t = span_text(s);
        if let Some((_, v)) = votes.iter().find(|(x, _)| *x == t) {
            let best = (0..v.len()).fold(s.ty, |b, k| if v[k] > v[b] { k } else { b });
            if best == person || s.ty == person {
                s.ty = best;
            }
        }
    }
    let surnames: Vec<&str> = spans
        .iter()
        .filter(|s| s.ty == person && s.last > s.first)
        .map(|s| word(s.last))
        .filter(|w| w.chars().count() > 1)
        .collect();
    if surnames.is_empty() {
        return;
    }
    for s in spans.iter_mut() {
        if s.first == s.last && s.ty != person && surnames.contains(&word(s.first)) {
            s.ty = person;
        }
    }
    // Untagged repetitions of a surname.
    let mut tagged = vec![false; tokens.len()];
    for s in spans.iter() {
        for t in &mut tagged[s.first..=s.last] {
            *t = true;
        }
    }
    let mut added = Vec::new();
    for sent in sents {
        for i in sent.clone() {
            if tagged[i] || !surnames.contains(&word(i)) {
                continue;
            }
            // Only as a name on its own: not glued to other capitalised words.
            let capital = |j: usize| {
                sent.contains(&j) && word(j).chars().next().is_some_and(char::is_uppercase)
            };
            if (i > 0 && capital(i - 1)) || capital(i + 1) {
                continue;
            }
            added.push(Span {
                first: i,
                last: i,
                ty: person,
                confidence: 0.5,
            });
        }
    }
    if !added.is_empty() {
        spans.extend(added);
        spans.sort_by_key(|s| s.first);
    }
}

/// Nationality / group words that suffix rules miss.
const GROUPS: &[&str] = &[
    "republican",
    "republicans",
    "democrat",
    "democrats",
    "democratic",
    "muslim",
    "muslims",
    "christian",
    "christians",
    "jew",
    "jews",
    "jewish",
    "catholic",
    "catholics",
    "protestant",
    "protestants",
    "sunni",
    "shi'ite",
    "shiite",
    "shia",
    "buddhist",
    "hindu",
    "sikh",
    "sikhs",
    "arab",
    "arabs",
    "kurd",
    "kurds",
    "serb",
    "serbs",
    "croat",
    "croats",
    "tory",
    "tories",
    "communist",
    "communists",
    "socialist",
    "socialists",
    "swiss",
    "dutch",
    "french",
    "greek",
    "greeks",
    "thai",
    "czech",
    "czechs",
    "slovak",
    "slovaks",
    "basque",
    "uzbek",
    "kazakh",
    "tajik",
    "turk",
    "turks",
    "scot",
    "scots",
    "welsh",
    "irish",
    "brit",
    "brits",
    "pole",
    "poles",
    "dane",
    "danes",
    "finn",
    "finns",
    "swede",
    "swedes",
];

/// Words that make a MISC name an event.
const EVENT_WORDS: &[&str] = &[
    "cup",
    "championship",
    "championships",
    "open",
    "games",
    "olympics",
    "olympiad",
    "war",
    "prix",
    "tour",
    "rally",
    "election",
    "elections",
    "summit",
    "conference",
    "festival",
    "series",
    "trophy",
    "marathon",
    "classic",
    "masters",
    "revolution",
    "accords",
    "forum",
    "grand",
    "bowl",
    "derby",
    "invitational",
];

/// Refines a span's CoNLL type into DESIGN.md's types (MISC → NORP, EVENT, WORK, MISC).
fn refine(text: &str, tokens: &[Token], s: &Span) -> EntityType {
    let ty = TYPES[s.ty.min(TYPES.len() - 1)];
    let words: Vec<&str> = (s.first..=s.last).map(|i| tokens[i].text(text)).collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    // A people in the plural ("Ukrainians", "Europeans", "Republicans") is a group, not a
    // person or a place; an organisation it may be ("Cleveland Indians", "Airdrieonians").
    if let (Some(one), false) = (lower.last(), ty == EntityType::Organization) {
        let plural_people = (one.ends_with("ians") || one.ends_with("eans")) && one.len() > 6;
        if plural_people || (one.ends_with('s') && GROUPS.contains(&one.as_str())) {
            return EntityType::Norp;
        }
    }
    if ty != EntityType::Misc {
        return ty;
    }
    let nationality = |w: &str| {
        GROUPS.contains(&w)
            || ["an", "ans", "ese", "ish", "i", "is", "ic"]
                .iter()
                .any(|suf| w.ends_with(suf) && w.len() > suf.len() + 2)
    };
    if lower.len() <= 2 && lower.iter().all(|w| nationality(w)) {
        return EntityType::Norp;
    }
    if lower.iter().any(|w| EVENT_WORDS.contains(&w.as_str()))
        || (lower.len() > 1 && lower.iter().any(|w| w.len() == 4 && w.starts_with("19")))
        || (lower.len() > 1 && lower.iter().any(|w| w.len() == 4 && w.starts_with("20")))
    {
        return EntityType::Event;
    }
    let quoted = |i: Option<usize>| {
        i.and_then(|i| tokens.get(i))
            .is_some_and(|t| matches!(t.text(text), "\"" | "“" | "”" | "'" | "‘" | "’"))
    };
    if quoted(s.first.checked_sub(1)) && quoted(Some(s.last + 1)) {
        return EntityType::Work;
    }
    EntityType::Misc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{sentences::split_sentences, tokenize::tokenize};

    fn run(text: &str) -> Vec<(String, EntityType)> {
        let tokens = tokenize(text);
        let sents = split_sentences(text, &tokens);
        recognize(text, &tokens, &sents)
            .into_iter()
            .map(|m| (text[m.start..m.end].to_string(), m.entity_type))
            .collect()
    }

    #[test]
    fn finds_people_and_places_in_a_plain_sentence() {
        assert_eq!(
            run("Steve Witkoff met Vladimir Putin in Moscow"),
            [
                ("Steve Witkoff".to_string(), EntityType::Person),
                ("Vladimir Putin".to_string(), EntityType::Person),
                ("Moscow".to_string(), EntityType::Location),
            ]
        );
    }

    #[test]
    fn the_shipped_model_loads_and_has_weights() {
        assert!(Ner::global().model().num_features() > 10_000);
    }

    #[test]
    fn news_paragraph_types_people_and_never_types_places_or_groups_as_people() {
        let text = "President Donald Trump sent envoy Steve Witkoff to the Kremlin, where \
                    Witkoff met Vladimir Putin. Ukraine's President Volodymyr Zelenskyy \
                    later spoke with Secretary of State Marco Rubio at the White House, and \
                    NATO allies welcomed the talks.";
        let found = run(text);
        let type_of = |name: &str| {
            found
                .iter()
                .filter(|(s, _)| s == name)
                .map(|(_, t)| *t)
                .collect::<Vec<_>>()
        };
        for person in [
            "Donald Trump",
            "Steve Witkoff",
            "Witkoff",
            "Vladimir Putin",
            "Marco Rubio",
        ] {
            assert_eq!(type_of(person), [EntityType::Person], "{person}: {found:?}");
        }
        for place_or_group in ["Kremlin", "Ukraine", "White House", "NATO"] {
            assert!(
                !type_of(place_or_group).contains(&EntityType::Person),
                "{place_or_group}: {found:?}"
            );
        }
    }

    #[test]
    fn confidences_are_probabilities() {
        let text = "Angela Merkel met Emmanuel Macron in Paris on Monday.";
        let tokens = tokenize(text);
        let sents = split_sentences(text, &tokens);
        for m in recognize(text, &tokens, &sents) {
            let c = m.confidence.unwrap_or(-1.0);
            assert!((0.0..=1.0).contains(&c), "{c}");
            assert!(m.metadata.is_empty() && m.kind == MentionKind::Proper);
        }
    }

    #[test]
    fn headlines_in_capitals_are_tagged() {
        let found = run("SOCCER - JAPAN GET LUCKY WIN , CHINA IN SURPRISE DEFEAT .");
        assert!(
            found.contains(&("JAPAN".to_string(), EntityType::Location)),
            "{found:?}"
        );
    }

    #[test]
    fn possessives_stay_outside_names() {
        let found = run("President Vladimir Putin’s envoy met President Donald Trump's team.");
        assert!(found
            .iter()
            .all(|(s, _)| !s.contains('’') && !s.contains('\'')));
        assert!(found.contains(&("Vladimir Putin".to_string(), EntityType::Person)));
        assert!(found.contains(&("Donald Trump".to_string(), EntityType::Person)));
    }

    #[test]
    fn a_surname_stays_a_person_in_the_document() {
        let found = run("Vladimir Putin spoke on Monday.\nLater, Putin left the Kremlin.");
        assert!(found.contains(&("Putin".to_string(), EntityType::Person)));
        assert!(found.contains(&("Kremlin".to_string(), EntityType::Location)));
    }

    #[test]
    fn title_case_headlines_keep_prepositions_out_of_names() {
        let found = run("Witkoff’s Five-Hour Meeting With Putin\nWitkoff met Vladimir Putin.");
        assert!(
            found.iter().all(|(s, _)| !s.starts_with("With")),
            "{found:?}"
        );
    }

    #[test]
    fn nationalities_become_norp() {
        let found = run("Russian and Ukrainian officials met in Geneva.");
        assert!(found.contains(&("Russian".to_string(), EntityType::Norp)));
    }

    #[test]
    fn never_panics_on_odd_input() {
        let long = "word ".repeat(10_000);
        let huge = "A".repeat(100_000);
        for text in [
            "",
            "   ",
            "😀 🇺🇦 — “”",
            "SOCCER - JAPAN GET LUCKY WIN , CHINA IN SURPRISE DEFEAT .",
            long.as_str(),
            huge.as_str(),
            "Київ і Москва 東京 Zelenskyy’s",
        ] {
            let tokens = tokenize(text);
            let found = recognize(text, &tokens, &split_sentences(text, &tokens));
            assert_valid(text, &found);
        }
        assert!(run("").is_empty() && run("   ").is_empty());
    }

    /// Mentions are non-empty, ordered, non-overlapping byte ranges on character boundaries.
    fn assert_valid(text: &str, found: &[EntityMention]) {
        for m in found {
            assert!(m.start < m.end && m.end <= text.len(), "{text:.40}: {m:?}");
            assert!(text.is_char_boundary(m.start) && text.is_char_boundary(m.end));
        }
        assert!(
            found.windows(2).all(|w| w[0].end <= w[1].start),
            "{text:.40}: {found:?}"
        );
    }

    #[test]
    fn bad_tokens_and_sentences_are_tolerated() {
        let text = "Putin met Trump.";
        let tokens = [
            Token { start: 0, end: 5 },
            Token { start: 3, end: 100 },
            Token { start: 10, end: 15 },
        ];
        assert_valid(text, &recognize(text, &tokens, &[]));
        let backwards_tokens = [Token { start: 10, end: 15 }, Token { start: 0, end: 5 }];
        assert_valid(text, &recognize(text, &backwards_tokens, &[]));
        let backwards = std::ops::Range { start: 5, end: 2 };
        assert_valid(
            text,
            &recognize(text, &tokenize(text), &[backwards, 0..1000]),
        );
        let sentences: Vec<std::ops::Range<usize>> = std::iter::once(0..1).collect();
        // A token that cuts a character in two names nothing.
        assert!(recognize("é", &[Token { start: 0, end: 1 }], &sentences).is_empty());
    }
}

//! Speakers: the noun phrase next to a cue ("Trump", "he", "a senior administration
//! official", "Democratic pollster Geoff Garin") and what it refers to.
//!
//! Works from the text alone: capitalised name sequences, titles, pronouns and the nouns of
//! anonymous sourcing. Entity mentions from the NER, when the caller has them, only refine the
//! result (the speaker is tied to the PERSON/ORG mention it overlaps, and pronouns resolve to
//! the nearest PERSON mention when no earlier speaker is closer).

use super::doc::Doc;
use super::lexicon::flags::*;
use super::{Speaker, SpeakerKind};
use crate::analysis::{EntityMention, EntityType};
use std::ops::Range;

/// Most tokens a source noun phrase may span.
const MAX_NP: usize = 24;

/// The noun phrase ending just before token `end` (exclusive) and starting at or after `lo`,
/// as a token range. Walks left over name, noun, determiner and post-modifier tokens
/// ("a person familiar with the effort") and stops at punctuation, quotes and clause words.
pub(crate) fn left_np(doc: &Doc<'_>, lo: usize, end: usize) -> Option<Range<usize>> {
    if end <= lo {
        return None;
    }
    // "Rep. Jim Jordan (R-Ohio)": a parenthesis closing the phrase belongs to it.
    let open_paren = |close: usize| -> Option<usize> {
        (close.saturating_sub(8).max(lo)..close)
            .rev()
            .find(|&i| doc.word(i) == "(")
    };
    let mut last = end - 1;
    if doc.word(last) == ")" {
        last = open_paren(last)?.checked_sub(1).filter(|&l| l >= lo)?;
    }
    if doc.in_quote(last) || doc.is(last, PUNCT) && !doc.is(last, POSS) {
        return None;
    }
    // The head: a pronoun stands alone.
    if doc.is(last, PRON) {
        return Some(last..end);
    }
    if doc.is(last, STOP | PREP | AUX | CONJ) && !doc.is(last, ROLE | TITLE)
        || is_article(doc, last)
    {
        return None;
    }
    let mut start = last;
    while start > lo && end - start < MAX_NP {
        let i = start - 1;
        if doc.in_quote(i) {
            break;
        }
        let c = doc.cls[i];
        if doc.word(i) == ")" {
            match open_paren(i) {
                Some(o) if o > lo => {
                    start = o;
                    continue;
                }
                _ => break,
            }
        }
        if c.is(COMMA | BREAK | FINAL | QUOTE) {
            break;
        }
        if c.is(PUNCT) && !c.is(POSS) {
            // Hyphens inside names ("R-Texas") are tokens of their own only as dashes.
            break;
        }
        if c.is(PRON) {
            // "who" ends an NP to the left; other pronouns are not inside NPs.
            break;
        }
        if c.is(CONJ) {
            // "Trump and Pence said": keep "and" between names.
            if doc.is(i + 1, CAP) && i > lo && doc.is(i - 1, CAP) {
                start = i;
                continue;
            }
            break;
        }
        if c.is(STOP) && !c.is(PREP | DET) {
            break;
        }
        if c.is(CUE) && c.cue > 0.5 && !c.is(CAP) {
            break;
        }
        start = i;
    }
    // A leading preposition ("On Tuesday Trump") or stray lowercase verb: drop up to the
    // first token that can open a noun phrase.
    while start < last {
        let c = doc.cls[start];
        if c.is(PREP) && !c.is(DET | CAP) || c.is(POSS) {
            start += 1;
        } else if c.is(CAP) && doc.is(start, PREP) {
            // "On Tuesday Trump": "On" is capitalised at the start of a sentence.
            start += 1;
        } else {
            break;
        }
    }
    Some(start..end)
}

/// Articles and possessive determiners: a noun phrase never ends with one.
fn is_article(doc: &Doc<'_>, i: usize) -> bool {
    matches!(
        doc.word(i).to_ascii_lowercase().as_str(),
        "the" | "a" | "an" | "his" | "their" | "its" | "our" | "my" | "your"
    )
}

/// Capitalised words that start many runs but are not first names.
fn not_a_first_name(w: &str) -> bool {
    w.contains('.')
        // "Following Trump’s inauguration", "According …": a participle opening a sentence.
        || w.len() > 5 && w.ends_with("ing")
        || matches!(
            w,
            "Eastern"
                | "Western"
                | "Northern"
                | "Southern"
                | "Department"
                | "State"
                | "House"
                | "White"
                | "United"
                | "New"
                | "North"
                | "South"
                | "East"
                | "West"
                | "In"
                | "On"
                | "At"
                | "For"
                | "The"
                | "But"
                | "And"
                | "When"
                | "After"
                | "Before"
                | "Since"
                | "If"
                | "As"
                | "While"
                | "Former"
                | "Russian"
                | "Ukrainian"
                | "American"
                | "European"
                | "National"
                | "Republican"
                | "Democratic"
                | "Secretary"
                | "President"
                | "Vice"
                | "Prime"
                | "Minister"
                | "Senator"
                | "Sen."
                | "Gov."
        )
}

/// The noun phrase starting at `start` (after an inverted cue: "said Trump", "said a senior
/// official familiar with the talks"), up to a comma, clause word or `hi`.
pub(crate) fn right_np(doc: &Doc<'_>, start: usize, hi: usize) -> Option<Range<usize>> {
    if start >= hi || doc.in_quote(start) {
        return None;
    }
    let c0 = doc.cls[start];
    if c0.is(PUNCT) || c0.is(STOP) && !c0.is(DET | PRON) {
        return None;
    }
    if c0.is(PRON) {
        return Some(start..start + 1);
    }
    let mut end = start + 1;
    while end < hi && end - start < MAX_NP {
        let c = doc.cls[end];
        if doc.in_quote(end) || c.is(COMMA | BREAK | FINAL | QUOTE) {
            break;
        }
        if c.is(PUNCT) && !c.is(POSS) {
            break;
        }
        if c.is(STOP | PRON) && !c.is(PREP | DET) {
            break;
        }
        if c.is(TIME) && !c.is(CAP) || c.is(TIME | PREP) && doc.is(end + 1, TIME) {
            break;
        }
        // "said Trump in a statement": a preposition after a name ends it.
        if c.is(PREP) && !c.is(CAP) && doc.is(end - 1, CAP) && !doc.is(end, DET) {
            let w = doc.word(end);
            if !w.eq_ignore_ascii_case("of") {
                break;
            }
        }
        if c.is(PREP) && doc.is(end + 1, DET) && doc.is(end - 1, CAP) {
            let w = doc.word(end);
            if !w.eq_ignore_ascii_case("of") {
                break;
            }
        }
        end += 1;
    }
    Some(start..end)
}

/// A resolved speaker, with what later pronouns and "the official" need to find it again.
#[derive(Debug, Clone)]
struct Seen {
    /// Token position of the mention.
    at: usize,
    name: String,
    /// The parts of an anonymous description ("a second senior administration official").
    described: Described,
    description: String,
    kind: SpeakerKind,
    mention: Option<usize>,
}

impl Seen {
    fn named(at: usize, name: String, mention: Option<usize>) -> Self {
        Seen {
            at,
            name,
            described: Described::default(),
            description: String::new(),
            kind: SpeakerKind::Named,
            mention,
        }
    }
}

/// An anonymous source's description taken apart: "a second senior administration official
/// familiar with the talks" is head "official", ordinal 2, modifiers "senior",
/// "administration", and the words after the head.
#[derive(Debug, Clone, Default)]
struct Described {
    /// The head noun, singular ("official", "person" for "people").
    head: String,
    /// "second" → 2, "another" → 2, "first" → 1; `None` when the phrase has no ordinal.
    ordinal: Option<u8>,
    /// Content words before the head, lower case.
    modifiers: Vec<String>,
    /// Content words after the head ("familiar", "talks").
    rest: Vec<String>,
}

/// Words of a description that say nothing of who the source is.
fn is_function_word(w: &str) -> bool {
    matches!(
        w,
        "a" | "an"
            | "the"
            | "that"
            | "this"
            | "those"
            | "these"
            | "one"
            | "of"
            | "some"
            | "many"
            | "several"
            | "two"
            | "three"
            | "four"
            | "five"
            | "six"
            | "seven"
            | "both"
            | "other"
            | "his"
            | "her"
            | "their"
            | "its"
            | "with"
            | "in"
            | "on"
            | "to"
            | "and"
    )
}

fn singular_head(w: &str) -> String {
    match w {
        "people" | "persons" => "person".to_string(),
        _ => w.strip_suffix('s').unwrap_or(w).to_string(),
    }
}

impl Described {
    /// Takes apart the description `text` whose head noun is `head`.
    fn of(text: &str, head: &str) -> Self {
        let head = singular_head(head);
        let mut out = Described {
            head: head.clone(),
            ..Described::default()
        };
        let mut before = true;
        for w in text
            .split(|c: char| !c.is_alphanumeric() && c != '.' && c != '-')
            .map(|w| w.trim_end_matches('.').to_lowercase())
            .filter(|w| !w.is_empty())
        {
            if before && singular_head(&w) == head {
                before = false;
                continue;
            }
            let ordinal = match w.as_str() {
                "first" => Some(1),
                "second" | "another" => Some(2),
                "third" => Some(3),
                "fourth" => Some(4),
                _ => None,
            };
            if before && ordinal.is_some() {
                out.ordinal = ordinal;
            } else if !is_function_word(&w) {
                if before {
                    out.modifiers.push(w);
                } else {
                    out.rest.push(w);
                }
            }
        }
        out
    }
}

/// "Trump’s social media statement", "Peskov’s deliberate downplaying": the name owning a
/// statement-like noun (the head of `r`), as a token range.
pub(crate) fn statement_owner(doc: &Doc<'_>, r: Range<usize>) -> Option<Range<usize>> {
    let head = r.end.checked_sub(1).filter(|&h| h > r.start)?;
    let w = doc.word(head).to_ascii_lowercase();
    let statement = matches!(
        w.as_str(),
        "statement"
            | "statements"
            | "remarks"
            | "remark"
            | "comments"
            | "comment"
            | "words"
            | "tweet"
            | "tweets"
            | "post"
            | "posts"
            | "message"
            | "letter"
            | "speech"
            | "interview"
            | "testimony"
            | "announcement"
            | "response"
            | "reply"
            | "op-ed"
            | "memo"
            | "warning"
            | "claim"
            | "claims"
            | "assertion"
            | "account"
    ) || w.ends_with("ing") && w.len() > 5 && doc.is(head, LOWER);
    if !statement {
        return None;
    }
    let poss = (r.start + 1..head).rev().find(|&i| doc.is(i, POSS))?;
    last_name_run(doc, r.start..poss).filter(|run| run.end == poss)
}

/// First names common in news whose gender is unambiguous, so "he"/"she" skip an
/// incompatible antecedent. Titles (Mr./Ms.) and the pronouns a document already used for a
/// name are the other evidence.
const FEMALE: &[&str] = &[
    "Hillary",
    "Nancy",
    "Elizabeth",
    "Kamala",
    "Melania",
    "Ivanka",
    "Sarah",
    "Mary",
    "Susan",
    "Jennifer",
    "Karen",
    "Lisa",
    "Michelle",
    "Angela",
    "Theresa",
    "Ursula",
    "Kaja",
    "Giorgia",
    "Nikki",
    "Amy",
    "Maria",
    "Anna",
    "Olena",
    "Yulia",
    "Julia",
    "Laura",
    "Linda",
    "Barbara",
    "Patricia",
    "Margaret",
    "Jessica",
    "Emily",
    "Emma",
    "Catherine",
    "Katherine",
    "Kate",
    "Rachel",
    "Rebecca",
    "Hope",
    "Kellyanne",
    "Debbie",
    "Tulsi",
    "Carly",
    "Megyn",
    "Jill",
    "Condoleezza",
    "Madeleine",
    "Samantha",
    "Janet",
    "Christine",
    "Marianne",
    "Liz",
    "Ruth",
    "Sonia",
    "Elena",
    "Nina",
    "Victoria",
    "Oksana",
    "Iryna",
    "Natalia",
    "Tatiana",
    "Irina",
    "Huma",
    "Cheryl",
    "Donna",
    "Loretta",
    "Sheryl",
    "Tammy",
    "Maxine",
    "Kirsten",
    "Claire",
];
const MALE: &[&str] = &[
    "Donald",
    "Joe",
    "Barack",
    "Bill",
    "George",
    "John",
    "Steve",
    "Steven",
    "Vladimir",
    "Vladmir",
    "Volodymyr",
    "Marco",
    "Ted",
    "Bernie",
    "Mike",
    "Michael",
    "JD",
    "James",
    "Robert",
    "David",
    "Richard",
    "Jared",
    "Jeb",
    "Chris",
    "Paul",
    "Mitch",
    "Dmitry",
    "Sergei",
    "Sergey",
    "Andriy",
    "Keith",
    "Emmanuel",
    "Olaf",
    "Boris",
    "Keir",
    "Rishi",
    "Benjamin",
    "Recep",
    "Antony",
    "Jake",
    "Lloyd",
    "Mark",
    "Tom",
    "Tim",
    "Kevin",
    "Rudy",
    "Rudolph",
    "Newt",
    "Ben",
    "Rand",
    "Scott",
    "Dan",
    "Jim",
    "Peter",
    "Jeff",
    "Alexander",
    "Avi",
    "Rustem",
    "Kyrylo",
    "Andrii",
    "Oleksandr",
    "Dmytro",
    "Kirill",
    "Yuri",
    "Alexei",
    "Ivan",
    "Viktor",
    "Henry",
    "Brian",
    "Jonathan",
    "Marcus",
    "Reince",
    "Harry",
    "Chuck",
    "Lindsey",
];

/// Gender evidence for a name whose run starts at token `run_start`: `Some(true)` female.
fn name_gender(doc: &Doc<'_>, run_start: usize, name: &str) -> Option<bool> {
    if run_start > 0 {
        match doc.word(run_start - 1) {
            "Mr." | "Mr" | "Sir" | "Lord" => return Some(false),
            "Mrs." | "Ms." | "Mrs" | "Ms" | "Miss" | "Lady" | "Dame" => return Some(true),
            _ => {}
        }
    }
    let first = name.split(' ').next().unwrap_or("");
    if FEMALE.contains(&first) {
        Some(true)
    } else if MALE.contains(&first) {
        Some(false)
    } else {
        None
    }
}

/// Tracks speakers across a document so pronouns and definite descriptions resolve.
pub(crate) struct Resolver<'m> {
    seen: Vec<Seen>,
    /// Full names (two or more capitalised words) in the document, by their last word.
    full_names: Vec<(usize, String)>,
    mentions: &'m [EntityMention],
    /// Known genders by resolved name (true: female).
    genders: std::collections::HashMap<String, bool>,
    /// Byte offset of every token (to match full names against mentions).
    doc_offsets: Vec<usize>,
}

fn is_name_tok(doc: &Doc<'_>, i: usize) -> bool {
    doc.is(i, CAP) && !doc.in_quote(i) && !doc.is(i, PUNCT)
}

impl<'m> Resolver<'m> {
    pub(super) fn new(doc: &Doc<'_>, mentions: &'m [EntityMention]) -> Self {
        // Capitalised runs of two or three or more words ("Steve Witkoff", "Vladimir Putin"),
        // not starting with a title word, give full names for surnames.
        let mut full_names = Vec::new();
        let n = doc.toks.len();
        let mut i = 0;
        while i < n {
            if is_name_tok(doc, i) {
                let s = i;
                i += 1;
                while i < n
                    && is_name_tok(doc, i)
                    && !doc.text[doc.toks[i - 1].end..doc.toks[i].start].contains('\n')
                {
                    i += 1;
                }
                let mut a = s;
                while a < i && doc.is(a, TITLE | DET | STOP | PREP) {
                    a += 1;
                }
                // "U.S. President Donald Trump": the name follows the last title word.
                if let Some(t) = (a..i).rev().find(|&t| doc.is(t, TITLE)) {
                    a = t + 1;
                }
                if i - a >= 2
                    && i - a <= 3
                    && !not_a_first_name(doc.word(a))
                    && (a..i).all(|k| {
                        doc.word(k)
                            .chars()
                            .all(|c| c.is_alphabetic() || c == '-' || c == '\'' || c == '’')
                    })
                {
                    full_names.push((a, join_words(doc, a..i)));
                }
            } else {
                i += 1;
            }
        }
        let mut genders = std::collections::HashMap::new();
        for (at, name) in &full_names {
            if let Some(g) = name_gender(doc, *at, name) {
                genders.entry(name.clone()).or_insert(g);
            }
        }
        Resolver {
            seen: Vec::new(),
            full_names,
            mentions,
            genders,
            doc_offsets: doc.toks.iter().map(|t| t.start).collect(),
        }
    }

    /// The full form of a one-word name ("Trump" → "Donald Trump") when the document spells
    /// it out somewhere, the earliest such spelling first.
    fn expand(&self, name: &str) -> String {
        if name.contains(' ') {
            return name.to_string();
        }
        let mut fulls = self
            .full_names
            .iter()
            .filter(|(_, full)| full.rsplit(' ').next() == Some(name));
        let first = fulls.clone().next();
        // A spelling the tagger also saw as a person's name wins over the earliest one.
        fulls
            .find(|(at, full)| {
                let b = self.doc_offsets.get(*at).copied().unwrap_or(usize::MAX);
                self.mentions.iter().any(|m| {
                    m.entity_type == EntityType::Person
                        && m.start <= b
                        && b < m.end
                        && m.end - m.start >= full.len()
                })
            })
            .or(first)
            .map_or_else(|| name.to_string(), |(_, full)| full.clone())
    }

    fn mention_at(&self, doc: &Doc<'_>, r: &Range<usize>) -> Option<usize> {
        if self.mentions.is_empty() || r.is_empty() {
            return None;
        }
        let b = doc.bytes(r);
        self.mentions.iter().position(|m| {
            m.start < b.end
                && b.start < m.end
                && matches!(m.entity_type, EntityType::Person | EntityType::Organization)
        })
    }

    /// Builds the speaker for the source tokens `src` (or the author when `None`): a
    /// pronoun's antecedent, a name before an apposition, an anonymous role, a statement's
    /// owner or the name heading the phrase, in that order.
    pub(super) fn speaker(&mut self, doc: &Doc<'_>, src: Option<Range<usize>>) -> Speaker {
        let Some(src) = src.filter(|r| !r.is_empty()) else {
            return Speaker::unknown();
        };
        let span = Some(doc.bytes(&src));
        let text = &doc.text[doc.bytes(&src)];
        if src.len() == 1 && doc.is(src.start, PRON) {
            return self.pronoun_speaker(doc, src.start, span, text);
        }
        // "Jason Chaffetz (R-Utah)": the parenthesis is not the head.
        let src_end = if doc.word(src.end - 1) == ")" {
            (src.start..src.end)
                .rev()
                .find(|&i| doc.word(i) == "(")
                .unwrap_or(src.end)
        } else {
            src.end
        };
        if let Some(s) = self.role_then_name(doc, &src, src_end, &span) {
            return s;
        }
        if let Some(s) = self.apposition_speaker(doc, &src, src_end, &span) {
            return s;
        }
        let head_end = head_end_in(doc, &src, src_end);
        let head_tok = (src.start..head_end).rev().find(|&i| !doc.is(i, PUNCT));
        let is_role = head_tok.is_some_and(|i| doc.is(i, ROLE));
        // A name is the head of the phrase ("Kremlin spokesman Dmitry Peskov"), not a
        // modifier of it ("Ukrainian officials", "a U.S. official").
        // A capitalised role or group ("Officials warned …" at a sentence start) is no name.
        let name_run = last_name_run(doc, src.start..head_end)
            .filter(|r| r.end == head_end && !r.clone().all(|i| doc.is(i, ROLE)));
        if is_role && name_run.is_none() {
            let head = head_tok
                .map(|i| doc.word(i).to_ascii_lowercase())
                .unwrap_or_default();
            return self.role_speaker(doc, src.start, &head, span, text);
        }
        // "Trump’s social media statement": a statement's owner is its speaker.
        if let Some(owner) = statement_owner(doc, src.start..head_end) {
            let name = self.expand(&join_words(doc, owner.clone()));
            let mention = self.mention_at(doc, &owner);
            self.seen
                .push(Seen::named(src.start, name.clone(), mention));
            return Speaker {
                span,
                kind: SpeakerKind::Named,
                name,
                description: text.to_string(),
                mention,
            };
        }
        if let Some(run) = name_run {
            return self.named_speaker(doc, &src, run, span, text);
        }
        Speaker {
            span,
            kind: SpeakerKind::Unknown,
            name: String::new(),
            description: text.to_string(),
            mention: self.mention_at(doc, &src),
        }
    }

    /// The speaker a pronoun at token `at` (written `text`) refers to: the name before
    /// "who", the nearest person of the pronoun's gender, an earlier group for "they".
    fn pronoun_speaker(
        &mut self,
        doc: &Doc<'_>,
        at: usize,
        span: Option<Range<usize>>,
        text: &str,
    ) -> Speaker {
        let w = doc.word(at).to_ascii_lowercase();
        let found = match w.as_str() {
            "who" => self.before_who(doc, at),
            "he" | "she" => {
                let female = w == "she";
                let found = self.nearest_person(doc, at, female);
                if let Some(f) = &found {
                    // The document's own pronoun is evidence for later ones.
                    self.genders.entry(f.name.clone()).or_insert(female);
                }
                found
            }
            "they" => self
                .seen
                .iter()
                .rev()
                .find(|s| s.kind == SpeakerKind::Anonymous || s.name.contains(' '))
                .cloned(),
            _ => None,
        };
        match found {
            Some(s) => Speaker {
                span,
                kind: s.kind,
                name: s.name,
                description: s.description,
                mention: s.mention,
            },
            // "I", "we" and pronouns with no antecedent.
            None => Speaker {
                span,
                kind: SpeakerKind::Unknown,
                name: String::new(),
                description: text.to_string(),
                mention: None,
            },
        }
    }

    /// "a spokesman for the Kremlin, Dmitry Peskov": a role without a name, then the name
    /// after a comma; the person is the speaker and the role, whatever organisation it names,
    /// the description.
    fn role_then_name(
        &mut self,
        doc: &Doc<'_>,
        src: &Range<usize>,
        src_end: usize,
        span: &Option<Range<usize>>,
    ) -> Option<Speaker> {
        let c = (src.start + 1..src_end).rev().find(|&i| doc.is(i, COMMA))?;
        let mut run = c + 1..src_end;
        while run.end > run.start && doc.is(run.end - 1, COMMA) {
            run.end -= 1;
        }
        let is_name = |i: usize| is_name_tok(doc, i) && !doc.is(i, TITLE | ROLE | DET | PRON);
        if run.is_empty() || run.len() > 4 || !run.clone().all(is_name) {
            return None;
        }
        let role = src.start..c;
        let head_end = head_end_in(doc, &role, c);
        let head = (role.start..head_end).rev().find(|&i| !doc.is(i, PUNCT))?;
        let role_named = last_name_run(doc, role.start..head_end)
            .is_some_and(|r| r.end == head_end && !r.clone().all(|i| doc.is(i, ROLE)));
        if !doc.is(head, ROLE | TITLE) || role_named {
            return None;
        }
        let description = doc.text[doc.bytes(&role)].to_string();
        Some(self.named_by_run(doc, src.start, run, span, description))
    }

    /// The named speaker whose name is the tokens `run` of a source starting at `at`.
    fn named_by_run(
        &mut self,
        doc: &Doc<'_>,
        at: usize,
        run: Range<usize>,
        span: &Option<Range<usize>>,
        description: String,
    ) -> Speaker {
        let name = self.expand(&join_words(doc, run.clone()));
        let mention = self.mention_at(doc, &run);
        self.seen.push(Seen::named(at, name.clone(), mention));
        Speaker {
            span: span.clone(),
            kind: SpeakerKind::Named,
            name,
            description,
            mention,
        }
    }

    /// "Trump, never shy of grand comparisons": the name before the apposition, which
    /// becomes the description.
    fn apposition_speaker(
        &mut self,
        doc: &Doc<'_>,
        src: &Range<usize>,
        src_end: usize,
        span: &Option<Range<usize>>,
    ) -> Option<Speaker> {
        let c = (src.start + 1..src_end).find(|&i| doc.is(i, COMMA))?;
        let first = src.start..head_end_in(doc, src, c);
        let run = last_name_run(doc, first.clone()).filter(|r| r.end == first.end)?;
        let description = if c + 1 < src.end {
            doc.text[doc.bytes(&(c + 1..src.end))]
                .trim_matches(|ch: char| ch == ',' || ch.is_whitespace())
                .to_string()
        } else {
            String::new()
        };
        Some(self.named_by_run(doc, src.start, run, span, description))
    }

    /// An anonymous source described by a role with head noun `head` ("a senior
    /// administration official"); a definite one ("the official") is the earlier source it
    /// refers to.
    fn role_speaker(
        &mut self,
        doc: &Doc<'_>,
        at: usize,
        head: &str,
        span: Option<Range<usize>>,
        text: &str,
    ) -> Speaker {
        let first = doc.word(at).to_ascii_lowercase();
        let definite = matches!(first.as_str(), "the" | "that" | "this" | "those");
        let this = Described::of(text, head);
        if definite {
            if let Some(s) = self.antecedent(&this).cloned() {
                // The reference is now the most recent mention of that source.
                self.seen.push(Seen { at, ..s.clone() });
                return Speaker {
                    span,
                    kind: SpeakerKind::Anonymous,
                    name: String::new(),
                    description: s.description,
                    mention: None,
                };
            }
        }
        let description = text.trim_end_matches([',', ' ']).to_string();
        self.seen.push(Seen {
            at,
            name: String::new(),
            described: this,
            description: description.clone(),
            kind: SpeakerKind::Anonymous,
            mention: None,
        });
        Speaker {
            span,
            kind: SpeakerKind::Anonymous,
            name: String::new(),
            description,
            mention: None,
        }
    }

    /// The named speaker of the name `run` heading the source `src`; the rest of the
    /// phrase, if any, is the description.
    fn named_speaker(
        &mut self,
        doc: &Doc<'_>,
        src: &Range<usize>,
        run: Range<usize>,
        span: Option<Range<usize>>,
        text: &str,
    ) -> Speaker {
        let raw = join_words(doc, run.clone());
        let name = self.expand(&raw);
        if let Some(g) =
            name_gender(doc, run.start, &raw).or_else(|| name_gender(doc, run.start, &name))
        {
            self.genders.entry(name.clone()).or_insert(g);
        }
        let mention = self.mention_at(doc, &run);
        let description = if run.start > src.start || run.end < src.end {
            text.to_string()
        } else {
            String::new()
        };
        self.seen.push(Seen {
            at: src.start,
            name: name.clone(),
            described: Described::default(),
            description: description.clone(),
            kind: SpeakerKind::Named,
            mention,
        });
        Speaker {
            span,
            kind: SpeakerKind::Named,
            name,
            description,
            mention,
        }
    }

    /// The earlier anonymous source a definite description ("the official", "the senior
    /// administration official", "the second U.S. official") refers to.
    ///
    /// Candidates share its head noun, carry every modifier it has, and agree with its
    /// ordinal: "the second X" is the one introduced as "a second X"; "the first X" and a bare
    /// "the X" with modifiers are the one introduced without an ordinal (a later source of
    /// the same kind is "a second X" and stays "the second X"). A bare "the official" is the
    /// most recently mentioned official. Ties go to more shared words, then recency.
    fn antecedent(&self, this: &Described) -> Option<&Seen> {
        let candidates = self.seen.iter().enumerate().filter(|(_, s)| {
            s.kind == SpeakerKind::Anonymous
                && s.described.head == this.head
                && this
                    .modifiers
                    .iter()
                    .all(|m| s.described.modifiers.contains(m))
                && match this.ordinal {
                    Some(1) => s.described.ordinal.is_none_or(|o| o == 1),
                    Some(o) => s.described.ordinal == Some(o),
                    None => true,
                }
        });
        let prefer_first = this.ordinal.is_none() && !this.modifiers.is_empty();
        candidates
            .max_by_key(|(i, s)| {
                let first = prefer_first && s.described.ordinal.is_none_or(|o| o == 1);
                let shared = this
                    .rest
                    .iter()
                    .filter(|w| s.described.rest.contains(w))
                    .count();
                (first, shared, *i)
            })
            .map(|(_, s)| s)
    }

    /// "Sanders, who endorsed Canova": the name before ", who".
    fn before_who(&mut self, doc: &Doc<'_>, who: usize) -> Option<Seen> {
        if who < 2 || !doc.is(who - 1, COMMA) {
            return None;
        }
        let np = left_np(doc, who.saturating_sub(1 + MAX_NP), who - 1)?;
        let run = last_name_run(doc, np)?;
        let name = self.expand(&join_words(doc, run.clone()));
        Some(Seen {
            at: run.start,
            name,
            described: Described::default(),
            description: String::new(),
            kind: SpeakerKind::Named,
            mention: self.mention_at(doc, &run),
        })
    }

    /// The nearest earlier named person: an earlier speaker, or a PERSON mention, or a full
    /// name, whichever is closest before `at`.
    fn nearest_person(&self, doc: &Doc<'_>, at: usize, female: bool) -> Option<Seen> {
        let compatible = |name: &str| self.genders.get(name).is_none_or(|&g| g == female);
        let speaker = self
            .seen
            .iter()
            .rev()
            .find(|s| s.at < at && s.kind == SpeakerKind::Named && compatible(&s.name))
            .cloned();
        let at_byte = doc.toks[at].start;
        let mention = self
            .mentions
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, m)| m.end <= at_byte && m.entity_type == EntityType::Person)
            .find(|(_, m)| compatible(&self.expand(&doc.text[m.start..m.end])))
            .map(|(i, m)| {
                let t = doc.toks.partition_point(|t| t.start < m.start);
                Seen {
                    at: t,
                    name: self.expand(&doc.text[m.start..m.end]),
                    described: Described::default(),
                    description: String::new(),
                    kind: SpeakerKind::Named,
                    mention: Some(i),
                }
            });
        let full = self
            .full_names
            .iter()
            .rev()
            .find(|(p, n)| *p < at && compatible(n))
            .map(|(p, n)| Seen {
                at: *p,
                name: n.clone(),
                described: Described::default(),
                description: String::new(),
                kind: SpeakerKind::Named,
                mention: None,
            });
        // Prefer the speaker unless a mention is clearly nearer.
        let mut best = speaker;
        for cand in [mention, full].into_iter().flatten() {
            let better = match &best {
                None => true,
                Some(b) => cand.at > b.at + 40,
            };
            if better {
                best = Some(cand);
            }
        }
        best
    }
}

/// The end of the head noun of source `src` (before `end`): before a post-modifier ("a
/// person familiar with …", "Rep. Tom Cole of Oklahoma"), except after a quantifier ("one of
/// the people familiar …").
fn head_end_in(doc: &Doc<'_>, src: &Range<usize>, end: usize) -> usize {
    (src.start..end)
        .find(|&i| {
            i > src.start
                && doc.is(i, PREP)
                && !doc.is(i, CAP)
                && !(doc.word(i).eq_ignore_ascii_case("of") && doc.is(i - 1, DET))
        })
        .unwrap_or(end)
}

/// The last run of capitalised name words in `r`, without leading titles ("President Trump"
/// → "Trump", "Democratic pollster Geoff Garin" → "Geoff Garin").
fn last_name_run(doc: &Doc<'_>, r: Range<usize>) -> Option<Range<usize>> {
    let mut best: Option<Range<usize>> = None;
    let mut i = r.start;
    while i < r.end {
        if doc.is(i, CAP) && !doc.is(i, PUNCT) {
            let s = i;
            while i < r.end && (doc.is(i, CAP) && !doc.is(i, PUNCT)) {
                i += 1;
            }
            let mut a = s;
            while a < i && doc.is(a, TITLE | DET | STOP | PRON | PREP) {
                a += 1;
            }
            // "Oversight Chairman Jason Chaffetz": the name follows the last title word.
            if let Some(t) = (a..i).rev().find(|&t| doc.is(t, TITLE)) {
                if t + 1 < i {
                    a = t + 1;
                }
            }
            if a < i {
                best = Some(a..i);
            }
        } else {
            i += 1;
        }
    }
    best
}

fn join_words(doc: &Doc<'_>, r: Range<usize>) -> String {
    let mut s = String::new();
    for i in r {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(doc.word(i));
    }
    s
}

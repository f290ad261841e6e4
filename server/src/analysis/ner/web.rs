//! Rules for web pages, where a statistical tagger trained on newswire sentences meets
//! headings, section titles, captions and credits.
//!
//! - A heading (a line of its own, in title case, with no digits and no
//!   punctuation but quotes, dashes and a question mark) capitalises every word, so
//!   the tagger's best evidence for a name is gone: "The View from a Nervous Washington"
//!   yields the person "Nervous Washington". A PERSON in a heading stays only when the
//!   document confirms it elsewhere (the same name, or one of its words as the surname of a
//!   person, in running text), or when the name is the whole line (a byline).
//! - People's names never hold a slash: "Jack Guez/AFP" (a photo credit) is the person "Jack Guez".
//! - A name whose last word is a document or event ("Abraham Accords", "Minsk Agreement") is
//!   never a person; one whose last word is a people in the plural ("Russophone
//!   Ukrainians") is a group.
//! - Names coordinated before "administration(s)" share a type: in "the Biden, first Trump,
//!   and Obama administrations" one of them is a person, so all are (the tagger alone took
//!   the last for a place).
//! - An appositive title before a name ("the Ukrainian National Security Council Rustem
//!   Umerov") is an organisation followed by a person: the span splits after the
//!   organisation's head word.

use super::clusters::WordClusters;
use super::features::hash_str;
use super::{is_function_word, Span, TYPES};
use crate::analysis::tokenize::Token;
use crate::analysis::EntityType;
use std::ops::Range;

/// Index of a type in [`TYPES`].
fn type_index(t: EntityType) -> usize {
    TYPES.iter().position(|x| *x == t).unwrap_or(0)
}

/// Words that end the name of an organisation and never begin a person's name.
const ORG_HEADS: &[&str] = &[
    "council",
    "committee",
    "ministry",
    "department",
    "agency",
    "commission",
    "party",
    "union",
    "bank",
    "office",
    "service",
    "court",
    "parliament",
    "assembly",
    "association",
    "federation",
    "institute",
    "university",
    "corporation",
    "board",
    "bureau",
    "authority",
    "foundation",
    "organisation",
    "organization",
    "administration",
    "command",
    "army",
    "navy",
    "police",
    "senate",
    "congress",
    "cabinet",
    "government",
    "directorate",
    "secretariat",
];

/// Other words that end organisations' names ("Chicago Board Options Exchange").
const ORG_TAILS: &[&str] = &[
    "exchange",
    "group",
    "company",
    "corp",
    "inc",
    "ltd",
    "club",
    "fund",
    "trust",
    "market",
    "markets",
    "news",
    "times",
    "post",
    "press",
    "media",
    "holdings",
    "partners",
    "systems",
    "airlines",
    "airways",
    "motors",
    "industries",
    "international",
    "network",
    "centre",
    "center",
    "school",
    "college",
    "academy",
    "hospital",
    "church",
    "museum",
    "league",
    "team",
    "forces",
    "guard",
];

/// Last words of names of documents, events and plans, never of people.
const NOT_PERSON_LAST: &[&str] = &[
    "accord",
    "accords",
    "agreement",
    "agreements",
    "treaty",
    "pact",
    "protocol",
    "convention",
    "doctrine",
    "plan",
    "initiative",
    "act",
    "war",
    "summit",
    "conference",
    "election",
    "elections",
    "olympics",
    "cup",
    "championship",
    "championships",
    "talks",
    "process",
    "deal",
];

/// A people in the plural ("Ukrainians", "Europeans", "Republicans").
fn plural_people(lower: &str) -> bool {
    ((lower.ends_with("ians") || lower.ends_with("eans")) && lower.len() > 6)
        || (lower.ends_with('s') && super::GROUPS.contains(&lower))
}

/// True when sentence `s` is a heading: a line of its own, at least three words, in title
/// case (every word but function words and articles capitalised, some letters in lower
/// case), without digits and not ending like a sentence.
fn is_heading(text: &str, tokens: &[Token], s: &Range<usize>) -> bool {
    if s.is_empty() {
        return false;
    }
    let (begin, end) = (tokens[s.start].start, tokens[s.end - 1].end);
    // Only blanks between the line breaks and the sentence (scanning the blanks alone, so
    // a long text without line breaks costs nothing).
    let before = text[..begin]
        .chars()
        .rev()
        .find(|c| *c == '\n' || !c.is_whitespace());
    let after = text[end..]
        .chars()
        .find(|c| *c == '\n' || !c.is_whitespace());
    if before.is_some_and(|c| c != '\n') || after.is_some_and(|c| c != '\n') {
        return false;
    }
    let line = &text[begin..end];
    if line.chars().any(|c| c.is_ascii_digit()) || !line.chars().any(char::is_lowercase) {
        return false;
    }
    let last = tokens[s.end - 1].text(text);
    if matches!(last, "." | "!" | ";" | "," | ":" | "…") {
        return false;
    }
    let mut words = 0;
    for t in &tokens[s.clone()] {
        let w = t.text(text);
        let Some(c) = w.chars().next() else { continue };
        if !c.is_alphabetic() {
            // Lists and tables ("A ( Sweden ) , B") are not headings.
            if matches!(
                w,
                "“" | "”" | "\"" | "'" | "‘" | "’" | "’s" | "'s" | "-" | "–" | "—" | "?"
            ) {
                continue;
            }
            return false;
        }
        words += 1;
        let small = is_function_word(w)
            || matches!(
                w.to_lowercase().as_str(),
                "the" | "a" | "an" | "of" | "is" | "are" | "was" | "its" | "his" | "her" | "their"
            );
        if !small && !c.is_uppercase() {
            return false;
        }
    }
    words >= 3
}

/// Applies the rules of the module docs to `spans` (in text order).
pub(super) fn web_rules(text: &str, tokens: &[Token], spans: &mut Vec<Span>) {
    let word = |i: usize| tokens[i].text(text);
    let person = type_index(EntityType::Person);
    let org = type_index(EntityType::Organization);
    let misc = type_index(EntityType::Misc);
    // Names never hold a slash: keep what comes before it.
    for s in spans.iter_mut() {
        if s.ty != person {
            continue;
        }
        if let Some(k) = (s.first..=s.last).find(|&i| word(i).contains('/')) {
            if k == s.first {
                // "Guez/AFP" as one token: the name is the part before the slash, which is
                // not a token of its own, so the span goes.
                s.last = usize::MAX;
            } else {
                s.last = k - 1;
            }
        }
    }
    spans.retain(|s| s.last != usize::MAX);
    // Documents, events and groups.
    for s in spans.iter_mut() {
        let last = word(s.last).to_lowercase();
        if s.ty == person && NOT_PERSON_LAST.contains(&last.as_str()) {
            s.ty = misc;
        }
        if s.ty != org && s.last > s.first && plural_people(&last) {
            s.ty = misc;
        }
    }
    coordinated_administrations(&word, tokens.len(), spans, person);
    // Appositive titles: "<Organisation head> <Given> <Family>".
    let mut split = Vec::new();
    for s in spans.iter_mut() {
        if s.ty != org || s.last < s.first + 2 {
            continue;
        }
        let Some(h) = (s.first..s.last)
            .rev()
            .find(|&i| ORG_HEADS.contains(&word(i).to_lowercase().as_str()))
        else {
            continue;
        };
        let tail = h + 1..s.last + 1;
        let name_like = |i: usize| {
            let w = word(i);
            let mut cs = w.chars();
            cs.next().is_some_and(char::is_uppercase)
                && cs.clone().next().is_some()
                && cs.all(|c| c.is_lowercase() || c == '-' || c == '\'')
                && !ORG_HEADS.contains(&w.to_lowercase().as_str())
                && !is_function_word(w)
        };
        let org_like = |i: usize| {
            let w = word(i).to_lowercase();
            ORG_HEADS.contains(&w.as_str()) || ORG_TAILS.contains(&w.as_str())
        };
        if h > s.first
            && (2..=3).contains(&tail.len())
            && tail.clone().all(name_like)
            && !tail.clone().any(org_like)
        {
            split.push(Span {
                first: h + 1,
                last: s.last,
                ty: person,
                confidence: s.confidence,
            });
            s.last = h;
        }
    }
    if !split.is_empty() {
        spans.extend(split);
        spans.sort_by_key(|s| s.first);
    }
}

/// Words allowed between names coordinated in a list ("Biden, first Trump, and Obama").
const LIST_GLUE: [&str; 9] = [
    ",", "and", "or", "first", "second", "both", "the", "then", "former",
];

/// Names coordinated right before "administration" or "administrations" are of one kind:
/// when one of two or more is a person, the other one-word names become people too.
fn coordinated_administrations<'t>(
    word: &impl Fn(usize) -> &'t str,
    tokens: usize,
    spans: &mut [Span],
    person: usize,
) {
    for end in 0..spans.len() {
        let head = spans[end].last + 1;
        if head >= tokens
            || !matches!(
                word(head).to_lowercase().as_str(),
                "administration" | "administrations"
            )
        {
            continue;
        }
        let mut first = end;
        while first > 0 {
            let gap = spans[first - 1].last + 1..spans[first].first;
            if gap.len() > 3 || !gap.clone().all(|i| LIST_GLUE.contains(&word(i))) {
                break;
            }
            first -= 1;
        }
        let group = &mut spans[first..=end];
        if group.len() < 2 || !group.iter().any(|s| s.ty == person) {
            continue;
        }
        for s in group.iter_mut().filter(|s| s.first == s.last) {
            s.ty = person;
        }
    }
}

/// Drops the people of headings that running text does not confirm (see the module docs),
/// and single words at the start of a sentence that the unlabeled news almost always writes
/// in lower case ("Writers at the paper come from …"), unless the document names them as a
/// person elsewhere. Runs on the tagger's own spans, before document-level consistency
/// spreads a name (a heading's "Nervous Washington" would make every "Washington" a person).
pub(super) fn drop_unconfirmed_people(
    text: &str,
    tokens: &[Token],
    sents: &[Range<usize>],
    clusters: Option<&WordClusters>,
    spans: &mut Vec<Span>,
) {
    let word = |i: usize| tokens[i].text(text);
    let person = type_index(EntityType::Person);
    let heading: Vec<bool> = sents.iter().map(|s| is_heading(text, tokens, s)).collect();
    let mut in_heading = vec![false; tokens.len()];
    let mut opens = vec![false; tokens.len()];
    for (s, &h) in sents.iter().zip(&heading) {
        if h {
            for t in &mut in_heading[s.clone()] {
                *t = true;
            }
        }
        if let Some(i) = s
            .clone()
            .find(|&i| word(i).chars().next().is_some_and(char::is_alphabetic))
        {
            opens[i] = true;
        }
    }
    let lower_word = |i: usize| {
        clusters.is_some_and(|c| {
            let lw = hash_str(&word(i).to_lowercase());
            c.by_lower(lw).is_some_and(|e| e.cap_prior == 1)
        })
    };
    // A span's words without the quotes and dashes the tagger may take in at its edges
    // ("“Never" opening a quoted sentence); the consistency pass trims those afterwards.
    let has_alnum = |i: usize| word(i).chars().any(char::is_alphanumeric);
    let core = |s: &Span| -> (usize, usize) {
        let first = (s.first..=s.last)
            .find(|&i| has_alnum(i))
            .unwrap_or(s.first);
        let last = (first..=s.last)
            .rev()
            .find(|&i| has_alnum(i))
            .unwrap_or(s.last);
        (first, last)
    };
    let span_text = |s: &Span| {
        let (first, last) = core(s);
        &text[tokens[first].start..tokens[last].end]
    };
    let running = |s: &&Span| s.ty == person && !in_heading[s.first] && !opens[core(s).0];
    let confirmed_names: Vec<&str> = spans.iter().filter(running).map(span_text).collect();
    let confirmed_words: Vec<&str> = spans
        .iter()
        .filter(|s| s.ty == person && !in_heading[s.first])
        .flat_map(|s| {
            let (first, last) = core(s);
            first..=last
        })
        .map(word)
        .collect();
    let whole_line = |s: &Span| {
        let (first, last) = core(s);
        sents.iter().any(|r| {
            r.start <= first
                && last < r.end
                && r.clone()
                    .all(|i| (first..=last).contains(&i) || !has_alnum(i))
        })
    };
    spans.retain(|s| {
        if s.ty != person {
            return true;
        }
        let (first, last) = core(s);
        if first == last && opens[first] && lower_word(first) {
            return confirmed_names.contains(&span_text(s));
        }
        !in_heading[first]
            || whole_line(s)
            || confirmed_names.contains(&span_text(s))
            || (first..=last).any(|i| confirmed_words.contains(&word(i)))
    });
}

#[cfg(test)]
mod tests {
    use super::{coordinated_administrations, type_index, Span};
    use crate::analysis::EntityType;
    use crate::analysis::{ner::recognize, sentences::split_sentences, tokenize::tokenize};

    fn people(text: &str) -> Vec<String> {
        let tokens = tokenize(text);
        let sents = split_sentences(text, &tokens);
        recognize(text, &tokens, &sents)
            .into_iter()
            .filter(|m| m.entity_type == EntityType::Person)
            .map(|m| text[m.start..m.end].to_string())
            .collect()
    }

    #[test]
    fn title_case_section_headings_produce_no_people() {
        let text = "Harbour talks resume after a long winter\n\
                    Negotiators met in Tallinn on Tuesday to restart talks on the harbour.\n\
                    The Mood in a Worried Brussels\n\
                    Officials in Brussels said they expected little from the meeting.\n\
                    What the Harbour Deal Means for Fishermen\n\
                    Fishermen said the deal would change little for them.";
        assert_eq!(people(text), Vec::<String>::new());
    }

    #[test]
    fn people_in_headings_stay_when_the_story_names_them() {
        let text = "Marta Kovac's Long Night With the Unions\n\
                    Marta Kovac, the labour minister, spent the night with union leaders.";
        let found = people(text);
        assert!(found.iter().any(|p| p == "Marta Kovac"), "{found:?}");
    }

    #[test]
    fn words_opening_a_quoted_sentence_are_not_people() {
        let text = "Under the plan, the city would sell the old harbour to a developer and \
                    keep the lighthouse.\n\n\
                    “Never before had anyone offered us this much for the harbour,” the deputy \
                    mayor said.\n\n\
                    \"Rarely have the council and the port agreed on anything,\" a clerk said.\n\n\
                    ‘Seldom does a deal like this come along,’ one fisherman said.";
        assert_eq!(people(text), Vec::<String>::new());
    }

    #[test]
    fn names_coordinated_before_administrations_are_all_people() {
        let text = "Tariffs rose under the Sarkozy, first Hollande, and Macron governments \
                    and fell under the Bush, Clinton and Obama administrations.";
        let found = people(text);
        for name in ["Bush", "Clinton", "Obama"] {
            assert!(found.iter().any(|p| p == name), "{name}: {found:?}");
        }
        let text = "Officials of the Kyiv administration met envoys from Warsaw.";
        assert!(people(text).is_empty(), "{:?}", people(text));
    }

    #[test]
    fn the_administrations_rule_retypes_one_word_names_of_a_list_with_a_person() {
        let text = "under the Bush , first Clinton , and Obama administrations";
        let words: Vec<&str> = text.split(' ').collect();
        let word = |i: usize| words[i];
        let span = |i, ty| Span {
            first: i,
            last: i,
            ty,
            confidence: 1.0,
        };
        let (per, loc) = (
            type_index(EntityType::Person),
            type_index(EntityType::Location),
        );
        let mut spans = vec![span(2, per), span(5, loc), span(8, loc)];
        coordinated_administrations(&word, words.len(), &mut spans, per);
        assert!(spans.iter().all(|s| s.ty == per));
        // No person in the list, or a list of one: nothing changes.
        let mut places = vec![span(5, loc), span(8, loc)];
        coordinated_administrations(&word, words.len(), &mut places, per);
        assert!(places.iter().all(|s| s.ty == loc));
        let mut alone = vec![span(8, loc)];
        coordinated_administrations(&word, words.len(), &mut alone, per);
        assert_eq!(alone[0].ty, loc);
    }

    #[test]
    fn photo_credits_keep_the_photographer_apart_from_the_agency() {
        let text =
            "The minister greets farmers in Lyon on May 3. Pierre Dumont / AFP via Getty Images";
        let found = people(text);
        assert!(found.iter().all(|p| !p.contains('/')), "{found:?}");
    }

    #[test]
    fn accords_and_peoples_are_not_people() {
        let text = "The envoy helped broker the Caspian Accords last year, and Russophone \
                    Estonians welcomed the news.";
        let found = people(text);
        assert!(
            found
                .iter()
                .all(|p| !p.contains("Accords") && !p.contains("Estonians")),
            "{found:?}"
        );
    }

    #[test]
    fn an_appositive_title_splits_into_organisation_and_person() {
        let text = "The talks followed a visit by the secretary of the Estonian Defence \
                    Council Mart Tamm to Washington.";
        let tokens = tokenize(text);
        let sents = split_sentences(text, &tokens);
        let found: Vec<(String, EntityType)> = recognize(text, &tokens, &sents)
            .into_iter()
            .map(|m| (text[m.start..m.end].to_string(), m.entity_type))
            .collect();
        assert!(
            found.contains(&("Mart Tamm".to_string(), EntityType::Person)),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .all(|(s, t)| !(s.contains("Tamm") && *t == EntityType::Organization)),
            "{found:?}"
        );
    }
}

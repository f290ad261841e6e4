//! Seed-style cases for the claim extractor: the phrasing of real news pages (curly quotes,
//! interrupted quotes, anonymous sources, "according to"), each test saying what it proves.

use super::*;
use crate::analysis::{sentences::split_sentences, tokenize::tokenize};

fn claims(text: &str) -> Vec<Claim> {
    let tokens = tokenize(text);
    let sentences = split_sentences(text, &tokens);
    extract_claims(text, &tokens, &sentences, &[])
}

fn attributed(text: &str) -> Vec<Claim> {
    claims(text)
        .into_iter()
        .filter(|c| c.kind != ClaimKind::Assertion)
        .collect()
}

fn span<'a>(text: &'a str, r: &Option<Range<usize>>) -> &'a str {
    r.clone().map_or("", |r| &text[r])
}

#[test]
fn curly_quote_with_trailing_speaker() {
    // "“…,” Trump said." is a direct quote by Trump, resolved to the full name the text uses.
    let text = "Donald Trump met the press. “Everybody loves him,” Trump said.";
    let c = attributed(text);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].kind, ClaimKind::Direct);
    assert_eq!(&text[c[0].content.clone()], "“Everybody loves him,”");
    assert_eq!(span(text, &c[0].speaker.span), "Trump");
    assert_eq!(c[0].speaker.name, "Donald Trump");
    assert_eq!(span(text, &c[0].cue), "said");
}

#[test]
fn interrupted_quote_is_one_claim_with_one_speaker() {
    // "“A,” Trump joked during the interview. “B.”": both parts, one claim, one speaker.
    let text = "“Most people I’d send in, number one, they wouldn’t be accepted,” Trump joked during the interview. “Number two, if they were, the meeting would last five minutes.”";
    let c = attributed(text);
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!(c[0].segments.len(), 2);
    assert_eq!(span(text, &c[0].speaker.span), "Trump");
    assert!(c[0].text.contains("Number two"));
    // Its quantity is in the second part.
    assert!(c[0]
        .quantities
        .iter()
        .any(|q| q.value == 5.0 && q.unit == "minute"));
}

#[test]
fn quote_running_over_paragraphs_continues_the_speaker() {
    // A paragraph that opens a quote and never closes it goes on in the next one.
    let text = "“The first part of it,” she said. “It goes on\n“and ends here.”\nAfter.";
    let c = attributed(text);
    assert_eq!(c.len(), 1, "{c:#?}");
    assert!(c[0].text.contains("ends here"));
    assert_eq!(span(text, &c[0].speaker.span), "she");
}

#[test]
fn anonymous_source_and_later_reference() {
    // An anonymous source keeps its description; "the official" later is the same source.
    let text = "“His inexperience shines through,” said a senior administration official familiar with the talks. \
                “It is hard to operationalize,” the official said.";
    let c = attributed(text);
    assert_eq!(c.len(), 2, "{c:#?}");
    assert_eq!(c[0].speaker.kind, SpeakerKind::Anonymous);
    assert_eq!(
        c[0].speaker.description,
        "a senior administration official familiar with the talks"
    );
    assert_eq!(c[1].speaker.kind, SpeakerKind::Anonymous);
    assert_eq!(span(text, &c[1].speaker.span), "the official");
    assert_eq!(c[1].speaker.description, c[0].speaker.description);
}

#[test]
fn anonymous_people_familiar_with() {
    // "according to seven people familiar with internal discussions" is an anonymous source.
    let text =
        "He rarely reads briefings, according to seven people familiar with internal discussions.";
    let c = attributed(text);
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!(c[0].kind, ClaimKind::Indirect);
    assert_eq!(&text[c[0].content.clone()], "He rarely reads briefings");
    assert_eq!(c[0].speaker.kind, SpeakerKind::Anonymous);
    assert_eq!(span(text, &c[0].cue), "according to");
}

#[test]
fn according_to_first_and_reported_speech() {
    // "According to X, …" and "X told reporters that …" are indirect claims with X as source.
    let text = "According to the Kremlin, the talks were useful. Witkoff told reporters that the meeting went well.";
    let c = attributed(text);
    assert_eq!(c.len(), 2, "{c:#?}");
    assert_eq!(span(text, &c[0].speaker.span), "the Kremlin");
    assert_eq!(&text[c[0].content.clone()], "the talks were useful");
    assert_eq!(span(text, &c[1].speaker.span), "Witkoff");
    assert_eq!(&text[c[1].content.clone()], "that the meeting went well");
    assert!(c.iter().all(|c| c.kind == ClaimKind::Indirect));
}

#[test]
fn pronoun_speaker_resolves_to_the_previous_person() {
    // "he said" keeps "he" as the span and resolves the name.
    let text = "Steve Witkoff flew to Moscow. “It was productive,” he said.";
    let c = attributed(text);
    assert_eq!(span(text, &c[0].speaker.span), "he");
    assert_eq!(c[0].speaker.name, "Steve Witkoff");
    assert_eq!(c[0].speaker.kind, SpeakerKind::Named);
}

#[test]
fn mixed_quote_in_reported_speech_is_direct() {
    // Reported speech quoting a phrase counts as direct (PolNeAR's definition).
    let text = "Trump called it a “reasonably good meeting.”";
    let c = attributed(text);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].kind, ClaimKind::Direct);
    assert_eq!(span(text, &c[0].speaker.span), "Trump");
}

#[test]
fn scare_quotes_and_apostrophes_are_not_claims() {
    // Short quoted fragments with no cue, and apostrophes, give no quote claims.
    let text = "Witkoff, a man with “no idea about Russia,” went in. Witkoff’s team doesn’t care.";
    assert!(attributed(text).is_empty());
}

#[test]
fn every_sentence_gets_a_scored_claim() {
    // Assertions cover the sentences no attribution covers, each with a check-worthiness.
    let text = "It lasted five hours.\nThank you.\n“Good,” he said.";
    let c = claims(text);
    assert_eq!(c.len(), 3);
    assert!(c
        .iter()
        .all(|c| c.check_worthiness.is_some_and(|s| (0.0..=1.0).contains(&s))));
    assert_eq!(c[0].kind, ClaimKind::Assertion);
    assert_eq!(c[0].speaker.kind, SpeakerKind::Author);
    assert_eq!(c[0].quantities.len(), 1);
}

#[test]
fn unbalanced_marks_do_not_spoil_the_document() {
    // A paragraph with a stray opening mark does not stop later quotes being found.
    let text = "He said “this never closes\nLater, Putin said: “Fine.”";
    let c = attributed(text);
    assert!(
        c.iter().any(|c| span(text, &c.speaker.span) == "Putin"),
        "{c:#?}"
    );
}

#[test]
fn never_panics_and_ranges_are_valid() {
    // Odd input gives valid ranges on char boundaries.
    for text in [
        "",
        "\"",
        "“",
        "”,” said",
        "said",
        "according to",
        "“a” “b” “c”",
        "\n\n“\n”\n",
        "’s ’s ’s",
        "X said:",
        "he said, “",
        "Київ said “Привіт,” він сказав.",
        "«Oui», dit-il.",
    ] {
        for c in claims(text) {
            for r in std::iter::once(&c.content)
                .chain(&c.segments)
                .chain(c.speaker.span.iter())
            {
                assert!(r.start <= r.end && r.end <= text.len());
                assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
            }
        }
    }
}

#[test]
fn mentions_refine_speakers() {
    // With NER mentions, a speaker is tied to the PERSON mention it overlaps.
    use crate::analysis::{EntityMention, EntityType, MentionKind};
    let text = "“Yes,” Witkoff said.";
    let start = text.find("Witkoff").unwrap_or(0);
    let mentions = [EntityMention {
        start,
        end: start + "Witkoff".len(),
        entity_type: EntityType::Person,
        kind: MentionKind::Proper,
        confidence: None,
        metadata: Vec::new(),
    }];
    let tokens = tokenize(text);
    let c = extract_claims(text, &tokens, &split_sentences(text, &tokens), &mentions);
    assert_eq!(c[0].speaker.mention, Some(0));
}

#[test]
fn pronouns_skip_incompatible_antecedents() {
    // "she" resolves to the nearest compatible person, not the nearest person.
    let text = "Hillary Clinton met Donald Trump. “It went well,” she said.";
    let c = attributed(text);
    assert_eq!(span(text, &c[0].speaker.span), "she");
    assert_eq!(c[0].speaker.name, "Hillary Clinton");
}

#[test]
fn name_and_colon_label_a_speaker() {
    // Headlines and transcripts: "Trump: ‘…’" / "PENCE: Well, …" attribute to the name;
    // "Note: …" does not.
    let text = "PENCE: Well, the question really should be about the debate.\nNote: this story was updated twice today.";
    let c = attributed(text);
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!(span(text, &c[0].speaker.span), "PENCE");
}

#[test]
fn random_marks_and_words_never_panic() {
    // A deterministic fuzz over the characters that trip quote, cue and number rules: every
    // claim and quantity range must be valid (a lookahead past the last token once panicked).
    use crate::analysis::quantities::find_quantities;
    let alphabet = [
        "\"",
        "'",
        "“",
        "”",
        "‘",
        "’",
        "«",
        "»",
        "„",
        "''",
        " ",
        " ",
        "\n",
        "\n\n",
        ",",
        ".",
        ":",
        "—",
        "-",
        "(",
        ")",
        "said",
        "Trump",
        "he",
        "according",
        "to",
        "a",
        "senior",
        "official",
        "five",
        "hours",
        "$",
        "1,400",
        "%",
        "over",
        "about",
        "Київ",
        "told",
        "that",
        "adding",
        "who",
        "and",
        "3rd",
        "between",
        "2024",
        "―",
        "?",
        "Mr.",
        "U.S.",
        "what",
        "which",
        "as",
        "the",
        "phrase",
        "calls",
        "called",
        "’s",
        "He",
        "by",
        "telling",
        "Said",
        "before",
        "asking",
        "Asked",
        "second",
        "introduced",
        "statement",
        "”no",
        "(R-Ky.)",
    ];
    const ITER: usize = 5_000;
    let mut seed: u64 = 0x1234_5678_9abc_def1;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..ITER {
        let mut s = String::new();
        for _ in 0..next() % 60 {
            s.push_str(alphabet[(next() % alphabet.len() as u64) as usize]);
            if next() % 3 == 0 {
                s.push(' ');
            }
        }
        for c in claims(&s) {
            for r in std::iter::once(&c.content)
                .chain(&c.segments)
                .chain(c.speaker.span.iter())
                .chain(c.cue.iter())
                .chain(std::iter::once(&c.sentence))
            {
                assert!(s.get(r.clone()).is_some(), "{s:?} {r:?}");
            }
        }
        for q in find_quantities(&s, &tokenize(&s)) {
            assert!(s.get(q.span.clone()).is_some(), "{s:?}");
        }
    }
}

/// Proves a sentence of tens of thousands of tokens (no sentence punctuation) is analysed in
/// time linear in its length: units are cut at `MAX_UNIT_TOKENS`. Work is counted in token
/// look-ups of the attribution rules (not timed), so a loaded machine cannot make it flaky.
#[test]
fn one_enormous_sentence_is_analysed_in_linear_time() {
    let unit = "(“(Trump said (“yes (no)”)) officials said)” ";
    let work = |n: usize| {
        let text = unit.repeat(n);
        let tokens = tokenize(&text);
        let sentences = split_sentences(&text, &tokens);
        let before = super::doc::LOOKUPS.with(|c| c.get());
        let claims = extract_claims(&text, &tokens, &sentences, &[]);
        assert!(!claims.is_empty());
        super::doc::LOOKUPS.with(|c| c.get()) - before
    };
    let (small, large) = (work(1_000), work(4_000));
    assert!(small > 0);
    // Linear work makes the 4× text take 4× the look-ups; quadratic work would take 16×.
    assert!(
        large < small * 5,
        "1,000 units: {small} look-ups, 4,000 units: {large}"
    );
}

#[test]
fn definite_descriptions_follow_the_ordinal_rule() {
    // "the senior administration official" is the one introduced without an ordinal, not the
    // later "second" one; "the second …" is the second; a bare "the official" is the most
    // recently mentioned official.
    let text = "Talks could resume soon, a senior administration official said. \
                “It worked,” said a second senior administration official. \
                The second senior administration official said that the deal holds. \
                “Nothing was agreed,” the senior administration official said. \
                “We will see,” the official said. \
                The second senior administration official rejected this, saying it was false. \
                “It is over,” the official said.";
    let c = attributed(text);
    let by = |words: &str| {
        c.iter()
            .find(|c| c.text.contains(words))
            .unwrap_or_else(|| panic!("{words}: {c:#?}"))
    };
    let first = "a senior administration official";
    let second = "a second senior administration official";
    assert_eq!(by("Talks could resume").speaker.description, first);
    assert_eq!(by("It worked").speaker.description, second);
    assert_eq!(by("the deal holds").speaker.description, second);
    assert_eq!(by("Nothing was agreed").speaker.description, first);
    assert_eq!(by("We will see").speaker.description, first);
    assert_eq!(by("It is over").speaker.description, second);
    assert!(c.iter().all(|c| c.speaker.kind == SpeakerKind::Anonymous));
}

#[test]
fn modifiers_must_agree_with_the_antecedent() {
    // "the U.S. official" skips a later "Ukrainian official"; "the first U.S. official" is
    // the one introduced without an ordinal.
    let text = "“Go,” said a U.S. official familiar with the talks. \
                “Stop,” said a second U.S. official. \
                “Wait,” said a Ukrainian official. \
                “Again,” the U.S. official said. \
                “Later,” the first U.S. official said.";
    let c = attributed(text);
    assert_eq!(c.len(), 5, "{c:#?}");
    assert_eq!(
        c[3].speaker.description,
        "a U.S. official familiar with the talks"
    );
    assert_eq!(
        c[4].speaker.description,
        "a U.S. official familiar with the talks"
    );
}

#[test]
fn relative_who_said_has_its_own_speaker() {
    // "… pointed to comments from X, who said …, “…”": the quote is X's, not the official's.
    let text = "As a sign of success, the official pointed to comments from Finnish President \
                Alexander Stubb, who said during the meeting, “we have had more progress than \
                in three years.”";
    let c = attributed(text);
    let quote = c
        .iter()
        .find(|c| c.kind == ClaimKind::Direct)
        .expect("the quote");
    assert_eq!(span(text, &quote.speaker.span), "who");
    assert_eq!(quote.speaker.name, "Alexander Stubb");
    assert_eq!(quote.speaker.kind, SpeakerKind::Named);
    assert!(!quote.text.contains("pointed"));
}

#[test]
fn a_closing_attribution_governs_its_sentence() {
    // "…, are expected to cover …, a senior official said.": the official reports the whole
    // sentence, and is on record for later references.
    let text = "The talks, should they happen, are expected to cover territory, a senior \
                official said. “Never before,” the senior official said.";
    let c = attributed(text);
    let outer = c
        .iter()
        .find(|c| span(text, &c.speaker.span) == "a senior official")
        .unwrap_or_else(|| panic!("{c:#?}"));
    assert!(text[outer.content.clone()].starts_with("The talks"));
    let quote = c.iter().find(|c| c.kind == ClaimKind::Direct).unwrap();
    assert_eq!(quote.speaker.description, "a senior official");
}

#[test]
fn naming_verbs_and_statements_attribute_quotes() {
    // "what X calls “…”", "introduced X as “…”", "X’s statement urging … “…”" and a quote
    // after a dash following someone's words.
    let text = "Civil servants—what Trump disparagingly calls the “deep state”—stay on. \
                He introduced Witkoff as “a great businessman” and “a great negotiator,” but \
                added that this was not all. \
                Noteworthy is Trump’s social media statement urging Russia to “make a move” now. \
                Kremlin spokesman Peskov’s deliberate downplaying of expectations—”no \
                breakthrough anticipated”—is classic rhetoric.";
    let c = attributed(text);
    let by = |words: &str| {
        c.iter()
            .find(|c| c.kind == ClaimKind::Direct && c.text.contains(words))
            .unwrap_or_else(|| panic!("{words}: {c:#?}"))
    };
    let deep = by("deep state");
    assert_eq!(span(text, &deep.speaker.span), "Trump");
    assert_eq!(
        &text[deep.content.clone()],
        "what Trump disparagingly calls the “deep state”"
    );
    let intro = by("a great businessman");
    assert_eq!(span(text, &intro.speaker.span), "He");
    assert!(intro.text.contains("a great negotiator"));
    let statement = by("make a move");
    assert_eq!(statement.speaker.kind, SpeakerKind::Named);
    assert_eq!(statement.speaker.name, "Trump");
    let peskov = by("no breakthrough anticipated");
    assert_eq!(peskov.speaker.name, "Peskov");
}

#[test]
fn scene_setting_before_the_source_is_not_content() {
    // "Asked …, X said, “…”" and "In his tribute, X said “…”": the quote is the content; a
    // clitic "He’s claimed" still has its subject.
    let text = "Asked what he wanted, Adelson said, “They have got to be able to win.” \
                In his tribute, Elliott said “there is no greater man than Ali.” \
                He’s famously claimed he could end the war in “24 hours.”";
    let c = attributed(text);
    assert_eq!(c.len(), 3, "{c:#?}");
    assert_eq!(
        &text[c[0].content.clone()],
        "“They have got to be able to win.”"
    );
    assert_eq!(
        &text[c[1].content.clone()],
        "“there is no greater man than Ali.”"
    );
    assert_eq!(span(text, &c[2].speaker.span), "He");
}

#[test]
fn titled_speakers_tagged_as_organisations_become_people() {
    // "Vice President JD Vance said “…”" with "JD Vance" tagged ORGANIZATION: the speaking,
    // titled name is a PERSON; an organisation that speaks stays one.
    use crate::analysis::{EntityMention, EntityType, MentionKind};
    let text = "Vice President JD Vance said “it worked.” The Kremlin said “no.”";
    let mention = |name: &str| {
        let start = text.find(name).unwrap();
        EntityMention {
            start,
            end: start + name.len(),
            entity_type: EntityType::Organization,
            kind: MentionKind::Proper,
            confidence: None,
            metadata: Vec::new(),
        }
    };
    let mut mentions = vec![mention("JD Vance"), mention("Kremlin")];
    let tokens = tokenize(text);
    let c = extract_claims(text, &tokens, &split_sentences(text, &tokens), &mentions);
    retype_speakers(text, &c, &mut mentions);
    assert_eq!(mentions[0].entity_type, EntityType::Person);
    assert_eq!(&text[mentions[0].start..mentions[0].end], "JD Vance");
    assert_eq!(mentions[1].entity_type, EntityType::Organization);
}

#[test]
fn two_attributions_in_one_sentence_are_two_claims_by_unnamed_sources() {
    // "A warned X, but B argued Y": each cue governs its own content; groups and roles are
    // never named sources.
    let text = "Officials warned the deal could collapse, but the president argued it would hold.";
    let c = attributed(text);
    assert_eq!(c.len(), 2, "{c:#?}");
    assert_eq!(span(text, &c[0].speaker.span), "Officials");
    assert_eq!(&text[c[0].content.clone()], "the deal could collapse");
    assert_eq!(span(text, &c[1].speaker.span), "the president");
    assert_eq!(&text[c[1].content.clone()], "it would hold");
    assert!(c.iter().all(|c| c.kind == ClaimKind::Indirect));
    assert!(
        c.iter().all(|c| c.speaker.kind != SpeakerKind::Named),
        "{c:#?}"
    );
}

#[test]
fn a_group_described_by_its_place_is_not_a_named_source() {
    let text = "Analysts at the bank warned that growth would slow.";
    let c = attributed(text);
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!(span(text, &c[0].speaker.span), "Analysts at the bank");
    assert_ne!(c[0].speaker.kind, SpeakerKind::Named);
    assert_eq!(&text[c[0].content.clone()], "that growth would slow");
}

#[test]
fn the_person_after_a_spokesman_for_an_organisation_is_the_speaker() {
    let text = "“We have nothing to add,” said a spokesman for the Kremlin, Dmitry Peskov.";
    let c = attributed(text);
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!(c[0].speaker.kind, SpeakerKind::Named);
    assert_eq!(c[0].speaker.name, "Dmitry Peskov");
}

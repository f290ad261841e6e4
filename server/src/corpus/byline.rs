//! Bylines: the lines of a page that credit its writers ("By Jane Doe and John Roe",
//! "(Contributing writer, Jane Doe)", "Reporting by Jane Doe; Editing by John Roe",
//! "Jane Doe contributed to this report."), read into `Document.authors`.
//!
//! A credit is only taken when the line is short and every credited name looks like a
//! person's name (two to four capitalised words, initials and particles allowed), so a
//! sentence that merely starts with "By" ("By Monday the talks had stalled") credits nobody.

/// Longest line read as a byline, in words.
const MAX_WORDS: usize = 16;

/// Words that name a writer's role in a credit ("Contributing writer, Jane Doe").
const ROLES: &[&str] = &[
    "writer",
    "writers",
    "reporter",
    "reporters",
    "correspondent",
    "correspondents",
    "editor",
    "editors",
    "contributor",
    "contributors",
    "author",
    "authors",
    "columnist",
];

/// Lower-case particles allowed inside a name ("Klemens von Metternich").
const PARTICLES: &[&str] = &[
    "de", "da", "del", "della", "van", "von", "der", "den", "la", "le", "bin", "al", "el",
];

/// True when `s` reads as one person's name.
fn is_name(s: &str) -> bool {
    let words: Vec<&str> = s.split_whitespace().collect();
    if !(2..=4).contains(&words.len()) {
        return false;
    }
    let capitalised = |w: &str| {
        let mut cs = w.chars();
        cs.next().is_some_and(char::is_uppercase)
            && cs.all(|c| c.is_alphabetic() || matches!(c, '.' | '-' | '\'' | '’'))
    };
    capitalised(words[0])
        && capitalised(words[words.len() - 1])
        && words
            .iter()
            .all(|w| capitalised(w) || PARTICLES.contains(w))
        && words
            .iter()
            .any(|w| w.chars().filter(|c| c.is_alphabetic()).count() > 1)
}

/// Splits a list of names ("A, B and C"); `None` unless every item is a name.
fn names(list: &str) -> Option<Vec<String>> {
    let list = list.trim().trim_end_matches(['.', ')', ';']).trim();
    let mut out = Vec::new();
    for part in list.split([',', '&', ';']) {
        for item in part.split(" and ") {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            if !is_name(item) {
                return None;
            }
            out.push(item.to_string());
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The names a line credits as writers, if it is a byline.
pub fn credited(line: &str) -> Vec<String> {
    let l = line
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .trim();
    if l.split_whitespace().count() > MAX_WORDS {
        return Vec::new();
    }
    let lower = l.to_lowercase();
    // "Reporting by A; Editing by B": every "by" clause.
    for prefix in [
        "by ",
        "written by ",
        "words by ",
        "reporting by ",
        "story by ",
    ] {
        if lower.starts_with(prefix) {
            let mut out = Vec::new();
            for clause in l.split(';') {
                let c = clause.trim();
                let Some(k) = c.to_lowercase().find("by ") else {
                    continue;
                };
                // "By A, Reuters": an outlet after the names is allowed; names stop there.
                let rest = &c[k + 3..];
                let candidates: Vec<&str> = rest.split(',').collect();
                let mut taken = Vec::new();
                for (i, cand) in candidates.iter().enumerate() {
                    match names(cand) {
                        Some(n) => taken.extend(n),
                        None if i > 0 => break,
                        None => return Vec::new(),
                    }
                }
                out.extend(taken);
            }
            return out;
        }
    }
    // "Author: A", "Contributing writer, A", "Staff writers: A and B".
    if let Some((label, rest)) = l.split_once([':', ',']) {
        let label = label.to_lowercase();
        if label.split_whitespace().count() <= 3
            && label.split_whitespace().any(|w| ROLES.contains(&w))
        {
            return names(rest).unwrap_or_default();
        }
    }
    // "A and B contributed to this report."
    for tail in [" contributed to this report", " contributed reporting"] {
        if let Some(k) = lower.find(tail) {
            return names(&l[..k]).unwrap_or_default();
        }
    }
    Vec::new()
}

/// The writers credited anywhere in `lines`, each once, in order.
pub fn authors<'a>(lines: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in lines {
        for n in credited(l) {
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_usual_bylines() {
        assert_eq!(
            credited("By Jane Doe and John Roe"),
            ["Jane Doe", "John Roe"]
        );
        assert_eq!(
            credited("By Maria de la Cruz, Reuters"),
            ["Maria de la Cruz"]
        );
        assert_eq!(credited("(Contributing writer, Anna Berg)"), ["Anna Berg"]);
        assert_eq!(
            credited("Reporting by Tom Hale; Editing by Kim Lee"),
            ["Tom Hale", "Kim Lee"]
        );
        assert_eq!(
            credited("Ola Nordmann and Kari Hansen contributed to this report."),
            ["Ola Nordmann", "Kari Hansen"]
        );
        assert_eq!(credited("Author: Priya Nair"), ["Priya Nair"]);
    }

    #[test]
    fn sentences_and_labels_credit_nobody() {
        for l in [
            "By Monday the talks had stalled.",
            "By the end of the week, officials said, the harbour would reopen.",
            "Staff Writers",
            "Writers at the paper come from many backgrounds.",
            "Editor's note: this story was updated.",
        ] {
            assert!(credited(l).is_empty(), "{l}");
        }
    }

    #[test]
    fn a_cleaned_page_carries_its_byline_authors() {
        let raw =
            "Harbour talks resume\n\nBy Anna Berg and Tom Hale\n\nNegotiators met on Tuesday.\n";
        let page = crate::corpus::clean::clean_page(raw);
        assert_eq!(page.authors, ["Anna Berg", "Tom Hale"]);
        assert!(page.text.contains("By Anna Berg"));
    }

    #[test]
    fn authors_are_listed_once() {
        let lines = ["By Anna Berg", "Text.", "(Contributing writer, Anna Berg)"];
        assert_eq!(authors(lines), ["Anna Berg"]);
    }
}

//! Removing page furniture from articles copied off the web, without losing any sentence of
//! the article itself.
//!
//! Real pages arrive with weather widgets and date bars above the headline, the headline
//! repeated, image descriptions and photo credits between paragraphs, and newsletter,
//! sponsor, cookie-notice and comment-form blocks after the last paragraph. Cleaning works
//! line by line with three rules, each conservative:
//!
//! 1. a leading block of short lines that holds a date or weather line is a widget: it is
//!    dropped and its date becomes `published_at`;
//! 2. lines that are furniture wherever they stand (weather readings, photo captions ending in
//!    a credit, image descriptions, calls to action, comment-form prompts) are dropped;
//! 3. a trailing block is dropped only when it *ends* in strong boilerplate (cookies,
//!    privacy, newsletters, sponsors, comment forms); walking back from the end it takes
//!    boilerplate and short labels ("Categories", "Follow") and stops at the first line of
//!    prose, so the article's last paragraph is never touched.
//!
//! Repeats of the headline in the body are dropped too.

use super::dates::parse_date;
use chrono::{DateTime, Utc};

/// An article page after cleaning.
#[derive(Debug, Clone, PartialEq)]
pub struct CleanedPage {
    /// The headline: the first line that survives cleaning.
    pub title: String,
    /// The body without the headline and without furniture.
    pub text: String,
    /// A date read from the page's date bar, when it has one.
    pub published_at: Option<DateTime<Utc>>,
    /// Characters removed.
    pub removed_chars: usize,
    /// Writers credited by the page's bylines (see [`super::byline`]); the byline lines stay
    /// in `text`.
    pub authors: Vec<String>,
}

/// Cleans a raw article page (`.txt`/`.md` as copied from the web).
///
/// # Examples
///
/// ```
/// use dossier_server::corpus::clean::clean_page;
/// let raw = "Monday, 3 March, 2025\nHumidity: 80%\n\nEnvoy meets leader\n\nEnvoy meets leader\n\
///            The envoy met the leader for five hours.\n\nLeave a Reply\nPlease enter your comment!";
/// let page = clean_page(raw);
/// assert_eq!(page.title, "Envoy meets leader");
/// assert_eq!(page.text, "The envoy met the leader for five hours.");
/// assert_eq!(page.published_at.unwrap().format("%F").to_string(), "2025-03-03");
/// ```
pub fn clean_page(raw: &str) -> CleanedPage {
    let raw = raw.strip_prefix('\u{feff}').unwrap_or(raw);
    let lines: Vec<&str> = raw.lines().map(str::trim_end).collect();
    let mut keep = vec![true; lines.len()];
    let mut published_at = None;

    // 1. Leading widget block.
    let first = lines
        .iter()
        .position(|l| !l.trim().is_empty())
        .unwrap_or(lines.len());
    let block_end = (first..lines.len())
        .find(|&i| lines[i].trim().is_empty())
        .unwrap_or(lines.len());
    let block = &lines[first..block_end];
    let is_widget_line = |l: &str| parse_date(l).is_some() || is_weather(l);
    if block.len() >= 2
        && block.iter().any(|l| is_widget_line(l))
        && block.iter().all(|l| word_count(l) <= 10)
    {
        for (i, l) in block.iter().enumerate() {
            if published_at.is_none() {
                published_at = parse_date(l);
            }
            keep[first + i] = false;
        }
    }
    // A lone date line before the headline is a date bar too.
    for i in first..lines.len() {
        let l = lines[i].trim();
        if l.is_empty() || !keep[i] {
            continue;
        }
        match parse_date(l) {
            Some(d) => {
                published_at.get_or_insert(d);
                keep[i] = false;
            }
            None => break,
        }
    }

    // 2. Furniture anywhere.
    for (i, l) in lines.iter().enumerate() {
        if keep[i] && is_furniture_line(l.trim()) {
            keep[i] = false;
        }
    }

    // 3. Trailing boilerplate block.
    let last = (0..lines.len())
        .rev()
        .find(|&i| keep[i] && !lines[i].trim().is_empty());
    if let Some(last) = last {
        if is_boilerplate(lines[last].trim()) {
            for i in (0..=last).rev() {
                let l = lines[i].trim();
                if l.is_empty() || !keep[i] {
                    continue;
                }
                if is_boilerplate(l) || is_short_label(l) {
                    keep[i] = false;
                } else {
                    break;
                }
            }
        }
    }

    // Headline, its repeats, and the body.
    let mut title = String::new();
    let mut body: Vec<&str> = Vec::new();
    let mut pending_blank = false;
    for (i, l) in lines.iter().enumerate() {
        if !keep[i] {
            continue;
        }
        let t = l.trim();
        if t.is_empty() {
            pending_blank = !body.is_empty();
            continue;
        }
        if title.is_empty() {
            title = t.trim_start_matches('#').trim().to_string();
            continue;
        }
        if t.trim_start_matches('#')
            .trim()
            .eq_ignore_ascii_case(&title)
        {
            continue;
        }
        if pending_blank {
            body.push("");
            pending_blank = false;
        }
        body.push(l);
    }
    let text = body.join("\n");
    let removed_chars = raw
        .chars()
        .count()
        .saturating_sub(text.chars().count() + title.chars().count());
    let authors = super::byline::authors(body.iter().copied());
    CleanedPage {
        authors,
        title,
        text,
        published_at,
        removed_chars,
    }
}

fn word_count(s: &str) -> usize {
    s.split_whitespace().count()
}

fn lower_starts_with_any(l: &str, prefixes: &[&str]) -> bool {
    let lower = l.to_lowercase();
    prefixes.iter().any(|p| lower.starts_with(p))
}

fn lower_contains_any(l: &str, needles: &[&str]) -> bool {
    let lower = l.to_lowercase();
    needles.iter().any(|n| lower.contains(n))
}

/// Weather widget readings: "12.4°C", "Humidity: 83%", "Wind Speed: 24.1 km/h".
fn is_weather(l: &str) -> bool {
    let l = l.trim();
    if word_count(l) > 8 {
        return false;
    }
    let has_temperature =
        l.contains("°C") || l.contains("°F") || l.contains("° C") || l.contains("° F");
    has_temperature
        || lower_starts_with_any(
            l,
            &[
                "humidity:",
                "wind speed:",
                "wind:",
                "condition:",
                "conditions:",
                "pressure:",
                "visibility:",
                "feels like",
                "uv index",
                "sunrise:",
                "sunset:",
                "precipitation:",
                "dew point:",
            ],
        )
}

/// Lines that are furniture wherever they stand.
fn is_furniture_line(l: &str) -> bool {
    if l.is_empty() {
        return false;
    }
    is_weather(l)
        || is_comment_form(l)
        || is_call_to_action(l)
        || is_captioned_credit(l)
        || is_image_description(l)
}

fn is_comment_form(l: &str) -> bool {
    word_count(l) <= 16
        && lower_starts_with_any(
            l,
            &[
                "leave a reply",
                "leave a comment",
                "please enter your comment",
                "please enter your name",
                "please enter your email",
                "you have entered an incorrect email",
                "save my name, email",
                "post comment",
                "cancel reply",
                "your email address will not be published",
                "required fields are marked",
                "comments are closed",
                "log in to comment",
            ],
        )
}

fn is_call_to_action(l: &str) -> bool {
    word_count(l) <= 40
        && lower_contains_any(
            l,
            &[
                "sign up here",
                "follow along here",
                "click here to",
                "subscribe to our newsletter",
                "subscribe now",
                "share this article",
                "share on facebook",
                "share on twitter",
            ],
        )
        || matches!(
            l.to_lowercase().as_str(),
            "advertisement" | "advertisment" | "sponsored content" | "read more" | "share this:"
        )
}

/// A photo caption that ends in a credit: "… on May 13. Jack Guez/AFP via Getty Images".
fn is_captioned_credit(l: &str) -> bool {
    if word_count(l) > 70 {
        return false;
    }
    const AGENCIES: &[&str] = &[
        "getty images",
        "afp",
        "reuters",
        "ap photo",
        "ap",
        "epa",
        "shutterstock",
        "alamy",
        "bloomberg",
        "pool",
        "sputnik",
        "tass",
        "anadolu",
    ];
    let lower = l.to_lowercase();
    let tail = lower.trim_end_matches([')', '.', ' ']);
    let ends_with_agency = AGENCIES.iter().any(|a| {
        tail.ends_with(&format!("/{a}"))
            || tail.ends_with(&format!("via {a}"))
            || tail.ends_with(&format!("({a}"))
            || tail.ends_with(&format!("photo: {a}"))
    });
    ends_with_agency
        || lower_starts_with_any(
            l,
            &[
                "photo:",
                "photograph:",
                "image:",
                "photo credit:",
                "image credit:",
                "credit:",
                "photo by ",
                "pictured:",
            ],
        ) && word_count(l) <= 25
}

/// An image's alt text standing as a paragraph: "A stylized image of two businessmen …".
fn is_image_description(l: &str) -> bool {
    let lower = l.to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().take(10).collect();
    if !matches!(words.first(), Some(&("a" | "an"))) {
        return false;
    }
    let names_an_image = words.windows(2).any(|w| {
        matches!(
            w[0].trim_end_matches(','),
            "image"
                | "photo"
                | "photograph"
                | "picture"
                | "illustration"
                | "shot"
                | "rendering"
                | "graphic"
                | "collage"
        ) && matches!(
            w[1],
            "of" | "capturing" | "illustrating" | "showing" | "depicting" | "symbolizing" | "that"
        )
    });
    // Alt text is a noun phrase: its first sentence has no finite verb of a statement.
    let first_sentence = lower.split(['.', '!', '?']).next().unwrap_or("");
    let states_something = first_sentence.split(|c: char| !c.is_alphabetic()).any(|w| {
        matches!(
            w,
            "is" | "are"
                | "was"
                | "were"
                | "has"
                | "have"
                | "had"
                | "will"
                | "would"
                | "can"
                | "could"
                | "said"
                | "says"
                | "shows"
                | "showed"
                | "appeared"
                | "appears"
                | "did"
                | "does"
        )
    });
    names_an_image && !states_something
}

/// Strong end-of-page boilerplate: cookie and privacy notices, newsletters, sponsors,
/// comment forms.
fn is_boilerplate(l: &str) -> bool {
    is_comment_form(l)
        || is_call_to_action(l)
        || lower_contains_any(
            l,
            &[
                "cookie",
                "privacy overview",
                "privacy policy",
                "privacy notice",
                "gdpr",
                "newsletter",
                "subscribe",
                "subscribing",
                "sponsors",
                "all rights reserved",
                "terms of use",
                "terms of service",
                "unsubscribe",
            ],
        )
}

/// Navigation labels: a few words with no sentence punctuation ("Categories", "Follow").
fn is_short_label(l: &str) -> bool {
    word_count(l) <= 4 && !l.ends_with(['.', '!', '?', '"', '”', ')'])
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = include_str!("../../../seeds/002_92e74acb2171691d.txt");

    #[test]
    fn seed_page_loses_its_furniture_and_keeps_its_paragraphs() {
        let page = clean_page(SEED);
        assert_eq!(
            page.title,
            "Steve Witkoff’s go-it-alone diplomacy is frustrating US and European officials"
        );
        for junk in [
            "Humidity: 83%",
            "Privacy & Cookie Notice",
            "Subscribe to receive",
            "broken clouds",
            "London, UK",
            "GDPR",
        ] {
            assert!(!page.text.contains(junk), "{junk} left in text");
        }
        // Every paragraph of the article proper survives, first to last.
        let article: Vec<&str> = SEED
            .lines()
            .skip(10)
            .take(131)
            .filter(|l| !l.trim().is_empty())
            .collect();
        for p in article {
            assert!(page.text.contains(p.trim()), "lost: {p}");
        }
        assert_eq!(
            page.published_at.unwrap().format("%F").to_string(),
            "2025-10-28"
        );
    }

    #[test]
    fn repeated_headlines_image_descriptions_and_comment_forms_go() {
        let raw = "Big Title\n\n\nBig Title\n\nFirst paragraph.\n\nA stylized, slightly surreal image of two men walking.\n\nSecond paragraph.\n\n\nLeave a Reply";
        let page = clean_page(raw);
        assert_eq!(page.title, "Big Title");
        assert_eq!(page.text, "First paragraph.\n\nSecond paragraph.");
    }

    #[test]
    fn photo_credits_go_but_prose_mentioning_photos_stays() {
        let raw = "T\nHe smiled.\nWitkoff greets relatives in Tel Aviv on May 13. Jack Guez/AFP via Getty Images\nA photo of the meeting was never released, officials said.";
        let page = clean_page(raw);
        assert_eq!(
            page.text,
            "He smiled.\nA photo of the meeting was never released, officials said."
        );
    }

    #[test]
    fn a_last_paragraph_without_boilerplate_is_kept() {
        let raw = "T\n\nBody sentence.\n\n(Contributing writer, Jane Doe)";
        assert!(clean_page(raw)
            .text
            .ends_with("(Contributing writer, Jane Doe)"));
    }

    #[test]
    fn empty_and_whitespace_pages_clean_to_nothing() {
        assert_eq!(clean_page("").text, "");
        assert_eq!(clean_page(" \n\n ").title, "");
    }
}

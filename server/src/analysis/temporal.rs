//! DATE and TIME mentions with normalised values: absolute dates ("October 28, 2025",
//! "June 2", "May 2025", "2024"), weekdays and relative expressions ("Friday", "last
//! month", "11 days ago", "yesterday") anchored to the document's publication date, and
//! clock times ("4:18 AM", "3 p.m.", "noon").
//!
//! Metadata keys: `date` (ISO: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, when it can be resolved),
//! `relative` ("true" for expressions resolved against the anchor), `time` (`HH:MM`).

use super::tokenize::Token;
use super::{EntityMention, EntityType, MentionKind};
use crate::corpus::dates::month_number;
use chrono::{Datelike, Duration, Months, NaiveDate, Weekday};

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("saturday", Weekday::Sat),
    ("sunday", Weekday::Sun),
];

fn weekday(word: &str) -> Option<Weekday> {
    WEEKDAYS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(word))
        .map(|&(_, d)| d)
}

/// `lower` is an already lower-cased word.
fn small_number(lower: &str) -> Option<i64> {
    let n = match lower {
        "a" | "an" | "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "eleven" => 11,
        "twelve" => 12,
        _ => return lower.parse().ok().filter(|n| (1..=1000).contains(n)),
    };
    Some(n)
}

fn is_year(word: &str) -> Option<i32> {
    let y: i32 = word.parse().ok()?;
    (word.len() == 4 && (1800..=2100).contains(&y)).then_some(y)
}

fn day_of_month(word: &str) -> Option<u32> {
    let digits = word.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &word[digits.len()..];
    if !matches!(suffix, "" | "st" | "nd" | "rd" | "th") {
        return None;
    }
    let d: u32 = digits.parse().ok()?;
    (1..=31).contains(&d).then_some(d)
}

/// Finds DATE and TIME mentions in `text`; relative ones resolve against `anchor` (the
/// publication date) when given.
///
/// # Examples
///
/// ```
/// use chrono::NaiveDate;
/// use dossier_server::analysis::{temporal::find_temporal, tokenize::tokenize};
/// let text = "He met Yermak on Friday, after talks on June 2 and in May 2024.";
/// let anchor = NaiveDate::from_ymd_opt(2025, 10, 28); // a Tuesday
/// let found = find_temporal(text, &tokenize(text), anchor);
/// let dates: Vec<(&str, &str)> = found.iter().map(|m| (&text[m.start..m.end], m.metadata[0].1.as_str())).collect();
/// assert_eq!(dates, [("Friday", "2025-10-31"), ("June 2", "2025-06-02"), ("May 2024", "2024-05")]);
/// ```
pub fn find_temporal(
    text: &str,
    tokens: &[Token],
    anchor: Option<NaiveDate>,
) -> Vec<EntityMention> {
    let words: Vec<&str> = tokens.iter().map(|t| t.text(text)).collect();
    // ASCII lower-casing keeps byte offsets, so one lower-cased copy of the text gives every
    // token's lower case without an allocation per token (they dominated this step's profile).
    let lowered = text.to_ascii_lowercase();
    let lower_words: Vec<&str> = tokens.iter().map(|t| t.text(&lowered)).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if !may_start(words[i], lower_words[i]) {
            i += 1;
            continue;
        }
        if let Some((len, ty, metadata)) = match_at(&words, &lower_words, i, anchor) {
            out.push(EntityMention {
                start: tokens[i].start,
                end: tokens[i + len - 1].end,
                entity_type: ty,
                kind: MentionKind::Proper,
                confidence: None,
                metadata,
            });
            i += len;
        } else {
            i += 1;
        }
    }
    out
}

/// False for a word no date or time expression starts with, so [`match_at`] is skipped for
/// most words: every expression starts with a capital (month and weekday names), a digit or
/// sign (days, years, clock times, counts) or one of a few lower-case words.
fn may_start(word: &str, lower: &str) -> bool {
    match word.as_bytes().first() {
        Some(b) if b.is_ascii_uppercase() || b.is_ascii_digit() || !b.is_ascii() => true,
        Some(b'+' | b'-') => true,
        _ => matches!(
            lower,
            "today"
                | "yesterday"
                | "tomorrow"
                | "last"
                | "next"
                | "this"
                | "past"
                | "noon"
                | "midnight"
                | "a"
                | "an"
                | "one"
                | "two"
                | "three"
                | "four"
                | "five"
                | "six"
                | "seven"
                | "eight"
                | "nine"
                | "ten"
                | "eleven"
                | "twelve"
        ),
    }
}

type Match = (usize, EntityType, Vec<(String, String)>);

fn date_meta(value: String, relative: bool) -> Vec<(String, String)> {
    let mut m = vec![("date".to_string(), value)];
    if relative {
        m.push(("relative".to_string(), "true".to_string()));
    }
    m
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The words around a match: `w`, the same words lower-cased `lw`, the position `i` tried
/// and the document's date `anchor`.
struct Words<'a> {
    w: &'a [&'a str],
    lw: &'a [&'a str],
    i: usize,
    anchor: Option<NaiveDate>,
}

impl<'a> Words<'a> {
    /// Word `i + k` as written ("" past the end).
    fn at(&self, k: usize) -> &'a str {
        self.w.get(self.i + k).copied().unwrap_or("")
    }

    /// Word `i + k` lower-cased ("" past the end).
    fn lower(&self, k: usize) -> &'a str {
        self.lw.get(self.i + k).copied().unwrap_or("")
    }

    /// Whether word `i + k` starts with a capital.
    fn capital(&self, k: usize) -> bool {
        self.at(k).chars().next().is_some_and(char::is_uppercase)
    }

    /// The word before the match, lower-cased ("" at the start).
    fn prev(&self) -> &'a str {
        if self.i > 0 {
            self.lw[self.i - 1]
        } else {
            ""
        }
    }
}

/// A date or time starting at word `i` of `w` (`lw`: the same words lower-cased): the
/// patterns tried in turn.
fn match_at(w: &[&str], lw: &[&str], i: usize, anchor: Option<NaiveDate>) -> Option<Match> {
    let words = Words { w, lw, i, anchor };
    month_led(&words)
        .or_else(|| day_led(&words))
        .or_else(|| weekday_date(&words))
        .or_else(|| relative_day(&words))
        .or_else(|| relative_period(&words))
        .or_else(|| time_ago(&words))
        .or_else(|| clock_time(&words))
        .or_else(|| year_in_context(&words))
}

/// Month-led: "October 28, 2025", "Oct. 28", "May 2025", "June".
fn month_led(w: &Words<'_>) -> Option<Match> {
    if let Some(month) = w.capital(0).then(|| month_number(w.at(0))).flatten() {
        // "May" and "March" are also ordinary words: require a day or year after them, or a
        // full month name that is not a common verb.
        if let Some(day) = day_of_month(w.at(1)) {
            let (len, year) = if w.at(2) == "," && is_year(w.at(3)).is_some() {
                (4, is_year(w.at(3)))
            } else if let Some(y) = is_year(w.at(2)) {
                (3, Some(y))
            } else {
                (2, None)
            };
            let year = year.or_else(|| w.anchor.map(|a| nearest_year(a, month, day)));
            let value = match year.and_then(|y| NaiveDate::from_ymd_opt(y, month, day)) {
                Some(d) => iso(d),
                None => format!("--{month:02}-{day:02}"),
            };
            return Some((len, EntityType::Date, date_meta(value, false)));
        }
        if let Some(y) = is_year(w.at(1)) {
            return Some((
                2,
                EntityType::Date,
                date_meta(format!("{y:04}-{month:02}"), false),
            ));
        }
        if !matches!(
            w.lower(0),
            "may"
                | "march"
                | "mar"
                | "jan"
                | "sept"
                | "sep"
                | "dec"
                | "oct"
                | "nov"
                | "aug"
                | "apr"
                | "jun"
                | "jul"
                | "feb"
        ) {
            let prev = w.prev();
            if matches!(
                prev,
                "in" | "since"
                    | "until"
                    | "last"
                    | "next"
                    | "this"
                    | "early"
                    | "late"
                    | "mid"
                    | "by"
                    | "during"
                    | "of"
            ) || w.at(1) == ","
                || w.at(1) == "."
            {
                let value = w.anchor.map(|a| {
                    // The most recent such month, or the coming one after "next".
                    let y = match (prev, month > a.month()) {
                        ("next", true) => a.year(),
                        ("next", false) => a.year() + 1,
                        (_, true) => a.year() - 1,
                        (_, false) => a.year(),
                    };
                    format!("{y:04}-{month:02}")
                });
                return Some((
                    1,
                    EntityType::Date,
                    value.map(|v| date_meta(v, true)).unwrap_or_default(),
                ));
            }
        }
    }
    None
}

/// Day-led: "28 October 2025", "28 October".
fn day_led(w: &Words<'_>) -> Option<Match> {
    if let Some((day, month)) = day_of_month(w.at(0))
        .and_then(|day| Some((day, w.capital(1).then(|| month_number(w.at(1))).flatten()?)))
    {
        let sep = usize::from(w.at(2) == ",");
        let (len, year) = match is_year(w.at(2 + sep)) {
            Some(y) => (3 + sep, Some(y)),
            None => (2, w.anchor.map(|a| nearest_year(a, month, day))),
        };
        let value = year
            .and_then(|y| NaiveDate::from_ymd_opt(y, month, day))
            .map_or_else(|| format!("--{month:02}-{day:02}"), iso);
        return Some((len, EntityType::Date, date_meta(value, false)));
    }
    None
}

/// A weekday, dated by the w.anchor. Weekdays.
fn weekday_date(w: &Words<'_>) -> Option<Match> {
    if let Some(day) = w.capital(0).then(|| weekday(w.at(0))).flatten() {
        let value = w.anchor.map(|a| iso(nearest_weekday(a, day)));
        return Some((
            1,
            EntityType::Date,
            value.map(|v| date_meta(v, true)).unwrap_or_default(),
        ));
    }
    None
}

/// A day by its distance from the w.anchor: today / yesterday / tomorrow.
fn relative_day(w: &Words<'_>) -> Option<Match> {
    let offset = match w.lower(0) {
        "today" => Some(0),
        "yesterday" => Some(-1),
        "tomorrow" => Some(1),
        _ => None,
    };
    if let Some(days) = offset {
        let value = w.anchor.map(|a| iso(a + Duration::days(days)));
        return Some((
            1,
            EntityType::Date,
            value.map(|v| date_meta(v, true)).unwrap_or_default(),
        ));
    }
    None
}

/// A period by its distance from the w.anchor: last/next/this week|month|year.
fn relative_period(w: &Words<'_>) -> Option<Match> {
    if matches!(w.lower(0), "last" | "next" | "this" | "past")
        && matches!(w.lower(1), "week" | "month" | "year")
    {
        let sign = match w.lower(0) {
            "last" | "past" => -1,
            "next" => 1,
            _ => 0,
        };
        let value = w.anchor.map(|a| match w.lower(1) {
            "week" => iso(a + Duration::weeks(sign)),
            "month" => {
                let d = if sign < 0 {
                    a.checked_sub_months(Months::new(1))
                } else {
                    a.checked_add_months(Months::new(sign as u32))
                }
                .unwrap_or(a);
                d.format("%Y-%m").to_string()
            }
            _ => format!("{:04}", a.year() + sign as i32),
        });
        return Some((
            2,
            EntityType::Date,
            value.map(|v| date_meta(v, true)).unwrap_or_default(),
        ));
    }
    None
}

/// A time some units back: "11 days ago", "two weeks ago".
fn time_ago(w: &Words<'_>) -> Option<Match> {
    if let Some(n) = small_number(w.lower(0)) {
        let unit = w.lower(1);
        if w.lower(2) == "ago"
            && matches!(
                unit.trim_end_matches('s'),
                "day" | "week" | "month" | "year"
            )
        {
            let value = w.anchor.map(|a| match unit.trim_end_matches('s') {
                "day" => iso(a - Duration::days(n)),
                "week" => iso(a - Duration::weeks(n)),
                "month" => a
                    .checked_sub_months(Months::new(n as u32))
                    .unwrap_or(a)
                    .format("%Y-%m")
                    .to_string(),
                _ => format!("{:04}", i64::from(a.year()) - n),
            });
            return Some((
                3,
                EntityType::Date,
                value.map(|v| date_meta(v, true)).unwrap_or_default(),
            ));
        }
    }
    None
}

/// Clock times: "4:18 AM", "3 p.m.", "noon", "midnight".
fn clock_time(w: &Words<'_>) -> Option<Match> {
    let clock = |s: &str| -> Option<(u32, u32)> {
        let (h, m) = s.split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60).then_some((h, m))
    };
    let meridiem = |s: &str| match s {
        "am" | "a.m." | "a.m" => Some(false),
        "pm" | "p.m." | "p.m" => Some(true),
        _ => None,
    };
    if let Some((h, m)) = clock(w.at(0)) {
        let (len, h) = match meridiem(w.lower(1)) {
            Some(pm) => (2, to_24h(h, pm)),
            None => (1, h),
        };
        return Some((
            len,
            EntityType::Time,
            vec![("time".into(), format!("{h:02}:{m:02}"))],
        ));
    }
    if let (Ok(h), Some(pm)) = (w.at(0).parse::<u32>(), meridiem(w.lower(1))) {
        if (1..=12).contains(&h) {
            return Some((
                2,
                EntityType::Time,
                vec![("time".into(), format!("{:02}:00", to_24h(h, pm)))],
            ));
        }
    }
    if matches!(w.lower(0), "noon" | "midnight") {
        let t = if w.lower(0) == "noon" {
            "12:00"
        } else {
            "00:00"
        };
        return Some((1, EntityType::Time, vec![("time".into(), t.into())]));
    }
    None
}

/// A year in date context: "in 2024", "since 2014", "the 2024 election".
fn year_in_context(w: &Words<'_>) -> Option<Match> {
    if let Some(y) = is_year(w.at(0)) {
        let prev = w.prev();
        if matches!(
            prev,
            "in" | "since"
                | "by"
                | "until"
                | "of"
                | "the"
                | "from"
                | "before"
                | "after"
                | "during"
                | "early"
                | "late"
                | "mid"
                | "through"
        ) {
            return Some((1, EntityType::Date, date_meta(format!("{y:04}"), false)));
        }
    }
    None
}

fn to_24h(h: u32, pm: bool) -> u32 {
    match (h, pm) {
        (12, false) => 0,
        (h, true) if h < 12 => h + 12,
        (h, _) => h,
    }
}

/// The year that puts month/day closest to the anchor (news speaks of the recent past and
/// near future).
fn nearest_year(anchor: NaiveDate, month: u32, day: u32) -> i32 {
    let y = anchor.year();
    [y - 1, y, y + 1]
        .into_iter()
        .filter_map(|y| {
            NaiveDate::from_ymd_opt(y, month, day).map(|d| (y, (d - anchor).num_days().abs()))
        })
        .min_by_key(|&(_, d)| d)
        .map_or(y, |(y, _)| y)
}

/// The occurrence of `day` nearest to the anchor (ties go to the future: "meeting Friday").
fn nearest_weekday(anchor: NaiveDate, day: Weekday) -> NaiveDate {
    let ahead = (i64::from(day.num_days_from_monday())
        - i64::from(anchor.weekday().num_days_from_monday()))
    .rem_euclid(7);
    if ahead <= 3 {
        anchor + Duration::days(ahead)
    } else {
        anchor - Duration::days(7 - ahead)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::tokenize::tokenize;

    #[test]
    fn no_expression_starts_where_the_filter_skips() {
        // Every position of a text with all kinds of expressions, and with odd words:
        // wherever `match_at` finds something, `may_start` lets it look.
        let text = "Today, yesterday and tomorrow; last week, next month, this year, past \
                    year. On Friday, June 2, 2025 and 28 October 2025 at 4:18 AM or 3 p.m., \
                    noon and midnight, two weeks ago, an hour ago, 11 days ago, a year ago, \
                    in 2024, since 2014, the 2024 election, May 2025, in May. +5 May, -3, \
                    TODAY, Yesterday, NEXT WEEK, Twelve days ago, 12:30 pm, ten months ago.";
        let tokens = tokenize(text);
        let words: Vec<&str> = tokens.iter().map(|t| t.text(text)).collect();
        let lowered = text.to_ascii_lowercase();
        let lower: Vec<&str> = tokens.iter().map(|t| t.text(&lowered)).collect();
        let anchor = NaiveDate::from_ymd_opt(2025, 10, 28);
        let mut found = 0;
        for i in 0..words.len() {
            if match_at(&words, &lower, i, anchor).is_some() {
                found += 1;
                assert!(may_start(words[i], lower[i]), "{}", words[i]);
            }
        }
        assert!(found >= 25, "{found}");
    }

    /// A mention as (text, type, metadata).
    type Found = (String, EntityType, Vec<(String, String)>);

    fn found(text: &str, anchor: Option<NaiveDate>) -> Vec<Found> {
        find_temporal(text, &tokenize(text), anchor)
            .into_iter()
            .map(|m| (text[m.start..m.end].to_string(), m.entity_type, m.metadata))
            .collect()
    }

    fn anchor() -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(2025, 10, 28)
    }

    #[test]
    fn relative_expressions_resolve_against_the_publication_date() {
        let got = found(
            "The White House meeting 11 days ago; last month; yesterday.",
            anchor(),
        );
        let values: Vec<&str> = got.iter().map(|g| g.2[0].1.as_str()).collect();
        assert_eq!(values, ["2025-10-17", "2025-09", "2025-10-27"]);
        assert!(got
            .iter()
            .all(|g| g.2.iter().any(|(k, v)| k == "relative" && v == "true")));
    }

    #[test]
    fn absolute_dates_and_times() {
        let got = found(
            "On March 21, 2025 at 4:18 AM and 3 p.m., since 2014, on 2 June.",
            anchor(),
        );
        let pairs: Vec<(&str, &str)> = got
            .iter()
            .map(|g| (g.0.as_str(), g.2[0].1.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("March 21, 2025", "2025-03-21"),
                ("4:18 AM", "04:18"),
                ("3 p.m.", "15:00"),
                ("2014", "2014"),
                ("2 June", "2025-06-02")
            ]
        );
    }

    #[test]
    fn ordinary_words_are_not_dates() {
        assert!(found(
            "He may march on; the 1,400 troops and 5000 men stayed.",
            anchor()
        )
        .is_empty());
    }

    #[test]
    fn without_an_anchor_relative_dates_have_no_value() {
        let got = found("He is meeting Friday.", None);
        assert_eq!(got.len(), 1);
        assert!(got[0].2.is_empty());
    }
}

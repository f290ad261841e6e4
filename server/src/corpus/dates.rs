//! Reading publication dates from the many shapes they take on web pages and in corpora:
//! "Tuesday, 28 October, 2025", "October 28, 2025 4:18 AM", "2025-10-28T04:18:00Z",
//! "26-FEB-1987 15:01:01.79".

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// The month (1..=12) a word names, by full name or three-letter abbreviation.
pub fn month_number(word: &str) -> Option<u32> {
    // Compared case-insensitively in place: the tagger asks this of every token, and a
    // lower-cased copy per call was a visible share of the analysis profile.
    let word = word.trim_end_matches('.');
    if word.len() < 3 {
        return None;
    }
    let head = &word.as_bytes()[..3];
    let k = MONTHS
        .iter()
        .position(|m| head.eq_ignore_ascii_case(m.as_bytes()))?;
    let full = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ][k];
    let prefix_of_full = full
        .as_bytes()
        .get(..word.len())
        .is_some_and(|f| f.eq_ignore_ascii_case(word.as_bytes()));
    (prefix_of_full || word.eq_ignore_ascii_case("sept")).then_some(k as u32 + 1)
}

/// Parses a date or date-time written in a common format; `None` when `s` is not one.
///
/// A line qualifies only when nearly all of it is the date (weekday, day, month, year,
/// time), so sentences that merely mention a date do not.
///
/// # Examples
///
/// ```
/// use dossier_server::corpus::dates::parse_date;
/// let d = parse_date("Tuesday, October 28, 2025 4:18 AM").unwrap();
/// assert_eq!(d.to_rfc3339(), "2025-10-28T04:18:00+00:00");
/// assert!(parse_date("It lasted five hours.").is_none());
/// ```
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(Utc.from_utc_datetime(&d));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(Utc.from_utc_datetime(&d.and_time(NaiveTime::MIN)));
    }
    let words: Vec<&str> = s
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '-' | '/'))
        .filter(|w| !w.is_empty())
        .collect();
    let (mut year, mut month, mut day, mut time) = (None, None, None, None);
    let mut numbers = Vec::new();
    let mut pm = None;
    for w in &words {
        let lw = w.to_ascii_lowercase();
        if let Some(m) = month_number(w) {
            month = Some(m);
        } else if WEEKDAYS.iter().any(|d| lw.starts_with(d))
            && lw.chars().all(|c| c.is_ascii_alphabetic())
        {
        } else if lw == "am" || lw == "a.m." {
            pm = Some(false);
        } else if lw == "pm" || lw == "p.m." {
            pm = Some(true);
        } else if matches!(
            lw.as_str(),
            "utc" | "gmt" | "et" | "est" | "edt" | "bst" | "cet" | "at" | "updated" | "published"
        ) {
        } else if w.contains(':') {
            let mut parts = w.split(':');
            let h: u32 = parts.next()?.parse().ok()?;
            let m: u32 = parts.next()?.parse().ok()?;
            let sec: f64 = parts.next().map_or(Some(0.0), |p| p.parse().ok())?;
            time = Some((h, m, sec as u32));
        } else if let Ok(n) = w
            .trim_end_matches(|c: char| c.is_ascii_alphabetic())
            .parse::<u32>()
        {
            // "28th" → 28.
            if w.len() - w.trim_end_matches(|c: char| c.is_ascii_alphabetic()).len() > 2 {
                return None;
            }
            numbers.push((n, w.len()));
        } else {
            return None;
        }
    }
    for (n, len) in numbers {
        if len == 4 && year.is_none() {
            year = Some(n as i32);
        } else if month.is_none() && n <= 12 && day.is_some() {
            month = Some(n);
        } else if day.is_none() && (1..=31).contains(&n) {
            day = Some(n);
        } else if month.is_none() && (1..=12).contains(&n) {
            month = Some(n);
        } else {
            return None;
        }
    }
    let date = NaiveDate::from_ymd_opt(year?, month?, day?)?;
    let (mut h, m, sec) = time.unwrap_or((0, 0, 0));
    match pm {
        Some(true) if h < 12 => h += 12,
        Some(false) if h == 12 => h = 0,
        _ => {}
    }
    let t = NaiveTime::from_hms_opt(h, m, sec)?;
    Some(Utc.from_utc_datetime(&date.and_time(t)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(s: &str) -> Option<String> {
        parse_date(s).map(|d| d.format("%Y-%m-%dT%H:%M:%S").to_string())
    }

    #[test]
    fn reads_web_page_and_corpus_formats() {
        assert_eq!(
            iso("Tuesday, 28 October, 2025").as_deref(),
            Some("2025-10-28T00:00:00")
        );
        assert_eq!(
            iso("Tuesday, October 28, 2025 4:18 PM").as_deref(),
            Some("2025-10-28T16:18:00")
        );
        assert_eq!(
            iso("26-FEB-1987 15:01:01.79").as_deref(),
            Some("1987-02-26T15:01:01")
        );
        assert_eq!(iso("2025-10-28").as_deref(), Some("2025-10-28T00:00:00"));
        assert_eq!(
            iso("2025-10-28T04:18:00Z").as_deref(),
            Some("2025-10-28T04:18:00")
        );
        assert_eq!(
            iso("Oct. 5th, 2024").as_deref(),
            Some("2024-10-05T00:00:00")
        );
    }

    #[test]
    fn sentences_and_partial_dates_are_not_dates() {
        for s in [
            "Last month, Witkoff met Putin.",
            "London, UK",
            "May 2025",
            "March 32, 2020",
            "",
            "12.4°C",
        ] {
            assert!(parse_date(s).is_none(), "{s}");
        }
    }
}

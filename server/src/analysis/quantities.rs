//! Quantities: numbers with a canonical unit and the interval the wording allows.
//!
//! "five hours" is `[5, 5] hour`; "over four hours" is `(4, ∞) hour`; "a four-hour meeting" is
//! `[4, 4] hour` measuring a "meeting"; "about 70 missiles" is `[63, 77] count` (±10%);
//! "nearly 5 percent" is `[4.25, 5) percent`; "$1,400" is `[1400, 1400] USD`; "3.5 million" is
//! 3,500,000; "third meeting" is `[3, 3] count`. Digits and words ("twenty-five", "a dozen")
//! both count; four-digit years are dates and left alone.
//!
//! Each quantity also records the noun it measures (`head`: "meeting", "missiles"), which is
//! what [`disputes`](crate::analysis::disputes) compares across documents.

use crate::analysis::tokenize::Token;
use std::ops::Range;

/// A number found in a text, with its unit and bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    /// The stated value (the midpoint of a range).
    pub value: f64,
    /// Lower bound; `None` is unbounded ("under 5").
    pub lower: Option<f64>,
    /// Upper bound; `None` is unbounded ("over four hours").
    pub upper: Option<f64>,
    /// Whether `lower` itself is allowed ("at least" yes, "more than" no).
    pub lower_inclusive: bool,
    /// Whether `upper` itself is allowed ("up to" yes, "nearly" no).
    pub upper_inclusive: bool,
    /// Canonical unit: "hour", "minute", "day", "week", "month", "year", "USD", "EUR", "GBP",
    /// "percent", "percentage point", "mile", "km", "count".
    pub unit: &'static str,
    /// The noun measured, lower case ("meeting" in "a four-hour meeting", "missiles" in "70
    /// missiles"), or the event noun of the sentence ("the meeting lasted five hours"); empty
    /// when there is none.
    pub head: String,
    /// True for hedged values ("about", "nearly", "roughly").
    pub approximate: bool,
    /// Byte range of the whole expression, modifiers included.
    pub span: Range<usize>,
}

impl Quantity {
    /// True when some value satisfies both quantities (their intervals overlap).
    pub fn overlaps(&self, other: &Quantity) -> bool {
        let lo = |q: &Quantity| {
            (
                q.lower.unwrap_or(f64::NEG_INFINITY),
                q.lower_inclusive || q.lower.is_none(),
            )
        };
        let hi = |q: &Quantity| {
            (
                q.upper.unwrap_or(f64::INFINITY),
                q.upper_inclusive || q.upper.is_none(),
            )
        };
        let ((l1, li1), (l2, li2)) = (lo(self), lo(other));
        let ((u1, ui1), (u2, ui2)) = (hi(self), hi(other));
        let (l, li) = if l1 > l2 {
            (l1, li1)
        } else if l2 > l1 {
            (l2, li2)
        } else {
            (l1, li1 && li2)
        };
        let (u, ui) = if u1 < u2 {
            (u1, ui1)
        } else if u2 < u1 {
            (u2, ui2)
        } else {
            (u1, ui1 && ui2)
        };
        l < u || (l == u && li && ui)
    }
}

/// The dimension a unit measures and its factor to the dimension's base unit, so "five hours"
/// and "300 minutes" compare.
pub fn dimension(unit: &str) -> (&'static str, f64) {
    match unit {
        "second" => ("duration", 1.0 / 3600.0),
        "minute" => ("duration", 1.0 / 60.0),
        "hour" => ("duration", 1.0),
        "day" => ("duration", 24.0),
        "week" => ("duration", 168.0),
        "month" => ("duration", 730.0),
        "year" => ("duration", 8766.0),
        "mile" => ("length", 1.609_344),
        "km" => ("length", 1.0),
        "USD" => ("USD", 1.0),
        "EUR" => ("EUR", 1.0),
        "GBP" => ("GBP", 1.0),
        "percent" => ("percent", 1.0),
        "percentage point" => ("percentage point", 1.0),
        _ => ("count", 1.0),
    }
}

/// `w` with its ASCII letters lower-cased, in `buf`, when it fits: the number words are all
/// short, so a longer word is none of them.
fn short_lower<'a>(w: &str, buf: &'a mut [u8; 16]) -> Option<&'a str> {
    let b = buf.get_mut(..w.len())?;
    b.copy_from_slice(w.as_bytes());
    b.make_ascii_lowercase();
    std::str::from_utf8(b).ok()
}

/// Value of a number word below 100 ("seven", "Twenty-Five", "dozen"), any ASCII case.
fn small_number(w: &str) -> Option<f64> {
    let mut buf = [0u8; 16];
    let lower = short_lower(w, &mut buf)?;
    if let Some(v) = ones_or_tens(lower) {
        return Some(v);
    }
    if lower == "dozen" {
        return Some(12.0);
    }
    // "twenty-five"
    let (a, b) = lower.split_once('-')?;
    let t = ones_or_tens(a).filter(|&t| t >= 20.0)?;
    let o = ones_or_tens(b).filter(|&o| (1.0..10.0).contains(&o))?;
    Some(t + o)
}

/// "zero" to "nineteen", and the tens to "ninety", in lower case.
fn ones_or_tens(lower: &str) -> Option<f64> {
    Some(match lower {
        "zero" => 0.0,
        "one" => 1.0,
        "two" => 2.0,
        "three" => 3.0,
        "four" => 4.0,
        "five" => 5.0,
        "six" => 6.0,
        "seven" => 7.0,
        "eight" => 8.0,
        "nine" => 9.0,
        "ten" => 10.0,
        "eleven" => 11.0,
        "twelve" => 12.0,
        "thirteen" => 13.0,
        "fourteen" => 14.0,
        "fifteen" => 15.0,
        "sixteen" => 16.0,
        "seventeen" => 17.0,
        "eighteen" => 18.0,
        "nineteen" => 19.0,
        "twenty" => 20.0,
        "thirty" => 30.0,
        "forty" => 40.0,
        "fifty" => 50.0,
        "sixty" => 60.0,
        "seventy" => 70.0,
        "eighty" => 80.0,
        "ninety" => 90.0,
        _ => return None,
    })
}

fn ordinal(w: &str) -> Option<f64> {
    let mut buf = [0u8; 16];
    let word = short_lower(w, &mut buf).and_then(|l| {
        Some(match l {
            "first" => 1.0,
            "second" => 2.0,
            "third" => 3.0,
            "fourth" => 4.0,
            "fifth" => 5.0,
            "sixth" => 6.0,
            "seventh" => 7.0,
            "eighth" => 8.0,
            "ninth" => 9.0,
            "tenth" => 10.0,
            "eleventh" => 11.0,
            "twelfth" => 12.0,
            _ => return None,
        })
    });
    if word.is_some() {
        return word;
    }
    let digits = w.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &w[digits.len()..];
    if !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && ["st", "nd", "rd", "th"]
            .iter()
            .any(|s| suffix.eq_ignore_ascii_case(s))
    {
        return digits.parse().ok();
    }
    None
}

fn multiplier(w: &str) -> Option<f64> {
    Some(match w.to_ascii_lowercase().as_str() {
        "hundred" => 1e2,
        "thousand" => 1e3,
        "million" | "mln" | "m" => 1e6,
        "billion" | "bn" | "b" => 1e9,
        "trillion" | "tn" => 1e12,
        "dozen" => 12.0,
        _ => return None,
    })
}

/// Canonical unit of a unit word ("hours", "hour-long", "%", "dollars").
fn unit_word(w: &str) -> Option<&'static str> {
    let lower = w.to_ascii_lowercase();
    let l = lower.trim_end_matches("-long").trim_end_matches("-old");
    Some(match l {
        "hour" | "hours" | "hr" | "hrs" => "hour",
        "minute" | "minutes" | "min" | "mins" => "minute",
        "second" | "seconds" | "sec" | "secs" => "second",
        "day" | "days" => "day",
        "week" | "weeks" => "week",
        "month" | "months" => "month",
        "year" | "years" => "year",
        "percent" | "%" | "pct" => "percent",
        "dollar" | "dollars" | "usd" => "USD",
        "euro" | "euros" | "eur" => "EUR",
        "mile" | "miles" => "mile",
        "kilometer" | "kilometers" | "kilometre" | "kilometres" | "km" => "km",
        _ => return None,
    })
}

/// Words that are not the measured noun after a number.
fn is_function_word(w: &str) -> bool {
    matches!(
        w.to_ascii_lowercase().as_str(),
        "of" | "in"
            | "on"
            | "at"
            | "to"
            | "for"
            | "with"
            | "and"
            | "or"
            | "but"
            | "the"
            | "a"
            | "an"
            | "that"
            | "this"
            | "is"
            | "was"
            | "were"
            | "are"
            | "be"
            | "by"
            | "from"
            | "than"
            | "as"
            | "ago"
            | "later"
            | "earlier"
            | "before"
            | "after"
            | "more"
            | "less"
            | "times"
            | "per"
            | "each"
            | "who"
            | "which"
            | "he"
            | "she"
            | "they"
            | "it"
            | "we"
            | "i"
            | "you"
            | "had"
            | "has"
            | "have"
            | "will"
            | "would"
            | "could"
            | "can"
            | "said"
            | "says"
            | "into"
            | "about"
            | "over"
            | "under"
            | "since"
            | "until"
    )
}

/// Event nouns a duration or count can measure when no noun follows the number ("the meeting
/// lasted five hours").
const EVENT_NOUNS: &[&str] = &[
    "meeting",
    "meetings",
    "talks",
    "talk",
    "conversation",
    "negotiation",
    "negotiations",
    "session",
    "discussion",
    "discussions",
    "summit",
    "call",
    "interview",
    "visit",
    "trip",
    "speech",
    "hearing",
    "debate",
    "sit-down",
    "audience",
];

/// A parsed number: value, token range, and unit carried by the token itself.
struct Num {
    value: f64,
    end: usize,
    unit: Option<&'static str>,
    ordinal: bool,
}

/// Parses a number starting at token `i`.
fn number_at(text: &str, toks: &[Token], i: usize) -> Option<Num> {
    let w = toks.get(i)?.text(text);
    let next = |j: usize| toks.get(j).map(|t| t.text(text)).unwrap_or("");
    // Digits, possibly with a unit glued on: "5", "1,400", "3.5", "-5.3%", "15-minute", "1.4bn".
    if w.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.')
        && w.bytes().any(|b| b.is_ascii_digit())
    {
        if let Some(v) = ordinal(w) {
            return Some(Num {
                value: v,
                end: i + 1,
                unit: None,
                ordinal: true,
            });
        }
        let digits_end = w
            .char_indices()
            .find(|&(k, c)| !(c.is_ascii_digit() || c == ',' || c == '.' || (k == 0 && c == '-')))
            .map_or(w.len(), |(k, _)| k);
        let num = w[..digits_end].trim_end_matches(['.', ',']);
        let mut value: f64 = num.replace(',', "").parse().ok()?;
        let rest = &w[num.len()..];
        let mut unit = None;
        if !rest.is_empty() {
            let r = rest.trim_start_matches('-');
            if r == "%" {
                unit = Some("percent");
            } else if let Some(m) = multiplier(r) {
                value *= m;
            } else if let Some((a, b)) = r.split_once('-') {
                // "1,000-year-old", "5-7" is a range handled below.
                unit = unit_word(a).or_else(|| unit_word(b));
            } else if let Some(u) = unit_word(r) {
                unit = Some(u);
            } else if rest.starts_with('-') && r.bytes().all(|b| b.is_ascii_digit()) {
                // "5-7": let the range logic see it.
                return Some(Num {
                    value,
                    end: i + 1,
                    unit: None,
                    ordinal: false,
                });
            } else {
                return None;
            }
        }
        // Years standing alone are dates.
        if unit.is_none()
            && num.len() == 4
            && !num.contains([',', '.'])
            && (1800.0..=2100.0).contains(&value)
            && unit_word(next(i + 1)).is_none()
            && multiplier(next(i + 1)).is_none()
        {
            return None;
        }
        return Some(Num {
            value,
            end: i + 1,
            unit,
            ordinal: false,
        });
    }
    // Words: "five", "twenty-five", "Five-Hour", "four-hour-long", "a dozen". Every number
    // word (and "a", "an") starts with one of these letters: skip the rest cheaply.
    if !matches!(
        w.as_bytes().first().map(u8::to_ascii_lowercase),
        Some(b'a' | b'd' | b'e' | b'f' | b'n' | b'o' | b's' | b't' | b'z')
    ) {
        return None;
    }
    if w.eq_ignore_ascii_case("a") || w.eq_ignore_ascii_case("an") {
        let n = next(i + 1);
        if n.eq_ignore_ascii_case("dozen")
            || n.eq_ignore_ascii_case("hundred")
            || n.eq_ignore_ascii_case("thousand")
        {
            return Some(Num {
                value: multiplier(n).unwrap_or(1.0),
                end: i + 2,
                unit: None,
                ordinal: false,
            });
        }
        return None;
    }
    if let Some(v) = ordinal(w) {
        // Only before a noun: "third meeting", not "at first".
        let n = next(i + 1);
        if !n.is_empty() && n.chars().all(char::is_alphabetic) && !is_function_word(n) {
            return Some(Num {
                value: v,
                end: i + 1,
                unit: None,
                ordinal: true,
            });
        }
        return None;
    }
    if let Some(v) = small_number(w) {
        if w.eq_ignore_ascii_case("one")
            && unit_word(next(i + 1)).is_none()
            && multiplier(next(i + 1)).is_none()
        {
            return None; // "one of them", "no one"
        }
        return Some(Num {
            value: v,
            end: i + 1,
            unit: None,
            ordinal: false,
        });
    }
    // "Five-Hour", "four-hour-long", "two-day".
    let (a, b) = w.split_once('-')?;
    let v = small_number(a)?;
    let u = unit_word(b)?;
    Some(Num {
        value: v,
        end: i + 1,
        unit: Some(u),
        ordinal: false,
    })
}

/// Finds the quantities of `text` (tokenised into `tokens`), in order.
///
/// # Examples
///
/// ```
/// use dossier_server::analysis::{quantities::find_quantities, tokenize::tokenize};
/// let text = "It lasted over four hours, not a four-hour meeting.";
/// let q = find_quantities(text, &tokenize(text));
/// assert_eq!((q[0].lower, q[0].upper, q[0].lower_inclusive), (Some(4.0), None, false));
/// assert_eq!((q[1].value, q[1].unit, q[1].head.as_str()), (4.0, "hour", "meeting"));
/// ```
pub fn find_quantities(text: &str, tokens: &[Token]) -> Vec<Quantity> {
    let mut out = Vec::new();
    let word = |j: usize| tokens.get(j).map(|t| t.text(text)).unwrap_or("");
    let mut i = 0;
    while i < tokens.len() {
        if !may_start(tokens[i].text(text)) {
            i += 1;
            continue;
        }
        let currency = currency_symbol(word(i));
        let at = if currency.is_some() { i + 1 } else { i };
        if at >= tokens.len() {
            break;
        }
        let Some(amount) = amount_at(text, tokens, i, at, currency) else {
            i += 1;
            continue;
        };
        let (start, bounds) = bounds(&word, i, &amount);
        let end = amount.end;
        // The measured noun: right after ("four-hour meeting", "70 missiles"), else an event
        // noun in the sentence.
        let head = head_after(text, tokens, end)
            .unwrap_or_else(|| sentence_event(text, tokens, start, end));
        out.push(Quantity {
            value: bounds.value,
            lower: bounds.lower,
            upper: bounds.upper,
            lower_inclusive: bounds.lower_inclusive,
            upper_inclusive: bounds.upper_inclusive,
            unit: amount.unit,
            head,
            approximate: bounds.approximate,
            span: tokens[start].start..tokens[end - 1].end,
        });
        i = end.max(i + 1);
    }
    out
}

/// Cheap filter: numbers start with a digit or a letter of a number word, a sign, a point or
/// a currency symbol.
fn may_start(word: &str) -> bool {
    let first = word.as_bytes().first().copied().unwrap_or(b' ');
    first.is_ascii_alphanumeric()
        || first == b'-'
        || first == b'.'
        || first == b'$'
        || first == b'\xe2'
        || first == b'\xc2'
}

/// The currency a symbol before a number stands for.
fn currency_symbol(w: &str) -> Option<&'static str> {
    match w {
        "$" | "US$" => Some("USD"),
        "€" => Some("EUR"),
        "£" => Some("GBP"),
        _ => None,
    }
}

/// A number with its multipliers, range and unit: the tokens up to `end`.
struct Amount {
    value: f64,
    /// The upper end of a range ("5 to 7").
    range_hi: Option<f64>,
    /// "between 5 and 7": the quantity starts one token earlier.
    between: bool,
    unit: &'static str,
    end: usize,
}

/// The amount whose number is at token `at` (`start` is where the quantity starts: the
/// currency symbol, when there is one).
fn amount_at(
    text: &str,
    tokens: &[Token],
    start: usize,
    at: usize,
    currency: Option<&'static str>,
) -> Option<Amount> {
    let word = |j: usize| tokens.get(j).map(|t| t.text(text)).unwrap_or("");
    let lower_eq = |j: usize, s: &str| word(j).eq_ignore_ascii_case(s);
    let num = number_at(text, tokens, at)?;
    let mut value = num.value;
    let mut end = num.end;
    let mut unit = num.unit;
    // Multipliers: "3.5 million", "two dozen".
    while let Some(m) = multiplier(word(end)).filter(|_| !num.ordinal) {
        value *= m;
        end += 1;
    }
    // Ranges: "5 to 7", "5-7", "five or six", "between 5 and 7".
    let mut range_hi: Option<f64> = None;
    let w_end = word(num.end - 1);
    if let Some((_, b)) = w_end.split_once('-').filter(|(a, _)| !a.is_empty()) {
        if let Ok(h) = b.replace(',', "").parse::<f64>() {
            range_hi = Some(h);
        }
    }
    let between = start > 0 && lower_eq(start - 1, "between");
    if range_hi.is_none()
        && (lower_eq(end, "to")
            || lower_eq(end, "or")
            || between && lower_eq(end, "and")
            || word(end) == "–")
    {
        if let Some(n2) = number_at(text, tokens, end + 1).filter(|n| !n.ordinal) {
            let mut h = n2.value;
            let mut e2 = n2.end;
            while let Some(m) = multiplier(word(e2)) {
                h *= m;
                e2 += 1;
            }
            if h > value {
                range_hi = Some(h);
                end = e2;
                unit = unit.or(n2.unit);
            }
        }
    }
    // Unit after the number.
    if unit.is_none() && currency.is_none() {
        let u = word(end);
        if let Some(c) = unit_word(u) {
            unit = Some(c);
            end += 1;
        } else if u.eq_ignore_ascii_case("per") && lower_eq(end + 1, "cent") {
            unit = Some("percent");
            end += 2;
        } else if u == "%" {
            unit = Some("percent");
            end += 1;
        }
        if unit == Some("percent") && (lower_eq(end, "points") || lower_eq(end, "point")) {
            unit = Some("percentage point");
            end += 1;
        }
    }
    // "hour-long" after "four": "a four hour-long meeting".
    if unit.is_some() && word(end).eq_ignore_ascii_case("-long") {
        end += 1;
    }
    Some(Amount {
        value,
        range_hi,
        between,
        unit: currency.or(unit).unwrap_or("count"),
        end,
    })
}

/// The value and bounds of a quantity.
struct Bounds {
    value: f64,
    lower: Option<f64>,
    upper: Option<f64>,
    lower_inclusive: bool,
    upper_inclusive: bool,
    approximate: bool,
}

/// The bounds of `amount` (starting at token `start`) from a range or the modifier before it
/// ("more than", "about"), and where the quantity starts with that modifier.
fn bounds<'t>(
    word: &impl Fn(usize) -> &'t str,
    mut start: usize,
    amount: &Amount,
) -> (usize, Bounds) {
    let (value, range_hi) = (amount.value, amount.range_hi);
    let mut b = Bounds {
        value: range_hi.map_or(value, |h| (value + h) / 2.0),
        lower: Some(value),
        upper: Some(range_hi.unwrap_or(value)),
        lower_inclusive: true,
        upper_inclusive: true,
        approximate: false,
    };
    if amount.between {
        start -= 1;
    }
    if range_hi.is_some() {
        return (start, b);
    }
    let p1 = if start > 0 {
        word(start - 1).to_ascii_lowercase()
    } else {
        String::new()
    };
    let p2 = if start > 1 {
        word(start - 2).to_ascii_lowercase()
    } else {
        String::new()
    };
    let (span_back, kind) = modifier(&p2, &p1);
    match kind {
        "gt" => {
            b.upper = None;
            b.lower_inclusive = false;
        }
        "ge" => b.upper = None,
        "lt" => {
            b.lower = None;
            b.upper_inclusive = false;
        }
        "le" => b.lower = None,
        "nearly" => {
            b.lower = Some(value * 0.85);
            b.upper_inclusive = false;
            b.approximate = true;
        }
        "about" => {
            b.lower = Some(value * 0.9);
            b.upper = Some(value * 1.1);
            b.approximate = true;
        }
        _ => {}
    }
    if b.lower.is_some_and(|l| b.upper.is_some_and(|u| l > u)) {
        std::mem::swap(&mut b.lower, &mut b.upper);
    }
    start -= span_back.min(start);
    (start, b)
}

/// The modifier the two words before a number (`p2 p1`, lower-cased) make: how many words it
/// spans and its kind ("gt", "ge", "lt", "le", "nearly", "about"; `(0, "")` for none).
fn modifier(p2: &str, p1: &str) -> (usize, &'static str) {
    let two = format!("{p2} {p1}");
    match (two.as_str(), p1) {
        ("more than" | "greater than" | "well over" | "just over" | "higher than", _) => (2, "gt"),
        ("at least" | "no fewer" | "no less", _) => (2, "ge"),
        ("less than" | "fewer than" | "just under" | "well under" | "lower than", _) => (2, "lt"),
        ("at most" | "up to" | "no more" | "as many" | "as much", _) => (2, "le"),
        ("close to", _) => (2, "nearly"),
        ("an estimated", _) => (2, "about"),
        (_, "over" | "above" | "exceeding" | "beyond") => (1, "gt"),
        (_, "under" | "below") => (1, "lt"),
        (_, "nearly" | "almost") => (1, "nearly"),
        (
            _,
            "about" | "around" | "approximately" | "roughly" | "some" | "approx." | "circa" | "~",
        ) => (1, "about"),
        _ => (0, ""),
    }
}

/// The measured noun right after a quantity ending at token `end` ("four-hour meeting", "70
/// missiles"), looking past "-long"/"long".
fn head_after(text: &str, tokens: &[Token], end: usize) -> Option<String> {
    let mut h = end;
    while h < tokens.len() && h < end + 3 {
        let w = tokens[h].text(text);
        if w.chars().all(|c| c.is_alphabetic() || c == '-')
            && !w.is_empty()
            && !is_function_word(w)
            && unit_word(w).is_none()
        {
            let head = (w.chars().next().is_some_and(char::is_lowercase)
                || tokens_title_case(text, tokens, h))
            .then(|| w.to_lowercase());
            return head.filter(|h| !h.is_empty());
        }
        if !(w == "-long" || w.eq_ignore_ascii_case("long")) {
            break;
        }
        h += 1;
    }
    None
}

/// True when token `h` is part of a title-case line ("Witkoff’s Five-Hour Meeting With
/// Putin"), where capitalised nouns are still common nouns.
fn tokens_title_case(text: &str, tokens: &[Token], h: usize) -> bool {
    let w = tokens[h].text(text);
    w.chars().next().is_some_and(char::is_uppercase)
        && h > 0
        && tokens[h - 1]
            .text(text)
            .split('-')
            .next_back()
            .is_some_and(|p| p.chars().next().is_some_and(char::is_uppercase))
}

/// The event noun nearest to tokens `start..end` within their sentence, lower case.
fn sentence_event(text: &str, tokens: &[Token], start: usize, end: usize) -> String {
    let is_stop = |j: usize| {
        let w = tokens[j].text(text);
        matches!(w, "." | "!" | "?")
            || text[tokens[j].end..tokens.get(j + 1).map_or(text.len(), |t| t.start)].contains('\n')
    };
    let mut best: Option<(usize, String)> = None;
    let mut l = start;
    // The nouns are lower-case ASCII, so a case-insensitive match is the lower-cased word.
    let event_noun = |j: usize| {
        let w = tokens[j].text(text);
        EVENT_NOUNS.iter().find(|n| n.eq_ignore_ascii_case(w))
    };
    while l > 0 && start - l < 25 && !is_stop(l - 1) {
        l -= 1;
        if let Some(w) = event_noun(l) {
            best = Some((start - l, w.to_string()));
            break;
        }
    }
    let mut r = end;
    while r < tokens.len()
        && r - end < 25
        && !is_stop(r.saturating_sub(1).max(end.saturating_sub(1)))
    {
        if let Some(w) = event_noun(r) {
            if best.as_ref().is_none_or(|(d, _)| r - end < *d) {
                best = Some((r - end, w.to_string()));
            }
            break;
        }
        if is_stop(r) {
            break;
        }
        r += 1;
    }
    best.map(|(_, w)| w).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::tokenize::tokenize;

    fn q(text: &str) -> Vec<Quantity> {
        find_quantities(text, &tokenize(text))
    }

    /// A sample of words: number words in every case, near misses, digits, odd bytes.
    fn sample_words() -> Vec<String> {
        let mut words: Vec<String> = [
            "zero",
            "One",
            "TWO",
            "three",
            "Four",
            "fifteen",
            "Twenty",
            "ninety",
            "dozen",
            "Dozen",
            "twenty-five",
            "Ninety-Nine",
            "twenty-ten",
            "ten-one",
            "one-two",
            "first",
            "Second",
            "TWELFTH",
            "thirteenth",
            "3rd",
            "21st",
            "22ND",
            "4th",
            "th",
            "1st2",
            "tens",
            "on",
            "nine-",
            "-nine",
            "twenty--five",
            "seventy-seven-long",
            "a",
            "an",
            "",
            "—",
            "Київ",
            "fïve",
            "sixty-six",
            "forty-four",
            "fourty",
            "eleven",
            "",
            "x",
        ]
        .iter()
        .map(|w| w.to_string())
        .collect();
        words.push("seventeen".repeat(3));
        words
    }

    #[test]
    fn number_words_read_as_the_lists_say() {
        // The word lists as first written, compared case-insensitively one by one.
        const ONES: [&str; 20] = [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
        ];
        const TENS: [&str; 8] = [
            "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
        ];
        const ORD: [&str; 12] = [
            "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
            "tenth", "eleventh", "twelfth",
        ];
        let pos = |list: &[&str], w: &str| list.iter().position(|o| w.eq_ignore_ascii_case(o));
        let reference_small = |w: &str| -> Option<f64> {
            if let Some(i) = pos(&ONES, w) {
                return Some(i as f64);
            }
            if let Some(i) = pos(&TENS, w) {
                return Some(20.0 + 10.0 * i as f64);
            }
            if w.eq_ignore_ascii_case("dozen") {
                return Some(12.0);
            }
            let (a, b) = w.split_once('-')?;
            let t = pos(&TENS, a)?;
            let o = pos(&ONES[1..10], b)?;
            Some(20.0 + 10.0 * t as f64 + 1.0 + o as f64)
        };
        for w in sample_words() {
            assert_eq!(small_number(&w), reference_small(&w), "{w:?}");
            if let Some(i) = pos(&ORD, &w) {
                assert_eq!(ordinal(&w), Some(i as f64 + 1.0), "{w:?}");
            }
        }
        for (i, w) in ONES.iter().chain(&TENS).enumerate() {
            assert!(
                small_number(w).is_some() && small_number(&w.to_uppercase()).is_some(),
                "{i}"
            );
        }
    }

    #[test]
    fn the_first_letter_filter_skips_no_number_word() {
        // `number_at` gives up on a word (not led by a digit) whose first letter is not in
        // "adefnostz": such a word is none of the words it goes on to look for.
        let words = sample_words().into_iter().chain(
            ["Apple", "bread", "Cup", "hours", "Kyiv", "million", "Zebra"].map(String::from),
        );
        let mut skipped = 0;
        for w in words.filter(|w| !w.starts_with(|c: char| c.is_ascii_digit())) {
            let first = w.bytes().next().map(|b| b.to_ascii_lowercase());
            if first.is_some_and(|b| b"adefnostz".contains(&b)) {
                continue;
            }
            skipped += 1;
            assert!(
                !w.eq_ignore_ascii_case("a") && !w.eq_ignore_ascii_case("an"),
                "{w:?}"
            );
            assert_eq!(ordinal(&w), None, "{w:?}");
            assert_eq!(small_number(&w), None, "{w:?}");
            let head = w.split_once('-').map_or(w.as_str(), |(a, _)| a);
            assert_eq!(small_number(head), None, "{w:?}");
            let text = format!("{w} hours");
            assert!(number_at(&text, &tokenize(&text), 0).is_none(), "{w:?}");
        }
        assert!(skipped >= 8, "{skipped}");
    }

    #[test]
    fn exact_words_and_hyphenated_units() {
        // "five hours" = [5,5] hour; "a four-hour meeting" = [4,4] hour measuring a meeting.
        let a = &q("The meeting lasted five hours.")[0];
        assert_eq!(
            (a.lower, a.upper, a.unit, a.head.as_str()),
            (Some(5.0), Some(5.0), "hour", "meeting")
        );
        let b = &q("Witkoff wrapped up a four-hour meeting with Putin.")[0];
        assert_eq!((b.value, b.unit, b.head.as_str()), (4.0, "hour", "meeting"));
        let c = &q("Witkoff’s Five-Hour Meeting With Putin")[0];
        assert_eq!((c.value, c.unit, c.head.as_str()), (5.0, "hour", "meeting"));
        let d = &q("a tense, four-hour-long negotiation")[0];
        assert_eq!(
            (d.value, d.unit, d.head.as_str()),
            (4.0, "hour", "negotiation")
        );
    }

    #[test]
    fn bounds_from_modifiers() {
        // "over four hours" = (4, ∞); "about 70 missiles" = ±10%; "nearly 5" < 5; "at least".
        let over = &q("They spent over four hours with Putin.")[0];
        assert_eq!(
            (over.lower, over.upper, over.lower_inclusive),
            (Some(4.0), None, false)
        );
        let about = &q("Russia fired about 70 missiles.")[0];
        assert_eq!((about.unit, about.head.as_str()), ("count", "missiles"));
        assert!(
            about.approximate
                && about.lower == Some(63.0)
                && about.upper.is_some_and(|u| (u - 77.0).abs() < 1e-9)
        );
        let nearly = &q("nearly 5 percent")[0];
        assert_eq!(
            (nearly.upper, nearly.upper_inclusive, nearly.unit),
            (Some(5.0), false, "percent")
        );
        let least = &q("at least 12 people")[0];
        assert_eq!(
            (least.lower, least.upper, least.lower_inclusive),
            (Some(12.0), None, true)
        );
        assert!(!over.overlaps(&q("It lasted four hours.")[0]));
        assert!(over.overlaps(&q("It lasted five hours.")[0]));
    }

    #[test]
    fn money_percent_multipliers_ordinals_ranges() {
        let m = &q("checks of $1,400 and 3.5 million people, 46% and 12 per cent")[..];
        assert_eq!((m[0].value, m[0].unit), (1400.0, "USD"));
        assert_eq!((m[1].value, m[1].unit), (3_500_000.0, "count"));
        assert_eq!((m[2].value, m[2].unit), (46.0, "percent"));
        assert_eq!((m[3].value, m[3].unit), (12.0, "percent"));
        let o = &q("their third meeting this year")[0];
        assert_eq!(
            (o.value, o.unit, o.head.as_str()),
            (3.0, "count", "meeting")
        );
        let r = &q("between 5 and 7 days, a dozen eggs, in 2024")[..];
        assert_eq!(
            (r[0].lower, r[0].upper, r[0].unit),
            (Some(5.0), Some(7.0), "day")
        );
        assert_eq!(r[1].value, 12.0);
        assert_eq!(r.len(), 2, "a year is a date, not a quantity");
    }

    #[test]
    fn never_panics() {
        for t in [
            "$", "-", "1-", "-.5%", "a", "five-", "1,,,", "’", "3rd", "over", "$ $ 5 to",
        ] {
            for x in q(t) {
                // A span on character boundaries inside the text, consistent bounds.
                assert!(
                    x.span.start < x.span.end && x.span.end <= t.len(),
                    "{t:?}: {x:?}"
                );
                assert!(t.is_char_boundary(x.span.start) && t.is_char_boundary(x.span.end));
                assert!(!x.unit.is_empty() && x.value.is_finite(), "{t:?}: {x:?}");
                if let (Some(l), Some(u)) = (x.lower, x.upper) {
                    assert!(l <= u, "{t:?}: {x:?}");
                }
            }
        }
        // No number, no quantity.
        for t in ["$", "-", "a", "’", "over"] {
            assert!(q(t).is_empty(), "{t:?}: {:?}", q(t));
        }
        let five = q("$ $ 5 to");
        assert_eq!(five.len(), 1, "{five:?}");
        assert_eq!((five[0].value, five[0].unit), (5.0, "USD"));
    }
}

//! Normalising entity names so that surface variants meet: possessives, titles, curly
//! apostrophes, "the", diacritics and case.

use crate::analysis::EntityType;

/// Words that precede a person's name as a title ("President Trump"); matched lower-case.
const TITLES: &[&str] = &[
    "president",
    "vice",
    "prime",
    "minister",
    "secretary",
    "chancellor",
    "senator",
    "sen.",
    "rep.",
    "representative",
    "gov.",
    "governor",
    "gen.",
    "general",
    "lt.",
    "col.",
    "colonel",
    "adm.",
    "admiral",
    "mr.",
    "mrs.",
    "ms.",
    "dr.",
    "prof.",
    "professor",
    "judge",
    "justice",
    "ambassador",
    "envoy",
    "special",
    "king",
    "queen",
    "prince",
    "princess",
    "pope",
    "mayor",
    "chief",
    "chairman",
    "chair",
    "speaker",
    "former",
    "foreign",
    "defense",
    "defence",
    "state",
    "sir",
    "lord",
    "lady",
    "mr",
    "mrs",
    "ms",
    "dr",
    "capt.",
    "captain",
    "sgt.",
    "sergeant",
    "commander",
    "director",
    "spokesman",
    "spokeswoman",
    "spokesperson",
    "leader",
    "premier",
    "deputy",
    "first",
    "lady",
    "attorney",
    "u.s.",
    "us",
    "russian",
    "ukrainian",
    "national",
    "security",
    "adviser",
    "advisor",
    "of",
];

/// True when `word` can be part of a title before a name.
pub fn is_title_word(word: &str) -> bool {
    let lower = word.to_lowercase();
    TITLES.contains(&lower.as_str())
}

/// Folds a character for matching: lower case, common diacritics removed, curly
/// apostrophes straightened.
fn fold(c: char) -> Option<char> {
    let c = match c {
        '’' | '‘' | '`' | '´' => '\'',
        'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' | 'Á' | 'À' | 'Â' | 'Ä' | 'Ã' | 'Å' => 'a',
        'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' | 'Í' | 'Ì' | 'Î' | 'Ï' => 'i',
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ø' | 'Ó' | 'Ò' | 'Ô' | 'Ö' | 'Õ' | 'Ø' => 'o',
        'ú' | 'ù' | 'û' | 'ü' | 'Ú' | 'Ù' | 'Û' | 'Ü' => 'u',
        'ñ' | 'Ñ' => 'n',
        'ç' | 'Ç' => 'c',
        'š' | 'Š' => 's',
        'ž' | 'Ž' => 'z',
        'č' | 'Č' => 'c',
        'ł' | 'Ł' => 'l',
        c => c,
    };
    c.to_lowercase().next()
}

/// A name as displayed (possessive and surrounding punctuation removed, spaces collapsed).
///
/// # Examples
///
/// ```
/// use dossier_server::entities::names::display_form;
/// assert_eq!(display_form("Witkoff’s"), "Witkoff");
/// assert_eq!(display_form("  the  Kremlin "), "the Kremlin");
/// ```
pub fn display_form(surface: &str) -> String {
    let mut s = surface.split_whitespace().collect::<Vec<_>>().join(" ");
    for suffix in ["'s", "’s", "'S", "’S"] {
        if s.len() > suffix.len() && s.ends_with(suffix) {
            s.truncate(s.len() - suffix.len());
            break;
        }
    }
    if s.ends_with(['\'', '’']) && s.len() > 1 {
        s.pop();
    }
    s.trim_matches(|c: char| !c.is_alphanumeric() && c != '.' && c != ')' && c != '(')
        .to_string()
}

/// A person's name without the title words it starts with ("Gen. Dan Caine" → "Dan
/// Caine"); a name that is all title words is kept whole.
pub fn without_titles(display: &str) -> String {
    let words: Vec<&str> = display.split(' ').collect();
    let skip = words
        .iter()
        .take_while(|w| is_title_word(w) && w.chars().next().is_some_and(char::is_uppercase))
        .count();
    if skip == 0 || skip >= words.len() {
        return display.to_string();
    }
    words[skip..].join(" ")
}

/// The matching key of a name of type `ty`: folded tokens, with a leading "the" and person
/// titles removed.
pub fn key_tokens(display: &str, ty: EntityType) -> Vec<String> {
    let mut tokens: Vec<String> = display
        .split(|c: char| c.is_whitespace() || c == '-' && ty == EntityType::Person)
        .map(|t| {
            t.chars()
                .filter_map(fold)
                .filter(|c| c.is_alphanumeric() || *c == '\'' || *c == '.' || *c == '&')
                .collect::<String>()
        })
        .map(|t| t.trim_end_matches('.').to_string())
        .filter(|t| !t.is_empty())
        .collect();
    if tokens.first().is_some_and(|t| t == "the") && tokens.len() > 1 {
        tokens.remove(0);
    }
    if ty == EntityType::Person {
        while tokens.len() > 1 && is_title_word(&tokens[0]) {
            tokens.remove(0);
        }
    }
    tokens
}

/// Levenshtein distance, capped: returns `cap + 1` as soon as the distance exceeds `cap`.
pub fn edit_distance(a: &str, b: &str, cap: usize) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > cap {
        return cap + 1;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            row_min = row_min.min(cur[j]);
        }
        if row_min > cap {
            return cap + 1;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()].min(cap + 1)
}

/// True when two name tokens are spelling variants: equal, or one edit apart when both are
/// long enough for a single edit not to make another name ("Zelensky"/"Zelenskyy",
/// "Vladmir"/"Vladimir"; never "Iran"/"Iraq").
pub fn tokens_match(a: &str, b: &str) -> bool {
    a == b
        || a.chars().count() >= 6
            && b.chars().count() >= 6
            && a.chars().next() == b.chars().next()
            && edit_distance(a, b, 1) <= 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_possessives_and_the_are_ignored_for_matching() {
        assert_eq!(
            key_tokens(&display_form("President Trump’s"), EntityType::Person),
            ["trump"]
        );
        assert_eq!(
            key_tokens("Vice President JD Vance", EntityType::Person),
            ["jd", "vance"]
        );
        assert_eq!(
            key_tokens("the Kremlin", EntityType::Organization),
            ["kremlin"]
        );
        assert_eq!(key_tokens("Zelenskyy", EntityType::Person), ["zelenskyy"]);
    }

    #[test]
    fn leading_titles_leave_display_names() {
        assert_eq!(without_titles("Gen. Dan Caine"), "Dan Caine");
        assert_eq!(without_titles("President"), "President");
        assert_eq!(without_titles("Steve Witkoff"), "Steve Witkoff");
    }

    #[test]
    fn spelling_variants_match_but_short_different_names_do_not() {
        assert!(tokens_match("zelenskyy", "zelensky"));
        assert!(tokens_match("vladmir", "vladimir"));
        assert!(!tokens_match("iran", "iraq"));
        assert!(!tokens_match("hillary", "bill"));
        assert_eq!(edit_distance("kitten", "sitting", 5), 3);
        assert_eq!(edit_distance("kitten", "sitting", 1), 2);
    }
}

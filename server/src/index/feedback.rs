//! Pseudo-relevance feedback (RM3): the query expanded with the terms typical of its best
//! matches re-ranks those matches; the match set stays the query's own.

use std::collections::HashMap;

use tantivy::index::SegmentId;
use tantivy::query::{EnableScoring, Query};
use tantivy::DocId;

use super::analyzer::for_each_token;
use super::analyzer::is_stopword;
use super::collect::Match;
use super::rank::{Clause, RankParams, RankQuery};
use super::{IndexError, Snapshot};

impl Snapshot {
    /// Re-ranks the best `prf_rerank` matches with the query expanded from the best
    /// `prf_docs` (RM3). The match set, and so `total_hits`, stays the query's own: feedback
    /// only reorders. The re-ranked documents come first; the rest keep their order, with
    /// scores scaled below the re-ranked ones.
    pub(super) fn rerank(
        &self,
        rank: &RankQuery,
        matches: &mut [Match],
        params: &RankParams,
    ) -> Result<Option<RankQuery>, IndexError> {
        let k = params.prf_rerank.max(params.prf_docs).min(matches.len());
        if k == 0 {
            return Ok(None);
        }
        if k < matches.len() {
            matches.select_nth_unstable_by(k - 1, |a, b| b.cmp(a));
        }
        matches[..k].sort_unstable_by(|a, b| b.cmp(a));
        let top = &matches[..params.prf_docs.min(k)];
        let Some(expanded) = self.expand(rank, top, params)? else {
            return Ok(None);
        };
        let mut candidates: HashMap<SegmentId, Vec<DocId>> = HashMap::new();
        for m in &matches[..k] {
            let segment = self.searcher.segment_reader(m.segment).segment_id();
            candidates.entry(segment).or_default().push(m.doc);
        }
        for docs in candidates.values_mut() {
            docs.sort_unstable();
        }
        let restricted = expanded.restricted_to(candidates);
        let weight = restricted.weight(EnableScoring::enabled_from_searcher(&self.searcher))?;
        let mut scores: HashMap<(u32, DocId), f32> = HashMap::with_capacity(k);
        for (ord, segment) in self.searcher.segment_readers().iter().enumerate() {
            weight.for_each(segment, &mut |doc, score| {
                scores.insert((ord as u32, doc), score);
            })?;
        }
        let floor = matches[..k]
            .iter()
            .map(|m| scores.get(&(m.segment, m.doc)).copied().unwrap_or(0.0))
            .fold(f32::MAX, f32::min);
        let ceiling = matches[k..].iter().map(|m| m.score).fold(0.0f32, f32::max);
        let scale = if ceiling > 0.0 {
            0.999 * floor / ceiling
        } else {
            1.0
        };
        for (i, m) in matches.iter_mut().enumerate() {
            if i < k {
                m.score = scores.get(&(m.segment, m.doc)).copied().unwrap_or(0.0);
                m.date = 1;
            } else {
                m.score *= scale;
            }
        }
        Ok(Some(expanded))
    }

    /// RM3 pseudo-relevance feedback: the terms most typical of the top documents, weighted
    /// by how well each document scored, interpolated with the original query.
    fn expand(
        &self,
        rank: &RankQuery,
        top: &[Match],
        params: &RankParams,
    ) -> Result<Option<RankQuery>, IndexError> {
        if top.is_empty() {
            return Ok(None);
        }
        let mut analyzer = self.shared.analyzer.clone();
        let max = top.iter().map(|m| m.score).fold(f32::MIN, f32::max);
        let mut relevance: HashMap<String, f32> = HashMap::new();
        let mut total_weight = 0.0;
        for m in top {
            let doc = self.stored(m.address())?;
            let mut counts: HashMap<String, f32> = HashMap::new();
            let mut len = 0.0f32;
            for text in [&doc.title, &doc.text] {
                for_each_token(&mut analyzer, text, |t| {
                    len += 1.0;
                    if !is_stopword(&t.text) && t.text.chars().any(char::is_alphabetic) {
                        *counts.entry(t.text.clone()).or_default() += 1.0;
                    }
                });
            }
            let w = (m.score - max).exp();
            total_weight += w;
            for (term, c) in counts {
                *relevance.entry(term).or_default() += w * c / len.max(1.0);
            }
        }
        let mut ranked: Vec<(String, f32)> = relevance
            .into_iter()
            .map(|(t, p)| (t, p / total_weight))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        ranked.truncate(params.prf_terms);
        let feedback_total: f32 = ranked.iter().map(|r| r.1).sum();
        let original_total: f32 = rank.clauses().iter().map(|c| c.weight).sum();
        if feedback_total <= 0.0 || original_total <= 0.0 {
            return Ok(None);
        }
        let lambda = params.prf_weight;
        let mut clauses: Vec<Clause> = rank
            .clauses()
            .iter()
            .map(|c| Clause {
                variants: c.variants.clone(),
                weight: (1.0 - lambda) * c.weight / original_total,
            })
            .collect();
        for (term, p) in ranked {
            let w = lambda * p / feedback_total;
            match clauses.iter_mut().find(|c| c.variants == [term.as_str()]) {
                Some(c) => c.weight += w,
                None => clauses.push(Clause {
                    variants: vec![term],
                    weight: w,
                }),
            }
        }
        Ok(Some(rank.with_clauses(clauses)))
    }
}

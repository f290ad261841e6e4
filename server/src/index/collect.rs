//! One pass over a query's matches: the count, the matches a page (the best few) or a
//! stream (all) keeps with their sort keys, facet counts and matching ids; then the page.
//! A relevance page of a ranked query with no filter, facet or id list is collected by
//! `RankWeight::best` instead, which may stop counting past
//! [`EXACT_TOTAL_HITS_UP_TO`] matches (the page stays exact).

use std::collections::{BinaryHeap, HashMap};

use tantivy::query::{EnableScoring, Query};
use tantivy::{DocAddress, DocId};

use super::rank::{Cutoff, RankQuery};
use super::request::{FacetCounts, FacetField, SearchQuery, SortOrder, EXACT_TOTAL_HITS_UP_TO};
use super::schema::{ID, MONTH, PUBLISHED_AT, SOURCE};
use super::{IndexError, Snapshot};

/// One matching document and its sort key. Ordered so that the *better* hit is greater.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Match {
    /// Date key (see `date_key`); in relevance order 0, or 1 for hits re-ranked by feedback.
    pub(super) date: i64,
    pub(super) score: f32,
    pub(super) segment: u32,
    pub(super) doc: DocId,
}

impl Eq for Match {}

impl Ord for Match {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.date
            .cmp(&other.date)
            .then(self.score.total_cmp(&other.score))
            .then(other.segment.cmp(&self.segment))
            .then(other.doc.cmp(&self.doc))
    }
}

impl PartialOrd for Match {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Match {
    pub(super) fn address(&self) -> DocAddress {
        DocAddress::new(self.segment, self.doc)
    }
}

/// Undated documents sort last in both date orders.
fn date_key(order: SortOrder, published: Option<i64>) -> i64 {
    match (order, published) {
        (SortOrder::Relevance, _) => 0,
        (_, None) => i64::MIN,
        (SortOrder::Newest, Some(t)) => t.max(i64::MIN + 1),
        (SortOrder::Oldest, Some(t)) => t.saturating_neg(),
    }
}

/// Everything one pass over the matches gathers.
pub(super) struct Collected {
    /// The matches kept (see [`Keep`]), in no particular order.
    pub(super) matches: Vec<Match>,
    /// How many documents matched: `matches.len()` when all are kept; a lower bound when
    /// not `complete`.
    pub(super) total: u64,
    /// Whether `total` counts every match (see [`EXACT_TOTAL_HITS_UP_TO`]).
    pub(super) complete: bool,
    pub(super) facets: Vec<FacetCounts>,
    pub(super) ids: Option<Vec<String>>,
}

/// Which matches a pass keeps: a page needs only the best few (and the count), a stream
/// every one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Keep {
    All,
    Best(usize),
}

/// The matches kept so far: all of them, or a min-heap of the best `n`, so that a page of
/// ten out of thousands of matches never holds (or sorts) the thousands.
enum Kept {
    All(Vec<Match>),
    Best(usize, BinaryHeap<std::cmp::Reverse<Match>>),
}

impl Kept {
    fn new(keep: Keep) -> Self {
        match keep {
            Keep::All => Self::All(Vec::new()),
            Keep::Best(n) => Self::Best(n, BinaryHeap::with_capacity(n.min(4096))),
        }
    }

    fn push(&mut self, m: Match) {
        match self {
            Self::All(all) => all.push(m),
            Self::Best(n, heap) => {
                if heap.len() < *n {
                    heap.push(std::cmp::Reverse(m));
                } else if let Some(mut worst) = heap.peek_mut() {
                    if m > worst.0 {
                        *worst = std::cmp::Reverse(m);
                    }
                }
            }
        }
    }

    /// The score a match must beat to be kept, once `n` are kept.
    fn floor(&self) -> Option<f32> {
        match self {
            Self::All(_) => None,
            Self::Best(n, heap) if heap.len() >= *n => heap.peek().map(|m| m.0.score),
            Self::Best(..) => None,
        }
    }

    fn into_vec(self) -> Vec<Match> {
        match self {
            Self::All(all) => all,
            Self::Best(_, heap) => heap.into_iter().map(|m| m.0).collect(),
        }
    }
}

impl Snapshot {
    /// One pass over every match: the count, the matches to `keep` with their sort keys,
    /// facet counts and ids as requested.
    pub(super) fn collect(
        &self,
        query: &dyn Query,
        request: &SearchQuery,
        keep: Keep,
    ) -> Result<Collected, IndexError> {
        // A relevance page of a ranked query alone (no filter, facet or id list): the best
        // few, pruned, counted exactly up to the threshold.
        if let (Keep::Best(k), Some(rank), SortOrder::Relevance, true, false) = (
            keep,
            query.downcast_ref::<RankQuery>(),
            request.order,
            request.facets.is_empty(),
            request.with_matching_ids,
        ) {
            return self.collect_best(rank, k, request.exact_total_hits);
        }
        let weight = query.weight(EnableScoring::enabled_from_searcher(&self.searcher))?;
        let mut kept = Kept::new(keep);
        let mut total = 0u64;
        let want_source = request.facets.contains(&FacetField::Source);
        let want_month = request.facets.contains(&FacetField::Month);
        let mut source_counts: HashMap<String, u64> = HashMap::new();
        let mut month_counts: HashMap<String, u64> = HashMap::new();
        let mut ids = request.with_matching_ids.then(Vec::new);
        for (ord, segment) in self.searcher.segment_readers().iter().enumerate() {
            let fast = segment.fast_fields();
            let dates = match request.order {
                SortOrder::Relevance => None,
                _ => fast.column_opt::<i64>(PUBLISHED_AT)?,
            };
            let sources = if want_source { fast.str(SOURCE)? } else { None };
            let months = if want_month { fast.str(MONTH)? } else { None };
            let id_column = if ids.is_some() { fast.str(ID)? } else { None };
            let mut source_ords = vec![0u64; sources.as_ref().map_or(0, |c| c.num_terms())];
            let mut month_ords = vec![0u64; months.as_ref().map_or(0, |c| c.num_terms())];
            let mut id_ords: Vec<u64> = Vec::new();
            let alive = segment.alive_bitset();
            weight.for_each(segment, &mut |doc, score| {
                if alive.is_some_and(|a| !a.is_alive(doc)) {
                    return;
                }
                let published = dates.as_ref().and_then(|c| c.first(doc));
                total += 1;
                kept.push(Match {
                    date: date_key(request.order, published),
                    score,
                    segment: ord as u32,
                    doc,
                });
                if let Some(ord) = sources.as_ref().and_then(|c| c.ords().first(doc)) {
                    source_ords[ord as usize] += 1;
                }
                if let Some(ord) = months.as_ref().and_then(|c| c.ords().first(doc)) {
                    month_ords[ord as usize] += 1;
                }
                if let Some(ord) = id_column.as_ref().and_then(|c| c.ords().first(doc)) {
                    id_ords.push(ord);
                }
            })?;
            let mut buf = String::new();
            for (column, counts, out) in [
                (&sources, &source_ords, &mut source_counts),
                (&months, &month_ords, &mut month_counts),
            ] {
                let Some(column) = column else { continue };
                for (ord, &n) in counts.iter().enumerate() {
                    if n > 0 && column.ord_to_str(ord as u64, &mut buf)? {
                        *out.entry(buf.clone()).or_default() += n;
                    }
                }
            }
            if let (Some(column), Some(ids)) = (&id_column, ids.as_mut()) {
                for ord in id_ords {
                    if column.ord_to_str(ord, &mut buf)? {
                        ids.push(buf.clone());
                    }
                }
            }
        }
        let mut facets = Vec::new();
        for field in &request.facets {
            let counts = match field {
                FacetField::Source => std::mem::take(&mut source_counts),
                FacetField::Month => std::mem::take(&mut month_counts),
            };
            let mut values: Vec<(String, u64)> = counts.into_iter().collect();
            values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            facets.push(FacetCounts {
                field: *field,
                values,
            });
        }
        Ok(Collected {
            matches: kept.into_vec(),
            total,
            complete: true,
            facets,
            ids,
        })
    }

    /// The best `k` matches of `rank` in relevance order and their count, exact up to
    /// [`EXACT_TOTAL_HITS_UP_TO`] (or always, with `exact`): see `RankWeight::best`.
    fn collect_best(
        &self,
        rank: &RankQuery,
        k: usize,
        exact: bool,
    ) -> Result<Collected, IndexError> {
        let weight = rank.scored_weight(&self.searcher)?;
        let mut kept = Kept::new(Keep::Best(k));
        let mut total = 0u64;
        let mut complete = true;
        for (ord, segment) in self.searcher.segment_readers().iter().enumerate() {
            let cutoff = Cutoff {
                counted_before: total,
                exact_up_to: if exact {
                    u64::MAX
                } else {
                    EXACT_TOTAL_HITS_UP_TO
                },
                floor: kept.floor(),
            };
            let best = weight.best(segment, k, &cutoff)?;
            total += best.counted;
            complete &= best.complete;
            for (doc, score) in best.docs {
                kept.push(Match {
                    date: 0,
                    score,
                    segment: ord as u32,
                    doc,
                });
            }
        }
        Ok(Collected {
            matches: kept.into_vec(),
            total,
            complete,
            facets: Vec::new(),
            ids: None,
        })
    }
}

/// The hits `offset..offset + limit` of `matches` in order (best first).
pub(super) fn top_page(mut matches: Vec<Match>, offset: usize, limit: usize) -> Vec<Match> {
    let end = offset.saturating_add(limit).min(matches.len());
    if offset >= end {
        return Vec::new();
    }
    if end < matches.len() {
        matches.select_nth_unstable_by(end, |a, b| b.cmp(a));
        matches.truncate(end);
    }
    matches.sort_unstable_by(|a, b| b.cmp(a));
    matches.drain(..offset);
    matches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undated_sort_last_both_ways() {
        // Proves undated documents come after dated ones in NEWEST and OLDEST order.
        for order in [SortOrder::Newest, SortOrder::Oldest] {
            assert!(date_key(order, Some(-5)) > date_key(order, None));
            assert!(date_key(order, Some(i64::MIN)) > date_key(order, None));
        }
        assert!(date_key(SortOrder::Newest, Some(2)) > date_key(SortOrder::Newest, Some(1)));
        assert!(date_key(SortOrder::Oldest, Some(1)) > date_key(SortOrder::Oldest, Some(2)));
    }
}

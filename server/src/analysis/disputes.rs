//! Disputes: claims from different documents about the same thing that cannot all be true.
//!
//! [`find_disputes`] is a pure function over claims the caller has already extracted and tied
//! to entities. Two quantities conflict (a [`DisputeKind::NumericMismatch`]) when
//!
//! - their claims come from different documents,
//! - the claims share a subject (the caller's entity keys: "Witkoff" and "Steve Witkoff" must
//!   already be one key),
//! - they measure the same attribute: the same unit dimension ("five hours" and "300
//!   minutes" are both durations) and the same measured noun, up to synonyms ("meeting",
//!   "talks", "conversation", "negotiation" are one kind of event),
//! - and their intervals do not overlap: "five hours" vs "a four-hour meeting" conflict, while
//!   "five hours" vs "over four hours" do not.
//!
//! Quantities with no measured noun never take part: "24 hours" in one article and "five
//! hours" in another are not known to measure the same thing.

use crate::analysis::claims::Claim;
use crate::analysis::quantities::{dimension, Quantity};
use std::collections::BTreeMap;

/// One claim offered to [`find_disputes`].
#[derive(Debug, Clone, Copy)]
pub struct ClaimRef<'a> {
    /// The document the claim comes from.
    pub document: &'a str,
    /// The claim.
    pub claim: &'a Claim,
    /// Keys of the entities the claim is about (resolved by the caller across documents).
    pub subjects: &'a [String],
}

/// Why claims disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisputeKind {
    /// The same measured attribute with values that cannot both hold.
    NumericMismatch,
}

/// One side of a dispute: a claim and the value it gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisputeSide {
    /// Index into the `claims` given to [`find_disputes`].
    pub claim: usize,
    /// Index into that claim's `quantities`.
    pub quantity: usize,
}

/// Claims that cannot all be true.
#[derive(Debug, Clone, PartialEq)]
pub struct Dispute {
    /// What is disputed, e.g. "Steve Witkoff: meeting (duration)".
    pub topic: String,
    /// The subject entity key the sides share.
    pub subject: String,
    /// Why.
    pub kind: DisputeKind,
    /// The conflicting claims, in input order; at least two documents.
    pub sides: Vec<DisputeSide>,
}

/// The class of a measured noun: synonyms of one kind of event share a class.
fn head_class(head: &str) -> Option<&str> {
    if head.is_empty() {
        return None;
    }
    Some(match head {
        "meeting" | "meetings" | "talks" | "talk" | "conversation" | "negotiation"
        | "negotiations" | "session" | "discussion" | "discussions" | "sit-down" | "summit"
        | "audience" => "meeting",
        "call" | "calls" | "phone" => "call",
        h => h.strip_suffix('s').filter(|s| s.len() > 2).unwrap_or(h),
    })
}

/// (subject, unit dimension, measured-noun class).
type GroupKey<'a> = (&'a str, &'static str, &'a str);

/// Finds numeric disputes among `claims`.
///
/// # Examples
///
/// ```
/// use dossier_server::analysis::claims::extract_claims;
/// use dossier_server::analysis::disputes::{find_disputes, ClaimRef};
/// use dossier_server::analysis::{sentences::split_sentences, tokenize::tokenize};
/// let analyse = |t: &str| {
///     let tok = tokenize(t);
///     extract_claims(t, &tok, &split_sentences(t, &tok), &[])
/// };
/// let a = analyse("Witkoff’s meeting with Putin lasted five hours.");
/// let b = analyse("Witkoff wrapped up a four-hour meeting with Putin.");
/// let who = vec!["witkoff".to_string()];
/// let refs = [
///     ClaimRef { document: "a", claim: &a[0], subjects: &who },
///     ClaimRef { document: "b", claim: &b[0], subjects: &who },
/// ];
/// assert_eq!(find_disputes(&refs).len(), 1);
/// ```
pub fn find_disputes(claims: &[ClaimRef<'_>]) -> Vec<Dispute> {
    // (subject, dimension, head class) → sides.
    let mut groups: BTreeMap<GroupKey<'_>, Vec<(DisputeSide, &Quantity)>> = BTreeMap::new();
    for (ci, c) in claims.iter().enumerate() {
        for (qi, q) in c.claim.quantities.iter().enumerate() {
            let Some(class) = head_class(&q.head) else {
                continue;
            };
            let (dim, _) = dimension(q.unit);
            for s in c.subjects {
                groups.entry((s.as_str(), dim, class)).or_default().push((
                    DisputeSide {
                        claim: ci,
                        quantity: qi,
                    },
                    q,
                ));
            }
        }
    }
    let mut out: Vec<Dispute> = Vec::new();
    for ((subject, dim, class), sides) in groups {
        let mut in_conflict = vec![false; sides.len()];
        for i in 0..sides.len() {
            for j in i + 1..sides.len() {
                let (a, qa) = sides[i];
                let (b, qb) = sides[j];
                if claims[a.claim].document == claims[b.claim].document {
                    continue;
                }
                if !overlap_in_base(qa, qb) {
                    in_conflict[i] = true;
                    in_conflict[j] = true;
                }
            }
        }
        let chosen: Vec<DisputeSide> = sides
            .iter()
            .zip(&in_conflict)
            .filter(|(_, &c)| c)
            .map(|((s, _), _)| *s)
            .collect();
        if chosen.is_empty() {
            continue;
        }
        // The same sides under another shared subject: one dispute is enough.
        if out.iter().any(|d| d.sides == chosen) {
            continue;
        }
        out.push(Dispute {
            topic: format!("{subject}: {class} ({dim})"),
            subject: subject.to_string(),
            kind: DisputeKind::NumericMismatch,
            sides: chosen,
        });
    }
    out
}

/// Interval overlap after converting both quantities to their dimension's base unit.
fn overlap_in_base(a: &Quantity, b: &Quantity) -> bool {
    let scale = |q: &Quantity| {
        let (_, f) = dimension(q.unit);
        Quantity {
            lower: q.lower.map(|x| x * f),
            upper: q.upper.map(|x| x * f),
            ..q.clone()
        }
    };
    scale(a).overlaps(&scale(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::claims::extract_claims;
    use crate::analysis::{sentences::split_sentences, tokenize::tokenize};

    fn claims(text: &str) -> Vec<Claim> {
        let t = tokenize(text);
        extract_claims(text, &t, &split_sentences(text, &t), &[])
    }

    fn disputes(a: &str, b: &str, subj_b: &str) -> Vec<Dispute> {
        let (ca, cb) = (claims(a), claims(b));
        let sa = vec!["steve witkoff".to_string()];
        let sb = vec![subj_b.to_string()];
        let mut refs: Vec<ClaimRef<'_>> = ca
            .iter()
            .map(|c| ClaimRef {
                document: "a",
                claim: c,
                subjects: &sa,
            })
            .collect();
        refs.extend(cb.iter().map(|c| ClaimRef {
            document: "b",
            claim: c,
            subjects: &sb,
        }));
        find_disputes(&refs)
    }

    #[test]
    fn five_hours_against_four_hour_meeting_is_a_dispute() {
        // The seeds' case, in their phrasing: a heading "Five-Hour Meeting" vs "a four-hour
        // meeting" in another article, same subject.
        let d = disputes(
            "Witkoff’s Five-Hour Meeting With Putin",
            "Steve Witkoff just wrapped up a four-hour meeting with Vladimir Putin.",
            "steve witkoff",
        );
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].kind, DisputeKind::NumericMismatch);
        assert_eq!(d[0].sides.len(), 2);
    }

    #[test]
    fn overlapping_intervals_are_not_a_dispute() {
        // "over four hours" = (4, ∞) contains 5: no dispute.
        let d = disputes(
            "The meeting with Putin lasted five hours.",
            "Witkoff spent over four hours with Putin at the meeting.",
            "steve witkoff",
        );
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn different_subjects_units_or_one_document_are_not_disputes() {
        // Another subject.
        assert!(disputes(
            "The meeting lasted five hours.",
            "A four-hour meeting.",
            "someone else"
        )
        .is_empty());
        // Another measured thing: a call is not a meeting.
        assert!(disputes(
            "The meeting lasted five hours.",
            "A four-hour call.",
            "steve witkoff"
        )
        .is_empty());
        // Minutes and hours compare in one dimension: 300 minutes = 5 hours.
        assert!(disputes(
            "The meeting lasted five hours.",
            "A 300-minute meeting.",
            "steve witkoff"
        )
        .is_empty());
        // No measured noun: not comparable.
        assert!(disputes(
            "He could end the war in 24 hours.",
            "It lasted five hours.",
            "steve witkoff"
        )
        .is_empty());
    }
}

#[cfg(test)]
mod seed_tests {
    use super::*;
    use crate::analysis::claims::extract_claims;
    use crate::analysis::{sentences::split_sentences, tokenize::tokenize};

    fn seed(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../seeds")
            .join(name);
        std::fs::read_to_string(path).unwrap_or_default()
    }

    #[test]
    fn seeds_meeting_length_is_disputed_and_over_four_hours_is_not() {
        // On the seed articles: "five hours" (first) vs "a four-hour meeting" (second) is a
        // dispute; "over four hours" (second) never sides against "five hours". Subjects are
        // what a caller would resolve: "witkoff" for claims whose sentence names him.
        let docs = [
            seed("000_6aec57e5ab762316.txt"),
            seed("001_9144a43b02905b26.txt"),
        ];
        if docs.iter().any(String::is_empty) {
            return; // seeds not present in this checkout
        }
        let claims: Vec<Vec<Claim>> = docs
            .iter()
            .map(|t| {
                let tok = tokenize(t);
                extract_claims(t, &tok, &split_sentences(t, &tok), &[])
            })
            .collect();
        let witkoff = vec!["witkoff".to_string()];
        let none: Vec<String> = Vec::new();
        let mut refs = Vec::new();
        for (d, cs) in claims.iter().enumerate() {
            for c in cs {
                let about = docs[d][c.sentence.clone()].contains("Witkoff");
                refs.push(ClaimRef {
                    document: if d == 0 { "000" } else { "001" },
                    claim: c,
                    subjects: if about { &witkoff } else { &none },
                });
            }
        }
        let values = |d: &Dispute| -> Vec<(String, &str)> {
            d.sides
                .iter()
                .map(|s| {
                    let r = &refs[s.claim];
                    let q = &r.claim.quantities[s.quantity];
                    (
                        r.document.to_string(),
                        &docs[if r.document == "000" { 0 } else { 1 }][q.span.clone()],
                    )
                })
                .collect()
        };
        let disputes = find_disputes(&refs);
        let meeting = disputes
            .iter()
            .find(|d| d.topic.contains("meeting") && d.topic.contains("duration"))
            .map(values)
            .unwrap_or_default();
        assert!(
            meeting
                .iter()
                .any(|(d, t)| d == "000" && t.eq_ignore_ascii_case("Five-Hour")),
            "{meeting:?}"
        );
        assert!(
            meeting.iter().any(|(d, t)| d == "001" && *t == "four-hour"),
            "{meeting:?}"
        );
        assert!(
            !meeting.iter().any(|(_, t)| t.contains("over")),
            "{meeting:?}"
        );
    }
}

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
//!
//! Counts of events ([`Quantity::events`]: "has met Putin five times", "their third
//! high-level contact") are compared between claims with the same participants (the caller's
//! [`ClaimRef::participants`], as a set) and related kinds of event. Of one kind, intervals
//! that do not overlap conflict. Kinds nest: a summit is a meeting, and meetings and calls
//! are contacts, so five meetings conflict with "their third contact" (three contacts in all)
//! but not with "their third summit"; calls and meetings, or visits and anything else, never
//! meet. When both documents carry a publication time and the later one gives the higher
//! count, the sides are a [`DisputeKind::ChangeOverTime`]: the count grew between the
//! articles, neither need be wrong.

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
    /// Keys of the participants of the events the claim counts, sorted and deduplicated
    /// (for its [`Quantity::events`] quantities; empty: none known, never compared).
    pub participants: &'a [String],
    /// When the claim's document was published (seconds since the epoch), if known.
    pub published: Option<i64>,
}

/// Why claims disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisputeKind {
    /// The same measured attribute with values that cannot both hold.
    NumericMismatch,
    /// Counts of the same events that differ, the later document giving the higher count:
    /// the count grew between publications ("their second meeting", then "their third").
    ChangeOverTime,
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
    /// For counts of events, the participants every side names (entity keys, sorted); empty
    /// otherwise.
    pub participants: Vec<String>,
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
///     ClaimRef { document: "a", claim: &a[0], subjects: &who, participants: &[], published: None },
///     ClaimRef { document: "b", claim: &b[0], subjects: &who, participants: &[], published: None },
/// ];
/// assert_eq!(find_disputes(&refs).len(), 1);
/// ```
pub fn find_disputes(claims: &[ClaimRef<'_>]) -> Vec<Dispute> {
    // (subject, dimension, head class) → sides.
    let mut groups: BTreeMap<GroupKey<'_>, Vec<(DisputeSide, &Quantity)>> = BTreeMap::new();
    for (ci, c) in claims.iter().enumerate() {
        for (qi, q) in c.claim.quantities.iter().enumerate() {
            if q.events {
                continue; // compared by participants below
            }
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
            participants: Vec::new(),
            kind: DisputeKind::NumericMismatch,
            sides: chosen,
        });
    }
    out.extend(count_disputes(claims));
    out
}

/// True when every event of kind `inner` is also one of kind `outer` (a summit is a meeting;
/// meetings, summits and calls are contacts).
fn within(inner: &str, outer: &str) -> bool {
    inner == outer
        || matches!(
            (inner, outer),
            ("summit", "meeting") | ("summit" | "meeting" | "call", "contact")
        )
}

/// True when `a` events can be `b` events at all: one kind includes the other.
fn related(a: &str, b: &str) -> bool {
    within(a, b) || within(b, a)
}

/// How two counts of events (`a` of kind `qa.head`, `b` of kind `qb.head`) disagree, if they
/// do: of one kind, when their intervals do not overlap; of nested kinds, when the narrower
/// count is surely above the wider one (five meetings, three contacts).
fn counts_conflict(qa: &Quantity, qb: &Quantity) -> bool {
    let (ha, hb) = (qa.head.as_str(), qb.head.as_str());
    if ha == hb {
        return !qa.overlaps(qb);
    }
    let (narrow, wide) = if within(ha, hb) { (qa, qb) } else { (qb, qa) };
    // The narrow count's least value above the wide count's greatest.
    match (narrow.lower, wide.upper) {
        (Some(l), Some(u)) => {
            l > u || (l == u && !(narrow.lower_inclusive && wide.upper_inclusive))
        }
        _ => false,
    }
}

/// Disputes between counts of events with the same participants (see the module's notes).
fn count_disputes(claims: &[ClaimRef<'_>]) -> Vec<Dispute> {
    // Participants → (side, its count).
    let mut groups: BTreeMap<&[String], Vec<(DisputeSide, &Quantity)>> = BTreeMap::new();
    for (ci, c) in claims.iter().enumerate() {
        if c.participants.is_empty() {
            continue;
        }
        for (qi, q) in c.claim.quantities.iter().enumerate() {
            if q.events && !q.head.is_empty() {
                groups.entry(c.participants).or_default().push((
                    DisputeSide {
                        claim: ci,
                        quantity: qi,
                    },
                    q,
                ));
            }
        }
    }
    let mut out = Vec::new();
    for (participants, sides) in groups {
        // Per kind of dispute, the sides in one.
        let mut chosen: [Vec<DisputeSide>; 2] = [Vec::new(), Vec::new()];
        let mut kinds: [Vec<&str>; 2] = [Vec::new(), Vec::new()];
        for i in 0..sides.len() {
            for j in i + 1..sides.len() {
                let ((a, qa), (b, qb)) = (sides[i], sides[j]);
                let (ca, cb) = (&claims[a.claim], &claims[b.claim]);
                if ca.document == cb.document
                    || !related(&qa.head, &qb.head)
                    || !counts_conflict(qa, qb)
                {
                    continue;
                }
                // The later document counting more: the count grew.
                let grew = match (ca.published, cb.published) {
                    (Some(ta), Some(tb)) if ta != tb => (ta < tb) == (qa.value < qb.value),
                    _ => false,
                };
                let k = usize::from(grew);
                for (side, q) in [(a, qa), (b, qb)] {
                    if !chosen[k].contains(&side) {
                        chosen[k].push(side);
                    }
                    if !kinds[k].contains(&q.head.as_str()) {
                        kinds[k].push(q.head.as_str());
                    }
                }
            }
        }
        for (k, (mut sides, mut kinds)) in chosen.into_iter().zip(kinds).enumerate() {
            if sides.is_empty() {
                continue;
            }
            sides.sort_by_key(|s| (s.claim, s.quantity));
            kinds.sort_unstable();
            out.push(Dispute {
                topic: format!(
                    "{}: {} (count)",
                    participants.join(", "),
                    kinds.join(" and ")
                ),
                subject: participants[0].clone(),
                participants: participants.to_vec(),
                kind: if k == 1 {
                    DisputeKind::ChangeOverTime
                } else {
                    DisputeKind::NumericMismatch
                },
                sides,
            });
        }
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
                participants: &[],
                published: None,
            })
            .collect();
        refs.extend(cb.iter().map(|c| ClaimRef {
            document: "b",
            claim: c,
            subjects: &sb,
            participants: &[],
            published: None,
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
mod count_tests {
    use super::*;
    use crate::analysis::claims::extract_claims;
    use crate::analysis::{sentences::split_sentences, tokenize::tokenize};

    /// One document: its text, participants and publication time.
    struct Doc<'a> {
        text: &'a str,
        participants: &'a [&'a str],
        published: Option<i64>,
    }

    fn doc<'a>(text: &'a str, participants: &'a [&'a str]) -> Doc<'a> {
        Doc {
            text,
            participants,
            published: None,
        }
    }

    /// The disputes among `docs`, each as its kind and (document, value) sides.
    fn count_disputes_of(docs: &[Doc<'_>]) -> Vec<(DisputeKind, Vec<(usize, f64)>)> {
        let claims: Vec<Vec<Claim>> = docs
            .iter()
            .map(|d| {
                let t = tokenize(d.text);
                extract_claims(d.text, &t, &split_sentences(d.text, &t), &[])
            })
            .collect();
        let names: Vec<String> = (0..docs.len()).map(|i| i.to_string()).collect();
        let parts: Vec<Vec<String>> = docs
            .iter()
            .map(|d| {
                let mut p: Vec<String> = d.participants.iter().map(|s| s.to_string()).collect();
                p.sort();
                p
            })
            .collect();
        let mut refs = Vec::new();
        let mut doc_of = Vec::new();
        for (i, cs) in claims.iter().enumerate() {
            for c in cs {
                refs.push(ClaimRef {
                    document: &names[i],
                    claim: c,
                    subjects: &parts[i],
                    participants: &parts[i],
                    published: docs[i].published,
                });
                doc_of.push(i);
            }
        }
        find_disputes(&refs)
            .into_iter()
            .map(|d| {
                let sides = d
                    .sides
                    .iter()
                    .map(|s| {
                        (
                            doc_of[s.claim],
                            refs[s.claim].claim.quantities[s.quantity].value,
                        )
                    })
                    .collect();
                (d.kind, sides)
            })
            .collect()
    }

    const LEADERS: &[&str] = &["macron", "scholz"];

    #[test]
    fn different_counts_of_meetings_are_a_dispute() {
        // A cardinal "N times" after "met" against an ordinal "their sixth meeting".
        let d = count_disputes_of(&[
            doc("Macron has met Scholz four times since January.", LEADERS),
            doc(
                "The two leaders sat down on Tuesday for their sixth meeting.",
                LEADERS,
            ),
        ]);
        assert_eq!(
            d,
            [(DisputeKind::NumericMismatch, vec![(0, 4.0), (1, 6.0)])]
        );
        // Agreeing counts, and a count in one document only, are no dispute.
        assert!(count_disputes_of(&[
            doc("Macron has met Scholz three times since January.", LEADERS),
            doc("It was their third meeting.", LEADERS),
        ])
        .is_empty());
        assert!(count_disputes_of(&[doc(
            "Macron met Scholz four times. It was their sixth meeting.",
            LEADERS
        )])
        .is_empty());
    }

    #[test]
    fn calls_visits_and_summits_are_counted_as_their_own_kinds() {
        let d = count_disputes_of(&[
            doc(
                "Sunak called Modi twice last month and three times in May.",
                LEADERS,
            ),
            doc("On Friday the two men held a second phone call.", LEADERS),
        ]);
        assert_eq!(
            d,
            [(DisputeKind::NumericMismatch, vec![(0, 3.0), (1, 2.0)])]
        );
        let d = count_disputes_of(&[
            doc("Albanese has visited Beijing four times.", LEADERS),
            doc(
                "It is the prime minister's second visit to Beijing.",
                LEADERS,
            ),
        ]);
        assert_eq!(
            d,
            [(DisputeKind::NumericMismatch, vec![(0, 4.0), (1, 2.0)])]
        );
        // Kinds that do not include each other never meet: calls and meetings, visits and
        // talks.
        assert!(count_disputes_of(&[
            doc("Sunak called Modi three times.", LEADERS),
            doc("They held their fifth meeting in Delhi.", LEADERS),
        ])
        .is_empty());
        assert!(count_disputes_of(&[
            doc("Albanese has visited Beijing four times.", LEADERS),
            doc("The two held a second round of talks.", LEADERS),
        ])
        .is_empty());
    }

    #[test]
    fn nested_kinds_conflict_only_when_the_narrower_count_is_higher() {
        // Five meetings cannot be three contacts in all.
        let d = count_disputes_of(&[
            doc("Lula has met Milei five times over the past year.", LEADERS),
            doc(
                "Tuesday's talks were their third high-level contact this year.",
                LEADERS,
            ),
        ]);
        assert_eq!(
            d,
            [(DisputeKind::NumericMismatch, vec![(0, 5.0), (1, 3.0)])]
        );
        // Three summits among five meetings are possible; five summits among three meetings
        // are not.
        assert!(count_disputes_of(&[
            doc("Lula has met Milei five times.", LEADERS),
            doc("Brasilia hosted their third summit.", LEADERS),
        ])
        .is_empty());
        let d = count_disputes_of(&[
            doc("Lula has met Milei three times.", LEADERS),
            doc("Brasilia hosted their fifth summit.", LEADERS),
        ]);
        assert_eq!(d.len(), 1, "{d:?}");
        // Seven contacts can include five meetings.
        assert!(count_disputes_of(&[
            doc("Lula has met Milei five times.", LEADERS),
            doc("It was their seventh contact.", LEADERS),
        ])
        .is_empty());
    }

    #[test]
    fn a_higher_count_published_later_is_a_change_over_time() {
        let (day1, day9) = (Some(1_700_000_000), Some(1_700_000_000 + 8 * 86_400));
        let earlier = Doc {
            published: day1,
            ..doc(
                "Rutte and Erdogan held their second meeting in Ankara.",
                LEADERS,
            )
        };
        let later = Doc {
            published: day9,
            ..doc("Rutte has now met Erdogan three times.", LEADERS)
        };
        let d = count_disputes_of(&[earlier, later]);
        assert_eq!(d, [(DisputeKind::ChangeOverTime, vec![(0, 2.0), (1, 3.0)])]);
        // The later one lower: a mismatch.
        let d = count_disputes_of(&[
            Doc {
                published: day9,
                ..doc(
                    "Rutte and Erdogan held their second meeting in Ankara.",
                    LEADERS,
                )
            },
            Doc {
                published: day1,
                ..doc("Rutte has now met Erdogan three times.", LEADERS)
            },
        ]);
        assert_eq!(
            d,
            [(DisputeKind::NumericMismatch, vec![(0, 2.0), (1, 3.0)])]
        );
        // One date missing: a mismatch.
        let d = count_disputes_of(&[
            doc(
                "Rutte and Erdogan held their second meeting in Ankara.",
                LEADERS,
            ),
            Doc {
                published: day9,
                ..doc("Rutte has now met Erdogan three times.", LEADERS)
            },
        ]);
        assert_eq!(
            d,
            [(DisputeKind::NumericMismatch, vec![(0, 2.0), (1, 3.0)])]
        );
    }

    #[test]
    fn other_participants_people_and_factors_are_no_dispute() {
        // Other participants.
        assert!(count_disputes_of(&[
            doc("Macron has met Scholz four times.", &["macron", "scholz"]),
            doc("It was their sixth meeting.", &["macron", "meloni"]),
        ])
        .is_empty());
        // A count of people, a factor and a rate count no events.
        assert!(count_disputes_of(&[
            doc("Five people met the minister on Monday.", LEADERS),
            doc("Two ministers attended the summit.", LEADERS),
            doc(
                "The new jets are five times more expensive than the meeting room.",
                LEADERS
            ),
            doc("The two met three times a week.", LEADERS),
            doc("They held their ninth meeting.", &[]),
        ])
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
                    participants: &[],
                    published: None,
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

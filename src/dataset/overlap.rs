//! Validation tickets that repeat training tickets, so that validation scores would
//! measure memory rather than generalisation: the same text up to case, spacing and
//! punctuation ([`normalise_text`], as the duplicate checks compare), or nearly the
//! same text (the sets of words of the two normalised texts have a Jaccard similarity
//! of at least [`NEAR_DUPLICATE_JACCARD`]).
//!
//! Near duplicates are found with prefix filtering (Bayardo et al., "Scaling up all
//! pairs similarity search", 2007): words ordered rarest first, two texts whose
//! similarity reaches the threshold share a word among their first few, so only texts
//! that share a rare word are compared, and each candidate pair is measured exactly.
//! The result is exact (no sampling, unlike MinHash), and fast on short tickets.

use super::quality::normalise_text;
use super::Example;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Two texts whose word sets have at least this Jaccard similarity count as the same
/// ticket: one word changed in a ticket of nine or more words, or the same words in
/// another order. In a shorter ticket one changed word already falls below it (a
/// changed number or name in a short templated ticket is another ticket).
pub const NEAR_DUPLICATE_JACCARD: f64 = 0.8;

/// Most pairs an [`Overlap`] lists (its counts cover them all).
pub const PAIRS_SHOWN: usize = 50;

/// A validation ticket and the training ticket most like it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct OverlapPair {
    /// The training ticket's line in the training file.
    pub training_line: usize,
    /// The validation ticket's line in its own file (the training file for a split).
    pub validation_line: usize,
    /// Jaccard similarity of the two texts' word sets (1 for the same text).
    pub similarity: f64,
    /// The same text up to case, spacing and punctuation.
    pub exact: bool,
}

/// Validation tickets that repeat training tickets: how many, and the first pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Overlap {
    /// Validation tickets with the same or nearly the same text as a training ticket.
    pub rows: usize,
    /// Of those, how many have the same text up to case, spacing and punctuation.
    pub exact: usize,
    /// The similarity from which two texts count as nearly the same.
    pub threshold: f64,
    /// The first [`PAIRS_SHOWN`] pairs, in validation order.
    pub pairs: Vec<OverlapPair>,
}

impl Overlap {
    /// The overlap of `pairs` (all of them, as [`overlap_pairs`] finds them).
    pub fn of(pairs: &[OverlapPair]) -> Self {
        Self {
            rows: pairs.len(),
            exact: pairs.iter().filter(|p| p.exact).count(),
            threshold: NEAR_DUPLICATE_JACCARD,
            pairs: pairs.iter().take(PAIRS_SHOWN).cloned().collect(),
        }
    }

    /// Whether no validation ticket repeats a training ticket.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }
}

/// Every validation ticket that repeats a training ticket, paired with the training
/// ticket most like it (the first of equals), in validation order.
pub fn overlap_pairs(train: &[Example], validation: &[Example]) -> Vec<OverlapPair> {
    let train_norm: Vec<String> = train.iter().map(|e| normalise_text(&e.text)).collect();
    let val_norm: Vec<String> = validation.iter().map(|e| normalise_text(&e.text)).collect();
    let mut first_of: HashMap<&str, usize> = HashMap::new();
    for (i, norm) in train_norm.iter().enumerate() {
        first_of.entry(norm.as_str()).or_insert(i);
    }
    let words = Words::of(&train_norm, &val_norm);
    let index = words.prefix_index(train.len());
    let mut seen = vec![usize::MAX; train.len()];
    let mut pairs = Vec::new();
    for (v, norm) in val_norm.iter().enumerate() {
        if norm.is_empty() {
            continue;
        }
        let best = match first_of.get(norm.as_str()) {
            Some(&t) => Some((t, 1.0, true)),
            None => words
                .most_similar(train.len() + v, &index, &mut seen, v)
                .map(|(t, s)| (t, s, false)),
        };
        if let Some((t, similarity, exact)) = best {
            pairs.push(OverlapPair {
                training_line: train[t].line,
                validation_line: validation[v].line,
                similarity,
                exact,
            });
        }
    }
    pairs
}

/// Each text (training texts first, then validation texts) as its sorted set of word
/// ranks, rarest word first.
struct Words {
    sets: Vec<Vec<u32>>,
}

impl Words {
    fn of(train: &[String], validation: &[String]) -> Self {
        let mut ids: HashMap<&str, u32> = HashMap::new();
        let mut frequency: Vec<u32> = Vec::new();
        let mut sets: Vec<Vec<u32>> = Vec::with_capacity(train.len() + validation.len());
        for text in train.iter().chain(validation) {
            let mut set: Vec<u32> = text
                .split(' ')
                .filter(|w| !w.is_empty())
                .map(|w| {
                    let next = ids.len() as u32;
                    *ids.entry(w).or_insert(next)
                })
                .collect();
            set.sort_unstable();
            set.dedup();
            for &id in &set {
                match frequency.get_mut(id as usize) {
                    Some(n) => *n += 1,
                    None => frequency.push(1),
                }
            }
            sets.push(set);
        }
        let mut order: Vec<u32> = (0..frequency.len() as u32).collect();
        order.sort_by_key(|&id| (frequency[id as usize], id));
        let mut rank = vec![0u32; order.len()];
        for (r, &id) in order.iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        for set in &mut sets {
            for id in set.iter_mut() {
                *id = rank[*id as usize];
            }
            set.sort_unstable();
        }
        Self { sets }
    }

    /// The training texts (the first `train` sets) listed under each word of their
    /// prefix.
    fn prefix_index(&self, train: usize) -> HashMap<u32, Vec<usize>> {
        let mut index: HashMap<u32, Vec<usize>> = HashMap::new();
        for (t, set) in self.sets[..train].iter().enumerate() {
            for &word in &set[..prefix_len(set.len())] {
                index.entry(word).or_default().push(t);
            }
        }
        index
    }

    /// The training text most like set `of` with a similarity of at least the
    /// threshold, and that similarity; `stamp` marks candidates already measured.
    fn most_similar(
        &self,
        of: usize,
        index: &HashMap<u32, Vec<usize>>,
        seen: &mut [usize],
        stamp: usize,
    ) -> Option<(usize, f64)> {
        let set = &self.sets[of];
        let mut best: Option<(usize, f64)> = None;
        for word in &set[..prefix_len(set.len())] {
            for &t in index.get(word).map(Vec::as_slice).unwrap_or_default() {
                if seen[t] == stamp {
                    continue;
                }
                seen[t] = stamp;
                let other = &self.sets[t];
                let (a, b) = (set.len() as f64, other.len() as f64);
                if a.min(b) < NEAR_DUPLICATE_JACCARD * a.max(b) {
                    continue;
                }
                let similarity = jaccard(set, other);
                let better =
                    best.is_none_or(|(bt, bs)| similarity > bs || (similarity == bs && t < bt));
                if similarity >= NEAR_DUPLICATE_JACCARD && better {
                    best = Some((t, similarity));
                }
            }
        }
        best
    }
}

/// How many of a set's rarest words two sets reaching the threshold must share one of.
fn prefix_len(len: usize) -> usize {
    let needed = (NEAR_DUPLICATE_JACCARD * len as f64).ceil() as usize;
    (len + 1).saturating_sub(needed).min(len)
}

/// Jaccard similarity of two sorted sets.
fn jaccard(a: &[u32], b: &[u32]) -> f64 {
    let (mut i, mut j, mut shared) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - shared;
    if union == 0 {
        0.0
    } else {
        shared as f64 / union as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(texts: &[&str], first_line: usize) -> Vec<Example> {
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| Example {
                text: t.to_string(),
                label: "a".into(),
                line: first_line + i,
                labels: None,
            })
            .collect()
    }

    #[test]
    fn pairs_exact_and_near_repeats_and_leaves_different_tickets_alone() {
        let train = rows(
            &[
                "My card was declined at the supermarket this morning, what happened",
                "How do I change my PIN?",
                "The app crashes on login",
            ],
            2,
        );
        let val = rows(
            &[
                "the app CRASHES on login!!",
                "My card was declined at the supermarket this evening, what happened",
                "Where can I see my exchange rate?",
                "How do I change my address?",
            ],
            2,
        );
        let pairs = overlap_pairs(&train, &val);
        assert_eq!(pairs.len(), 2, "{pairs:?}");
        assert_eq!(
            pairs[0],
            OverlapPair {
                training_line: 4,
                validation_line: 2,
                similarity: 1.0,
                exact: true
            }
        );
        assert_eq!((pairs[1].training_line, pairs[1].validation_line), (2, 3));
        assert!(!pairs[1].exact);
        // 10 shared words of 12 in all.
        assert!(
            (pairs[1].similarity - 10.0 / 12.0).abs() < 1e-9,
            "{}",
            pairs[1].similarity
        );
        let overlap = Overlap::of(&pairs);
        assert_eq!((overlap.rows, overlap.exact), (2, 1));
    }

    #[test]
    fn finds_the_same_pairs_as_comparing_every_pair() {
        let words = [
            "card", "pin", "top", "up", "fee", "rate", "app", "login", "my", "the", "why", "is",
        ];
        let text = |seed: usize, n: usize| -> String {
            (0..n)
                .map(|k| words[(seed * 7 + k * (seed % 5 + 1)) % words.len()])
                .collect::<Vec<_>>()
                .join(" ")
        };
        let train: Vec<Example> = (0..300)
            .map(|i| Example {
                text: text(i, 6 + i % 7),
                label: "a".into(),
                line: i + 2,
                labels: None,
            })
            .collect();
        let val: Vec<Example> = (0..120)
            .map(|i| Example {
                text: text(i * 3 + 1, 6 + i % 5),
                label: "a".into(),
                line: i + 2,
                labels: None,
            })
            .collect();
        let set = |t: &str| -> std::collections::BTreeSet<String> {
            normalise_text(t).split(' ').map(str::to_string).collect()
        };
        let expected: Vec<(usize, f64)> = val
            .iter()
            .filter_map(|v| {
                let sv = set(&v.text);
                train
                    .iter()
                    .map(|t| {
                        let st = set(&t.text);
                        let shared = sv.intersection(&st).count() as f64;
                        shared / ((sv.len() + st.len()) as f64 - shared)
                    })
                    .fold(None, |best: Option<f64>, s| {
                        Some(best.map_or(s, |b| b.max(s)))
                    })
                    .filter(|&s| s >= NEAR_DUPLICATE_JACCARD)
                    .map(|s| (v.line, s))
            })
            .collect();
        let found: Vec<(usize, f64)> = overlap_pairs(&train, &val)
            .iter()
            .map(|p| (p.validation_line, p.similarity))
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(found.len(), expected.len());
        for ((fl, fs), (el, es)) in found.iter().zip(&expected) {
            assert_eq!(fl, el);
            assert!((fs - es).abs() < 1e-9, "{fs} vs {es}");
        }
    }
}

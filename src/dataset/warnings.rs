//! Warnings about a file that did not stop it from being read, aggregated by kind
//! with a count and the first few line numbers.

use serde::{Deserialize, Serialize};

/// How many example line numbers a warning keeps.
const EXAMPLES: usize = 5;

/// One kind of problem, how often it occurred, and where first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Warning {
    pub kind: String,
    pub message: String,
    pub count: usize,
    pub lines: Vec<usize>,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message)?;
        if !self.lines.is_empty() {
            let lines: Vec<String> = self.lines.iter().map(usize::to_string).collect();
            let more = if self.count > self.lines.len() {
                ", …"
            } else {
                ""
            };
            write!(f, " ({}×; line {}{more})", self.count, lines.join(", "))?;
        }
        Ok(())
    }
}

/// Warnings in the order first seen, one entry per kind. Serialised as the list itself
/// (serde's newtype form).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Warnings(Vec<Warning>);

impl Warnings {
    /// Record one occurrence of `kind` at `line`; the first message of a kind is kept.
    pub fn add(&mut self, kind: &str, line: Option<usize>, message: String) {
        let entry = match self.0.iter_mut().position(|w| w.kind == kind) {
            Some(i) => &mut self.0[i],
            None => {
                self.0.push(Warning {
                    kind: kind.to_string(),
                    message,
                    count: 0,
                    lines: Vec::new(),
                });
                let last = self.0.len() - 1;
                &mut self.0[last]
            }
        };
        entry.count += 1;
        if let Some(line) = line {
            if entry.lines.len() < EXAMPLES {
                entry.lines.push(line);
            }
        }
    }

    /// All warnings.
    pub fn items(&self) -> &[Warning] {
        &self.0
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Append another set (e.g. a second file's).
    pub fn extend(&mut self, other: Warnings) {
        self.0.extend(other.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_serialise_as_their_list() {
        let mut w = Warnings::default();
        w.add("bom", Some(1), "a byte-order mark".into());
        let json = serde_json::to_value(&w).unwrap();
        assert!(json.as_array().is_some_and(|a| a.len() == 1), "{json}");
        assert_eq!(serde_json::from_value::<Warnings>(json).unwrap(), w);
    }

    #[test]
    fn aggregates_by_kind_with_a_few_lines() {
        let mut w = Warnings::default();
        for line in 2..12 {
            w.add("ragged", Some(line), "ragged rows".into());
        }
        w.add("encoding", None, "not UTF-8".into());
        assert_eq!(w.items().len(), 2);
        assert_eq!(w.items()[0].count, 10);
        assert_eq!(w.items()[0].lines, vec![2, 3, 4, 5, 6]);
        assert_eq!(
            w.items()[0].to_string(),
            "ragged rows (10×; line 2, 3, 4, 5, 6, …)"
        );
        assert_eq!(w.items()[1].to_string(), "not UTF-8");
    }
}

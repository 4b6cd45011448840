//! Label maps: raw label values → the classes to train, or dropped. Suggestions merge
//! variants that differ only by case, whitespace, punctuation or `_`/`-`/space.
//! Saved as JSON so next month's export can reuse the mapping.

use crate::atomic::write_atomic;
use crate::error::{EngineError, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// What happens to raw values the map does not mention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Unmapped {
    /// Keep them as their own class (and report them).
    #[default]
    Keep,
    /// Drop those rows (and report them).
    Drop,
}

/// Raw value → class name, or `null` to drop the row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct LabelMap {
    pub mapping: BTreeMap<String, Option<String>>,
    #[serde(default)]
    pub unmapped: Unmapped,
}

/// Raw values that look like spellings of one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct MergeSuggestion {
    /// The proposed class name (the most frequent spelling, trimmed).
    pub into: String,
    /// The raw spellings with their counts, most frequent first.
    pub members: Vec<(String, usize)>,
}

/// The key two spellings of one label share: lower case, punctuation dropped,
/// runs of whitespace, `_` and `-` made one space.
pub fn normalise_label(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut gap = false;
    for c in raw.trim().chars() {
        if c.is_whitespace() || c == '_' || c == '-' {
            gap = true;
        } else if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

impl LabelMap {
    /// The target of `raw`: `Some(Some(class))`, `Some(None)` = drop, `None` = not mapped.
    pub fn target(&self, raw: &str) -> Option<Option<&str>> {
        self.mapping
            .get(raw)
            .or_else(|| self.mapping.get(raw.trim()))
            .map(|t| t.as_deref())
    }

    /// Whether unmapped values are kept as their own class.
    pub fn keeps_unmapped(&self) -> bool {
        self.unmapped == Unmapped::Keep
    }

    /// Groups of raw values (with counts) that normalise to the same key.
    pub fn suggest_merges(counts: &BTreeMap<String, usize>) -> Vec<MergeSuggestion> {
        let mut groups: BTreeMap<String, Vec<(String, usize)>> = BTreeMap::new();
        for (raw, &n) in counts {
            groups
                .entry(normalise_label(raw))
                .or_default()
                .push((raw.clone(), n));
        }
        groups
            .into_values()
            .filter(|members| members.len() > 1)
            .map(|mut members| {
                members.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                MergeSuggestion {
                    into: members[0].0.trim().to_string(),
                    members,
                }
            })
            .collect()
    }

    /// A map that applies every suggested merge and keeps all other values as they are.
    pub fn suggested(counts: &BTreeMap<String, usize>) -> Self {
        let mut mapping: BTreeMap<String, Option<String>> = counts
            .keys()
            .map(|raw| (raw.clone(), Some(raw.trim().to_string())))
            .collect();
        for merge in Self::suggest_merges(counts) {
            for (raw, _) in merge.members {
                mapping.insert(raw, Some(merge.into.clone()));
            }
        }
        Self {
            mapping,
            unmapped: Unmapped::Keep,
        }
    }

    /// Read a map saved with [`LabelMap::save`].
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| EngineError::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| {
            EngineError::data(
                path,
                format!(
                    "is not a label map ({e}). Expected {{\"mapping\": {{\"raw value\": \"class\" or null}}, \"unmapped\": \"keep\" | \"drop\"}}"
                ),
            )
        })
    }

    /// Write as pretty JSON, atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        write_atomic(path, serde_json::to_string_pretty(self)?.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn normalises_case_space_punctuation_and_separators() {
        assert_eq!(normalise_label(" Feature_Request! "), "feature request");
        assert_eq!(normalise_label("feature-request"), "feature request");
        assert_eq!(normalise_label("FEATURE  request"), "feature request");
        assert_eq!(normalise_label("bug."), "bug");
    }

    #[test]
    fn suggests_merging_spelling_variants_into_the_most_frequent() {
        let c = counts(&[
            ("Bug", 3),
            ("bug ", 1),
            ("BUG", 10),
            ("defect", 4),
            ("feature_request", 5),
            ("Feature request", 2),
        ]);
        let merges = LabelMap::suggest_merges(&c);
        assert_eq!(merges.len(), 2);
        assert_eq!(merges[0].into, "BUG");
        assert_eq!(
            merges[0].members,
            vec![
                ("BUG".to_string(), 10),
                ("Bug".to_string(), 3),
                ("bug ".to_string(), 1)
            ]
        );
        assert_eq!(merges[1].into, "feature_request");
        let map = LabelMap::suggested(&c);
        assert_eq!(map.target("bug "), Some(Some("BUG")));
        assert_eq!(map.target("defect"), Some(Some("defect")));
    }

    #[test]
    fn round_trips_through_json_and_drops_with_null() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("map.json");
        let mut map = LabelMap::default();
        map.mapping.insert("defect".into(), Some("bug".into()));
        map.mapping.insert("spam".into(), None);
        map.unmapped = Unmapped::Drop;
        map.save(&path).unwrap();
        let back = LabelMap::load(&path).unwrap();
        assert_eq!(back, map);
        assert_eq!(back.target("spam"), Some(None));
        assert_eq!(back.target("other"), None);
        assert!(!back.keeps_unmapped());
        std::fs::write(&path, "[1,2]").unwrap();
        assert!(LabelMap::load(&path)
            .unwrap_err()
            .to_string()
            .contains("not a label map"));
    }
}

//! The data quality report: what is wrong with the data before training, each finding
//! with a severity, a count, example line numbers and a suggested fix.

use super::{Example, LabeledData};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// How much a finding matters. `Blocking` findings stop training unless forced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Severity {
    Info,
    Warning,
    Blocking,
}

/// One problem found in the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// Stable identifier, e.g. `conflicting_labels`.
    pub code: String,
    pub severity: Severity,
    /// How many rows (or classes, or groups) it concerns.
    pub count: usize,
    pub message: String,
    /// A few example line numbers.
    pub lines: Vec<usize>,
    /// What to do about it.
    pub fix: String,
}

/// All findings, most severe first, plus the class sizes they were based on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QualityReport {
    pub findings: Vec<Finding>,
    pub class_counts: Vec<(String, usize)>,
}

impl QualityReport {
    /// Whether any finding blocks training.
    pub fn is_blocking(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity == Severity::Blocking)
    }
}

/// Token-length information for the truncation finding.
pub struct Truncation<'a> {
    /// Untruncated token count of each training example (same order).
    pub token_counts: &'a [usize],
    pub max_length: usize,
}

const EXAMPLES: usize = 5;
/// Classes with fewer rows than this are flagged as very small.
pub const SMALL_CLASS: usize = 10;

/// Lower case, letters and digits only, words separated by one space.
pub fn normalise_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

fn finding(
    code: &str,
    severity: Severity,
    count: usize,
    message: String,
    lines: Vec<usize>,
    fix: &str,
) -> Finding {
    Finding {
        code: code.into(),
        severity,
        count,
        message,
        lines: lines.into_iter().take(EXAMPLES).collect(),
        fix: fix.into(),
    }
}

/// Assess `data` (training rows), with an optional separate `validation` set (which
/// enables the leakage check and relaxes the "class too small to split" block) and
/// optional token counts (which enable the truncation check).
pub fn assess(
    data: &LabeledData,
    validation: Option<&[Example]>,
    truncation: Option<Truncation>,
) -> QualityReport {
    let mut findings = Vec::new();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &data.examples {
        *counts.entry(e.label.as_str()).or_insert(0) += 1;
    }
    let class_counts: Vec<(String, usize)> =
        counts.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    let lines_of = |label: &str| -> Vec<usize> {
        data.examples
            .iter()
            .filter(|e| e.label == label)
            .map(|e| e.line)
            .take(EXAMPLES)
            .collect()
    };

    if counts.len() < 2 {
        findings.push(finding(
            "single_class",
            Severity::Blocking,
            counts.len(),
            format!(
                "only one class ({:?}): a classifier needs at least two",
                counts.keys().next().copied().unwrap_or("")
            ),
            vec![],
            "check --label-column, or add examples of the other classes",
        ));
    }
    for (label, &n) in &counts {
        if n < 2 && validation.is_none() && counts.len() >= 2 {
            findings.push(finding(
                "class_too_small_to_split",
                Severity::Blocking,
                n,
                format!("class '{label}' has {n} example: it cannot appear in both training and validation"),
                lines_of(label),
                "merge it into another class with a label map, drop it, or add examples",
            ));
        } else if n < SMALL_CLASS {
            findings.push(finding(
                "small_class",
                Severity::Warning,
                n,
                format!("class '{label}' has only {n} examples: the model will rarely predict it"),
                lines_of(label),
                "add examples (aim for 50+), or merge it into a related class",
            ));
        }
    }
    if let (Some((big, &max)), Some((small, &min))) = (
        counts.iter().max_by_key(|(_, &n)| n),
        counts.iter().min_by_key(|(_, &n)| n),
    ) {
        let ratio = max as f64 / min.max(1) as f64;
        if counts.len() >= 2 && ratio >= 3.0 {
            findings.push(finding(
                "class_imbalance",
                if ratio >= 10.0 { Severity::Warning } else { Severity::Info },
                counts.len(),
                format!("classes are imbalanced: '{big}' has {max} rows, '{small}' has {min} ({ratio:.1}:1)"),
                vec![],
                "collect more examples of the small classes, merge them, or pick the best model by macro-F1",
            ));
        }
    }
    if data.skipped_empty_text > 0 {
        findings.push(finding(
            "empty_text",
            Severity::Warning,
            data.skipped_empty_text,
            format!(
                "{} rows have an empty text and are skipped",
                data.skipped_empty_text
            ),
            data.empty_text_lines.clone(),
            "check the text column(s); add another column (e.g. subject) to compose the text from",
        ));
    }
    if data.skipped_empty_label > 0 {
        findings.push(finding(
            "empty_label",
            Severity::Info,
            data.skipped_empty_label,
            format!(
                "{} rows have no label and are skipped",
                data.skipped_empty_label
            ),
            vec![],
            "label them if they matter, or ignore this",
        ));
    }
    if !data.unmapped.is_empty() {
        let n: usize = data.unmapped.values().sum();
        let names: Vec<String> = data
            .unmapped
            .keys()
            .take(8)
            .map(|k| format!("'{k}'"))
            .collect();
        findings.push(finding(
            "unmapped_labels",
            Severity::Warning,
            n,
            format!(
                "{} label values are not in the label map ({n} rows): {}",
                data.unmapped.len(),
                names.join(", ")
            ),
            vec![],
            "add them to the label map (as a class, or null to drop them)",
        ));
    }

    let near_empty: Vec<usize> = data
        .examples
        .iter()
        .filter(|e| e.text.chars().filter(|c| c.is_alphanumeric()).count() < 5)
        .map(|e| e.line)
        .collect();
    if !near_empty.is_empty() {
        findings.push(finding(
            "near_empty_text",
            Severity::Warning,
            near_empty.len(),
            format!(
                "{} texts have fewer than 5 letters or digits",
                near_empty.len()
            ),
            near_empty,
            "drop them, or compose the text from more columns",
        ));
    }
    let garbled: Vec<usize> = data
        .examples
        .iter()
        .filter(|e| {
            let total = e.text.chars().count().max(1);
            let bad = e
                .text
                .chars()
                .filter(|&c| {
                    c == '\u{fffd}' || (c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
                })
                .count();
            bad * 20 > total
        })
        .map(|e| e.line)
        .collect();
    if !garbled.is_empty() {
        findings.push(finding(
            "non_text",
            Severity::Warning,
            garbled.len(),
            format!(
                "{} texts look like binary or mis-decoded data",
                garbled.len()
            ),
            garbled,
            "check the file's encoding (save it as UTF-8) and that the text column holds text",
        ));
    }

    duplicates(data, &mut findings);
    if let Some(val) = validation {
        let train: std::collections::HashSet<String> = data
            .examples
            .iter()
            .map(|e| normalise_text(&e.text))
            .collect();
        let leaked: Vec<usize> = val
            .iter()
            .filter(|e| train.contains(&normalise_text(&e.text)))
            .map(|e| e.line)
            .collect();
        if !leaked.is_empty() {
            findings.push(finding(
                "leakage",
                Severity::Warning,
                leaked.len(),
                format!("{} validation texts also occur in training: validation scores will look better than they are", leaked.len()),
                leaked,
                "remove duplicates across the two files",
            ));
        }
    }
    if let Some(t) = truncation {
        let long: Vec<usize> = data
            .examples
            .iter()
            .zip(t.token_counts)
            .filter(|(_, &n)| n > t.max_length)
            .map(|(e, _)| e.line)
            .collect();
        let share = long.len() as f64 / data.examples.len().max(1) as f64;
        if !long.is_empty() {
            findings.push(finding(
                "truncation",
                if share > 0.2 { Severity::Warning } else { Severity::Info },
                long.len(),
                format!(
                    "{:.1}% of texts ({}) are longer than {} tokens and will be cut",
                    share * 100.0,
                    long.len(),
                    t.max_length
                ),
                long,
                "raise --max-length (up to the model's limit), or put the most telling part first (subject before body)",
            ));
        }
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    QualityReport {
        findings,
        class_counts,
    }
}

fn duplicates(data: &LabeledData, findings: &mut Vec<Finding>) {
    let mut exact: HashMap<&str, usize> = HashMap::new();
    let mut exact_lines = Vec::new();
    let mut exact_count = 0;
    let mut by_norm: HashMap<String, (&str, &str)> = HashMap::new();
    let mut norm_lines = Vec::new();
    let mut norm_count = 0;
    let mut conflicts: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for e in &data.examples {
        if exact.insert(e.text.as_str(), e.line).is_some() {
            exact_count += 1;
            exact_lines.push(e.line);
        }
        let norm = normalise_text(&e.text);
        match by_norm.get(&norm) {
            None => {
                by_norm.insert(norm, (e.text.as_str(), e.label.as_str()));
            }
            Some(&(text, label)) => {
                if text != e.text {
                    norm_count += 1;
                    norm_lines.push(e.line);
                }
                if label != e.label {
                    conflicts.entry(norm).or_default().push(e.line);
                }
            }
        }
    }
    if exact_count > 0 {
        let share = exact_count as f64 / data.examples.len() as f64;
        findings.push(finding(
            "exact_duplicates",
            if share > 0.05 { Severity::Warning } else { Severity::Info },
            exact_count,
            format!("{exact_count} rows repeat an earlier text exactly ({:.1}%)", share * 100.0),
            exact_lines,
            "remove repeats so they do not weigh more in training (and cannot leak into validation)",
        ));
    }
    if norm_count > 0 {
        findings.push(finding(
            "near_duplicates",
            Severity::Info,
            norm_count,
            format!("{norm_count} rows repeat an earlier text up to case, spacing or punctuation"),
            norm_lines,
            "remove them if they are the same ticket",
        ));
    }
    if !conflicts.is_empty() {
        let rows: usize = conflicts.values().map(Vec::len).sum();
        findings.push(finding(
            "conflicting_labels",
            Severity::Warning,
            conflicts.len(),
            format!(
                "{} texts appear with different labels ({rows} conflicting rows)",
                conflicts.len()
            ),
            conflicts.values().flatten().copied().collect(),
            "decide on one label per text (fix the rows or merge the classes)",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(rows: &[(&str, &str)]) -> LabeledData {
        let examples: Vec<Example> = rows
            .iter()
            .enumerate()
            .map(|(i, (t, l))| Example {
                text: t.to_string(),
                label: l.to_string(),
                line: i + 2,
            })
            .collect();
        let mut labels: Vec<String> = examples.iter().map(|e| e.label.clone()).collect();
        labels.sort();
        labels.dedup();
        LabeledData {
            examples,
            labels,
            ..Default::default()
        }
    }

    fn codes(r: &QualityReport) -> Vec<&str> {
        r.findings.iter().map(|f| f.code.as_str()).collect()
    }

    #[test]
    fn finds_duplicates_conflicts_and_near_empty_texts() {
        let d = data(&[
            ("App crashes on login", "bug"),
            ("app crashes on login!", "bug"),
            ("App crashes on login", "bug"),
            ("please add dark mode", "feature"),
            ("Please add dark mode.", "question"),
            ("ok", "question"),
        ]);
        let r = assess(&d, None, None);
        let find = |c: &str| r.findings.iter().find(|f| f.code == c).unwrap();
        assert_eq!(find("exact_duplicates").count, 1);
        assert_eq!(find("exact_duplicates").lines, vec![4]);
        assert_eq!(find("near_duplicates").count, 2);
        assert_eq!(find("conflicting_labels").lines, vec![6]);
        assert_eq!(find("near_empty_text").lines, vec![7]);
        assert_eq!(
            find("class_too_small_to_split").message,
            "class 'feature' has 1 example: it cannot appear in both training and validation"
        );
        assert!(r.is_blocking());
        assert_eq!(r.findings[0].severity, Severity::Blocking);
    }

    #[test]
    fn single_class_blocks_and_imbalance_is_measured() {
        let one = data(&[("a long enough text", "bug"), ("another long text", "bug")]);
        assert_eq!(
            codes(&assess(&one, None, None)),
            vec!["single_class", "small_class"]
        );
        let mut rows = vec![("text number one here", "big"); 0];
        let texts: Vec<String> = (0..40).map(|i| format!("ticket text {i}")).collect();
        for (i, t) in texts.iter().enumerate() {
            rows.push((t.as_str(), if i < 36 { "big" } else { "small" }));
        }
        let r = assess(&data(&rows), None, None);
        let imb = r
            .findings
            .iter()
            .find(|f| f.code == "class_imbalance")
            .unwrap();
        assert_eq!(imb.severity, Severity::Info);
        assert!(imb.message.contains("9.0:1"), "{}", imb.message);
        assert!(!r.is_blocking());
    }

    #[test]
    fn leakage_truncation_and_garbled_text() {
        let d = data(&[
            ("first ticket text", "a"),
            ("second ticket text", "b"),
            ("\u{fffd}\u{fffd}\u{fffd}x\u{1}\u{2}", "b"),
            ("third ticket", "a"),
        ]);
        let val = vec![Example {
            text: "First ticket text.".into(),
            label: "a".into(),
            line: 9,
        }];
        let r = assess(
            &d,
            Some(&val),
            Some(Truncation {
                token_counts: &[3, 200, 5, 300],
                max_length: 128,
            }),
        );
        let find = |c: &str| r.findings.iter().find(|f| f.code == c).unwrap();
        assert_eq!(find("leakage").lines, vec![9]);
        assert_eq!(find("truncation").count, 2);
        assert_eq!(find("truncation").severity, Severity::Warning);
        assert!(find("truncation").message.starts_with("50.0%"));
        assert_eq!(find("non_text").lines, vec![4]);
    }

    #[test]
    fn skipped_rows_and_unmapped_labels_are_reported() {
        let mut d = data(&[
            ("a ticket about login", "bug"),
            ("a ticket about dark mode", "feature"),
        ]);
        d.skipped_empty_text = 3;
        d.empty_text_lines = vec![4, 9, 11];
        d.skipped_empty_label = 2;
        d.unmapped.insert("defect".into(), 5);
        let r = assess(&d, None, None);
        let find = |c: &str| r.findings.iter().find(|f| f.code == c).unwrap();
        assert_eq!(find("empty_text").lines, vec![4, 9, 11]);
        assert_eq!(find("empty_label").severity, Severity::Info);
        assert_eq!(find("unmapped_labels").count, 5);
        assert!(find("unmapped_labels").message.contains("'defect'"));
    }
}

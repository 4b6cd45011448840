//! The data quality report: what is wrong with the data before training, each finding
//! with a severity, a count, example line numbers and a suggested fix.

use super::overlap::{overlap_pairs, Overlap};
use super::{Example, LabeledData};
use crate::setting::Setting;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// How much a finding matters. `Blocking` findings stop training unless forced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub enum Severity {
    Info,
    Warning,
    Blocking,
}

/// One problem found in the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
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
    /// The setting the fix involves, if any (the CLI names its flag, the app its control).
    #[serde(default)]
    pub setting: Option<Setting>,
}

impl Finding {
    /// This finding, with the setting its fix involves.
    fn about(self, setting: Setting) -> Self {
        Self {
            setting: Some(setting),
            ..self
        }
    }
}

/// All findings, most severe first, plus the class sizes they were based on and the
/// checks that could not be made (and why).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct QualityReport {
    pub findings: Vec<Finding>,
    pub class_counts: Vec<(String, usize)>,
    #[serde(default)]
    pub not_measured: Vec<NotMeasured>,
    /// Validation tickets that repeat training tickets, when the leakage check was made
    /// (the `leakage` finding counts them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub overlap: Option<Overlap>,
}

/// A check that was not made, so "no finding" says nothing about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct NotMeasured {
    /// The finding's code, e.g. `truncation` or `leakage`.
    pub code: String,
    /// Why not, and when it will be.
    pub reason: String,
}

impl QualityReport {
    /// Whether any finding blocks training.
    pub fn is_blocking(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity == Severity::Blocking)
    }

    /// Record that check `code` was not made, and why.
    pub fn not_measured(&mut self, code: &str, reason: impl Into<String>) {
        self.not_measured.push(NotMeasured {
            code: code.into(),
            reason: reason.into(),
        });
    }

    /// Add a finding, keeping the most severe first.
    pub fn add(&mut self, finding: Finding) {
        self.findings.push(finding);
        self.findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
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
/// Most classes a model is trained on: a label column with more distinct values is
/// most likely an id or free text.
pub const MAX_CLASSES: usize = 1_000;

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
        setting: None,
    }
}

/// An error when `classes` is more than a model is trained on ([`MAX_CLASSES`]).
pub fn check_class_count(classes: usize) -> crate::error::Result<()> {
    if classes > MAX_CLASSES {
        return Err(crate::error::EngineError::Config(format!(
            "{}; {}",
            too_many_classes_message(classes),
            TOO_MANY_CLASSES_FIX
        )));
    }
    Ok(())
}

fn too_many_classes_message(classes: usize) -> String {
    format!(
        "the label column has {classes} different values (at most {MAX_CLASSES} classes are supported): \
         it looks like an id or free-text column, not a label"
    )
}

const TOO_MANY_CLASSES_FIX: &str =
    "pick the column that holds the category, or map the values onto fewer classes with a label map";

/// Per class: its row count and the first few line numbers.
#[derive(Default)]
struct ClassRows {
    count: usize,
    lines: Vec<usize>,
}

/// Examples that look empty or garbled, gathered in the same pass as the classes.
#[derive(Default)]
struct TextChecks {
    near_empty: (usize, Vec<usize>),
    garbled: (usize, Vec<usize>),
}

fn looks_garbled(text: &str) -> bool {
    let (mut total, mut bad) = (0usize, 0usize);
    for c in text.chars() {
        total += 1;
        if c == '\u{fffd}' || (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            bad += 1;
        }
    }
    bad * 20 > total.max(1)
}

/// Assess `data` (training rows), with an optional separate `validation` set (which
/// enables the leakage check and relaxes the "class too small to split" block) and
/// optional token counts (which enable the truncation check). Each check is one
/// function below; the rows are tallied once for all of them.
pub fn assess(
    data: &LabeledData,
    validation: Option<&[Example]>,
    truncation: Option<Truncation>,
) -> QualityReport {
    let tally = Tally::of(data);
    let classes = &tally.classes;
    let repeats = Repeats::of(data);
    let too_many = too_many_classes(classes);
    let per_class = if too_many.is_some() {
        Vec::new()
    } else {
        // A multi-label split keeps a class's single row in training: no block.
        let multi_label = data.examples.iter().any(|e| e.labels.is_some());
        let mut sizes = class_sizes(classes, validation.is_some() || multi_label);
        sizes.extend(class_imbalance(classes, multi_label));
        sizes
    };
    let mut findings: Vec<Finding> = single_class(classes)
        .into_iter()
        .chain(too_many)
        .chain(per_class)
        .chain(empty_texts(data))
        .chain(empty_labels(data))
        .chain(unmapped_labels(data))
        .chain(near_empty_texts(&tally))
        .chain(non_text(&tally))
        .chain(exact_duplicates(&repeats, data.examples.len()))
        .chain(near_duplicates(&repeats))
        .chain(conflicting_labels(&repeats))
        .chain(truncation.and_then(|t| truncation_finding(&data.examples, &t)))
        .collect();
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let mut report = QualityReport {
        findings,
        class_counts: classes
            .iter()
            .map(|(k, c)| (k.to_string(), c.count))
            .collect(),
        not_measured: Vec::new(),
        overlap: None,
    };
    if let Some(val) = validation {
        leakage(
            &mut report,
            &data.examples,
            val,
            VALIDATION_FILE_LEAKAGE_FIX,
        );
    }
    report
}

/// What to do about validation-file tickets that repeat training tickets.
const VALIDATION_FILE_LEAKAGE_FIX: &str = "remove them from the validation file (the pairs name \
     both lines), or leave them out of this run (--drop-overlap; in the app, \"Leave them out\")";

/// The rows counted once for the checks: per class, and texts that look empty or
/// garbled.
struct Tally<'a> {
    classes: BTreeMap<&'a str, ClassRows>,
    texts: TextChecks,
}

impl<'a> Tally<'a> {
    fn of(data: &'a LabeledData) -> Self {
        let mut classes: BTreeMap<&str, ClassRows> = BTreeMap::new();
        let mut texts = TextChecks::default();
        for e in &data.examples {
            // A multi-label ticket counts once for each of its classes.
            for label in e.classes() {
                let class = classes.entry(label).or_default();
                class.count += 1;
                if class.lines.len() < EXAMPLES {
                    class.lines.push(e.line);
                }
            }
            let letters = e.text.chars().filter(|c| c.is_alphanumeric()).take(5);
            if letters.count() < 5 {
                note_into(&mut texts.near_empty.0, &mut texts.near_empty.1, e.line);
            }
            if looks_garbled(&e.text) {
                note_into(&mut texts.garbled.0, &mut texts.garbled.1, e.line);
            }
        }
        Self { classes, texts }
    }
}

/// `single_class`: a classifier needs two classes.
fn single_class(classes: &BTreeMap<&str, ClassRows>) -> Option<Finding> {
    (classes.len() < 2).then(|| {
        finding(
            "single_class",
            Severity::Blocking,
            classes.len(),
            format!(
                "only one class ({:?}): a classifier needs at least two",
                classes.keys().next().copied().unwrap_or("")
            ),
            vec![],
            "check the label column, or add examples of the other classes",
        )
        .about(Setting::LabelColumn)
    })
}

/// `too_many_classes`: more classes than a model is trained on.
fn too_many_classes(classes: &BTreeMap<&str, ClassRows>) -> Option<Finding> {
    (classes.len() > MAX_CLASSES).then(|| {
        finding(
            "too_many_classes",
            Severity::Blocking,
            classes.len(),
            too_many_classes_message(classes.len()),
            vec![],
            TOO_MANY_CLASSES_FIX,
        )
    })
}

/// `class_too_small_to_split` (one row, no validation file) and `small_class`, per
/// class.
fn class_sizes(classes: &BTreeMap<&str, ClassRows>, separate_validation: bool) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (label, class) in classes {
        let n = class.count;
        if n < 2 && !separate_validation && classes.len() >= 2 {
            findings.push(finding(
                "class_too_small_to_split",
                Severity::Blocking,
                n,
                format!("class '{label}' has {n} example: it cannot appear in both training and validation"),
                class.lines.clone(),
                "merge it into another class with a label map, drop it, or add examples",
            ));
        } else if n < SMALL_CLASS {
            findings.push(finding(
                "small_class",
                Severity::Warning,
                n,
                format!("class '{label}' has only {n} examples: the model will rarely predict it"),
                class.lines.clone(),
                "add examples (aim for 50+), or merge it into a related class",
            ));
        }
    }
    findings
}

/// The largest class's rows over the smallest's from which imbalance is strong: the
/// plain loss then mostly learns the big classes. Any class below a tenth of the
/// average class's share (1 / (10 K)) is strong imbalance too, since the largest
/// class is at least average.
pub const STRONG_IMBALANCE: f64 = 10.0;

/// `class_imbalance`: the largest class has 3× (info) or [`STRONG_IMBALANCE`]×
/// (warning, recommending class weights and macro-F1) the rows of the smallest.
/// Label sets (`multi_label`) are not weighed by class: their advice is macro-F1.
fn class_imbalance(classes: &BTreeMap<&str, ClassRows>, multi_label: bool) -> Option<Finding> {
    let (big, max) = classes.iter().max_by_key(|(_, c)| c.count)?;
    let (small, min) = classes.iter().min_by_key(|(_, c)| c.count)?;
    let (max, min) = (max.count, min.count);
    let ratio = max as f64 / min.max(1) as f64;
    let message = format!(
        "classes are imbalanced: '{big}' has {max} rows, '{small}' has {min} ({ratio:.1}:1)"
    );
    if classes.len() < 2 || ratio < 3.0 {
        return None;
    }
    let (severity, fix, setting) = if ratio >= STRONG_IMBALANCE && multi_label {
        (
            Severity::Warning,
            "pick the best epoch by macro-F1 (--best-metric macro-f1) so rare labels count; or \
             collect more examples of the rare labels",
            Setting::BestMetric,
        )
    } else if ratio >= STRONG_IMBALANCE {
        (
            Severity::Warning,
            "train with class weights (effective) so small classes count in the loss, and pick \
             the best epoch by macro-F1 (--best-metric macro-f1); or collect more examples of \
             the small classes, or merge them",
            Setting::ClassWeights,
        )
    } else {
        (
            Severity::Info,
            "collect more examples of the small classes, merge them, or pick the best model by macro-F1",
            Setting::BestMetric,
        )
    };
    Some(
        finding(
            "class_imbalance",
            severity,
            classes.len(),
            message,
            vec![],
            fix,
        )
        .about(setting),
    )
}

/// `empty_text`: rows skipped for an empty text.
fn empty_texts(data: &LabeledData) -> Option<Finding> {
    (data.skipped_empty_text > 0).then(|| {
        finding(
            "empty_text",
            Severity::Warning,
            data.skipped_empty_text,
            format!(
                "{} rows have an empty text and are skipped",
                data.skipped_empty_text
            ),
            data.empty_text_lines.clone(),
            "check the text column(s); add another column (e.g. subject) to compose the text from",
        )
        .about(Setting::TextColumn)
    })
}

/// `empty_label`: rows skipped for an empty label.
fn empty_labels(data: &LabeledData) -> Option<Finding> {
    (data.skipped_empty_label > 0).then(|| {
        finding(
            "empty_label",
            Severity::Info,
            data.skipped_empty_label,
            format!(
                "{} rows have no label and are skipped",
                data.skipped_empty_label
            ),
            vec![],
            "label them if they matter, or ignore this",
        )
    })
}

/// `unmapped_labels`: label values the label map does not mention.
fn unmapped_labels(data: &LabeledData) -> Option<Finding> {
    if data.unmapped.is_empty() {
        return None;
    }
    let n: usize = data.unmapped.values().sum();
    let names: Vec<String> = data
        .unmapped
        .keys()
        .take(8)
        .map(|k| format!("'{k}'"))
        .collect();
    Some(
        finding(
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
        )
        .about(Setting::LabelMap),
    )
}

/// `near_empty_text`: texts with fewer than 5 letters or digits.
fn near_empty_texts(tally: &Tally) -> Option<Finding> {
    let (n, lines) = &tally.texts.near_empty;
    (*n > 0).then(|| {
        finding(
            "near_empty_text",
            Severity::Warning,
            *n,
            format!("{n} texts have fewer than 5 letters or digits"),
            lines.clone(),
            "drop them, or compose the text from more columns",
        )
    })
}

/// `non_text`: texts that look like binary or mis-decoded data.
fn non_text(tally: &Tally) -> Option<Finding> {
    let (n, lines) = &tally.texts.garbled;
    (*n > 0).then(|| {
        finding(
            "non_text",
            Severity::Warning,
            *n,
            format!("{n} texts look like binary or mis-decoded data"),
            lines.clone(),
            "check the file's encoding (save it as UTF-8) and that the text column holds text",
        )
    })
}

/// The `leakage` check: validation rows whose text is the same as a training row's (up
/// to case, spacing and punctuation) or nearly the same (see [`super::overlap`]). Sets
/// the report's overlap and, when there is any, adds the finding (a warning: training
/// goes ahead, the validation scores read high) with `fix`.
pub fn leakage(report: &mut QualityReport, train: &[Example], validation: &[Example], fix: &str) {
    let pairs = overlap_pairs(train, validation);
    let overlap = Overlap::of(&pairs);
    if !overlap.is_empty() {
        let (count, exact) = (overlap.rows, overlap.exact);
        report.add(finding(
            "leakage",
            Severity::Warning,
            count,
            format!(
                "{count} validation texts also occur in training ({exact} the same up to case, \
                 spacing and punctuation, {} nearly the same): validation scores will look \
                 better than they are",
                count - exact
            ),
            pairs.iter().map(|p| p.validation_line).collect(),
            fix,
        ));
    }
    report.overlap = Some(overlap);
}

fn note_into(count: &mut usize, lines: &mut Vec<usize>, line: usize) {
    *count += 1;
    if lines.len() < EXAMPLES {
        lines.push(line);
    }
}

fn truncation_finding(examples: &[Example], t: &Truncation) -> Option<Finding> {
    let (mut count, mut lines) = (0, Vec::new());
    for (e, &n) in examples.iter().zip(t.token_counts) {
        if n > t.max_length {
            note_into(&mut count, &mut lines, e.line);
        }
    }
    let share = count as f64 / examples.len().max(1) as f64;
    (count > 0).then(|| {
        finding(
            "truncation",
            if share > 0.2 { Severity::Warning } else { Severity::Info },
            count,
            format!(
                "{:.1}% of texts ({count}) are longer than {} tokens and will be cut",
                share * 100.0,
                t.max_length
            ),
            lines,
            "raise the max length (up to the model's limit), or put the most telling part first (subject before body)",
        )
        .about(Setting::MaxLength)
    })
}

/// Repeated texts, found in one pass: exact repeats, repeats up to case, spacing or
/// punctuation, and texts that appear with different labels.
struct Repeats {
    exact: (usize, Vec<usize>),
    near: (usize, Vec<usize>),
    conflicts: BTreeMap<String, Vec<usize>>,
}

impl Repeats {
    fn of(data: &LabeledData) -> Self {
        let mut exact: HashMap<&str, usize> = HashMap::new();
        let mut by_norm: HashMap<String, (&str, &str)> = HashMap::new();
        let mut repeats = Repeats {
            exact: (0, Vec::new()),
            near: (0, Vec::new()),
            conflicts: BTreeMap::new(),
        };
        for e in &data.examples {
            if exact.insert(e.text.as_str(), e.line).is_some() {
                repeats.exact.0 += 1;
                repeats.exact.1.push(e.line);
            }
            let norm = normalise_text(&e.text);
            match by_norm.get(&norm) {
                None => {
                    by_norm.insert(norm, (e.text.as_str(), e.label.as_str()));
                }
                Some(&(text, label)) => {
                    if text != e.text {
                        repeats.near.0 += 1;
                        repeats.near.1.push(e.line);
                    }
                    if label != e.label {
                        repeats.conflicts.entry(norm).or_default().push(e.line);
                    }
                }
            }
        }
        repeats
    }
}

/// `exact_duplicates`: rows that repeat an earlier text exactly (of `rows`).
fn exact_duplicates(repeats: &Repeats, rows: usize) -> Option<Finding> {
    let (count, lines) = &repeats.exact;
    (*count > 0).then(|| {
        let share = *count as f64 / rows.max(1) as f64;
        finding(
            "exact_duplicates",
            if share > 0.05 { Severity::Warning } else { Severity::Info },
            *count,
            format!("{count} rows repeat an earlier text exactly ({:.1}%)", share * 100.0),
            lines.clone(),
            "remove repeats so they do not weigh more in training (and cannot leak into validation)",
        )
    })
}

/// `near_duplicates`: rows that repeat an earlier text up to case, spacing or
/// punctuation.
fn near_duplicates(repeats: &Repeats) -> Option<Finding> {
    let (count, lines) = &repeats.near;
    (*count > 0).then(|| {
        finding(
            "near_duplicates",
            Severity::Info,
            *count,
            format!("{count} rows repeat an earlier text up to case, spacing or punctuation"),
            lines.clone(),
            "remove them if they are the same ticket",
        )
    })
}

/// `conflicting_labels`: texts that appear with different labels.
fn conflicting_labels(repeats: &Repeats) -> Option<Finding> {
    let conflicts = &repeats.conflicts;
    (!conflicts.is_empty()).then(|| {
        let rows: usize = conflicts.values().map(Vec::len).sum();
        finding(
            "conflicting_labels",
            Severity::Warning,
            conflicts.len(),
            format!(
                "{} texts appear with different labels ({rows} conflicting rows)",
                conflicts.len()
            ),
            conflicts.values().flatten().copied().collect(),
            "decide on one label per text (fix the rows or merge the classes)",
        )
    })
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
                labels: None,
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
    fn label_sets_are_counted_per_label_and_advised_without_class_weights() {
        // 'billing' on 24 tickets (12 also 'bug'), 'bug' on 12, 'refund' on 1, and one
        // ticket where no label applies.
        let mut examples: Vec<Example> = (0..24)
            .map(|i| {
                let mut set = vec!["billing".to_string()];
                if i % 2 == 0 {
                    set.push("bug".into());
                }
                Example::with_labels(format!("ticket number {i} about money"), set, i + 2)
            })
            .collect();
        examples.push(Example::with_labels(
            "refund me".into(),
            vec!["refund".into()],
            30,
        ));
        examples.push(Example::with_labels("hello there".into(), vec![], 31));
        let data = LabeledData {
            labels: crate::dataset::label_set(&examples),
            examples,
            ..Default::default()
        };
        let report = assess(&data, None, None);
        assert_eq!(
            report.class_counts,
            vec![
                ("billing".into(), 24),
                ("bug".into(), 12),
                ("refund".into(), 1)
            ]
        );
        // A label on one ticket stays in training: a warning, not a block.
        assert!(!codes(&report).contains(&"class_too_small_to_split"));
        let small = report
            .findings
            .iter()
            .find(|f| f.code == "small_class")
            .unwrap();
        assert!(small.message.contains("'refund'"), "{}", small.message);
        let imbalance = report
            .findings
            .iter()
            .find(|f| f.code == "class_imbalance")
            .unwrap();
        assert!(
            !imbalance.fix.contains("class weights"),
            "{}",
            imbalance.fix
        );
        assert_eq!(imbalance.setting, Some(Setting::BestMetric));
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
        assert_eq!(imb.setting, Some(Setting::BestMetric));
        assert!(!r.is_blocking());
        // 10:1 and more: class weights and macro-F1 are recommended.
        rows.push(("one more big ticket", "big"));
        rows.push(("yet another big ticket", "big"));
        rows.push(("a last big ticket", "big"));
        rows.push(("really the last big ticket", "big"));
        let r = assess(&data(&rows), None, None);
        let imb = r
            .findings
            .iter()
            .find(|f| f.code == "class_imbalance")
            .unwrap();
        assert!(imb.message.contains("10.0:1"), "{}", imb.message);
        assert_eq!(imb.severity, Severity::Warning);
        assert_eq!(imb.setting, Some(Setting::ClassWeights));
        assert!(imb.fix.contains("class weights") && imb.fix.contains("--best-metric macro-f1"));
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
            labels: None,
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
        let overlap = r
            .overlap
            .as_ref()
            .expect("the pairs behind the leakage finding");
        assert_eq!((overlap.rows, overlap.exact), (1, 1));
        assert_eq!(overlap.pairs[0].training_line, 2);
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

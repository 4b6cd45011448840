//! Corrections applied by training's data loading: after the label map, on the rows
//! the split drew before them, and recorded with the run.

use dialect::dataset::corrections::{Correction, Corrections};
use dialect::dataset::{Example, LabelMap, TextSpec};
use dialect::settings::SplitPlan;
use dialect::train::DataSpec;
use std::collections::BTreeSet;
use std::path::Path;

/// 40 tickets: raw labels "Bug"/"bug " (one class after the map) and "question".
fn write_data(path: &Path) {
    let mut csv = String::from("text,label\n");
    for i in 0..40 {
        let label = match i % 4 {
            0 => "Bug",
            1 => "bug ",
            _ => "question",
        };
        csv.push_str(&format!("ticket number {i},{label}\n"));
    }
    std::fs::write(path, csv).unwrap();
}

fn spec(path: &Path, corrections: Option<Corrections>) -> DataSpec {
    let mut map = LabelMap::default();
    map.mapping.insert("Bug".into(), Some("bug".into()));
    map.mapping.insert("bug".into(), Some("bug".into()));
    map.mapping
        .insert("question".into(), Some("question".into()));
    DataSpec {
        validation_corrections: None,
        drop_overlap: false,
        path: path.to_path_buf(),
        text: TextSpec::column("text"),
        label_column: "label".into(),
        label_form: dialect::dataset::LabelForm::Single,
        label_map: Some(map),
        validation: None,
        split: SplitPlan::default(),
        corrections,
    }
}

fn lines(rows: &[Example]) -> BTreeSet<usize> {
    rows.iter().map(|e| e.line).collect()
}

#[test]
fn corrections_apply_after_the_map_and_leave_the_split_where_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tickets.csv");
    write_data(&path);
    let plain = spec(&path, None).load(false).unwrap();
    let rows = |line: usize| {
        plain
            .data
            .train
            .iter()
            .chain(&plain.data.validation)
            .find(|e| e.line == line)
            .unwrap()
            .clone()
    };
    // Line 2 is raw "Bug", line 3 raw "bug ": both "bug" after the map.
    assert_eq!(
        (rows(2).label.as_str(), rows(3).label.as_str()),
        ("bug", "bug")
    );
    let mut corrections = Corrections::default();
    corrections.set(Correction::of(&rows(2), Some("question".into())));
    corrections.set(Correction::of(&rows(3), None));
    let mut fixed_spec = spec(&path, Some(corrections));
    let fixed = fixed_spec.load(false).unwrap();
    assert_eq!(
        (fixed.corrections.relabelled, fixed.corrections.dropped),
        (1, 1)
    );
    assert!(fixed.corrections.stale.is_empty());
    let all: Vec<&Example> = fixed
        .data
        .train
        .iter()
        .chain(&fixed.data.validation)
        .collect();
    assert_eq!(all.len(), 39);
    assert_eq!(all.iter().find(|e| e.line == 2).unwrap().label, "question");
    assert!(all.iter().all(|e| e.line != 3));
    // Every other ticket stays on the side of the split it was on.
    let mut expected_val = lines(&plain.data.validation);
    expected_val.remove(&3);
    assert_eq!(lines(&fixed.data.validation), expected_val);
    let mut expected_train = lines(&plain.data.train);
    expected_train.remove(&3);
    assert_eq!(lines(&fixed.data.train), expected_train);
    assert_eq!(fixed.data.labels, ["bug", "question"]);

    // The file edited on line 2: that correction no longer applies, and says so.
    let edited = std::fs::read_to_string(&path)
        .unwrap()
        .replace("ticket number 0,", "ticket number zero,");
    std::fs::write(&path, edited).unwrap();
    let again = fixed_spec.load(false).unwrap();
    assert_eq!(
        (again.corrections.relabelled, again.corrections.dropped),
        (0, 1)
    );
    assert_eq!(again.corrections.stale[0].line, 2);
    assert!(
        again
            .warnings
            .items()
            .iter()
            .any(|w| w.message.contains("no longer match")),
        "{:?}",
        again.warnings
    );
    // A spec without corrections reads as it always did.
    fixed_spec.corrections = None;
    assert_eq!(
        fixed_spec.load(false).unwrap().data.train.len(),
        plain.data.train.len()
    );
}

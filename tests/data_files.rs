//! The data module on the real benchmark files, and a property test that arbitrary
//! bytes never panic the readers.

mod common;

use dialect::dataset::inspect::{inspect, InspectOptions};
use dialect::dataset::profile::{profile_file, ColumnRole};
use dialect::dataset::{read_labeled, TextSpec};
use dialect::model::resolve::resolve_model;
use dialect::model::tokenize::TextEncoder;
use proptest::prelude::*;

#[test]
fn banking77_profiles_as_77_intents() {
    let path = common::shared_data("banking77_train.csv");
    let p = profile_file(&path).unwrap();
    assert_eq!(p.rows, 10_377);
    assert_eq!(p.suggested_text.as_deref(), Some("text"));
    assert_eq!(p.suggested_label.as_deref(), Some("label"));
    let label = p.columns.iter().find(|c| c.name == "label").unwrap();
    assert_eq!(label.role, ColumnRole::Label);
    assert_eq!(label.values.len(), 77);
    assert_eq!(label.values.iter().map(|(_, n)| n).sum::<usize>(), 10_377);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let i = inspect(&path, &InspectOptions::default()).unwrap();
    assert_eq!(i.raw_labels.len(), 77);
    assert!(!i.report.unwrap().is_blocking());
}

#[test]
fn ticket_tagger_truncation_share_at_128_tokens() {
    let path = common::shared_data("tickettagger_issues_train.csv");
    let dir = resolve_model("sentence-transformers/all-MiniLM-L6-v2").expect("seeded model cache");
    let encoder = TextEncoder::load(&dir, 128).unwrap();
    let options = InspectOptions {
        encoder: Some(&encoder),
        ..Default::default()
    };
    let i = inspect(&path, &options).unwrap();
    assert_eq!(i.rows_used, 2921);
    assert_eq!(
        i.raw_labels,
        vec![
            ("enhancement".to_string(), 998),
            ("question".to_string(), 967),
            ("bug".to_string(), 956)
        ]
    );
    let report = i.report.unwrap();
    let t = report
        .findings
        .iter()
        .find(|f| f.code == "truncation")
        .expect("truncation finding");
    let share = t.count as f64 / 2921.0;
    // Measured 0.434 (1,268 texts) with all-MiniLM-L6-v2's tokenizer.
    assert!((0.40..0.47).contains(&share), "share {share}");
    // The file holds a NUL byte and a few invalid UTF-8 sequences: reported by line.
    let kinds: Vec<&str> = i
        .profile
        .warnings
        .items()
        .iter()
        .map(|w| w.kind.as_str())
        .collect();
    assert!(
        kinds.contains(&"nul") && kinds.contains(&"invalid_bytes"),
        "{kinds:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic_the_readers(bytes in proptest::collection::vec(any::<u8>(), 0..2048), jsonl in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(if jsonl { "f.jsonl" } else { "f.csv" });
        std::fs::write(&path, &bytes).unwrap();
        let _ = profile_file(&path);
        let _ = read_labeled(&path, &TextSpec::column("text"), "label", None);
        let _ = inspect(&path, &InspectOptions::default());
    }

    #[test]
    fn csv_like_text_never_panics(text in "[a-z,;|\t\"\n\r ]{0,400}") {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.csv");
        std::fs::write(&path, format!("text,label\n{text}")).unwrap();
        let _ = read_labeled(&path, &TextSpec::column("text"), "label", None);
        let _ = profile_file(&path);
    }
}

#[test]
fn predictions_stream_every_row_and_are_safe_to_open_in_a_spreadsheet() {
    let model = common::tiny_model("distilbert");
    let predictor = dialect::Predictor::load(&model, dialect::device::DeviceChoice::Cpu).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("new.csv");
    let mut text = String::from("id,=cmd|' /C calc'!A0,text\n");
    text.push_str("-3,=HYPERLINK(\"http://evil\"),\"=1+2 the app crashes\"\n");
    text.push_str("4,@SUM(A1),+dark mode please\n");
    for i in 0..600 {
        text.push_str(&format!("{i},plain,the app crashes number {i}\n"));
    }
    std::fs::write(&input, text).unwrap();
    let output = dir.path().join("out.csv");
    let mut reports = Vec::new();
    let n = predictor
        .predict_file_with_progress(&input, &TextSpec::column("text"), &output, &mut |d, t| {
            reports.push((d, t))
        })
        .unwrap();
    assert_eq!(n, 602);
    assert_eq!(reports.first(), Some(&(0, 602)));
    assert_eq!(reports.last(), Some(&(602, 602)));
    assert!(reports.len() >= 4, "{reports:?}");
    let mut reader = csv::Reader::from_path(&output).unwrap();
    let header = reader.headers().unwrap().clone();
    assert_eq!(&header[1], "'=cmd|' /C calc'!A0");
    assert_eq!(&header[3], "predicted_label");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 602);
    assert_eq!(&rows[0][0], "-3", "plain numbers stay numbers");
    assert_eq!(&rows[0][1], "'=HYPERLINK(\"http://evil\")");
    assert_eq!(&rows[0][2], "'=1+2 the app crashes");
    assert_eq!(&rows[1][1], "'@SUM(A1)");
    assert_eq!(&rows[1][2], "'+dark mode please");
    assert_eq!(&rows[2][2], "the app crashes number 0");
}

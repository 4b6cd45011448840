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

//! Multi-label tickets end to end in the engine: label sets read from a split column
//! or 0/1 columns, a stratified split, training with binary cross-entropy and tuned
//! thresholds, prediction of label sets, batch prediction and evaluation.

mod common;

use dialect::dataset::{read_labeled_as, LabelForm, LabelMap, TextSpec};
use dialect::predict::Predictor;
use dialect::setting::Setting;
use dialect::settings::ClassWeights;
use dialect::train::DataSpec;
use dialect::{DeviceChoice, TrainConfig, TrainEvent, Trainer};
use std::sync::atomic::AtomicBool;

#[test]
fn a_split_column_and_flag_columns_give_the_same_sets() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("multi.csv");
    common::write_multi_label_csv(&csv, 3);
    let text = TextSpec::column("text");
    let sniffed = LabelForm::Separated { separator: None };
    let split = read_labeled_as(&csv, &text, "labels", &sniffed, None).unwrap();
    let columns = LabelForm::Columns {
        columns: vec!["bug".into(), "feature".into(), "question".into()],
    };
    let flagged = read_labeled_as(&csv, &text, "", &columns, None).unwrap();
    assert_eq!(split.examples, flagged.examples);
    assert_eq!(split.labels, vec!["bug", "feature", "question"]);
    let both = &split.examples[3];
    assert_eq!(
        both.labels.as_deref(),
        Some(&["bug".to_string(), "question".to_string()][..])
    );
    assert_eq!(both.label, "bug; question");
    // Raw values are counted one by one.
    assert_eq!(split.raw_label_counts["bug"], 6);

    // The map merges and drops values; a set left empty stays ("no label applies").
    let mut map = LabelMap::default();
    map.mapping.insert("bug".into(), Some("defect".into()));
    map.mapping.insert("question".into(), Some("defect".into()));
    map.mapping.insert("feature".into(), None);
    let mapped = read_labeled_as(&csv, &text, "labels", &sniffed, Some(&map)).unwrap();
    assert_eq!(mapped.examples.len(), 12);
    assert_eq!(
        mapped.examples[3].labels.as_deref(),
        Some(&["defect".to_string()][..])
    );
    assert_eq!(mapped.examples[1].labels.as_deref(), Some(&[][..]));
    assert_eq!(mapped.labels, vec!["defect"]);
    assert_eq!(mapped.dropped_by_map, 3);
}

#[test]
fn a_bad_flag_names_the_file_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("flags.csv");
    std::fs::write(&csv, "text,bug,billing\ncrash,1,0\ncharged twice,0,maybe\n").unwrap();
    let columns = LabelForm::Columns {
        columns: vec!["bug".into(), "billing".into()],
    };
    let err = read_labeled_as(&csv, &TextSpec::column("text"), "", &columns, None).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("flags.csv")
            && message.contains("line 3")
            && message.contains("'billing'")
            && message.contains("'maybe'"),
        "{message}"
    );
    assert_eq!(err.settings(), vec![Setting::LabelColumn]);
}

#[test]
fn trains_tunes_thresholds_and_predicts_label_sets() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("multi.csv");
    common::write_multi_label_csv(&csv, 8);
    let loaded = common::multi_label_spec(
        &csv,
        LabelForm::Separated {
            separator: Some(';'),
        },
    )
    .load(false)
    .unwrap();
    let data = loaded.data;
    assert!(data.multi_label());
    // Stratified by the rarest class: a quarter of each kind's 8 rows.
    assert_eq!((data.train.len(), data.validation.len()), (24, 8));
    let config = TrainConfig {
        epochs: 3,
        learning_rate: 1e-3,
        batch_size: 8,
        ..common::tiny_config(dir.path())
    };
    let (summary, events) = common::train_recording(&config, &data);
    assert!(summary.best_epoch.is_some());
    let evaluated: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            TrainEvent::Evaluated { metrics, .. } => Some(metrics.clone()),
            _ => None,
        })
        .collect();
    assert!(matches!(
        events.first(),
        Some(TrainEvent::Started {
            multi_label: true,
            ..
        })
    ));
    assert_eq!(evaluated.len(), 3);
    assert!(evaluated
        .iter()
        .all(|m| m.label_sets.is_some() && m.confusion.is_empty()));
    // Multi-label runs tune thresholds; they neither calibrate nor check int8.
    let tuned = events
        .iter()
        .find_map(|e| match e {
            TrainEvent::ThresholdsTuned { metrics } => Some(metrics.clone()),
            _ => None,
        })
        .expect("a ThresholdsTuned event");
    assert!(!events.iter().any(|e| matches!(
        e,
        TrainEvent::Calibrated { .. } | TrainEvent::Int8Checked { .. }
    )));

    // transformers reads the export as multi-label; the card keeps the thresholds.
    let model = config.output_dir.as_path();
    let exported: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("config.json")).unwrap()).unwrap();
    assert_eq!(exported["problem_type"], "multi_label_classification");
    let card = dialect::model_card::ModelCard::load(model).unwrap();
    let thresholds = card.multi_label.unwrap().thresholds;
    assert_eq!(thresholds.len(), 3);
    assert_eq!(tuned.label_sets.as_ref().unwrap().thresholds, thresholds);
    // Tuned thresholds maximise each label's F1: never below the F1 at 0.5.
    let best = summary.best_epoch.unwrap() - 1;
    for (at_half, with_tuned) in evaluated[best].per_class.iter().zip(&tuned.per_class) {
        assert!(
            with_tuned.f1 >= at_half.f1 - 1e-12,
            "{at_half:?} vs {with_tuned:?}"
        );
    }

    // Prediction: each label's sigmoid probability, the set over its threshold.
    let mut predictor = Predictor::load(model, DeviceChoice::Cpu).unwrap();
    assert!(predictor.is_multi_label());
    assert_eq!(predictor.label_thresholds(), Some(&thresholds[..]));
    let texts = vec!["sync crashes every time, how do i get support".to_string()];
    let p = &predictor.predict(&texts).unwrap()[0];
    let set = p.labels.as_ref().unwrap();
    for s in &p.scores {
        let on = s.probability >= s.threshold.unwrap();
        assert_eq!(set.contains(&s.label), on, "{p:?}");
    }
    assert_eq!(p.label, set.join("; "));
    assert!(p.route.is_none());
    assert!(predictor
        .set_threshold(Some(0.9))
        .unwrap_err()
        .to_string()
        .contains("multi-label"));
    assert!(predictor.explain(&texts[0]).is_err());

    // Scoring the validation rows again gives the metrics recorded with the thresholds.
    let val_csv = dir.path().join("val.csv");
    let mut w = csv::Writer::from_path(&val_csv).unwrap();
    w.write_record(["text", "labels"]).unwrap();
    for e in &data.validation {
        w.write_record([e.text.as_str(), &e.labels.as_ref().unwrap().join(";")])
            .unwrap();
    }
    w.flush().unwrap();
    let sets = LabelForm::Separated { separator: None };
    let text = TextSpec::column("text");
    let evaluation = predictor
        .evaluate_file_as(&val_csv, &text, "labels", &sets, None)
        .unwrap();
    assert!(evaluation.trust.is_none());
    let (got, want) = (&evaluation.metrics, &tuned);
    assert_eq!(got.count, want.count);
    assert_eq!(
        got.label_sets.as_ref().unwrap().per_label,
        want.label_sets.as_ref().unwrap().per_label
    );
    assert!((got.accuracy - want.accuracy).abs() < 1e-12);
    assert!(predictor
        .evaluate_file(&val_csv, &text, "labels", None)
        .is_err());

    // A review of the validation rows scores them the same way, row by row.
    let reviewed = dialect::review::review(
        &predictor,
        &data.validation,
        dialect::review::ValidationCheck::NotVerifiable {
            reason: "test".into(),
        },
    )
    .unwrap();
    assert!(reviewed.trust.is_none());
    assert_eq!(reviewed.metrics, evaluation.metrics);
    assert_eq!(reviewed.rows[0].truth, data.validation[0].label);

    // Batch prediction: the set joined by ';' and one probability per label.
    let out = dir.path().join("out.csv");
    assert_eq!(predictor.predict_file(&val_csv, &text, &out).unwrap(), 8);
    let mut rows = csv::Reader::from_path(&out).unwrap();
    let header: Vec<String> = rows.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(
        header,
        [
            "text",
            "labels",
            "predicted_labels",
            "prob_bug",
            "prob_feature",
            "prob_question"
        ]
    );
    let predicted = predictor
        .predict(
            &data
                .validation
                .iter()
                .map(|e| e.text.clone())
                .collect::<Vec<_>>(),
        )
        .unwrap();
    for (row, p) in rows.records().zip(&predicted) {
        let row = row.unwrap();
        assert_eq!(&row[2], p.labels.as_ref().unwrap().join(";"));
        let prob: f32 = row[3].parse().unwrap();
        assert!((prob - p.scores[0].probability).abs() < 1e-5);
    }
}

#[test]
fn a_validation_file_is_read_as_label_sets_and_its_classes_checked() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("multi.csv");
    common::write_multi_label_csv(&csv, 4);
    let val = dir.path().join("val.csv");
    std::fs::write(
        &val,
        "text,labels\nsync crashes every time,bug\nhow do i get support,bug;question\n",
    )
    .unwrap();
    let with_file = DataSpec {
        validation: Some(val.clone()),
        ..common::multi_label_spec(&csv, LabelForm::Separated { separator: None })
    };
    let data = with_file.load(false).unwrap().data;
    assert_eq!((data.train.len(), data.validation.len()), (16, 2));
    assert_eq!(
        data.validation[1].labels.as_deref(),
        Some(&["bug".to_string(), "question".to_string()][..])
    );
    std::fs::write(&val, "text,labels\ncharged twice,billing;bug\n").unwrap();
    let err = with_file.load(false).unwrap_err().to_string();
    assert!(err.contains("line 2") && err.contains("'billing'"), "{err}");
}

#[test]
fn settings_for_one_class_per_ticket_are_refused_for_label_sets() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("multi.csv");
    common::write_multi_label_csv(&csv, 4);
    let data = common::multi_label_spec(&csv, LabelForm::Separated { separator: None })
        .load(false)
        .unwrap()
        .data;
    let config = TrainConfig {
        class_weights: ClassWeights::Inverse,
        ..common::tiny_config(dir.path())
    };
    let err = Trainer::run(&config, &data, |_| {}, &AtomicBool::new(false)).unwrap_err();
    assert_eq!(err.settings(), vec![Setting::ClassWeights]);
    let with_corrections = DataSpec {
        corrections: Some(dialect::dataset::corrections::Corrections {
            corrections: vec![dialect::dataset::corrections::Correction::of(
                &data.train[0],
                Some("bug".into()),
            )],
        }),
        ..common::multi_label_spec(&csv, LabelForm::Separated { separator: None })
    };
    assert!(with_corrections
        .load(false)
        .unwrap_err()
        .to_string()
        .contains("multi-label"));
}

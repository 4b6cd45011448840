//! Suspect labels end to end: on the tiny golden model (repeated texts, so even its
//! random features tell a flipped copy from its twins), its progress, cancelling and
//! refusals; and on the real all-MiniLM-L6-v2 (from the Hugging Face cache) with a
//! slice of Banking77 whose labels were flipped in part.

mod common;

use dialect::dataset::{read_labeled, Example};
use dialect::train::{find_suspects, SuspectProgress, SuspectRequest};
use dialect::{DeviceChoice, TextSpec};
use std::collections::HashSet;
use std::sync::atomic::AtomicBool;

fn request(model: String) -> SuspectRequest {
    SuspectRequest {
        model,
        max_length: 32,
        batch_size: 16,
        folds: 5,
        seed: 3,
        device: DeviceChoice::Cpu,
    }
}

fn tiny() -> SuspectRequest {
    request(common::tiny_model("distilbert").display().to_string())
}

/// The tiny three-class task, 25 rows a class (five copies of each text), with two
/// labels flipped: their lines.
fn tiny_flipped(dir: &std::path::Path) -> (Vec<Example>, Vec<String>, [usize; 2]) {
    let csv = common::tiny_csv(dir, 25);
    let data = read_labeled(&csv, &TextSpec::column("text"), "label", None).unwrap();
    let mut examples = data.examples;
    // Rows go bug, feature_request, general_inquiry in turn.
    examples[3].label = "general_inquiry".into(); // a bug
    examples[7].label = "bug".into(); // a feature request
    let lines = [examples[3].line, examples[7].line];
    (examples, data.labels, lines)
}

#[test]
fn flipped_copies_of_repeated_tickets_are_the_top_suspects() {
    let dir = tempfile::tempdir().unwrap();
    let (examples, labels, flipped) = tiny_flipped(dir.path());
    let mut events = Vec::new();
    let report = find_suspects(
        &tiny(),
        &examples,
        &labels,
        &mut |p| events.push(p),
        &AtomicBool::new(false),
    )
    .unwrap()
    .expect("not cancelled");
    assert_eq!((report.rows, report.folds), (75, 5));
    let top: HashSet<usize> = report.suspects.iter().take(2).map(|s| s.line).collect();
    assert_eq!(top, HashSet::from(flipped), "{:#?}", report.suspects);
    let first = &report.suspects[0];
    assert!(first.margin > 0.0 && first.confidence > first.given_confidence);
    assert!((first.margin - (first.confidence - first.given_confidence)).abs() < 1e-9);
    let by_line = |line| report.suspects.iter().find(|s| s.line == line).unwrap();
    assert_eq!(by_line(flipped[0]).likely, "bug");
    assert_eq!(by_line(flipped[1]).likely, "feature_request");
    assert!(report
        .suspects
        .windows(2)
        .all(|w| w[0].margin >= w[1].margin));
    assert_eq!(report.thresholds.len(), 3);
    assert!(report
        .thresholds
        .iter()
        .all(|t| t.rows > 0 && t.threshold.is_some_and(|v| v > 0.0 && v <= 1.0)));

    // Encoding counts up to every row, then each fold once, in order.
    let fitting: Vec<usize> = events
        .iter()
        .filter_map(|e| match e {
            SuspectProgress::Fitting { fold, folds: 5 } => Some(*fold),
            _ => None,
        })
        .collect();
    assert_eq!(fitting, [1, 2, 3, 4, 5]);
    let last_encoding = events
        .iter()
        .rposition(|e| matches!(e, SuspectProgress::Encoding { .. }))
        .unwrap();
    assert_eq!(
        events[last_encoding],
        SuspectProgress::Encoding {
            done: 75,
            total: 75
        }
    );
    assert!(last_encoding < events.len() - 5);

    // Seeded: the same again.
    let again = find_suspects(
        &tiny(),
        &examples,
        &labels,
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .unwrap()
    .unwrap();
    assert_eq!(again.suspects, report.suspects);
}

#[test]
fn a_cancelled_search_returns_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (examples, labels, _) = tiny_flipped(dir.path());
    let found = find_suspects(
        &tiny(),
        &examples,
        &labels,
        &mut |_| {},
        &AtomicBool::new(true),
    );
    assert!(found.unwrap().is_none());
}

#[test]
fn unusable_requests_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (examples, labels, _) = tiny_flipped(dir.path());
    let run = |request: &SuspectRequest, examples: &[Example], labels: &[String]| {
        find_suspects(
            request,
            examples,
            labels,
            &mut |_| {},
            &AtomicBool::new(false),
        )
        .unwrap_err()
        .to_string()
    };
    let one_fold = SuspectRequest { folds: 1, ..tiny() };
    assert!(run(&one_fold, &examples, &labels).contains("folds"));
    let too_short = SuspectRequest {
        max_length: 2,
        ..tiny()
    };
    assert!(run(&too_short, &examples, &labels)
        .to_lowercase()
        .contains("length"));
    assert!(run(&tiny(), &examples[..4], &labels).contains("at least 5 tickets"));
    assert!(run(&tiny(), &examples, &labels[..1]).contains("2 classes"));
    assert!(run(&tiny(), &examples, &labels[..2]).contains("outside the class list"));
}

#[test]
fn minilm_finds_most_flipped_banking77_labels() {
    let path = common::shared_data("banking77_train.csv");
    let data = read_labeled(&path, &TextSpec::column("text"), "label", None).expect("shared data");
    // The first 30 tickets of 10 intents; every 20th has its label moved to another of
    // the 10 (15 flips, 5%).
    let labels: Vec<String> = data.labels.iter().take(10).cloned().collect();
    let mut examples = Vec::new();
    for label in &labels {
        let rows = data.examples.iter().filter(|e| &e.label == label);
        examples.extend(rows.take(30).cloned());
    }
    let mut flipped = HashSet::new();
    for (i, e) in examples.iter_mut().enumerate().filter(|(i, _)| i % 20 == 7) {
        let class = labels.iter().position(|l| *l == e.label).unwrap();
        e.label = labels[(class + 1 + i % 9) % labels.len()].clone();
        flipped.insert(e.line);
    }
    assert_eq!(flipped.len(), 15);
    let request = request("sentence-transformers/all-MiniLM-L6-v2".into());
    let report = find_suspects(
        &request,
        &examples,
        &labels,
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .expect("is the model cache seeded? run scripts/seed-model-cache.sh")
    .unwrap();
    let found = report
        .suspects
        .iter()
        .take(flipped.len())
        .filter(|s| flipped.contains(&s.line))
        .count();
    eprintln!(
        "{found} of {} flips in the top {}; {} suspects; held-out accuracy {:.3}; {:.1}s",
        flipped.len(),
        flipped.len(),
        report.suspects.len(),
        report.held_out_accuracy,
        report.seconds
    );
    assert!(found * 2 >= flipped.len(), "{found} of {}", flipped.len());
}

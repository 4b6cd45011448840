//! Evaluation metrics, calibration, coverage and int8 checks.

use dialect::calibration::Calibration;
use dialect::multi_label::LabelSetScores;
use dialect::routing::{OperatingPoint, Trust};
use dialect::{Int8Check, Metrics, TrainEvent};

/// Accuracy and macro-F1, the per-class table and the confusion matrix (for label
/// sets: [`print_label_sets`]).
pub fn print_metrics(m: &Metrics) {
    if let Some(sets) = &m.label_sets {
        return print_label_sets(m, sets);
    }
    println!(
        "rows {}   accuracy {:.4}   macro-F1 {:.4}\n",
        m.count, m.accuracy, m.macro_f1
    );
    let width = label_width(m);
    println!(
        "{:<width$}  {:>9}  {:>6}  {:>6}  {:>7}",
        "class", "precision", "recall", "f1", "support"
    );
    for c in &m.per_class {
        println!(
            "{:<width$}  {:>9.4}  {:>6.4}  {:>6.4}  {:>7}",
            c.label, c.precision, c.recall, c.f1, c.support
        );
    }
    println!("\nconfusion matrix (rows: true, columns: predicted)");
    let cell = m
        .confusion
        .iter()
        .flatten()
        .map(|n| n.to_string().len())
        .max()
        .unwrap_or(1)
        .max(4);
    print!("{:<width$}", "");
    for (i, _) in m.per_class.iter().enumerate() {
        print!("  {:>cell$}", format!("#{i}"));
    }
    println!();
    for (i, row) in m.confusion.iter().enumerate() {
        print!(
            "{:<width$}",
            format!("#{i} {}", m.per_class[i].label),
            width = width + 3
        );
        for n in row {
            print!("  {n:>cell$}");
        }
        println!();
    }
}

/// Label-set metrics: subset accuracy, micro- and macro-F1, then per label its
/// threshold, precision, recall, F1 and 2x2 confusion.
pub fn print_label_sets(m: &Metrics, sets: &LabelSetScores) {
    println!("{}\n", describe_label_sets(m));
    let width = label_width(m);
    println!(
        "{:<width$}  {:>9}  {:>9}  {:>6}  {:>6}  {:>7}  {:>5}  {:>5}  {:>5}  {:>5}",
        "label", "threshold", "precision", "recall", "f1", "support", "tp", "fp", "fn", "tn"
    );
    for (i, (c, n)) in m.per_class.iter().zip(&sets.per_label).enumerate() {
        let threshold = sets.thresholds.get(i).copied().unwrap_or(f32::NAN);
        println!(
            "{:<width$}  {threshold:>9.3}  {:>9.4}  {:>6.4}  {:>6.4}  {:>7}  {:>5}  {:>5}  {:>5}  {:>5}",
            c.label,
            c.precision,
            c.recall,
            c.f1,
            c.support,
            n.true_positives,
            n.false_positives,
            n.false_negatives,
            n.true_negatives
        );
    }
}

/// The width of the first column of a per-class table: the longest label, at least 5.
fn label_width(m: &Metrics) -> usize {
    m.per_class
        .iter()
        .map(|c| c.label.len())
        .max()
        .unwrap_or(5)
        .max(5)
}

/// "rows 40   subset accuracy 0.6500   micro-F1 0.8000   macro-F1 0.7700".
pub fn describe_label_sets(m: &Metrics) -> String {
    let micro = m.label_sets.as_ref().map_or(0.0, |s| s.micro_f1);
    format!(
        "rows {}   subset accuracy {:.4}   micro-F1 {micro:.4}   macro-F1 {:.4}",
        m.count, m.accuracy, m.macro_f1
    )
}

/// One line on a step that finishes a best model (its int8 check, its temperature, its
/// tuned label thresholds); `None` for other events.
pub fn describe_finishing(event: &TrainEvent) -> Option<String> {
    match event {
        TrainEvent::Int8Checked { check } => Some(describe_int8(check)),
        TrainEvent::Calibrated { calibration } => Some(describe_calibration(calibration)),
        TrainEvent::ThresholdsTuned { metrics } => Some(format!(
            "thresholds tuned per label on the validation split: {}",
            describe_label_sets(metrics)
        )),
        _ => None,
    }
}

/// One line on the temperature fitted on the validation split and what it did.
pub fn describe_calibration(c: &Calibration) -> String {
    format!(
        "calibrated on {} validation rows: temperature {:.3}, expected calibration error \
         {:.1}% → {:.1}%, log-loss {:.4} → {:.4} (probabilities use it; logits unchanged)",
        c.rows,
        c.temperature,
        100.0 * c.ece_before,
        100.0 * c.ece_after,
        c.nll_before,
        c.nll_after
    )
}

/// One paragraph on an int8 check for people.
pub fn describe_int8(c: &Int8Check) -> String {
    let verdict = if c.passed() {
        "passed: the model predicts in int8 on the CPU (--precision f32 to opt out)"
    } else {
        "failed: int8 lost more than half a point of accuracy, the model predicts in f32"
    };
    format!(
        "int8 check on {} rows of the {}: same class as f32 for {:.1}%, accuracy {:.2}% → \
         {:.2}% ({:+.2} pt), macro-F1 {:.4} → {:.4}, largest probability change \
         {:.4}; {verdict}",
        c.rows,
        c.data,
        100.0 * c.agreement,
        100.0 * c.f32_accuracy,
        100.0 * c.int8_accuracy,
        100.0 * (c.int8_accuracy - c.f32_accuracy),
        c.f32_macro_f1,
        c.int8_macro_f1,
        c.max_probability_change,
    )
}

/// Accuracies whose operating points the coverage summary lists.
const COVERAGE_TARGETS: [f64; 4] = [0.9, 0.95, 0.98, 0.99];

/// Calibration on these rows and how many tickets could be handled automatically at a
/// few accuracies, with the routing threshold's operating point when there is one.
pub fn print_trust(t: &Trust) {
    let c = &t.calibration;
    println!(
        "\ncalibration on these {} rows: temperature {:.3}, expected calibration error {:.1}% \
         without it, {:.1}% with it",
        c.rows,
        c.temperature,
        100.0 * c.ece_before,
        100.0 * c.ece_after
    );
    println!("coverage (tickets handled automatically, the rest to a person):");
    for target in COVERAGE_TARGETS {
        match t.coverage.overall.for_accuracy(target) {
            Some(p) => println!(
                "  at {:>4.1}% accuracy: {} (threshold {:.3})",
                100.0 * target,
                describe_point(&p),
                p.threshold
            ),
            None => println!(
                "  at {:>4.1}% accuracy: no threshold reaches it",
                100.0 * target
            ),
        }
    }
    if let Some(p) = &t.operating {
        println!(
            "routing threshold {:.3}: {}, {:.1}% go to a person",
            p.threshold,
            describe_point(p),
            100.0 * (1.0 - p.coverage)
        );
    }
}

/// "handles 78.0% (780 tickets) at 95.2% accuracy".
pub fn describe_point(p: &OperatingPoint) -> String {
    format!(
        "handles {:.1}% ({} tickets) at {:.1}% accuracy",
        100.0 * p.coverage,
        p.handled,
        100.0 * p.accuracy
    )
}

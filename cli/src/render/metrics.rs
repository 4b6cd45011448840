//! Evaluation metrics and int8 checks.

use dialect::calibration::Calibration;
use dialect::{Int8Check, Metrics};

/// Accuracy and macro-F1, the per-class table and the confusion matrix.
pub fn print_metrics(m: &Metrics) {
    println!(
        "rows {}   accuracy {:.4}   macro-F1 {:.4}\n",
        m.count, m.accuracy, m.macro_f1
    );
    let width = m
        .per_class
        .iter()
        .map(|c| c.label.len())
        .max()
        .unwrap_or(5)
        .max(5);
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

/// One paragraph on an int8 check for people.
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

//! Recorded runs: the list, one run, a run's review and two runs compared
//! (`dialect runs`).

use super::clip;
use super::metrics::{print_metrics, print_trust};
use dialect::dataset::LabelForm;
use dialect::model_card::ModelCard;
use dialect::review::{Review, ValidationCheck};
use dialect::run_diff::{Change, DiffBasis, RunDiff};
use dialect::runs::{RunRecord, RunStatus};
use dialect::setting::Setting;
use dialect::{EngineError, TrainConfig};
use std::path::{Path, PathBuf};

/// A table of `runs` (id, status, model, best epoch and value), or that the store at
/// `root` has none.
pub fn print_runs(runs: &[RunRecord], root: &Path) {
    if runs.is_empty() {
        println!("no runs in {}", root.display());
        return;
    }
    println!(
        "{:<20}  {:<11}  {:<40}  {:>5}  best",
        "id", "status", "model", "epoch"
    );
    for r in runs {
        let (epoch, best) = match r.best {
            Some((e, v)) => (
                e.to_string(),
                format!("{} {v:.4}", r.config.best_metric.name()),
            ),
            None => ("-".into(), "-".into()),
        };
        println!(
            "{:<20}  {:<11}  {:<40}  {epoch:>5}  {best}",
            r.id,
            format!("{:?}", r.status).to_lowercase(),
            clip(&r.config.model, 40)
        );
    }
}

/// One run: status, model and data, per-epoch metrics, and where its best model is
/// (`model_dir`, or why there is none).
pub fn print_run(r: &RunRecord, model_dir: &Result<PathBuf, EngineError>) {
    println!("run {} — {:?}", r.id, r.status);
    if let (RunStatus::Running, Some(pid)) = (r.status, r.pid) {
        println!("training in process {pid}");
    }
    println!("model {}, data {}", r.config.model, r.data.path.display());
    if let Some(options) = imbalance_options(&r.config) {
        println!("trained with {options}");
    }
    if let Some(parent) = &r.parent {
        println!("retrains run {parent}");
    }
    if let Some(c) = r.data.corrections.as_ref().filter(|c| !c.is_empty()) {
        let dropped = c.corrections.iter().filter(|c| c.label.is_none()).count();
        println!(
            "trained with {} correction(s): {} relabelled, {dropped} dropped",
            c.corrections.len(),
            c.corrections.len() - dropped
        );
    }
    match &r.fingerprint {
        Some(f) => println!(
            "data sha256 {}, {} validation rows recorded",
            f.data_sha256, f.validation_rows
        ),
        None => println!("no data fingerprint (recorded by an older Dialect)"),
    }
    if let Some(e) = &r.error {
        println!("error: {e}");
    }
    match &r.data.label_form {
        LabelForm::Single => {}
        LabelForm::Separated { separator } => println!(
            "multi-label: label sets in '{}' split by {}",
            r.data.label_column,
            separator.map_or("a sniffed separator".into(), |c| format!("'{c}'"))
        ),
        LabelForm::Columns { columns } => {
            println!("multi-label: 0/1 label columns {}", columns.join(", "))
        }
    }
    if let Some(s) = &r.summary {
        for e in &s.epochs {
            let m = &e.metrics;
            let scores = match &m.label_sets {
                Some(sets) => format!(
                    "subset accuracy {:.4}, micro-F1 {:.4}, macro-F1 {:.4} (at 0.5)",
                    m.accuracy, sets.micro_f1, m.macro_f1
                ),
                None => format!("accuracy {:.4}, macro-F1 {:.4}", m.accuracy, m.macro_f1),
            };
            println!(
                "  epoch {}: train loss {:.4}, val loss {:.4}, {scores}",
                e.epoch, e.train_loss, e.eval_loss
            );
        }
    }
    match model_dir {
        Ok(dir) => {
            println!("best model: {}", dir.display());
            let tuned = ModelCard::load(dir).and_then(|c| c.multi_label?.metrics);
            if let Some(metrics) = tuned {
                println!("\nvalidation with each label's tuned threshold:");
                print_metrics(&metrics);
            }
        }
        Err(e) => println!("{e}"),
    }
}

/// The run's class weights and sampler as flags, where not the defaults.
fn imbalance_options(config: &TrainConfig) -> Option<String> {
    let defaults = TrainConfig::default();
    let mut options = Vec::new();
    if config.class_weights != defaults.class_weights {
        options.push(format!(
            "{} {}",
            Setting::ClassWeights.flag(),
            config.class_weights.name()
        ));
    }
    if config.sampler != defaults.sampler {
        options.push(format!(
            "{} {}",
            Setting::Sampler.flag(),
            config.sampler.name()
        ));
    }
    (!options.is_empty()).then(|| options.join(" "))
}

/// Whether the validation rows were verified, the metrics, and every misclassified row.
pub fn print_review(review: &Review) {
    match &review.validation {
        ValidationCheck::Verified { note: None } => {
            println!("validation rows verified against the run's fingerprint\n")
        }
        ValidationCheck::Verified { note: Some(note) } => {
            println!("validation rows verified: {note}\n")
        }
        ValidationCheck::NotVerifiable { reason } => {
            println!("NOT VERIFIABLE — these may not be the run's validation scores: {reason}\n")
        }
    }
    print_metrics(&review.metrics);
    if let Some(trust) = &review.trust {
        print_trust(trust);
    }
    let wrong: Vec<_> = review
        .rows
        .iter()
        .filter(|r| r.truth != r.predicted)
        .collect();
    println!(
        "\n{} of {} validation rows misclassified:",
        wrong.len(),
        review.rows.len()
    );
    for r in wrong {
        println!(
            "  line {:>6}  true {:<20} predicted {:<20} {:>5.1}%  {}",
            r.line,
            clip(&r.truth, 20),
            clip(&r.predicted, 20),
            r.confidence * 100.0,
            clip(&r.text, 60)
        );
    }
}

/// Two runs compared: the counts, the metrics before and after, and every ticket
/// whose prediction changed, grouped.
pub fn print_diff(d: &RunDiff) {
    let basis = match &d.basis {
        DiffBasis::ValidationRows {
            only_before,
            only_after,
        } if only_before + only_after > 0 => format!(
            "shared validation rows ({only_before} only in the first run, {only_after} only in the second, left out)"
        ),
        DiffBasis::ValidationRows { .. } => "validation rows".to_string(),
        DiffBasis::File { path } => format!("rows of {}, scored by both models", path.display()),
    };
    println!(
        "{} → {}: {} {basis}; {} fixed, {} broken, {} changed, {} corrected",
        d.before, d.after, d.rows_compared, d.fixed, d.broken, d.changed, d.corrected
    );
    println!(
        "accuracy {:.4} → {:.4} ({:+.2} pt), macro-F1 {:.4} → {:.4}",
        d.accuracy_before,
        d.accuracy_after,
        100.0 * (d.accuracy_after - d.accuracy_before),
        d.macro_f1_before,
        d.macro_f1_after
    );
    for (change, title) in [
        (Change::Fixed, "fixed (wrong → right)"),
        (Change::Broken, "broken (right → wrong)"),
        (Change::Changed, "changed (wrong → another wrong)"),
        (
            Change::Corrected,
            "corrected (class corrected, same prediction)",
        ),
    ] {
        let rows: Vec<_> = d.rows.iter().filter(|r| r.change == change).collect();
        if rows.is_empty() {
            continue;
        }
        println!("\n{title}: {}", rows.len());
        for r in rows {
            let truth = match &r.truth_before {
                Some(old) => format!("{old}→{}", r.truth),
                None => r.truth.clone(),
            };
            println!(
                "  line {:>6}  true {:<16} {:<16} {:>5.1}% → {:<16} {:>5.1}%  {}",
                r.line,
                clip(&truth, 16),
                clip(&r.before, 16),
                r.before_confidence * 100.0,
                clip(&r.after, 16),
                r.after_confidence * 100.0,
                clip(&r.text, 50)
            );
        }
    }
}

//! Progress bars: training (with its per-epoch table) and model downloads.

use super::metrics::describe_finishing;
use dialect::model::resolve::DownloadEvent;
use dialect::train::suspects::SuspectProgress;
use dialect::TrainEvent;
use indicatif::{ProgressBar, ProgressStyle};

/// Progress bar and per-epoch table for human eyes.
#[derive(Default)]
pub struct Progress {
    bar: Option<ProgressBar>,
    epochs: usize,
}

impl Progress {
    /// Show `event`: a line, a table row, or a move of the bar.
    pub fn show(&mut self, event: &TrainEvent) {
        match event {
            TrainEvent::Started {
                model,
                device,
                labels,
                train_rows,
                validation_rows,
                epochs,
                total_steps,
                max_length,
                truncated_rows,
                newly_initialised,
                precision,
                multi_label,
                ..
            } => {
                eprintln!(
                    "Training {model} on {device} ({precision}): {train_rows} training rows, {validation_rows} validation rows, {} classes, max length {max_length}",
                    labels.len()
                );
                if *truncated_rows > 0 {
                    eprintln!(
                        "{truncated_rows} of {train_rows} training texts ({:.1}%) are longer than {max_length} tokens and will be cut (--max-length)",
                        100.0 * *truncated_rows as f64 / (*train_rows).max(1) as f64
                    );
                }
                if !newly_initialised.is_empty() {
                    eprintln!("Newly initialised (not in the checkpoint): {}",
                        newly_initialised.join(", ")
                    );
                }
                // Label sets: the whole set right, at 0.5 per label during training.
                let accuracy = if *multi_label { "subset acc" } else { "accuracy" };
                eprintln!(
                    "{:>5}  {:>10}  {:>9}  {:>9}  {:>8}  {:>9}",
                    "epoch", "train loss", "val loss", accuracy, "macro-F1", "samples/s"
                );
                self.epochs = *epochs;
                let bar = ProgressBar::new(*total_steps as u64);
                bar.set_style(
                    ProgressStyle::with_template(
                        "{spinner} [{elapsed_precise}] {bar:30.cyan/blue} step {pos}/{len} {msg} ETA {eta}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                self.bar = Some(bar);
            }
            TrainEvent::Encoding { done, total } => {
                if let Some(bar) = &self.bar {
                    bar.set_length(*total as u64);
                    bar.set_position(*done as u64);
                    bar.set_message(format!("encoding {done}/{total} texts (frozen encoder)"));
                }
            }
            TrainEvent::Step {
                epoch,
                step,
                loss,
                samples_per_second,
                ..
            } => {
                if let Some(bar) = &self.bar {
                    bar.set_position(*step as u64);
                    bar.set_message(format!(
                        "epoch {epoch}/{} loss {loss:.4} {samples_per_second:.1} samples/s",
                        self.epochs
                    ));
                }
            }
            TrainEvent::Evaluated {
                epoch,
                train_loss,
                eval_loss,
                samples_per_second,
                metrics,
                ..
            } => self.println(format!(
                "{epoch:>5}  {train_loss:>10.4}  {eval_loss:>9.4}  {:>9.4}  {:>8.4}  {samples_per_second:>9.1}",
                metrics.accuracy, metrics.macro_f1
            )),
            TrainEvent::CheckpointSaved {
                epoch,
                metric,
                value,
                path,
            } => {
                self.println(format!(
                    "        best so far: epoch {epoch}, {metric} {value:.4} → saved to {}",
                    path.display()
                ));
            }
            TrainEvent::Int8Checked { .. }
            | TrainEvent::Calibrated { .. }
            | TrainEvent::ThresholdsTuned { .. } => {
                if let Some(line) = describe_finishing(event) {
                    self.println(line)
                }
            }
            TrainEvent::Finished { summary } | TrainEvent::Cancelled { summary, .. } => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
                let state = if summary.cancelled {
                    "Cancelled"
                } else if summary.stopped_early {
                    "Stopped early"
                } else {
                    "Finished"
                };
                match (summary.best_epoch, summary.best_value) {
                    (Some(epoch), Some(value)) => eprintln!(
                        "{state} in {:.1}s. Best: epoch {epoch}, {} {value:.4}. Model: {}",
                        summary.seconds,
                        summary.best_metric,
                        summary.output_dir.display()
                    ),
                    _ => eprintln!(
                        "{state} in {:.1}s before any evaluation; nothing was saved.",
                        summary.seconds
                    ),
                }
            }
            TrainEvent::Failed { .. } => {
                if let Some(bar) = self.bar.take() {
                    bar.abandon();
                }
            }
        }
    }

    /// Print `line` above the bar (or plainly when there is none to draw).
    fn println(&self, line: String) {
        match &self.bar {
            Some(bar) if !bar.is_hidden() => bar.println(line),
            _ => eprintln!("{line}"),
        }
    }
}

/// A download's progress: the file being fetched and its bytes.
pub struct DownloadBar(ProgressBar);

impl DownloadBar {
    /// A bar with no length yet: the first file's progress sets it.
    pub fn new() -> Self {
        Self(ProgressBar::new(0))
    }

    /// Show `event` on the bar; clear it when the download is done.
    pub fn show(&self, event: DownloadEvent) {
        let bar = &self.0;
        match event {
            DownloadEvent::File { file, index, files } => {
                bar.set_message(format!("{file} ({}/{files})", index + 1));
                bar.set_position(0);
            }
            DownloadEvent::Progress { done, total, .. } => {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            }
            DownloadEvent::Done => bar.finish_and_clear(),
        }
    }
}

/// The suspect search's progress: encoding the tickets, then fitting each fold (hidden
/// for JSON output).
pub struct SuspectBar(ProgressBar);

impl SuspectBar {
    /// A bar, hidden when `quiet`.
    pub fn new(quiet: bool) -> Self {
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(0)
        };
        Self(bar)
    }

    /// Show `progress` on the bar.
    pub fn show(&self, progress: &SuspectProgress) {
        let bar = &self.0;
        match *progress {
            SuspectProgress::Encoding { done, total } => {
                bar.set_message("encoding tickets");
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            }
            SuspectProgress::Fitting { fold, folds } => {
                bar.set_message(format!("cross-validating (fold {fold}/{folds})"));
                bar.set_length(folds as u64);
                bar.set_position(fold as u64 - 1);
            }
        }
    }

    /// Clear the bar.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

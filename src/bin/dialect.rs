//! `dialect`: the headless command line over the Dialect engine.
//!
//! Exit codes: 0 success, 1 a problem the user can fix (message says what and how),
//! 2 an internal error, 130 training cancelled with Ctrl-C.

use clap::{Args, Parser, Subcommand};
use dialect::dataset::{read_labeled, stratified_split};
use dialect::train::TrainData;
use dialect::{
    BestMetric, DeviceChoice, EngineError, Metrics, Predictor, TextSpec, TrainConfig, TrainEvent,
    Trainer,
};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "dialect",
    version,
    about = "Teach a pre-trained transformer the dialect of your support tickets",
    args_override_self = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fine-tune a model on a labelled CSV and save the best checkpoint.
    Train(TrainArgs),
    /// Evaluate a fine-tuned model on a labelled CSV.
    Eval(EvalArgs),
    /// Predict labels for texts, or for every row of a CSV.
    Predict(PredictArgs),
}

#[derive(Args)]
struct TextArgs {
    /// Column holding the ticket text; repeat to join several columns in order.
    #[arg(long = "text-column", default_value = "text")]
    text_columns: Vec<String>,
    /// Separator placed between joined text columns.
    #[arg(long, default_value = "\n\n")]
    text_separator: String,
}

impl TextArgs {
    fn spec(&self) -> TextSpec {
        TextSpec {
            columns: self.text_columns.clone(),
            separator: self.text_separator.clone(),
        }
    }
}

#[derive(Args)]
struct TrainArgs {
    /// Training data (CSV, TSV; delimiter is detected).
    data: PathBuf,
    #[command(flatten)]
    text: TextArgs,
    /// Column holding the label.
    #[arg(long, default_value = "label")]
    label_column: String,
    /// Separate validation file (same columns); otherwise a stratified split is held out.
    #[arg(long)]
    validation: Option<PathBuf>,
    /// Share of rows held out for validation when no --validation file is given.
    #[arg(long, default_value_t = 0.1)]
    validation_fraction: f64,
    /// Base model: a local folder in Hugging Face layout or a hub id.
    #[arg(long, default_value = dialect::model::resolve::DEFAULT_MODEL)]
    model: String,
    /// Folder for the best model (Hugging Face layout).
    #[arg(long, default_value = "dialect-model")]
    out: PathBuf,
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    #[arg(long, default_value_t = 16)]
    batch_size: usize,
    /// Learning rate (peak, decayed linearly to 0).
    #[arg(long = "lr", default_value_t = 2e-5)]
    learning_rate: f64,
    #[arg(long, default_value_t = 0.01)]
    weight_decay: f64,
    #[arg(long, default_value_t = 0)]
    warmup_steps: usize,
    #[arg(long, default_value_t = 1.0)]
    max_grad_norm: f64,
    /// Truncate texts to this many tokens.
    #[arg(long, default_value_t = 128)]
    max_length: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Metric that picks the best epoch: accuracy or macro-f1.
    #[arg(long, default_value = "accuracy")]
    best_metric: String,
    /// Stop after this many epochs without improvement.
    #[arg(long)]
    early_stopping: Option<usize>,
    /// Feed batches in random order instead of grouping rows of similar length.
    #[arg(long)]
    no_group_by_length: bool,
    /// auto, cpu, cuda or metal.
    #[arg(long, default_value = "auto")]
    device: String,
    /// Print every event as a JSON line instead of a progress bar.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct EvalArgs {
    /// Fine-tuned model folder.
    model: PathBuf,
    /// Labelled data.
    data: PathBuf,
    #[command(flatten)]
    text: TextArgs,
    #[arg(long, default_value = "label")]
    label_column: String,
    #[arg(long, default_value = "auto")]
    device: String,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct PredictArgs {
    /// Fine-tuned model folder.
    model: PathBuf,
    /// Texts to classify.
    texts: Vec<String>,
    /// Classify every row of this CSV instead.
    #[arg(long, requires = "output")]
    input: Option<PathBuf>,
    /// Where to write the CSV with predictions.
    #[arg(long, requires = "input")]
    output: Option<PathBuf>,
    #[command(flatten)]
    text: TextArgs,
    #[arg(long, default_value = "auto")]
    device: String,
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(args) => train(args),
        Command::Eval(args) => eval(args),
        Command::Predict(args) => predict(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            if e.is_user_error() {
                ExitCode::from(1)
            } else {
                ExitCode::from(2)
            }
        }
    }
}

fn train(args: TrainArgs) -> Result<ExitCode, EngineError> {
    let config = TrainConfig {
        model: args.model.clone(),
        output_dir: args.out.clone(),
        epochs: args.epochs,
        batch_size: args.batch_size,
        learning_rate: args.learning_rate,
        weight_decay: args.weight_decay,
        warmup_steps: args.warmup_steps,
        max_grad_norm: args.max_grad_norm,
        max_length: args.max_length,
        seed: args.seed,
        best_metric: args.best_metric.parse::<BestMetric>()?,
        early_stopping_patience: args.early_stopping,
        validation_fraction: args.validation_fraction,
        group_by_length: !args.no_group_by_length,
        device: args.device.parse::<DeviceChoice>()?,
        ..TrainConfig::default()
    };
    config.validate()?;
    let spec = args.text.spec();
    let data = read_labeled(&args.data, &spec, &args.label_column)?;
    let skipped = data.skipped_empty_text + data.skipped_empty_label;
    let (train, validation, labels) = match &args.validation {
        Some(path) => {
            let val = read_labeled(path, &spec, &args.label_column)?;
            let unknown: Vec<&String> = val
                .labels
                .iter()
                .filter(|l| !data.labels.contains(l))
                .collect();
            if !unknown.is_empty() {
                return Err(EngineError::data(
                    path,
                    format!("labels {unknown:?} do not occur in the training file"),
                ));
            }
            (data.examples, val.examples, data.labels)
        }
        None => {
            let (t, v) = stratified_split(&data.examples, config.validation_fraction, config.seed)?;
            (t, v, data.labels)
        }
    };
    if !args.json && skipped > 0 {
        eprintln!(
            "note: skipped {} rows with an empty text and {} with an empty label",
            data.skipped_empty_text, data.skipped_empty_label
        );
    }
    let cancel = Arc::new(AtomicBool::new(false));
    {
        let cancel = cancel.clone();
        let _ = ctrlc::set_handler(move || {
            if cancel.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            eprintln!("\ncancelling after this step (Ctrl-C again to quit now)…");
        });
    }
    let data = TrainData {
        train,
        validation,
        labels,
    };
    let mut view = if args.json {
        None
    } else {
        Some(Progress::default())
    };
    let summary = Trainer::run(
        &config,
        &data,
        |event| match &mut view {
            Some(v) => v.show(event),
            None => println!("{}", serde_json::to_string(event).unwrap_or_default()),
        },
        &cancel,
    )?;
    if summary.cancelled {
        return Ok(ExitCode::from(130));
    }
    Ok(ExitCode::SUCCESS)
}

/// Progress bar and per-epoch table for human eyes.
#[derive(Default)]
struct Progress {
    bar: Option<ProgressBar>,
    epochs: usize,
}

impl Progress {
    fn show(&mut self, event: &TrainEvent) {
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
                newly_initialised,
                ..
            } => {
                eprintln!(
                    "Training {model} on {device}: {train_rows} training rows, {validation_rows} validation rows, {} classes, max length {max_length}",
                    labels.len()
                );
                if !newly_initialised.is_empty() {
                    eprintln!("Newly initialised (not in the checkpoint): {}",
                        newly_initialised.join(", ")
                    );
                }
                eprintln!(
                    "{:>5}  {:>10}  {:>9}  {:>9}  {:>8}  {:>9}",
                    "epoch", "train loss", "val loss", "accuracy", "macro-F1", "samples/s"
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

    fn println(&self, line: String) {
        match &self.bar {
            Some(bar) if !bar.is_hidden() => bar.println(line),
            _ => eprintln!("{line}"),
        }
    }
}

fn eval(args: EvalArgs) -> Result<ExitCode, EngineError> {
    let predictor = Predictor::load(&args.model, args.device.parse()?)?;
    let metrics = predictor.evaluate_file(&args.data, &args.text.spec(), &args.label_column)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&metrics)?);
    } else {
        print_metrics(&metrics);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_metrics(m: &Metrics) {
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

fn predict(args: PredictArgs) -> Result<ExitCode, EngineError> {
    let predictor = Predictor::load(&args.model, args.device.parse()?)?;
    if let (Some(input), Some(output)) = (&args.input, &args.output) {
        let n = predictor.predict_file(input, &args.text.spec(), output)?;
        eprintln!("wrote {n} predictions to {}", output.display());
        return Ok(ExitCode::SUCCESS);
    }
    if args.texts.is_empty() {
        return Err(EngineError::Config(
            "give texts to classify, or --input FILE --output FILE".into(),
        ));
    }
    let predictions = predictor.predict(&args.texts)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&predictions)?);
        return Ok(ExitCode::SUCCESS);
    }
    for (text, p) in args.texts.iter().zip(&predictions) {
        let mut ranked: Vec<_> = p.scores.iter().collect();
        ranked.sort_by(|a, b| b.probability.total_cmp(&a.probability));
        let top: Vec<String> = ranked
            .iter()
            .take(3)
            .map(|s| format!("{} {:.3}", s.label, s.probability))
            .collect();
        println!(
            "{}\t{:.3}\t{}\t[top: {}]",
            p.label,
            p.confidence,
            text,
            top.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

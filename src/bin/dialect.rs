//! `dialect`: the headless command line over the Dialect engine.
//!
//! Exit codes: 0 success, 1 a problem the user can fix (message says what and how),
//! 2 an internal error, 130 training cancelled with Ctrl-C.

use clap::{Args, Parser, Subcommand};

/// mimalloc keeps freed memory for reuse: every tensor op allocates its output, and
/// with glibc's malloc large buffers come back as fresh zeroed pages each time
/// (≈30% of CPU time in a prediction profile; bench/README.md).
#[global_allocator]
static GLOBAL: dialect::allocator::Allocator = dialect::allocator::Allocator {};
use dialect::dataset::inspect::{inspect, InspectOptions, Inspection, SplitPlan};
use dialect::dataset::profile::{profile_file, Profile};
use dialect::dataset::quality::Severity;
use dialect::dataset::source::Format;
use dialect::dataset::LabelMap;
use dialect::device::available_devices;
use dialect::device_check::{check_device, DeviceCheck};
use dialect::model::folder::copy_model;
use dialect::model::resolve::{download_model, preset_status, resolve_model, DownloadEvent};
use dialect::model::tokenize::TextEncoder;
use dialect::predict::check_trained_columns;
use dialect::quantize::check_file;
use dialect::review::{review_run, ValidationCheck};
use dialect::runs::{RunStatus, RunStore};
use dialect::train::DataSpec;
use dialect::{
    BestMetric, DeviceChoice, EngineError, Int8Check, Method, Metrics, Precision,
    PredictionPrecision, Predictor, TextSpec, TrainConfig, TrainEvent, Trainer,
};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
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
    Train(Box<TrainArgs>),
    /// Profile a data file and report what is wrong with it before training.
    Inspect(InspectArgs),
    /// List past training runs, show one, or delete one.
    Runs(RunsArgs),
    /// List the compute devices and whether they can be used here.
    Devices {
        /// Also self-test each usable GPU against the CPU (forward, gradients, AdamW,
        /// dropout, a few training steps), in f32 and, where supported, bf16.
        #[arg(long)]
        check: bool,
        #[arg(long)]
        json: bool,
    },
    /// List the preset models and whether each is already downloaded.
    Models {
        /// Download this hub model into the Hugging Face cache (with progress).
        #[arg(long)]
        download: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Evaluate a fine-tuned model on a labelled CSV.
    Eval(EvalArgs),
    /// Predict labels for texts, or for every row of a CSV.
    Predict(PredictArgs),
    /// Compare int8 prediction with f32 on labelled data and record the result in the
    /// model's card: a model whose int8 accuracy is within half a point of its f32
    /// accuracy then predicts in int8 on the CPU (CPU training does this check on the
    /// validation split when it ends).
    Quantize(QuantizeArgs),
}

#[derive(Args)]
struct TextArgs {
    /// Column holding the ticket text; repeat to join several columns in order.
    /// Default: `text` for train; for eval and predict, the columns the model was
    /// trained on (else `text`).
    #[arg(long = "text-column")]
    text_columns: Vec<String>,
    /// Separator placed between joined text columns [default: blank line, or the
    /// model's].
    #[arg(long)]
    text_separator: Option<String>,
}

impl TextArgs {
    /// The columns given, else `text`.
    fn spec(&self) -> TextSpec {
        self.spec_or(None)
    }

    /// The columns given, else `trained` (the model's recorded text), else `text`.
    fn spec_or(&self, trained: Option<&TextSpec>) -> TextSpec {
        let mut spec = match (self.text_columns.is_empty(), trained) {
            (false, _) => TextSpec::columns(self.text_columns.clone()),
            (true, Some(trained)) => trained.clone(),
            (true, None) => TextSpec::column("text"),
        };
        if let Some(separator) = &self.text_separator {
            spec.separator = separator.clone();
        }
        spec
    }

    /// The spec to read a file with for `predictor`: with no columns given, the
    /// model's own, which the file must have.
    fn spec_for(&self, predictor: &Predictor, input: &Path) -> Result<TextSpec, EngineError> {
        let trained = predictor
            .text_spec()
            .filter(|_| self.text_columns.is_empty());
        if let Some(trained) = trained {
            check_trained_columns(input, trained)?;
        }
        Ok(self.spec_or(trained))
    }
}

#[derive(Args)]
struct LabelArgs {
    /// Column holding the label.
    #[arg(long, default_value = "label")]
    label_column: String,
    /// JSON label map (raw value → class, or null to drop); see `dialect inspect --write-label-map`.
    #[arg(long)]
    label_map: Option<PathBuf>,
}

impl LabelArgs {
    fn map(&self) -> Result<Option<LabelMap>, EngineError> {
        self.label_map.as_deref().map(LabelMap::load).transpose()
    }
}

#[derive(Args)]
struct TrainArgs {
    /// Training data (CSV, TSV; delimiter is detected).
    #[arg(required_unless_present = "resume", conflicts_with = "resume")]
    data: Option<PathBuf>,
    /// Resume this cancelled, failed or interrupted run from its last completed epoch,
    /// with the run's own data and settings (other settings are ignored).
    #[arg(long, value_name = "RUN")]
    resume: Option<String>,
    #[command(flatten)]
    text: TextArgs,
    #[command(flatten)]
    label: LabelArgs,
    /// Train even when the data check finds blocking problems.
    #[arg(long)]
    force: bool,
    /// Run store to record the run in (settings, events, model); default:
    /// $DIALECT_HOME/runs or the user data folder (the app's store too).
    #[arg(long)]
    runs_dir: Option<PathBuf>,
    /// Separate validation file (same columns); otherwise a stratified split is held out.
    #[arg(long)]
    validation: Option<PathBuf>,
    /// Share of rows held out for validation when no --validation file is given.
    #[arg(long, default_value_t = 0.1)]
    validation_fraction: f64,
    /// Train on a stratified sample of at most this many rows (quick experiments).
    #[arg(long)]
    max_rows: Option<usize>,
    /// Base model: a local folder in Hugging Face layout or a hub id.
    #[arg(long, default_value = dialect::model::resolve::DEFAULT_MODEL)]
    model: String,
    /// Also copy the best model (Hugging Face layout) to this folder when the run ends;
    /// an existing model folder there is replaced as a whole, anything else is refused.
    #[arg(long)]
    out: Option<PathBuf>,
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
    /// Batch rows of similar length together (less padding on GPUs; the CPU's batches
    /// have none). Batches then mix classes less, which can cost accuracy.
    #[arg(long)]
    group_by_length: bool,
    /// auto, cpu, cuda or metal.
    #[arg(long, default_value = "auto")]
    device: String,
    /// The instant baseline instead of fine-tuning: encode each text once with the
    /// frozen encoder (mean pooling) and fit a linear classifier (seconds to minutes).
    #[arg(long)]
    baseline: bool,
    /// Compute precision: auto (bf16 mixed precision on CUDA GPUs that run it natively,
    /// f32 elsewhere), f32 or bf16. Weights and optimiser state stay f32.
    #[arg(long, default_value = "auto")]
    precision: String,
    /// Replace the base model's classification head when it does not fit the classes
    /// (e.g. to fine-tune an existing classifier on other classes).
    #[arg(long)]
    new_head: bool,
    /// Print every event as a JSON line instead of a progress bar.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct RunsArgs {
    /// Run store folder (default: the store the app uses too, $DIALECT_HOME/runs or
    /// dialect/runs in the platform's data folder, e.g. ~/.local/share/dialect/runs).
    #[arg(long, global = true)]
    runs_dir: Option<PathBuf>,
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    action: Option<RunsAction>,
}

#[derive(Subcommand)]
enum RunsAction {
    /// List runs, newest first (the default).
    List,
    /// Show one run: settings, per-epoch metrics, model folder.
    Show { id: String },
    /// Delete a run and its model (refused while a process trains it).
    Delete { id: String },
    /// Copy a run's model folder (Hugging Face layout) into `<folder>/dialect-<id>`.
    Export { id: String, folder: PathBuf },
    /// The best model's prediction for every validation row, with the metrics; lists
    /// the misclassified rows (all rows with --json). Refused when the data file no
    /// longer holds the run's validation rows.
    Review { id: String },
}

#[derive(Args)]
struct InspectArgs {
    /// Data file (CSV, TSV or JSONL; delimiter and encoding are detected).
    data: PathBuf,
    /// Text column(s), in order; the suggested one when omitted.
    #[arg(long = "text-column")]
    text_columns: Vec<String>,
    #[arg(long, default_value = "\n\n")]
    text_separator: String,
    /// Label column; the suggested one when omitted.
    #[arg(long)]
    label_column: Option<String>,
    /// JSON label map to apply before the checks.
    #[arg(long)]
    label_map: Option<PathBuf>,
    /// Separate validation file (adds the train/validation leakage check).
    #[arg(long)]
    validation: Option<PathBuf>,
    /// Model whose tokenizer measures truncation (folder or hub id); skipped when omitted.
    #[arg(long)]
    model: Option<String>,
    /// Max length in tokens for the truncation check.
    #[arg(long, default_value_t = 128)]
    max_length: usize,
    /// Write a label map with the suggested merges, to edit and pass to --label-map.
    #[arg(long)]
    write_label_map: Option<PathBuf>,
    /// Only profile the file (one streaming pass, bounded memory); skip the data check.
    #[arg(long)]
    profile_only: bool,
    /// Print the whole inspection as JSON.
    #[arg(long)]
    json: bool,
}

/// A fine-tuned model and labelled data to score it on (eval, quantize).
#[derive(Args)]
struct ModelOnData {
    /// Fine-tuned model folder.
    model: PathBuf,
    /// Labelled data.
    data: PathBuf,
    #[command(flatten)]
    text: TextArgs,
    #[command(flatten)]
    label: LabelArgs,
}

#[derive(Args)]
struct EvalArgs {
    #[command(flatten)]
    scored: ModelOnData,
    #[arg(long, default_value = "auto")]
    device: String,
    #[command(flatten)]
    precision: PrecisionArgs,
    #[arg(long)]
    json: bool,
}

/// `--precision` of eval and predict.
#[derive(Args)]
struct PrecisionArgs {
    /// f32, or int8 (CPU only) [default: int8 on the CPU when the model passed its
    /// int8 check (`dialect quantize`), else f32].
    #[arg(long)]
    precision: Option<String>,
}

impl PrecisionArgs {
    fn load(&self, model: &Path, device: &str) -> Result<Predictor, EngineError> {
        let precision = self.precision.as_deref().map(str::parse).transpose()?;
        Predictor::load_with(model, device.parse()?, precision)
    }
}

#[derive(Args)]
struct QuantizeArgs {
    /// The model, and labelled data to compare on (e.g. the validation or test split).
    #[command(flatten)]
    scored: ModelOnData,
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
    #[command(flatten)]
    precision: PrecisionArgs,
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    dialect::runtime::tune();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(args) => inspect_cmd(args),
        Command::Train(args) => train(*args),
        Command::Runs(args) => runs_cmd(args),
        Command::Devices { check, json } => devices_cmd(check, json),
        Command::Models { download, json } => models_cmd(download, json),
        Command::Eval(args) => eval(args),
        Command::Predict(args) => predict(args),
        Command::Quantize(args) => quantize(args),
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
    let store = RunStore::new(args.runs_dir.clone().unwrap_or_else(RunStore::default_root));
    if let Some(id) = &args.resume {
        let run = store.reopen(id)?;
        let data = run.reload_data()?;
        return train_run(run, &data, &args, true);
    }
    let data_path = args
        .data
        .clone()
        .ok_or_else(|| EngineError::Config("give the training data file".into()))?;
    let config = TrainConfig {
        model: args.model.clone(),
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
        group_by_length: args.group_by_length,
        device: args.device.parse::<DeviceChoice>()?,
        precision: args.precision.parse::<Precision>()?,
        method: if args.baseline {
            Method::Baseline
        } else {
            Method::FineTune
        },
        new_head: args.new_head,
        ..TrainConfig::default()
    };
    config.validate()?;
    let spec = DataSpec {
        path: data_path,
        text: args.text.spec(),
        label_column: args.label.label_column.clone(),
        label_map: args.label.map()?,
        validation: args.validation.clone(),
        max_rows: args.max_rows,
    };
    let loaded = spec.load(config.validation_fraction, config.seed, args.force)?;
    if !args.json {
        for w in loaded.warnings.items() {
            eprintln!("warning: {w}");
        }
        for f in loaded
            .report
            .findings
            .iter()
            .filter(|f| f.severity > Severity::Info)
        {
            eprintln!("{}: {} → {}", severity_name(f.severity), f.message, f.fix);
        }
    }
    let run = store.create(&config, &spec, &loaded.data.validation)?;
    train_run(run, &loaded.data, &args, false)
}

/// Train (or resume) the recorded `run` on `data`, logging its events, showing
/// progress, stopping cleanly on Ctrl-C, and copying the best model to `--out`.
fn train_run(
    mut run: dialect::runs::Run,
    data: &dialect::TrainData,
    args: &TrainArgs,
    resume: bool,
) -> Result<ExitCode, EngineError> {
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
    let config = run.config().clone();
    if !args.json {
        let verb = if resume { "resuming run" } else { "run" };
        eprintln!(
            "{verb} {} (model in {})",
            run.id(),
            config.output_dir.display()
        );
    }
    let mut view = if args.json {
        None
    } else {
        Some(Progress::default())
    };
    let mut log_error = None;
    let on_event = |event: &TrainEvent| {
        if let Err(e) = run.log(event) {
            log_error.get_or_insert(e);
        }
        match &mut view {
            Some(v) => v.show(event),
            None => println!("{}", serde_json::to_string(event).unwrap_or_default()),
        }
    };
    let result = if resume {
        Trainer::resume(&config, data, on_event, &cancel)
    } else {
        Trainer::run(&config, data, on_event, &cancel)
    };
    if let Some(e) = log_error {
        eprintln!("warning: could not record the run: {e}");
    }
    let summary = result?;
    if let (Some(out), Some(_)) = (&args.out, summary.best_epoch) {
        copy_model(&config.output_dir, out)?;
        if !args.json {
            eprintln!("Model copied to {}", out.display());
        }
    }
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
                truncated_rows,
                newly_initialised,
                precision,
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
            TrainEvent::Int8Checked { check } => self.println(describe_int8(check)),
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

fn runs_cmd(args: RunsArgs) -> Result<ExitCode, EngineError> {
    let store = RunStore::new(args.runs_dir.unwrap_or_else(RunStore::default_root));
    match args.action.unwrap_or(RunsAction::List) {
        RunsAction::List => {
            let runs = store.list()?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&runs)?);
            } else if runs.is_empty() {
                println!("no runs in {}", store.root().display());
            } else {
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
        }
        RunsAction::Show { id } => {
            let r = store.get(&id)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                println!("run {} — {:?}", r.id, r.status);
                if let (RunStatus::Running, Some(pid)) = (r.status, r.pid) {
                    println!("training in process {pid}");
                }
                println!("model {}, data {}", r.config.model, r.data.path.display());
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
                if let Some(s) = &r.summary {
                    for e in &s.epochs {
                        println!(
                            "  epoch {}: train loss {:.4}, val loss {:.4}, accuracy {:.4}, macro-F1 {:.4}",
                            e.epoch, e.train_loss, e.eval_loss, e.metrics.accuracy, e.metrics.macro_f1
                        );
                    }
                }
                match store.model_dir(&id) {
                    Ok(dir) => println!("best model: {}", dir.display()),
                    Err(e) => println!("{e}"),
                }
            }
        }
        RunsAction::Delete { id } => {
            store.delete(&id)?;
            eprintln!("deleted run {id}");
        }
        RunsAction::Export { id, folder } => {
            let dir = store.export(&id, &folder)?;
            println!("{}", dir.display());
        }
        RunsAction::Review { id } => {
            let review = review_run(&store, &id, DeviceChoice::Auto)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&review)?);
            } else {
                match &review.validation {
                    ValidationCheck::Verified { note: None } => {
                        println!("validation rows verified against the run's fingerprint\n")
                    }
                    ValidationCheck::Verified { note: Some(note) } => {
                        println!("validation rows verified: {note}\n")
                    }
                    ValidationCheck::NotVerifiable { reason } => println!(
                        "NOT VERIFIABLE — these may not be the run's validation scores: {reason}\n"
                    ),
                }
                print_metrics(&review.metrics);
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
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn devices_cmd(check: bool, json: bool) -> Result<ExitCode, EngineError> {
    let devices = available_devices();
    let checks = if check {
        // The CPU is the reference; without a GPU it checks itself.
        let gpus: Vec<DeviceChoice> = devices
            .iter()
            .filter(|d| d.available && d.choice != DeviceChoice::Cpu)
            .map(|d| d.choice)
            .collect();
        let targets = if gpus.is_empty() {
            vec![DeviceChoice::Cpu]
        } else {
            gpus
        };
        let mut all = Vec::new();
        for choice in targets {
            all.extend(check_device(choice)?);
        }
        all
    } else {
        Vec::new()
    };
    let passed = checks.iter().all(DeviceCheck::passed);
    if json {
        let out = if check {
            serde_json::json!({ "devices": devices, "checks": checks })
        } else {
            serde_json::to_value(&devices)?
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for d in devices {
            let choice = format!("{:?}", d.choice).to_lowercase();
            match d.note {
                None => {
                    let mut line = format!("{choice:<6} available");
                    if let Some(name) = &d.name {
                        line += &format!(": {name}");
                    }
                    let gib = |bytes: u64| bytes as f64 / (1u64 << 30) as f64;
                    if let Some(total) = d.memory_bytes {
                        line += &format!(", {:.1} GiB", gib(total));
                        if let Some(free) = d.free_bytes {
                            line += &format!(" ({:.1} GiB free)", gib(free));
                        }
                    }
                    line += if d.bf16 {
                        ", bf16 mixed precision"
                    } else {
                        ", f32"
                    };
                    println!("{line}");
                }
                Some(note) => println!("{choice:<6} unavailable: {note}"),
            }
        }
        for c in &checks {
            let verdict = if c.passed() { "passed" } else { "FAILED" };
            println!("\ncheck {} {}: {verdict}", c.device, c.precision);
            for item in &c.items {
                let mark = if item.passed { "ok  " } else { "FAIL" };
                println!("  {mark} {:<26} {}", item.name, item.detail);
            }
        }
    }
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn models_cmd(download: Option<String>, json: bool) -> Result<ExitCode, EngineError> {
    if let Some(id) = download {
        let bar = ProgressBar::new(0);
        let dir = download_model(&id, &mut |event| match event {
            DownloadEvent::File { file, index, files } => {
                bar.set_message(format!("{file} ({}/{files})", index + 1));
                bar.set_position(0);
            }
            DownloadEvent::Progress { done, total, .. } => {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            }
            DownloadEvent::Done => bar.finish_and_clear(),
        })?;
        println!("{}", dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    let models = preset_status();
    if json {
        println!("{}", serde_json::to_string_pretty(&models)?);
    } else {
        for m in models {
            match m.cached {
                Some(dir) => println!("{:<42} on disk ({})", m.id, dir.display()),
                None => println!("{:<42} needs a download", m.id),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Blocking => "BLOCKING",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

fn inspect_cmd(args: InspectArgs) -> Result<ExitCode, EngineError> {
    if args.profile_only {
        let profile = profile_file(&args.data)?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&profile)?);
        } else {
            print_profile(&profile);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let map = args.label_map.as_deref().map(LabelMap::load).transpose()?;
    let encoder = match &args.model {
        Some(m) => Some(TextEncoder::load(&resolve_model(m)?, args.max_length)?),
        None => None,
    };
    let options = InspectOptions {
        text: (!args.text_columns.is_empty()).then(|| TextSpec {
            columns: args.text_columns.clone(),
            separator: args.text_separator.clone(),
        }),
        label_column: args.label_column.clone(),
        label_map: map.as_ref(),
        validation: args.validation.as_deref(),
        encoder: encoder.as_ref(),
        // Without a validation file, check leakage across the split `train` makes by default.
        split: Some(SplitPlan {
            validation_fraction: TrainConfig::default().validation_fraction,
            seed: TrainConfig::default().seed,
            max_rows: None,
        }),
    };
    let inspection = inspect(&args.data, &options)?;
    if let Some(path) = &args.write_label_map {
        let counts = inspection.raw_labels.iter().cloned().collect();
        LabelMap::suggested(&counts).save(path)?;
        eprintln!(
            "wrote a label map with the suggested merges to {}",
            path.display()
        );
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&inspection)?);
    } else {
        print_inspection(&inspection, args.model.is_some());
    }
    Ok(ExitCode::SUCCESS)
}

fn clip(text: &str, chars: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() > chars {
        format!("{}…", flat.chars().take(chars - 1).collect::<String>())
    } else {
        flat
    }
}

/// The first `n` values with their counts, each clipped to `chars`, and how many more.
fn top_counts(values: &[(String, usize)], n: usize, chars: usize) -> String {
    let shown: Vec<String> = values
        .iter()
        .take(n)
        .map(|(v, count)| format!("{} {count}", clip(v, chars)))
        .collect();
    match values.len().checked_sub(n) {
        Some(more) if more > 0 => format!("{}, … {more} more", shown.join(", ")),
        _ => shown.join(", "),
    }
}

fn print_profile(p: &Profile) {
    let format = match p.format {
        Format::Delimited { delimiter: '\t' } => "delimited, tab".to_string(),
        Format::Delimited { delimiter } => format!("delimited, '{delimiter}'"),
        Format::Jsonl => "JSON lines".to_string(),
    };
    println!(
        "{}: {} rows, {format}, {}",
        p.path.display(),
        p.rows,
        p.encoding
    );
    for w in p.warnings.items() {
        println!("  warning: {w}");
    }
    println!("\ncolumns");
    let width = p
        .columns
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(6)
        .clamp(6, 30);
    println!(
        "  {:<width$}  {:<6}  {:>7}  {:>9}  {:>10}",
        "name", "role", "filled", "distinct", "mean chars"
    );
    for c in &p.columns {
        let role = format!("{:?}", c.role).to_lowercase();
        let distinct = format!("{}{}", c.distinct, if c.distinct_capped { "+" } else { "" });
        println!(
            "  {:<width$}  {role:<6}  {:>6.1}%  {distinct:>9}  {:>10.1}  {}",
            clip(&c.name, width),
            c.fill_rate * 100.0,
            c.mean_chars,
            top_counts(&c.values, 4, 20)
        );
    }
    println!(
        "\nsuggested: --text-column {} --label-column {}",
        p.suggested_text.as_deref().unwrap_or("?"),
        p.suggested_label.as_deref().unwrap_or("?")
    );
    println!("\nfirst rows");
    for (line, cells) in p.samples.iter().take(3) {
        let joined: Vec<String> = cells.iter().map(|c| clip(c, 40)).collect();
        println!("  line {line}: {}", joined.join(" | "));
    }
}

fn print_inspection(i: &Inspection, measured_truncation: bool) {
    print_profile(&i.profile);
    if let Some(note) = &i.note {
        println!("\n{note}");
        return;
    }
    if let (Some(text), Some(label)) = (&i.text, &i.label_column) {
        println!(
            "\nusing text {:?}, label '{label}': {} usable rows",
            text.columns, i.rows_used
        );
    }
    println!(
        "label values ({}): {}",
        i.raw_labels.len(),
        top_counts(&i.raw_labels, 12, 30)
    );
    if !i.merges.is_empty() {
        println!("\nlabel variants that look like one class (--write-label-map FILE writes these merges):");
        for m in &i.merges {
            let members: Vec<String> = m
                .members
                .iter()
                .map(|(v, n)| format!("'{v}' ({n})"))
                .collect();
            println!("  '{}' ← {}", m.into, members.join(", "));
        }
    }
    let Some(report) = &i.report else { return };
    println!("\ndata check");
    if report.findings.is_empty() {
        println!("  no problems found");
    }
    for f in &report.findings {
        println!("  {:<8}  {}", severity_name(f.severity), f.message);
        if !f.lines.is_empty() {
            let lines: Vec<String> = f.lines.iter().map(usize::to_string).collect();
            println!("  {:<8}  e.g. line {}", "", lines.join(", "));
        }
        println!("  {:<8}  → {}", "", f.fix);
    }
    if !measured_truncation {
        println!("  (truncation not measured: pass --model to use its tokenizer)");
    }
    for n in report
        .not_measured
        .iter()
        .filter(|n| n.code != "truncation")
    {
        println!("  ({} not measured: {})", n.code, n.reason);
    }
    if report.findings.iter().any(|f| f.code == "too_many_classes") {
        println!("\nblocking problems: `dialect train` refuses this data (even with --force)");
    } else if report.is_blocking() {
        println!("\nblocking problems: `dialect train` refuses this data unless --force");
    }
}

fn eval(args: EvalArgs) -> Result<ExitCode, EngineError> {
    let on = &args.scored;
    let predictor = args.precision.load(&on.model, &args.device)?;
    eprintln!("Computing in {}", predictor.precision().name());
    let map = on.label.map()?;
    let metrics = predictor.evaluate_file(
        &on.data,
        &on.text.spec_for(&predictor, &on.data)?,
        &on.label.label_column,
        map.as_ref(),
    )?;
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

fn quantize(args: QuantizeArgs) -> Result<ExitCode, EngineError> {
    let on = &args.scored;
    let predictor =
        Predictor::load_with(&on.model, DeviceChoice::Cpu, Some(PredictionPrecision::F32))?;
    let spec = on.text.spec_for(&predictor, &on.data)?;
    let map = on.label.map()?;
    let check = check_file(
        &on.model,
        &on.data,
        &spec,
        &on.label.label_column,
        map.as_ref(),
    )?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&check)?);
    } else {
        println!("{}", describe_int8(&check));
    }
    Ok(ExitCode::SUCCESS)
}

/// One paragraph on an int8 check for people.
fn describe_int8(c: &Int8Check) -> String {
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

fn predict(args: PredictArgs) -> Result<ExitCode, EngineError> {
    let predictor = args.precision.load(&args.model, &args.device)?;
    eprintln!("Computing in {}", predictor.precision().name());
    if let (Some(input), Some(output)) = (&args.input, &args.output) {
        let spec = args.text.spec_for(&predictor, input)?;
        let n = predictor.predict_file(input, &spec, output)?;
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

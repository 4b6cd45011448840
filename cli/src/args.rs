//! The command line's grammar: every subcommand and option, parsed by clap.

use clap::{Args, Parser, Subcommand};
use dialect::dataset::corrections::Corrections;
use dialect::dataset::{LabelForm, LabelMap};
use dialect::pii::PiiKind;
use dialect::predict::check_trained_columns;
use dialect::setting::Setting;
use dialect::settings::SplitPlan;
use dialect::settings::{cli_help, DEFAULT_LABEL_COLUMN, DEFAULT_TEXT_COLUMN};
use dialect::train::DataSpec;
use dialect::{EngineError, Method, Predictor, TextSpec, TrainConfig};
use std::path::{Path, PathBuf};

/// The exit codes, as `dialect --help` lists them (the crate doc says the same).
const EXIT_CODES: &str =
    "Exit codes: 0 success; 1 a problem you can fix (the message says what and how); \
2 a command-line usage error; 3 an internal error; 130 cancelled with Ctrl-C.";

#[derive(Parser)]
#[command(
    name = "dialect",
    version,
    about = "Teach a pre-trained transformer the dialect of your support tickets",
    after_help = EXIT_CODES,
    args_override_self = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Fine-tune a model on a labelled CSV and save the best checkpoint.
    Train(Box<TrainArgs>),
    /// Profile a data file and report what is wrong with it before training.
    Inspect(InspectArgs),
    /// List past training runs, show one, or delete one.
    Runs(RunsArgs),
    /// List the compute devices and whether they can be used here.
    Devices(DevicesArgs),
    /// List the preset models and whether each is already downloaded.
    Models(ModelsArgs),
    /// Evaluate a fine-tuned model on a labelled CSV.
    #[command(visible_alias = "eval")]
    Evaluate(EvaluateArgs),
    /// Predict labels for texts, or for every row of a CSV.
    Predict(PredictArgs),
    /// Serve models over local HTTP: POST /v1/classify, GET /v1/models, GET /healthz
    /// (until Ctrl-C or SIGTERM).
    Serve(ServeArgs),
    /// Fix single tickets' labels without editing the data file: list, set, undo,
    /// check against the file, or export a corrected CSV.
    Corrections(CorrectionsArgs),
    /// Compare int8 prediction with f32 on labelled data and record the result in the
    /// model's card: a model whose int8 accuracy is within half a point of its f32
    /// accuracy then predicts in int8 on the CPU (CPU training does this check on the
    /// validation split when it ends).
    Quantize(QuantizeArgs),
}

#[derive(Args)]
pub struct TextArgs {
    /// Column holding the ticket text; repeat to join several columns in order.
    /// Default: `text` for train; for evaluate and predict, the columns the model was
    /// trained on (else `text`).
    #[arg(long = "text-column")]
    pub text_columns: Vec<String>,
    /// Separator placed between joined text columns [default: blank line, or the
    /// model's].
    #[arg(long)]
    pub text_separator: Option<String>,
}

impl TextArgs {
    /// The columns given, else `text`.
    pub fn spec(&self) -> TextSpec {
        self.spec_or(None)
    }

    /// The columns given, else `trained` (the model's recorded text), else `text`.
    fn spec_or(&self, trained: Option<&TextSpec>) -> TextSpec {
        let mut spec = match (self.text_columns.is_empty(), trained) {
            (false, _) => TextSpec::columns(self.text_columns.clone()),
            (true, Some(trained)) => trained.clone(),
            (true, None) => TextSpec::column(DEFAULT_TEXT_COLUMN),
        };
        if let Some(separator) = &self.text_separator {
            spec.separator = separator.clone();
        }
        spec
    }

    /// The spec to read a file with for `predictor`: with no columns given, the
    /// model's own, which the file must have.
    pub fn spec_for(&self, predictor: &Predictor, input: &Path) -> Result<TextSpec, EngineError> {
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
pub struct LabelArgs {
    #[arg(long, help = cli_help(Setting::LabelColumn))]
    pub label_column: Option<String>,
    /// JSON label map (raw value → class, or null to drop); see `dialect inspect --write-label-map`.
    #[arg(long)]
    pub label_map: Option<PathBuf>,
}

impl LabelArgs {
    /// The label column given, else the engine's default.
    pub fn column(&self) -> String {
        self.label_column
            .clone()
            .unwrap_or_else(|| DEFAULT_LABEL_COLUMN.into())
    }

    /// The label map given, loaded.
    pub fn map(&self) -> Result<Option<LabelMap>, EngineError> {
        self.label_map.as_deref().map(LabelMap::load).transpose()
    }
}

/// How the data file holds its labels: one per row unless a multi-label form is given.
#[derive(Args)]
pub struct LabelFormArgs {
    /// Multi-label: the label column holds several labels split by this separator
    /// (';', ',' or '|'), or `auto` to sniff it from the values.
    #[arg(long, value_name = "SEP", conflicts_with = "label_columns")]
    pub label_separator: Option<String>,
    /// Multi-label: one 0/1 column per label (1/0, true/false, yes/no, x/empty), named
    /// by the label (comma-separated; the label column is not read).
    #[arg(long, value_name = "A,B,C", value_delimiter = ',')]
    pub label_columns: Vec<String>,
}

impl LabelFormArgs {
    /// The label form given (single-label without these flags).
    pub fn form(&self) -> Result<LabelForm, EngineError> {
        if !self.label_columns.is_empty() {
            return Ok(LabelForm::Columns {
                columns: self.label_columns.clone(),
            });
        }
        let form = match self.label_separator.as_deref() {
            None => LabelForm::Single,
            Some("auto") => LabelForm::Separated { separator: None },
            Some(sep) => {
                let mut chars = sep.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => LabelForm::Separated { separator: Some(c) },
                    _ => {
                        return Err(EngineError::Config(format!(
                        "--label-separator '{sep}': give one character (';', ',' or '|') or auto"
                    )))
                    }
                }
            }
        };
        form.validate()?;
        Ok(form)
    }
}

#[derive(Args)]
pub struct TrainArgs {
    /// Training data (CSV, TSV; delimiter is detected).
    #[arg(
        required_unless_present_any = ["resume", "retrain"],
        conflicts_with_all = ["resume", "retrain"]
    )]
    pub data: Option<PathBuf>,
    /// Resume this cancelled, failed or interrupted run from its last completed epoch,
    /// with the run's own data and settings (other settings are ignored).
    #[arg(long, value_name = "RUN")]
    pub resume: Option<String>,
    /// Train this run again as a new run, with its data and settings and the
    /// corrections of `--corrections` (none when omitted); the new run names it as
    /// its parent, so `dialect runs diff RUN NEW` shows what the corrections changed
    /// (--scrub, when given, replaces the run's choice).
    #[arg(long, value_name = "RUN", conflicts_with = "resume")]
    pub retrain: Option<String>,
    #[command(flatten)]
    pub text: TextArgs,
    #[command(flatten)]
    pub label: LabelArgs,
    #[command(flatten)]
    pub label_form: LabelFormArgs,
    /// Corrections file (see `dialect corrections`): fixes to single tickets, applied
    /// after the label map and recorded with the run.
    #[arg(long)]
    pub corrections: Option<PathBuf>,
    /// Replace personal data with placeholders ([EMAIL], [PHONE], …) before the model
    /// sees a text, in training and in every prediction with the model: comma-separated
    /// kinds (email, phone, iban, card, ip, address, name) or `all`. `dialect inspect`
    /// shows what the file holds.
    #[arg(long, value_delimiter = ',', value_name = "KINDS")]
    pub scrub: Vec<String>,
    #[arg(long, help = Setting::Force.help())]
    pub force: bool,
    /// Run store to record the run in (settings, events, model); default:
    /// $DIALECT_HOME/runs or the user data folder (the app's store too).
    #[arg(long)]
    pub runs_dir: Option<PathBuf>,
    #[arg(long, help = Setting::Validation.help())]
    pub validation: Option<PathBuf>,
    /// Corrections file for the --validation file (its own: corrections name a file's
    /// rows), applied after the label map and recorded with the run.
    #[arg(long, value_name = "FILE", requires = "validation")]
    pub validation_corrections: Option<PathBuf>,
    /// Leave out the --validation file's tickets that repeat training tickets (the
    /// same or nearly the same text) instead of only warning about them.
    #[arg(long, requires = "validation")]
    pub drop_overlap: bool,
    #[arg(long, help = cli_help(Setting::ValidationFraction))]
    pub validation_fraction: Option<f64>,
    #[arg(long, help = cli_help(Setting::SplitSeed))]
    pub split_seed: Option<u64>,
    #[arg(long, help = cli_help(Setting::MaxRows))]
    pub max_rows: Option<usize>,
    #[arg(long, help = cli_help(Setting::Model))]
    pub model: Option<String>,
    /// Also copy the best model (Hugging Face layout) to this folder when the run ends;
    /// an existing model folder there is replaced as a whole, anything else is refused.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long, help = cli_help(Setting::Epochs))]
    pub epochs: Option<usize>,
    #[arg(long, help = cli_help(Setting::BatchSize))]
    pub batch_size: Option<usize>,
    #[arg(long, help = cli_help(Setting::EvalBatchSize))]
    pub eval_batch_size: Option<usize>,
    #[arg(long = "lr", help = cli_help(Setting::LearningRate))]
    pub learning_rate: Option<f64>,
    #[arg(long, help = cli_help(Setting::WeightDecay))]
    pub weight_decay: Option<f64>,
    #[arg(long, help = cli_help(Setting::WarmupSteps))]
    pub warmup_steps: Option<usize>,
    #[arg(long, help = cli_help(Setting::MaxGradNorm))]
    pub max_grad_norm: Option<f64>,
    #[arg(long, help = cli_help(Setting::MaxLength))]
    pub max_length: Option<usize>,
    #[arg(long, help = cli_help(Setting::Seed))]
    pub seed: Option<u64>,
    #[arg(long, help = cli_help(Setting::BestMetric))]
    pub best_metric: Option<String>,
    #[arg(long, help = cli_help(Setting::EarlyStoppingPatience))]
    pub early_stopping: Option<usize>,
    #[arg(long, help = Setting::GroupByLength.help())]
    pub group_by_length: bool,
    #[arg(long, value_name = "none|inverse|effective", help = cli_help(Setting::ClassWeights))]
    pub class_weights: Option<String>,
    #[arg(long, value_name = "shuffle|balanced", help = cli_help(Setting::Sampler))]
    pub sampler: Option<String>,
    #[arg(long, help = cli_help(Setting::Device))]
    pub device: Option<String>,
    #[arg(long, help = Setting::Method.help())]
    pub baseline: bool,
    #[arg(long, help = cli_help(Setting::Precision))]
    pub precision: Option<String>,
    #[arg(long, help = Setting::NewHead.help())]
    pub new_head: bool,
    /// Print every event as a JSON line instead of a progress bar.
    #[arg(long)]
    pub json: bool,
    /// Estimate the run's duration and whether it fits in memory, from a short
    /// measurement on this machine (kept for this model, device and precision), and
    /// exit without training.
    #[arg(long, conflicts_with_all = ["resume", "retrain"])]
    pub estimate: bool,
    /// Suggest the largest preset (or a shortened one) whose estimate fits in this
    /// many minutes, and exit without training.
    #[arg(long, value_name = "MINUTES", conflicts_with_all = ["resume", "retrain"])]
    pub fit_in: Option<f64>,
    /// With --estimate or --fit-in: measure again even when this machine has a
    /// measurement of the model.
    #[arg(long)]
    pub remeasure: bool,
}

impl TrainArgs {
    /// The training settings: the engine's defaults with the options given on top.
    pub fn config(&self) -> Result<TrainConfig, EngineError> {
        let mut c = TrainConfig::default();
        set(&mut c.model, self.model.clone());
        set(&mut c.epochs, self.epochs);
        set(&mut c.batch_size, self.batch_size);
        set(&mut c.eval_batch_size, self.eval_batch_size);
        set(&mut c.learning_rate, self.learning_rate);
        set(&mut c.weight_decay, self.weight_decay);
        set(&mut c.warmup_steps, self.warmup_steps);
        set(&mut c.max_grad_norm, self.max_grad_norm);
        set(&mut c.max_length, self.max_length);
        set(&mut c.seed, self.seed);
        set(&mut c.best_metric, parsed(&self.best_metric)?);
        set(&mut c.class_weights, parsed(&self.class_weights)?);
        set(&mut c.sampler, parsed(&self.sampler)?);
        set(&mut c.device, parsed(&self.device)?);
        set(&mut c.precision, parsed(&self.precision)?);
        if self.early_stopping.is_some() {
            c.early_stopping_patience = self.early_stopping;
        }
        c.group_by_length |= self.group_by_length;
        c.new_head |= self.new_head;
        if self.baseline {
            c.method = Method::Baseline;
        }
        Ok(c)
    }

    /// The data to train on (`None` when resuming): the file, its columns and label
    /// map, and the split, the engine's defaults with the options given on top.
    pub fn data_spec(&self) -> Result<Option<DataSpec>, EngineError> {
        let Some(path) = self.data.clone() else {
            return Ok(None);
        };
        let mut split = SplitPlan::default();
        set(&mut split.validation_fraction, self.validation_fraction);
        set(&mut split.seed, self.split_seed);
        if self.max_rows.is_some() {
            split.max_rows = self.max_rows;
        }
        let mut text = self.text.spec();
        text.scrub = self.scrub_kinds()?;
        Ok(Some(DataSpec {
            path,
            text,
            label_column: self.label.column(),
            label_form: self.label_form.form()?,
            label_map: self.label.map()?,
            validation: self.validation.clone(),
            split,
            corrections: self
                .corrections
                .as_deref()
                .map(Corrections::load)
                .transpose()?,
            validation_corrections: self
                .validation_corrections
                .as_deref()
                .map(Corrections::load)
                .transpose()?,
            drop_overlap: self.drop_overlap,
        }))
    }
}

impl TrainArgs {
    /// The kinds named in `--scrub` (`all`: every kind), sorted and without repeats.
    pub fn scrub_kinds(&self) -> Result<Vec<PiiKind>, EngineError> {
        scrub_kinds(&self.scrub)
    }
}

/// The kinds in `names` (`all`: every kind), sorted and without repeats.
fn scrub_kinds(names: &[String]) -> Result<Vec<PiiKind>, EngineError> {
    let mut kinds = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        if name.eq_ignore_ascii_case("all") {
            kinds.extend(PiiKind::ALL);
        } else {
            kinds.push(
                name.parse::<PiiKind>()
                    .map_err(|e| EngineError::Config(format!("--scrub: {e}")))?,
            );
        }
    }
    kinds.sort();
    kinds.dedup();
    Ok(kinds)
}

/// Replace `setting` with `given`, if given.
fn set<T>(setting: &mut T, given: Option<T>) {
    if let Some(value) = given {
        *setting = value;
    }
}

/// `text` parsed, if given.
fn parsed<T: std::str::FromStr<Err = EngineError>>(
    text: &Option<String>,
) -> Result<Option<T>, EngineError> {
    text.as_deref().map(str::parse).transpose()
}

#[derive(Args)]
pub struct RunsArgs {
    /// Run store folder (default: the store the app uses too, $DIALECT_HOME/runs or
    /// dialect/runs in the platform's data folder, e.g. ~/.local/share/dialect/runs).
    #[arg(long, global = true)]
    pub runs_dir: Option<PathBuf>,
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub action: Option<RunsAction>,
}

#[derive(Subcommand)]
pub enum RunsAction {
    /// List runs, newest first (the default).
    List,
    /// Show one run: settings, per-epoch metrics, model folder.
    Show { id: String },
    /// Delete a run and its model (refused while a process trains it).
    Delete { id: String },
    /// Copy a run's model folder (Hugging Face layout) into `<folder>/dialect-<id>`;
    /// with --onnx, write it as ONNX into `<folder>/dialect-<id>-onnx` instead.
    Export {
        id: String,
        folder: PathBuf,
        /// Write `model.onnx` (dynamic batch and sequence axes, outputs `logits` and
        /// `probabilities`) with the tokenizer and config beside it; every architecture
        /// Dialect trains, DeBERTa-v2/v3 and ModernBERT included.
        #[arg(long)]
        onnx: bool,
        /// With --onnx, also write `model.int8.onnx` (int8 weights, activations
        /// quantized at run time).
        #[arg(long, requires = "onnx")]
        int8: bool,
        /// Write a transformers Trainer job for `accelerate` (one GPU, DDP, FSDP,
        /// DeepSpeed) into `<folder>/dialect-<id>-trainer` instead: train.py with the
        /// run's recipe, rows and split; `runs import` reads its output back.
        #[arg(long, conflicts_with = "onnx")]
        trainer_job: bool,
    },
    /// Record the output folder of an exported Trainer job (`model/`,
    /// `dialect-import.json`) as a new finished run.
    Import { folder: PathBuf },
    /// The best model's prediction for every validation row, with the metrics; lists
    /// the misclassified rows (all rows with --json). Refused when the data file no
    /// longer holds the run's validation rows.
    Review { id: String },
    /// Compare two runs ticket by ticket on their validation rows: the tickets the
    /// second run fixed, broke or changed, and how the confusion matrix moved (all
    /// changed rows with --json). Runs validated on other rows are compared on one
    /// labelled file given with --on.
    Diff {
        before: String,
        after: String,
        /// Score both runs' models on every labelled row of this file instead (read
        /// with the first run's columns and label map).
        #[arg(long, value_name = "FILE")]
        on: Option<PathBuf>,
    },
    /// Choose the routing threshold of a run's model on its validation rows and keep
    /// it in the model's card: tickets whose top probability is below it go to a
    /// person (`predict` adds a `route` column).
    Threshold {
        id: String,
        /// The threshold (a probability, e.g. 0.9).
        #[arg(conflicts_with_all = ["accuracy", "clear"], required_unless_present_any = ["accuracy", "clear"])]
        value: Option<f64>,
        /// Instead, the lowest threshold whose handled tickets are at least this
        /// accurate (e.g. 0.95).
        #[arg(long, conflicts_with = "clear")]
        accuracy: Option<f64>,
        /// Remove the threshold: every ticket is handled automatically.
        #[arg(long)]
        clear: bool,
    },
}

#[derive(Args)]
pub struct DevicesArgs {
    /// Also self-test each usable GPU against the CPU (forward, gradients, AdamW,
    /// dropout, a few training steps), in f32 and, where supported, bf16.
    #[arg(long)]
    pub check: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ModelsArgs {
    /// Download this hub model into the Hugging Face cache (with progress).
    #[arg(long)]
    pub download: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct InspectArgs {
    /// Data file (CSV, TSV or JSONL; delimiter and encoding are detected).
    pub data: PathBuf,
    /// Text column(s), in order; the suggested one when omitted.
    #[arg(long = "text-column")]
    pub text_columns: Vec<String>,
    /// Separator placed between joined text columns [default: blank line].
    #[arg(long)]
    pub text_separator: Option<String>,
    /// Label column; the suggested one when omitted.
    #[arg(long)]
    pub label_column: Option<String>,
    #[command(flatten)]
    pub label_form: LabelFormArgs,
    /// JSON label map to apply before the checks.
    #[arg(long)]
    pub label_map: Option<PathBuf>,
    /// Corrections file (see `dialect corrections`) to apply after the label map.
    #[arg(long)]
    pub corrections: Option<PathBuf>,
    /// Separate validation file (adds the train/validation leakage check).
    #[arg(long)]
    pub validation: Option<PathBuf>,
    /// Corrections file for the --validation file, applied after the label map.
    #[arg(long, value_name = "FILE", requires = "validation")]
    pub validation_corrections: Option<PathBuf>,
    /// Model whose tokenizer measures truncation (folder or hub id); skipped when omitted.
    #[arg(long)]
    pub model: Option<String>,
    /// Max length in tokens for the truncation check (the training default when omitted).
    #[arg(long)]
    pub max_length: Option<usize>,
    /// Write a label map with the suggested merges, to edit and pass to --label-map.
    #[arg(long)]
    pub write_label_map: Option<PathBuf>,
    /// Only profile the file (one streaming pass, bounded memory); skip the data check.
    #[arg(long)]
    pub profile_only: bool,
    /// Also rank the tickets whose label is most likely wrong (frozen encoder of
    /// --model, cross-validated linear head, confident learning); with --json they are
    /// the inspection's `suspects`.
    #[arg(long, conflicts_with = "profile_only")]
    pub suspects: bool,
    /// Cross-validation folds for --suspects.
    #[arg(long, default_value_t = 5, requires = "suspects")]
    pub folds: usize,
    /// How many suspects to list (all with --json).
    #[arg(long, default_value_t = 20, requires = "suspects")]
    pub top: usize,
    /// Print the whole inspection as JSON.
    #[arg(long)]
    pub json: bool,
}

/// A fine-tuned model and labelled data to score it on (evaluate, quantize).
#[derive(Args)]
pub struct ModelOnData {
    /// Fine-tuned model folder.
    pub model: PathBuf,
    /// Labelled data.
    pub data: PathBuf,
    #[command(flatten)]
    pub text: TextArgs,
    #[command(flatten)]
    pub label: LabelArgs,
}

#[derive(Args)]
pub struct EvaluateArgs {
    #[command(flatten)]
    pub scored: ModelOnData,
    #[command(flatten)]
    pub label_form: LabelFormArgs,
    #[arg(long, help = cli_help(Setting::Device))]
    pub device: Option<String>,
    #[command(flatten)]
    pub precision: PrecisionArgs,
    /// Report the tickets handled automatically at this routing threshold (top
    /// probability at least this) [default: the model's saved threshold].
    #[arg(long, conflicts_with = "for_accuracy")]
    pub threshold: Option<f64>,
    /// Find the lowest threshold whose handled tickets are at least this accurate on
    /// this file (e.g. 0.95).
    #[arg(long, value_name = "ACCURACY")]
    pub for_accuracy: Option<f64>,
    /// Save the threshold (--threshold or --for-accuracy) in the model's card:
    /// `predict` routes with it from then on.
    #[arg(long)]
    pub keep: bool,
    #[arg(long)]
    pub json: bool,
}

/// `--precision` of evaluate and predict.
#[derive(Args)]
pub struct PrecisionArgs {
    /// f32, or int8 (CPU only) [default: int8 on the CPU when the model passed its
    /// int8 check (`dialect quantize`), else f32].
    #[arg(long)]
    pub precision: Option<String>,
}

impl PrecisionArgs {
    /// The model in `model` on `device`, in the precision asked for (else its default).
    pub fn load(&self, model: &Path, device: &Option<String>) -> Result<Predictor, EngineError> {
        let precision = parsed(&self.precision)?;
        Predictor::load_with(model, parsed(device)?.unwrap_or_default(), precision)
    }
}

#[derive(Args)]
pub struct QuantizeArgs {
    /// The model, and labelled data to compare on (e.g. the validation or test split).
    #[command(flatten)]
    pub scored: ModelOnData,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct PredictArgs {
    /// Fine-tuned model folder.
    pub model: PathBuf,
    /// Texts to classify.
    pub texts: Vec<String>,
    /// Classify every row of this CSV instead.
    #[arg(long, requires = "output")]
    pub input: Option<PathBuf>,
    /// Where to write the CSV with predictions.
    #[arg(long, requires = "input")]
    pub output: Option<PathBuf>,
    /// Route tickets whose top probability is below this to a person (a `route`
    /// column in files) [default: the model's saved threshold, if any].
    #[arg(long)]
    pub threshold: Option<f64>,
    #[command(flatten)]
    pub text: TextArgs,
    #[arg(long, help = cli_help(Setting::Device))]
    pub device: Option<String>,
    #[command(flatten)]
    pub precision: PrecisionArgs,
    #[arg(long)]
    pub json: bool,
    /// Show why each text gets its class: the words pushing it toward the class and
    /// away from it (each word deleted in turn; one forward pass per word, so texts
    /// given here, not --input files).
    #[arg(long, conflicts_with = "input")]
    pub explain: bool,
    /// Explain this class instead of the predicted one.
    #[arg(long, value_name = "CLASS", requires = "explain")]
    pub explain_class: Option<String>,
    /// Words shown each way with --explain.
    #[arg(long, value_name = "N", default_value_t = 5, requires = "explain")]
    pub top: usize,
}

#[derive(Args)]
pub struct ServeArgs {
    /// Model folders or run ids; requests name a model by its run id or folder name,
    /// and the first answers requests that name none.
    #[arg(required = true, value_name = "MODEL_DIR_OR_RUN")]
    pub models: Vec<String>,
    /// Address to listen on; any but loopback needs a token.
    #[arg(long, value_name = "ADDR", default_value_t = dialect_serve::DEFAULT_BIND)]
    pub bind: std::net::SocketAddr,
    /// File holding the bearer token requests must carry [default: $DIALECT_SERVE_TOKEN,
    /// else none, which only loopback allows].
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Texts one request may classify.
    #[arg(long, value_name = "N", default_value_t = dialect_serve::Limits::default().max_batch)]
    pub max_batch: usize,
    /// Predictions computed at the same time.
    #[arg(long, value_name = "N", default_value_t = dialect_serve::Limits::default().max_concurrent)]
    pub max_concurrent: usize,
    /// Requests waiting for a prediction; past them, 503 with Retry-After.
    #[arg(long, value_name = "N", default_value_t = dialect_serve::Limits::default().max_queue)]
    pub max_queue: usize,
    /// Connections open at once; past it, new ones wait in the kernel's backlog until
    /// one closes.
    #[arg(long, value_name = "N", default_value_t = dialect_serve::Limits::default().max_connections)]
    pub max_connections: usize,
    /// Seconds a client has to send a request's headers, then its body; slower (or
    /// idle) connections are closed.
    #[arg(long, value_name = "SECS", default_value_t = dialect_serve::Limits::default().read_timeout.as_secs_f64())]
    pub read_timeout: f64,
    /// Run store folder (default: the store the app uses too, $DIALECT_HOME/runs or
    /// the user data folder).
    #[arg(long)]
    pub runs_dir: Option<PathBuf>,
    #[arg(long, help = cli_help(Setting::Device))]
    pub device: Option<String>,
    #[command(flatten)]
    pub precision: PrecisionArgs,
}

#[derive(Args)]
pub struct CorrectionsArgs {
    /// The corrections file (JSON); `set` creates it when missing.
    pub file: PathBuf,
    #[command(subcommand)]
    pub action: Option<CorrectionsAction>,
    #[arg(long, global = true)]
    pub json: bool,
}

/// The data file corrections name rows of, and how its rows are read.
#[derive(Args)]
pub struct CorrectedData {
    /// The data file the corrections belong to.
    #[arg(long)]
    pub data: PathBuf,
    #[command(flatten)]
    pub text: TextArgs,
    #[command(flatten)]
    pub label: LabelArgs,
}

#[derive(Subcommand)]
pub enum CorrectionsAction {
    /// List the corrections (the default).
    List,
    /// Match the corrections to the data file as it is now: which apply, which rows
    /// moved, which no longer match a row.
    Check(CorrectedData),
    /// Give the ticket on `--line` another class (`--label`), or drop it (`--drop`).
    Set {
        #[command(flatten)]
        data: CorrectedData,
        /// Line where the ticket starts (header = line 1), as listed by `runs review`.
        #[arg(long)]
        line: usize,
        /// The class it should have.
        #[arg(long = "to", required_unless_present = "drop", conflicts_with = "drop")]
        to: Option<String>,
        /// Leave the ticket out of training.
        #[arg(long)]
        drop: bool,
    },
    /// Remove the correction of the ticket on `--line`.
    Undo {
        #[arg(long)]
        line: usize,
    },
    /// Write the data file with every column, the label column as corrected, and
    /// dropped tickets left out.
    Export {
        #[command(flatten)]
        data: CorrectedData,
        /// The CSV to write.
        #[arg(long)]
        out: PathBuf,
    },
}

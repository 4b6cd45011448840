//! Using a fine-tuned model: load a model folder, predict labels with per-class
//! probabilities for texts or a whole file, and evaluate on labelled data. A
//! multi-label model gives each label its own probability (sigmoid) and predicts the
//! set of labels at or over their thresholds; calibration and routing do not apply.

use crate::atomic::write_atomic_with;
use crate::calibration::tempered_softmax;
use crate::dataset::safe_csv::safe_cell;
use crate::dataset::source::RecordReader;
use crate::dataset::{column_index, read_labeled_as, LabelForm, LabelMap, LabeledData, TextSpec};
use crate::device::DeviceChoice;
use crate::error::{EngineError, Result};
use crate::events::Int8Check;
use crate::inference::{argmax, batched_logits};
use crate::metrics::Metrics;
use crate::model::tokenize::{Encoded, TextEncoder};
use crate::model::SequenceClassifier;
use crate::model_card::ModelCard;
use crate::multi_label::{over_thresholds, sigmoid, DEFAULT_THRESHOLD};
use crate::routing::{check_threshold, Route, RoutingThreshold, Trust};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One class and its probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ClassScore {
    pub label: String,
    pub probability: f32,
    /// The label's threshold, for a multi-label model (it applies at or over it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub threshold: Option<f32>,
}

/// The predicted label of one text, its probability, and every class's probability
/// (in label order). For a multi-label model: `labels` is the predicted set, `label`
/// the set joined by `"; "`, `confidence` the highest label probability, and each
/// score a label's own probability with its threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Prediction {
    pub label: String,
    pub confidence: f32,
    pub scores: Vec<ClassScore>,
    /// The labels at or over their thresholds, for a multi-label model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub labels: Option<Vec<String>>,
    /// Where the ticket goes under the model's routing threshold; `None` when it has
    /// none.
    pub route: Option<Route>,
}

/// A loaded fine-tuned model ready to classify texts.
pub struct Predictor {
    model: SequenceClassifier,
    encoder: TextEncoder,
    text: Option<TextSpec>,
    precision: PredictionPrecision,
    int8: Option<Int8Check>,
    /// Probabilities are `softmax(logits / temperature)` (the card's, else 1).
    temperature: f64,
    /// Tickets below this top probability go to a person (the card's, or one set).
    threshold: Option<f64>,
    /// Each label's threshold, for a multi-label model (the card's, else 0.5).
    label_thresholds: Option<Vec<f32>>,
}

/// Rows per batch when predicting.
pub(crate) const PREDICT_BATCH: usize = 64;
/// Rows classified between two progress reports of a file prediction.
const PROGRESS_CHUNK: usize = 256;

impl Predictor {
    /// Load a model folder (Hugging Face layout with `id2label`) on `device`, in int8
    /// when it runs on the CPU and its card holds a passed [`Int8Check`], else in f32.
    pub fn load(dir: &Path, device: DeviceChoice) -> Result<Self> {
        Self::load_with(dir, device, None)
    }

    /// [`Self::load`] in `precision` when given (int8 runs on the CPU only; it is
    /// allowed without a check, for measuring one).
    pub fn load_with(
        dir: &Path,
        device: DeviceChoice,
        precision: Option<PredictionPrecision>,
    ) -> Result<Self> {
        let dir = model_dir(dir)?;
        let device = device.open()?;
        let mut model = SequenceClassifier::load_frozen(&dir, &device)?;
        let card = ModelCard::load(&dir);
        let max_length = card
            .as_ref()
            .map_or(128, |c| c.max_length)
            .min(model.max_positions());
        let encoder = TextEncoder::load(&dir, max_length)?;
        let int8 = card.as_ref().and_then(|c| c.int8.clone());
        let precision = match precision {
            Some(PredictionPrecision::Int8) if !device.is_cpu() => {
                return Err(EngineError::Config(
                    "int8 prediction runs on the CPU: choose the CPU device, or f32".into(),
                ))
            }
            Some(chosen) => chosen,
            None if device.is_cpu() && int8.as_ref().is_some_and(Int8Check::passed) => {
                PredictionPrecision::Int8
            }
            None => PredictionPrecision::F32,
        };
        if precision == PredictionPrecision::Int8 {
            model.quantize()?;
        }
        let label_thresholds = model.is_multi_label().then(|| {
            card.as_ref()
                .and_then(|c| c.multi_label.as_ref())
                .map(|m| m.thresholds.clone())
                .filter(|t| t.len() == model.labels().len())
                .unwrap_or_else(|| vec![DEFAULT_THRESHOLD; model.labels().len()])
        });
        let single_label = label_thresholds.is_none();
        Ok(Self {
            model,
            encoder,
            temperature: card
                .as_ref()
                .filter(|_| single_label)
                .map_or(1.0, ModelCard::temperature),
            threshold: card
                .as_ref()
                .filter(|_| single_label)
                .and_then(|c| c.routing.as_ref())
                .map(|r| r.threshold),
            label_thresholds,
            text: card.and_then(|c| c.text),
            precision,
            int8,
        })
    }

    /// The precision this predictor computes in.
    pub fn precision(&self) -> PredictionPrecision {
        self.precision
    }

    /// Whether the model runs on the CPU.
    pub fn on_cpu(&self) -> bool {
        self.model.device().is_cpu()
    }

    /// The routing threshold predictions are routed with, when there is one.
    pub fn threshold(&self) -> Option<f64> {
        self.threshold
    }

    /// Route with `threshold` instead of the model's own (`None`: do not route).
    /// Refused for a multi-label model.
    pub fn set_threshold(&mut self, threshold: Option<f64>) -> Result<()> {
        if threshold.is_some() {
            self.refuse_multi_label("a routing threshold (the top probability of one class)")?;
        }
        self.threshold = threshold.map(check_threshold).transpose()?;
        Ok(())
    }

    /// Each label's threshold, for a multi-label model.
    pub fn label_thresholds(&self) -> Option<&[f32]> {
        self.label_thresholds.as_deref()
    }

    /// Whether the model predicts label sets.
    pub fn is_multi_label(&self) -> bool {
        self.label_thresholds.is_some()
    }

    /// An error saying that `what` needs one class per ticket, for a multi-label
    /// model; `Ok` otherwise.
    pub fn refuse_multi_label(&self, what: &str) -> Result<()> {
        if self.is_multi_label() {
            return Err(multi_label_refusal(what));
        }
        Ok(())
    }

    /// The temperature probabilities are computed with.
    pub fn temperature(&self) -> f64 {
        self.temperature
    }

    /// The model's int8 check, when it has one.
    pub fn int8_check(&self) -> Option<&Int8Check> {
        self.int8.as_ref()
    }

    /// The model's tokenizer, cutting texts at its length.
    pub(crate) fn encoder(&self) -> &TextEncoder {
        &self.encoder
    }

    /// The model's class index of each example's label (from `path`), or an error
    /// naming those it does not know.
    pub(crate) fn label_indices(&self, path: &Path, data: &LabeledData) -> Result<Vec<usize>> {
        let labels = self.labels();
        LabeledData::label_indices(&data.examples, labels).ok_or_else(|| {
            let unknown: Vec<&String> =
                data.labels.iter().filter(|l| !labels.contains(l)).collect();
            EngineError::data(
                path,
                format!("labels {unknown:?} are not classes of this model (it knows {labels:?})"),
            )
        })
    }

    /// Logits of encoded rows, in their order.
    pub(crate) fn logits(&self, encoded: &[Encoded]) -> Result<Vec<Vec<f32>>> {
        Ok(
            batched_logits(&self.model, &self.encoder, encoded, PREDICT_BATCH, None)?
                .unwrap_or_default(),
        )
    }

    /// How the model's training texts were composed from their file's columns, when
    /// its card records it: a file to classify must have those columns.
    pub fn text_spec(&self) -> Option<&TextSpec> {
        self.text.as_ref()
    }

    /// `texts` tokenised as the model was trained: personal data of the kinds its
    /// training scrubbed replaced by the same placeholders first.
    pub fn encode(&self, texts: &[String]) -> Result<Vec<Encoded>> {
        match self.text.as_ref().filter(|t| !t.scrub.is_empty()) {
            Some(spec) => {
                let clean: Vec<String> = texts.iter().map(|t| spec.clean(t).into_owned()).collect();
                self.encoder.encode(&clean)
            }
            None => self.encoder.encode(texts),
        }
    }

    /// Class names in output order.
    pub fn labels(&self) -> &[String] {
        self.model.labels()
    }

    /// Predict each text (batched).
    pub fn predict(&self, texts: &[String]) -> Result<Vec<Prediction>> {
        let logits = self.logits(&self.encode(texts)?)?;
        Ok(logits.iter().map(|row| self.prediction(row)).collect())
    }

    /// The prediction of one row of logits.
    pub(crate) fn prediction(&self, logits: &[f32]) -> Prediction {
        if let Some(thresholds) = &self.label_thresholds {
            return self.label_set(logits, thresholds);
        }
        let exact = tempered_softmax(logits, self.temperature);
        let probs: Vec<f32> = exact.iter().map(|&p| p as f32).collect();
        let best = argmax(&probs);
        Prediction {
            label: self.labels()[best].clone(),
            confidence: probs[best],
            scores: self
                .labels()
                .iter()
                .zip(&probs)
                .map(|(l, &p)| ClassScore {
                    label: l.clone(),
                    probability: p,
                    threshold: None,
                })
                .collect(),
            route: self.threshold.map(|t| Route::of(exact[best], t)),
            labels: None,
        }
    }

    /// The multi-label prediction of one row of logits: each label's sigmoid
    /// probability, and the set at or over `thresholds`.
    fn label_set(&self, logits: &[f32], thresholds: &[f32]) -> Prediction {
        let probs: Vec<f32> = logits.iter().map(|&x| sigmoid(x)).collect();
        let on = over_thresholds(&probs, thresholds);
        let labels: Vec<String> = self
            .labels()
            .iter()
            .zip(&on)
            .filter(|(_, &on)| on)
            .map(|(l, _)| l.clone())
            .collect();
        Prediction {
            label: labels.join("; "),
            confidence: probs.iter().copied().fold(0.0, f32::max),
            scores: self
                .labels()
                .iter()
                .zip(probs.iter().zip(thresholds))
                .map(|(l, (&p, &t))| ClassScore {
                    label: l.clone(),
                    probability: p,
                    threshold: Some(t),
                })
                .collect(),
            route: None,
            labels: Some(labels),
        }
    }

    /// Predict every row of `input` (text composed per `text`) and write `output`: the
    /// input columns plus `predicted_label`, `confidence`, `route` (`auto` or `person`,
    /// when routing with a threshold) and one probability column per class, each cell
    /// safe to open in a spreadsheet ([`safe_cell`]); for a multi-label model
    /// `predicted_labels` (the set joined by `;`) and one probability column per
    /// label. Rows are streamed a chunk at a time. Returns the number of rows written.
    pub fn predict_file(&self, input: &Path, text: &TextSpec, output: &Path) -> Result<usize> {
        self.predict_file_with_progress(input, text, output, &mut |_, _| {})
    }

    /// [`Self::predict_file`], calling `progress(done, total)` as rows are classified.
    pub fn predict_file_with_progress(
        &self,
        input: &Path,
        text: &TextSpec,
        output: &Path,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<usize> {
        let total = count_records(input)?;
        let mut reader = RecordReader::open(input)?;
        let positions = text.positions(input, reader.headers())?;
        let mut header: Vec<String> = reader.headers().to_vec();
        if self.is_multi_label() {
            header.push("predicted_labels".into());
        } else {
            header.push("predicted_label".into());
            header.push("confidence".into());
        }
        if self.threshold.is_some() {
            header.push("route".into());
        }
        header.extend(self.labels().iter().map(|l| format!("prob_{l}")));
        progress(0, total);
        let mut done = 0;
        // An engine error met while writing; the writer itself only speaks io::Error.
        let mut failure = None;
        let written = write_atomic_with(output, |file| {
            let mut w = csv::Writer::from_writer(file);
            w.write_record(header.iter().map(|h| safe_cell(h).into_owned()))?;
            loop {
                let chunk = match self.predict_chunk(&mut reader, text, &positions) {
                    Ok(chunk) => chunk,
                    Err(e) => {
                        failure = Some(e);
                        return Err(std::io::Error::other("prediction failed"));
                    }
                };
                if chunk.is_empty() {
                    break;
                }
                for (cells, p) in &chunk {
                    let mut record: Vec<String> =
                        cells.iter().map(|c| safe_cell(c).into_owned()).collect();
                    match &p.labels {
                        Some(set) => record.push(safe_cell(&set.join(";")).into_owned()),
                        None => {
                            record.push(safe_cell(&p.label).into_owned());
                            record.push(format!("{:.6}", p.confidence));
                        }
                    }
                    if let Some(route) = p.route {
                        record.push(route.name().into());
                    }
                    record.extend(p.scores.iter().map(|s| format!("{:.6}", s.probability)));
                    w.write_record(&record)?;
                }
                done += chunk.len();
                progress(done, total);
            }
            w.flush()
        });
        if let Some(e) = failure {
            return Err(e);
        }
        written?;
        Ok(done)
    }

    /// The next [`PROGRESS_CHUNK`] records of `reader` with their predictions; empty at
    /// the end.
    fn predict_chunk(
        &self,
        reader: &mut RecordReader,
        text: &TextSpec,
        positions: &[usize],
    ) -> Result<Vec<(Vec<String>, Prediction)>> {
        let mut rows = Vec::with_capacity(PROGRESS_CHUNK);
        while rows.len() < PROGRESS_CHUNK {
            match reader.next_record()? {
                Some(record) => rows.push(record.cells),
                None => break,
            }
        }
        let texts: Vec<String> = rows.iter().map(|c| text.compose(c, positions)).collect();
        let predictions = if texts.is_empty() {
            Vec::new()
        } else {
            self.predict(&texts)?
        };
        Ok(rows.into_iter().zip(predictions).collect())
    }

    /// Metrics, calibration and coverage on a labelled file (labels mapped through
    /// `map` when given). Rows whose label the model does not know are an error that
    /// names them.
    pub fn evaluate_file(
        &self,
        path: &Path,
        text: &TextSpec,
        label_column: &str,
        map: Option<&LabelMap>,
    ) -> Result<Evaluation> {
        self.evaluate_file_as(path, text, label_column, &LabelForm::Single, map)
    }

    /// [`Self::evaluate_file`] with labels read in `form`; for a multi-label model,
    /// label-set metrics with its thresholds (`form` must hold sets then).
    pub fn evaluate_file_as(
        &self,
        path: &Path,
        text: &TextSpec,
        label_column: &str,
        form: &LabelForm,
        map: Option<&LabelMap>,
    ) -> Result<Evaluation> {
        if self.is_multi_label() != form.is_multi_label() {
            return Err(EngineError::data_about(
                path,
                if self.is_multi_label() {
                    "this model predicts label sets: say how the file holds them (a label \
                     separator, or 0/1 label columns)"
                } else {
                    "this model predicts one class per ticket: read the file's labels as one \
                     per row (no label separator or label columns)"
                },
                &[crate::setting::Setting::LabelColumn],
            ));
        }
        let data = read_labeled_as(path, text, label_column, form, map)?;
        let texts: Vec<String> = data.examples.iter().map(|e| e.text.clone()).collect();
        let logits = self.logits(&self.encode(&texts)?)?;
        Ok(self.evaluation(&logits, &self.truth(path, &data)?))
    }

    /// The model's truth for labelled `data` (from `path`): class indices, or label
    /// flags for a multi-label model; an error naming labels it does not know.
    pub(crate) fn truth(&self, path: &Path, data: &LabeledData) -> Result<Truth> {
        if !self.is_multi_label() {
            return Ok(Truth::Classes(self.label_indices(path, data)?));
        }
        let labels = self.labels();
        LabeledData::label_flags(&data.examples, labels)
            .map(Truth::Sets)
            .ok_or_else(|| {
                let unknown: Vec<&String> =
                    data.labels.iter().filter(|l| !labels.contains(l)).collect();
                EngineError::data(
                    path,
                    format!(
                        "labels {unknown:?} are not labels of this model (it knows {labels:?})"
                    ),
                )
            })
    }

    /// Metrics and trust of `logits` against `truth` (no trust for label sets).
    pub(crate) fn evaluation(&self, logits: &[Vec<f32>], truth: &Truth) -> Evaluation {
        match truth {
            Truth::Sets(sets) => {
                let thresholds = self
                    .label_thresholds
                    .clone()
                    .unwrap_or_else(|| vec![DEFAULT_THRESHOLD; self.labels().len()]);
                Evaluation {
                    metrics: Metrics::of_label_set_logits(self.labels(), logits, sets, &thresholds),
                    trust: None,
                }
            }
            Truth::Classes(truth) => {
                let predicted: Vec<usize> = logits.iter().map(|row| argmax(row)).collect();
                Evaluation {
                    metrics: Metrics::compute(self.labels(), truth, &predicted),
                    trust: Some(Trust::assess(
                        self.labels(),
                        logits,
                        truth,
                        self.temperature,
                        self.threshold,
                    )),
                }
            }
        }
    }
}

/// A model scored on labelled rows: its metrics, and how far its probabilities can be
/// trusted there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Evaluation {
    #[serde(flatten)]
    #[ts(flatten)]
    pub metrics: Metrics,
    /// `None` for a multi-label model (calibration and coverage score one class per
    /// ticket).
    pub trust: Option<Trust>,
}

/// What labelled rows truly are, as a model scores them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Truth {
    /// Class indices (single-label).
    Classes(Vec<usize>),
    /// One flag per label (multi-label).
    Sets(Vec<Vec<bool>>),
}

/// The folder a model given as a folder (or hub id) is read from.
pub(crate) fn model_dir(dir: &Path) -> Result<std::path::PathBuf> {
    let dir = crate::model::folder::readable(dir);
    crate::model::resolve::resolve_model(&dir.display().to_string())
}

/// Keep `routing` in the card of the model folder `model` (`None` clears it): the
/// model predicts with it from then on.
/// Refused for a multi-label model (each label has its own threshold).
pub fn keep_threshold(model: &Path, routing: Option<&RoutingThreshold>) -> Result<()> {
    let dir = model_dir(model)?;
    if let Some(r) = routing {
        check_threshold(r.threshold)?;
        if ModelCard::load(&dir).is_some_and(|card| card.multi_label.is_some()) {
            return Err(multi_label_refusal(
                "a routing threshold (the top probability of one class)",
            ));
        }
    }
    ModelCard::record_routing(&dir, routing)
}

/// The error saying that `what` needs one class per ticket and the model predicts
/// label sets.
fn multi_label_refusal(what: &str) -> EngineError {
    EngineError::Config(format!(
        "this model predicts label sets (multi-label), and {what} applies to single-label \
         models only"
    ))
}

/// Check that `input` has every column `trained` composes its text from (the columns
/// a model was trained on); the error names the missing ones and the file's columns.
pub fn check_trained_columns(input: &Path, trained: &TextSpec) -> Result<()> {
    let reader = RecordReader::open(input)?;
    let headers = reader.headers();
    let missing: Vec<&String> = trained
        .columns
        .iter()
        .filter(|c| column_index(input, headers, c).is_err())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(EngineError::data(
        input,
        format!(
            "has no column {}: the model was trained on text from {} and needs the same \
             columns to classify a file. The file's columns are: {}. Rename its columns \
             to match.",
            quoted(missing),
            quoted(&trained.columns),
            quoted(headers),
        ),
    ))
}

/// Column names as `'a', 'b'`.
fn quoted<'a>(names: impl IntoIterator<Item = &'a String>) -> String {
    names
        .into_iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How many records `path` has (a streaming pass); no records is an error.
fn count_records(path: &Path) -> Result<usize> {
    let mut reader = RecordReader::open(path)?;
    let mut n = 0;
    while reader.next_record()?.is_some() {
        n += 1;
    }
    if n == 0 {
        return Err(EngineError::data(path, "has a header but no data rows"));
    }
    Ok(n)
}

/// How a predictor computes the encoder's linear layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum PredictionPrecision {
    F32,
    /// 8-bit integer products on the CPU ([`crate::model::int8`]).
    Int8,
}

impl PredictionPrecision {
    /// Its name as the CLI takes and prints it.
    pub fn name(self) -> &'static str {
        match self {
            PredictionPrecision::F32 => "f32",
            PredictionPrecision::Int8 => "int8",
        }
    }
}

impl std::str::FromStr for PredictionPrecision {
    type Err = EngineError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "f32" => Ok(PredictionPrecision::F32),
            "int8" => Ok(PredictionPrecision::Int8),
            other => Err(EngineError::Config(format!(
                "unknown precision '{other}': use f32 or int8"
            ))),
        }
    }
}

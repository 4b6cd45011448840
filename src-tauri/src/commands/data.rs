//! Data screen and label board: choose a file, profile and check it, read example
//! rows, save and load label maps.

use crate::dialogs;
use crate::error::{blocking, AppError, AppResult};
use crate::file_cache::FileKey;
use crate::state::AppState;
use dialect::dataset::corrections::Corrections;
use dialect::dataset::inspect::{InspectOptions, Inspection};
use dialect::dataset::language::ChosenModel;
use dialect::dataset::{rows_at, LabelForm, LabelMap};
use dialect::model::resolve::model_status;
use dialect::settings::SplitPlan;
use dialect::TextSpec;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use tauri::State;

pub(crate) const DATA_FILTERS: &[(&str, &[&str])] = &[
    (
        "Tickets (CSV, TSV, JSONL)",
        &["csv", "tsv", "txt", "jsonl", "ndjson"],
    ),
    ("All files", &["*"]),
];

/// How texts from several columns are joined (as the CLI does).
const TEXT_SEPARATOR: &str = "\n\n";

/// Ask for a data file.
#[tauri::command]
pub async fn pick_data_file(state: State<'_, AppState>) -> AppResult<Option<PathBuf>> {
    let path = dialogs::open_file("Choose a file of labelled tickets", DATA_FILTERS).await;
    if let Some(path) = &path {
        state.grant(path);
    }
    Ok(path)
}

/// The sample data that ships with the app.
#[derive(Serialize, ts_rs::TS)]
pub struct Sample {
    pub path: PathBuf,
    pub name: String,
    pub attribution: String,
}

/// Where the bundled sample is, and whose it is.
#[tauri::command]
pub fn sample_data(state: State<'_, AppState>) -> AppResult<Sample> {
    if !state.sample.is_file() {
        return Err(AppError::not_found(format!(
            "the sample data is missing from this installation ({})",
            state.sample.display()
        )));
    }
    state.grant(&state.sample);
    Ok(Sample {
        path: state.sample.clone(),
        name: "Banking77 (10,377 customer-service messages, 77 intents)".into(),
        attribution: "Banking77 by Casanueva et al. (2020), PolyAI, CC BY 4.0".into(),
    })
}

/// Text columns as a spec, or `None` to let the profile suggest one.
fn text_spec(columns: Option<Vec<String>>) -> Option<TextSpec> {
    columns.filter(|c| !c.is_empty()).map(|columns| TextSpec {
        columns,
        separator: TEXT_SEPARATOR.into(),
        scrub: Vec::new(),
    })
}

/// What the Check step measures beyond the file itself.
#[derive(Debug, Default, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Checks {
    /// The model training will use (hub id or a folder opened in the app): its
    /// tokenizer measures truncation and its vocabulary's fit to the tickets'
    /// languages, when it is on this machine.
    pub model: Option<String>,
    /// Tokens read per ticket (the training setting).
    pub max_length: Option<usize>,
    /// The validation split training will make (leakage across it is checked).
    pub split: Option<SplitPlan>,
    /// The analyst's own validation file (opened in the app), instead of the split:
    /// read with the same columns, label map and its kept corrections, its overlap with
    /// the training tickets checked.
    #[serde(default)]
    #[ts(optional)]
    pub validation: Option<PathBuf>,
}

/// Profile a file and, with the (given or suggested) columns and its labels read in
/// `label_form` (one label per row when `None`), check its quality:
/// truncation and the languages' fit for `checks.model`, leakage across
/// `checks.split`. `None` when cancelled (by [`cancel_inspection`] or a newer
/// inspection).
#[tauri::command]
pub async fn inspect_data(
    state: State<'_, AppState>,
    path: PathBuf,
    text: Option<Vec<String>>,
    label_column: Option<String>,
    label_map: Option<LabelMap>,
    checks: Option<Checks>,
    label_form: Option<LabelForm>,
) -> AppResult<Option<Inspection>> {
    state.check_granted(&path)?;
    let checks = checks.unwrap_or_default();
    if let Some(validation) = &checks.validation {
        state.check_granted(validation)?;
    }
    let model = checks
        .model
        .as_ref()
        .map(|model| (model.clone(), model_folder(&state, model)));
    let cancel = state.data.start();
    let data = state.data.clone();
    let shelf = state.store.corrections_dir();
    blocking(move || {
        let corrections = Corrections::kept(&shelf, &path)?;
        let validation_corrections = match &checks.validation {
            Some(v) => Some(Corrections::kept(&shelf, v)?),
            None => None,
        };
        let text = text_spec(text);
        let key = FileKey::new(&path, &text, &label_column, &label_form.unwrap_or_default());
        let Some(file) = data.read(key, &cancel)? else {
            return Ok(None);
        };
        let max_length = checks.max_length.unwrap_or(DEFAULT_MAX_LENGTH);
        let mut unmeasured = None;
        let tokens = match &model {
            Some((_, Ok(dir))) => match file.token_counts(dir, max_length, &cancel)? {
                Some(tokens) => Some((tokens, effective_max_length(dir, max_length))),
                None => return Ok(None),
            },
            Some((model, Err(why))) => {
                unmeasured = Some(format!(
                    "truncation is measured with the model's tokenizer, and {model} {why}"
                ));
                None
            }
            None => None,
        };
        let options = InspectOptions {
            label_map: label_map.as_ref(),
            split: checks.split,
            corrections: Some(&corrections),
            validation: checks.validation.as_deref(),
            validation_corrections: validation_corrections.as_ref(),
            ..InspectOptions::default()
        };
        let mut inspection = file
            .rows
            .inspect(&options, tokens.as_ref().map(|(t, m)| (t.as_ref(), *m)))?;
        if let (Some(reason), Some(report)) = (unmeasured, inspection.report.as_mut()) {
            for n in report
                .not_measured
                .iter_mut()
                .filter(|n| n.code == "truncation")
            {
                n.reason = reason.clone();
            }
        }
        inspection.language = file.language(model.as_ref().map(|(id, dir)| ChosenModel {
            id,
            folder: dir.as_deref().ok(),
        }))?;
        if let (Some((model, Err(why))), Some(language)) = (&model, inspection.language.as_mut()) {
            language.vocabulary_note = Some(format!(
                "the vocabulary check reads the model's tokenizer, and {model} {why}"
            ));
        }
        Ok(Some(inspection))
    })
    .await
}

/// Stop the inspection in progress (it returns `None`).
#[tauri::command]
pub fn cancel_inspection(state: State<'_, AppState>) {
    state.data.cancel_current();
}

/// The training setting's default max length.
const DEFAULT_MAX_LENGTH: usize = 128;

/// The folder of `model` when it is on this machine, or why not (a sentence ending).
/// Only hub ids (looked up in the cache, never downloaded) and folders the person
/// opened in the app are looked at.
fn model_folder(state: &AppState, model: &str) -> Result<PathBuf, String> {
    let path = Path::new(model);
    let hub_id = !path.is_absolute()
        && !model.contains(['\\', ':'])
        && !model.split('/').any(|p| p.is_empty() || p.starts_with('.'))
        && model.split('/').count() <= 2;
    if !hub_id && state.check_granted(path).is_err() {
        return Err("is not a hub id or a folder opened in Dialect".into());
    }
    match model_status(model) {
        Ok(status) => status.cached.ok_or_else(|| {
            "is not on this machine yet: it is measured once the model is downloaded".into()
        }),
        Err(e) => Err(format!("cannot be used: {e}")),
    }
}

/// The max length training will use with the model in `dir`: the setting, capped at
/// the model's position limit when its config names one.
fn effective_max_length(dir: &Path, max_length: usize) -> usize {
    std::fs::read_to_string(dir.join("config.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|config| config.get("max_position_embeddings")?.as_u64())
        .map_or(max_length, |limit| max_length.min(limit as usize))
}

/// One row's composed text, and its class after the label map when asked for (`None`
/// when the map drops the row or its label is empty).
#[derive(Serialize, ts_rs::TS)]
pub struct RowText {
    pub line: usize,
    pub text: String,
    pub label: Option<String>,
}

/// The texts of the rows starting at `lines` (examples for a finding), with their
/// classes when `label_column` is given or `label_form` names 0/1 columns (mapped
/// through `label_map`; a label set as its classes joined by "; ").
#[tauri::command]
pub async fn row_texts(
    state: State<'_, AppState>,
    path: PathBuf,
    text: Vec<String>,
    lines: Vec<usize>,
    label_column: Option<String>,
    label_map: Option<LabelMap>,
    label_form: Option<LabelForm>,
) -> AppResult<Vec<RowText>> {
    state.check_granted(&path)?;
    let data = state.data.clone();
    blocking(move || {
        let spec = text_spec(Some(text)).ok_or_else(|| {
            AppError::from(dialect::EngineError::Config("no text column given".into()))
        })?;
        let label_form = label_form.unwrap_or_default();
        let labelled = label_column.is_some() || matches!(label_form, LabelForm::Columns { .. });
        let labels: HashMap<usize, String> = match labelled {
            true => {
                let key = FileKey::new(&path, &Some(spec.clone()), &label_column, &label_form);
                match data.read(key, &AtomicBool::new(false))? {
                    Some(file) => match &file.rows.rows {
                        Some(rows) => rows
                            .labeled(label_map.as_ref())?
                            .examples
                            .into_iter()
                            .map(|e| (e.line, e.label))
                            .collect(),
                        None => HashMap::new(),
                    },
                    None => HashMap::new(),
                }
            }
            false => HashMap::new(),
        };
        Ok(rows_at(&path, &spec, &lines)?
            .into_iter()
            .map(|(line, text)| RowText {
                label: labels.get(&line).cloned(),
                line,
                text,
            })
            .collect())
    })
    .await
}

/// Save a label map where the person chooses; the path written, or `None`.
#[tauri::command]
pub async fn save_label_map(map: LabelMap) -> AppResult<Option<PathBuf>> {
    let Some(path) = dialogs::save_file("Save the label mapping", "label-map.json").await else {
        return Ok(None);
    };
    blocking(move || {
        map.save(&path)?;
        Ok(Some(path))
    })
    .await
}

/// Load a label map the person chooses; `None` when cancelled.
#[tauri::command]
pub async fn load_label_map() -> AppResult<Option<LabelMap>> {
    let filters: &[(&str, &[&str])] = &[("Label map (JSON)", &["json"])];
    let Some(path) = dialogs::open_file("Load a label mapping", filters).await else {
        return Ok(None);
    };
    blocking(move || Ok(Some(LabelMap::load(&path)?))).await
}

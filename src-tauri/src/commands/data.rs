//! Data screen and label board: choose a file, profile and check it, read example
//! rows, save and load label maps.

use crate::dialogs;
use crate::error::{blocking, AppError, AppResult};
use crate::state::AppState;
use dialect::dataset::inspect::{inspect, InspectOptions, Inspection};
use dialect::dataset::{rows_at, LabelMap};
use dialect::TextSpec;
use serde::Serialize;
use std::path::PathBuf;
use tauri::State;

const DATA_FILTERS: &[(&str, &[&str])] = &[
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
#[derive(Serialize)]
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
    })
}

/// Profile a file and, with the (given or suggested) columns, check its quality.
#[tauri::command]
pub async fn inspect_data(
    state: State<'_, AppState>,
    path: PathBuf,
    text: Option<Vec<String>>,
    label_column: Option<String>,
    label_map: Option<LabelMap>,
) -> AppResult<Inspection> {
    state.check_granted(&path)?;
    blocking(move || {
        let options = InspectOptions {
            text: text_spec(text),
            label_column,
            label_map: label_map.as_ref(),
            ..InspectOptions::default()
        };
        Ok(inspect(&path, &options)?)
    })
    .await
}

/// One row's composed text.
#[derive(Serialize)]
pub struct RowText {
    pub line: usize,
    pub text: String,
}

/// The texts of the rows starting at `lines` (examples for a finding).
#[tauri::command]
pub async fn row_texts(
    state: State<'_, AppState>,
    path: PathBuf,
    text: Vec<String>,
    lines: Vec<usize>,
) -> AppResult<Vec<RowText>> {
    state.check_granted(&path)?;
    blocking(move || {
        let spec = text_spec(Some(text)).ok_or_else(|| {
            AppError::from(dialect::EngineError::Config("no text column given".into()))
        })?;
        Ok(rows_at(&path, &spec, &lines)?
            .into_iter()
            .map(|(line, text)| RowText { line, text })
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

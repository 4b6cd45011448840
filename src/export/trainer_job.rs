//! A run as a ready-to-run transformers Trainer job for `accelerate` (one GPU, DDP,
//! FSDP, DeepSpeed ZeRO-2): `train.py` reads the run's data file and trains with the
//! run's recipe, and its output folder imports back as a run
//! ([`RunStore::import_trainer_output`]).
//!
//! The split, the label map and the corrections are not re-implemented in Python:
//! `rows.json` lists every row the run trained and validated on (the line it starts
//! on, its classes after the label map and corrections, the hash corrections name it
//! by), so the job uses exactly the run's rows, and refuses a data file that no longer
//! holds them.

use crate::atomic::write_atomic;
use crate::dataset::corrections::row_hash;
use crate::dataset::source::RecordReader;
use crate::dataset::{Example, TextSpec};
use crate::error::{EngineError, Result};
use crate::fingerprint::RowId;
use crate::runs::{RunRecord, RunStore};
use crate::settings::{BestMetric, ClassWeights, Method, Sampler};
use serde::Serialize;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The job's fixed files: their path in the job folder and their text.
const FIXED_FILES: [(&str, &str); 10] = [
    ("train.py", include_str!("trainer_job/train.py")),
    ("launch.sh", include_str!("trainer_job/launch.sh")),
    (
        "requirements.txt",
        include_str!("trainer_job/requirements.txt"),
    ),
    ("README.md", include_str!("trainer_job/README.md")),
    (
        "accelerate/single_gpu.yaml",
        include_str!("trainer_job/accelerate/single_gpu.yaml"),
    ),
    (
        "accelerate/multi_gpu.yaml",
        include_str!("trainer_job/accelerate/multi_gpu.yaml"),
    ),
    (
        "accelerate/fsdp.yaml",
        include_str!("trainer_job/accelerate/fsdp.yaml"),
    ),
    (
        "accelerate/deepspeed_zero2.yaml",
        include_str!("trainer_job/accelerate/deepspeed_zero2.yaml"),
    ),
    (
        "accelerate/ds_zero2.json",
        include_str!("trainer_job/accelerate/ds_zero2.json"),
    ),
    (".gitignore", "output/\n"),
];
/// The recipe and the files to read.
pub const JOB_FILE: &str = "job.json";
/// Every row's classes and side of the split.
pub const ROWS_FILE: &str = "rows.json";

/// A written job: its folder and the files in it (relative paths, sorted).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrainerJob {
    pub folder: PathBuf,
    pub files: Vec<String>,
}

/// Write run `id` as a Trainer job into the new folder `<parent>/dialect-<id>-trainer`,
/// whole or not at all. The run's data is read again and must still hold the rows the
/// run was validated on.
pub fn export_trainer_job(store: &RunStore, id: &str, parent: &Path) -> Result<TrainerJob> {
    let record = store.get(id)?;
    refuse_unreproducible(&record)?;
    let target = parent.join(format!("dialect-{id}-trainer"));
    if target.exists() {
        return Err(EngineError::Config(format!(
            "{} already exists: choose another folder or remove it",
            target.display()
        )));
    }
    let data = record.data.load(true)?.data;
    let recorded = store.validation_rows(id)?;
    let now: Vec<RowId> = data.validation.iter().map(RowId::of).collect();
    if !recorded.is_empty() && recorded != now {
        return Err(EngineError::DataChanged {
            path: record.data.path.clone(),
            message: format!(
                "the data no longer holds the rows run {id} was validated on, so the job \
                 could not reproduce its split: export it from a run on the current file"
            ),
        });
    }
    let rows = json!({
        "labels": data.labels,
        "multiLabel": data.multi_label(),
        "train": row_list(&data.train, &data.labels)?,
        "validation": row_list(&data.validation, &data.labels)?,
    });
    let job = job_description(&record)?;

    let partial = parent.join(format!(".dialect-{id}-trainer.partial"));
    let _ = std::fs::remove_dir_all(&partial);
    let written = (|| {
        std::fs::create_dir_all(partial.join("accelerate"))
            .map_err(|e| EngineError::io(&partial, e))?;
        for (name, text) in FIXED_FILES {
            write_atomic(&partial.join(name), text.as_bytes())?;
        }
        make_executable(&partial.join("launch.sh"))?;
        write_atomic(
            &partial.join(JOB_FILE),
            serde_json::to_string_pretty(&job)?.as_bytes(),
        )?;
        write_atomic(
            &partial.join(ROWS_FILE),
            serde_json::to_string(&rows)?.as_bytes(),
        )?;
        std::fs::rename(&partial, &target).map_err(|e| EngineError::io(&target, e))
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&partial);
        return Err(e);
    }
    let mut files: Vec<String> = FIXED_FILES
        .iter()
        .map(|(name, _)| name.to_string())
        .chain([JOB_FILE.to_string(), ROWS_FILE.to_string()])
        .collect();
    files.sort();
    Ok(TrainerJob {
        folder: target,
        files,
    })
}

/// Refuse runs whose recipe the Trainer job would not reproduce.
fn refuse_unreproducible(record: &RunRecord) -> Result<()> {
    let config = &record.config;
    let why = if config.method == Method::Baseline {
        Some("it is a baseline (a linear head on frozen features), and the job fine-tunes")
    } else if config.class_weights != ClassWeights::None {
        Some("it weighs classes in the loss, which the job does not")
    } else if config.sampler != Sampler::Shuffle {
        Some("it draws balanced batches, and the job feeds every row once per epoch")
    } else if !record.data.text.scrub.is_empty() {
        Some("it scrubs personal data before tokenising, which the job does not")
    } else {
        None
    };
    match why {
        Some(why) => Err(EngineError::Config(format!(
            "run {} cannot be exported as a Trainer job: {why}. Export a fine-tuning run \
             with the default class weights, sampler and no scrubbing",
            record.id
        ))),
        None => Ok(()),
    }
}

/// `job.json`: the recipe, the files to read and the source run's settings.
fn job_description(record: &RunRecord) -> Result<Value> {
    let config = &record.config;
    let data = &record.data;
    let best_metric = match config.best_metric {
        BestMetric::Accuracy => "accuracy",
        BestMetric::MacroF1 => "macro_f1",
        BestMetric::MicroF1 => "micro_f1",
    };
    // A local base model is named by its absolute path, so the job finds it from its
    // own folder; anything else is a hub id.
    let model = match std::path::absolute(&config.model) {
        Ok(path) if path.exists() => path.display().to_string(),
        _ => config.model.clone(),
    };
    let validation = data
        .validation
        .as_deref()
        .map(|path| file_description(path, &data.text))
        .transpose()?;
    Ok(json!({
        "sourceRun": record.id,
        "recipe": {
            "model": model,
            "epochs": config.epochs,
            "batchSize": config.batch_size,
            "evalBatchSize": config.eval_batch_size,
            "learningRate": config.learning_rate,
            "weightDecay": config.weight_decay,
            "warmupSteps": config.warmup_steps,
            "maxGradNorm": config.max_grad_norm,
            "maxLength": config.max_length,
            "seed": config.seed,
            "bestMetric": best_metric,
            "earlyStoppingPatience": config.early_stopping_patience,
            "precision": config.precision,
            "newHead": config.new_head,
        },
        "text": { "separator": data.text.separator },
        "data": file_description(&data.path, &data.text)?,
        "validation": validation,
        "source": { "config": config, "data": data },
    }))
}

/// A data file as `train.py` reads it: its path, format and encoding, and the header
/// names of the text columns.
fn file_description(path: &Path, text: &TextSpec) -> Result<Value> {
    let reader = RecordReader::open(path)?;
    let headers = reader.headers();
    let columns: Vec<&String> = text
        .positions(path, headers)?
        .into_iter()
        .filter_map(|i| headers.get(i))
        .collect();
    Ok(json!({
        "path": std::path::absolute(path).map_err(|e| EngineError::io(path, e))?,
        "format": reader.format(),
        "encoding": reader.encoding(),
        "columns": columns,
    }))
}

/// `[line, [class index…], text hash]` for each row.
fn row_list(rows: &[Example], labels: &[String]) -> Result<Vec<Value>> {
    rows.iter()
        .map(|row| {
            let classes = match &row.labels {
                Some(set) => set.clone(),
                None => vec![row.label.clone()],
            };
            let indices = classes
                .iter()
                .map(|c| {
                    labels.iter().position(|l| l == c).ok_or_else(|| {
                        EngineError::Config(format!(
                            "line {}: class '{c}' is not among the run's classes",
                            row.line
                        ))
                    })
                })
                .collect::<Result<Vec<usize>>>()?;
            Ok(json!([row.line, indices, row_hash(&row.text)]))
        })
        .collect()
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| EngineError::io(path, e))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_hashes_are_the_prefix_train_py_computes() {
        // hashlib.sha256(text.encode("utf-8")).hexdigest()[:16], as train.py checks.
        assert_eq!(row_hash(""), "e3b0c44298fc1c14");
        assert_eq!(row_hash("refund please"), "5e9b8d97210dfc67");
        assert_eq!(row_hash("café\n\nrefund"), "c82982d3a256f926");
    }
}

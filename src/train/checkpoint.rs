//! The resumable state of a fine-tune, written whole at the end of every epoch (see
//! [`crate::model::folder::replace_dir`]): the weights, the AdamW moments and step,
//! and where the run stands (epochs done, schedule position, best so far). Data order
//! and dropout are drawn from per-epoch seeds, so the next epoch needs no RNG state.

use super::optim::AdamW;
use crate::error::{EngineError, Result};
use crate::events::RunSummary;
use crate::model::folder::{readable, replace_dir, OPTIMIZER_STATE, TRAINER_STATE};
use crate::model::SequenceClassifier;
use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// Where a run stands after an epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrainerState {
    /// Epochs completed (the next one to run is `epoch + 1`).
    pub epoch: usize,
    /// AdamW's update count (bias correction).
    pub optimizer_step: i32,
    /// Evaluations since the best one (early stopping).
    pub since_best: usize,
    /// The summary so far: epoch records, best epoch and value, steps, seconds.
    pub summary: RunSummary,
}

const STATE: &str = TRAINER_STATE;
const OPTIMIZER: &str = OPTIMIZER_STATE;

/// Whether `dir` holds a checkpoint to resume from (looking only, see
/// [`crate::model::folder::readable`]).
pub fn exists(dir: &Path) -> bool {
    readable(dir).join(STATE).is_file()
}

/// Write the checkpoint of completed `epoch` into `dir` as a whole. Returns `false`
/// (and writes nothing) where the optimiser cannot export its state (the fused CUDA
/// optimiser).
pub fn save(
    dir: &Path,
    model: &SequenceClassifier,
    optimizer: &AdamW,
    epoch: usize,
    since_best: usize,
    summary: &RunSummary,
) -> Result<bool> {
    let Some((optimizer_step, moments)) = optimizer.state()? else {
        return Ok(false);
    };
    let state = TrainerState {
        epoch,
        optimizer_step,
        since_best,
        summary: summary.clone(),
    };
    replace_dir(dir, |staging| {
        model.save(staging)?;
        crate::atomic::write_safetensors(&staging.join(OPTIMIZER), moments, None)?;
        crate::atomic::write_atomic(
            &staging.join(STATE),
            serde_json::to_string_pretty(&state)?.as_bytes(),
        )
    })?;
    Ok(true)
}

/// Read a checkpoint's state and optimiser moments.
pub fn load(dir: &Path) -> Result<(TrainerState, HashMap<String, Tensor>)> {
    let dir = &readable(dir);
    let bad = |what: &str, e: String| {
        EngineError::Config(format!(
            "the checkpoint in {} is unreadable ({what}: {e}); the run cannot be resumed",
            dir.display()
        ))
    };
    let text = std::fs::read_to_string(dir.join(STATE)).map_err(|e| bad(STATE, e.to_string()))?;
    let state: TrainerState = serde_json::from_str(&text).map_err(|e| bad(STATE, e.to_string()))?;
    let moments = candle_core::safetensors::load(dir.join(OPTIMIZER), &Device::Cpu)
        .map_err(|e| bad(OPTIMIZER, e.to_string()))?;
    Ok((state, moments))
}

/// Remove a checkpoint once its run has finished (it is only for resuming).
pub fn remove(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(EngineError::io(dir, e)),
        _ => Ok(()),
    }
}

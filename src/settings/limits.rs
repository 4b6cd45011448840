//! The bounds of every numeric setting, in one place.

use crate::error::{EngineError, Result};
use crate::setting::Setting;
use serde::Serialize;

/// The range a numeric setting may take (both ends included).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ts_rs::TS)]
pub struct Bounds<T> {
    pub min: T,
    pub max: T,
}

impl<T: PartialOrd + Copy + std::fmt::Display> Bounds<T> {
    /// `value` if within the bounds, else an error naming `setting` and the range.
    pub fn check(&self, setting: Setting, value: T) -> Result<T> {
        if value >= self.min && value <= self.max {
            Ok(value)
        } else {
            Err(EngineError::setting(
                setting,
                format!(
                    "{}: must be between {} and {}, got {value}",
                    setting.label(),
                    self.min,
                    self.max
                ),
            ))
        }
    }
}

/// The bounds of every numeric setting, in one place: checked by
/// [`TrainConfig::validate`] and [`crate::train::DataSpec::load`], and shown by the
/// app's inputs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    pub epochs: Bounds<usize>,
    pub batch_size: Bounds<usize>,
    pub eval_batch_size: Bounds<usize>,
    pub warmup_steps: Bounds<usize>,
    pub max_length: Bounds<usize>,
    pub early_stopping_patience: Bounds<usize>,
    pub validation_fraction: Bounds<f64>,
    pub max_rows: Bounds<usize>,
}

/// The settings' bounds.
pub const LIMITS: Limits = Limits {
    epochs: Bounds { min: 1, max: 1000 },
    batch_size: Bounds { min: 1, max: 1024 },
    eval_batch_size: Bounds { min: 1, max: 4096 },
    warmup_steps: Bounds {
        min: 0,
        max: 1_000_000,
    },
    max_length: Bounds { min: 8, max: 8192 },
    early_stopping_patience: Bounds { min: 1, max: 100 },
    validation_fraction: Bounds {
        min: 0.01,
        max: 0.9,
    },
    max_rows: Bounds {
        min: 1,
        max: 100_000_000,
    },
};

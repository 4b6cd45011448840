//! One source of truth for training settings: the configuration type and its
//! defaults, the bounds of each number, the presets, and each setting's name, help and
//! command-line flag. The CLI folds its options over these defaults and the app serves
//! them to the UI.

mod catalogue;
mod config;
mod imbalance;
mod limits;
mod split;

pub use catalogue::{catalogue, cli_help, Catalogue, Preset, SettingInfo};
pub use config::{
    BestMetric, Method, Precision, TrainConfig, DEFAULT_LABEL_COLUMN, DEFAULT_TEXT_COLUMN,
};
pub use imbalance::{ClassWeights, Sampler, EFFECTIVE_BETA};
pub use limits::{Bounds, Limits, LIMITS};
pub use split::SplitPlan;

//! Dialect engine: fine-tune pre-trained transformer encoders (DistilBERT, BERT family)
//! as sequence classifiers on ticket data, evaluate them, and predict with them.
//!
//! The engine knows nothing of the CLI or the app; both are thin layers over this API.

#[cfg(all(feature = "metal", not(target_os = "macos")))]
compile_error!(
    "the `metal` feature needs macOS (Apple GPUs): build with `--features cuda` for NVIDIA GPUs, or without features for the CPU"
);

pub mod allocator;
pub mod atomic;
pub mod calibration;
#[cfg(any(feature = "cuda", test))]
mod cuda_probe;
pub mod dataset;
pub mod device;
pub mod device_check;
pub mod error;
pub mod events;
pub mod explain;
pub mod export;
pub mod fingerprint;
pub mod inference;
pub(crate) mod kernels;
pub mod metrics;
pub mod model;
pub mod model_card;
pub mod multi_label;
pub mod pii;
pub mod predict;
pub mod quantize;
pub mod review;
pub mod routing;
pub mod run_diff;
pub mod runs;
pub mod runtime;
pub mod setting;
pub mod settings;
pub mod train;

pub use dataset::{Example, LabeledData, TextSpec};
pub use device::DeviceChoice;
pub use error::{EngineError, Result};
pub use events::{Int8Check, RunSummary, TrainEvent};
pub use metrics::{ClassMetrics, Metrics};
pub use model::{resolve::resolve_model, Arch, SequenceClassifier};
pub use predict::PredictionPrecision;
pub use predict::{Prediction, Predictor};
pub use settings::{BestMetric, Method, Precision, TrainConfig};
pub use train::{TrainData, Trainer};

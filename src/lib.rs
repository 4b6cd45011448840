//! Dialect engine: fine-tune pre-trained transformer encoders (DistilBERT, BERT family)
//! as sequence classifiers on ticket data, evaluate them, and predict with them.
//!
//! The engine knows nothing of the CLI or the app; both are thin layers over this API.

pub mod atomic;
pub mod dataset;
pub mod device;
pub mod error;
pub mod metrics;
pub mod model;
pub mod predict;
pub mod review;
pub mod runs;
pub mod train;

pub use dataset::{Example, LabeledData, TextSpec};
pub use device::DeviceChoice;
pub use error::{EngineError, Result};
pub use metrics::{ClassMetrics, Metrics};
pub use model::{resolve::resolve_model, Arch, SequenceClassifier};
pub use predict::{Prediction, Predictor};
pub use train::{BestMetric, RunSummary, TrainConfig, TrainData, TrainEvent, Trainer};

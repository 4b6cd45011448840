//! The settings a person can change, each named once: its label on screen, its
//! command-line flag and its help. Errors and findings name the setting that fixes
//! them; the CLI shows its flag, the app its control. A leaf module, so every other
//! module (errors included) can use it; the defaults and bounds are in
//! [`crate::settings`].

use serde::{Deserialize, Serialize};

/// A setting of a run, as errors and findings name it: the CLI shows its flag, the app
/// its control's label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub enum Setting {
    Model,
    Method,
    Epochs,
    BatchSize,
    EvalBatchSize,
    LearningRate,
    WeightDecay,
    WarmupSteps,
    MaxGradNorm,
    MaxLength,
    Seed,
    BestMetric,
    EarlyStoppingPatience,
    GroupByLength,
    ClassWeights,
    Sampler,
    Device,
    Precision,
    NewHead,
    ValidationFraction,
    SplitSeed,
    MaxRows,
    TextColumn,
    LabelColumn,
    LabelMap,
    Validation,
    Force,
}

impl Setting {
    /// Every setting, in the order the CLI's help lists them.
    pub const ALL: [Setting; 27] = [
        Setting::Model,
        Setting::Method,
        Setting::Epochs,
        Setting::BatchSize,
        Setting::EvalBatchSize,
        Setting::LearningRate,
        Setting::WeightDecay,
        Setting::WarmupSteps,
        Setting::MaxGradNorm,
        Setting::MaxLength,
        Setting::Seed,
        Setting::BestMetric,
        Setting::EarlyStoppingPatience,
        Setting::GroupByLength,
        Setting::ClassWeights,
        Setting::Sampler,
        Setting::Device,
        Setting::Precision,
        Setting::NewHead,
        Setting::ValidationFraction,
        Setting::SplitSeed,
        Setting::MaxRows,
        Setting::TextColumn,
        Setting::LabelColumn,
        Setting::LabelMap,
        Setting::Validation,
        Setting::Force,
    ];

    /// Its label on screen (also the name error messages use).
    pub fn label(self) -> &'static str {
        self.info().0
    }

    /// Its command-line flag.
    pub fn flag(self) -> &'static str {
        self.info().1
    }

    /// What it does, in a sentence.
    pub fn help(self) -> &'static str {
        self.info().2
    }

    /// (label, flag, help).
    fn info(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Setting::Model => ("Model", "--model", "Base model: a local folder in Hugging Face layout or a hub id."),
            Setting::Method => ("Method", "--baseline", "Fine-tune every weight, or the instant baseline: encode each text once with the frozen encoder (mean pooling) and fit a linear classifier (seconds to minutes)."),
            Setting::Epochs => ("Epochs", "--epochs", "Passes over the training rows."),
            Setting::BatchSize => ("Batch size", "--batch-size", "Tickets per optimisation step; lower it if memory runs out."),
            Setting::EvalBatchSize => ("Evaluation batch size", "--eval-batch-size", "Tickets per batch when scoring the validation rows."),
            Setting::LearningRate => ("Learning rate", "--lr", "Step size of AdamW (peak, decayed linearly to 0); 2e-5 to 5e-5 suits fine-tuning."),
            Setting::WeightDecay => ("Weight decay", "--weight-decay", "Regularisation (not on biases or LayerNorm)."),
            Setting::WarmupSteps => ("Warm-up steps", "--warmup-steps", "Steps over which the rate ramps up from 0."),
            Setting::MaxGradNorm => ("Max gradient norm", "--max-grad-norm", "Gradients are clipped to this norm."),
            Setting::MaxLength => ("Max length", "--max-length", "Tokens read per ticket; longer texts are cut."),
            Setting::Seed => ("Seed", "--seed", "Seed of the initialisation, data order and dropout: same seed, same data, same result."),
            Setting::BestMetric => ("Best model by", "--best-metric", "Metric that picks the best epoch: accuracy, macro-f1 or micro-f1 (for label sets, accuracy is subset accuracy)."),
            Setting::EarlyStoppingPatience => ("Early stopping", "--early-stopping", "Stop after N epochs without improvement; off when not set."),
            Setting::GroupByLength => ("Group by length", "--group-by-length", "Batch rows of similar length together (less padding on GPUs; the CPU's batches have none). Batches then mix classes less, which can cost accuracy."),
            Setting::ClassWeights => ("Class weights", "--class-weights", "For a few big classes and a long tail: none, inverse (each class weighs as much in the loss as an average one) or effective (Cui et al. 2019; milder on large classes)."),
            Setting::Sampler => ("Batch sampling", "--sampler", "shuffle (every row once per epoch) or balanced (as many rows, drawn with replacement so classes appear about equally often). Fine-tuning only."),
            Setting::Device => ("Device", "--device", "auto, cpu, cuda or metal."),
            Setting::Precision => ("Precision", "--precision", "auto (bf16 mixed precision on CUDA GPUs that run it natively, f32 elsewhere), f32 or bf16. Weights and optimiser state stay f32."),
            Setting::NewHead => ("Replace the classifier head", "--new-head", "Replace the base model's classification head when it does not fit the classes (e.g. to fine-tune an existing classifier on other classes)."),
            Setting::ValidationFraction => ("Validation share", "--validation-fraction", "Share of each class held out to score each epoch, when there is no validation file."),
            Setting::SplitSeed => ("Split seed", "--split-seed", "Seed of the validation split and the row sample: runs with other training seeds are scored on the same rows."),
            Setting::MaxRows => ("Use at most N rows", "--max-rows", "Train on a stratified sample of at most this many rows (quicker runs); all rows when not set."),
            Setting::TextColumn => ("Ticket text", "--text-column", "Column holding the ticket text; several are joined in order."),
            Setting::LabelColumn => ("Label", "--label-column", "Column holding the label."),
            Setting::LabelMap => ("Label map", "--label-map", "How raw label values map onto classes (or are dropped)."),
            Setting::Validation => ("Validation file", "--validation", "A separate validation file with the same columns; otherwise a stratified split is held out."),
            Setting::Force => ("Train anyway", "--force", "Train even when the data check finds blocking problems."),
        }
    }
}

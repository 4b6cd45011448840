//! The presets, each setting's default as the CLI's help shows it, and the catalogue
//! the app serves to the UI (defaults, bounds, presets, names and help, suggested
//! models).

use super::config::{Method, TrainConfig, DEFAULT_LABEL_COLUMN, DEFAULT_TEXT_COLUMN};
use super::limits::{Limits, LIMITS};
use crate::model::resolve::{DEFAULT_MODEL, PRESETS};
use crate::setting::Setting;
use crate::settings::SplitPlan;
use serde::Serialize;

/// `setting`'s default, as the CLI's help shows it (`None`: no default, or off).
fn default_text(setting: Setting) -> Option<String> {
    let (c, s) = (TrainConfig::default(), SplitPlan::default());
    Some(match setting {
        Setting::Model => c.model,
        Setting::Method => "fine-tune".into(),
        Setting::Epochs => c.epochs.to_string(),
        Setting::BatchSize => c.batch_size.to_string(),
        Setting::EvalBatchSize => c.eval_batch_size.to_string(),
        Setting::LearningRate => format!("{:e}", c.learning_rate),
        Setting::WeightDecay => c.weight_decay.to_string(),
        Setting::WarmupSteps => c.warmup_steps.to_string(),
        Setting::MaxGradNorm => c.max_grad_norm.to_string(),
        Setting::MaxLength => c.max_length.to_string(),
        Setting::Seed => c.seed.to_string(),
        Setting::BestMetric => c.best_metric.flag_name().into(),
        Setting::ClassWeights => c.class_weights.name().into(),
        Setting::Sampler => c.sampler.name().into(),
        Setting::Device => c.device.name().into(),
        Setting::Precision => c.precision.name().into(),
        Setting::ValidationFraction => s.validation_fraction.to_string(),
        Setting::SplitSeed => s.seed.to_string(),
        Setting::TextColumn => DEFAULT_TEXT_COLUMN.into(),
        Setting::LabelColumn => DEFAULT_LABEL_COLUMN.into(),
        Setting::EarlyStoppingPatience
        | Setting::GroupByLength
        | Setting::NewHead
        | Setting::MaxRows
        | Setting::LabelMap
        | Setting::Validation
        | Setting::Force => return None,
    })
}

/// `setting`'s help with its default, for the CLI.
pub fn cli_help(setting: Setting) -> String {
    match default_text(setting) {
        Some(default) => format!("{} [default: {default}]", setting.help()),
        None => setting.help().to_string(),
    }
}

/// A named starting point for the settings.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Preset {
    pub id: &'static str,
    pub title: &'static str,
    pub blurb: &'static str,
    pub config: TrainConfig,
    pub split: SplitPlan,
}

/// The presets, quickest first; `balanced` is the recipe's defaults.
fn presets() -> Vec<Preset> {
    let recipe = TrainConfig::default;
    let split = SplitPlan::default;
    vec![
        Preset {
            id: "quick",
            title: "Quick",
            blurb: "Instant baseline: the frozen encoder reads each ticket once and a linear \
                    classifier is fitted on its features. Seconds to a couple of minutes: a \
                    first accuracy before a full fine-tune",
            config: TrainConfig {
                method: Method::Baseline,
                epochs: 1,
                ..recipe()
            },
            split: split(),
        },
        Preset {
            id: "light",
            title: "Light",
            blurb: "A short fine-tune: 1 epoch on up to 2,000 rows, in minutes",
            config: TrainConfig {
                epochs: 1,
                max_length: 64,
                learning_rate: 5e-5,
                ..recipe()
            },
            split: SplitPlan {
                max_rows: Some(2000),
                ..split()
            },
        },
        Preset {
            id: "balanced",
            title: "Balanced",
            blurb: "The classic recipe: 3 epochs, all rows",
            config: recipe(),
            split: split(),
        },
        Preset {
            id: "thorough",
            title: "Thorough",
            blurb: "5 epochs, longer texts, stops early when it stops improving",
            config: TrainConfig {
                epochs: 5,
                early_stopping_patience: Some(2),
                max_length: 256,
                ..recipe()
            },
            split: split(),
        },
    ]
}

/// One setting as the UI shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct SettingInfo {
    pub setting: Setting,
    pub label: &'static str,
    pub flag: &'static str,
    pub help: &'static str,
}

/// Everything the settings form needs from the engine.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Catalogue {
    /// The recipe's training settings.
    pub config: TrainConfig,
    /// The default split.
    pub split: SplitPlan,
    pub limits: Limits,
    pub presets: Vec<Preset>,
    /// The preset the defaults are.
    pub default_preset: &'static str,
    pub settings: Vec<SettingInfo>,
    /// Models offered without typing a hub id.
    pub models: Vec<&'static str>,
    pub default_model: &'static str,
}

/// The settings' defaults, bounds, presets, names and help.
pub fn catalogue() -> Catalogue {
    Catalogue {
        config: TrainConfig::default(),
        split: SplitPlan::default(),
        limits: LIMITS,
        presets: presets(),
        default_preset: "balanced",
        settings: Setting::ALL
            .iter()
            .map(|&setting| SettingInfo {
                setting,
                label: setting.label(),
                flag: setting.flag(),
                help: setting.help(),
            })
            .collect(),
        models: PRESETS.iter().map(|p| p.id).collect(),
        default_model: DEFAULT_MODEL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_balanced_preset_is_the_default_and_every_preset_is_valid() {
        let c = catalogue();
        let balanced = c.presets.iter().find(|p| p.id == c.default_preset);
        assert_eq!(
            balanced.map(|p| (&p.config, &p.split)),
            Some((&c.config, &c.split))
        );
        for p in &c.presets {
            p.config
                .validate()
                .unwrap_or_else(|e| panic!("{}: {e}", p.id));
            p.split
                .validate()
                .unwrap_or_else(|e| panic!("{}: {e}", p.id));
        }
    }

    #[test]
    fn every_setting_has_a_distinct_label_and_flag() {
        let mut labels: Vec<_> = Setting::ALL.iter().map(|s| s.label()).collect();
        let mut flags: Vec<_> = Setting::ALL.iter().map(|s| s.flag()).collect();
        labels.sort();
        labels.dedup();
        flags.sort();
        flags.dedup();
        assert_eq!(labels.len(), Setting::ALL.len());
        assert_eq!(flags.len(), Setting::ALL.len());
        assert!(flags.iter().all(|f| f.starts_with("--")));
    }
}

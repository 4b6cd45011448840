//! The choices for data with a few big classes and a long tail: weighing each class's
//! loss, and drawing batches so classes appear about equally often.

use crate::error::{EngineError, Result};
use serde::{Deserialize, Serialize};

/// β of the effective number of samples (Cui et al. 2019): each class's weight is
/// ∝ (1 − β) / (1 − β^n). 0.999 is the paper's choice for data sets of this size.
pub const EFFECTIVE_BETA: f64 = 0.999;

/// How each class's rows weigh in the training loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub enum ClassWeights {
    /// Every row counts the same (the recipe).
    #[default]
    None,
    /// w_c = N / (K · n_c): every class weighs as much as a class of average size.
    Inverse,
    /// The effective number of samples (Cui et al. 2019): w_c ∝ (1 − β) / (1 − β^n_c)
    /// with β = [`EFFECTIVE_BETA`], averaging 1 over the classes; milder than
    /// `Inverse` on large classes.
    Effective,
}

impl std::str::FromStr for ClassWeights {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "none" | "off" => Ok(Self::None),
            "inverse" | "inversefrequency" | "balanced" => Ok(Self::Inverse),
            "effective" | "effectivenumber" | "cb" => Ok(Self::Effective),
            other => Err(EngineError::Config(format!(
                "unknown class weights '{other}': use none, inverse or effective"
            ))),
        }
    }
}

impl ClassWeights {
    /// Its name as the CLI takes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Inverse => "inverse",
            Self::Effective => "effective",
        }
    }
}

/// Which rows an epoch feeds, in which order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub enum Sampler {
    /// Every training row once per epoch, shuffled (the recipe).
    #[default]
    Shuffle,
    /// As many rows per epoch, drawn with replacement so that each class appears
    /// about equally often (seeded per epoch).
    Balanced,
}

impl std::str::FromStr for Sampler {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "shuffle" | "random" => Ok(Self::Shuffle),
            "balanced" | "balance" => Ok(Self::Balanced),
            other => Err(EngineError::Config(format!(
                "unknown sampler '{other}': use shuffle or balanced"
            ))),
        }
    }
}

impl Sampler {
    /// Its name as the CLI takes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Shuffle => "shuffle",
            Self::Balanced => "balanced",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_unknown_ones_say_what_to_use() {
        for w in [
            ClassWeights::None,
            ClassWeights::Inverse,
            ClassWeights::Effective,
        ] {
            assert_eq!(w.name().parse::<ClassWeights>().unwrap(), w);
        }
        for s in [Sampler::Shuffle, Sampler::Balanced] {
            assert_eq!(s.name().parse::<Sampler>().unwrap(), s);
        }
        let err = "square".parse::<ClassWeights>().unwrap_err().to_string();
        assert!(err.contains("none, inverse or effective"), "{err}");
        let err = "stratified".parse::<Sampler>().unwrap_err().to_string();
        assert!(err.contains("shuffle or balanced"), "{err}");
    }
}

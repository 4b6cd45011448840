//! The split settings: how validation rows are held out and how many rows are used.
//! They belong to the data spec ([`crate::train::DataSpec`]), not the training
//! config.

use super::limits::LIMITS;
use crate::error::{EngineError, Result};
use crate::setting::Setting;
use serde::{Deserialize, Serialize};

/// How training holds out validation rows when there is no validation file, and how
/// many rows it uses: the same plan on the same file gives the same split. Part of the
/// data spec, not the training settings, so runs with other training seeds are scored
/// on the same rows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", default)]
pub struct SplitPlan {
    /// Share of each class held out for validation.
    pub validation_fraction: f64,
    /// Seed of the split (and of the row sample).
    pub seed: u64,
    /// A stratified sample of at most this many rows first; `None` = all rows.
    pub max_rows: Option<usize>,
}

impl Default for SplitPlan {
    fn default() -> Self {
        Self {
            validation_fraction: 0.1,
            seed: 42,
            max_rows: None,
        }
    }
}

impl SplitPlan {
    /// Reject a plan out of [`LIMITS`], naming the setting.
    pub fn validate(&self) -> Result<()> {
        if self.validation_fraction.is_nan() {
            return Err(EngineError::setting(
                Setting::ValidationFraction,
                "Validation share: must be a number",
            ));
        }
        LIMITS
            .validation_fraction
            .check(Setting::ValidationFraction, self.validation_fraction)?;
        if let Some(max) = self.max_rows {
            LIMITS.max_rows.check(Setting::MaxRows, max)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_out_of_bounds_is_refused_naming_its_setting() {
        assert!(SplitPlan::default().validate().is_ok());
        for (plan, want) in [
            (
                SplitPlan {
                    validation_fraction: 0.99,
                    ..SplitPlan::default()
                },
                "Validation share: must be between 0.01 and 0.9",
            ),
            (
                SplitPlan {
                    validation_fraction: f64::NAN,
                    ..SplitPlan::default()
                },
                "Validation share: must be a number",
            ),
        ] {
            let err = plan.validate().unwrap_err();
            assert!(err.to_string().contains(want), "{err}");
            assert_eq!(err.settings(), vec![Setting::ValidationFraction]);
        }
    }
}

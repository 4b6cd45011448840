//! Turning files into training data: read with the text/label mapping, check quality,
//! hold out a stratified validation split (or read a validation file).

use super::TrainData;
use crate::dataset::corrections::{CorrectionReport, Corrections, Resolved};
use crate::dataset::quality::{assess, check_class_count, QualityReport, Severity};
use crate::dataset::validation::{
    drop_overlap, read_validation, summarise, ValidationRead, ValidationRows, ValidationSummary,
};
use crate::dataset::{
    holdout, label_set, read_labeled_as, sample, Example, LabelForm, LabelMap, LabeledData,
    TextSpec, Warnings,
};
use crate::error::{EngineError, Result};
use crate::settings::SplitPlan;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Where training rows come from and how to read them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct DataSpec {
    pub path: PathBuf,
    pub text: TextSpec,
    pub label_column: String,
    /// How the file holds its labels: one per row (the default), or label sets (the
    /// label column split by a separator, or 0/1 columns).
    #[serde(default, skip_serializing_if = "LabelForm::is_single")]
    #[ts(optional, as = "Option<LabelForm>")]
    pub label_form: LabelForm,
    #[serde(default)]
    pub label_map: Option<LabelMap>,
    /// A separate validation file; otherwise a stratified split is held out.
    #[serde(default)]
    pub validation: Option<PathBuf>,
    /// How validation rows are held out (without a validation file) and how many rows
    /// are used.
    #[serde(default)]
    pub split: SplitPlan,
    /// Fixes to single tickets of the data file, applied after the label map (the
    /// validation rows are held out before, so corrections do not move the split).
    #[serde(default)]
    pub corrections: Option<Corrections>,
    /// Fixes to single tickets of the validation file (its own: corrections name a
    /// file's rows), applied after the label map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub validation_corrections: Option<Corrections>,
    /// Leave out the validation file's tickets that repeat training tickets (the
    /// `leakage` finding lists them) instead of only warning about them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[ts(optional, as = "Option<bool>")]
    pub drop_overlap: bool,
}

/// Training data ready to use, with the quality report and reader warnings.
#[derive(Debug, Clone)]
pub struct LoadedData {
    pub data: TrainData,
    pub report: QualityReport,
    pub warnings: Warnings,
    /// What the corrections did (all zero without corrections).
    pub corrections: CorrectionReport,
}

impl DataSpec {
    /// Read, assess and split. Blocking quality findings are an error listing them,
    /// unless `force`; then training goes ahead as far as the data allows. More
    /// classes than a model is trained on is an error even with `force`.
    pub fn load(&self, force: bool) -> Result<LoadedData> {
        self.split.validate()?;
        self.refuse_multi_label_corrections()?;
        let data = self.read_file()?;
        check_class_count(data.labels.len())?;
        let mut warnings = data.warnings.clone();
        let validation = match self.read_validation(&data.labels)? {
            Some((_, val)) => {
                warnings.extend(val.warnings);
                Some(val.examples)
            }
            None => None,
        };
        let resolved = self.resolve_corrections(&data.examples);
        if let Some(notice) = resolved.report.notice() {
            warnings.add("corrections", None, notice);
        }
        let mut corrected = data.clone();
        corrected.examples = resolved.apply(data.examples.clone());
        corrected.labels = label_set(&corrected.examples);
        check_class_count(corrected.labels.len())?;
        let validation = match (validation, &self.validation) {
            (Some(val), Some(path)) if self.drop_overlap => {
                Some(drop_overlap(path, &corrected.examples, val, &mut warnings)?)
            }
            (val, _) => val,
        };
        let report = assess(&corrected, validation.as_deref(), None);
        let blocking: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Blocking)
            .map(|f| format!("{} ({})", f.message, f.fix))
            .collect();
        if !blocking.is_empty() && !force {
            return Err(EngineError::Blocked {
                path: self.path.clone(),
                message: format!(
                    "cannot train on this data: {}. Fix the data, or choose to train anyway.",
                    blocking.join("; ")
                ),
            });
        }
        // The split is the one the data check measures leakage across (`holdout`),
        // drawn before corrections so that correcting a ticket leaves the others'
        // sides as they were.
        // The data file's corrections name its rows; a validation file's own ones were
        // applied as it was read.
        let (train, validation) = match validation {
            Some(v) => (
                sample(&data.examples, self.split.seed, self.split.max_rows)?
                    .unwrap_or(data.examples),
                v,
            ),
            None => {
                let (train, validation) = holdout(&data.examples, &self.split)?;
                (train, resolved.apply(validation))
            }
        };
        let train = resolved.apply(train);
        let labels = label_set(train.iter().chain(&validation));
        // A multi-label class seen only in validation keeps the default threshold.
        if let Some(only) = label_set(&validation)
            .into_iter()
            .filter(|_| !self.label_form.is_multi_label())
            .find(|l| !train.iter().any(|e| &e.label == l))
        {
            return Err(EngineError::data(
                &self.path,
                format!("after the corrections, class '{only}' has no training rows (only validation rows): correct more tickets to it, or undo those corrections"),
            ));
        }
        Ok(LoadedData {
            data: TrainData {
                train,
                validation,
                labels,
                text: Some(self.text.clone()),
            },
            report,
            warnings,
            corrections: resolved.report,
        })
    }

    /// The validation file (`None` without one) read with the data file's columns and
    /// label map and its own corrections, its classes checked against `classes` (the
    /// data file's); with its path.
    pub fn read_validation(&self, classes: &[String]) -> Result<Option<(PathBuf, ValidationRows)>> {
        let Some(path) = &self.validation else {
            return Ok(None);
        };
        let how = ValidationRead {
            text: &self.text,
            label_column: &self.label_column,
            label_form: &self.label_form,
            label_map: self.label_map.as_ref(),
            corrections: self.validation_corrections.as_ref(),
        };
        Ok(Some((path.clone(), read_validation(path, &how, classes)?)))
    }

    /// What the validation file holds (`None` without one): its rows and classes, and
    /// its overlap with the data file's tickets (label map and corrections applied).
    /// Errors as [`DataSpec::load`] would refuse the file.
    pub fn validation_summary(&self) -> Result<Option<ValidationSummary>> {
        let data = self.read_file()?;
        let Some((path, rows)) = self.read_validation(&data.labels)? else {
            return Ok(None);
        };
        let train = self
            .resolve_corrections(&data.examples)
            .apply(data.examples);
        let classes = label_set(&train);
        Ok(Some(summarise(&path, rows, &train, &classes)))
    }

    /// The data file's tickets after the label map and the corrections (no split, no
    /// checks), with what the corrections did.
    pub fn read_corrected(&self) -> Result<(LabeledData, CorrectionReport)> {
        let mut data = self.read_file()?;
        let resolved = self.resolve_corrections(&data.examples);
        data.examples = resolved.apply(std::mem::take(&mut data.examples));
        data.labels = label_set(&data.examples);
        Ok((data, resolved.report))
    }

    /// The data file's tickets read with the label form and the label map.
    pub fn read_file(&self) -> Result<LabeledData> {
        read_labeled_as(
            &self.path,
            &self.text,
            &self.label_column,
            &self.label_form,
            self.label_map.as_ref(),
        )
    }

    /// Corrections name one class per ticket: refused for label sets.
    fn refuse_multi_label_corrections(&self) -> Result<()> {
        let any = |c: &Option<Corrections>| c.as_ref().is_some_and(|c| !c.is_empty());
        if self.label_form.is_multi_label()
            && (any(&self.corrections) || any(&self.validation_corrections))
        {
            return Err(EngineError::data(
                &self.path,
                "corrections give a ticket one class, and this data has label sets                  (multi-label): fix the labels in the file instead, or leave out the corrections",
            ));
        }
        Ok(())
    }

    /// The corrections matched to `examples` (the data file's rows after the label
    /// map); empty without corrections.
    pub fn resolve_corrections(&self, examples: &[Example]) -> Resolved {
        self.corrections
            .as_ref()
            .map(|c| c.resolve(examples))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_rows_past_its_bound_is_refused_naming_the_setting() {
        let spec = DataSpec {
            path: PathBuf::from("unread.csv"),
            text: TextSpec::column("text"),
            label_column: "label".into(),
            label_form: LabelForm::Single,
            label_map: None,
            validation: None,
            split: SplitPlan {
                max_rows: Some(usize::MAX),
                ..SplitPlan::default()
            },
            corrections: None,
            validation_corrections: None,
            drop_overlap: false,
        };
        let err = spec.load(false).unwrap_err().to_string();
        assert!(
            err.contains("Use at most N rows: must be between 1 and"),
            "{err}"
        );
        let zero = DataSpec {
            split: SplitPlan {
                max_rows: Some(0),
                ..SplitPlan::default()
            },
            ..spec
        };
        let err = zero.load(false).unwrap_err().to_string();
        assert!(
            err.contains("Use at most N rows: must be between 1 and"),
            "{err}"
        );
    }
}

//! "Fit in N minutes": the largest preset whose estimate fits, else the smallest
//! fine-tune preset shortened (fewer rows, then a shorter max length), else the
//! baseline (on fewer rows if need be). Every candidate is estimated from the one
//! measurement: costs are per unit of work, and a candidate's rows and lengths only
//! change how much work its batches are.

use super::{Calibration, TrainingEstimate};
use crate::error::{EngineError, Result};
use crate::setting::Setting;
use crate::settings::{catalogue, Method, Preset, SplitPlan, TrainConfig};
use serde::Serialize;

/// The fewest rows a shortened fine-tune keeps. Below this the baseline on more rows is
/// offered instead: on a few hundred rows, a one-epoch fine-tune was behind the
/// baseline in both time and accuracy (bench/README.md, training on the CPU).
const MIN_FINE_TUNE_ROWS: usize = 1000;
/// The fewest rows a shortened baseline keeps.
const MIN_BASELINE_ROWS: usize = 200;
/// And at least this many per class, either way.
const MIN_ROWS_PER_CLASS: usize = 10;
/// The max length a shortened fine-tune tries.
const SHORT_MAX_LENGTH: usize = 32;

/// A run that fits in the time asked for.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct FitSuggestion {
    pub minutes: f64,
    /// Whether it fits; `false` when nothing does: then this is the quickest run tried.
    pub fits: bool,
    /// The preset it is, or shortens (`quick`, `light`, `balanced`, `thorough`).
    pub preset: String,
    /// The preset's title.
    pub title: String,
    /// The settings shortened from the preset's (`maxRows`, `maxLength`); empty: the
    /// preset as it is.
    pub shortened: Vec<Setting>,
    /// The settings to start it with (the request's model, device, precision and head
    /// choice, the preset's others).
    pub config: TrainConfig,
    pub split: SplitPlan,
    pub estimate: TrainingEstimate,
}

/// See [`Calibration::fit_within`].
pub(super) fn fit_within(
    calibration: &Calibration,
    minutes: f64,
    config: &TrainConfig,
) -> Result<FitSuggestion> {
    if !(minutes > 0.0 && minutes.is_finite()) {
        return Err(EngineError::Config(format!(
            "the time to fit in must be a positive number of minutes, got {minutes}"
        )));
    }
    let search = Search {
        calibration,
        budget: minutes * 60.0,
        minutes,
        request: config,
    };
    // Quickest first in the catalogue.
    let presets = catalogue().presets;
    let fine_tunes: Vec<&Preset> = presets
        .iter()
        .filter(|p| p.config.method == Method::FineTune)
        .collect();
    for preset in fine_tunes.iter().rev() {
        let (config, split) = search.apply(preset);
        if let Some(found) = search.try_as_is(preset, config, split)? {
            return Ok(found);
        }
    }
    if let Some(smallest) = fine_tunes.first() {
        let (config, split) = search.apply(smallest);
        if let Some(found) = search.fewer_rows(smallest, &config, &split, Vec::new())? {
            return Ok(found);
        }
        if config.max_length > SHORT_MAX_LENGTH {
            let short = TrainConfig {
                max_length: SHORT_MAX_LENGTH,
                ..config
            };
            let shortened = vec![Setting::MaxLength];
            if let Some(found) = search.try_shortened(smallest, &short, &split, &shortened)? {
                return Ok(found);
            }
            if let Some(found) = search.fewer_rows(smallest, &short, &split, shortened)? {
                return Ok(found);
            }
        }
    }
    let Some(baseline) = presets.iter().find(|p| p.config.method == Method::Baseline) else {
        return Err(EngineError::Internal("no baseline preset".into()));
    };
    let (config, split) = search.apply(baseline);
    if let Some(found) = search.try_as_is(baseline, config.clone(), split)? {
        return Ok(found);
    }
    if let Some(found) = search.fewer_rows(baseline, &config, &split, Vec::new())? {
        return Ok(found);
    }
    // Nothing fits: the quickest run tried.
    let fewest = search.with_rows(&split, search.floor(&config, &split));
    let estimate = calibration.estimate(&config, &fewest)?;
    Ok(search.suggestion(
        baseline,
        vec![Setting::MaxRows],
        config,
        fewest,
        estimate,
        false,
    ))
}

struct Search<'a> {
    calibration: &'a Calibration,
    budget: f64,
    minutes: f64,
    request: &'a TrainConfig,
}

impl Search<'_> {
    /// `preset`'s settings as the Train screen applies them: the request's model,
    /// device, precision and head choice stay.
    fn apply(&self, preset: &Preset) -> (TrainConfig, SplitPlan) {
        let r = self.request;
        let config = TrainConfig {
            model: r.model.clone(),
            device: r.device,
            precision: r.precision,
            new_head: r.new_head,
            output_dir: r.output_dir.clone(),
            checkpoint_dir: r.checkpoint_dir.clone(),
            ..preset.config.clone()
        };
        (config, preset.split)
    }

    fn fits(&self, estimate: &TrainingEstimate) -> bool {
        estimate.seconds <= self.budget && estimate.memory.fits != Some(false)
    }

    fn suggestion(
        &self,
        preset: &Preset,
        shortened: Vec<Setting>,
        config: TrainConfig,
        split: SplitPlan,
        estimate: TrainingEstimate,
        fits: bool,
    ) -> FitSuggestion {
        FitSuggestion {
            minutes: self.minutes,
            fits,
            preset: preset.id.into(),
            title: preset.title.into(),
            shortened,
            config,
            split,
            estimate,
        }
    }

    fn try_as_is(
        &self,
        preset: &Preset,
        config: TrainConfig,
        split: SplitPlan,
    ) -> Result<Option<FitSuggestion>> {
        self.try_shortened(preset, &config, &split, &[])
    }

    fn try_shortened(
        &self,
        preset: &Preset,
        config: &TrainConfig,
        split: &SplitPlan,
        shortened: &[Setting],
    ) -> Result<Option<FitSuggestion>> {
        let estimate = self.calibration.estimate(config, split)?;
        Ok(self.fits(&estimate).then(|| {
            self.suggestion(
                preset,
                shortened.to_vec(),
                config.clone(),
                *split,
                estimate,
                true,
            )
        }))
    }

    /// The fewest rows a shortened run of `config` on `split` keeps.
    fn floor(&self, config: &TrainConfig, split: &SplitPlan) -> usize {
        let least = match config.method {
            Method::FineTune => MIN_FINE_TUNE_ROWS,
            Method::Baseline => MIN_BASELINE_ROWS,
        };
        least
            .max(MIN_ROWS_PER_CLASS * self.calibration.classes())
            .min(self.calibration.total_rows(split))
    }

    fn with_rows(&self, split: &SplitPlan, rows: usize) -> SplitPlan {
        SplitPlan {
            max_rows: Some(rows),
            ..*split
        }
    }

    /// `config` on the most rows of `split` that fit (at least the floor, rounded down
    /// to two significant digits), adding `MaxRows` to `shortened`; `None` when even
    /// the floor does not fit.
    fn fewer_rows(
        &self,
        preset: &Preset,
        config: &TrainConfig,
        split: &SplitPlan,
        mut shortened: Vec<Setting>,
    ) -> Result<Option<FitSuggestion>> {
        let most = self.calibration.total_rows(split);
        let floor = self.floor(config, split);
        let fits_with = |rows: usize| -> Result<Option<TrainingEstimate>> {
            let estimate = self
                .calibration
                .estimate(config, &self.with_rows(split, rows))?;
            Ok(self.fits(&estimate).then_some(estimate))
        };
        if floor >= most || fits_with(floor)?.is_none() {
            return Ok(None);
        }
        // The largest count that fits, between the floor (fits) and all (does not).
        let (mut low, mut high) = (floor, most);
        while high - low > 1 {
            let mid = low + (high - low) / 2;
            if fits_with(mid)?.is_some() {
                low = mid;
            } else {
                high = mid;
            }
        }
        let rows = round_down(low).max(floor);
        let split = self.with_rows(split, rows);
        let estimate = self.calibration.estimate(config, &split)?;
        shortened.push(Setting::MaxRows);
        let fits = self.fits(&estimate);
        Ok(Some(self.suggestion(
            preset,
            shortened,
            config.clone(),
            split,
            estimate,
            fits,
        )))
    }
}

/// `n` rounded down to two significant digits (1,234 → 1,200).
fn round_down(n: usize) -> usize {
    let mut unit = 1;
    while n / unit >= 100 {
        unit *= 10;
    }
    n / unit * unit
}

#[cfg(test)]
mod tests {
    use super::round_down;

    #[test]
    fn row_counts_round_down_to_two_significant_digits() {
        assert_eq!(round_down(1234), 1200);
        assert_eq!(round_down(99), 99);
        assert_eq!(round_down(100), 100);
        assert_eq!(round_down(25_999), 25_000);
    }
}

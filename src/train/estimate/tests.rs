use super::measure::tests::measured;
use super::*;
use crate::setting::Setting;

/// A calibration of MiniLM-like costs on 2,000 rows of 20–120 tokens, 3 classes.
fn calibration(available_bytes: Option<u64>) -> Calibration {
    calibration_of(available_bytes, |i| 20 + (i * 37) % 101)
}

/// The same on rows of `tokens(row)` tokens.
fn calibration_of(available_bytes: Option<u64>, tokens: fn(usize) -> usize) -> Calibration {
    let counts: Vec<usize> = (0..2000).map(tokens).collect();
    let (train, validation) = counts.split_at(1800);
    Calibration {
        measured: measured("cpu", TrainConfig::default().model.as_str()),
        reused: true,
        model: TrainConfig::default().model,
        device: DeviceChoice::Auto,
        precision: Precision::Auto,
        cpu: true,
        data: DataProfile {
            train: train.to_vec(),
            validation: validation.to_vec(),
            train_rows: 1800,
            validation_rows: 200,
            validation_file: false,
            split: SplitPlan::default(),
            classes: 3,
            reading_seconds: 0.3,
            reading_bytes: 20 << 20,
            tokenising_seconds_per_row: 1e-4,
            head_step_seconds_per_row: 1e-7,
        },
        available_bytes,
    }
}

#[test]
fn an_estimate_adds_up_its_phases_and_scales_with_epochs_and_rows() {
    let c = calibration(Some(64 << 30));
    let split = SplitPlan::default();
    let one = c
        .estimate(
            &TrainConfig {
                epochs: 1,
                ..TrainConfig::default()
            },
            &split,
        )
        .unwrap();
    let three = c.estimate(&TrainConfig::default(), &split).unwrap();
    assert!((one.seconds - one.breakdown.total()).abs() < 1e-9);
    assert_eq!((one.train_rows, one.validation_rows), (1800, 200));
    assert_eq!(one.steps, 1800usize.div_ceil(16));
    assert_eq!(three.steps, 3 * one.steps);
    assert!((three.breakdown.training - 3.0 * one.breakdown.training).abs() < 1e-6);
    assert!((three.breakdown.evaluation - 3.0 * one.breakdown.evaluation).abs() < 1e-6);
    // A checkpoint after each epoch but the last.
    assert!(three.breakdown.saving > 3.0 * one.breakdown.saving);
    assert!(one.breakdown.checks > 0.0 && one.memory.fits == Some(true));
    assert!(one.measurement.reused);
    assert!(!one.measurement.extrapolated);
    // Batches four times as heavy as the measured ones: less sure.
    let big_batches = TrainConfig {
        batch_size: 64,
        ..TrainConfig::default()
    };
    assert!(
        c.estimate(&big_batches, &split)
            .unwrap()
            .measurement
            .extrapolated
    );
    let capped = c
        .estimate(
            &TrainConfig {
                epochs: 1,
                ..TrainConfig::default()
            },
            &SplitPlan {
                max_rows: Some(1000),
                ..split
            },
        )
        .unwrap();
    assert_eq!(capped.train_rows + capped.validation_rows, 1000);
    let ratio = capped.breakdown.training / one.breakdown.training;
    assert!((0.45..0.6).contains(&ratio), "{ratio}");
    // Shorter texts: less work per step.
    let short = c
        .estimate(
            &TrainConfig {
                epochs: 1,
                max_length: 32,
                ..TrainConfig::default()
            },
            &split,
        )
        .unwrap();
    assert!(short.breakdown.training < 0.6 * one.breakdown.training);
    assert!(short.memory.peak_bytes < one.memory.peak_bytes);
}

#[test]
fn the_baseline_is_one_pass_and_a_fraction_of_a_fine_tune() {
    let c = calibration(None);
    let split = SplitPlan::default();
    let baseline = c
        .estimate(
            &TrainConfig {
                method: Method::Baseline,
                ..TrainConfig::default()
            },
            &split,
        )
        .unwrap();
    let fine_tune = c.estimate(&TrainConfig::default(), &split).unwrap();
    assert_eq!(baseline.epochs, 1);
    assert_eq!(
        baseline.steps,
        1800usize.div_ceil(64) + 200usize.div_ceil(64)
    );
    assert!(baseline.seconds < fine_tune.seconds / 3.0);
    // Memory available unknown: whether it fits is unknown.
    assert!(baseline.memory.peak_bytes.is_some() && baseline.memory.fits.is_none());
}

#[test]
fn another_model_device_or_precision_needs_another_measurement() {
    let c = calibration(None);
    let split = SplitPlan::default();
    for config in [
        TrainConfig {
            model: "bert-base-uncased".into(),
            ..TrainConfig::default()
        },
        TrainConfig {
            device: DeviceChoice::Cuda,
            ..TrainConfig::default()
        },
        TrainConfig {
            precision: Precision::F32,
            ..TrainConfig::default()
        },
    ] {
        let err = c.estimate(&config, &split).unwrap_err().to_string();
        assert!(err.contains("measure again"), "{err}");
    }
}

#[test]
fn fitting_in_minutes_takes_the_largest_preset_that_fits_then_shortens() {
    let c = calibration(Some(64 << 30));
    let config = TrainConfig::default();
    let presets = crate::settings::catalogue().presets;
    let seconds = |id: &str| {
        let p = presets.iter().find(|p| p.id == id).unwrap();
        let preset_config = TrainConfig {
            model: config.model.clone(),
            ..p.config.clone()
        };
        c.estimate(&preset_config, &p.split).unwrap().seconds
    };
    let (thorough, balanced, light, quick) = (
        seconds("thorough"),
        seconds("balanced"),
        seconds("light"),
        seconds("quick"),
    );
    assert!(thorough > balanced && balanced > light && light > quick);
    let pick = |minutes: f64| c.fit_within(minutes, &config).unwrap();
    let all = pick(thorough / 60.0 * 1.01);
    assert_eq!((all.preset.as_str(), all.fits), ("thorough", true));
    assert!(all.shortened.is_empty());
    let between = pick((balanced + thorough) / 120.0);
    assert_eq!(between.preset, "balanced");
    assert!(between.estimate.seconds <= between.minutes * 60.0);
    let light_on = |rows: usize, max_length: usize| {
        let p = presets.iter().find(|p| p.id == "light").unwrap();
        let split = SplitPlan {
            max_rows: Some(rows),
            ..p.split
        };
        let light_config = TrainConfig {
            model: config.model.clone(),
            max_length,
            ..p.config.clone()
        };
        c.estimate(&light_config, &split).unwrap().seconds
    };
    let short = pick(light_on(1500, 64) / 60.0);
    assert_eq!(short.preset, "light");
    assert_eq!(short.shortened, vec![Setting::MaxRows]);
    let rows = short.split.max_rows.unwrap();
    assert!((1000..=1500).contains(&rows), "{rows}");
    assert!(short.fits && short.estimate.seconds <= short.minutes * 60.0);
    let shorter = pick(light_on(1000, 32) / 60.0 * 1.001);
    assert_eq!(shorter.preset, "light");
    assert_eq!(
        shorter.shortened,
        vec![Setting::MaxLength, Setting::MaxRows]
    );
    assert_eq!(shorter.config.max_length, 32);
    assert!(c.fit_within(0.0, &config).is_err());
}

#[test]
fn below_a_fine_tunes_fewest_rows_the_baseline_is_suggested() {
    // Short texts: a shorter max length saves nothing.
    let c = calibration_of(Some(64 << 30), |i| 8 + i % 20);
    let config = TrainConfig::default();
    let p = crate::settings::catalogue().presets;
    let quick = p.iter().find(|p| p.id == "quick").unwrap();
    let quick_config = TrainConfig {
        model: config.model.clone(),
        ..quick.config.clone()
    };
    let quick = c.estimate(&quick_config, &quick.split).unwrap().seconds;
    let pick = |minutes: f64| c.fit_within(minutes, &config).unwrap();
    let tiny = pick(quick / 60.0 * 1.01);
    assert_eq!((tiny.preset.as_str(), tiny.fits), ("quick", true));
    assert!(tiny.shortened.is_empty());
    assert_eq!(tiny.estimate.method, Method::Baseline);
    let fewer = pick(quick / 60.0 * 0.9);
    assert_eq!(fewer.preset, "quick");
    assert_eq!(fewer.shortened, vec![Setting::MaxRows]);
    assert!(fewer.fits && fewer.split.max_rows.unwrap() >= 200);
    let nothing = pick(0.001);
    assert!(!nothing.fits);
    assert_eq!(nothing.preset, "quick");
    assert_eq!(nothing.split.max_rows, Some(200));
}

#[test]
fn a_run_that_does_not_fit_in_memory_is_not_suggested() {
    let c = calibration(Some(1 << 20));
    let estimate = c
        .estimate(&TrainConfig::default(), &SplitPlan::default())
        .unwrap();
    assert_eq!(estimate.memory.fits, Some(false));
    assert!(!c.fit_within(1e6, &TrainConfig::default()).unwrap().fits);
}

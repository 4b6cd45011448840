//! The instant baseline: each text is encoded once by the frozen encoder (the mean of
//! its token vectors), and a linear classifier is fitted on those features, choosing
//! its L2 penalty on the validation rows by the run's best metric. The run's class
//! weights weigh the fit's loss; its sampler does not apply (the fit takes all rows at
//! once). Seconds to a few minutes where fine-tuning takes many; the saved model
//! predicts like any other (a mean-pooling head).

use super::class_weights::{class_weights, cross_entropy, weights_tensor};
use super::{
    calibrate_best, cancelled, check_int8, evaluate, open_run, save_best, Prepared, TrainData,
};
use crate::error::Result;
use crate::events::{EpochRecord, RunSummary, TrainEvent};
use crate::inference::{argmax, batched_rows};
use crate::metrics::Metrics;
use crate::model::layers::Mode;
use crate::model::tokenize::{Encoded, TextEncoder};
use crate::model::SequenceClassifier;
use crate::settings::TrainConfig;
use crate::train::optim::AdamW;
use candle_core::{DType, Device, Tensor, Var};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// L2 penalties tried for the linear head (on standardised features).
pub(super) const PENALTIES: [f64; 4] = [1e-4, 1e-3, 1e-2, 1e-1];
/// Full-batch optimisation steps per penalty.
pub(super) const FIT_STEPS: usize = 300;
const FIT_LR: f64 = 0.05;

/// Run the baseline method; events and summary as for fine-tuning, with `Encoding`
/// progress in place of steps and a single evaluation.
pub(super) fn run(
    config: &TrainConfig,
    data: &TrainData,
    on_event: &mut dyn FnMut(&TrainEvent),
    cancel: &AtomicBool,
) -> Result<RunSummary> {
    let started = Instant::now();
    let batch = config.eval_batch_size;
    // The native head is replaced, so nothing newly initialised is kept.
    let (device, p, mut summary) = open_run(config, data, None, on_event, cancel, |p| {
        let batches = p.train.len().div_ceil(batch) + p.validation.len().div_ceil(batch);
        (1, batches, Vec::new())
    })?;
    let Some(p) = p else {
        return cancelled(summary, started, on_event);
    };
    let total = p.train.len() + p.validation.len();
    let encode_start = Instant::now();
    let (model, encoder) = (&p.model, &p.encoder);
    let mut progress = |done| on_event(&TrainEvent::Encoding { done, total });
    let Some(train_x) = encode(model, encoder, &p.train, batch, &mut progress, cancel)? else {
        return cancelled(summary, started, on_event);
    };
    let offset = p.train.len();
    let mut progress = |done| {
        on_event(&TrainEvent::Encoding {
            done: offset + done,
            total,
        })
    };
    let Some(val_x) = encode(model, encoder, &p.validation, batch, &mut progress, cancel)? else {
        return cancelled(summary, started, on_event);
    };
    let encode_seconds = encode_start.elapsed().as_secs_f64();
    summary.steps = p.train.len().div_ceil(batch) + p.validation.len().div_ceil(batch);
    let Some((weight, bias, train_loss)) = fit_head(&train_x, &val_x, &p, config, cancel)? else {
        return cancelled(summary, started, on_event);
    };
    let Prepared {
        model,
        encoder,
        validation,
        validation_labels,
        truncated_rows,
        text,
        ..
    } = p;
    let p = Prepared {
        model: model.into_mean_pooling(&weight, &bias)?,
        encoder,
        train: Vec::new(),
        train_labels: Vec::new(),
        validation,
        validation_labels,
        label_flags: None,
        truncated_rows,
        text,
    };
    // Scored by the very model that is saved.
    let Some((eval_loss, metrics, logits)) = evaluate(&p, batch, cancel)? else {
        return cancelled(summary, started, on_event);
    };
    let value = config.best_metric.value(&metrics);
    let record = EpochRecord {
        epoch: 1,
        train_loss,
        eval_loss,
        metrics,
        seconds: started.elapsed().as_secs_f64(),
        samples_per_second: total as f64 / encode_seconds.max(1e-9),
    };
    on_event(&TrainEvent::Evaluated {
        epoch: 1,
        step: summary.steps,
        train_loss,
        eval_loss,
        samples_per_second: record.samples_per_second,
        metrics: record.metrics.clone(),
    });
    summary.epochs.push(record);
    summary.best_epoch = Some(1);
    summary.best_value = Some(value);
    summary.seconds = started.elapsed().as_secs_f64();
    save_best(&p, config, &summary)?;
    on_event(&TrainEvent::CheckpointSaved {
        epoch: 1,
        metric: config.best_metric.name().into(),
        value,
        path: config.output_dir.clone(),
    });
    check_int8(&p, config, &device, Some(&logits), on_event)?;
    calibrate_best(&p, config, Some(&logits), on_event)?;
    summary.seconds = started.elapsed().as_secs_f64();
    on_event(&TrainEvent::Finished {
        summary: summary.clone(),
    });
    Ok(summary)
}

/// Mean-pooled features `(rows, hidden)` of `model`'s frozen encoder on the CPU, in
/// row order; `progress(done)` counts rows encoded. `None` if cancelled.
pub(super) fn encode(
    model: &SequenceClassifier,
    encoder: &TextEncoder,
    rows: &[Encoded],
    batch_size: usize,
    progress: &mut dyn FnMut(usize),
    cancel: &AtomicBool,
) -> Result<Option<Tensor>> {
    let device = model.device();
    let model = model.frozen()?;
    let features = batched_rows(
        rows,
        batch_size,
        Some(cancel),
        progress,
        |items| encoder.collate(items, device),
        |batch| model.mean_pooled(batch, &Mode::Eval),
    )?;
    let Some(features) = features else {
        return Ok(None);
    };
    let hidden = features.first().map_or(0, Vec::len);
    let flat: Vec<f32> = features.into_iter().flatten().collect();
    Ok(Some(Tensor::from_vec(
        flat,
        (rows.len(), hidden),
        &Device::Cpu,
    )?))
}

/// Fit softmax regression of `p.train_labels` on standardised features with each L2
/// penalty, the loss weighed by `config.class_weights`; keep the one with the best
/// validation `config.best_metric` (the smaller penalty on ties). Returns the weight
/// and bias for the raw features, and the final training loss; `None` if `cancel` was
/// set (checked at every optimisation step).
fn fit_head(
    train_x: &Tensor,
    val_x: &Tensor,
    p: &Prepared,
    config: &TrainConfig,
    cancel: &AtomicBool,
) -> Result<Option<(Tensor, Tensor, f64)>> {
    let classes = p.model.labels().len();
    let (mean, std) = moments(train_x)?;
    let (xs, vs) = (
        standardise(train_x, &mean, &std)?,
        standardise(val_x, &mean, &std)?,
    );
    let targets = Tensor::new(p.train_labels.as_slice(), &Device::Cpu)?;
    let weights = weights_tensor(
        class_weights(config.class_weights, &p.train_labels, classes),
        &Device::Cpu,
    )?;
    let mut best: Option<(f64, Tensor, Tensor, f64)> = None;
    for penalty in PENALTIES {
        let Some((w, b, loss)) = fit_weighted_softmax(
            &xs,
            &targets,
            weights.as_ref(),
            classes,
            penalty,
            FIT_STEPS,
            cancel,
        )?
        else {
            return Ok(None);
        };
        let val_logits = vs.matmul(&w.t()?)?.broadcast_add(&b)?.to_vec2::<f32>()?;
        let predicted: Vec<usize> = val_logits.iter().map(|row| argmax(row)).collect();
        let metrics = Metrics::compute(p.model.labels(), &p.validation_labels, &predicted);
        let value = config.best_metric.value(&metrics);
        if best.as_ref().is_none_or(|(v, ..)| value > *v) {
            best = Some((value, w, b, loss));
        }
    }
    let Some((_, w, b, loss)) = best else {
        return Ok(None);
    };
    // logits = ((x − μ) / σ) Wᵀ + b = x (W / σ)ᵀ + (b − (W / σ) μ)
    let w_raw = w.broadcast_div(&std)?;
    let b_raw = (b - w_raw.matmul(&mean.t()?)?.squeeze(1)?)?;
    Ok(Some((w_raw, b_raw, loss)))
}

/// The column means and standard deviations `(1, hidden)` of `x` (each deviation
/// nudged off zero), to standardise features with.
pub(super) fn moments(x: &Tensor) -> Result<(Tensor, Tensor)> {
    let mean = x.mean_keepdim(0)?;
    let std = (x.broadcast_sub(&mean)?.sqr()?.mean_keepdim(0)? + 1e-6)?.sqrt()?;
    Ok((mean, std))
}

/// `x` standardised by [`moments`]: `(x − mean) / std`.
pub(super) fn standardise(x: &Tensor, mean: &Tensor, std: &Tensor) -> Result<Tensor> {
    Ok(x.broadcast_sub(mean)?.broadcast_div(std)?)
}

/// Softmax regression of `targets` on `xs` with L2 penalty `penalty`, full-batch
/// AdamW for `steps` steps (the baseline takes [`FIT_STEPS`]): the weight, bias and
/// final loss; `None` as soon as `cancel` is set.
pub(super) fn fit_softmax(
    xs: &Tensor,
    targets: &Tensor,
    classes: usize,
    penalty: f64,
    steps: usize,
    cancel: &AtomicBool,
) -> Result<Option<(Tensor, Tensor, f64)>> {
    fit_weighted_softmax(xs, targets, None, classes, penalty, steps, cancel)
}

/// [`fit_softmax`] with each class's loss weighed by `weights` (see
/// [`cross_entropy`]).
fn fit_weighted_softmax(
    xs: &Tensor,
    targets: &Tensor,
    weights: Option<&Tensor>,
    classes: usize,
    penalty: f64,
    steps: usize,
    cancel: &AtomicBool,
) -> Result<Option<(Tensor, Tensor, f64)>> {
    let w = Var::zeros((classes, xs.dim(1)?), DType::F32, &Device::Cpu)?;
    let b = Var::zeros(classes, DType::F32, &Device::Cpu)?;
    let vars = [
        ("head.weight".to_string(), w.clone()),
        ("head.bias".to_string(), b.clone()),
    ];
    let mut opt = AdamW::new(&vars, 0.0)?;
    let mut loss_value = f64::NAN;
    for _ in 0..steps {
        if cancel.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let logits = xs
            .matmul(&w.as_tensor().t()?)?
            .broadcast_add(b.as_tensor())?;
        let loss = (cross_entropy(&logits, targets, weights)?
            + (w.as_tensor().sqr()?.sum_all()? * (penalty / 2.0))?)?;
        let grads = loss.backward()?;
        let norm = opt.grad_norm(&grads)?;
        opt.step(&grads, &norm, f64::INFINITY, FIT_LR)?;
        loss_value = loss.to_scalar::<f32>()? as f64;
    }
    Ok(Some((
        w.as_tensor().clone(),
        b.as_tensor().clone(),
        loss_value,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_stops_at_the_next_step_once_cancelled() {
        let xs = Tensor::new(&[[1.0f32, 0.0], [0.0, 1.0], [1.0, 0.1]], &Device::Cpu).unwrap();
        let targets = Tensor::new(&[0u32, 1, 0], &Device::Cpu).unwrap();
        let fitted =
            fit_softmax(&xs, &targets, 2, 1e-3, FIT_STEPS, &AtomicBool::new(false)).unwrap();
        let (w, _, loss) = fitted.expect("not cancelled");
        assert!(loss.is_finite() && loss < 0.5, "{loss}");
        assert_eq!(w.dims(), [2, 2]);
        let cancelled =
            fit_softmax(&xs, &targets, 2, 1e-3, FIT_STEPS, &AtomicBool::new(true)).unwrap();
        assert!(cancelled.is_none());
    }

    #[test]
    fn unfolding_the_standardisation_keeps_the_logits() {
        let x = Tensor::new(&[[1.0f32, 10.0], [3.0, -2.0], [0.5, 4.0]], &Device::Cpu).unwrap();
        let mean = x.mean_keepdim(0).unwrap();
        let std = (x
            .broadcast_sub(&mean)
            .unwrap()
            .sqr()
            .unwrap()
            .mean_keepdim(0)
            .unwrap()
            + 1e-6)
            .unwrap()
            .sqrt()
            .unwrap();
        let w = Tensor::new(&[[0.3f32, -0.2], [0.1, 0.4]], &Device::Cpu).unwrap();
        let b = Tensor::new(&[0.05f32, -0.1], &Device::Cpu).unwrap();
        let standard = x.broadcast_sub(&mean).unwrap().broadcast_div(&std).unwrap();
        let expected = standard
            .matmul(&w.t().unwrap())
            .unwrap()
            .broadcast_add(&b)
            .unwrap();
        let w_raw = w.broadcast_div(&std).unwrap();
        let b_raw = (b - w_raw
            .matmul(&mean.t().unwrap())
            .unwrap()
            .squeeze(1)
            .unwrap())
        .unwrap();
        let got = x
            .matmul(&w_raw.t().unwrap())
            .unwrap()
            .broadcast_add(&b_raw)
            .unwrap();
        let diff = (expected - got).unwrap().abs().unwrap().max_all().unwrap();
        assert!(diff.to_scalar::<f32>().unwrap() < 1e-5);
    }
}

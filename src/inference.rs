//! Model outputs for many rows: batched forward passes in length order, and the
//! arithmetic on their logits (softmax, argmax). Used by training's evaluation, the
//! predictor and the int8 check.

use crate::error::Result;
use crate::model::layers::Mode;
use crate::model::tokenize::{Encoded, TextEncoder};
use crate::model::{Batch, SequenceClassifier};
use candle_core::Tensor;
use std::sync::atomic::{AtomicBool, Ordering};

/// Logits for `encoded` rows, in their order, computed in batches of similar length
/// with dropout off. `None` if `cancel` was set midway.
pub fn batched_logits(
    model: &SequenceClassifier,
    encoder: &TextEncoder,
    encoded: &[Encoded],
    batch_size: usize,
    cancel: Option<&AtomicBool>,
) -> Result<Option<Vec<Vec<f32>>>> {
    let device = model.device();
    batched_rows(
        encoded,
        batch_size,
        cancel,
        &mut |_| {},
        |items| {
            if model.takes_packed() {
                encoder.collate_packed(items, device)
            } else {
                encoder.collate(items, device)
            }
        },
        |batch| model.forward(batch, &Mode::Eval),
    )
}

/// `output(batch)` — one row per text — for `encoded` rows, in their order, computed
/// on batches of similar length made by `collate`; `progress(done)` after each batch.
/// `None` if `cancel` was set midway.
pub fn batched_rows(
    encoded: &[Encoded],
    batch_size: usize,
    cancel: Option<&AtomicBool>,
    progress: &mut dyn FnMut(usize),
    collate: impl Fn(&[&Encoded]) -> Result<Batch>,
    output: impl Fn(&Batch) -> Result<Tensor>,
) -> Result<Option<Vec<Vec<f32>>>> {
    let mut order: Vec<usize> = (0..encoded.len()).collect();
    order.sort_by_key(|&i| encoded[i].ids.len());
    let mut out = vec![Vec::new(); encoded.len()];
    let mut done = 0;
    for chunk in order.chunks(batch_size.max(1)) {
        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Ok(None);
        }
        let items: Vec<&Encoded> = chunk.iter().map(|&i| &encoded[i]).collect();
        let batch = collate(&items)?;
        let rows = output(&batch)?.to_vec2::<f32>()?;
        for (&i, row) in chunk.iter().zip(rows) {
            out[i] = row;
        }
        done += chunk.len();
        progress(done);
    }
    Ok(Some(out))
}

/// Index of the largest value (first on ties).
pub fn argmax(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
            if v > best.1 {
                (i, v)
            } else {
                best
            }
        })
        .0
}

/// Probabilities from logits.
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits.iter().map(|v| (v - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.iter().map(|e| e / sum).collect()
}

//! Int8 linear layers for prediction on the CPU. Weights are quantized once per output
//! channel to 7 bits (symmetric, `|q| ≤ 63`), activations per row to 7 bits
//! (asymmetric, `0..=127` with a zero point) as each product runs; the products
//! accumulate exactly in i32 and are rescaled to f32 with the bias added. With 7 bits
//! on both sides, two pairs of products (`2 · 2 · 127 · 63`) fit in i16, so AVX2's
//! `vpmaddubsw` never saturates and every path gives the same integers.
//!
//! On x86-64 with AVX2 the inner loop takes two quads of inputs at a time: two
//! `vpmaddubsw`, one `vpaddw` and one `vpmaddwd` per 16 outputs × 8 inputs, over panels
//! of 16 outputs; other CPUs run a portable loop that the compiler vectorises.
//! Inference only: no backward.

use crate::kernels::cpu::{data, gelu_value, min_max_of, Shared};
use crate::kernels::simd_fn;
use candle_core::{CpuStorage, CustomOp1, Error, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// Outputs per packed weight panel (two AVX2 registers of i32 lanes).
const NR: usize = 16;
/// Rows per register tile.
const MR: usize = 4;
/// Rows per parallel task (their quantized inputs stay in L2 while the panels stream).
const ROWS_PER_TASK: usize = 64;
/// Weight panels per parallel task.
const PANELS_PER_TASK: usize = 4;
/// Most inputs a layer may have: `127 · 63 · inputs` must fit in i32 (kept at the
/// 8-bit bound).
const MAX_INPUTS: usize = 130_000;
/// Products of fewer multiply-adds than this run on one thread (waking the others
/// costs more than they save: the last layer's first-token rows, say).
const PARALLEL_PRODUCT: usize = 1 << 21;
/// Activations quantized on one thread below this many values.
const PARALLEL_QUANTIZE: usize = 256 * 1024;
/// Largest activation code: 7 bits, so that two pairs of products fit in i16.
const ACTIVATION_MAX: f32 = 127.0;
/// Largest weight code: 7 bits, so that `2 · 2 · 127 · 63` fits in i16.
const WEIGHT_MAX: f32 = 63.0;

/// A linear layer `x · wᵀ + b` with int8 weights, packed for the int8 product.
pub struct QuantizedLinear {
    inputs: usize,
    outputs: usize,
    /// `inputs` rounded up to a multiple of 4, in groups of 4.
    quads: usize,
    /// Per panel of [`NR`] outputs: for each quad of inputs, the 16 outputs' 4 codes.
    panels: Vec<i8>,
    /// Per output (padded to whole panels): the weight scale, the sum of its codes and
    /// the bias.
    scales: Vec<f32>,
    sums: Vec<i32>,
    bias: Vec<f32>,
}

impl QuantizedLinear {
    /// Quantize a layer's f32 weight `(outputs, inputs)` (row-major) and bias.
    pub fn new(weight: &[f32], bias: &[f32], outputs: usize, inputs: usize) -> Result<Self> {
        if weight.len() != outputs * inputs || bias.len() != outputs {
            return Err(Error::Msg(format!(
                "int8 linear: a weight of {} values and a bias of {} do not make a \
                 {outputs} × {inputs} layer",
                weight.len(),
                bias.len()
            )));
        }
        if inputs > MAX_INPUTS {
            return Err(Error::Msg(format!(
                "int8 linear: {inputs} inputs is more than the {MAX_INPUTS} whose sums fit in i32"
            )));
        }
        // Whole pairs of quads: the vector loop takes two at a time.
        let quads = inputs.div_ceil(8) * 2;
        let padded = outputs.div_ceil(NR) * NR;
        let mut panels = vec![0i8; padded * quads * 4];
        let (mut scales, mut sums, mut padded_bias) =
            (vec![0f32; padded], vec![0i32; padded], vec![0f32; padded]);
        for (n, row) in weight.chunks_exact(inputs.max(1)).take(outputs).enumerate() {
            let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
            let scale = if max > 0.0 && max.is_finite() {
                max / WEIGHT_MAX
            } else {
                1.0
            };
            let (panel, lane) = (n / NR, n % NR);
            let base = panel * quads * NR * 4 + (lane / 8) * 32 + (lane % 8) * 4;
            let mut sum = 0i32;
            for (k, &v) in row.iter().enumerate() {
                let code = (v / scale).round().clamp(-WEIGHT_MAX, WEIGHT_MAX) as i8;
                panels[base + (k / 4) * NR * 4 + k % 4] = code;
                sum += i32::from(code);
            }
            (scales[n], sums[n], padded_bias[n]) = (scale, sum, bias[n]);
        }
        Ok(Self {
            inputs,
            outputs,
            quads,
            panels,
            scales,
            sums,
            bias: padded_bias,
        })
    }

    /// Apply to an f32 tensor `(rows, inputs)` on the CPU, then exact GELU with `gelu`
    /// (in the same pass as the rescaling).
    pub fn forward(&self, x: &Tensor, gelu: bool) -> Result<Tensor> {
        x.contiguous()?
            .apply_op1_no_bwd(&Int8Product { layer: self, gelu })
    }

    /// `y (rows × outputs) = x (rows × inputs) · wᵀ + b`, then GELU with `gelu`.
    fn apply(&self, x: &[f32], rows: usize, gelu: bool) -> Vec<f32> {
        let a = QuantizedRows::new(x, rows, self.inputs, self.quads);
        let mut y = vec![0f32; rows * self.outputs];
        let panels = self.outputs.div_ceil(NR);
        let row_tasks = rows.div_ceil(ROWS_PER_TASK);
        let panel_tasks = panels.div_ceil(PANELS_PER_TASK);
        let out = Shared(y.as_mut_ptr());
        let task = |task: usize| {
            let (rt, pt) = (task / panel_tasks, task % panel_tasks);
            let row_range = rt * ROWS_PER_TASK..((rt + 1) * ROWS_PER_TASK).min(rows);
            for panel in pt * PANELS_PER_TASK..((pt + 1) * PANELS_PER_TASK).min(panels) {
                for first in row_range.clone().step_by(MR) {
                    let count = MR.min(row_range.end - first);
                    let acc = self.tile(&a, first, count, panel);
                    // SAFETY: this task alone writes rows `row_range` × this panel's
                    // columns, all inside `y`.
                    unsafe { store_tile(self, &a, first, count, panel, &acc, gelu, out) };
                }
            }
        };
        let tasks = row_tasks * panel_tasks;
        if rows * self.outputs * self.inputs < PARALLEL_PRODUCT {
            (0..tasks).for_each(task);
        } else {
            (0..tasks).into_par_iter().for_each(task);
        }
        y
    }

    /// The i32 products of rows `first..first + count` (at most [`MR`]) with one panel.
    fn tile(&self, a: &QuantizedRows, first: usize, count: usize, panel: usize) -> [[i32; NR]; MR] {
        let stride = self.quads * 4;
        let rows = &a.codes[first * stride..(first + count) * stride];
        let panel = &self.panels[panel * self.quads * NR * 4..(panel + 1) * self.quads * NR * 4];
        let mut acc = [[0i32; NR]; MR];
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 is present; `rows` holds `count` rows of `quads` quads and
            // `panel` `quads` groups of 64 codes.
            unsafe {
                match count {
                    4 => tile_avx2::<4>(rows, self.quads, panel, &mut acc),
                    3 => tile_avx2::<3>(rows, self.quads, panel, &mut acc),
                    2 => tile_avx2::<2>(rows, self.quads, panel, &mut acc),
                    _ => tile_avx2::<1>(rows, self.quads, panel, &mut acc),
                }
            }
            return acc;
        }
        tile_portable(rows, count, self.quads, panel, &mut acc);
        acc
    }
}

/// [`QuantizedLinear::forward`] as a candle op.
struct Int8Product<'a> {
    layer: &'a QuantizedLinear,
    gelu: bool,
}

impl CustomOp1 for Int8Product<'_> {
    fn name(&self) -> &'static str {
        "dialect-int8-linear"
    }

    fn cpu_fwd(&self, x: &CpuStorage, xl: &Layout) -> Result<(CpuStorage, Shape)> {
        let (rows, inputs) = xl.shape().dims2()?;
        let layer = self.layer;
        if inputs != layer.inputs {
            return Err(Error::Msg(format!(
                "int8 linear: input of width {inputs} for a layer of {} inputs",
                layer.inputs
            )));
        }
        let x = data(x, xl, self.name())?;
        Ok((
            CpuStorage::F32(layer.apply(x, rows, self.gelu)),
            Shape::from((rows, layer.outputs)),
        ))
    }
}

/// Rows of activations quantized to 7-bit codes with a scale and zero point each:
/// `x ≈ scale · (code − zero)`, zero exact. Each row is padded with zero codes to whole
/// quads (their weights are 0).
struct QuantizedRows {
    codes: Vec<u8>,
    scales: Vec<f32>,
    zeros: Vec<i32>,
}

impl QuantizedRows {
    fn new(x: &[f32], rows: usize, inputs: usize, quads: usize) -> Self {
        let stride = quads * 4;
        let mut codes = vec![0u8; rows * stride];
        let mut params = vec![(1f32, 0i32); rows];
        let quantize = |dst: &mut [u8], param: &mut (f32, i32), src: &[f32]| {
            // SAFETY: `quantize_row` has no requirement.
            *param = unsafe { quantize_row(src, dst) }
        };
        if rows * inputs < PARALLEL_QUANTIZE {
            codes
                .chunks_mut(stride.max(1))
                .zip(params.iter_mut())
                .zip(x.chunks(inputs.max(1)))
                .for_each(|((d, p), s)| quantize(d, p, s));
        } else {
            codes
                .par_chunks_mut(stride.max(1))
                .zip(params.par_iter_mut())
                .zip(x.par_chunks(inputs.max(1)))
                .for_each(|((d, p), s)| quantize(d, p, s));
        }
        let (scales, zeros) = params.into_iter().unzip();
        Self {
            codes,
            scales,
            zeros,
        }
    }
}

simd_fn!(
    /// Rescale a tile to f32, add the bias (then GELU with `gelu`) and write its valid
    /// columns to `out`.
    ///
    /// # Safety
    /// `out` must point at a `rows × outputs` buffer that no other thread writes in
    /// these rows and this panel's columns.
    unsafe fn store_tile(
        layer: &QuantizedLinear,
        a: &QuantizedRows,
        first: usize,
        count: usize,
        panel: usize,
        acc: &[[i32; NR]; MR],
        gelu: bool,
        out: Shared,
    ) {
        let n0 = panel * NR;
        let width = NR.min(layer.outputs - n0);
        let (scales, sums, bias) = (
            &layer.scales[n0..n0 + NR],
            &layer.sums[n0..n0 + NR],
            &layer.bias[n0..n0 + NR],
        );
        for (r, row_acc) in acc.iter().enumerate().take(count) {
            let row = first + r;
            let (scale, zero) = (a.scales[row], a.zeros[row]);
            let mut values = [0f32; NR];
            for j in 0..NR {
                // No overflow: |acc|, |zero · sum| ≤ 127 · 63 · inputs < 2³¹ (`new`).
                let exact = row_acc[j] - zero * sums[j];
                values[j] = exact as f32 * (scale * scales[j]) + bias[j];
            }
            if gelu {
                values.iter_mut().for_each(|v| *v = gelu_value(*v));
            }
            let dst = out.at(row * layer.outputs + n0);
            std::ptr::copy_nonoverlapping(values.as_ptr(), dst, width);
        }
    }
);

simd_fn!(
    /// Quantize one row into `dst` (7-bit codes); returns its scale and zero point. The
    /// range always holds 0, so that 0 is exact.
    ///
    /// # Safety
    /// None: the wrapper only picks features the CPU has.
    unsafe fn quantize_row(src: &[f32], dst: &mut [u8]) -> (f32, i32) {
        let (lo, hi) = min_max_of(src, 0.0);
        let range = hi - lo;
        if !(range > 0.0 && range.is_finite()) {
            return (1.0, 0);
        }
        let scale = range / ACTIVATION_MAX;
        let zero = (-lo / scale).round();
        let inverse = 1.0 / scale;
        for (d, &v) in dst.iter_mut().zip(src) {
            // Clamped first (max/min, not clamp: a NaN becomes 0), so the conversion
            // cannot overflow.
            #[allow(clippy::manual_clamp)]
            let code = (v * inverse + zero)
                .max(0.0)
                .min(ACTIVATION_MAX)
                .round_ties_even();
            // SAFETY: `code` is a whole number in [0, 127].
            *d = code.to_int_unchecked::<i32>() as u8;
        }
        (scale, zero as i32)
    }
);

/// [`QuantizedLinear::tile`] with AVX2: per two quads of inputs, each row's 2 × 4 codes
/// are broadcast and multiplied with the panel's 16 × 4 codes of each quad by
/// `vpmaddubsw` (pairs summed in i16), the two added in i16 (exact: 7-bit codes), then
/// `vpmaddwd` by 1 sums the pairs into i32 lanes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn tile_avx2<const R: usize>(
    rows: &[u8],
    quads: usize,
    panel: &[i8],
    acc: &mut [[i32; NR]; MR],
) {
    use std::arch::x86_64::*;
    let stride = quads * 4;
    let (a, w) = (rows.as_ptr(), panel.as_ptr());
    let ones = _mm256_set1_epi16(1);
    let mut sum = [[_mm256_setzero_si256(); 2]; R];
    for q in (0..quads).step_by(2) {
        let w0 = _mm256_loadu_si256(w.add(q * 64).cast());
        let w1 = _mm256_loadu_si256(w.add(q * 64 + 32).cast());
        let w2 = _mm256_loadu_si256(w.add(q * 64 + 64).cast());
        let w3 = _mm256_loadu_si256(w.add(q * 64 + 96).cast());
        for (r, s) in sum.iter_mut().enumerate() {
            let row = a.add(r * stride + q * 4);
            let a0 = _mm256_set1_epi32(row.cast::<i32>().read_unaligned());
            let a1 = _mm256_set1_epi32(row.add(4).cast::<i32>().read_unaligned());
            let p0 = _mm256_add_epi16(_mm256_maddubs_epi16(a0, w0), _mm256_maddubs_epi16(a1, w2));
            let p1 = _mm256_add_epi16(_mm256_maddubs_epi16(a0, w1), _mm256_maddubs_epi16(a1, w3));
            s[0] = _mm256_add_epi32(s[0], _mm256_madd_epi16(p0, ones));
            s[1] = _mm256_add_epi32(s[1], _mm256_madd_epi16(p1, ones));
        }
    }
    for (s, out) in sum.iter().zip(acc.iter_mut()) {
        _mm256_storeu_si256(out.as_mut_ptr().cast(), s[0]);
        _mm256_storeu_si256(out.as_mut_ptr().add(8).cast(), s[1]);
    }
}

/// [`QuantizedLinear::tile`] without x86 intrinsics: the same integers.
fn tile_portable(rows: &[u8], count: usize, quads: usize, panel: &[i8], acc: &mut [[i32; NR]; MR]) {
    let stride = quads * 4;
    for (r, out) in acc.iter_mut().enumerate().take(count) {
        let row = &rows[r * stride..(r + 1) * stride];
        for (q, codes) in row.chunks_exact(4).enumerate() {
            let group = &panel[q * NR * 4..(q + 1) * NR * 4];
            for (j, o) in out.iter_mut().enumerate() {
                let w = &group[(j / 8) * 32 + (j % 8) * 4..][..4];
                *o += codes
                    .iter()
                    .zip(w)
                    .map(|(&c, &w)| i32::from(c) * i32::from(w))
                    .sum::<i32>();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::cpu::tests;

    /// `n` values in [-2, 2).
    fn random(n: usize, seed: u64) -> Vec<f32> {
        tests::random(&[n], seed).to_vec1().unwrap()
    }

    /// The reference: dequantized weights and activations, multiplied in f64.
    fn dequantized_reference(layer: &QuantizedLinear, x: &[f32], rows: usize) -> Vec<f32> {
        let a = QuantizedRows::new(x, rows, layer.inputs, layer.quads);
        let stride = layer.quads * 4;
        let mut y = vec![0f32; rows * layer.outputs];
        for r in 0..rows {
            for n in 0..layer.outputs {
                let (panel, lane) = (n / NR, n % NR);
                let base = panel * layer.quads * NR * 4 + (lane / 8) * 32 + (lane % 8) * 4;
                let mut dot = 0f64;
                for k in 0..layer.inputs {
                    let w = f64::from(layer.panels[base + (k / 4) * NR * 4 + k % 4])
                        * f64::from(layer.scales[n]);
                    let v = (f64::from(a.codes[r * stride + k]) - f64::from(a.zeros[r]))
                        * f64::from(a.scales[r]);
                    dot += w * v;
                }
                y[r * layer.outputs + n] = (dot + f64::from(layer.bias[n])) as f32;
            }
        }
        y
    }

    fn f32_linear(w: &[f32], b: &[f32], x: &[f32], rows: usize, outputs: usize) -> Vec<f32> {
        let inputs = w.len() / outputs;
        let mut y = vec![0f32; rows * outputs];
        for r in 0..rows {
            for n in 0..outputs {
                let dot: f64 = (0..inputs)
                    .map(|k| f64::from(x[r * inputs + k]) * f64::from(w[n * inputs + k]))
                    .sum();
                y[r * outputs + n] = (dot + f64::from(b[n])) as f32;
            }
        }
        y
    }

    #[test]
    fn the_vector_and_portable_tiles_give_the_same_integers() {
        // Extreme codes: activations at 0 and 127, weights at ±63, so that any
        // saturation or lane mix-up shows.
        let (rows, inputs, outputs) = (7, 37, 21);
        let w = random(outputs * inputs, 1);
        let layer = QuantizedLinear::new(&w, &vec![0.0; outputs], outputs, inputs).unwrap();
        let mut x = random(rows * inputs, 2);
        x.iter_mut().step_by(3).for_each(|v| *v = 4.0);
        x.iter_mut().step_by(5).for_each(|v| *v = -4.0);
        let a = QuantizedRows::new(&x, rows, inputs, layer.quads);
        assert!(a.codes.contains(&0) && a.codes.contains(&127));
        assert!(layer.panels.contains(&63) && layer.panels.contains(&-63));
        for panel in 0..outputs.div_ceil(NR) {
            for (first, count) in [(0, 4), (4, 3), (0, 1), (5, 2)] {
                let stride = layer.quads * 4;
                let codes = &a.codes[first * stride..(first + count) * stride];
                let w = &layer.panels[panel * layer.quads * 64..(panel + 1) * layer.quads * 64];
                let mut portable = [[0i32; NR]; MR];
                tile_portable(codes, count, layer.quads, w, &mut portable);
                assert_eq!(layer.tile(&a, first, count, panel), portable);
            }
        }
    }

    #[test]
    fn the_product_is_the_dequantized_product_and_near_the_f32_one() {
        // Shapes off the tile and panel sizes; the last is large enough to run in
        // parallel, over several row and panel tasks.
        for (rows, inputs, outputs) in [
            (1, 384, 384),
            (70, 45, 70),
            (131, 128, 33),
            (3, 5, 1),
            (150, 300, 100),
        ] {
            assert_eq!(
                rows * inputs * outputs >= PARALLEL_PRODUCT,
                (rows, inputs) == (150, 300)
            );
            let w: Vec<f32> = random(outputs * inputs, 3)
                .iter()
                .map(|v| v * 0.1)
                .collect();
            let b = random(outputs, 4);
            let x = random(rows * inputs, 5);
            let layer = QuantizedLinear::new(&w, &b, outputs, inputs).unwrap();
            let y = layer.apply(&x, rows, false);
            let reference = dequantized_reference(&layer, &x, rows);
            let exact = f32_linear(&w, &b, &x, rows, outputs);
            // Same integers, so only the f32 rescaling differs from the reference.
            for (got, want) in y.iter().zip(&reference) {
                assert!(
                    (got - want).abs() <= 1e-4 * (1.0 + want.abs()),
                    "{got} vs {want}"
                );
            }
            // Quantization error: ~1% of the typical output size.
            let rms = |v: &[f32]| (v.iter().map(|x| x * x).sum::<f32>() / v.len() as f32).sqrt();
            let diff: Vec<f32> = y.iter().zip(&exact).map(|(a, b)| a - b).collect();
            assert!(
                rms(&diff) < 0.02 * rms(&exact),
                "{} vs {}",
                rms(&diff),
                rms(&exact)
            );
        }
    }

    #[test]
    fn the_fused_gelu_is_gelu_of_the_product() {
        let (rows, inputs, outputs) = (5, 40, 19);
        let layer = QuantizedLinear::new(
            &random(outputs * inputs, 6),
            &random(outputs, 7),
            outputs,
            inputs,
        )
        .unwrap();
        let x = random(rows * inputs, 8);
        let plain = layer.apply(&x, rows, false);
        let fused = layer.apply(&x, rows, true);
        for (p, f) in plain.iter().zip(&fused) {
            assert_eq!(*f, gelu_value(*p));
        }
        assert!(plain.iter().any(|&v| v < -1.0) && plain.iter().any(|&v| v > 1.0));
    }

    #[test]
    fn zero_and_constant_rows_and_weights_stay_finite() {
        let (rows, inputs, outputs) = (3, 8, 2);
        let w = [vec![0.0; inputs], vec![0.5; inputs]].concat();
        let layer = QuantizedLinear::new(&w, &[1.0, -1.0], outputs, inputs).unwrap();
        let x = [vec![0.0; inputs], vec![2.0; inputs], vec![-3.0; inputs]].concat();
        let y = layer.apply(&x, rows, false);
        let want = [1.0, -1.0, 1.0, 7.0, 1.0, -13.0];
        for (got, want) in y.iter().zip(want) {
            assert!((got - want).abs() < 0.05, "{y:?}");
        }
    }

    #[test]
    fn a_weight_of_the_wrong_size_is_refused() {
        assert!(QuantizedLinear::new(&[0.0; 5], &[0.0; 2], 2, 3).is_err());
        let layer = QuantizedLinear::new(&[0.0; 6], &[0.0; 2], 2, 3).unwrap();
        let x = Tensor::zeros((4, 5), candle_core::DType::F32, &candle_core::Device::Cpu).unwrap();
        assert!(layer.forward(&x, false).is_err());
    }
}

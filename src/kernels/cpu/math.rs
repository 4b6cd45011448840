//! Branch-free f32 reductions and `exp` that vectorise inside `simd_fn!` bodies.

/// Lanes of the partial results of [`sum_of`], [`dot_of`] and [`max_of`]: sequential f32
/// reductions do not vectorise (their order is fixed); eight running ones do.
pub(super) const LANES: usize = 8;

/// Σ `x`, as eight interleaved partial sums.
#[inline(always)]
pub(super) fn sum_of(x: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().sum();
    for chunk in chunks {
        for (a, v) in acc.iter_mut().zip(chunk) {
            *a += v;
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Σ `a[i]·b[i]` over equal-length slices, as eight interleaved partial sums.
#[inline(always)]
pub(super) fn dot_of(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(a, b)| a * b)
        .sum();
    for (a, b) in ca.zip(cb) {
        for i in 0..LANES {
            acc[i] += a[i] * b[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// The smallest and largest of `x` and `start` (NaN values are skipped).
#[inline(always)]
pub(crate) fn min_max_of(x: &[f32], start: f32) -> (f32, f32) {
    let (mut lo, mut hi) = ([start; LANES], [start; LANES]);
    let chunks = x.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for i in 0..LANES {
            lo[i] = if chunk[i] < lo[i] { chunk[i] } else { lo[i] };
            hi[i] = if chunk[i] > hi[i] { chunk[i] } else { hi[i] };
        }
    }
    let (lo, hi) = (lo.iter().chain(tail), hi.iter().chain(tail));
    (
        lo.fold(start, |m, &v| m.min(v)),
        hi.fold(start, |m, &v| m.max(v)),
    )
}

/// The largest of `x` (−∞ when empty; NaN values are skipped).
#[inline(always)]
pub(super) fn max_of(x: &[f32]) -> f32 {
    min_max_of(x, f32::NEG_INFINITY).1
}

/// eˣ for f32 within 2 ulp (Cephes' `expf`: a degree-6 polynomial on
/// [−ln 2 / 2, ln 2 / 2] scaled by 2ⁿ), branch-free so that it vectorises where libm's
/// `expf` is a call per value; 0 below −87.3 (where f32 leaves normal numbers), and
/// e^88.37 above 88.37 (attention and GELU take it at x ≤ 0).
#[inline(always)]
pub(super) fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    let underflow = x < -87.336_55;
    let x = x.clamp(-87.336_55, 88.376_26);
    // Round to nearest by the 1.5 · 2²³ trick: no libm `floorf` call where the
    // baseline has no rounding instruction (SSE2).
    const ROUND: f32 = 12_582_912.0;
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let mut p = 1.987_569_1e-4 * r + 1.398_2e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 0.166_666_65;
    p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    let scaled = y * f32::from_bits(((n as i32 + 127) as u32) << 23);
    if underflow {
        0.0
    } else {
        scaled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_within_two_ulp_of_libm() {
        let mut worst = 0f64;
        for i in 0..=2_000_000 {
            let x = -100.0 + i as f32 * 9.4e-5;
            let (got, want) = (exp(x), x.exp());
            if want < f32::MIN_POSITIVE {
                assert!(got < 1.2e-38, "exp({x}) = {got}");
                continue;
            }
            worst = worst.max(((got - want) / want).abs() as f64 / f64::from(f32::EPSILON));
        }
        assert!(worst <= 2.0, "worst error {worst} ulp");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-1e9), 0.0);
    }
}

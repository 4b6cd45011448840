//! Attention over a padding-free batch on the CPU: the rows' tokens lie one after the
//! other in one `(tokens, heads·dh)` matrix, and each row attends only to its own
//! tokens, so no work or memory goes to padding and rows need not be grouped by
//! length. One task per (row, head): scores, softmax, attention dropout and the
//! product with the values, writing that head's columns of that row's tokens. The
//! backward pass recomputes the probabilities (and regenerates the dropout mask from
//! its seed) instead of storing them.

use super::dropout::{dropout_in_place, DropoutMask};
use super::softmax::{softmax_grad_rows, softmax_in_place};
use super::{data, simd_fn, Shared};
use candle_core::{CpuStorage, CustomOp3, Error, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// Scaled dot-product attention of a padding-free batch. `q` is `(queries, heads·dh)`,
/// `k` and `v` `(keys, heads·dh)`, contiguous f32. Row `r`'s queries are
/// `q_offsets[r]..q_offsets[r + 1]` and its keys and values
/// `kv_offsets[r]..kv_offsets[r + 1]`. `dropout` is the attention dropout's
/// probability and seed, `None` in evaluation. Returns `(queries, heads·dh)`.
pub fn ragged_attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    q_offsets: &[usize],
    kv_offsets: &[usize],
    heads: usize,
    dropout: Option<(f64, u64)>,
) -> Result<Tensor> {
    let (tq, dim) = q.dims2()?;
    let (tk, dim_k) = k.dims2()?;
    if v.dims2()? != (tk, dim_k) || dim_k != dim || heads == 0 || dim % heads != 0 {
        return Err(Error::Msg(format!(
            "ragged attention: shapes {:?}, {:?}, {:?} over {heads} heads do not fit",
            q.dims(),
            k.dims(),
            v.dims()
        )));
    }
    if q_offsets.len() != kv_offsets.len()
        || q_offsets.first() != Some(&0)
        || kv_offsets.first() != Some(&0)
        || q_offsets.last() != Some(&tq)
        || kv_offsets.last() != Some(&tk)
        || q_offsets.windows(2).any(|w| w[0] > w[1])
        || kv_offsets.windows(2).any(|w| w[0] > w[1])
    {
        return Err(Error::Msg(
            "ragged attention: row offsets do not cover the tokens in order".into(),
        ));
    }
    let op = RaggedAttention {
        q_offsets: q_offsets.to_vec(),
        kv_offsets: kv_offsets.to_vec(),
        heads,
        dh: dim / heads,
        mask: dropout.map(|(p, seed)| DropoutMask::new(p, seed)),
    };
    q.contiguous()?
        .apply_op3(&k.contiguous()?, &v.contiguous()?, op)
}

simd_fn!(
    /// `softmax(scale · s)` of each row of `lk` scores in `p`, in place.
    ///
    /// # Safety
    /// None: the wrapper only picks features the CPU has.
    unsafe fn softmax_rows(p: &mut [f32], lk: usize, scale: f32) {
        for row in p.chunks_mut(lk.max(1)) {
            softmax_in_place(row, scale);
        }
    }
);

#[derive(Clone)]
struct RaggedAttention {
    q_offsets: Vec<usize>,
    kv_offsets: Vec<usize>,
    heads: usize,
    dh: usize,
    mask: Option<DropoutMask>,
}

/// One (row, head) product: its query and key ranges, its head, and where its
/// probabilities start in the whole batch's (virtual) probability array, which
/// numbers the dropout mask.
struct Task {
    q: std::ops::Range<usize>,
    kv: std::ops::Range<usize>,
    head: usize,
    first_prob: u64,
}

/// `dst (m × n) = lhs (m × k) · rhs (k × n)`, each operand given by its pointer and
/// its (row, column) strides in elements.
///
/// # Safety
/// Every operand's elements must lie inside its allocation; `dst` must not overlap
/// the inputs or another thread's writes.
unsafe fn product(
    (m, n, k): (usize, usize, usize),
    dst: (*mut f32, usize, usize),
    lhs: (*const f32, usize, usize),
    rhs: (*const f32, usize, usize),
) {
    gemm::gemm(
        m,
        n,
        k,
        dst.0,
        dst.2 as isize,
        dst.1 as isize,
        false,
        lhs.0,
        lhs.2 as isize,
        lhs.1 as isize,
        rhs.0,
        rhs.2 as isize,
        rhs.1 as isize,
        0.0,
        1.0,
        false,
        false,
        false,
        gemm::Parallelism::None,
    )
}

impl RaggedAttention {
    fn tasks(&self) -> Vec<Task> {
        let mut tasks = Vec::with_capacity((self.q_offsets.len() - 1) * self.heads);
        let mut first_prob = 0u64;
        for r in 0..self.q_offsets.len() - 1 {
            let q = self.q_offsets[r]..self.q_offsets[r + 1];
            let kv = self.kv_offsets[r]..self.kv_offsets[r + 1];
            let probs = (q.len() * kv.len()) as u64;
            for head in 0..self.heads {
                tasks.push(Task {
                    q: q.clone(),
                    kv: kv.clone(),
                    head,
                    first_prob,
                });
                first_prob += probs;
            }
        }
        tasks
    }

    fn dim(&self) -> usize {
        self.heads * self.dh
    }

    /// The task's probabilities `softmax(q kᵀ / √dh)` row by row, `(queries, keys)`;
    /// `k`'s rows are `k_stride` apart.
    fn probabilities(&self, t: &Task, q: &[f32], k: &[f32], k_stride: usize) -> Vec<f32> {
        let (lq, lk, dim, dh) = (t.q.len(), t.kv.len(), self.dim(), self.dh);
        let mut p = vec![0f32; lq * lk];
        // SAFETY: the q rows t.q and k rows t.kv, head columns, lie inside q and k
        // (offsets were checked against their lengths); p is this task's own buffer.
        unsafe {
            product(
                (lq, lk, dh),
                (p.as_mut_ptr(), lk, 1),
                (q.as_ptr().add(t.q.start * dim + t.head * dh), dim, 1),
                (
                    k.as_ptr().add(t.kv.start * k_stride + t.head * dh),
                    1,
                    k_stride,
                ),
            );
        }
        // SAFETY: `softmax_rows` has no requirement.
        unsafe { softmax_rows(&mut p, lk, 1.0 / (dh as f32).sqrt()) };
        p
    }

    /// Apply the dropout mask (if any) to a task's `(queries, keys)` block in place.
    fn drop(&self, t: &Task, block: &mut [f32]) {
        if let Some(mask) = &self.mask {
            // SAFETY: `dropout_in_place` has no requirement.
            unsafe { dropout_in_place(mask, t.first_prob, block) };
        }
    }
}

impl CustomOp3 for RaggedAttention {
    fn name(&self) -> &'static str {
        "dialect-cpu-ragged-attention"
    }

    fn cpu_fwd(
        &self,
        q: &CpuStorage,
        ql: &Layout,
        k: &CpuStorage,
        kl: &Layout,
        v: &CpuStorage,
        vl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (q, k, v) = (
            data(q, ql, self.name())?,
            data(k, kl, self.name())?,
            data(v, vl, self.name())?,
        );
        let (dim, dh) = (self.dim(), self.dh);
        let mut out = vec![0f32; q.len()];
        let dst = Shared(out.as_mut_ptr());
        self.tasks().par_iter().for_each(|t| {
            let mut p = self.probabilities(t, q, k, dim);
            self.drop(t, &mut p);
            // SAFETY: bounds as in `probabilities`; this task alone writes rows t.q,
            // columns of its head, of `out`.
            unsafe {
                product(
                    (t.q.len(), dh, t.kv.len()),
                    (dst.at(t.q.start * dim + t.head * dh), dim, 1),
                    (p.as_ptr(), t.kv.len(), 1),
                    (v.as_ptr().add(t.kv.start * dim + t.head * dh), dim, 1),
                );
            }
        });
        Ok((CpuStorage::F32(out), ql.shape().clone()))
    }

    fn bwd(
        &self,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        _res: &Tensor,
        dout: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        // The gradient op takes (q, k‖v, dout): k and v side by side in one matrix.
        let kv = Tensor::cat(&[k, v], 1)?;
        let grads =
            q.apply_op3_no_bwd(&kv, &dout.contiguous()?, &RaggedAttentionGrad(self.clone()))?;
        let (tq, tk) = (q.dim(0)?, k.dim(0)?);
        Ok((
            Some(grads.narrow(0, 0, tq)?),
            Some(grads.narrow(0, tq, tk)?),
            Some(grads.narrow(0, tq + tk, tk)?),
        ))
    }
}

/// dq, dk and dv of [`RaggedAttention`] from (q, k‖v, dout), stacked by rows:
/// `(queries + 2·keys, heads·dh)`.
struct RaggedAttentionGrad(RaggedAttention);

impl CustomOp3 for RaggedAttentionGrad {
    fn name(&self) -> &'static str {
        "dialect-cpu-ragged-attention-grad"
    }

    fn cpu_fwd(
        &self,
        q: &CpuStorage,
        ql: &Layout,
        kv: &CpuStorage,
        kvl: &Layout,
        dout: &CpuStorage,
        dl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let a = &self.0;
        let (q, kv, dout) = (
            data(q, ql, self.name())?,
            data(kv, kvl, self.name())?,
            data(dout, dl, self.name())?,
        );
        let (dim, dh) = (a.dim(), a.dh);
        let (tq, tk) = (q.len() / dim.max(1), kv.len() / (2 * dim).max(1));
        // k and v read in place from k‖v: each row holds dim values of k, then dim of v.
        let (k, v, kv_stride) = (kv, kv.get(dim..).unwrap_or(&[]), 2 * dim);
        let mut grads = vec![0f32; (tq + 2 * tk) * dim];
        let dq = Shared(grads.as_mut_ptr());
        let dk = Shared(dq.at(tq * dim));
        let dv = Shared(dq.at((tq + tk) * dim));
        a.tasks().par_iter().for_each(|t| {
            let (lq, lk) = (t.q.len(), t.kv.len());
            let head = t.head * dh;
            let p = a.probabilities(t, q, k, kv_stride);
            let mut dropped = p.clone();
            a.drop(t, &mut dropped);
            let mut dp = vec![0f32; lq * lk];
            // SAFETY: bounds as in the forward pass; this task alone writes rows t.q
            // (of dq) and t.kv (of dk, dv), columns of its head.
            unsafe {
                // dv = dropped(p)ᵀ · dout
                product(
                    (lk, dh, lq),
                    (dv.at(t.kv.start * dim + head), dim, 1),
                    (dropped.as_ptr(), 1, lk),
                    (dout.as_ptr().add(t.q.start * dim + head), dim, 1),
                );
                // d dropped(p) = dout · vᵀ
                product(
                    (lq, lk, dh),
                    (dp.as_mut_ptr(), lk, 1),
                    (dout.as_ptr().add(t.q.start * dim + head), dim, 1),
                    (v.as_ptr().add(t.kv.start * kv_stride + head), 1, kv_stride),
                );
            }
            a.drop(t, &mut dp);
            // Softmax backward, with the 1/√dh of the scores folded in; the scores'
            // gradient reuses `dropped`'s buffer (done with after dv).
            let ds = &mut dropped;
            // SAFETY: `softmax_grad_rows` has no requirement.
            unsafe { softmax_grad_rows(&p, &dp, lk, 1.0 / (dh as f32).sqrt(), ds) };
            // SAFETY: as above.
            unsafe {
                // dq = ds · k
                product(
                    (lq, dh, lk),
                    (dq.at(t.q.start * dim + head), dim, 1),
                    (ds.as_ptr(), lk, 1),
                    (k.as_ptr().add(t.kv.start * kv_stride + head), kv_stride, 1),
                );
                // dk = dsᵀ · q
                product(
                    (lk, dh, lq),
                    (dk.at(t.kv.start * dim + head), dim, 1),
                    (ds.as_ptr(), 1, lk),
                    (q.as_ptr().add(t.q.start * dim + head), dim, 1),
                );
            }
        });
        Ok((CpuStorage::F32(grads), Shape::from((tq + 2 * tk, dim))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::cpu::tests::{max_diff, random};
    use crate::model::layers::{attention_bias, multi_head_attention, Mode};
    use candle_core::{Device, Var};

    /// The same rows padded into `(rows, longest, dim)` with their attention mask.
    fn padded(x: &Tensor, offsets: &[usize], longest: usize) -> (Tensor, Tensor) {
        let dim = x.dim(1).unwrap();
        let mut rows = Vec::new();
        let mut mask = Vec::new();
        for w in offsets.windows(2) {
            let len = w[1] - w[0];
            let row = x.narrow(0, w[0], len).unwrap();
            let pad = Tensor::zeros((longest - len, dim), x.dtype(), x.device()).unwrap();
            rows.push(Tensor::cat(&[&row, &pad], 0).unwrap());
            mask.extend((0..longest).map(|i| u32::from(i < len)));
        }
        let mask = Tensor::from_vec(mask, (offsets.len() - 1, longest), x.device()).unwrap();
        (Tensor::stack(&rows, 0).unwrap(), mask)
    }

    /// Outputs and the gradients of q, k and v match the padded attention on the
    /// same rows, for whole rows and for first-token-only queries.
    #[test]
    fn ragged_attention_matches_padded_attention_and_its_gradients() {
        let (heads, dh) = (3, 4);
        let dim = heads * dh;
        let lengths = [5usize, 2, 7, 1];
        let mut offsets = vec![0];
        for l in lengths {
            offsets.push(offsets.last().unwrap() + l);
        }
        let tokens = *offsets.last().unwrap();
        let longest = *lengths.iter().max().unwrap();
        for first_only in [false, true] {
            let q = Var::from_tensor(&random(&[tokens, dim], 1)).unwrap();
            let k = Var::from_tensor(&random(&[tokens, dim], 2)).unwrap();
            let v = Var::from_tensor(&random(&[tokens, dim], 3)).unwrap();
            let weights = random(&[tokens, dim], 4);
            let (q_rows, q_offsets) = if first_only {
                let firsts: Vec<u32> = offsets[..4].iter().map(|&o| o as u32).collect();
                let idx = Tensor::new(firsts.as_slice(), &Device::Cpu).unwrap();
                (
                    q.index_select(&idx, 0).unwrap(),
                    (0..=4).collect::<Vec<_>>(),
                )
            } else {
                (q.as_tensor().clone(), offsets.clone())
            };
            let ours =
                ragged_attention(&q_rows, &k, &v, &q_offsets, &offsets, heads, None).unwrap();

            let (pq, mask) = padded(q.as_tensor(), &offsets, longest);
            let (pk, _) = padded(k.as_tensor(), &offsets, longest);
            let (pv, _) = padded(v.as_tensor(), &offsets, longest);
            let pq = if first_only {
                pq.narrow(1, 0, 1).unwrap()
            } else {
                pq
            };
            let bias = attention_bias(&mask).unwrap();
            let theirs =
                multi_head_attention(&pq, &pk, &pv, &bias, heads, 0.0, &Mode::Eval).unwrap();
            // Compare real tokens only.
            let mut picked = Vec::new();
            for (r, w) in offsets.windows(2).enumerate() {
                let n = if first_only { 1 } else { w[1] - w[0] };
                picked.push(theirs.get(r).unwrap().narrow(0, 0, n).unwrap());
            }
            let theirs = Tensor::cat(&picked, 0).unwrap();
            assert!(max_diff(&ours, &theirs) < 1e-5, "outputs differ");

            let wq = if first_only {
                weights.narrow(0, 0, 4).unwrap()
            } else {
                weights.clone()
            };
            let g_ours = (ours * &wq).unwrap().sum_all().unwrap().backward().unwrap();
            let g_theirs = (theirs * &wq)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            for (name, var) in [("q", &q), ("k", &k), ("v", &v)] {
                let a = g_ours.get(var).unwrap();
                let b = g_theirs.get(var).unwrap();
                assert!(max_diff(a, b) < 1e-5, "gradient of {name} differs");
            }
        }
    }

    /// With dropout the output is an unbiased, seeded draw, and the backward pass
    /// regenerates the same mask: the gradient equals a finite difference.
    #[test]
    fn ragged_attention_dropout_is_seeded_and_its_gradient_is_exact() {
        let (heads, dh) = (2, 4);
        let dim = heads * dh;
        let offsets = [0usize, 6, 9];
        let q = random(&[9, dim], 5);
        let k = random(&[9, dim], 6);
        let v = Var::from_tensor(&random(&[9, dim], 7)).unwrap();
        let run = |v: &Tensor, seed| {
            ragged_attention(&q, &k, v, &offsets, &offsets, heads, Some((0.3, seed))).unwrap()
        };
        let a = run(v.as_tensor(), 11);
        assert_eq!(
            max_diff(&a, &run(v.as_tensor(), 11)),
            0.0,
            "same seed, same draw"
        );
        assert!(
            max_diff(&a, &run(v.as_tensor(), 12)) > 1e-3,
            "another seed, another draw"
        );
        // The output is linear in v, so its gradient wrt v is exact: sum(out) at v + e
        // minus at v equals the gradient's entry.
        let grad = run(v.as_tensor(), 11)
            .sum_all()
            .unwrap()
            .backward()
            .unwrap()
            .get(&v)
            .unwrap()
            .clone();
        let base = run(v.as_tensor(), 11).sum_all().unwrap();
        let mut bump = vec![0f32; 9 * dim];
        bump[3 * dim + 5] = 1.0;
        let bumped =
            (v.as_tensor() + Tensor::from_vec(bump, (9, dim), &Device::Cpu).unwrap()).unwrap();
        let diff = (run(&bumped, 11).sum_all().unwrap() - base)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        let want = grad
            .get(3)
            .unwrap()
            .get(5)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!((diff - want).abs() < 1e-4, "{diff} vs {want}");
    }

    #[test]
    fn offsets_that_do_not_cover_the_tokens_are_refused() {
        let x = random(&[4, 6], 1);
        for (qo, kvo) in [
            (vec![0, 2, 3], vec![0, 2, 4]),
            (vec![0, 3, 2, 4], vec![0, 1, 2, 4]),
            (vec![0, 4], vec![0, 2, 4]),
        ] {
            assert!(ragged_attention(&x, &x, &x, &qo, &kvo, 2, None).is_err());
        }
    }
}

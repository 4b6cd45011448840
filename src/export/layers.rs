//! The pieces every family's graph is built from: weights read by their transformers
//! names, linear layers (f32, or int8 weights with activations quantized at run time:
//! onnxruntime's `quantize_dynamic` recipe), layer norms, activations, multi-head
//! attention and the mean of a row's real tokens.

use super::graph::Graph;
use super::proto::Attribute;
use crate::error::{EngineError, Result};
use crate::model::layers::Activation;
use candle_core::{DType, Tensor};
use std::collections::HashMap;

/// A model's weights by their transformers names.
#[derive(Clone, Copy)]
pub struct Weights<'a> {
    pub map: &'a HashMap<String, Tensor>,
    /// The model (its folder) named in errors.
    pub model: &'a str,
}

impl Weights<'_> {
    /// A weight's shape and f32 values.
    pub fn get(&self, name: &str) -> Result<(Vec<usize>, Vec<f32>)> {
        let t = self.map.get(name).ok_or_else(|| {
            EngineError::model(self.model, format!("no weight '{name}' to export"))
        })?;
        let values = t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
        Ok((t.dims().to_vec(), values))
    }

    /// The weight `name` as an f32 initializer.
    pub fn initializer(&self, g: &mut Graph, name: &str) -> Result<String> {
        let (dims, values) = self.get(name)?;
        Ok(g.floats(name, &dims, &values))
    }

    /// The matrix `name` as transformers keeps a linear layer's weight: `(out, in)`,
    /// row-major.
    pub fn matrix(&self, name: &str) -> Result<(usize, usize, Vec<f32>)> {
        let (dims, values) = self.get(name)?;
        match dims[..] {
            [out_dim, in_dim] => Ok((out_dim, in_dim, values)),
            _ => Err(EngineError::model(
                self.model,
                format!("weight '{name}' is not a matrix: shape {dims:?}"),
            )),
        }
    }

    /// `x · Wᵀ` for the bias-free linear layer `name`; int8 when `int8`.
    pub fn product(&self, g: &mut Graph, x: &str, name: &str, int8: bool) -> Result<String> {
        let (out_dim, in_dim, values) = self.matrix(&format!("{name}.weight"))?;
        Ok(matmul(g, x, name, &values, out_dim, in_dim, int8))
    }

    /// `x · Wᵀ + b` for the linear layer `name`; int8 when `int8`.
    pub fn linear(&self, g: &mut Graph, x: &str, name: &str, int8: bool) -> Result<String> {
        let product = self.product(g, x, name, int8)?;
        let bias = self.initializer(g, &format!("{name}.bias"))?;
        Ok(g.op("Add", &[&product, &bias], &[]))
    }

    /// The layer norm `name` over the last axis, with its `weight` and `bias`.
    pub fn layer_norm(&self, g: &mut Graph, x: &str, name: &str, eps: f64) -> Result<String> {
        let scale = self.initializer(g, &format!("{name}.weight"))?;
        let bias = self.initializer(g, &format!("{name}.bias"))?;
        Ok(layer_norm_node(g, &[x, &scale, &bias], eps))
    }

    /// The layer norm `name` over the last axis with a `weight` and no bias.
    pub fn layer_norm_without_bias(
        &self,
        g: &mut Graph,
        x: &str,
        name: &str,
        eps: f64,
    ) -> Result<String> {
        let scale = self.initializer(g, &format!("{name}.weight"))?;
        Ok(layer_norm_node(g, &[x, &scale], eps))
    }
}

fn layer_norm_node(g: &mut Graph, inputs: &[&str], eps: f64) -> String {
    g.op(
        "LayerNormalization",
        inputs,
        &[
            ("axis", Attribute::Int(-1)),
            ("epsilon", Attribute::Float(eps as f32)),
        ],
    )
}

/// `x · Wᵀ` for `w` `(out, in)` row-major, named after `hint`: f32, or int8 when `int8`.
pub fn matmul(
    g: &mut Graph,
    x: &str,
    hint: &str,
    w: &[f32],
    out_dim: usize,
    in_dim: usize,
    int8: bool,
) -> String {
    // (in, out), the layout MatMul takes.
    let mut transposed = vec![0f32; w.len()];
    for o in 0..out_dim {
        for i in 0..in_dim {
            transposed[i * out_dim + o] = w[o * in_dim + i];
        }
    }
    if int8 {
        int8_matmul(g, x, hint, &transposed, in_dim, out_dim)
    } else {
        let w = g.floats(&format!("{hint}.weight"), &[in_dim, out_dim], &transposed);
        g.op("MatMul", &[x, &w], &[])
    }
}

/// `x · W` with `W` `(in, out)` quantized per output column (symmetric int8) and `x`
/// quantized at run time (DynamicQuantizeLinear, uint8), accumulated in int32 and
/// scaled back to f32.
fn int8_matmul(
    g: &mut Graph,
    x: &str,
    hint: &str,
    w: &[f32],
    in_dim: usize,
    out_dim: usize,
) -> String {
    let scales: Vec<f32> = (0..out_dim)
        .map(|o| {
            let max = (0..in_dim)
                .map(|i| w[i * out_dim + o].abs())
                .fold(0.0, f32::max);
            if max > 0.0 {
                max / 127.0
            } else {
                1.0
            }
        })
        .collect();
    let q: Vec<i8> = w
        .iter()
        .enumerate()
        .map(|(k, v)| (v / scales[k % out_dim]).round().clamp(-127.0, 127.0) as i8)
        .collect();
    let wq = g.int8s(&format!("{hint}.weight_int8"), &[in_dim, out_dim], &q);
    let ws = g.floats(&format!("{hint}.weight_scale"), &[out_dim], &scales);
    let quantized = g.op_n("DynamicQuantizeLinear", &[x], &[], 3);
    let (xq, xs, xz) = (&quantized[0], &quantized[1], &quantized[2]);
    let acc = g.op("MatMulInteger", &[xq, &wq, xz], &[]);
    let acc = g.op("Cast", &[&acc], &[("to", Attribute::Int(1))]);
    let scale = g.op("Mul", &[xs, &ws], &[]);
    g.op("Mul", &[&acc, &scale], &[])
}

/// `activation` applied to `x`, as `model::layers::Activation` computes it.
pub fn activate(g: &mut Graph, x: &str, activation: Activation) -> String {
    match activation {
        Activation::Relu => g.op("Relu", &[x], &[]),
        Activation::Gelu => {
            // 0.5 · x · (1 + erf(x / √2))
            let root2 = g.scalar(std::f32::consts::SQRT_2);
            let scaled = g.op("Div", &[x, &root2], &[]);
            let erf = g.op("Erf", &[&scaled], &[]);
            let one = g.scalar(1.0);
            let shifted = g.op("Add", &[&erf, &one], &[]);
            let half = g.scalar(0.5);
            let halved = g.op("Mul", &[x, &half], &[]);
            g.op("Mul", &[&halved, &shifted], &[])
        }
        Activation::GeluTanh => {
            // 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))
            let cube = g.op("Mul", &[x, x], &[]);
            let cube = g.op("Mul", &[&cube, x], &[]);
            let c = g.scalar(0.044715);
            let cube = g.op("Mul", &[&cube, &c], &[]);
            let inner = g.op("Add", &[x, &cube], &[]);
            let k = g.scalar((2.0 / std::f32::consts::PI).sqrt());
            let inner = g.op("Mul", &[&inner, &k], &[]);
            let t = g.op("Tanh", &[&inner], &[]);
            let one = g.scalar(1.0);
            let shifted = g.op("Add", &[&t, &one], &[]);
            let half = g.scalar(0.5);
            let halved = g.op("Mul", &[x, &half], &[]);
            g.op("Mul", &[&halved, &shifted], &[])
        }
    }
}

/// The additive attention bias `(batch, 1, 1, sequence)`: 0 for tokens, -1e9 for
/// padding, as `model::layers::attention_bias` computes it.
pub fn attention_bias(g: &mut Graph, mask: &str) -> String {
    let keep = g.op("Cast", &[mask], &[("to", Attribute::Int(1))]);
    let one = g.scalar(1.0);
    let shifted = g.op("Sub", &[&keep, &one], &[]);
    let big = g.scalar(1e9);
    let bias = g.op("Mul", &[&shifted, &big], &[]);
    let axes = g.ints(&[2], &[1, 2]);
    g.op("Unsqueeze", &[&bias, &axes], &[])
}

/// The sequence length of `input_ids` `(batch, sequence)`, a 1-element int64.
pub fn sequence_length(g: &mut Graph, input_ids: &str) -> String {
    g.op(
        "Shape",
        &[input_ids],
        &[("start", Attribute::Int(1)), ("end", Attribute::Int(2))],
    )
}

/// `(batch, sequence, heads · head_dim)` → `(batch, heads, sequence, head_dim)`.
pub fn split_heads(g: &mut Graph, x: &str, heads: usize, head_dim: usize) -> String {
    let shape = g.ints(&[4], &[0, 0, heads as i64, head_dim as i64]);
    let x = g.op("Reshape", &[x, &shape], &[]);
    g.op(
        "Transpose",
        &[&x],
        &[("perm", Attribute::Ints(vec![0, 2, 1, 3]))],
    )
}

/// Scaled dot-product attention of `q`, `k`, `v` `(batch, heads, sequence, head_dim)`
/// with the additive `bias` (broadcast to the scores `(batch, heads, sequence,
/// sequence)`): the context with its heads merged, `(batch, sequence, heads · head_dim)`.
pub fn attention(g: &mut Graph, q: &str, k: &str, v: &str, bias: &str, head_dim: usize) -> String {
    let kt = g.op(
        "Transpose",
        &[k],
        &[("perm", Attribute::Ints(vec![0, 1, 3, 2]))],
    );
    let scores = g.op("MatMul", &[q, &kt], &[]);
    weigh_values(g, &scores, 1.0 / (head_dim as f32).sqrt(), bias, v)
}

/// The softmax over the keys of `scores · scale + bias` (`scores` `(batch, heads,
/// sequence, sequence)`) applied to `v` `(batch, heads, sequence, head_dim)`: the
/// context with its heads merged, `(batch, sequence, heads · head_dim)`.
pub fn weigh_values(g: &mut Graph, scores: &str, scale: f32, bias: &str, v: &str) -> String {
    let scale = g.scalar(scale);
    let scores = g.op("Mul", &[scores, &scale], &[]);
    let scores = g.op("Add", &[&scores, bias], &[]);
    let probs = g.op("Softmax", &[&scores], &[("axis", Attribute::Int(-1))]);
    let ctx = g.op("MatMul", &[&probs, v], &[]);
    let ctx = g.op(
        "Transpose",
        &[&ctx],
        &[("perm", Attribute::Ints(vec![0, 2, 1, 3]))],
    );
    let merged = g.ints(&[3], &[0, 0, -1]);
    g.op("Reshape", &[&ctx, &merged], &[])
}

/// The mean of each row's real tokens `(batch, hidden)` from the token vectors `x`
/// `(batch, sequence, hidden)` and the `mask` (int64 `(batch, sequence)`), as
/// `model::layers::masked_mean` computes it.
pub fn masked_mean(g: &mut Graph, x: &str, mask: &str) -> String {
    let keep = g.op("Cast", &[mask], &[("to", Attribute::Int(1))]);
    let axis = g.ints(&[1], &[2]);
    let keep3 = g.op("Unsqueeze", &[&keep, &axis], &[]);
    let kept = g.op("Mul", &[x, &keep3], &[]);
    let seq = g.ints(&[1], &[1]);
    let keepdims = [("keepdims", Attribute::Int(0))];
    let sum = g.op("ReduceSum", &[&kept, &seq], &keepdims);
    let count = g.op("ReduceSum", &[&keep3, &seq], &keepdims);
    g.op("Div", &[&sum, &count], &[])
}

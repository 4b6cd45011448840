//! Loading a checkpoint's tensors into trainable variables, with the name conventions
//! of Hugging Face checkpoints (optional `distilbert.`/`bert.`/`roberta.` prefix, old
//! `LayerNorm.gamma/beta` names), and seeded initialisation of new weights.

use crate::error::{EngineError, Result};
use candle_core::{DType, Device, Tensor, Var};
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::collections::HashMap;
use std::path::Path;

/// How to initialise a weight the checkpoint does not have (heads only).
#[derive(Debug, Clone, Copy)]
pub enum Init {
    /// N(0, std), as transformers' `_init_weights` does for Linear weights.
    Normal(f64),
    /// All zeros (biases).
    Zeros,
    /// All ones (LayerNorm weights).
    Ones,
    /// N(0, std) cut at ±`cutoff`·std (redrawn beyond), as transformers' `trunc_normal_`
    /// initialises ModernBERT: `TruncatedNormal(std, cutoff)`.
    TruncatedNormal(f64, f64),
}

/// What loading may do with classification-head weights (those loaded through
/// [`ParamLoader::load_or_init`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadPolicy {
    /// Every head weight must be in the checkpoint with the expected shape (a
    /// fine-tuned model used for prediction or evaluation): a random head would give
    /// confident wrong answers.
    Require,
    /// Initialise head weights the checkpoint lacks (a base model about to be
    /// fine-tuned); a head of the wrong shape is an error.
    InitIfAbsent,
    /// Initialise head weights the checkpoint lacks or has in another shape (the
    /// person asked for a new head, e.g. to fine-tune a classifier on other classes).
    InitIfMismatched,
}

/// The trainable variables of a model, in creation order, plus the names that were
/// newly initialised rather than loaded.
pub struct ParamLoader {
    model: String,
    head: HeadPolicy,
    checkpoint: HashMap<String, Tensor>,
    device: Device,
    rng: StdRng,
    trainable: bool,
    params: Vec<(String, Tensor)>,
    vars: Vec<(String, Var)>,
    initialised: Vec<String>,
}

/// What a finished loader hands over: every weight (in creation order), the trainable
/// variables (empty for a frozen model) and the names that were newly initialised.
pub struct Loaded {
    pub params: Vec<(String, Tensor)>,
    pub vars: Vec<(String, Var)>,
    pub initialised: Vec<String>,
}

impl ParamLoader {
    /// Wrap checkpoint tensors. `prefix` is the encoder prefix transformers uses for the
    /// architecture (`distilbert`, `bert` or `roberta`); keys without it are given it, except
    /// for `head_names` (the classification head lives at the top level). `trainable`
    /// weights become variables (their forward passes record a graph for backprop);
    /// frozen ones stay plain tensors, shared with the checkpoint where possible.
    /// `head` says what [`Self::load_or_init`] may initialise.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        model: &str,
        raw: HashMap<String, Tensor>,
        prefix: &str,
        head_names: &[&str],
        head: HeadPolicy,
        device: &Device,
        seed: u64,
        trainable: bool,
    ) -> Self {
        let mut checkpoint = HashMap::with_capacity(raw.len());
        for (key, tensor) in raw {
            let key = key
                .replace("LayerNorm.gamma", "LayerNorm.weight")
                .replace("LayerNorm.beta", "LayerNorm.bias");
            let is_head = head_names.iter().any(|h| key.starts_with(&format!("{h}.")));
            let key = if is_head || key.starts_with(&format!("{prefix}.")) {
                key
            } else {
                format!("{prefix}.{key}")
            };
            checkpoint.insert(key, tensor);
        }
        Self {
            model: model.to_string(),
            head,
            checkpoint,
            device: device.clone(),
            rng: StdRng::seed_from_u64(seed),
            trainable,
            params: Vec::new(),
            vars: Vec::new(),
            initialised: Vec::new(),
        }
    }

    /// A weight that must be in the checkpoint with exactly this shape.
    pub fn require(&mut self, name: &str, shape: &[usize]) -> Result<Tensor> {
        match self.take(name, shape)? {
            Some(t) => Ok(t),
            None => Err(EngineError::model(
                &self.model,
                format!(
                    "checkpoint has no tensor '{name}' (expected shape {shape:?}); \
                     is this the right architecture?"
                ),
            )),
        }
    }

    /// A head weight: loaded from the checkpoint, or initialised (and recorded as new)
    /// where the loader's [`HeadPolicy`] allows it. Otherwise a missing or mis-shaped
    /// weight is an error naming it.
    pub fn load_or_init(&mut self, name: &str, shape: &[usize], init: Init) -> Result<Tensor> {
        let found = self.checkpoint.get(name).map(|t| t.dims().to_vec());
        match (found, self.head) {
            (Some(dims), _) if dims == shape => {
                if let Some(t) = self.take(name, shape)? {
                    return Ok(t);
                }
            }
            (None, HeadPolicy::Require) => return Err(self.missing(name, shape)),
            (Some(dims), HeadPolicy::Require) => {
                return Err(EngineError::model(
                    &self.model,
                    format!(
                        "classification-head tensor '{name}' has shape {dims:?}, but config.json \
                         (id2label) needs {shape:?}: the folder's weights and config disagree, \
                         so its predictions could not be trusted. Re-save or re-train the model."
                    ),
                ))
            }
            (Some(dims), HeadPolicy::InitIfAbsent) => {
                return Err(EngineError::model(
                    &self.model,
                    format!(
                        "the base model already has a classification head: tensor '{name}' has \
                         shape {dims:?}, but this data needs {shape:?} ({} classes). Ask for a \
                         new head (\"new head\" setting) to replace it with a freshly \
                         initialised one, or use a base model without a head.",
                        shape.first().copied().unwrap_or_default()
                    ),
                ))
            }
            // Absent, or mis-shaped with a new head asked for: initialise.
            _ => {}
        }
        self.checkpoint.remove(name);
        let count: usize = shape.iter().product();
        let values: Vec<f32> = match init {
            Init::Zeros => vec![0.0; count],
            Init::Ones => vec![1.0; count],
            Init::Normal(std) => (0..count)
                .map(|_| normal(&mut self.rng) * std as f32)
                .collect(),
            Init::TruncatedNormal(std, cutoff) => (0..count)
                .map(|_| loop {
                    let z = normal(&mut self.rng);
                    if f64::from(z.abs()) <= cutoff {
                        break z * std as f32;
                    }
                })
                .collect(),
        };
        let tensor = Tensor::from_vec(values, shape, &self.device)?;
        self.initialised.push(name.to_string());
        self.push(name, tensor)
    }

    fn missing(&self, name: &str, shape: &[usize]) -> EngineError {
        EngineError::model(
            &self.model,
            format!(
                "checkpoint has no classification-head tensor '{name}' (expected shape \
                 {shape:?}): this is not a complete fine-tuned classifier, and predicting \
                 with it would use random weights. Use the folder of a trained model."
            ),
        )
    }

    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Option<Tensor>> {
        let Some(t) = self.checkpoint.remove(name) else {
            return Ok(None);
        };
        if t.dims() != shape {
            return Err(EngineError::model(
                &self.model,
                format!(
                    "tensor '{name}' has shape {:?}, expected {shape:?} from config.json",
                    t.dims()
                ),
            ));
        }
        let t = t.to_dtype(DType::F32)?.to_device(&self.device)?;
        self.push(name, t).map(Some)
    }

    fn push(&mut self, name: &str, tensor: Tensor) -> Result<Tensor> {
        let t = if self.trainable {
            let var = Var::from_tensor(&tensor)?;
            let t = var.as_tensor().clone();
            self.vars.push((name.to_string(), var));
            t
        } else {
            tensor.detach()
        };
        self.params.push((name.to_string(), t.clone()));
        Ok(t)
    }

    /// Finish loading.
    pub fn finish(self) -> Loaded {
        Loaded {
            params: self.params,
            vars: self.vars,
            initialised: self.initialised,
        }
    }
}

/// One standard-normal sample (Box–Muller), from a seeded generator.
pub fn normal(rng: &mut StdRng) -> f32 {
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random::<f64>();
    ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
}

/// Read all tensors of `model.safetensors` or `pytorch_model.bin` in `dir`.
pub fn read_checkpoint(dir: &Path) -> Result<HashMap<String, Tensor>> {
    let model = dir.display().to_string();
    let st = dir.join("model.safetensors");
    if st.is_file() {
        return candle_core::safetensors::load(&st, &Device::Cpu)
            .map_err(|e| EngineError::model(&model, format!("cannot read {}: {e}", st.display())));
    }
    let bin = dir.join("pytorch_model.bin");
    if bin.is_file() {
        let tensors = candle_core::pickle::read_all(&bin).map_err(|e| {
            EngineError::model(&model, format!("cannot read {}: {e}", bin.display()))
        })?;
        return Ok(tensors.into_iter().collect());
    }
    Err(EngineError::model(
        model,
        "no weights: expected model.safetensors or pytorch_model.bin in the folder",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loader(keys: &[&str]) -> ParamLoader {
        let raw = keys
            .iter()
            .map(|k| {
                (
                    k.to_string(),
                    Tensor::zeros(2, DType::F32, &Device::Cpu).unwrap(),
                )
            })
            .collect();
        ParamLoader::new(
            "m",
            raw,
            "bert",
            &["classifier"],
            HeadPolicy::InitIfAbsent,
            &Device::Cpu,
            1,
            true,
        )
    }

    #[test]
    fn accepts_unprefixed_and_gamma_beta_names() {
        let mut l = loader(&["embeddings.LayerNorm.gamma", "bert.pooler.dense.bias"]);
        assert!(l.require("bert.embeddings.LayerNorm.weight", &[2]).is_ok());
        assert!(l.require("bert.pooler.dense.bias", &[2]).is_ok());
    }

    #[test]
    fn missing_encoder_weight_is_an_error_naming_it() {
        let mut l = loader(&[]);
        let err = l
            .require("bert.encoder.layer.0.output.dense.weight", &[2])
            .unwrap_err();
        assert!(err
            .to_string()
            .contains("bert.encoder.layer.0.output.dense.weight"));
    }

    #[test]
    fn head_is_initialised_and_recorded() {
        let mut l = loader(&[]);
        let w = l
            .load_or_init("classifier.weight", &[3, 4], Init::Normal(0.02))
            .unwrap();
        let b = l
            .load_or_init("classifier.bias", &[3], Init::Zeros)
            .unwrap();
        assert_eq!(w.dims(), &[3, 4]);
        assert_eq!(b.to_vec1::<f32>().unwrap(), vec![0.0; 3]);
        let std = w.flatten_all().unwrap().sqr().unwrap().mean_all().unwrap();
        let std = std.to_scalar::<f32>().unwrap().sqrt();
        assert!(std > 0.005 && std < 0.05, "{std}");
        let loaded = l.finish();
        assert_eq!(loaded.vars.len(), 2);
        assert_eq!(loaded.params.len(), 2);
        assert_eq!(
            loaded.initialised,
            vec!["classifier.weight", "classifier.bias"]
        );
    }

    #[test]
    fn frozen_weights_are_plain_tensors_that_record_no_graph() {
        let mut l = ParamLoader::new(
            "m",
            HashMap::from([(
                "bert.w".to_string(),
                Tensor::ones(2, DType::F32, &Device::Cpu).unwrap(),
            )]),
            "bert",
            &[],
            HeadPolicy::Require,
            &Device::Cpu,
            1,
            false,
        );
        let w = l.require("bert.w", &[2]).unwrap();
        assert!(!w.is_variable());
        let grads = w
            .affine(2.0, 0.0)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        assert!(grads.get(&w).is_none());
        let loaded = l.finish();
        assert!(loaded.vars.is_empty());
        assert_eq!(loaded.params.len(), 1);
    }
}

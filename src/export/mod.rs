//! Output formats for a fine-tuned model beyond its Hugging Face folder: ONNX, written
//! by Dialect itself (`proto.rs`, a protobuf encoder for ONNX's messages; `graph.rs`,
//! nodes and initializers; `layers.rs`, the pieces every family shares: linear, norm,
//! attention; `encoder.rs`, the BERT-family network as ONNX nodes; `modernbert.rs`,
//! ModernBERT's; `deberta.rs`, DeBERTa-v2/v3's; `onnx.rs`, the export folder); and a
//! run as a transformers Trainer + accelerate job (`trainer_job.rs`).

mod deberta;
mod encoder;
mod graph;
mod layers;
mod modernbert;
pub mod onnx;
mod proto;
pub mod trainer_job;

//! Output formats for a fine-tuned model beyond its Hugging Face folder: ONNX, written
//! by Dialect itself (`proto.rs`, a protobuf encoder for ONNX's messages; `graph.rs`,
//! nodes and initializers; `encoder.rs`, the network as ONNX nodes; `onnx.rs`, the
//! export folder); and a run as a transformers Trainer + accelerate job (`trainer_job.rs`).

mod encoder;
mod graph;
pub mod onnx;
mod proto;
pub mod trainer_job;

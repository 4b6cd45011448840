//! An ONNX graph being built: nodes with generated value names, weights and constants
//! as initializers, and the finished `ModelProto` bytes.

use super::proto::{self, Attribute, DataType, Dim, Message};

/// The operator set the graph uses (LayerNormalization exists from 17).
pub const OPSET: i64 = 17;
/// The ONNX IR version that goes with [`OPSET`].
pub const IR_VERSION: i64 = 8;

/// Nodes and initializers in the order they are added; each value named once.
#[derive(Default)]
pub struct Graph {
    nodes: Vec<Message>,
    initializers: Vec<Message>,
    inputs: Vec<Message>,
    outputs: Vec<Message>,
    next: usize,
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    fn fresh(&mut self, hint: &str) -> String {
        self.next += 1;
        format!("{hint}_{}", self.next)
    }

    /// A graph input.
    pub fn input(&mut self, name: &str, data_type: DataType, shape: &[Dim]) -> String {
        self.inputs.push(proto::value_info(name, data_type, shape));
        name.to_string()
    }

    /// Name `value` as a graph output `name` (an Identity node gives it that name).
    pub fn output(&mut self, value: &str, name: &str, data_type: DataType, shape: &[Dim]) {
        self.nodes
            .push(proto::node(name, "Identity", &[value], &[name], &[]));
        self.outputs.push(proto::value_info(name, data_type, shape));
    }

    /// A node of `op` on `inputs` with one output, whose generated name it returns.
    pub fn op(&mut self, op: &str, inputs: &[&str], attributes: &[(&str, Attribute)]) -> String {
        self.op_n(op, inputs, attributes, 1).remove(0)
    }

    /// A node of `op` with `outputs` outputs, whose generated names it returns.
    pub fn op_n(
        &mut self,
        op: &str,
        inputs: &[&str],
        attributes: &[(&str, Attribute)],
        outputs: usize,
    ) -> Vec<String> {
        let name = self.fresh(op);
        let names: Vec<String> = (0..outputs).map(|i| format!("{name}:{i}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        self.nodes
            .push(proto::node(&name, op, inputs, &refs, attributes));
        names
    }

    /// An f32 initializer named after `hint`.
    pub fn floats(&mut self, hint: &str, dims: &[usize], values: &[f32]) -> String {
        let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.raw(hint, DataType::Float, dims, &raw)
    }

    /// An int64 initializer (shapes, axes, indices).
    pub fn ints(&mut self, dims: &[usize], values: &[i64]) -> String {
        let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.raw("const", DataType::Int64, dims, &raw)
    }

    /// An int8 initializer (quantized weights).
    pub fn int8s(&mut self, hint: &str, dims: &[usize], values: &[i8]) -> String {
        let raw: Vec<u8> = values.iter().map(|&v| v as u8).collect();
        self.raw(hint, DataType::Int8, dims, &raw)
    }

    /// A scalar f32 constant.
    pub fn scalar(&mut self, value: f32) -> String {
        self.floats("const", &[], &[value])
    }

    fn raw(&mut self, hint: &str, data_type: DataType, dims: &[usize], raw: &[u8]) -> String {
        let name = self.fresh(hint);
        self.initializers
            .push(proto::tensor(&name, data_type, dims, raw));
        name
    }

    /// The `ModelProto` bytes of this graph, with `metadata` as its metadata_props.
    pub fn into_model(self, name: &str, metadata: &[(String, String)]) -> Vec<u8> {
        let mut graph = Message::new();
        for node in self.nodes {
            graph = graph.message(1, node);
        }
        graph = graph.string(2, name);
        for init in self.initializers {
            graph = graph.message(5, init);
        }
        for input in self.inputs {
            graph = graph.message(11, input);
        }
        for output in self.outputs {
            graph = graph.message(12, output);
        }
        let mut model = Message::new()
            .int(1, IR_VERSION)
            .string(2, "dialect")
            .string(3, env!("CARGO_PKG_VERSION"))
            .message(7, graph)
            .message(8, proto::opset(OPSET));
        for (key, value) in metadata {
            model = model.message(14, proto::entry(key, value));
        }
        model.into_bytes()
    }
}

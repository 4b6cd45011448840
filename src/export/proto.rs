//! A protobuf encoder for the ONNX messages an export writes (field numbers from
//! onnx/onnx's `onnx.proto`): no generated code, no protoc. Each message is built into
//! its own byte buffer and nested as a length-delimited field.

/// ONNX `TensorProto.DataType` values the export uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    Float = 1,
    Int8 = 3,
    Int64 = 7,
}

/// One protobuf message being written.
#[derive(Default)]
pub struct Message(Vec<u8>);

impl Message {
    /// An empty message.
    pub fn new() -> Self {
        Self::default()
    }

    /// The encoded bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.0.push((value as u8) | 0x80);
            value >>= 7;
        }
        self.0.push(value as u8);
    }

    fn key(&mut self, field: u32, wire_type: u8) {
        self.varint(u64::from(field) << 3 | u64::from(wire_type));
    }

    /// An integer field (int32, int64, enum), two's complement for negatives.
    pub fn int(mut self, field: u32, value: i64) -> Self {
        self.key(field, 0);
        self.varint(value as u64);
        self
    }

    /// A float field.
    pub fn float(mut self, field: u32, value: f32) -> Self {
        self.key(field, 5);
        self.0.extend_from_slice(&value.to_le_bytes());
        self
    }

    /// A bytes field.
    pub fn bytes(mut self, field: u32, value: &[u8]) -> Self {
        self.key(field, 2);
        self.varint(value.len() as u64);
        self.0.extend_from_slice(value);
        self
    }

    /// A string field.
    pub fn string(self, field: u32, value: &str) -> Self {
        self.bytes(field, value.as_bytes())
    }

    /// A nested message field.
    pub fn message(self, field: u32, value: Message) -> Self {
        self.bytes(field, &value.0)
    }

    /// A repeated integer field, packed.
    pub fn packed_ints(self, field: u32, values: &[i64]) -> Self {
        let mut packed = Message::new();
        for &v in values {
            packed.varint(v as u64);
        }
        self.bytes(field, &packed.0)
    }
}

/// A `TensorProto` named `name` with `dims`, its elements given as little-endian raw
/// bytes.
pub fn tensor(name: &str, data_type: DataType, dims: &[usize], raw: &[u8]) -> Message {
    let dims: Vec<i64> = dims.iter().map(|&d| d as i64).collect();
    Message::new()
        .packed_ints(1, &dims)
        .int(2, data_type as i64)
        .string(8, name)
        .bytes(9, raw)
}

/// One dimension of a value's shape: a fixed size or a named, dynamic one.
pub enum Dim {
    Fixed(usize),
    Named(&'static str),
}

/// A `ValueInfoProto`: a graph input or output with its element type and shape.
pub fn value_info(name: &str, data_type: DataType, shape: &[Dim]) -> Message {
    let mut dims = Message::new();
    for dim in shape {
        let d = match dim {
            Dim::Fixed(n) => Message::new().int(1, *n as i64),
            Dim::Named(param) => Message::new().string(2, param),
        };
        dims = dims.message(1, d);
    }
    let tensor_type = Message::new().int(1, data_type as i64).message(2, dims);
    Message::new()
        .string(1, name)
        .message(2, Message::new().message(1, tensor_type))
}

/// An `AttributeProto` value.
pub enum Attribute {
    Int(i64),
    Float(f32),
    Ints(Vec<i64>),
}

/// An `AttributeProto` named `name`.
pub fn attribute(name: &str, value: &Attribute) -> Message {
    let m = Message::new().string(1, name);
    // AttributeType: FLOAT 1, INT 2, INTS 7.
    match value {
        Attribute::Float(f) => m.float(2, *f).int(20, 1),
        Attribute::Int(i) => m.int(3, *i).int(20, 2),
        Attribute::Ints(values) => m.packed_ints(8, values).int(20, 7),
    }
}

/// A `NodeProto` of the default domain.
pub fn node(
    name: &str,
    op_type: &str,
    inputs: &[&str],
    outputs: &[&str],
    attributes: &[(&str, Attribute)],
) -> Message {
    let mut m = Message::new();
    for input in inputs {
        m = m.string(1, input);
    }
    for output in outputs {
        m = m.string(2, output);
    }
    m = m.string(3, name).string(4, op_type);
    for (attr_name, value) in attributes {
        m = m.message(5, attribute(attr_name, value));
    }
    m
}

/// A `StringStringEntryProto` (a model's metadata entry).
pub fn entry(key: &str, value: &str) -> Message {
    Message::new().string(1, key).string(2, value)
}

/// An `OperatorSetIdProto` of the default domain.
pub fn opset(version: i64) -> Message {
    Message::new().string(1, "").int(2, version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_follow_the_protobuf_encoding() {
        // Field 1, varint 150: the example of the protobuf encoding guide.
        assert_eq!(Message::new().int(1, 150).into_bytes(), [0x08, 0x96, 0x01]);
        // A negative int64 takes ten bytes.
        assert_eq!(Message::new().int(1, -1).into_bytes().len(), 11);
    }

    #[test]
    fn strings_and_nested_messages_are_length_delimited() {
        let inner = Message::new().string(2, "ab");
        assert_eq!(
            Message::new().message(7, inner).into_bytes(),
            [0x3a, 4, 0x12, 2, b'a', b'b']
        );
    }

    #[test]
    fn packed_ints_are_one_length_delimited_field() {
        assert_eq!(
            Message::new().packed_ints(1, &[3, 270]).into_bytes(),
            [0x0a, 3, 3, 0x8e, 0x02]
        );
    }
}

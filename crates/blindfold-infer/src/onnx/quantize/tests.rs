use super::super::testing::{D, value_info};
use super::super::wire::{parse, put_bytes, put_varint_field};
use super::super::{prepare_centerface, sha256_hex};
use super::*;

/// A float initializer `name` with `dims` and `values`.
fn weight(name: &str, dims: &[u64], values: &[f32]) -> Vec<u8> {
    let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    tensor(name, FLOAT, dims, &raw)
}

fn plain_node(op: &str, inputs: &[&str], output: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for input in inputs {
        put_bytes(&mut out, 1, input.as_bytes());
    }
    put_bytes(&mut out, 2, output.as_bytes());
    put_bytes(&mut out, 4, op.as_bytes());
    out
}

/// input.1 -> Conv(w1, b1) -> c1 -> Relu -> r1 -> Conv(w2) -> c2;
/// Add(c2, r1) -> a -> Conv(w3, b3) -> 537 (a graph output).
fn tiny_model(opset: u64, extra: Option<&str>) -> Vec<u8> {
    let mut graph = Vec::new();
    let mut nodes = vec![
        plain_node("Conv", &["input.1", "w1", "b1"], "c1"),
        plain_node("Relu", &["c1"], "r1"),
        plain_node("Conv", &["r1", "w2"], "c2"),
        plain_node("Add", &["c2", "r1"], "a"),
        plain_node("Conv", &["a", "w3", "b3"], "537"),
    ];
    if let Some(op) = extra {
        nodes.push(plain_node(op, &["537"], "538"));
    }
    for node in &nodes {
        put_bytes(&mut graph, 1, node);
    }
    put_bytes(&mut graph, 2, b"tiny");
    put_bytes(
        &mut graph,
        5,
        &weight("w1", &[2, 1, 1, 2], &[1.0, -0.25, 0.5, 2.0]),
    );
    put_bytes(&mut graph, 5, &weight("b1", &[2], &[0.5, -1.0]));
    put_bytes(
        &mut graph,
        5,
        &weight("w2", &[2, 2, 1, 1], &[0.0, 0.0, -3.0, 1.5]),
    );
    put_bytes(&mut graph, 5, &weight("w3", &[1, 2, 1, 1], &[0.75, -0.5]));
    put_bytes(&mut graph, 5, &weight("b3", &[1], &[0.125]));
    let input = [D::P("batch"), D::V(3), D::P("height"), D::P("width")];
    put_bytes(&mut graph, 11, &value_info("input.1", &input));
    put_bytes(&mut graph, 12, &value_info("537", &[D::P("batch")]));
    let mut opset_id = Vec::new();
    put_bytes(&mut opset_id, 1, b"");
    put_varint_field(&mut opset_id, 2, opset);
    let mut model = Vec::new();
    put_varint_field(&mut model, 1, 4);
    put_bytes(&mut model, 2, b"pytorch");
    put_bytes(&mut model, 7, &graph);
    put_bytes(&mut model, 8, &opset_id);
    model
}

fn tiny_ranges() -> Ranges {
    Ranges::parse(
        "# name min max\n\
         input.1 0 255\n\
         c1 -2 6\n\
         r1 0 4\n\
         c2 -1 3\n\
         a -2 5\n",
    )
    .unwrap()
}

fn plan(keep: &[&str]) -> QuantizePlan {
    QuantizePlan {
        quantize_add: true,
        keep_fp32: keep.iter().map(|s| s.to_string()).collect(),
    }
}

struct Parsed {
    ir: u64,
    opset: u64,
    /// (op type, inputs, output) per node.
    nodes: Vec<(String, Vec<String>, String)>,
    /// name -> (data type, dims, raw bytes).
    tensors: BTreeMap<String, (u64, Vec<u64>, Vec<u8>)>,
}

fn read(model: &[u8]) -> Parsed {
    let top = parse(model, "m").unwrap();
    let ir = wire::last_varint(&top, 1, "ir").unwrap().unwrap();
    let opset_id = parse(wire::last_bytes(&top, 8, "o").unwrap().unwrap(), "o").unwrap();
    let opset = wire::last_varint(&opset_id, 2, "v").unwrap().unwrap();
    let graph = parse(single_graph(&top).unwrap(), "g").unwrap();
    let mut nodes = Vec::new();
    let mut tensors = BTreeMap::new();
    for field in &graph {
        match field.number {
            1 => {
                let node = parse_node(field.bytes("n").unwrap()).unwrap();
                let inputs = node.inputs.iter().map(|s| s.to_string()).collect();
                nodes.push((
                    node.op_type.to_string(),
                    inputs,
                    node.outputs[0].to_string(),
                ));
            }
            5 => {
                let fields = parse(field.bytes("t").unwrap(), "t").unwrap();
                let name = wire::last_string(&fields, 8, "n").unwrap().unwrap();
                let data_type = wire::last_varint(&fields, 2, "d").unwrap().unwrap();
                let dims = fields
                    .iter()
                    .filter(|f| f.number == 1)
                    .map(|f| f.varint("d").unwrap())
                    .collect();
                let raw = wire::last_bytes(&fields, 9, "r")
                    .unwrap()
                    .unwrap_or_default()
                    .to_vec();
                tensors.insert(name.to_string(), (data_type, dims, raw));
            }
            _ => {}
        }
    }
    Parsed {
        ir,
        opset,
        nodes,
        tensors,
    }
}

fn floats(raw: &[u8]) -> Vec<f32> {
    raw.chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

#[test]
fn activation_parameters() {
    assert_eq!(activation_params((0.0, 255.0)), (1.0, 0));
    let (scale, zero) = activation_params((-1.0, 3.0));
    assert_eq!(scale, 4.0 / 255.0);
    assert_eq!(zero, 64, "255 / 4 = 63.75 rounds to 64");
    // Ranges always hold zero; an empty range gets scale 1.
    assert_eq!(activation_params((2.0, 4.0)), (4.0 / 255.0, 0));
    assert_eq!(activation_params((-4.0, -2.0)), (4.0 / 255.0, 255));
    assert_eq!(activation_params((0.0, 0.0)), (1.0, 0));
}

#[test]
fn weights_are_symmetric_per_channel() {
    let (values, scales) = quantize_weights(&[1.0, -0.25, 0.5, 2.0, 0.0, 0.0], 3);
    assert_eq!(scales, [1.0 / 127.0, 2.0 / 127.0, 1.0]);
    assert_eq!(values, [127, -32, 32, 127, 0, 0]);
    assert_eq!(quantize_bias(&[0.5, -1.0], &[0.25, 0.5]), [2, -2]);
    assert_eq!(quantize_bias(&[1.0], &[0.0]), [2_147_483_520]);
}

#[test]
fn graph_is_rewritten_in_qdq_form() {
    let out = quantize_qdq(&tiny_model(9, None), &tiny_ranges(), &plan(&["537"])).unwrap();
    let parsed = read(&out);
    assert_eq!((parsed.ir, parsed.opset), (7, 13));
    let ops: Vec<&str> = parsed.nodes.iter().map(|n| n.0.as_str()).collect();
    assert_eq!(
        ops,
        [
            "QuantizeLinear",   // input.1
            "DequantizeLinear", // input.1
            "DequantizeLinear", // w1
            "DequantizeLinear", // b1
            "Conv",             // c1; its Relu is folded away
            "QuantizeLinear",   // c1 with r1's range
            "DequantizeLinear", // -> r1
            "DequantizeLinear", // w2
            "Conv",             // c2
            "QuantizeLinear",
            "DequantizeLinear",
            "Add",
            "QuantizeLinear",
            "DequantizeLinear",
            "Conv", // 537 stays fp32
        ]
    );
    let node = |output: &str| parsed.nodes.iter().find(|n| n.2 == output).unwrap();
    assert_eq!(
        node("c1").1,
        ["input.1_dequantized", "w1_dequantized", "b1_dequantized"]
    );
    assert_eq!(node("r1").0, "DequantizeLinear");
    assert_eq!(node("r1_quantized").1[0], "c1");
    assert_eq!(node("c2").1, ["r1", "w2_dequantized"]);
    assert_eq!(node("a").1, ["c2_dequantized", "r1"]);
    assert_eq!(node("537").1, ["a_dequantized", "w3", "b3"]);

    let t = &parsed.tensors;
    assert_eq!(t["w1_quantized"].0, INT8);
    assert_eq!(t["w1_quantized"].1, [2, 1, 1, 2]);
    assert_eq!(t["w1_quantized"].2, [127, (-32i8) as u8, 32, 127]);
    assert_eq!(floats(&t["w1_scale"].2), [1.0 / 127.0, 2.0 / 127.0]);
    assert_eq!(t["w1_zero_point"].2, [0, 0]);
    // Bias: int32 with the input's scale (1, from 0..255) times the weight's.
    assert_eq!(t["b1_quantized"].0, INT32);
    let bias: Vec<i32> = t["b1_quantized"]
        .2
        .chunks_exact(4)
        .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert_eq!(bias, [64, -64], "0.5 * 127 = 63.5 -> 64; -1 * 63.5 -> -64");
    assert_eq!(t["b1_zero_point"].2, [0; 8]);
    // The folded Relu's tensor: zero point 0, scale from r1's range (0..4).
    assert_eq!(t["r1_zero_point"], (UINT8, vec![], vec![0]));
    assert_eq!(floats(&t["r1_scale"].2), [4.0 / 255.0]);
    assert_eq!(t["c2_zero_point"].2, [64]);
    // Replaced float weights are gone; the fp32 head keeps its own.
    for gone in ["w1", "b1", "w2"] {
        assert!(!t.contains_key(gone), "{gone}");
    }
    assert!(t.contains_key("w3") && t.contains_key("b3"));
}

#[test]
fn derivation_is_deterministic() {
    let model = tiny_model(9, None);
    let once = quantize_qdq(&model, &tiny_ranges(), &plan(&["537"])).unwrap();
    let twice = quantize_qdq(&model, &tiny_ranges(), &plan(&["537"])).unwrap();
    assert_eq!(once, twice);
}

#[test]
fn kept_layers_and_add_switch() {
    let no_add = QuantizePlan {
        quantize_add: false,
        keep_fp32: vec!["c1".into(), "537".into()],
    };
    let out = quantize_qdq(&tiny_model(11, None), &tiny_ranges(), &no_add).unwrap();
    let parsed = read(&out);
    let ops: Vec<&str> = parsed.nodes.iter().map(|n| n.0.as_str()).collect();
    assert_eq!(
        ops,
        [
            "Conv", // c1, fp32
            "Relu", // kept: c1 is not quantized
            "QuantizeLinear",
            "DequantizeLinear", // r1, read by c2
            "DequantizeLinear", // w2
            "Conv",
            "QuantizeLinear",
            "DequantizeLinear", // c2
            "Add",              // fp32, reads the dequantized values
            "Conv",
        ]
    );
    assert!(parsed.tensors.contains_key("w1"));
    assert_eq!(parsed.opset, 13);
}

#[test]
fn refusals_are_typed_errors() {
    let ranges = tiny_ranges();
    let err = quantize_qdq(&tiny_model(9, Some("Upsample")), &ranges, &plan(&[])).unwrap_err();
    assert!(
        matches!(err, ModelError::Unsupported(ref m) if m.contains("Upsample")),
        "{err}"
    );
    let err = quantize_qdq(&tiny_model(7, None), &ranges, &plan(&["537"])).unwrap_err();
    assert!(
        matches!(err, ModelError::Unsupported(ref m) if m.contains("opset 7")),
        "{err}"
    );
    let err = quantize_qdq(&tiny_model(14, None), &ranges, &plan(&["537"])).unwrap_err();
    assert!(matches!(err, ModelError::Unsupported(_)), "{err}");
    let partial = Ranges::parse("input.1 0 255\nr1 0 4\n").unwrap();
    let err = quantize_qdq(&tiny_model(9, None), &partial, &plan(&["537"])).unwrap_err();
    assert!(
        matches!(err, ModelError::MissingRange(ref n) if n == "c2"),
        "{err}"
    );
    for bytes in [&b""[..], &[0x3a, 0x05, 0x01], &[0xff; 11]] {
        assert!(quantize_qdq(bytes, &ranges, &plan(&[])).is_err());
    }
    let model = tiny_model(9, None);
    for len in 0..model.len() {
        let _ = quantize_qdq(&model[..len], &ranges, &plan(&[]));
    }
}

#[test]
fn ranges_text() {
    let ranges = Ranges::parse("# comment\n\na -1.5 2\nb 0 1e3\n").unwrap();
    assert_eq!(ranges.get("a"), Some((-1.5, 2.0)));
    assert_eq!(ranges.get("b"), Some((0.0, 1000.0)));
    assert_eq!(ranges.get("c"), None);
    for bad in [
        "a 1",
        "a 1 2 3",
        "a x 2",
        "a 2 1",
        "a 0 inf",
        "a 0 1\na 0 2",
    ] {
        assert!(
            matches!(Ranges::parse(bad), Err(ModelError::Ranges(_))),
            "{bad}"
        );
    }
    let committed = Ranges::parse(CENTERFACE_INT8_RANGES).unwrap();
    assert!(committed.get("input.1").is_some());
}

/// Runs on the real file when `BLINDFOLD_ORIG_MODEL` names it; writes the
/// int8 graph to `BLINDFOLD_INT8_OUT` when set.
#[test]
fn real_centerface_int8() {
    let Some(path) = std::env::var_os("BLINDFOLD_ORIG_MODEL") else {
        eprintln!("skipped: set BLINDFOLD_ORIG_MODEL to the shipped centerface.onnx");
        return;
    };
    let prepared = prepare_centerface(&std::fs::read(path).unwrap()).unwrap();
    let int8 = quantize_centerface(&prepared).unwrap();
    if let Some(out) = std::env::var_os("BLINDFOLD_INT8_OUT") {
        std::fs::write(out, &int8).unwrap();
    }
    assert_eq!(quantize_centerface(&prepared).unwrap(), int8);
    let parsed = read(&int8);
    assert_eq!(parsed.opset, 13);
    let count = |op: &str| parsed.nodes.iter().filter(|n| n.0 == op).count();
    assert_eq!(count("Conv"), 60);
    // Not folded: after the 3 BatchNormalizations and the 2 fp32 Convs
    // (363, 366), which end in a Relu.
    assert_eq!(count("Relu"), 5);
    // Outputs of the 54 int8 Convs, plus 12 tensors that fp32 nodes write
    // and int8 Convs read (`368` and 11 `Add` outputs).
    assert_eq!(count("QuantizeLinear"), 54 + 12);
    assert_eq!(sha256_hex(&int8), CENTERFACE_INT8_SHA256);
}

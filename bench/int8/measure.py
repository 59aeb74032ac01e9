"""fp32 against int8 CenterFace in ONNX Runtime: speed and heatmap agreement.

Both graphs run on the same 8 dev photos (common.eval_photos, none of them a
calibration photo) at 1024x768, letterboxed as blindfold does, with the same
session options as blindfold's ort backend (all optimisations, N intra-op
threads, no spinning between runs). Runs are interleaved (fp32, int8, int8, fp32, ... per photo and
round) so that machine noise hits both alike, after a warm-up round. Two
speed figures: the ratio of the summed times (mean), and the ratio of the
sums over photos of each photo's fastest round (min: robust to a machine
shared with other work, which this one was).

Heatmap agreement (output 537) per photo: of the cells above 0.15 in either
graph, the share above 0.15 in both; and the largest absolute difference.

Usage: python bench/int8/measure.py FP32.onnx INT8.onnx [INT8b.onnx ...]
       [--rounds 3] [--threads 2] [--ops]  (--ops: node types after ORT's
       optimisation, to see what was fused into QLinear* kernels)
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

THRESHOLD = 0.15


def session(path: str, threads: int, optimized: str | None = None) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    # Idle sessions must not spin: with several sessions interleaved, the
    # threads of the one that just ran would steal the cores of the next.
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if optimized:
        so.optimized_model_filepath = optimized
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def op_counts(path: str, threads: int) -> collections.Counter:
    import onnx

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "opt.onnx")
        session(path, threads, out)
        return collections.Counter(n.op_type for n in onnx.load(out).graph.node)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("fp32")
    ap.add_argument("int8", nargs="+")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--photos", type=int, default=8)
    ap.add_argument("--ops", action="store_true")
    args = ap.parse_args()
    paths = [args.fp32] + args.int8
    if args.ops:
        for p in paths:
            print(os.path.basename(p), dict(sorted(op_counts(p, args.threads).items())))
    sessions = [session(p, args.threads) for p in paths]
    photos = common.eval_photos(count=args.photos)
    inputs = [common.letterbox(os.path.join(common.DATA, "images", rel)) for rel in photos]
    name = sessions[0].get_inputs()[0].name
    heat = [[s.run(["537"], {name: x})[0] for s in sessions] for x in inputs]  # also warm-up
    times = np.zeros((len(paths), len(inputs), args.rounds))
    for r in range(args.rounds):
        for k, x in enumerate(inputs):
            order = list(range(len(paths)))
            if (r + k) % 2:
                order.reverse()
            for i in order:
                t0 = time.perf_counter()
                sessions[i].run(["537"], {name: x})
                times[i, k, r] = time.perf_counter() - t0
    runs = args.rounds * len(inputs)
    best = times.min(axis=2).sum(axis=1) if args.rounds else np.full(len(paths), np.nan)
    times = times.sum(axis=(1, 2))
    print(f"ONNX Runtime {ort.__version__}, {args.threads} threads, {len(inputs)} photos at "
          f"{common.WIDTH}x{common.HEIGHT}, {args.rounds} interleaved rounds")
    print(f"fp32 {os.path.basename(args.fp32)}: mean {1000 * times[0] / runs:.1f} ms, "
          f"min {1000 * best[0] / len(inputs):.1f} ms per run")
    for i, p in enumerate(args.int8, start=1):
        agree, diffs = [], []
        for k in range(len(inputs)):
            a, b = heat[k][0], heat[k][i]
            either = (a > THRESHOLD) | (b > THRESHOLD)
            both = (a > THRESHOLD) & (b > THRESHOLD)
            agree.append(both.sum() / either.sum() if either.any() else 1.0)
            diffs.append(float(np.abs(a - b).max()))
        print(f"int8 {os.path.basename(p)}: mean {1000 * times[i] / runs:.1f} ms, min "
              f"{1000 * best[i] / len(inputs):.1f} ms per run, speed x{times[0] / times[i]:.2f} "
              f"(mean) x{best[0] / best[i]:.2f} (min); cells > {THRESHOLD} agreeing per photo "
              f"min {min(agree):.3f} median {np.median(agree):.3f}; max abs diff per photo "
              f"median {np.median(diffs):.3f} max {max(diffs):.3f}")


if __name__ == "__main__":
    main()

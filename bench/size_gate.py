"""Size-aware threshold ("size gate") on cached candidates: a fused box must
score at least min_score(h), which is the threshold for small boxes and rises
for tall ones (h = box height in original-image pixels, before growth).

Gate kinds (applied after fusion, like crates/blindfold/src/detect/size_gate.rs):
  ("none",)                 min = t
  ("step", H, T)            min = t if h < H else max(t, T)
  ("ramp", lo, hi, T)       min = t up to lo, max(t, T) from hi, linear in log h between

Usage: size_gate.py DATA_ROOT CACHE_DIR OUT_JSON SPEC [SPEC...]
  sweeps thresholds x gates for each pass spec (e.g. s1.25) and writes rows.
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eval_widerface as ev  # noqa: E402
import tune  # noqa: E402

GATES = [("none",)]
GATES += [("step", H, T) for H in (64, 128, 256) for T in (0.3, 0.4, 0.5)]
GATES += [("ramp", lo, hi, T) for lo, hi in ((32, 128), (64, 256), (32, 256)) for T in (0.3, 0.4, 0.5)]
THRESHOLDS = [round(x, 3) for x in np.arange(0.09, 0.225, 0.01)]


def min_score(h: np.ndarray, t: float, gate) -> np.ndarray:
    kind = gate[0]
    if kind == "none":
        return np.full(h.shape, t)
    if kind == "step":
        _, H, T = gate
        return np.where(h >= H, max(t, T), t)
    _, lo, hi, T = gate
    f = np.clip((np.log(np.maximum(h, 1e-6)) - np.log(lo)) / (np.log(hi) - np.log(lo)), 0, 1)
    return t + f * (max(t, T) - t)


def apply_gate(preds: dict, t: float, gate) -> dict:
    out = {}
    for k, p in preds.items():
        h = p[:, 3] - p[:, 1]
        out[k] = p[p[:, 4] >= min_score(h, t, gate)]
    return out


def evaluate(preds, gt, t, gate, grow=0.3, ap=False):
    g = apply_gate(preds, t, gate)
    r = ev.evaluate_privacy(ev.grow_masks(g, grow, "ellipse"), gt)
    if ap:
        r["op_ap_hard"] = ev.evaluate_ap(g, gt)["hard"]
    r["boxes"] = int(sum(len(p) for p in g.values()))
    return r


def main():
    root, cache, out_json, specs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    gt = tune.load(root)
    rows = []
    for spec in specs:
        for t in THRESHOLDS:
            t0 = time.time()
            preds = tune.fused(cache, gt, [(spec, t)], 0.4, "wbf")
            for gate in GATES:
                r = evaluate(preds, gt, t, gate)
                rows.append(dict(spec=spec, t=t, gate=list(gate), **r))
            print(f"{spec} t {t}: {time.time() - t0:.0f} s", flush=True)
            with open(out_json, "w") as f:
                json.dump(rows, f)


if __name__ == "__main__":
    main()

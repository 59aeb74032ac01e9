"""A lower threshold for small boxes? Small false boxes cost little collateral, so
spending the collateral budget on them may find more faces per masked pixel. Reads
the CLI curve run (bench/out/run/bf_curve.jsonl, default settings at threshold
0.05, size gate already applied) and sweeps: boxes shorter than H px need t_small,
others t. Prints leak / leak >= 32 px / collateral."""
import os
import sys

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, ".."))
import eval_widerface as ev  # noqa: E402
import report  # noqa: E402

root = os.environ.get("DATA", os.path.join(here, "../../../shared/data/widerface-dev"))
gt = ev.load_gt(root)
ev.fill_sizes(gt, os.path.join(root, "images"))
_, masks, _ = report.read_blindfold(os.path.join(here, "../out/run/bf_curve.jsonl"), os.path.join(root, "images"))


def keep(ms, t, t_small, small):
    out = []
    for m in ms:
        h = (m[4] - m[2]) / 1.6  # mask height back to box height (grow 0.3 per side)
        if m[5] >= (t_small if h < small else t):
            out.append(m)
    return out


for small in (16, 24):
    for t in (0.15, 0.16, 0.17, 0.18):
        for t_small in (0.08, 0.10, 0.12, t):
            sel = {k: keep(v, t, t_small, small) for k, v in masks.items()}
            r = ev.evaluate_privacy(sel, gt)
            print(f"h<{small} t_small {t_small:.2f} t {t:.2f}: leaked {100 * r['leaked']:.2f}% "
                  f">=32 {100 * r['leaked32']:.2f}% collateral {100 * r['collateral']:.3f}%", flush=True)

"""Would a higher threshold for the shrunk passes' boxes pay? Compares a run at
the defaults with one without the shrunk passes: the boxes only the defaults
keep (no box of the other run with IoU > 0.5) are the shrunk passes' finds;
drop those under T and print the figures.

Usage: python bench/experiments/shrunk_threshold.py DEFAULT.jsonl NO_SHRUNK.jsonl
(`blindfold --json --dry-run` runs over the dev images, e.g. bench/run.sh's
bf_default.jsonl and `flags.py s12w --scales 1,2`'s output). Env DATA as in flags.py.
"""
import os
import sys

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, ".."))
sys.path.insert(0, here)
import eval_widerface as ev  # noqa: E402
import flags  # noqa: E402
import report  # noqa: E402


def iou(a, b) -> float:
    """IoU of two masks' bounding boxes (shape, x0, y0, x1, y1, score)."""
    w = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    h = max(0.0, min(a[4], b[4]) - max(a[2], b[2]))
    inter = w * h
    union = (a[3] - a[1]) * (a[4] - a[2]) + (b[3] - b[1]) * (b[4] - b[2]) - inter
    return inter / union if union > 0 else 0.0


def only_in(run: dict, other: dict) -> dict:
    """Per image, the masks of ``run`` that no mask of ``other`` matches."""
    return {k: [m for m in ms if not any(iou(m, o) > 0.5 for o in other.get(k, []))]
            for k, ms in run.items()}


def main():
    root = os.environ.get("DATA", os.path.join(here, "../../../shared/data/widerface-dev"))
    images = os.path.join(root, "images")
    gt = ev.load_gt(root)
    ev.fill_sizes(gt, images)
    _, now, _ = report.read_blindfold(sys.argv[1], images)
    _, base, _ = report.read_blindfold(sys.argv[2], images)
    extra = only_in(now, base)
    ms = [m for v in extra.values() for m in v]
    scores = [m[5] for m in ms]
    heights = [(m[4] - m[2]) / 1.6 for m in ms]  # masks grow 0.3 on each side
    print(f"{len(ms)} boxes only with the shrunk passes; score quantiles 10/25/50/75/90%: "
          f"{np.quantile(scores, [.1, .25, .5, .75, .9]).round(2)}, median height {np.median(heights):.0f} px")
    for t in (0.15, 0.2, 0.25, 0.3, 0.4, 0.5):
        kept = {k: [m for m in v if not (m in extra[k] and m[5] < t)] for k, v in now.items()}
        print(f"shrunk boxes >= {t}: {flags.summary(ev.evaluate_privacy(kept, gt))}")


if __name__ == "__main__":
    main()

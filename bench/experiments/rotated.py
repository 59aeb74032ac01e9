"""What rotated passes would buy (issue 10: heads tilted back, lying people).

Rotates every dev image by 90 degrees each way (lossless PNG copies under
bench/out/rot/), runs the CLI on them (``--json --dry-run`` with FLAGS), maps the
boxes back, and scores the union with a plain run (flags.py's NAME) when the
rotated boxes must score at least R (several R). Prints flags.py's line per R.

Usage: python bench/experiments/rotated.py NAME [FLAGS...]
(NAME's plain run must exist: run flags.py NAME FLAGS first.)
"""
import os
import subprocess
import sys

import numpy as np
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
bench = os.path.join(here, "..")
sys.path.insert(0, bench)
sys.path.insert(0, here)
import eval_widerface as ev  # noqa: E402
import flags  # noqa: E402
import report  # noqa: E402

TURNS = {"ccw": Image.Transpose.ROTATE_90, "cw": Image.Transpose.ROTATE_270}


def back(turn, b, w, h):
    """Box (x0, y0, x1, y1) of the rotated image in the original's pixels."""
    u0, v0, u1, v1 = b
    if turn == "ccw":  # (x, y) -> (y, W - x)
        return w - v1, u0, w - v0, u1
    return v0, h - u1, v1, h - u0  # cw: (x, y) -> (H - y, x)


def main():
    name, fl = sys.argv[1], sys.argv[2:]
    root = os.environ.get("DATA", os.path.join(bench, "../../shared/data/widerface-dev"))
    images = os.path.join(root, "images")
    out = os.path.join(bench, "out")
    gt = ev.load_gt(root)
    ev.fill_sizes(gt, images)
    _, masks, _ = report.read_blindfold(os.path.join(out, "flags", f"{name}.jsonl"), images)
    extra = {}
    for turn, t in TURNS.items():
        d = os.path.join(out, "rot", turn)
        for g in gt:
            p = os.path.join(d, g.relpath[:-4] + ".png")
            if not os.path.exists(p):
                os.makedirs(os.path.dirname(p), exist_ok=True)
                im = Image.open(os.path.join(images, g.relpath)).convert("RGB").transpose(t)
                im.save(p + ".tmp", format="PNG")
                os.replace(p + ".tmp", p)
        res = os.path.join(out, "flags", f"{name}.rot-{turn}.jsonl")
        if not os.path.exists(res):
            with open(res + ".tmp", "w") as f:
                subprocess.run(flags.blindfold_cmd() + fl + ["--json", "--dry-run", d],
                               stdout=f, check=True)
            os.replace(res + ".tmp", res)
        preds, _, failed = report.read_blindfold(res, d)
        assert not failed, failed[:3]
        for g in gt:
            rows = preds.get(g.relpath[:-4] + ".png", np.zeros((0, 5)))
            for x0, y0, x1, y1, s in rows:
                bx = back(turn, (x0, y0, x1, y1), *g.size)
                extra.setdefault(g.relpath, []).append(bx + (s,))
    for r_min in (0.15, 0.3, 0.5, 0.7, 2.0):
        ms = {}
        for k, v in masks.items():
            add = [b for b in extra.get(k, []) if b[4] >= r_min]
            ms[k] = v + ev.grow_masks({k: np.array(add).reshape(-1, 5)}, 0.3)[k]
        r = ev.evaluate_privacy(ms, gt)
        print(f"{name} + rotated >= {r_min}: {flags.summary(r)}", flush=True)


if __name__ == "__main__":
    main()

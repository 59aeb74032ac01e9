"""What rotated passes would buy (issue 10: heads tilted back, lying people).

Rotates every dev image by ANGLE degrees each way (env ANGLE, default 90;
lossless PNG copies under bench/out/rot/), runs the CLI on them (``--json
--dry-run`` with FLAGS), maps the boxes back, and scores the union with a plain
run (flags.py's NAME) when the rotated boxes must score at least R (several R).
Prints flags.py's line per R. At 90 degrees the turn is exact; at other angles
the image is rotated about its centre onto a larger grey canvas (bilinear) and
a box is mapped back by its centre, keeping its width and height (an upright
mask over the tilted face, as a real pass would draw it).

With CUE=RUN (a flags.py run at a low threshold, e.g. ``--threshold 0.05``), a
rotated box is kept only where the plain pass saw something too: it must overlap
one of RUN's boxes (IoU >= 0.3). This stands for a rotated pass run only around
the plain pass's weak candidates (a cheap cue of where a head could be).

Usage: [ANGLE=30] [CUE=t005] python bench/experiments/rotated.py NAME [FLAGS...]
(NAME's plain run must exist: run flags.py NAME FLAGS first.)
"""
import math
import os
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

ANGLE = float(os.environ.get("ANGLE", "90"))
TURNS = {"ccw": ANGLE, "cw": -ANGLE}


def turned(im, angle):
    """The image turned counter-clockwise by ``angle`` degrees."""
    if angle == 90:
        return im.transpose(Image.Transpose.ROTATE_90)
    if angle == -90:
        return im.transpose(Image.Transpose.ROTATE_270)
    return im.rotate(angle, resample=Image.BILINEAR, expand=True, fillcolor=(128, 128, 128))


def back(angle, b, w, h):
    """Box (x0, y0, x1, y1) of the image turned by ``angle`` in the original's
    pixels (``w`` x ``h``): its centre turned back, its size kept (at 90
    degrees width and height swap)."""
    u0, v0, u1, v1 = b
    if angle == 90:  # (x, y) -> (y, W - x)
        return w - v1, u0, w - v0, u1
    if angle == -90:  # (x, y) -> (H - y, x)
        return v0, h - u1, v1, h - u0
    t = math.radians(angle)
    c, s = math.cos(t), math.sin(t)
    rw, rh = abs(w * c) + abs(h * s), abs(w * s) + abs(h * c)
    du, dv = (u0 + u1) / 2 - rw / 2, (v0 + v1) / 2 - rh / 2
    x, y = w / 2 + du * c - dv * s, h / 2 + du * s + dv * c
    bw, bh = u1 - u0, v1 - v0
    return x - bw / 2, y - bh / 2, x + bw / 2, y + bh / 2


def main():
    name, fl = sys.argv[1], sys.argv[2:]
    root = os.environ.get("DATA", os.path.join(bench, "../../shared/data/widerface-dev"))
    images = os.path.join(root, "images")
    out = os.path.join(bench, "out")
    gt = ev.load_gt(root)
    ev.fill_sizes(gt, images)
    _, masks, _ = report.read_blindfold(os.path.join(out, "flags", f"{name}.jsonl"), images)
    cue = None
    if os.environ.get("CUE"):
        cue, _, _ = report.read_blindfold(os.path.join(out, "flags", f"{os.environ['CUE']}.jsonl"), images)
    extra = {}
    for turn, t in TURNS.items():
        d = os.path.join(out, "rot", f"{turn}{ANGLE:g}")
        for g in gt:
            p = os.path.join(d, g.relpath[:-4] + ".png")
            if not os.path.exists(p):
                os.makedirs(os.path.dirname(p), exist_ok=True)
                im = turned(Image.open(os.path.join(images, g.relpath)).convert("RGB"), t)
                im.save(p + ".tmp", format="PNG")
                os.replace(p + ".tmp", p)
        suffix = "" if ANGLE == 90 else f"{ANGLE:g}"
        res = os.path.join(out, "flags", f"{name}.rot-{turn}{suffix}.jsonl")
        flags.run(flags.blindfold_cmd() + fl + ["--json", "--dry-run", d], res)
        preds, _, failed = report.read_blindfold(res, d)
        assert not failed, failed[:3]
        for g in gt:
            rows = preds.get(g.relpath[:-4] + ".png", np.zeros((0, 5)))
            for x0, y0, x1, y1, s in rows:
                bx = back(t, (x0, y0, x1, y1), *g.size)
                extra.setdefault(g.relpath, []).append(bx + (s,))
    for r_min in (0.15, 0.3, 0.5, 0.7, 2.0):
        ms = {}
        for k, v in masks.items():
            add = [b for b in extra.get(k, []) if b[4] >= r_min]
            if cue is not None and add:
                c = cue.get(k, np.zeros((0, 5)))
                ov = ev.bbox_overlaps(np.array(add, float)[:, :4], c[:, :4].astype(float))
                add = [b for b, o in zip(add, ov) if len(o) and o.max() >= 0.3]
            ms[k] = v + ev.grow_masks({k: np.array(add).reshape(-1, 5)}, 0.3)[k]
        r = ev.evaluate_privacy(ms, gt)
        gate = f" where {os.environ['CUE']} saw a box" if cue is not None else ""
        print(f"{name} + rotated {ANGLE:g} >= {r_min}{gate}: {flags.summary(r)}", flush=True)


if __name__ == "__main__":
    main()

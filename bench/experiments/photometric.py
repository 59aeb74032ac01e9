"""Does a brightened or contrast-stretched copy of a photo show the network
faces it misses? Writes transformed copies of the dev images, runs the CLI on
them (through flags.run, cached), and scores the current defaults' masks
united with the copy's masks: for every image, and only for images darker
than a mean luma.

Usage: python bench/experiments/photometric.py BASE.jsonl TRANSFORM [FLAGS...]
TRANSFORM: gamma0.5 | equalize | autocontrast. BASE: a flags.py run at the
defaults (e.g. bench/out/flags/cur.jsonl).
"""
import os
import sys

import numpy as np
from PIL import Image, ImageOps

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, ".."))
sys.path.insert(0, here)
import eval_widerface as ev  # noqa: E402
import flags  # noqa: E402
import report  # noqa: E402


def transform(im: Image.Image, how: str) -> Image.Image:
    if how.startswith("gamma"):
        g = float(how[5:])
        lut = [round(255 * (i / 255) ** g) for i in range(256)]
        return im.point(lut * 3)
    if how == "equalize":
        return ImageOps.equalize(im)
    if how == "autocontrast":
        return ImageOps.autocontrast(im, cutoff=1)
    raise SystemExit(f"unknown transform {how}")


def main():
    base, how, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
    root = os.environ.get("DATA", os.path.join(here, "../../../shared/data/widerface-dev"))
    images = os.path.join(root, "images")
    work = os.path.join(here, "../out/photometric", how)
    gt = ev.load_gt(root)
    ev.fill_sizes(gt, images)
    luma = {}
    for g in gt:
        src = os.path.join(images, g.relpath)
        dst = os.path.join(work, "images", g.relpath)
        im = Image.open(src).convert("RGB")
        luma[g.relpath] = float(np.asarray(im.convert("L"), dtype=np.float32).mean())
        if not os.path.exists(dst):
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            transform(im, how).save(dst, quality=95)
    out = os.path.join(work, "run.jsonl")
    wall = flags.run(flags.blindfold_cmd() + extra + ["--json", "--dry-run",
                                                       os.path.join(work, "images")], out)
    print(f"{how}: run {'cached' if wall is None else f'{wall:.0f} s'}")
    _, m0, f0 = report.read_blindfold(base, images)
    _, m1, f1 = report.read_blindfold(out, os.path.join(work, "images"))
    assert not f0 and not f1
    print("base:", flags.summary(ev.evaluate_privacy(m0, gt)))
    print("copy alone:", flags.summary(ev.evaluate_privacy(m1, gt)))
    for cut in (1e9, 110, 90, 70):
        dark = {k for k, v in luma.items() if v < cut}
        u = {k: m0.get(k, []) + (m1.get(k, []) if k in dark else []) for k in m0}
        print(f"union, images with mean luma < {cut:g} ({len(dark)}):",
              flags.summary(ev.evaluate_privacy(u, gt)))


if __name__ == "__main__":
    main()

"""How far can a lower threshold go? For each countable ('hard') face, the
highest score threshold at which the masks still cover >= 50% of it, so the
faces a tool leaks can be split into "found, but below the threshold" and
"no candidate at all" (the floor no threshold or rescoring can lift).

Usage:
  floor.py DATA_ROOT WORK_DIR [CACHE_DIR SPEC...]

WORK_DIR is bench/run.sh's output folder: its bf_curve.jsonl (the default
settings at --threshold 0.05) is analysed. With CACHE_DIR and pass specs
(proto.py's cache, e.g. `out/cache s0.5 s1.0 s1.0f s2.0 v640`), the raw
candidates (score >= 0.05) of all those passes together are analysed as well:
the floor of the model itself at that compute, with the collateral it costs.
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eval_widerface as ev  # noqa: E402

BINS = [0.05, 0.10, 0.15, 0.20]


def cover_threshold(masks, box, width: int, height: int, need: float = 0.5) -> float:
    """The highest t such that the masks scoring >= t cover at least `need` of
    the face box (x, y, w, h); 0.0 when all the masks together do not.
    Masks are (shape, x0, y0, x1, y1, score)."""
    x, y, w, h = box
    rs, cs = ev.box_pixels(x, y, w, h, width, height)
    ox, oy = cs.start, rs.start
    bw, bh = cs.stop - cs.start, rs.stop - rs.start
    near = [m for m in masks if m[1] < cs.stop and m[3] > ox and m[2] < rs.stop and m[4] > oy]
    near.sort(key=lambda m: -m[5])
    covered = np.zeros((bh, bw), dtype=bool)
    for m in near:
        local = (m[0], m[1] - ox, m[2] - oy, m[3] - ox, m[4] - oy)
        covered |= ev.rasterise([local], bw, bh)
        if covered.mean() >= need:
            return float(m[5])
    return 0.0


def split(gt, masks: dict) -> dict:
    """Counts of hard faces by the threshold at which they stop being covered:
    {"all": [n per bin], "32": [...]}, bins: < BINS[0] (no candidate),
    BINS[i]..BINS[i+1], >= BINS[-1]."""
    out = {"all": [0] * (len(BINS) + 1), "32": [0] * (len(BINS) + 1)}
    for g in gt:
        W, H = g.size
        ms = masks.get(g.relpath, [])
        for k in g.keep["hard"]:
            box = g.boxes[k - 1]
            i = int(np.searchsorted(BINS, cover_threshold(ms, box, W, H), side="right"))
            out["all"][i] += 1
            if box[3] >= 32:
                out["32"][i] += 1
    return out


def print_split(name: str, counts: dict) -> None:
    heads = [f"< {BINS[0]}"] + [f"{a}-{b}" for a, b in zip(BINS, BINS[1:])] + [f">= {BINS[-1]}"]
    print(f"\n{name}: hard faces by the highest threshold that still covers them\n")
    print("| faces | " + " | ".join(heads) + " |")
    print("|---|" + "---|" * len(heads))
    for key, label in (("all", "all"), ("32", ">= 32 px")):
        n = sum(counts[key])
        cells = [f"{c} ({100 * c / n:.1f}%)" for c in counts[key]]
        print(f"| {label} ({n}) | " + " | ".join(cells) + " |")


def union_masks(cache_dir: str, specs: list[str], gt, grow: float = 0.3) -> dict:
    import proto

    passes = [proto.load_pass(cache_dir, s)[0] for s in specs]
    preds = {}
    for g in gt:
        d = np.concatenate([p[g.relpath] for p in passes])
        preds[g.relpath] = d[d[:, 4] >= 0.05]
    return ev.grow_masks(preds, grow, "ellipse")


def main() -> None:
    import report

    root, work = sys.argv[1], sys.argv[2]
    gt = ev.load_gt(root)
    ev.fill_sizes(gt, os.path.join(root, "images"))
    _, masks, _ = report.read_blindfold(os.path.join(work, "bf_curve.jsonl"), os.path.join(root, "images"))
    print_split("blindfold default settings (fused boxes)", split(gt, masks))
    if len(sys.argv) > 4:
        cache, specs = sys.argv[3], sys.argv[4:]
        um = union_masks(cache, specs, gt)
        print_split(f"raw candidates of {' + '.join(specs)}", split(gt, um))
        r = ev.evaluate_privacy(um, gt)
        print(f"\nall those candidates masked: leaked {100 * r['leaked']:.2f}%, "
              f">= 32 px {100 * r['leaked32']:.2f}%, collateral {100 * r['collateral']:.2f}%")


if __name__ == "__main__":
    main()

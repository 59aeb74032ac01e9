"""How far can a lower threshold go? For each countable ('hard') face, the
highest score threshold at which the masks still cover >= 50% of it, so the
faces a tool leaks can be split into "found, but below the threshold" and
"no candidate at all" (the floor no threshold or rescoring can lift).

Usage:
  floor.py DATA_ROOT WORK_DIR [RUN.jsonl...]     (env THRESHOLD: default 0.15)

WORK_DIR is bench/run.sh's output folder: its bf_curve.jsonl (the default
settings at --threshold 0.05) is analysed. With more runs of the real CLI
(`blindfold --json --dry-run --threshold 0.05 ...`, one per set of passes,
e.g. `--scales 0.5 --overview 0` and `--scales 2 --upscaled-gate 0`), the
boxes of all those runs together (score >= 0.05) are analysed as well: the
floor of the model at that compute, with the collateral it costs.
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


def union_masks(runs: list[dict], gt) -> dict:
    """The masks of several runs (``{relpath: masks}`` each) together, scoring
    at least 0.05."""
    return {
        g.relpath: [m for r in runs for m in r.get(g.relpath, []) if m[5] >= 0.05]
        for g in gt
    }


def leaked_faces(gt, masks: dict, lo: float, hi: float, t: float) -> list:
    """(relpath, box, cover threshold) of each hard face ``lo <= h < hi`` px
    tall that the masks scoring >= ``t`` leave less than half covered."""
    rows = []
    for g in gt:
        W, H = g.size
        ms = masks.get(g.relpath, [])
        for k in g.keep["hard"]:
            box = g.boxes[k - 1]
            if lo <= box[3] < hi:
                c = cover_threshold(ms, box, W, H)
                if c < t:
                    rows.append((g.relpath, box, c))
    return rows


def print_by_height(name: str, gt, masks: dict, t: float) -> None:
    """Leaked hard faces by height band at threshold ``t``, with the highest
    score any mask over them reaches (0: no candidate at all)."""
    print(f"\n{name}: leaked faces at {t} by height (height px, cover threshold)\n")
    for b, band in enumerate(ev.BAND_NAMES):
        rows = leaked_faces(gt, masks, *ev.BANDS[b], t)
        print(f"{band} px: {len(rows)}")
        if b >= 2:
            for rel, box, c in rows:
                xywh = tuple(int(v) for v in box)
                print(f"  {rel} h {xywh[3]} cover {c:.2f} box {xywh}")


def main() -> None:
    import report

    root, work = sys.argv[1], sys.argv[2]
    gt = ev.load_gt(root)
    ev.fill_sizes(gt, os.path.join(root, "images"))
    _, masks, _ = report.read_blindfold(os.path.join(work, "bf_curve.jsonl"), os.path.join(root, "images"))
    print_split("blindfold default settings (fused boxes)", split(gt, masks))
    t = float(os.environ.get("THRESHOLD", "0.15"))
    print_by_height("blindfold default settings", gt, masks, t)
    if len(sys.argv) > 3:
        files = sys.argv[3:]
        images = os.path.join(root, "images")
        um = union_masks([report.read_blindfold(f, images)[1] for f in files], gt)
        print_split(f"boxes of {' + '.join(files)}", split(gt, um))
        r = ev.evaluate_privacy(um, gt)
        print(f"\nall those candidates masked: leaked {100 * r['leaked']:.2f}%, "
              f">= 32 px {100 * r['leaked32']:.2f}%, collateral {100 * r['collateral']:.2f}%")


if __name__ == "__main__":
    main()

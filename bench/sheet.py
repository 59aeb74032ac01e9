"""Look at the failures: a contact sheet of the faces a run leaks, one height
band at a time, each face cropped with its surroundings (three times its
size), its ground-truth box in red and, in yellow, its number, height and
the highest score at which the run's masks still cover half of it (0.00: no
mask scoring >= 0.05 covers it; see floor.py). Also prints one line per face.

With env FALSE=1 the sheet shows the run's false masks instead (masks whose
centre lies outside every labelled face's allowed area, see
``eval_widerface.is_false_mask``) with boxes MIN_PX-MAX_PX tall: the box in red,
labelled with its height and score. That is what the collateral figure is made of.

Usage:
  sheet.py DATA_ROOT RUN.jsonl MIN_PX MAX_PX OUT.png     (env THRESHOLD: 0.15)

RUN.jsonl is a `blindfold --json --dry-run` run over DATA_ROOT/images, best
at `--threshold 0.05` (e.g. bench/run.sh's bf_curve.jsonl) so the scores of
faces found below the threshold show. Needs Pillow.
"""

from __future__ import annotations

import os
import sys

from PIL import Image, ImageDraw

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eval_widerface as ev  # noqa: E402
import floor  # noqa: E402
import report  # noqa: E402

CELL = 160
COLUMNS = 8


def cell(path: str, box, label: str) -> Image.Image:
    """One face with its surroundings, scaled to CELL x CELL."""
    x, y, w, h = box
    side = 3 * max(w, h)
    cx, cy = x + w / 2, y + h / 2
    with Image.open(path) as im:
        crop = im.convert("RGB").crop(
            (int(cx - side / 2), int(cy - side / 2), int(cx + side / 2), int(cy + side / 2))
        )
    crop = crop.resize((CELL, CELL))
    s = CELL / side
    d = ImageDraw.Draw(crop)
    half_w, half_h = w * s / 2, h * s / 2
    d.rectangle([CELL / 2 - half_w, CELL / 2 - half_h, CELL / 2 + half_w, CELL / 2 + half_h],
                outline=(255, 0, 0))
    d.text((2, 2), label, fill=(255, 255, 0))
    return crop


def false_masks(gt, preds, masks, lo: float, hi: float, t: float):
    """(relpath, box x, y, w, h, score) of each false mask of a box lo <= h < hi
    scoring >= t."""
    rows = []
    for g in gt:
        for (x0, y0, x1, y1, s), m in zip(preds.get(g.relpath, []), masks.get(g.relpath, [])):
            if s >= t and lo <= y1 - y0 < hi and ev.is_false_mask(m, g.boxes):
                rows.append((g.relpath, (x0, y0, x1 - x0, y1 - y0), s))
    return rows


def main() -> None:
    root, run, lo, hi, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
    t = float(os.environ.get("THRESHOLD", "0.15"))
    images = os.path.join(root, "images")
    gt = ev.load_gt(root)
    ev.fill_sizes(gt, images)
    preds, masks, _ = report.read_blindfold(run, images)
    false = os.environ.get("FALSE") == "1"
    if false:
        rows = false_masks(gt, preds, masks, lo, hi, t)
        print(f"{len(rows)} false masks {lo:g}-{hi:g} px at {t}")
    else:
        rows = floor.leaked_faces(gt, masks, lo, hi, t)
        print(f"{len(rows)} hard faces {lo:g}-{hi:g} px leaked at {t}")
    rows_n = max(1, (len(rows) + COLUMNS - 1) // COLUMNS)
    sheet = Image.new("RGB", (COLUMNS * CELL, rows_n * CELL), "white")
    for i, (rel, box, c) in enumerate(rows):
        print(f"{i} {rel} box {[int(v) for v in box]} {'score' if false else 'cover'} {c:.2f}")
        img = cell(os.path.join(images, rel), box, f"{i} h{int(box[3])} {c:.2f}")
        sheet.paste(img, ((i % COLUMNS) * CELL, (i // COLUMNS) * CELL))
    sheet.save(out)


if __name__ == "__main__":
    main()

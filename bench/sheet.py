"""Look at the failures: a contact sheet of the faces a run leaks, one height
band at a time, each face cropped with its surroundings (three times its
size), its ground-truth box in red and, in yellow, its number, height and
the highest score at which the run's masks still cover half of it (0.00: no
mask scoring >= 0.05 covers it; see floor.py). Also prints one line per face.

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


def main() -> None:
    root, run, lo, hi, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
    t = float(os.environ.get("THRESHOLD", "0.15"))
    images = os.path.join(root, "images")
    gt = ev.load_gt(root)
    ev.fill_sizes(gt, images)
    _, masks, _ = report.read_blindfold(run, images)
    rows = floor.leaked_faces(gt, masks, lo, hi, t)
    print(f"{len(rows)} hard faces {lo:g}-{hi:g} px leaked at {t}")
    rows_n = max(1, (len(rows) + COLUMNS - 1) // COLUMNS)
    sheet = Image.new("RGB", (COLUMNS * CELL, rows_n * CELL), "white")
    for i, (rel, box, c) in enumerate(rows):
        print(f"{i} {rel} box {[int(v) for v in box]} cover {c:.2f}")
        img = cell(os.path.join(images, rel), box, f"{i} h{int(box[3])} {c:.2f}")
        sheet.paste(img, ((i % COLUMNS) * CELL, (i // COLUMNS) * CELL))
    sheet.save(out)


if __name__ == "__main__":
    main()

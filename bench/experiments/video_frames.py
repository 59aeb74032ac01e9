"""Large faces at video resolution: the dev photos enlarged to 1920 px wide
(as a 1080p frame; photos taller than 1024 px are left out, so at 1920 px no
photo is tiled or gets an overview pass), run through the CLI with FLAGS, the
masks mapped back to the photos' pixels and scored there. Face bands are in
the original photos' pixels (x1.875 in the frames). With WIDTH=4000 the same
for large photos (tiles and overview passes then run).

Usage: python bench/experiments/video_frames.py NAME [BLINDFOLD FLAGS...]
Env: DATA as in flags.py; WIDTH (default 1920); STEP (every STEP-th photo,
default 1). Writes bench/out/video_frames/{images,NAME.jsonl} (other widths:
bench/out/enlarged_WIDTH/).
"""
import os
import sys

from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, ".."))
sys.path.insert(0, here)
import eval_widerface as ev  # noqa: E402
import flags  # noqa: E402
import report  # noqa: E402

WIDTH = int(os.environ.get("WIDTH", "1920"))
STEP = int(os.environ.get("STEP", "1"))


def enlarge(gt, images: str, out: str) -> list:
    """Enlarged copies of the photos at most 1024 px tall; their ground truth."""
    kept = []
    for g in gt[::STEP]:
        w, h = g.size
        if h > 1024 or w != 1024:
            continue
        kept.append(g)
        dst = os.path.join(out, g.relpath)
        if os.path.exists(dst):
            continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with Image.open(os.path.join(images, g.relpath)) as im:
            f = WIDTH / w
            im.convert("RGB").resize((WIDTH, round(h * f)), Image.LANCZOS).save(dst, quality=95)
    return kept


def main():
    name, extra = sys.argv[1], sys.argv[2:]
    root = os.environ.get("DATA", os.path.join(here, "../../../shared/data/widerface-dev"))
    images = os.path.join(root, "images")
    work = os.path.join(here, "../out", "video_frames" if WIDTH == 1920 else f"enlarged_{WIDTH}")
    big = os.path.join(work, "images")
    gt = ev.load_gt(root)
    ev.fill_sizes(gt, images)
    kept = enlarge(gt, images, big)
    out = os.path.join(work, f"{name}.jsonl")
    flags.run(flags.blindfold_cmd() + extra + ["--json", "--dry-run", big], out)
    _, masks, failed = report.read_blindfold(out, big)
    assert not failed, failed[:3]
    f = 1024 / WIDTH
    back = {k: [(m[0], m[1] * f, m[2] * f, m[3] * f, m[4] * f, m[5]) for m in v]
            for k, v in masks.items()}
    print(f"{name} ({len(kept)} photos at {WIDTH} px wide): "
          f"{flags.summary(ev.evaluate_privacy(back, kept))}")


if __name__ == "__main__":
    main()

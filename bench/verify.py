"""How well `blindfold verify` tells faces from masks, on WIDER FACE dev photos.

1. Faces that look like fills: every N-th dev photo made dark (x0.10, x0.04,
   x0.02), grainy (grey grain sigma 40, colour grain sigma 60, a half-contrast
   grey picture under uniform noise of +-100), blurred (sigma 2 and 3.3) and
   blown out (x2.5), half as PNG and half as JPEG q92. Counted: labelled faces
   >= 24 px that verify sees (a candidate with IoU >= 0.3), and of those, how
   many it excuses as `masked` (must be 0).
2. blindfold's own outputs (default settings, noise; and --mode solid) of the
   same photos: candidates over a mask (middle >= 90% inside a drawn mask)
   that verify does not recognise as masked (false findings on masks), and
   findings away from the masks.
3. A leaky anonymiser (blindfold --threshold 0.6 --scales 1): labelled faces
   >= 20 px left less than half covered, and how many verify finds, with
   --confirm 0.5 (default) and --confirm 0.

Usage: python bench/verify.py [EVERY]   (default 21: 24 photos)
Env: DATA (default ../shared/data/widerface-dev), BLINDFOLD (default
target/release/blindfold), VERIFY_ARGS (extra arguments for verify only, e.g.
"--precision fp32"; the anonymiser keeps its defaults). Writes bench/out/verify/. Needs numpy, pillow,
scipy (bench/.venv from bench/run.sh has them).
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
from PIL import Image, ImageFilter

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.join(here, "..")
sys.path.insert(0, here)
import eval_widerface as ev  # noqa: E402

DATA = os.environ.get("DATA", os.path.join(repo, "../shared/data/widerface-dev"))
BIN = os.environ.get("BLINDFOLD", os.path.join(repo, "target/release/blindfold"))
OUT = os.path.join(here, "out/verify")
VERIFY = [BIN, "verify", *os.environ.get("VERIFY_ARGS", "").split()]


def transforms(rng):
    return {
        "dark0.10": lambda a, im: a * 0.10,
        "dark0.04": lambda a, im: a * 0.04,
        "dark0.02": lambda a, im: a * 0.02,
        "grain40": lambda a, im: a + rng.normal(0, 40, a.shape[:2])[..., None],
        "colourgrain60": lambda a, im: a + rng.normal(0, 60, a.shape),
        "greyunder100": lambda a, im: a.mean(2, keepdims=True) * 0.5 + 64 + rng.uniform(-100, 100, a.shape),
        "blur2": lambda a, im: np.asarray(im.filter(ImageFilter.GaussianBlur(2))).astype(float),
        "blur3.3": lambda a, im: np.asarray(im.filter(ImageFilter.GaussianBlur(3.3))).astype(float),
        "bright2.5": lambda a, im: a * 2.5,
    }


def lines(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    return [json.loads(x) for x in out.splitlines() if x.strip()]


def box(c):
    b = c["bbox"]
    return (b["x0"], b["y0"], b["x1"], b["y1"])


def iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    i = w * h
    u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - i
    return i / u if u > 0 else 0.0


def faces_of(g, min_h):
    return [(x, y, x + w, y + h) for x, y, w, h in g.boxes if h >= min_h]


def middle_inside(mask, b):
    h, w = mask.shape
    x0, y0, x1, y1 = max(0, b[0]), max(0, b[1]), min(w, b[2]), min(h, b[3])
    cx, cy, hw, hh = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 4, (y1 - y0) / 4
    m = mask[int(cy - hh): int(np.ceil(cy + hh)), int(cx - hw): int(np.ceil(cx + hw))]
    return m.mean() if m.size else 0.0


def drawn(report):
    ms = [("ellipse", *box(f["mask"])) for f in report["faces"]]
    return ev.rasterise(ms, report["width"], report["height"])


def stress(gts):
    d = os.path.join(OUT, "stress")
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(5)
    names = {}
    for i, g in enumerate(gts):
        im = Image.open(os.path.join(DATA, "images", g.relpath)).convert("RGB")
        a = np.asarray(im).astype(float)
        for k, t in transforms(rng).items():
            ext = "png" if i % 2 == 0 else "jpg"
            name = f"{k}_{i:02d}.{ext}"
            Image.fromarray(np.clip(t(a, im), 0, 255).astype(np.uint8)).save(
                os.path.join(d, name), **({"quality": 92} if ext == "jpg" else {})
            )
            names[name] = g
    seen, excused, total = {}, {}, {}
    for r in lines([*VERIFY, "--json", d]):
        if "path" not in r or "faces" not in r:
            continue
        name = os.path.basename(r["path"])
        k = name.split("_")[0]
        for f in faces_of(names[name], 24):
            total[k] = total.get(k, 0) + 1
            if any(iou(box(c), f) >= 0.3 for c in r["faces"]):
                seen[k] = seen.get(k, 0) + 1
            elif any(iou(box(c), f) >= 0.3 for c in r["masked"]):
                excused[k] = excused.get(k, 0) + 1
    print("1. faces that look like fills (labelled faces >= 24 px)")
    print("| picture | faces | reported | excused as masked |")
    print("|---|---|---|---|")
    for k in transforms(rng):
        print(f"| {k} | {total.get(k, 0)} | {seen.get(k, 0)} | {excused.get(k, 0)} |")


def own_outputs(gts, mode):
    src = os.path.join(OUT, "src")
    dst = os.path.join(OUT, f"own_{mode}")
    os.makedirs(src, exist_ok=True)
    for i, g in enumerate(gts):
        p = os.path.join(src, f"w{i:02d}.jpg")
        if not os.path.exists(p):  # a copy: blindfold does not follow links in folders
            shutil.copyfile(os.path.join(DATA, "images", g.relpath), p)
    reps = {os.path.basename(r["output"]): r for r in
            lines([BIN, "--json", "-q", "--mode", mode, "-o", dst, src]) if r.get("output")}
    on_mask = on_mask_found = off = 0
    for r in lines([*VERIFY, "--json", dst]):
        if "path" not in r or "faces" not in r:
            continue
        m = drawn(reps[os.path.basename(r["path"])])
        for c in r["faces"] + r["masked"]:
            if middle_inside(m, box(c)) >= 0.9:
                on_mask += 1
                on_mask_found += c in r["faces"]
        off += sum(middle_inside(m, box(c)) < 0.9 for c in r["faces"])
    print(f"2. own outputs, --mode {mode}: {on_mask} candidates over masks, "
          f"{on_mask_found} of them reported as faces; {off} findings away from masks")


def leaky(gts):
    src = os.path.join(OUT, "src")
    dst = os.path.join(OUT, "leaky")
    reps = {os.path.basename(r["output"]): r for r in
            lines([BIN, "--json", "-q", "--threshold", "0.6", "--scales", "1", "-o", dst, src])
            if r.get("output")}
    leaked = {}
    for name, r in reps.items():
        g = gts[int(name[1:3])]
        m = drawn(r)
        leaked[name] = [f for f in faces_of(g, 20)
                        if m[int(f[1]):int(f[3]), int(f[0]):int(f[2])].mean() < 0.5]
    n = sum(len(v) for v in leaked.values())
    for confirm in ("0.5", "0"):
        found = 0
        for r in lines([*VERIFY, "--json", "--confirm", confirm, dst]):
            if "path" in r and "faces" in r:
                found += sum(any(iou(box(c), f) >= 0.3 for c in r["faces"])
                             for f in leaked[os.path.basename(r["path"])])
        print(f"3. leaky anonymiser: verify --confirm {confirm} found {found} of {n} "
              "faces >= 20 px it left")


def main():
    every = int(sys.argv[1]) if len(sys.argv) > 1 else 21
    gts = ev.load_gt(DATA)[::every]
    os.makedirs(OUT, exist_ok=True)
    stress(gts)
    own_outputs(gts, "noise")
    own_outputs(gts, "solid")
    leaky(gts)


if __name__ == "__main__":
    main()

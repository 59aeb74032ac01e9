"""Synthesise test videos with known face boxes in every frame.

A virtual camera pans and zooms over WIDER FACE dev stills; the true face
boxes follow from the camera path. Three variants per still:

* ``pan``: smooth pan and zoom.
* ``blur``: the same path, and 30% of the frames get a horizontal motion blur
  (15 px), as from a shaking camera.
* ``drop``: the same path with 2 of every 5 frames dropped, so the motion
  jumps (as a stuttering recording or a low frame rate).

Blacks are lifted (every channel >= 60) so that the benchmark can tell black
mask pixels (``--mode solid``) from dark picture content.

    python make_clips.py DATA_ROOT OUT_DIR [--clips 12] [--frames 50] [--seed 1]

Writes ``OUT_DIR/<name>.mp4`` (H.264, crf 16, 25 fps, 640x360) and
``OUT_DIR/<name>.json`` with ``{"width", "height", "frames": [[[x0,y0,x1,y1], ...], ...]}``
(boxes clipped to the frame, only faces at least half inside it).
"""

import argparse
import json
import os
import random
import subprocess

import numpy as np
from PIL import Image

W, H = 640, 360


def read_gt(root):
    """{relpath: [(x, y, w, h), ...]} for valid faces (invalid flag 0)."""
    out = {}
    with open(os.path.join(root, "wider_face_val_bbx_gt.txt")) as f:
        lines = [l.strip() for l in f]
    i = 0
    while i < len(lines):
        path = lines[i]
        n = int(lines[i + 1])
        rows = lines[i + 2:i + 2 + max(n, 1)]
        i += 2 + max(n, 1)
        faces = []
        for r in rows[:n]:
            v = [int(t) for t in r.split()]
            if v[7] == 0 and v[2] > 0 and v[3] > 0:
                faces.append(tuple(v[:4]))
        out[path] = faces
    return out


def camera_path(iw, ih, n, rng):
    """Per frame (x0, y0, crop_w): the crop window's corner and width (16:9)."""
    aspect = W / H
    full = min(iw, ih * aspect)
    z0, z1 = rng.uniform(0.75, 0.95), rng.uniform(0.45, 0.7)
    if rng.random() < 0.5:
        z0, z1 = z1, z0
    c0 = (rng.uniform(0.3, 0.7) * iw, rng.uniform(0.3, 0.7) * ih)
    c1 = (rng.uniform(0.3, 0.7) * iw, rng.uniform(0.3, 0.7) * ih)
    path = []
    for k in range(n):
        t = k / max(1, n - 1)
        t = t * t * (3 - 2 * t)  # ease in and out
        cw = full * (z0 + (z1 - z0) * t)
        ch = cw / aspect
        cx = c0[0] + (c1[0] - c0[0]) * t
        cy = c0[1] + (c1[1] - c0[1]) * t
        x0 = min(max(cx - cw / 2, 0), iw - cw)
        y0 = min(max(cy - ch / 2, 0), ih - ch)
        path.append((x0, y0, cw))
    return path


def render(img, cam):
    x0, y0, cw = cam
    ch = cw * H / W
    frame = img.transform((W, H), Image.EXTENT, (x0, y0, x0 + cw, y0 + ch), Image.BILINEAR)
    return np.asarray(frame, dtype=np.float32)


def boxes_in(faces, cam):
    x0, y0, cw = cam
    s = W / cw
    out = []
    for (x, y, w, h) in faces:
        b = [(x - x0) * s, (y - y0) * s, (x + w - x0) * s, (y + h - y0) * s]
        c = [max(b[0], 0), max(b[1], 0), min(b[2], W), min(b[3], H)]
        area = (b[2] - b[0]) * (b[3] - b[1])
        inside = max(0, c[2] - c[0]) * max(0, c[3] - c[1])
        if area > 0 and inside >= 0.5 * area and c[2] - c[0] >= 2 and c[3] - c[1] >= 2:
            out.append([round(v, 2) for v in c])
    return out


def motion_blur(a, length=15):
    acc = np.zeros_like(a)
    for d in range(-(length // 2), length // 2 + 1):
        acc += np.roll(a, d, axis=1)
    return acc / length


def write(path, frames):
    p = subprocess.Popen(
        ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
         "-s", f"{W}x{H}", "-framerate", "25", "-i", "-", "-c:v", "libx264",
         "-crf", "16", "-pix_fmt", "yuv420p", path],
        stdin=subprocess.PIPE)
    for f in frames:
        p.stdin.write(np.clip(f, 0, 255).astype(np.uint8).tobytes())
    p.stdin.close()
    if p.wait() != 0:
        raise SystemExit(f"ffmpeg failed writing {path}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("out")
    ap.add_argument("--clips", type=int, default=12)
    ap.add_argument("--frames", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    gt = read_gt(a.data)
    # Stills with 1-30 valid faces, at least one 24 px tall: scenes where
    # faces are visible at 640x360 once zoomed in.
    cands = sorted(p for p, f in gt.items() if 1 <= len(f) <= 30 and max(h for *_, h in f) >= 24)
    rng.shuffle(cands)
    os.makedirs(a.out, exist_ok=True)
    for rel in cands[:a.clips]:
        img = Image.open(os.path.join(a.data, "images", rel)).convert("RGB")
        path = camera_path(img.width, img.height, a.frames, rng)
        base = os.path.splitext(os.path.basename(rel))[0]
        frames = [60 + render(img, c) * (195 / 255) for c in path]
        boxes = [boxes_in(gt[rel], c) for c in path]
        blur_rng = random.Random(base)
        blurred = [motion_blur(f) if blur_rng.random() < 0.3 else f for f in frames]
        keep = [k for k in range(len(frames)) if k % 5 not in (1, 3)]
        for variant, fr, bx in (
            ("pan", frames, boxes),
            ("blur", blurred, boxes),
            ("drop", [frames[k] for k in keep], [boxes[k] for k in keep]),
        ):
            name = f"{base}.{variant}"
            write(os.path.join(a.out, name + ".mp4"), fr)
            with open(os.path.join(a.out, name + ".json"), "w") as f:
                json.dump({"source": rel, "variant": variant, "width": W, "height": H,
                           "frames": bx}, f)
        print(f"{base}: {len(gt[rel])} faces, {a.frames} frames", flush=True)


if __name__ == "__main__":
    main()

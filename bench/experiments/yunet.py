"""YuNet as a second opinion for blindfold's boxes (issue 10), offline.

Runs YuNet (``../shared/models/yunet/yunet_n_dynamic.onnx``, onnxruntime, native
size padded to multiples of 32, BGR 0..255, score = cls * obj, NMS 0.45) over the
dev images and the photos without people, caches its boxes, then combines them
with a blindfold run of ``flags.py`` (its ``--json --dry-run`` lines):

- ``confirm C@Y``: a blindfold box scoring below C is kept only when a YuNet box
  scoring at least Y overlaps it (IoU >= 0.3) -- fewer false masks;
- ``add Y``: YuNet boxes scoring at least Y that blindfold did not have are added
  as masks (grown like blindfold's: ellipse, 0.3 per side) -- more recall.

Usage: python bench/experiments/yunet.py FLAGS_RUN_NAME
Prints one line per rule in flags.py's format (``flags.summary``).
"""
import json
import os
import sys

import numpy as np
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
bench = os.path.join(here, "..")
repo = os.path.join(bench, "..")
sys.path.insert(0, bench)
sys.path.insert(0, here)
import eval_widerface as ev  # noqa: E402
import flags  # noqa: E402
import report  # noqa: E402

MODEL = os.path.join(repo, "../shared/models/yunet/yunet_n_dynamic.onnx")
STRIDES = (8, 16, 32)


def nms(rows, iou):
    if not rows:
        return []
    r = np.array(rows)
    r = r[np.argsort(-r[:, 4])]
    alive = np.ones(len(r), bool)
    keep = []
    for i in range(len(r)):
        if not alive[i]:
            continue
        keep.append(r[i].tolist())
        alive &= ev.bbox_overlaps(r[:, :4], r[i:i + 1, :4])[:, 0] <= iou
    return keep


def detect(sess, path, min_score=0.1):
    img = np.asarray(Image.open(path).convert("RGB"))[:, :, ::-1]  # BGR
    h, w = img.shape[:2]
    ph, pw = (h + 31) // 32 * 32, (w + 31) // 32 * 32
    pad = np.zeros((ph, pw, 3), np.float32)
    pad[:h, :w] = img
    out = sess.run(None, {"input": pad.transpose(2, 0, 1)[None]})
    rows = []
    for i, s in enumerate(STRIDES):
        cls, obj, reg = out[i][0, :, 0], out[i + 3][0, :, 0], out[i + 6][0]
        gw = pw // s
        score = cls * obj
        for j in np.nonzero(score > min_score)[0]:
            cx = (reg[j, 0] + j % gw) * s
            cy = (reg[j, 1] + j // gw) * s
            bw, bh = np.exp(reg[j, 2]) * s, np.exp(reg[j, 3]) * s
            rows.append([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2, float(score[j])])
    return nms(rows, 0.45)


def cached(paths, cache):
    if os.path.exists(cache):
        return json.load(open(cache))
    import onnxruntime as ort

    sess = ort.InferenceSession(MODEL, providers=["CPUExecutionProvider"])
    res = {p: detect(sess, p) for p in paths}
    json.dump(res, open(cache, "w"))
    return res


def confirmed(box, ydets, y):
    for d in ydets:
        if d[4] >= y and ev.bbox_overlaps(np.array([box[:4]]), np.array([d[:4]]))[0, 0] >= 0.3:
            return True
    return False


def combine(preds, masks, ydet, confirm=None, add=None):
    """Masks kept (and added) by the rule; ``preds[k][i]`` is the box of ``masks[k][i]``."""
    out = {}
    for k, ms in masks.items():
        yd = ydet.get(k, [])
        keep = [m for m, b in zip(ms, preds[k]) if confirm is None or m[5] >= confirm[0]
                or confirmed(b, yd, confirm[1])]
        if add is not None:
            boxes = np.array([d for d in yd if d[4] >= add]).reshape(-1, 5)
            keep += ev.grow_masks({k: boxes}, 0.3)[k]  # as blindfold's: ellipse, 0.3
        out[k] = keep
    return out


def main():
    name = sys.argv[1]
    root = os.environ.get("DATA", os.path.join(repo, "../shared/data/widerface-dev"))
    nofaces = os.environ.get("NOFACES", os.path.join(repo, "../shared/data/exif"))
    images = os.path.join(root, "images")
    out = os.path.join(bench, "out/flags")
    gt = ev.load_gt(root)
    ev.fill_sizes(gt, images)
    ydev = cached([os.path.join(images, g.relpath) for g in gt], os.path.join(out, "yunet.dev.json"))
    ydev = {os.path.join(*k.split(os.sep)[-2:]): v for k, v in ydev.items()}
    nfp = sorted(os.path.join(nofaces, f) for f in os.listdir(nofaces) if f.endswith(".jpg"))
    ynf = cached(nfp, os.path.join(out, "yunet.nofaces.json"))
    ynf = {os.path.basename(k): v for k, v in ynf.items()}
    preds, masks, _ = report.read_blindfold(os.path.join(out, f"{name}.jsonl"), images)
    nfp_, nfm, _ = report.read_blindfold(os.path.join(out, f"{name}.nofaces.jsonl"), nofaces)
    rules = [("as run", None, None)]
    for c in (0.2, 0.25, 0.3):
        for y in (0.1, 0.3, 0.5):
            rules.append((f"confirm {c}@{y}", (c, y), None))
    for a in (0.5, 0.7, 0.9):
        rules.append((f"add {a}", None, a))
        rules.append((f"confirm 0.3@0.3 + add {a}", (0.3, 0.3), a))
    for label, conf, add in rules:
        r = ev.evaluate_privacy(combine(preds, masks, ydev, conf, add), gt)
        n_nf = {k[:8]: len(v) for k, v in sorted(combine(nfp_, nfm, ynf, conf, add).items())}
        print(f"{label}: {flags.summary(r, n_nf)}", flush=True)


if __name__ == "__main__":
    main()

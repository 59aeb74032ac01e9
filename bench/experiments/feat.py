"""Step 1 of the rescoring experiment: per fused box of the CLI curve run
(bench/out/run/bf_curve.jsonl) its box, score, best IoU with any true face and
collateral pixels; saved to bench/out/feat.npy, with a summary by score and size."""
import sys, os, pickle, numpy as np
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import eval_widerface as ev, report
root = os.environ.get("DATA", os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/data/widerface-dev"))
gt = ev.load_gt(root); ev.fill_sizes(gt, os.path.join(root, "images"))
preds, masks, _ = report.read_blindfold(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../out/run/bf_curve.jsonl"), os.path.join(root, "images"))
rows = []
for gi, g in enumerate(gt):
    W, H = g.size
    p = preds.get(g.relpath, np.zeros((0, 5)))
    allb = np.array([[x, y, x + w, y + h] for x, y, w, h in g.boxes]).reshape(-1, 4)
    allowed = np.zeros((H, W), bool)
    for x, y, w, h in g.boxes:
        rs, cs = ev.box_pixels(x - w / 2, y - h / 2, 2 * w, 2 * h, W, H); allowed[rs, cs] = True
    for i, (x0, y0, x1, y1, s) in enumerate(p):
        m = masks[g.relpath][i]
        r = ev.rasterise([m], W, H)
        coll = int(np.count_nonzero(r & ~allowed))
        if len(allb):
            iw = np.clip(np.minimum(x1, allb[:, 2]) - np.maximum(x0, allb[:, 0]), 0, None)
            ih = np.clip(np.minimum(y1, allb[:, 3]) - np.maximum(y0, allb[:, 1]), 0, None)
            inter = iw * ih
            iou = inter / ((x1 - x0) * (y1 - y0) + (allb[:, 2] - allb[:, 0]) * (allb[:, 3] - allb[:, 1]) - inter)
            best = iou.max()
        else:
            best = 0
        rows.append((gi, x0, y0, x1, y1, s, best, coll, W, H))
a = np.array(rows)
np.save(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../out/feat.npy"), a)
print(len(a))
s, best, coll = a[:, 5], a[:, 6], a[:, 7]
h = a[:, 4] - a[:, 2]
tot = sum(g.size[0] * g.size[1] for g in gt)
for lo, hi in [(0.05, 0.1), (0.1, 0.15), (0.15, 0.2), (0.2, 1.01)]:
    m = (s >= lo) & (s < hi)
    print(f"score {lo}-{hi}: n {m.sum()} tp(iou>=.3) {(best[m]>=.3).sum()} coll {100*coll[m].sum()/tot:.3f}%")
    for hl, hh in [(0, 16), (16, 32), (32, 64), (64, 128), (128, 1e9)]:
        mm = m & (h >= hl) & (h < hh)
        print(f"   h {hl}-{hh}: n {mm.sum()} tp {(best[mm]>=.3).sum()} coll {100*coll[mm].sum()/tot:.3f}%")

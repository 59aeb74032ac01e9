"""Score fusion across passes: a fused box's score as the max (current), noisy-or,
mean or sqrt(max * mean) of its best score in each pass. Prints the leak at 0.5%
(and 0.4%) collateral, interpolated over thresholds, with the size gate.
Usage: python bench/experiments/vote.py s1.0 s2.0 [s1.0f ...]"""
import sys, os, numpy as np
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import tune, proto, size_gate as sg, eval_widerface as ev
root = os.environ.get("DATA", os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/data/widerface-dev")); cache = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../out/cache")
gt = tune.load(root)
G = ("ramp", 128, 512, 0.4)
def wbf_votes(ds, iou=0.4):
    """ds: list of per-pass arrays. Returns fused boxes with per-pass max score (n x (4+P))."""
    P = len(ds)
    d = np.concatenate([np.c_[x, np.full(len(x), i)] for i, x in enumerate(ds)]) if ds else np.zeros((0, 6))
    if len(d) == 0: return np.zeros((0, 4 + P))
    d = d[np.argsort(-d[:, 4], kind="stable")]
    sums = np.zeros((len(d), 4)); wsum = np.zeros(len(d)); fused = np.zeros((len(d), 4)); sc = np.zeros((len(d), P)); k = 0
    for i in range(len(d)):
        b, w, p = d[i, :4], max(d[i, 4], 1e-6), int(d[i, 5])
        if k:
            o = proto.iou_one(b, fused[:k]); j = int(np.argmax(o))
            if o[j] > 0 and o[j] >= iou:
                sums[j] += w * b; wsum[j] += w; fused[j] = sums[j] / wsum[j]; sc[j, p] = max(sc[j, p], d[i, 4]); continue
        sums[k], wsum[k], fused[k] = w * b, w, b; sc[k, p] = d[i, 4]; k += 1
    return np.c_[fused[:k], sc[:k]]
specs = sys.argv[1:] or ["s1.0", "s2.0"]
F = {}
for g in gt:
    ds = []
    for sp in specs:
        x = tune.get_pass(cache, sp)[0][g.relpath]; ds.append(x[x[:, 4] >= 0.05])
    F[g.relpath] = wbf_votes(ds)
def with_score(fn):
    out = {}
    for k, f in F.items():
        out[k] = np.c_[f[:, :4], fn(f[:, 4:])] if len(f) else np.zeros((0, 5))
    return out
rules = {
  "max": lambda s: s.max(1),
  "noisyor": lambda s: 1 - np.prod(1 - s, 1),
  "mean": lambda s: s.mean(1),
  "sqrtmax*mean": lambda s: np.sqrt(s.max(1) * s.mean(1)),
}
for name, fn in rules.items():
    preds = with_score(fn)
    allsc = np.concatenate([p[:, 4] for p in preds.values()])
    pts = []
    for q in np.linspace(0.85, 0.985, 10):
        t = float(np.quantile(allsc, q))
        r = sg.evaluate(preds, gt, t, G)
        pts.append((r['collateral'], r['leaked'], r['leaked32'], t))
    pts.sort()
    c = np.array(pts)
    L = np.interp(0.005, c[:, 0], c[:, 1]); L32 = np.interp(0.005, c[:, 0], c[:, 2]); T = np.interp(0.005, c[:, 0], c[:, 3])
    L4 = np.interp(0.004, c[:, 0], c[:, 1])
    print(f"{'+'.join(specs)} {name:14s} leak@0.5% {100*L:.2f} leak32 {100*L32:.2f} (t {T:.3f}) leak@0.4% {100*L4:.2f}", flush=True)

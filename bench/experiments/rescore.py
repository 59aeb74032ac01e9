"""Step 2 of the rescoring experiment: logistic regression on box features
(logit score, log height, aspect, crowd context), 5-fold cross-validated by image;
compares the leak at 0.5% collateral with the plain score, also with the score
divided by height^gamma. Needs feat.py's output."""
import sys, os, numpy as np
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import eval_widerface as ev, report
root = os.environ.get("DATA", os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/data/widerface-dev"))
gt = ev.load_gt(root); ev.fill_sizes(gt, os.path.join(root, "images"))
preds, masks, _ = report.read_blindfold(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../out/run/bf_curve.jsonl"), os.path.join(root, "images"))
a = np.load(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../out/feat.npy"))
gi = a[:, 0].astype(int); s = a[:, 5]; best = a[:, 6]
w = a[:, 3] - a[:, 1]; h = a[:, 4] - a[:, 2]
def feats(a):
    gi = a[:, 0].astype(int); s = a[:, 5]
    w = a[:, 3] - a[:, 1]; h = np.maximum(a[:, 4] - a[:, 2], 1)
    lh = np.log2(h)
    ctx = np.zeros(len(a)); nconf = np.zeros(len(a))
    for g in np.unique(gi):
        idx = np.nonzero(gi == g)[0]
        conf = idx[s[idx] >= 0.3]
        nconf[idx] = len(conf)
        if len(conf):
            d = np.abs(lh[idx][:, None] - lh[conf][None, :]) < 1
            ctx[idx] = d.sum(1) - (s[idx] >= 0.3)
    ls = np.log(s / (1 - s))
    return np.stack([ls, lh, np.log(w / h), np.log1p(ctx), np.log1p(nconf), ls * lh, lh ** 2], 1)
X = feats(a); y = (best >= 0.4).astype(float)
def fit(X, y, l2=1e-3, it=300):
    mu, sd = X.mean(0), X.std(0) + 1e-9
    Z = np.c_[(X - mu) / sd, np.ones(len(X))]
    wt = np.zeros(Z.shape[1])
    for _ in range(it):  # Newton
        p = 1 / (1 + np.exp(-Z @ wt))
        g = Z.T @ (p - y) + l2 * wt
        Hm = (Z * (p * (1 - p))[:, None]).T @ Z + l2 * np.eye(len(wt))
        step = np.linalg.solve(Hm, g); wt -= step
        if np.abs(step).max() < 1e-8: break
    return lambda X2: 1 / (1 + np.exp(-(np.c_[(X2 - mu) / sd, np.ones(len(X2))] @ wt))), wt
folds = 5
rng = np.random.default_rng(0); perm = rng.permutation(len(gt)); fold_of = np.empty(len(gt), int); fold_of[perm] = np.arange(len(gt)) % folds
p = np.zeros(len(a))
for f in range(folds):
    tr = fold_of[gi] != f
    model, wt = fit(X[tr], y[tr])
    p[~tr] = model(X[~tr])
print("weights (last fold)", np.round(wt, 2))
# build masks with new score
def curve_for(score, ths):
    out = {}
    k = 0
    for j, g in enumerate(gt):
        ms = masks.get(g.relpath, [])
        idx = np.nonzero(gi == j)[0]
        assert len(idx) == len(ms)
        out[g.relpath] = [m[:5] + (score[i],) for m, i in zip(ms, idx)]
    return [(t, ev.evaluate_privacy(out, gt, min_score=t)) for t in ths]
sel = sys.argv[1:] 
for t, r in curve_for(s, [0.12, 0.15, 0.18]):
    print(f"base t {t:.3f} leak {100*r['leaked']:.2f} leak32 {100*r['leaked32']:.2f} coll {100*r['collateral']:.3f}")
qs = np.quantile(p, [0.80, 0.85, 0.88, 0.90, 0.92])
for t, r in curve_for(p, list(qs)):
    print(f"resc t {t:.3f} leak {100*r['leaked']:.2f} leak32 {100*r['leaked32']:.2f} coll {100*r['collateral']:.3f}")

def leak_at(score, target=0.005):
    qs = np.quantile(score, np.linspace(0.80, 0.995, 14))
    res = curve_for(score, list(qs))
    cs = np.array([r['collateral'] for _, r in res]); ls = np.array([r['leaked'] for _, r in res]); l32 = np.array([r['leaked32'] for _, r in res])
    o = np.argsort(cs)
    return np.interp(target, cs[o], ls[o]), np.interp(target, cs[o], l32[o])
hh = np.maximum(h, 1)
for gam in [0.0, 0.5, 1.0, 1.5]:
    for name, sc in [("base", s), ("resc", p)]:
        L, L32 = leak_at(sc / hh ** gam)
        print(f"gamma {gam} {name}: leak@0.5% {100*L:.2f} leak32 {100*L32:.2f}", flush=True)

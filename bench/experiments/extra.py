"""Does one more pass (s0.5, s0.75, overview 640, flip, s1.25) beside native + 2x
lower the leak? Prototype passes from proto.py's cache (bench/out/cache), WBF 0.4,
size gate 128->512 px / 0.4. Prints leak / leak >= 32 px / collateral per setting.
Usage: python bench/experiments/extra.py   (DATA=... for another data root)"""
import sys, os, numpy as np
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import tune, size_gate as sg
root = os.environ.get("DATA", os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/data/widerface-dev")); cache = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../out/cache")
gt = tune.load(root)
G = ("ramp", 128, 512, 0.4)
def go(name, passes, t):
    preds = tune.fused(cache, gt, passes, 0.4, "wbf")
    r = sg.evaluate(preds, gt, t, G)
    mpx = sum(tune.get_pass(cache, s)[2] for s, _ in passes) / 1e6
    print(f"{name:50s} t {t:.2f} leak {100*r['leaked']:.2f} leak32 {100*r['leaked32']:.2f} prot {100*r['protected']:.1f} coll {100*r['collateral']:.3f} Mpx {mpx:.2f}", flush=True)
for t in [0.15]:
    go("s1+s2", [("s1.0", t), ("s2.0", t)], t)
for ex in ["s0.5", "s0.75", "v640", "s1.0f", "s1.25"]:
    for te in [0.15, 0.25, 0.35]:
        go(f"s1+s2+{ex}@{te}", [("s1.0", 0.15), ("s2.0", 0.15), (ex, te)], 0.15)

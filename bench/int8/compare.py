"""Leak by face-height band, fp32 against int8, from blindfold runs on the dev set.

Each run is `blindfold --model MODEL --json --dry-run IMAGES > NAME.jsonl`
with MODEL the prepared fp32 graph or the int8 graph (both accepted by
`--model` as prepared models). Prints, for the whole dev set and for each
half of it (events with an even / odd number, as bench/experiments/halves.py
splits them, to show the noise), the leaked 'hard' faces per height band,
the leaked shares, collateral and false masks.

With --ap: WIDER FACE AP (easy / medium / hard) instead, whole and per half,
from runs at `--threshold 0.05` (as bench/run.sh computes it:
`eval_widerface.evaluate_ap` on every detection down to score 0.05); a run at
an operating threshold gives "AP at its threshold" the same way.

Usage: python bench/int8/compare.py [--ap] RUN.jsonl [RUN.jsonl ...]
Env: DATA (default ../shared/data/widerface-dev). Needs numpy and scipy.
"""
from __future__ import annotations

import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
bench = os.path.join(here, "..")
sys.path.insert(0, bench)
sys.path.insert(0, os.path.join(bench, "experiments"))
import eval_widerface as ev  # noqa: E402
import report  # noqa: E402
from halves import dev_parts  # noqa: E402


def leak_table(images, parts, paths) -> None:
    print("| run | photos | < 32 | 32-64 | 64-128 | >= 128 | leaked all | >= 32 | collateral | false masks |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for path in paths:
        _, masks, failed = report.read_blindfold(path, images)
        assert not failed, failed[:3]
        name = os.path.basename(path).removesuffix(".jsonl")
        for part_name, part in parts:
            r = ev.evaluate_privacy(masks, part)
            bands = " | ".join(f"{a}/{b}" for a, b in zip(r["band_leaked"], r["band_faces"]))
            print(f"| {name} | {part_name} | {bands} | {100 * r['leaked']:.2f}% | "
                  f"{100 * r['leaked32']:.2f}% | {100 * r['collateral']:.3f}% | {r['false_masks']} |")


def ap_table(images, parts, paths) -> None:
    print("| run | photos | AP easy | AP medium | AP hard | detections |")
    print("|---|---|---|---|---|---|")
    for path in paths:
        preds, _, failed = report.read_blindfold(path, images)
        assert not failed, failed[:3]
        missing = [g.relpath for g in parts[0][1] if g.relpath not in preds]
        assert not missing, missing[:3]
        name = os.path.basename(path).removesuffix(".jsonl")
        for part_name, part in parts:
            ap = ev.evaluate_ap(preds, part)
            n = sum(len(preds[g.relpath]) for g in part)
            print(f"| {name} | {part_name} | {ap['easy']:.3f} | {ap['medium']:.3f} | {ap['hard']:.3f} | {n} |")


def main() -> None:
    args = sys.argv[1:]
    ap = "--ap" in args
    paths = [a for a in args if a != "--ap"]
    images, parts = dev_parts()
    print(f"photos: all {len(parts[0][1])}, even {len(parts[1][1])}, odd {len(parts[2][1])}")
    (ap_table if ap else leak_table)(images, parts, paths)


if __name__ == "__main__":
    main()

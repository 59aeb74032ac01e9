"""WIDER FACE AP (easy / medium / hard), fp32 against int8, from blindfold runs on the dev set.

Each run is `blindfold --model MODEL --threshold 0.05 --json --dry-run IMAGES > NAME.jsonl`
(the curve runs of bench/run.sh, which computes AP from them the same way:
`eval_widerface.evaluate_ap` on every detection down to score 0.05). Prints AP
for the whole dev set and for each half of it (events with an even / odd
number, as bench/experiments/halves.py splits them, to show the noise).
A run at an operating threshold gives "AP at its threshold" (bench/run.sh's
`op_ap_hard` column) the same way.

Usage: python bench/int8/ap.py RUN.jsonl [RUN.jsonl ...]
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


def main() -> None:
    images, parts = dev_parts()
    gt = parts[0][1]
    print(f"photos: all {len(gt)}, even {len(parts[1][1])}, odd {len(parts[2][1])}")
    print("| run | photos | AP easy | AP medium | AP hard | detections |")
    print("|---|---|---|---|---|---|")
    for path in sys.argv[1:]:
        preds, _, failed = report.read_blindfold(path, images)
        assert not failed, failed[:3]
        missing = [g.relpath for g in gt if g.relpath not in preds]
        assert not missing, missing[:3]
        name = os.path.basename(path).removesuffix(".jsonl")
        for part_name, part in parts:
            ap = ev.evaluate_ap(preds, part)
            n = sum(len(preds[g.relpath]) for g in part)
            print(f"| {name} | {part_name} | {ap['easy']:.3f} | {ap['medium']:.3f} | {ap['hard']:.3f} | {n} |")


if __name__ == "__main__":
    main()

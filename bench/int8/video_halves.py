"""Video leak by face-height band, per half of the clips and per clip, from eval_leak.py outputs.

bench/video/eval_leak.py writes the masked clips to WORK/tracking_on/ (and
tracking_off/); this scores them again with eval_leak's own rule (a
face-frame is leaked when under 50% of its box came out black), split as
bench/experiments/halves.py splits the dev set (the WIDER FACE event number
of the still a clip was made from, even / odd), and then clip by clip (the
clips where any run leaked), to show where fp32 and int8 differ and the noise.

Usage: python bench/int8/video_halves.py CLIPS_DIR WORK_DIR [WORK_DIR ...]
"""
from __future__ import annotations

import glob
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, ".."))
sys.path.insert(0, os.path.join(here, "..", "video"))
from eval_leak import coverage, decode  # noqa: E402
from eval_widerface import BANDS, band_of  # noqa: E402


def score(out: str, clips: list[str]) -> dict:
    """{clip name: [[face-frames, leaked] per band]}"""
    res = {}
    for clip in clips:
        gt = json.load(open(clip[:-4] + ".json"))
        name = os.path.basename(clip)
        frames = decode(os.path.join(out, name), gt["width"], gt["height"])
        c = [[0, 0] for _ in BANDS]
        for fr, boxes in zip(frames, gt["frames"]):
            for b in boxes:
                k = band_of(b[3] - b[1])
                c[k][0] += 1
                c[k][1] += coverage(fr, b) < 0.5
        res[name] = c
    return res


def row(cells) -> str:
    f = sum(a for a, _ in cells)
    lk = sum(b for _, b in cells)
    return " | ".join(f"{b}/{a}" for a, b in cells) + f" | {100 * lk / max(f, 1):.2f}% |"


def main() -> None:
    clips_dir, works = sys.argv[1], sys.argv[2:]
    clips = sorted(glob.glob(os.path.join(clips_dir, "*.mp4")))
    half = {os.path.basename(c): ("even", "odd")[int(os.path.basename(c).split("_", 1)[0]) % 2] for c in clips}
    scored = {}
    print("| run | tracking | clips | < 32 | 32-64 | 64-128 | >= 128 | leaked all |")
    print("|---|---|---|---|---|---|---|---|")
    for work in works:
        for label in ("tracking_on", "tracking_off"):
            out = os.path.join(work, label)
            if not os.path.isdir(out):
                continue
            res = scored[(work, label)] = score(out, clips)
            for part in ("all", "even", "odd"):
                names = [n for n in res if part == "all" or half[n] == part]
                cells = [[sum(res[n][k][i] for n in names) for i in (0, 1)] for k in range(len(BANDS))]
                print(f"| {os.path.basename(work.rstrip('/'))} | {label.replace('_', ' ')} | "
                      f"{part} ({len(names)}) | " + row(cells))
    print("\nClips where any run leaked (tracking on):\n")
    print("| clip | run | < 32 | 32-64 | 64-128 | >= 128 | leaked all |")
    print("|---|---|---|---|---|---|---|")
    on = [(w, r) for (w, lb), r in scored.items() if lb == "tracking_on"]
    for c in clips:
        n = os.path.basename(c)
        if any(sum(b for _, b in r[n]) for _, r in on):
            for w, r in on:
                print(f"| {n[:-4]} | {os.path.basename(w.rstrip('/'))} | " + row(r[n]))


if __name__ == "__main__":
    main()

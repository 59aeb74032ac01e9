"""Per-frame leak figures on the synthetic clips from make_clips.py.

Runs blindfold with ``--mode solid`` (black masks) with tracking on (the
defaults) and off (``--hold 0 --lookahead 0``), decodes each output and
measures, for every true face box in every frame, the share of its pixels
that came out black (every channel < 40; the clips have no pixel darker than
60, so black can only be a mask). A face-frame is **leaked** when under 50%
of its box is covered and **protected** at 95% or more, as in the photo
figures; ``leaked >= 32 px`` counts faces at least 32 px tall, and a second
table splits the face-frames by height band (< 32, 32-64, 64-128, >= 128 px,
as the photo figures do).

    python eval_leak.py CLIPS_DIR WORK_DIR -- BLINDFOLD_COMMAND...
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from eval_widerface import BAND_NAMES, BANDS, band_of  # noqa: E402

CONFIGS = (("tracking on", []), ("tracking off", ["--hold", "0", "--lookahead", "0"]))


def decode(path, w, h):
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)


def coverage(frame, b):
    x0, x1 = int(np.ceil(b[0] - 0.5)), int(np.ceil(b[2] - 0.5))
    y0, y1 = int(np.ceil(b[1] - 0.5)), int(np.ceil(b[3] - 0.5))
    region = frame[y0:max(y1, y0 + 1), x0:max(x1, x0 + 1)]
    return float((region.max(axis=2) < 40).mean()) if region.size else 1.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("clips")
    ap.add_argument("work")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = [c for c in a.cmd if c != "--"]
    clips = sorted(glob.glob(os.path.join(a.clips, "*.mp4")))
    results = {}
    for label, extra in CONFIGS:
        out = os.path.join(a.work, label.replace(" ", "_"))
        os.makedirs(out, exist_ok=True)
        t = time.time()
        p = subprocess.run(cmd + clips + ["-o", out, "--json", "--quiet", "--mode", "solid"] + extra,
                           capture_output=True, text=True)
        wall = time.time() - t
        if p.returncode != 0:
            print(p.stderr, file=sys.stderr)
            raise SystemExit(f"blindfold failed ({label})")
        filled = 0
        for line in p.stdout.splitlines():
            v = json.loads(line)
            filled += (v.get("video") or {}).get("frames_filled_by_tracking", 0) or 0
        per_variant = {}
        frames_total = 0
        for clip in clips:
            gt = json.load(open(clip[:-4] + ".json"))
            outs = decode(os.path.join(out, os.path.basename(clip)), gt["width"], gt["height"])
            if len(outs) != len(gt["frames"]):
                raise SystemExit(f"{clip}: {len(outs)} frames out, {len(gt['frames'])} expected")
            frames_total += len(outs)
            c = per_variant.setdefault(gt["variant"], dict(faces=0, leaked=0, faces32=0,
                                                           leaked32=0, protected=0,
                                                           frames=0, frames_leaking=0,
                                                           band_faces=[0] * len(BANDS),
                                                           band_leaked=[0] * len(BANDS)))
            for fr, boxes in zip(outs, gt["frames"]):
                c["frames"] += 1
                leak_here = False
                for b in boxes:
                    cov = coverage(fr, b)
                    c["faces"] += 1
                    c["leaked"] += cov < 0.5
                    c["protected"] += cov >= 0.95
                    leak_here |= cov < 0.5
                    band = band_of(b[3] - b[1])
                    c["band_faces"][band] += 1
                    c["band_leaked"][band] += cov < 0.5
                    if b[3] - b[1] >= 32:
                        c["faces32"] += 1
                        c["leaked32"] += cov < 0.5
                c["frames_leaking"] += leak_here
        results[label] = dict(variants=per_variant, fps=frames_total / wall,
                              frames_filled=filled)

    pct = lambda n, d: f"{100 * n / d:.1f}%" if d else "-"
    print(f"\n{len(clips)} clips, commands: {' '.join(cmd)} [+ --mode solid, tracking off: "
          f"--hold 0 --lookahead 0]\n")
    print("| variant | tracking | face-frames | leaked | leaked >= 32 px | protected | "
          "frames with a leak | frames filled by tracking |")
    print("|---|---|---|---|---|---|---|---|")
    for label, r in results.items():
        tot = {}
        for var, c in sorted(r["variants"].items()):
            for k, v in c.items():
                if isinstance(v, list):
                    tot[k] = [a + b for a, b in zip(tot.get(k, [0] * len(v)), v)]
                else:
                    tot[k] = tot.get(k, 0) + v
            print(f"| {var} | {label} | {c['faces']} | {pct(c['leaked'], c['faces'])} | "
                  f"{pct(c['leaked32'], c['faces32'])} | {pct(c['protected'], c['faces'])} | "
                  f"{pct(c['frames_leaking'], c['frames'])} | |")
        print(f"| all | {label} | {tot['faces']} | {pct(tot['leaked'], tot['faces'])} | "
              f"{pct(tot['leaked32'], tot['faces32'])} | {pct(tot['protected'], tot['faces'])} | "
              f"{pct(tot['frames_leaking'], tot['frames'])} | {r['frames_filled']} |")
        r["total"] = tot
    print("\nLeaked face-frames by face height (all variants):\n")
    print("| tracking | " + " | ".join(BAND_NAMES) + " |")
    print("|---|" + "---|" * len(BANDS))
    for label, r in results.items():
        t = r["total"]
        cells = [f"{n} of {d} ({pct(n, d)})" for n, d in zip(t["band_leaked"], t["band_faces"])]
        print(f"| {label} | " + " | ".join(cells) + " |")
    json.dump(results, open(os.path.join(a.work, "leak.json"), "w"), indent=1)


if __name__ == "__main__":
    main()

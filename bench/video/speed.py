"""Frames per second of blindfold (tracking on) and deface on real clips, in
the same run, and the frames where blindfold's tracking filled a mask in.

    python speed.py WORK_DIR CLIP... -- BLINDFOLD_COMMAND...

deface runs as its CLI does by default (CenterFace through onnxruntime at
full resolution, threshold 0.2) and writes its own video; both tools write
H.264 MP4 with the audio kept where there is any.
"""

import json
import os
import subprocess
import sys
import time


def frames_of(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-count_packets", "-select_streams", "v:0",
                          "-show_entries", "stream=nb_read_packets,width,height", "-of", "json",
                          path], check=True, capture_output=True, text=True).stdout
    s = json.loads(out)["streams"][0]
    return int(s["nb_read_packets"]), s["width"], s["height"]


def timed(cmd):
    t = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.time() - t
    if p.returncode != 0:
        print(p.stderr[-2000:], file=sys.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return wall, p.stdout


def main():
    args = sys.argv[1:]
    sep = args.index("--")
    work, clips, bf = args[0], args[1:sep], args[sep + 1:]
    deface = os.path.join(os.path.dirname(sys.executable), "deface")
    os.makedirs(work, exist_ok=True)
    print(f"blindfold: {' '.join(bf)}\ndeface: {deface} (defaults)\n")
    print("| clip | size | frames | deface fps | blindfold fps | vs deface | "
          "frames filled by tracking | tracks |")
    print("|---|---|---|---|---|---|---|---|")
    for clip in clips:
        n, w, h = frames_of(clip)
        name = os.path.splitext(os.path.basename(clip))[0]
        d_wall, _ = timed([deface, clip, "-o", os.path.join(work, f"{name}.deface.mp4")])
        b_wall, out = timed(bf + [clip, "-o", os.path.join(work, "bf"), "--json", "--quiet"])
        rep = next((json.loads(l) for l in out.splitlines()
                    if "summary" not in json.loads(l)), {})
        v = rep.get("video") or {}
        filled = v.get("frames_filled_by_tracking", "?")
        tracks = len(v.get("tracks") or [])
        print(f"| {os.path.basename(clip)} | {w}x{h} | {n} | {n / d_wall:.2f} | "
              f"{n / b_wall:.2f} | {d_wall / b_wall:.2f}x | {filled} | {tracks} |", flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""JPEGs edited in the DCT domain (issue 20), checked with libjpeg-turbo.

Runs blindfold twice over the JPEGs given (files or folders): the default
(lossless) and --reencode. For every lossless output it checks, with
`djpeg -dct int -nosmooth` as the oracle:
  - `djpeg -strict` accepts the output;
  - input and output decode to identical pixels outside the MCUs the masks
    touch (a mask's box, mapped to the stored picture, grown to whole MCUs);
  - inside each face's box, no pixel of the output equals the input's with
    more than chance frequency, and the luma correlation is near 0 (nothing
    of the face survives);
then prints sizes and per-photo times of both paths.

Usage: bench/lossless.py [--bin target/release/blindfold] [--limit N] PATH...
Needs djpeg (libjpeg-turbo-progs). Pure Python, no numpy.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile


def jpegs(paths, limit):
    out = []
    for p in paths:
        if os.path.isdir(p):
            for root, _, files in sorted(os.walk(p)):
                out += [os.path.join(root, f) for f in sorted(files)
                        if f.lower().endswith((".jpg", ".jpeg"))]
        else:
            out.append(p)
    return out[:limit] if limit else out


def run(binary, files, outdir, extra):
    # One file per run: outputs keep a plain, collision-free name.
    reports = {}
    os.makedirs(outdir, exist_ok=True)
    links = os.path.join(outdir, "in")
    os.makedirs(links, exist_ok=True)
    for i, f in enumerate(files):
        os.symlink(os.path.abspath(f), os.path.join(links, f"{i:05d}.jpg"))
    args = [binary, "--json", "-o", os.path.join(outdir, "out")] + extra
    args += [os.path.join(links, f"{i:05d}.jpg") for i in range(len(files))]
    p = subprocess.run(args, capture_output=True, text=True)
    for line in p.stdout.splitlines():
        r = json.loads(line)
        if "input" in r:
            i = int(os.path.basename(r["input"])[:5])
            reports[files[i]] = r
    return reports


def sof(path):
    """(width, height, hmax, vmax, components, progressive) from the SOF."""
    b = open(path, "rb").read()
    i = 2
    while i + 4 <= len(b):
        m = b[i + 1]
        n = int.from_bytes(b[i + 2:i + 4], "big")
        if m in (0xC0, 0xC1, 0xC2):
            s = b[i + 4:i + 2 + n]
            h, w, nc = int.from_bytes(s[1:3], "big"), int.from_bytes(s[3:5], "big"), s[5]
            hs = [s[7 + 3 * k] >> 4 for k in range(nc)]
            vs = [s[7 + 3 * k] & 15 for k in range(nc)]
            return w, h, max(hs), max(vs), nc, m == 0xC2
        i += 2 + n
    raise ValueError(f"{path}: no frame header")


def ppm(path):
    """djpeg -dct int -nosmooth as (width, height, rows of RGB bytes)."""
    out = subprocess.run(["djpeg", "-dct", "int", "-nosmooth", "-ppm", path],
                         capture_output=True, check=True).stdout
    # Header: P6/P5 w h maxval, whitespace separated.
    parts, pos = [], 0
    while len(parts) < 4:
        while out[pos:pos + 1].isspace():
            pos += 1
        start = pos
        while not out[pos:pos + 1].isspace():
            pos += 1
        parts.append(out[start:pos])
    pos += 1
    w, h = int(parts[1]), int(parts[2])
    ch = 3 if parts[0] == b"P6" else 1
    rows = [out[pos + y * w * ch: pos + (y + 1) * w * ch] for y in range(h)]
    return w, h, ch, rows


def strict_ok(path):
    p = subprocess.run(["djpeg", "-strict", "-outfile", os.devnull, path],
                       capture_output=True)
    return p.returncode == 0 and not p.stderr


def to_stored(o, w, h, x, y):
    return {
        2: (w - 1 - x, y), 3: (w - 1 - x, h - 1 - y), 4: (x, h - 1 - y),
        5: (y, x), 6: (y, h - 1 - x), 7: (w - 1 - y, h - 1 - x), 8: (w - 1 - y, x),
    }.get(o, (x, y))


def stored_box(o, w, h, b):
    """An upright box (x0, y0, x1, y1), clipped, as a stored pixel range."""
    uw, uh = (h, w) if o >= 5 else (w, h)
    x0, y0 = max(0, int(b["x0"])), max(0, int(b["y0"]))
    x1, y1 = min(uw - 1, int(b["x1"])), min(uh - 1, int(b["y1"]))
    if x1 < x0 or y1 < y0:
        return None
    a, c = to_stored(o, w, h, x0, y0), to_stored(o, w, h, x1, y1)
    return min(a[0], c[0]), min(a[1], c[1]), max(a[0], c[0]), max(a[1], c[1])


def check(path, out, report):
    w, h, hmax, vmax, _, _ = sof(path)
    mw, mh = 8 * hmax, 8 * vmax
    o = report["orientation"]
    allowed = set()
    for f in report["faces"]:
        b = stored_box(o, w, h, f["mask"]["bbox"])
        if b:
            for my in range(b[1] // mh, b[3] // mh + 1):
                for mx in range(b[0] // mw, b[2] // mw + 1):
                    allowed.add((mx, my))
    wa, ha, ch, ra = ppm(path)
    wb, hb, chb, rb = ppm(out)
    assert (wa, ha, ch) == (wb, hb, chb), (path, wa, ha, wb, hb)
    outside_diff = 0
    for y in range(h):
        if ra[y] == rb[y]:
            continue
        for x in range(w):
            if ra[y][x * ch:(x + 1) * ch] != rb[y][x * ch:(x + 1) * ch]:
                if (x // mw, y // mh) not in allowed:
                    outside_diff += 1
    # Inside each face's detected box: equal pixels and luma correlation.
    same = total = 0
    cors = []
    for f in report["faces"]:
        b = stored_box(o, w, h, f["bbox"])
        if not b:
            continue
        xs, ys = [], []
        for y in range(b[1], b[3] + 1):
            for x in range(b[0], b[2] + 1):
                pa = ra[y][x * ch:(x + 1) * ch]
                pb = rb[y][x * ch:(x + 1) * ch]
                total += 1
                same += pa == pb
                xs.append(sum(pa))
                ys.append(sum(pb))
        if len(xs) > 16 and statistics.pstdev(xs) > 0 and statistics.pstdev(ys) > 0:
            cors.append(statistics.correlation(xs, ys))
    return outside_diff, same, total, cors, len(allowed) * mw * mh


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/blindfold")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--mode", default="noise")
    ap.add_argument("paths", nargs="+")
    a = ap.parse_args()
    files = jpegs(a.paths, a.limit)
    tmp = tempfile.mkdtemp(prefix="lossless-")
    extra = ["--mode", a.mode]
    lossless = run(a.bin, files, os.path.join(tmp, "l"), extra)
    reenc = run(a.bin, files, os.path.join(tmp, "r"), extra + ["--reencode"])
    bad = []
    rows = []
    for f in files:
        r, q = lossless.get(f), reenc.get(f)
        if not r or r.get("status") != "ok" or not q or q.get("status") != "ok":
            bad.append((f, "failed", (r or {}).get("error"), (q or {}).get("error")))
            continue
        if r.get("jpeg") != "lossless":
            bad.append((f, "reencoded", r.get("jpeg_reason")))
            continue
        if not strict_ok(r["output"]):
            bad.append((f, "djpeg -strict refused the output"))
        outside, same, total, cors, masked_px = check(f, r["output"], r)
        if outside:
            bad.append((f, f"{outside} pixels differ outside the touched MCUs"))
        t_l = r["timings"]["mask_ms"] + r["timings"]["encode_ms"]
        t_r = q["timings"]["mask_ms"] + q["timings"]["encode_ms"]
        rows.append(dict(
            file=f, inb=os.path.getsize(f), lossless=os.path.getsize(r["output"]),
            reenc=os.path.getsize(q["output"]), t_l=t_l, t_r=t_r,
            dec=r["timings"]["decode_ms"], faces=len(r["faces"]), same=same,
            total=total, cors=cors, progressive=sof(f)[5], masked=masked_px,
            px=r["width"] * r["height"]))
    n = len(rows)
    print(f"files: {len(files)}, lossless and checked: {n}, problems: {len(bad)}")
    for b in bad:
        print("  ", *b)
    if not n:
        return 1
    tin = sum(x["inb"] for x in rows)
    print(f"progressive inputs: {sum(x['progressive'] for x in rows)}; "
          f"faces: {sum(x['faces'] for x in rows)}; "
          f"pixels in replaced MCUs: {sum(x['masked'] for x in rows) / sum(x['px'] for x in rows):.2%}")
    print(f"size vs input: lossless {sum(x['lossless'] for x in rows) / tin:.3f}, "
          f"reencoded q92 {sum(x['reenc'] for x in rows) / tin:.3f} (totals)")
    ratios = sorted(x["lossless"] / x["inb"] for x in rows)
    print(f"lossless/input per file: median {statistics.median(ratios):.3f}, "
          f"min {ratios[0]:.3f}, max {ratios[-1]:.3f}")
    print(f"mask+encode ms per photo (mean): lossless {statistics.mean(x['t_l'] for x in rows):.1f}, "
          f"reencoded {statistics.mean(x['t_r'] for x in rows):.1f}; decode {statistics.mean(x['dec'] for x in rows):.1f}")
    same = sum(x["same"] for x in rows)
    total = sum(x["total"] for x in rows)
    cors = [c for x in rows for c in x["cors"]]
    if total:
        print(f"face boxes: {same}/{total} pixels equal to the input ({same / total:.4%}); "
              f"luma correlation input/output median {statistics.median(cors) if cors else 0:.3f}, "
              f"max |r| {max((abs(c) for c in cors), default=0):.3f} over {len(cors)} faces")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

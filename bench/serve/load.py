"""Load client for `blindfold serve`: N concurrent clients post photos to
/v1/anonymize?report=json for a fixed time, then every 200 reply is checked
(decodes, same size as the input, pixels changed inside every reported face).
Prints one JSON object with the figures. Loopback only; standard library and
Pillow."""

import argparse
import base64
import http.client
import io
import json
import sys
import threading
import time

from PIL import Image


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", required=True, help="host:port (loopback)")
    ap.add_argument("--images", required=True, help="file listing image paths")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--expected", default="200,503",
                    help="statuses that are not errors (comma separated)")
    a = ap.parse_args()
    host, port = a.addr.rsplit(":", 1)
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("loopback only")
    paths = [p for p in open(a.images).read().split("\n") if p]
    data = [open(p, "rb").read() for p in paths]
    lock = threading.Lock()
    state = {"next": 0}
    results = []  # (status, start, end, idx, body)
    start = time.monotonic()
    deadline = start + a.seconds

    def client():
        conn = http.client.HTTPConnection(host, int(port), timeout=300)
        while time.monotonic() < deadline:
            with lock:
                i = state["next"] % len(data)
                state["next"] += 1
            t0 = time.monotonic()
            try:
                conn.request("POST", "/v1/anonymize?report=json", body=data[i],
                             headers={"Content-Type": "application/octet-stream"})
                r = conn.getresponse()
                body = r.read()
                status = r.status
                retry = r.getheader("Retry-After")
            except (OSError, http.client.HTTPException) as e:
                status, body, retry = 0, str(e).encode(), None
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=300)
            t1 = time.monotonic()
            with lock:
                results.append((status, t0, t1, i, body if status == 200 else body[:200]))
            if status == 503:
                time.sleep(float(retry or 1))
                # An idle keep-alive connection may be closed by the server's
                # header timeout meanwhile: start a fresh one.
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=300)

    threads = [threading.Thread(target=client) for _ in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [r for r in results if r[0] == 200]
    in_window = [r for r in ok if r[2] <= deadline]
    # No new requests after the deadline; those admitted finish. Work done
    # over the time until the last one finished, so that a photo in
    # detection at the deadline (a 12 MP one takes tens of seconds) counts.
    last_end = max((r[2] for r in ok), default=deadline)
    lat = sorted(r[2] - r[1] for r in ok)

    def pct(p, xs=lat):
        return xs[min(len(xs) - 1, int(p * len(xs)))] if xs else None

    # Time to each status, every reply (a 503 or 504 is an answer too).
    by_status_s = {}
    for r in results:
        by_status_s.setdefault(str(r[0]), []).append(r[2] - r[1])
    latency_by_status = {
        k: {"p50_s": pct(0.5, sorted(v)), "p99_s": pct(0.99, sorted(v)), "max_s": max(v)}
        for k, v in by_status_s.items()
    }

    by_status = {}
    for r in results:
        by_status[str(r[0])] = by_status.get(str(r[0]), 0) + 1
    # Checks on every 200, after the timed window.
    bad = []
    faces = 0
    originals = {}
    for status, _, _, i, body in ok:
        rep = json.loads(body)
        out = Image.open(io.BytesIO(base64.b64decode(rep["image"])))
        out.load()
        if i not in originals:
            originals[i] = Image.open(io.BytesIO(data[i])).convert("RGB")
        src = originals[i]
        if out.size != src.size:
            bad.append(f"{paths[i]}: size {out.size} != {src.size}")
            continue
        out = out.convert("RGB")
        for f in rep["faces"]:
            b = f["bbox"]
            x0, y0 = max(0, int(b["x0"])), max(0, int(b["y0"]))
            x1, y1 = min(src.width, int(b["x1"]) + 1), min(src.height, int(b["y1"]) + 1)
            if x1 - x0 < 1 or y1 - y0 < 1:
                continue
            faces += 1
            a_px = src.crop((x0, y0, x1, y1)).tobytes()
            b_px = out.crop((x0, y0, x1, y1)).tobytes()
            diff = sum(abs(p - q) for p, q in zip(a_px, b_px)) / len(a_px)
            if diff < 8:
                bad.append(f"{paths[i]}: face {b} barely changed (mean diff {diff:.1f})")
    print(json.dumps({
        "clients": a.clients,
        "seconds": a.seconds,
        "requests": len(results),
        "by_status": by_status,
        "ok_in_window": len(in_window),
        "requests_per_s_in_window": len(in_window) / a.seconds,
        "requests_per_s": len(ok) / (last_end - start),
        "drained_s": last_end - start,
        "p50_s": pct(0.50),
        "p99_s": pct(0.99),
        "max_reply_s": max((r[2] - r[1] for r in results), default=None),
        "latency_by_status": latency_by_status,
        "shed_503": by_status.get("503", 0),
        "other_errors": sum(n for s, n in by_status.items() if s not in a.expected.split(",")),
        "ok_paths": [paths[r[3]] for r in ok],
        "faces_checked": faces,
        "check_failures": bad[:20],
        "check_failure_count": len(bad),
        "error_samples": [r[4].decode("utf-8", "replace") for r in results
                          if str(r[0]) not in a.expected.split(",")][:5],
    }))


if __name__ == "__main__":
    main()

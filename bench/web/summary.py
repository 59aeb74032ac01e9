"""Print the table of bench/web/run.sh from its output folder."""

import json
import statistics
import sys
from pathlib import Path

STAGES = ("decode_ms", "detect_ms", "mask_ms", "encode_ms")


def core_ms(t: dict) -> float:
    return sum(t[k] for k in STAGES)


def main() -> int:
    out = Path(sys.argv[1])
    rows = []
    for name, label in (("native-default", "native rten, default (-j auto)"),
                        ("native-j1", "native rten, -j 1 (threads = all cores)"),
                        ("native-1core", "native rten, -j 1, taskset -c 0 (one core)")):
        lines = [json.loads(x) for x in (out / f"{name}.jsonl").read_text().splitlines()]
        files = [x for x in lines if x.get("kind") == "photo"]
        assert files and all(x["status"] == "ok" for x in files), name
        wall = float((out / f"{name}.wall").read_text())
        rows.append((label, statistics.mean(core_ms(x["timings"]) for x in files),
                     statistics.mean(x["total_ms"] for x in files), wall / len(files),
                     len(files)))
    b = json.loads((out / "browser.json").read_text())
    rows.append(("browser (wasm simd128, one thread)",
                 statistics.mean(core_ms(p["timings"]) for p in b["photos"]),
                 statistics.mean(p["ms"] for p in b["photos"]),
                 b["wall_s"] / len(b["photos"]), len(b["photos"])))
    print(f"{'run':46} {'core ms/photo':>14} {'per-file ms':>12} {'wall ms/photo':>14}  n")
    for label, core, per_file, wall, n in rows:
        print(f"{label:46} {core:14.0f} {per_file:12.0f} {wall * 1000:14.0f}  {n}")
    web = rows[-1][1]
    for label, core, *_ in rows[:-1]:
        print(f"browser / {label}: {web / core:.2f}x (core ms per photo)")
    print(f"browser: {b['user_agent']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

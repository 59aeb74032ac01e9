"""Do the trade-offs behind the defaults hold on both halves of the dev set?
(issue 10: tune for what generalises.) The 61 WIDER FACE events are split by
the parity of their number (different scenes, not near-duplicate photos), and
each cached flags.py run is scored on each half.

Usage: python bench/experiments/halves.py NAME[@MIN_SCORE]...
(e.g. cur thr0.13 t005@0.17 s12w sg256; runs from flags.py in bench/out/flags.)
"""
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
bench = os.path.join(here, "..")
sys.path.insert(0, bench)
import eval_widerface as ev  # noqa: E402
import report  # noqa: E402


def half(g) -> int:
    """0 for events with an even number, 1 for odd ones."""
    return int(g.relpath.split("--", 1)[0]) % 2


def dev_parts():
    """The dev set (``$DATA``, default ../shared/data/widerface-dev): its images
    folder and ``[("all", gt), ("even", ...), ("odd", ...)]``, the ground truth
    with face sizes, whole and by half."""
    root = os.environ.get("DATA", os.path.join(bench, "../../shared/data/widerface-dev"))
    images = os.path.join(root, "images")
    gt = ev.load_gt(root)
    ev.fill_sizes(gt, images)
    halves = [("even", [g for g in gt if half(g) == 0]), ("odd", [g for g in gt if half(g) == 1])]
    return images, [("all", gt)] + halves


def main():
    images, parts = dev_parts()
    halves = [part for _, part in parts[1:]]
    print(f"photos per half: {len(halves[0])} / {len(halves[1])}")
    print("| run | half | < 32 | 32-64 | 64-128 | >= 128 | all | >= 32 | collateral |")
    print("|---|---|---|---|---|---|---|---|---|")
    for arg in sys.argv[1:]:
        name, _, t = arg.partition("@")
        _, masks, failed = report.read_blindfold(os.path.join(bench, "out", "flags", f"{name}.jsonl"), images)
        assert not failed, failed[:3]
        for h, part in enumerate(halves):
            r = ev.evaluate_privacy(masks, part, min_score=float(t) if t else None)
            bl, bf = r["band_leaked"], r["band_faces"]
            print(f"| {arg} | {'even' if h == 0 else 'odd'} | " + " | ".join(f"{a}/{b}" for a, b in zip(bl, bf))
                  + f" | {100 * r['leaked']:.2f}% | {100 * r['leaked32']:.2f}% | {100 * r['collateral']:.3f}% |")


if __name__ == "__main__":
    main()

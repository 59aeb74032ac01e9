"""Tests of floor.py's cover threshold on hand-made masks with known answers."""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import eval_widerface as ev  # noqa: E402
import floor  # noqa: E402

FACE = (10, 10, 20, 20)  # x, y, w, h: pixels 10..29


def rect(x0, y0, x1, y1, s):
    return ("rect", x0, y0, x1, y1, s)


def test_single_mask_covering_the_face_gives_its_score():
    assert floor.cover_threshold([rect(5, 5, 35, 35, 0.7)], FACE, 100, 100) == pytest.approx(0.7)


def test_no_mask_gives_zero():
    assert floor.cover_threshold([], FACE, 100, 100) == 0.0
    far = [rect(60, 60, 90, 90, 0.9)]
    assert floor.cover_threshold(far, FACE, 100, 100) == 0.0


def test_two_halves_cover_at_the_lower_score():
    # Left 40% at 0.9, right 60% at 0.3: 0.9 alone covers 40% < 50%, both cover all.
    masks = [rect(10, 10, 18, 30, 0.9), rect(18, 10, 30, 30, 0.3)]
    assert floor.cover_threshold(masks, FACE, 100, 100) == pytest.approx(0.3)
    # Swap the scores: the 60% half alone is enough.
    masks = [rect(10, 10, 18, 30, 0.3), rect(18, 10, 30, 30, 0.9)]
    assert floor.cover_threshold(masks, FACE, 100, 100) == pytest.approx(0.9)


def test_agrees_with_the_leak_figure():
    # A face is leaked at threshold t exactly when its cover threshold is below t.
    rng = np.random.default_rng(1)
    masks = []
    for _ in range(30):
        x, y = rng.uniform(0, 90, 2)
        w, h = rng.uniform(3, 20, 2)
        masks.append(("ellipse", x, y, x + w, y + h, float(rng.uniform(0.05, 1))))
    faces = [(int(a), int(b), 12, 14) for a, b in rng.integers(0, 80, (20, 2))]
    g = ev.ImageGT("a.jpg", np.array(faces, float), {s: np.arange(1, 21) for s in ev.SETTINGS}, (100, 100))
    for t in (0.1, 0.3, 0.5, 0.8):
        leaked = ev.evaluate_privacy({"a.jpg": masks}, [g], min_score=t)["leaked"] * len(faces)
        below = sum(floor.cover_threshold(masks, f, 100, 100) < t for f in faces)
        assert round(leaked) == below


def test_split_counts_by_bin():
    g = ev.ImageGT("a.jpg", np.array([FACE, (50, 50, 40, 40)], float),
                   {s: np.array([1, 2]) for s in ev.SETTINGS}, (100, 100))
    masks = {"a.jpg": [rect(5, 5, 35, 35, 0.12)]}
    counts = floor.split([g], masks)
    # FACE covered up to 0.12 (bin 0.10-0.15); the 40 px face has no mask.
    assert counts["all"] == [1, 0, 1, 0, 0]
    assert counts["32"] == [1, 0, 0, 0, 0]


def test_union_masks_pools_runs_above_the_floor():
    g = ev.ImageGT("a.jpg", np.array([FACE], float), {s: np.array([1]) for s in ev.SETTINGS}, (100, 100))
    r1 = {"a.jpg": [rect(5, 5, 35, 35, 0.04)]}
    r2 = {"a.jpg": [rect(0, 0, 8, 8, 0.3)], "other.jpg": [rect(0, 0, 8, 8, 0.9)]}
    u = floor.union_masks([r1, r2], [g])
    assert list(u) == ["a.jpg"]
    assert u["a.jpg"] == [rect(0, 0, 8, 8, 0.3)]


def test_print_by_height_lists_large_leaks(capsys):
    g = ev.ImageGT("a.jpg", np.array([FACE, (20, 20, 70, 70)], float),
                   {s: np.array([1, 2]) for s in ev.SETTINGS}, (100, 100))
    floor.print_by_height("x", [g], {"a.jpg": [rect(5, 5, 35, 35, 0.9)]}, 0.15)
    out = capsys.readouterr().out
    assert "< 32 px: 0" in out and "64-128 px: 1" in out
    assert "a.jpg h 70 cover 0.00 box (20, 20, 70, 70)" in out


def test_leaked_faces_lists_only_the_band_and_the_uncovered():
    g = ev.ImageGT("a.jpg", np.array([FACE, (20, 20, 70, 70), (0, 60, 30, 36)], float),
                   {s: np.array([1, 2, 3]) for s in ev.SETTINGS}, (100, 100))
    masks = {"a.jpg": [rect(5, 5, 35, 35, 0.9), rect(0, 60, 30, 96, 0.1)]}
    rows = floor.leaked_faces([g], masks, 32, 128, 0.15)
    # The 20 px face is out of the band; the 36 px one is covered only at 0.1.
    assert [(r[0], tuple(r[1]), r[2]) for r in rows] == [
        ("a.jpg", (20, 20, 70, 70), 0.0), ("a.jpg", (0, 60, 30, 36), pytest.approx(0.1))]


def test_sheet_cell_outlines_the_face_at_its_centre(tmp_path):
    import sheet
    from PIL import Image

    Image.new("RGB", (100, 100), (0, 0, 255)).save(tmp_path / "a.jpg")
    c = sheet.cell(str(tmp_path / "a.jpg"), (40, 40, 20, 20), "0 h20")
    assert c.size == (sheet.CELL, sheet.CELL)
    # The face box is outlined in red at the centre, a third of the cell.
    r, g_, b = c.getpixel((sheet.CELL // 3, sheet.CELL // 2))
    assert r > 200 and b < 80

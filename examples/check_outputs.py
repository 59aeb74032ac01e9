"""Check a job's output folder against make_photos.py's faces.json: every
photo has an output, every face box in it is masked (its pixels replaced),
no output carries EXIF/GPS, the broken file has no output and is listed as
failed in the Parquet report table.

    python check_outputs.py INPUT_DIR OUTPUT_DIR
"""

import json
import os
import sys

import numpy as np
import pyarrow.parquet as pq
from PIL import Image


def main(input_dir, output_dir):
    faces = json.load(open(os.path.join(input_dir, "faces.json")))
    problems = []
    for name, boxes in sorted(faces.items()):
        out = os.path.join(output_dir, name)
        if not os.path.isfile(out):
            problems.append(f"{name}: no output")
            continue
        src = np.asarray(Image.open(os.path.join(input_dir, name)).convert("RGB")).astype(int)
        img = Image.open(out)
        if len(img.getexif()) != 0:
            problems.append(f"{name}: output still has EXIF")
        got = np.asarray(img.convert("RGB")).astype(int)
        for x0, y0, x1, y1 in boxes:
            diff = np.abs(src[y0:y1, x0:x1] - got[y0:y1, x0:x1]).mean()
            if diff < 30:
                problems.append(f"{name}: face {x0},{y0},{x1},{y1} not masked (mean change {diff:.1f})")
    if os.path.exists(os.path.join(output_dir, "broken.jpg")):
        problems.append("broken.jpg: an output was written for a broken file")
    table = pq.read_table(os.path.join(output_dir, "reports")).to_pylist()
    by_name = {os.path.basename(r["path"]): r for r in table}
    if set(by_name) != set(faces) | {"broken.jpg"}:
        problems.append(f"report table lists {sorted(by_name)}")
    elif by_name["broken.jpg"]["status"] != "error" or not by_name["broken.jpg"]["error"]:
        problems.append(f"broken.jpg not reported as failed: {by_name['broken.jpg']}")
    else:
        for name in faces:
            r = by_name[name]
            if r["status"] != "ok" or r["faces"] < len(faces[name]):
                problems.append(f"{name}: report {r}")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(f"ok: {len(faces)} photos masked, metadata removed, broken file reported and not written")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

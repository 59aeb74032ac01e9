"""Make a test folder of photos from the public-domain astronaut portrait
(NASA, shipped in scikit-image's wheel): the portrait resized and pasted on
plain canvases at known places, some with camera EXIF and a GPS position, and
one broken file that a job must report as failed and not write.

    python make_photos.py OUT_DIR [N]

Writes N photos (default 20), OUT_DIR/broken.jpg, and faces.json: for each
photo the face boxes (x0, y0, x1, y1) where a mask must be. Needs numpy,
Pillow and scikit-image.
"""

import io
import json
import os
import sys

import numpy as np
from PIL import Image
from skimage import data

# The face in the 512x512 portrait, as the Rust tests have it.
FACE = (182, 58, 270, 178)


def gps_exif():
    exif = Image.Exif()
    exif[0x010F] = "TestCamera"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (52.0, 31.0, 12.0)
    gps[3], gps[4] = "E", (13.0, 24.0, 36.0)
    return exif


def main(out_dir, n=20):
    portrait = Image.fromarray(data.astronaut()[:, :, :3])
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(7)
    faces = {}
    for i in range(n):
        w, h = [(640, 480), (800, 600), (1024, 768), (480, 640)][i % 4]
        canvas = Image.new("RGB", (w, h), tuple(int(v) for v in rng.integers(60, 200, 3)))
        count = 2 if i % 5 == 0 else 1
        boxes = []
        for k in range(count):
            side = int(rng.integers(220, min(w, h) // count + 1)) if count > 1 else int(rng.integers(240, min(w, h) + 1))
            s = side / 512
            x = int(rng.integers(0, w - side + 1)) if count == 1 else k * (w // 2) + int(rng.integers(0, w // 2 - side + 1))
            y = int(rng.integers(0, h - side + 1))
            canvas.paste(portrait.resize((side, side), Image.LANCZOS), (x, y))
            boxes.append([round(x + FACE[0] * s), round(y + FACE[1] * s), round(x + FACE[2] * s), round(y + FACE[3] * s)])
        ext = "png" if i % 7 == 3 else "jpg"
        name = f"photo_{i:02d}.{ext}"
        kwargs = {}
        if ext == "jpg":
            kwargs["quality"] = 92
            if i % 2 == 0:
                kwargs["exif"] = gps_exif()
        canvas.save(os.path.join(out_dir, name), **kwargs)
        faces[name] = boxes
    # A photo cut short: the jobs must list it as failed and write nothing.
    buf = io.BytesIO()
    canvas.save(buf, format="JPEG")
    with open(os.path.join(out_dir, "broken.jpg"), "wb") as f:
        f.write(buf.getvalue()[: len(buf.getvalue()) // 3])
    with open(os.path.join(out_dir, "faces.json"), "w") as f:
        json.dump(faces, f, indent=1)
    print(f"{n} photos and broken.jpg in {out_dir}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20)

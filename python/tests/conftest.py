"""Shared fixtures: one Anonymizer for the session, and photos made from the
public-domain astronaut portrait (NASA, shipped in scikit-image's wheel)."""

import io

import numpy as np
import pytest
from PIL import Image

import blindfold

# The face in skimage.data.astronaut() (x0, y0, x1, y1), as in
# crates/blindfold-cli/tests/it/support.rs.
ASTRONAUT_FACE = (182, 58, 270, 178)


@pytest.fixture(scope="session")
def anon():
    return blindfold.Anonymizer(jobs=2)


@pytest.fixture(scope="session")
def astronaut():
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[:, :, :3])


def encode(pixels, fmt="JPEG", gps=False):
    """Encode an RGB array; with ``gps``, add camera EXIF and a GPS position."""
    img = Image.fromarray(pixels)
    buf = io.BytesIO()
    kwargs = {}
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "TestCamera"  # Make
        exif[0x0110] = "Model 1"  # Model
        gps_ifd = exif.get_ifd(0x8825)
        gps_ifd[1] = "N"
        gps_ifd[2] = (52.0, 31.0, 12.0)
        gps_ifd[3] = "E"
        gps_ifd[4] = (13.0, 24.0, 36.0)
        kwargs["exif"] = exif
    if fmt == "JPEG":
        kwargs["quality"] = 95
    img.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def decode(data):
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def region_diff(a, b, box):
    x0, y0, x1, y1 = box
    return float(np.abs(a[y0:y1, x0:x1].astype(int) - b[y0:y1, x0:x1].astype(int)).mean())

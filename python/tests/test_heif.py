"""HEIC and AVIF (issue 21): made by Debian's heif-enc from a JPEG with GPS;
faces masked, metadata gone, HEIC written as JPEG, AVIF as AVIF."""

import subprocess

import pytest

import blindfold
from conftest import ASTRONAUT_FACE, decode, encode, region_diff


def heif_enc(tmp_path, jpeg, suffix, *args):
    src = tmp_path / "src.jpg"
    src.write_bytes(jpeg)
    out = tmp_path / f"photo.{suffix}"
    subprocess.run(["heif-enc", *args, "-o", str(out), str(src)], check=True,
                   stdout=subprocess.DEVNULL)
    return out.read_bytes()


@pytest.mark.parametrize("suffix,fmt,fmt_out,magic", [
    ("heic", "heif", "jpeg", b"\xff\xd8\xff"),
    ("avif", "avif", "avif", b"ftypavif"),
])
def test_heic_and_avif_faces_masked_and_gps_gone(anon, astronaut, tmp_path, suffix, fmt,
                                                 fmt_out, magic):
    src = heif_enc(tmp_path, encode(astronaut, gps=True), suffix, "-q", "90")
    result = anon.anonymize(src)
    rep = result.report
    assert (rep["format"], rep["format_out"]) == (fmt, fmt_out)
    assert magic in result.data[:12]
    assert "gps" in rep["metadata_removed"] and "exif" in rep["metadata_removed"]
    assert len(rep["faces"]) == 1
    assert b"Exif" not in result.data and b"TestCamera" not in result.data
    if fmt_out == "jpeg":
        out = decode(result.data)
        assert out.shape == astronaut.shape
        assert region_diff(astronaut, out, ASTRONAUT_FACE) > 40


def test_a_burst_fails(anon, astronaut, tmp_path):
    a = tmp_path / "a.jpg"
    b = tmp_path / "b.jpg"
    a.write_bytes(encode(astronaut))
    b.write_bytes(encode(astronaut[:, ::-1].copy()))
    out = tmp_path / "burst.heic"
    subprocess.run(["heif-enc", "-q", "50", "-o", str(out), str(a), str(b)], check=True,
                   stdout=subprocess.DEVNULL)
    with pytest.raises(blindfold.DecodeError, match="2 top-level images"):
        anon.anonymize(out.read_bytes())
